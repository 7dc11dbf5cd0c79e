/*
 * fwd.c - move frames from one port's rx rings to another port's tx rings,
 * as netmap's bridge does: by swapping buffer indexes when the two ports
 * share memory (equal mem_id: two AF_XDP ports opened together, the ends of
 * one pipe), else by copying. Frames stay whole: a frame of several slots
 * (NS_MOREFRAG) moves only when all of it has arrived and fits in one tx ring.
 */
#include <errno.h>
#include <string.h>

#include "nmt.h"

int nmt_fwd_zerocopy(const struct nmt_port *src, const struct nmt_port *dst)
{
	return src->mem_id[0] && strcmp(src->mem_id, dst->mem_id) == 0;
}

/* one ring pair: up to *frames frames; counts into c */
static void rings_move(struct nmt_ring *rx, struct nmt_ring *tx, uint32_t *frames, int zc,
		       struct nmt_fwd_count *c)
{
	uint32_t ri = rx->head, ti = tx->head;

	while (*frames && ri != rx->tail) {
		uint32_t n = nmt_ring_frame(rx, ri), j, bytes = 0;
		int fits;

		if (n == 0) {
			/* the rest of the frame has not arrived; when the frame fills the
			 * whole ring it never will (a peer flagged every slot MOREFRAG) */
			if (ri == rx->head && nmt_ring_space(rx) == rx->num_slots - 1)
				c->stuck = 1;
			break;
		}
		/* a frame dst cannot carry is dropped; one that can waits for room */
		fits = n < tx->num_slots;
		for (j = 0; j < n && fits; j++) {
			uint32_t len = nmt_slot(rx, nmt_ring_add(rx, ri, j))->len;

			/* longer than dst's buffers, or than the buffer it is in (a bogus
			 * length from a peer: never copy past it) */
			if (len > tx->nr_buf_size || len > rx->nr_buf_size)
				fits = 0;
		}
		if (fits && n > nmt_ring_dist(tx, ti, tx->tail)) { /* what is left from ti */
			c->full = 1;
			break;
		}
		for (j = 0; j < n; j++) {
			struct nmt_slot *rs = nmt_slot(rx, ri), *ts;

			if (!fits) {
				ri = nmt_ring_next(rx, ri);
				continue;
			}
			ts = nmt_slot(tx, ti);
			if (zc) {
				uint32_t b = ts->buf_idx;

				ts->buf_idx = rs->buf_idx;
				rs->buf_idx = b;
				rs->flags |= NMT_NS_BUF_CHANGED;
				ts->flags = NMT_NS_BUF_CHANGED;
			} else {
				memcpy(nmt_buf(tx, ts->buf_idx), nmt_buf(rx, rs->buf_idx), rs->len);
				ts->flags = 0;
				c->copied++;
			}
			ts->len = rs->len;
			ts->flags |= rs->flags & NMT_NS_MOREFRAG;
			bytes += rs->len;
			ri = nmt_ring_next(rx, ri);
			ti = nmt_ring_next(tx, ti);
		}
		if (fits) {
			c->pkts++;
			c->bytes += bytes;
		} else {
			c->dropped++; /* longer than the destination's buffers */
		}
		(*frames)--;
	}
	rx->head = rx->cur = ri;
	tx->head = tx->cur = ti;
}

uint32_t nmt_fwd_move(struct nmt_port *src, struct nmt_port *dst, uint32_t frames, int zc,
		      struct nmt_fwd_count *c)
{
	uint32_t left = frames, i, t = 0;

	c->full = 0;
	for (i = 0; i < src->num_rx_rings && left && dst->num_tx_rings; i++) {
		struct nmt_ring *rx = src->rx_rings[i];
		uint32_t tried;

		/* the next tx ring with room, round robin */
		for (tried = 0; !nmt_ring_empty(rx) && left && tried < dst->num_tx_rings;
		     tried++) {
			struct nmt_ring *tx = dst->tx_rings[t];
			uint32_t before = left;

			rings_move(rx, tx, &left, zc, c);
			if (left == before || !nmt_ring_empty(rx))
				t = t + 1 == dst->num_tx_rings ? 0 : t + 1;
		}
	}
	return frames - left;
}

