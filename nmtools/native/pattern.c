/*
 * pattern.c - self-checking traffic: frame k of a stream has a length and
 * content that follow from (seed, k), so a receiver can tell a lost,
 * reordered, truncated or corrupted frame from a good one without any
 * per-packet help from Python. Used by the tests and by `nm`'s checks.
 *
 * Frame layout: dst MAC ff:ff:ff:ff:ff:ff, src MAC 02:00:00:00:00:01,
 * ethertype 0x88b5 (IEEE local experimental), then k (8 bytes, little
 * endian), then bytes from a pseudo-random pool starting at an offset that
 * depends on k. Frames of another ethertype are skipped by the receiver.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "nmt.h"

#define POOL 65536
#define HDR 22
#define ETHERTYPE_HI 0x88
#define ETHERTYPE_LO 0xb5

struct pattern {
	uint64_t seed;
	uint32_t minlen, maxlen;
	uint8_t pool[2 * POOL];
};

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

static void pattern_init(struct pattern *pt, uint64_t seed, uint32_t minlen, uint32_t maxlen)
{
	uint32_t i;

	pt->seed = seed;
	pt->minlen = minlen;
	pt->maxlen = maxlen;
	for (i = 0; i < POOL; i += 8) {
		uint64_t w = mix(seed + i);

		memcpy(pt->pool + i, &w, 8);
	}
	memcpy(pt->pool + POOL, pt->pool, POOL);
}

static uint32_t pattern_len(const struct pattern *pt, uint64_t k)
{
	uint32_t span = pt->maxlen - pt->minlen + 1;

	return pt->minlen + (uint32_t)(mix(pt->seed ^ (k * 0x9e3779b97f4a7c15ull)) % span);
}

/* byte j (j >= HDR) of frame k comes from the pool */
static const uint8_t *pattern_body(const struct pattern *pt, uint64_t k)
{
	return pt->pool + (mix(k + pt->seed) & (POOL - 1));
}

static void pattern_header(uint8_t *h, uint64_t k)
{
	static const uint8_t macs[12] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
					  0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
	int i;

	memcpy(h, macs, 12);
	h[12] = ETHERTYPE_HI;
	h[13] = ETHERTYPE_LO;
	for (i = 0; i < 8; i++)
		h[14 + i] = (uint8_t)(k >> (8 * i));
}

/* copy bytes [off, off + n) of frame k into dst */
static void pattern_copy(const struct pattern *pt, uint64_t k, uint8_t *dst, uint32_t off,
			 uint32_t n)
{
	uint8_t h[HDR];

	if (off < HDR) {
		uint32_t c = HDR - off < n ? HDR - off : n;

		pattern_header(h, k);
		memcpy(dst, h + off, c);
		dst += c;
		off += c;
		n -= c;
	}
	if (n)
		memcpy(dst, pattern_body(pt, k) + (off - HDR), n);
}

static int pattern_check(const struct pattern *pt, uint64_t k, const uint8_t *src, uint32_t off,
			 uint32_t n)
{
	uint8_t h[HDR];

	if (off < HDR) {
		uint32_t c = HDR - off < n ? HDR - off : n;

		pattern_header(h, k);
		if (memcmp(src, h + off, c))
			return -1;
		src += c;
		off += c;
		n -= c;
	}
	return n && memcmp(src, pattern_body(pt, k) + (off - HDR), n) ? -1 : 0;
}

static int bad_lengths(struct nmt_port *p, uint32_t minlen, uint32_t maxlen)
{
	if (minlen < HDR || maxlen < minlen || maxlen > POOL)
		return nmt_err(p, EINVAL, "pattern lengths must satisfy %d <= min <= max <= %d",
			       HDR, POOL);
	return 0;
}

