/*
 * loops.c - the hot loops, written once against the ring model.
 * They run in worker threads (cffi releases the GIL), publish counters in
 * struct nmt_stats, check st->cancel once per batch and never call Python.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <string.h>

#include "nmt.h"

#define CLOCK_EVERY 256 /* read the clock every this many busy passes */

static void ring_range(int ring, uint32_t n, uint32_t *first, uint32_t *last)
{
	if (ring < 0) {
		*first = 0;
		*last = n;
	} else {
		*first = (uint32_t)ring;
		*last = (uint32_t)ring + 1;
	}
}

static inline uint32_t ring_dist(const struct nmt_ring *r, uint32_t from, uint32_t to)
{
	return to >= from ? to - from : to + r->num_slots - from;
}

int nmt_run_tx(struct nmt_port *p, int ring, const uint8_t *frame, uint32_t len,
	       uint64_t count, uint32_t batch, struct nmt_stats *st)
{
	uint32_t first, last, ri;
	uint64_t sent = 0, queued = 0, idle_since = 0;
	int rc = 0;

	ring_range(ring, p->num_tx_rings, &first, &last);
	if (last > p->num_tx_rings || first >= last)
		return nmt_err(p, EINVAL, "%s: no tx ring %d (the port has %u)", p->name, ring,
			       p->num_tx_rings);
	if (len == 0 || len > p->buf_size)
		return nmt_err(p, EMSGSIZE, "%s: frame of %u bytes does not fit a %u-byte buffer",
			       p->name, len, p->buf_size);
	if (batch == 0)
		batch = 512;
	/* the template goes into every buffer once; NS_BUF_CHANGED marks a slot
	 * whose buffer was swapped since and must be written again */
	for (ri = first; ri < last; ri++) {
		struct nmt_ring *r = p->tx_rings[ri];
		uint32_t j;

		for (j = 0; j < r->num_slots; j++)
			nmt_slot(r, j)->flags |= NMT_NS_BUF_CHANGED;
	}
	st->t_start_ns = nmt_now_ns();
	while (!st->cancel && (count == 0 || sent < count)) {
		uint64_t moved = 0;

		for (ri = first; ri < last; ri++) {
			struct nmt_ring *r = p->tx_rings[ri];
			uint32_t before = p->txk[ri].hwcur, space, m, h, want;

			/* fill whole batches: trickling a few slots at a time
			 * costs a sync (and a fence) per few packets */
			want = batch < r->num_slots / 2 ? batch : r->num_slots / 2;
			if (count && count - queued < want)
				want = (uint32_t)(count - queued);
			space = nmt_ring_space(r);
			if (space < want) {
				if (nmt_txsync(p, ri) < 0) {
					rc = -1;
					goto out;
				}
				moved += ring_dist(r, before, p->txk[ri].hwcur);
				before = p->txk[ri].hwcur;
				space = nmt_ring_space(r);
				if (space < want)
					continue;
			}
			m = space < batch ? space : batch;
			if (count && queued + m > count)
				m = (uint32_t)(count - queued);
			h = r->head;
			for (uint32_t k = 0; k < m; k++) {
				struct nmt_slot *s = nmt_slot(r, h);

				/* write the slot only when it changes: an unchanged
				 * slot stays shared in both caches */
				if (__builtin_expect(s->flags != 0, 0)) {
					if (s->flags & NMT_NS_BUF_CHANGED)
						memcpy(nmt_buf(r, s->buf_idx), frame, len);
					s->flags = 0;
				}
				if (s->len != len)
					s->len = (uint16_t)len;
				h = nmt_ring_next(r, h);
			}
			r->head = r->cur = h;
			queued += m;
			if (nmt_txsync(p, ri) < 0) {
				rc = -1;
				goto out;
			}
			m = ring_dist(r, before, p->txk[ri].hwcur);
			moved += m;
		}
		if (moved) {
			sent += moved;
			st->pkts += moved;
			st->bytes += moved * len;
			if (++st->events % CLOCK_EVERY == 0)
				st->t_end_ns = nmt_now_ns();
			idle_since = 0;
		} else if (nmt_idle(p, NMT_WAIT_TX, &idle_since) < 0) {
			rc = -1;
			goto out;
		}
	}
out:
	/* what is still queued goes out now, or is not counted */
	if (rc == 0) {
		uint32_t before[NMT_MAX_RINGS];

		for (ri = first; ri < last; ri++)
			before[ri] = p->txk[ri].hwcur;
		if (nmt_port_flush(p, 1000) < 0 && errno != ETIMEDOUT)
			rc = -1;
		for (ri = first; ri < last; ri++) {
			uint32_t m = ring_dist(p->tx_rings[ri], before[ri], p->txk[ri].hwcur);

			st->pkts += m;
			st->bytes += (uint64_t)m * len;
		}
		st->t_end_ns = nmt_now_ns();
	}
	st->done = 1;
	return rc;
}

int nmt_run_rx(struct nmt_port *p, int ring, uint64_t count, uint32_t batch,
	       struct nmt_stats *st)
{
	uint32_t first, last, ri;
	uint64_t got = 0, idle_since = 0;
	int rc = 0;

	ring_range(ring, p->num_rx_rings, &first, &last);
	if (last > p->num_rx_rings || first >= last)
		return nmt_err(p, EINVAL, "%s: no rx ring %d (the port has %u)", p->name, ring,
			       p->num_rx_rings);
	if (batch == 0)
		batch = 512;
	while (!st->cancel && (count == 0 || got < count)) {
		uint64_t pk = 0, by = 0;

		for (ri = first; ri < last; ri++) {
			struct nmt_ring *r = p->rx_rings[ri];
			uint32_t space, m, h;

			if (nmt_rxsync(p, ri) < 0) {
				rc = -1;
				goto out;
			}
			space = nmt_ring_space(r);
			m = space < batch ? space : batch;
			h = r->head;
			for (uint32_t k = 0; k < m; k++) {
				struct nmt_slot *s = nmt_slot(r, h);

				by += s->len;
				if (!(s->flags & NMT_NS_MOREFRAG)) {
					pk++;
					if (count && got + pk >= count) {
						h = nmt_ring_next(r, h);
						break;
					}
				}
				h = nmt_ring_next(r, h);
			}
			r->head = r->cur = h;
			if (count && got + pk >= count)
				break;
		}
		if (pk) {
			if (!got)
				st->t_start_ns = nmt_now_ns();
			got += pk;
			st->pkts += pk;
			st->bytes += by;
			if (++st->events % CLOCK_EVERY == 0)
				st->t_end_ns = nmt_now_ns();
			idle_since = 0;
		} else {
			if (idle_since == 0 && got)
				st->t_end_ns = nmt_now_ns(); /* ~ the last packet */
			if (nmt_idle(p, NMT_WAIT_RX, &idle_since) < 0) {
				rc = -1;
				goto out;
			}
		}
	}
	if (got && count && got >= count)
		st->t_end_ns = nmt_now_ns();
	/* give back what we consumed */
	for (ri = first; ri < last; ri++)
		nmt_rxsync(p, ri);
out:
	st->done = 1;
	return rc;
}