/* the loop's error is the first failure's message, from whichever port failed (a
 * message either port kept from before is never taken for it) */
static int fail(char *err, const struct nmt_port *p)
{
	if (!err[0])
		memcpy(err, p->errmsg, NMT_ERRLEN);
	return -1;
}

/*
 * nmt_fwd_run - forward src -> dst until count frames (0: no limit), idle_ms
 * without a frame after the first (0: no limit), or st->cancel. burst: most
 * frames per move (netmap bridge's -b). zerocopy: swap buffers when the ports
 * share memory (else copy). Counts: st->pkts/bytes forwarded, st->drops
 * frames too long for dst, *copied slots copied (0 when swapping). On -1 the
 * loop's error (of src or of dst) is in src->errmsg.
 */
int nmt_fwd_run(struct nmt_port *src, struct nmt_port *dst, uint64_t count, uint32_t burst,
		int zerocopy, int idle_ms, struct nmt_stats *st, uint64_t *copied)
{
	int zc = zerocopy && nmt_fwd_zerocopy(src, dst);
	struct nmt_fwd_count c = { 0, 0, 0, 0, 0, 0 };
	uint64_t idle_since = 0, last = 0;
	char err[NMT_ERRLEN] = "";
	unsigned i;
	int rc = 0;

	if (!src->num_rx_rings || !dst->num_tx_rings) {
		st->done = 1;
		return nmt_err(src, EINVAL, "%s: forwarding needs rx rings on the source and tx rings "
			       "on the destination", src->name);
	}
	if (!burst)
		burst = 1024;
	st->t_start_ns = st->t_end_ns = nmt_clock_ns();
	while (!st->cancel && (!count || c.pkts + c.dropped < count)) {
		uint64_t want = count ? count - c.pkts - c.dropped : burst;
		uint32_t moved;

		if (!c.pkts && !c.dropped)
			st->t_start_ns = nmt_clock_ns(); /* the first batch's time counts too */
		for (i = 0; i < src->num_rx_rings; i++)
			if (nmt_rxsync(src, i) < 0) {
				rc = fail(err, src);
				goto out;
			}
		moved = nmt_fwd_move(src, dst, want < burst ? (uint32_t)want : burst, zc, &c);
		if (c.stuck) {
			nmt_err(src, EPROTO, "%s: a frame fills the whole rx ring and never ends "
				"(every slot has NS_MOREFRAG): the sender is broken", src->name);
			rc = fail(err, src);
			goto out;
		}
		if (moved) {
			for (i = 0; i < dst->num_tx_rings; i++)
				if (nmt_txsync(dst, i) < 0) {
					rc = fail(err, dst);
					goto out;
				}
			st->pkts = c.pkts;
			st->bytes = c.bytes;
			st->drops = c.dropped;
			st->events++;
			last = st->t_end_ns = nmt_clock_ns();
			idle_since = 0;
			continue;
		}
		if (idle_ms > 0 && last && nmt_clock_ns() - last >= (uint64_t)idle_ms * 1000000)
			break;
		/* a whole frame waiting for room on dst: wait for dst; else (nothing, or
		 * only the start of a frame, has arrived) for src */
		if (c.full) {
			unsigned k;

			for (k = 0; k < dst->num_tx_rings; k++)
				if (nmt_txsync(dst, k) < 0) {
					rc = fail(err, dst);
					goto out;
				}
			if (nmt_ring_idle(dst, -1, NMT_WAIT_TX, &idle_since) < 0) {
				rc = fail(err, dst);
				goto out;
			}
		} else if (nmt_ring_idle(src, -1, NMT_WAIT_RX, &idle_since) < 0) {
			rc = fail(err, src);
			goto out;
		}
	}
out:
	if (nmt_port_flush(dst, 1000) < 0 && rc == 0)
		rc = fail(err, dst);
	for (i = 0; i < src->num_rx_rings; i++)
		nmt_rxsync(src, i); /* give the forwarded slots back */
	st->pkts = c.pkts;
	st->bytes = c.bytes;
	st->drops = c.dropped;
	*copied = c.copied;
	if (rc < 0) /* where the caller looks */
		memcpy(src->errmsg, err, sizeof(src->errmsg));
	st->done = 1;
	return rc;
}