int nmt_pattern_tx(struct nmt_port *p, uint64_t count, uint64_t seed, uint32_t minlen,
		       uint32_t maxlen, uint32_t batch, struct nmt_stats *st)
{
	static __thread struct pattern pt;
	uint64_t k = 0, idle_since = 0;
	uint32_t ri = 0;
	int rc = 0;

	if (bad_lengths(p, minlen, maxlen) < 0)
		return -1;
	if (!p->num_tx_rings)
		return nmt_err(p, EOPNOTSUPP, "%s: port has no tx rings", p->name);
	pattern_init(&pt, seed, minlen, maxlen);
	if (batch == 0)
		batch = 256;
	st->t_start_ns = nmt_clock_ns();
	while (k < count && !st->cancel) {
		struct nmt_ring *r = p->tx_rings[ri];
		uint32_t before = p->txk[ri].hwcur, h = r->head, n = 0, moved;

		while (n < batch && k < count) {
			uint32_t len = pattern_len(&pt, k);
			uint32_t nfrag = (len + r->nr_buf_size - 1) / r->nr_buf_size, off = 0;

			if (nfrag >= r->num_slots) {
				st->done = 1;
				return nmt_err(p, EMSGSIZE, "%s: a %u-byte frame needs more slots "
							    "than the ring has", p->name, len);
			}
			uint32_t used = nmt_ring_dist(r, r->head, h);

			if (nmt_ring_space(r) < used + nfrag)
				break;
			while (off < len) {
				struct nmt_slot *s = nmt_slot(r, h);
				uint32_t c = len - off < r->nr_buf_size ? len - off : r->nr_buf_size;

				pattern_copy(&pt, k, (uint8_t *)nmt_buf(r, s->buf_idx), off, c);
				s->len = (uint16_t)c;
				off += c;
				s->flags = off < len ? NMT_NS_MOREFRAG : 0;
				h = nmt_ring_next(r, h);
			}
			st->bytes += len;
			k++;
			n++;
		}
		r->head = r->cur = h;
		if (nmt_txsync(p, ri) < 0) {
			rc = -1;
			break;
		}
		moved = p->txk[ri].hwcur != before;
		if (n == 0 && !moved) {
			uint64_t now = nmt_clock_ns();

			if (!idle_since)
				idle_since = now;
			if (now - idle_since > 20000 && nmt_port_wait(p, NMT_WAIT_TX, 100) < 0) {
				rc = -1;
				break;
			}
		} else {
			idle_since = 0;
		}
		st->pkts = k;
		ri = (ri + 1) % p->num_tx_rings;
	}
	if (rc == 0 && nmt_port_flush(p, 2000) < 0)
		rc = -1;
	st->pkts = k;
	st->t_end_ns = nmt_clock_ns();
	st->done = 1;
	return rc;
}

/*
 * nmt_pattern_rx - receive count pattern frames and check each one.
 * st->pkts counts good frames, st->errors bad ones (wrong length, content
 * or order), st->drops frames of other ethertypes that were skipped. The
 * first problem is described in p->errmsg. Gives up after idle_ms without
 * a frame (returns 0; compare st->pkts with count).
 */
int nmt_pattern_rx(struct nmt_port *p, uint64_t count, uint64_t seed, uint32_t minlen,
		       uint32_t maxlen, int idle_ms, struct nmt_stats *st)
{
	static __thread struct pattern pt;
	static __thread uint8_t frame[POOL + 64];
	uint64_t k = 0, last_seen = nmt_clock_ns();
	uint32_t flen = 0, ri;
	int rc = 0, bad_reported = 0;

	if (bad_lengths(p, minlen, maxlen) < 0)
		return -1;
	if (!p->num_rx_rings)
		return nmt_err(p, EOPNOTSUPP, "%s: port has no rx rings", p->name);
	pattern_init(&pt, seed, minlen, maxlen);
	p->errmsg[0] = '\0';
	while (k < count && !st->cancel) {
		int got = 0;

		for (ri = 0; ri < p->num_rx_rings; ri++) {
			struct nmt_ring *r = p->rx_rings[ri];

			if (nmt_rxsync(p, ri) < 0) {
				rc = -1;
				goto out;
			}
			while (!nmt_ring_empty(r)) {
				struct nmt_slot *s = nmt_slot(r, r->head);

				/* a length past its buffer (a peer's bogus one) is not read: the
				 * frame then fails its check */
				if (flen + s->len <= sizeof(frame) && s->len <= r->nr_buf_size)
					memcpy(frame + flen, nmt_buf(r, s->buf_idx), s->len);
				else if (flen + s->len <= sizeof(frame))
					memset(frame + flen, 0, s->len);
				flen += s->len;
				r->head = r->cur = nmt_ring_next(r, r->head);
				if (s->flags & NMT_NS_MOREFRAG)
					continue;
				got = 1;
				if (flen < 14 || frame[12] != ETHERTYPE_HI || frame[13] != ETHERTYPE_LO) {
					st->drops++;
				} else if (flen != pattern_len(&pt, k) ||
					   pattern_check(&pt, k, frame, 0, flen) < 0) {
					if (!bad_reported++) {
						uint64_t seen = 0;
						int i;

						for (i = 0; i < 8 && 14 + i < (int)flen; i++)
							seen |= (uint64_t)frame[14 + i] << (8 * i);
						snprintf(p->errmsg, sizeof(p->errmsg),
							 "frame %llu: got %u bytes carrying number %llu, "
							 "expected %u bytes carrying %llu",
							 (unsigned long long)k, flen,
							 (unsigned long long)seen, pattern_len(&pt, k),
							 (unsigned long long)k);
					}
					st->errors++;
					k++;
				} else {
					if (k == 0)
						st->t_start_ns = nmt_clock_ns();
					st->bytes += flen;
					k++;
					st->pkts++;
				}
				flen = 0;
				if (k >= count)
					break;
			}
		}
		if (got) {
			last_seen = nmt_clock_ns();
		} else {
			if (idle_ms >= 0 && nmt_clock_ns() - last_seen > (uint64_t)idle_ms * 1000000)
				break;
			if (nmt_port_wait(p, NMT_WAIT_RX, 50) < 0) {
				rc = -1;
				goto out;
			}
		}
	}
	for (ri = 0; ri < p->num_rx_rings; ri++)
		nmt_rxsync(p, ri);
out:
	st->t_end_ns = nmt_clock_ns();
	st->done = 1;
	return rc;
}
