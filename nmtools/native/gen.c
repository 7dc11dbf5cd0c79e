/*
 * gen.c - pkt-gen's loops against the ring model: a generator with ranges,
 * random fields, random sizes, sequence marks and pacing (tx, txseq), a sink
 * with sequence checking (rx, rxseq), and ping/pong with an RTT histogram.
 *
 * Frames are written in place: every buffer gets the whole template once (the
 * largest frame: a shorter frame sent from the buffer earlier must not leave a
 * longer one stale bytes), and only the fields that vary are patched per
 * packet, with the IPv4 header checksum recomputed and the UDP checksum built
 * from a precomputed payload sum, so checksums are right for every size, range
 * wrap and sequence number.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"
#include "pace.h"

#define MARK_LEN 16
#define MARK_MAGIC 0x6e6d /* "nm" */
#define MAX_FLOWS 65536
#define WAIT_MS 100

/* ---- small helpers ------------------------------------------------------ */

static inline uint64_t rnd(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545f4914f6cdd1dull;
}

static inline void put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline uint32_t get16(const uint8_t *p)
{
	return (uint32_t)p[0] << 8 | p[1];
}

static inline uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint32_t sum_bytes(uint32_t sum, const uint8_t *p, uint32_t len)
{
	uint32_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += get16(p + i);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static inline uint16_t fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static inline uint32_t sum32(uint32_t v)
{
	return (v >> 16) + (v & 0xffff);
}

/* ---- histogram ------------------------------------------------------------ */

static uint32_t hist_bucket(uint64_t v)
{
	uint32_t k, b;

	if (v < 64)
		return (uint32_t)v;
	k = 63 - (uint32_t)__builtin_clzll(v); /* 6.. */
	b = 64 + (k - 6) * 32 + (uint32_t)((v >> (k - 5)) & 31);
	return b < NMT_HIST_BUCKETS ? b : NMT_HIST_BUCKETS - 1;
}

/* nmt_hist_upper - the largest value that falls in bucket b */
uint64_t nmt_hist_upper(uint32_t b)
{
	uint32_t k, sub;

	if (b < 64)
		return b;
	k = (b - 64) / 32 + 6;
	sub = (b - 64) % 32;
	return ((uint64_t)(32 + sub + 1) << (k - 5)) - 1;
}

void nmt_hist_add(struct nmt_hist *h, uint64_t v)
{
	if (h->count == 0 || v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
	h->count++;
	h->sum += v;
	h->b[hist_bucket(v)]++;
}

/* ---- the generator's state ------------------------------------------------ */

struct gstate {
	const struct nmt_gen *g;
	uint64_t rng;
	uint64_t n;         /* frames generated */
	uint32_t sip, dip, sport, dport;
	uint32_t *psum;     /* psum[i]: checksum sum of the first i payload words */
	uint32_t pay_off;   /* UDP payload offset in the frame */
	uint32_t src_hi, dst_hi; /* IPv6: sum of the fixed upper 96 bits */
	int vary_addr, vary_len, mark, simple;
	uint32_t max_len;   /* the longest template */
	uint32_t longest;   /* the longest frame it can make */
};

static inline void advance(struct gstate *s);

/*
 * check_layout - the headers, the mark and every length the table can draw lie
 * within the template (gen_frame patches and sums them without looking).
 */
static int check_layout(struct nmt_port *p, struct gstate *s, const struct nmt_gen *g)
{
	uint32_t tlen = g->tpl_len[0], least = s->pay_off, i;

	if (g->l4_off < g->l3_off + (g->ipv6 ? 40 : 20) || s->pay_off > tlen)
		return nmt_err(p, EINVAL, "the %u-byte template is shorter than its headers "
			       "(IP at %d, UDP at %d)", tlen, g->l3_off, g->l4_off);
	if (g->mark_off >= 0) {
		if ((uint32_t)g->mark_off < s->pay_off)
			return nmt_err(p, EINVAL, "the sequence mark (at %d) overlaps the headers "
				       "(payload at %u)", g->mark_off, s->pay_off);
		least = (uint32_t)g->mark_off + MARK_LEN;
	}
	if (g->len_n && !g->len_table)
		return nmt_err(p, EINVAL, "%u frame lengths announced, no table", g->len_n);
	s->longest = 0;
	for (i = 0; i < (g->len_n ? g->len_n : 1); i++) {
		uint32_t len = g->len_n ? g->len_table[i] : tlen;

		if (len < least || len > tlen)
			return nmt_err(p, EINVAL, "frame length %u is outside what the template allows "
				       "(%u to %u bytes)", len, least, tlen);
		if (len > s->longest)
			s->longest = len;
	}
	if (g->src_ip0 > g->src_ip1 || g->dst_ip0 > g->dst_ip1 ||
	    g->src_port0 > g->src_port1 || g->dst_port0 > g->dst_port1)
		return nmt_err(p, EINVAL, "an address or port range ends before it starts");
	return 0;
}

static int gstate_init(struct nmt_port *p, struct gstate *s, const struct nmt_gen *g)
{
	memset(s, 0, sizeof(*s));
	s->g = g;
	s->rng = g->seed * 0x9e3779b97f4a7c15ull + 0x1234567;
	if (!s->rng)
		s->rng = 1;
	if (g->ntpl == 0)
		return nmt_err(p, EINVAL, "no frame template");
	s->sip = g->src_ip0;
	s->dip = g->dst_ip0;
	s->sport = g->src_port0;
	s->dport = g->dst_port0;
	s->max_len = 0;
	for (uint32_t i = 0; i < g->ntpl; i++) {
		if (g->tpl_len[i] == 0)
			return nmt_err(p, EINVAL, "frame %u of the %u to send is empty", i, g->ntpl);
		if (g->tpl_len[i] > s->max_len)
			s->max_len = g->tpl_len[i];
	}
	s->longest = s->max_len;
	if (g->ntpl > 1 || g->l3_off < 0) {
		s->simple = g->ntpl == 1;
		return 0;
	}
	s->vary_addr = g->src_ip0 != g->src_ip1 || g->dst_ip0 != g->dst_ip1 ||
		       g->src_port0 != g->src_port1 || g->dst_port0 != g->dst_port1 ||
		       g->rand_src || g->rand_dst;
	s->vary_len = g->len_n > 0;
	s->mark = g->mark_off >= 0;
	s->simple = !s->vary_addr && !s->vary_len && !s->mark;
	if (g->rand_src || g->rand_dst)
		advance(s); /* random from the first packet on */
	s->pay_off = (uint32_t)g->l4_off + 8;
	if (check_layout(p, s, g) < 0)
		return -1;
	{
		uint32_t plen = g->tpl_len[0] - s->pay_off, i;
		const uint8_t *pay = g->tpl + g->tpl_off[0] + s->pay_off;

		s->psum = malloc(sizeof(uint32_t) * (plen / 2 + 2));
		if (!s->psum)
			return nmt_err(p, ENOMEM, "out of memory");
		s->psum[0] = 0;
		for (i = 0; i < plen / 2; i++)
			s->psum[i + 1] = s->psum[i] + get16(pay + 2 * i);
	}
	if (g->ipv6) {
		const uint8_t *ip = g->tpl + g->tpl_off[0] + g->l3_off;

		s->src_hi = sum_bytes(0, ip + 8, 12);
		s->dst_hi = sum_bytes(0, ip + 24, 12);
	}
	return 0;
}

static void gstate_free(struct gstate *s)
{
	free(s->psum);
	s->psum = NULL;
}

static inline uint32_t pick(uint64_t *rng, uint32_t lo, uint32_t hi, uint32_t full)
{
	if (lo == hi)
		return (uint32_t)(rnd(rng) & full);
	return lo + (uint32_t)(rnd(rng) % ((uint64_t)hi - lo + 1));
}

/* move to the next address tuple: src port, src ip, dst port, dst ip */
static inline void advance(struct gstate *s)
{
	const struct nmt_gen *g = s->g;
	int carry = 1;

	if (g->rand_src) {
		s->sip = pick(&s->rng, g->src_ip0, g->src_ip1, 0xffffffffu);
		s->sport = pick(&s->rng, g->src_port0, g->src_port1, 0xffffu);
	} else if (s->sport < g->src_port1) {
		s->sport++;
		carry = 0;
	} else {
		s->sport = g->src_port0;
		if (s->sip < g->src_ip1) {
			s->sip++;
			carry = 0;
		} else {
			s->sip = g->src_ip0;
		}
	}
	if (g->rand_dst) {
		s->dip = pick(&s->rng, g->dst_ip0, g->dst_ip1, 0xffffffffu);
		s->dport = pick(&s->rng, g->dst_port0, g->dst_port1, 0xffffu);
	} else if (carry) {
		if (s->dport < g->dst_port1) {
			s->dport++;
		} else {
			s->dport = g->dst_port0;
			s->dip = s->dip < g->dst_ip1 ? s->dip + 1 : g->dst_ip0;
		}
	}
}

static inline uint32_t payload_sum(const struct gstate *s, uint32_t plen)
{
	const uint8_t *pay = s->g->tpl + s->g->tpl_off[0] + s->pay_off;
	uint32_t sum = s->psum[plen / 2];

	if (plen & 1)
		sum += (uint32_t)pay[plen - 1] << 8;
	return sum;
}

/*
 * tpl_fill - give a buffer the whole template (generated frames: one template,
 * as long as the longest frame), so that gen_frame(fresh = 0) can make any
 * frame in it. Frames from a file (ntpl > 1) are copied whole per packet.
 */
static inline void tpl_fill(const struct gstate *s, uint8_t *buf)
{
	if (s->g->ntpl == 1)
		memcpy(buf, s->g->tpl + s->g->tpl_off[0], s->g->tpl_len[0]);
}

/*
 * gen_frame - make frame s->n in buf. Unless fresh, buf holds the whole
 * template already (tpl_fill) besides the fields made here; fresh: buf holds
 * anything, this frame's bytes are copied. Returns its length. seq/ts go in
 * the mark when there is one.
 */
static uint32_t gen_frame(struct gstate *s, uint8_t *buf, int fresh, uint32_t seq,
			  uint32_t flow, uint64_t ts)
{
	const struct nmt_gen *g = s->g;
	uint32_t len, ulen, l3 = (uint32_t)g->l3_off, l4 = (uint32_t)g->l4_off;
	uint64_t sum;
	uint8_t *ip, *udp;

	if (g->ntpl > 1) {
		uint32_t k = (uint32_t)(s->n++ % g->ntpl);

		memcpy(buf, g->tpl + g->tpl_off[k], g->tpl_len[k]);
		return g->tpl_len[k];
	}
	len = s->vary_len ? g->len_table[rnd(&s->rng) % g->len_n] : g->tpl_len[0];
	if (fresh)
		memcpy(buf, g->tpl + g->tpl_off[0], len);
	s->n++;
	if (s->simple)
		return len;
	ip = buf + l3;
	udp = buf + l4;
	ulen = len - l4;
	if (g->ipv6) {
		put16(ip + 4, ulen); /* payload length = UDP length */
		put32(ip + 20, s->sip);
		put32(ip + 36, s->dip);
		sum = s->src_hi + s->dst_hi + sum32(s->sip) + sum32(s->dip) + 17 + ulen;
	} else {
		put16(ip + 2, len - l3);
		put32(ip + 12, s->sip);
		put32(ip + 16, s->dip);
		put16(ip + 10, 0);
		put16(ip + 10, (uint16_t)~fold(sum_bytes(0, ip, 20)));
		sum = sum32(s->sip) + sum32(s->dip) + 17 + ulen;
	}
	put16(udp, s->sport);
	put16(udp + 2, s->dport);
	put16(udp + 4, ulen);
	sum += s->sport + s->dport + ulen + payload_sum(s, ulen - 8);
	if (s->mark) {
		uint8_t *m = buf + g->mark_off;

		put32(m, seq);
		put32(m + 4, (uint32_t)(ts / 1000000000u));
		put32(m + 8, (uint32_t)(ts % 1000000000u));
		put16(m + 12, flow);
		put16(m + 14, MARK_MAGIC);
		sum += sum_bytes(0, m, MARK_LEN);
	}
	sum = fold(sum);
	put16(udp + 6, sum == 0xffff ? 0xffff : (uint16_t)~sum);
	if (s->vary_addr)
		advance(s);
	return len;
}

/* ---- -X: copies for the UI thread to print -------------------------------- */

static void dump_slot(struct nmt_dump *d, struct nmt_ring *r, uint32_t i)
{
	struct nmt_slot *sl = nmt_slot(r, i);
	struct nmt_dump_entry *e = &d->e[d->widx % NMT_DUMP_ENTRIES];
	uint32_t n = sl->len < NMT_DUMP_BYTES ? sl->len : NMT_DUMP_BYTES;

	if (n > r->nr_buf_size) /* a length the peer wrote: never read past the buffer */
		n = r->nr_buf_size;

	e->seq = 0; /* being written */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	e->len = sl->len;
	e->slot = i;
	e->buf_idx = sl->buf_idx;
	e->flags = sl->flags;
	e->ring = r->ringid;
	memcpy(e->data, nmt_buf(r, sl->buf_idx), n);
	__atomic_store_n(&e->seq, d->widx + 1, __ATOMIC_RELEASE);
	__atomic_store_n(&d->widx, d->widx + 1, __ATOMIC_RELEASE);
}

static void dump_range(struct nmt_dump *d, struct nmt_ring *r, uint32_t from, uint32_t to)
{
	for (; from != to; from = nmt_ring_next(r, from))
		dump_slot(d, r, from);
}

/* count frames and bytes in slots [from, to); fixed_len: every slot is one such frame */
static void account_slots(struct nmt_ring *r, uint32_t from, uint32_t to, uint64_t *pk,
			  uint64_t *by, uint32_t fixed_len)
{
	if (fixed_len) {
		uint64_t n = nmt_ring_dist(r, from, to);

		*pk += n;
		*by += n * fixed_len;
		return;
	}
	while (from != to) {
		struct nmt_slot *sl = nmt_slot(r, from);

		*by += sl->len;
		if (!(sl->flags & NMT_NS_MOREFRAG))
			(*pk)++;
		from = nmt_ring_next(r, from);
	}
}

/* ---- tx / txseq -------------------------------------------------------------- */

/* a frame of len bytes in slots of at most frag: can tx ring ri ever hold it? (-1: never) */
static int never_fits(struct nmt_port *p, uint32_t ri, uint32_t len, uint32_t frag)
{
	struct nmt_ring *r = p->tx_rings[ri];
	uint64_t need = ((uint64_t)len + frag - 1) / frag;

	if (r->num_slots > 1 && need <= r->num_slots - 1)
		return 0;
	return nmt_err(p, EMSGSIZE, "%s: a %u-byte frame needs %llu slot%s of %u bytes, more than "
		       "tx ring %u holds (%u slots, one always empty): send shorter frames, "
		       "longer fragments (-M, -F) or ask for more slots (@conf:slots=N)",
		       p->name, len, (unsigned long long)need, need == 1 ? "" : "s", frag, ri,
		       r->num_slots);
}

static int gen_tx(struct nmt_port *p, int ring, const struct nmt_gen *g, struct nmt_run *run)
{
	struct nmt_stats *st = &run->st;
	struct gstate s;
	uint32_t first, last, ri, burst = g->burst ? g->burst : 512;
	uint32_t frag = g->frag_size ? g->frag_size : p->buf_size;
	uint64_t queued = 0, idle_since = 0, start, end_at = 0, pk = 0, by = 0, all;
	struct nmt_pace pace;
	uint8_t *scratch = NULL;
	uint32_t fixed_len;
	uint64_t batch_ts = 0;
	int paced, rc = 0;

	if (nmt_rings_span(ring, p->num_tx_rings, &first, &last) < 0 || first >= last)
		return nmt_err(p, EINVAL, "%s: no tx ring %d (the port has %u)", p->name, ring,
			       p->num_tx_rings);
	if (frag > p->buf_size)
		frag = p->buf_size;
	if (frag == 0)
		return nmt_err(p, EINVAL, "%s: buffers of 0 bytes carry nothing", p->name);
	if (gstate_init(p, &s, g) < 0) {
		gstate_free(&s);
		return -1;
	}
	for (ri = first; ri < last; ri++)
		if (never_fits(p, ri, s.longest, frag) < 0) {
			gstate_free(&s);
			return -1;
		}
	fixed_len = s.simple && g->ntpl == 1 && s.max_len <= frag ? s.max_len : 0;
	if (s.max_len > frag) {
		scratch = malloc(s.max_len);
		if (!scratch) {
			gstate_free(&s);
			return nmt_err(p, ENOMEM, "out of memory");
		}
		tpl_fill(&s, scratch); /* only gen_frame writes it from now on */
	}
	for (ri = first; ri < last; ri++) {
		struct nmt_ring *r = p->tx_rings[ri];

		for (uint32_t j = 0; j < r->num_slots; j++)
			nmt_slot(r, j)->flags |= NMT_NS_BUF_CHANGED;
	}
	start = nmt_clock_ns();
	st->t_start_ns = start;
	nmt_pace_init(&pace, g->pps, start, g->duration_ns, burst);
	paced = pace.ns_per > 0;
	all = pace.all;
	if (g->duration_ns)
		end_at = nmt_sat_add(start, g->duration_ns);
	while (!st->cancel && (g->count == 0 || queued < g->count)) {
		uint32_t budget = burst;
		uint64_t moved_pk = 0, moved_by = 0, now, queued0 = queued;

		if (end_at || paced)
			now = nmt_clock_ns();
		else
			now = 0;
		/* paced: the packets due before the end go, even a little late */
		if (end_at && now >= end_at &&
		    (!all || queued >= all || now - end_at > NMT_PACE_LATE_NS))
			break;
		if (paced) {
			/* leave when the batch's last packet is due (pace.h) */
			uint64_t late, allowed;

			if (nmt_pace_next(&pace, queued, &now, &late, &allowed, &st->cancel))
				break;
			nmt_hist_add(&run->gap, late);
			if (allowed - queued < budget)
				budget = (uint32_t)(allowed - queued);
		}
		if (g->count && g->count - queued < budget)
			budget = (uint32_t)(g->count - queued);
		batch_ts = s.mark ? (now ? now : nmt_clock_ns()) : 0; /* txseq: when the batch left */
		for (ri = first; ri < last && budget; ri++) {
			struct nmt_ring *r = p->tx_rings[ri];
			uint32_t before = p->txk[ri].hwcur, h = r->head, n = 0;
			uint32_t space = nmt_ring_space(r);

			if (space < budget && space < r->num_slots / 2) {
				if (nmt_txsync(p, ri) < 0) {
					rc = -1;
					goto out;
				}
				account_slots(r, before, p->txk[ri].hwcur, &moved_pk, &moved_by, fixed_len);
				before = p->txk[ri].hwcur;
				space = nmt_ring_space(r);
			}
			if (fixed_len) {
				/* one template, nothing varies: buffers keep it, only a slot
				 * whose buffer was swapped is written again */
				uint32_t m = space < budget ? space : budget;

				for (uint32_t k = 0; k < m; k++) {
					struct nmt_slot *sl = nmt_slot(r, h);

					if (__builtin_expect(sl->flags != 0, 0)) {
						if (sl->flags & NMT_NS_BUF_CHANGED)
							memcpy(nmt_buf(r, sl->buf_idx), g->tpl + g->tpl_off[0],
							       fixed_len);
						sl->flags = 0;
					}
					if (sl->len != fixed_len)
						sl->len = (uint16_t)fixed_len;
					h = nmt_ring_next(r, h);
				}
				n = m;
				space -= m;
			}
			while (n < budget && space) {
				struct nmt_slot *sl = nmt_slot(r, h);
				uint32_t seq = 0, flow = 0, len;
				uint64_t ts = 0;

				if (s.mark) {
					uint64_t k = s.n;

					flow = g->flow_base + (uint32_t)(k % g->flows);
					seq = (uint32_t)(k / g->flows);
					ts = batch_ts;
				}
				if (!scratch) {
					uint8_t *b = (uint8_t *)nmt_buf(r, sl->buf_idx);

					if (sl->flags & NMT_NS_BUF_CHANGED)
						tpl_fill(&s, b);
					len = gen_frame(&s, b, 0, seq, flow & 0xffff, ts);
					if (sl->len != len)
						sl->len = (uint16_t)len;
					if (sl->flags)
						sl->flags = 0;
					h = nmt_ring_next(r, h);
					space--;
				} else {
					/* a frame in several slots: build it, then cut it up */
					struct gstate before = s;
					uint32_t need, off = 0;

					len = gen_frame(&s, scratch, 0, seq, flow & 0xffff, ts);
					need = (len + frag - 1) / frag;
					if (need > r->num_slots - 1) { /* checked at start: cannot be */
						rc = never_fits(p, ri, len, frag);
						goto out;
					}
					if (need > space) {
						s = before; /* not sent now: the same frame next time */
						break;
					}
					while (off < len) {
						uint32_t c = len - off < frag ? len - off : frag;

						sl = nmt_slot(r, h);
						memcpy(nmt_buf(r, sl->buf_idx), scratch + off, c);
						sl->len = (uint16_t)c;
						off += c;
						sl->flags = off < len ? NMT_NS_MOREFRAG : 0;
						h = nmt_ring_next(r, h);
						space--;
					}
				}
				n++;
			}
			if (run->dump)
				dump_range(run->dump, r, r->head, h);
			r->head = r->cur = h;
			queued += n;
			budget -= n;
			if (nmt_txsync(p, ri) < 0) {
				rc = -1;
				goto out;
			}
			account_slots(r, before, p->txk[ri].hwcur, &moved_pk, &moved_by, fixed_len);
		}
		/* a paced rate runs to the last packet handed over, not to the end of -t */
		if (paced && queued != queued0)
			st->t_last_ns = now;
		if (moved_pk) {
			pk += moved_pk;
			by += moved_by;
			st->pkts = pk;
			st->bytes = by;
			if (++st->events % 256 == 0)
				st->t_end_ns = nmt_clock_ns();
			idle_since = 0;
		} else if (budget && nmt_ring_idle(p, ring, NMT_WAIT_TX, &idle_since) < 0) {
			rc = -1;
			goto out;
		}
	}
	if (rc == 0 && all && queued >= all)
		nmt_pace_sleep_until(end_at, &st->cancel); /* the last packet's interval runs to the end */
out:
	if (rc == 0) {
		uint32_t before[NMT_MAX_RINGS];

		for (ri = first; ri < last; ri++)
			before[ri] = p->txk[ri].hwcur;
		if (nmt_ring_flush(p, ring, 2000) < 0 && errno != ETIMEDOUT)
			rc = -1;
		for (ri = first; ri < last; ri++)
			account_slots(p->tx_rings[ri], before[ri], p->txk[ri].hwcur, &pk, &by, fixed_len);
		st->pkts = pk;
		st->bytes = by;
	}
	st->t_end_ns = nmt_clock_ns();
	free(scratch);
	gstate_free(&s);
	return rc;
}

/* ---- rx / rxseq ---------------------------------------------------------------- */

struct flowseq {
	uint32_t expect;
	uint32_t pad;
	uint64_t window; /* bit i: seq expect-1-i was received */
};

static void seq_check(struct nmt_seq_stats *q, struct flowseq *f, uint32_t seq)
{
	int32_t d = (int32_t)(seq - f->expect);

	if (d == 0) {
		f->window = (f->window << 1) | 1;
		f->expect = seq + 1;
	} else if (d > 0) {
		q->seq_too_high++;
		q->dropped += (uint32_t)d;
		f->window = d >= 63 ? 1 : ((f->window << (d + 1)) | 1);
		f->expect = seq + 1;
	} else {
		uint32_t back = (uint32_t)(-d) - 1; /* 0: the one just before expect */

		q->seq_too_low++;
		if (back < 64) {
			if (f->window & (1ull << back)) {
				q->dup++;
			} else {
				f->window |= 1ull << back;
				q->out_of_order++;
				if (q->dropped)
					q->dropped--;
			}
		} else {
			q->out_of_order++; /* too old to tell: count it late */
			if (q->dropped)
				q->dropped--;
		}
	}
}

static int gen_rx(struct nmt_port *p, int ring, const struct nmt_gen *g, struct nmt_run *run)
{
	struct nmt_stats *st = &run->st;
	uint32_t first, last, ri, burst = g->burst ? g->burst : 512;
	uint64_t pk = 0, by = 0, idle_since = 0, last_pkt = 0, start = nmt_clock_ns();
	struct flowseq *flows = NULL;
	uint32_t mark = g->mark_off >= 0 ? (uint32_t)g->mark_off : 0;
	int rc = 0, in_frame = 0;

	if (nmt_rings_span(ring, p->num_rx_rings, &first, &last) < 0 || first >= last)
		return nmt_err(p, EINVAL, "%s: no rx ring %d (the port has %u)", p->name, ring,
			       p->num_rx_rings);
	if (g->mark_off >= 0) {
		flows = calloc(MAX_FLOWS, sizeof(*flows));
		if (!flows)
			return nmt_err(p, ENOMEM, "out of memory");
	}
	run->min_space = UINT32_MAX;
	while (!st->cancel && (g->count == 0 || pk < g->count)) {
		uint64_t got = 0, now;
		uint32_t free_slots = 0;

		for (ri = first; ri < last; ri++) {
			struct nmt_ring *r = p->rx_rings[ri];
			uint32_t space, m, h;

			if (nmt_rxsync(p, ri) < 0) {
				rc = -1;
				goto out;
			}
			space = nmt_ring_space(r);
			free_slots += r->num_slots - 1 - space;
			m = space < burst ? space : burst;
			h = r->head;
			if (run->dump)
				dump_range(run->dump, r, h, nmt_ring_add(r, h, m));
			if (!flows) {
				/* count only: no branch per slot */
				uint64_t frames = 0;

				if (g->count && g->count - pk < m)
					m = (uint32_t)(g->count - pk);
				for (uint32_t k = 0; k < m; k++) {
					struct nmt_slot *sl = nmt_slot(r, h);

					by += sl->len;
					frames += !(sl->flags & NMT_NS_MOREFRAG);
					in_frame = (sl->flags & NMT_NS_MOREFRAG) != 0;
					h = nmt_ring_next(r, h);
				}
				pk += frames;
				got += frames;
				m = 0;
			}
			for (uint32_t k = 0; k < m; k++) {
				struct nmt_slot *sl = nmt_slot(r, h);

				by += sl->len;
				if (flows && !in_frame && sl->len >= mark + MARK_LEN &&
				    mark + MARK_LEN <= r->nr_buf_size) {
					const uint8_t *b = (const uint8_t *)nmt_buf(r, sl->buf_idx) + mark;

					if (get16(b + 14) == MARK_MAGIC)
						seq_check(&run->seq, &flows[get16(b + 12)], get32(b));
				}
				in_frame = (sl->flags & NMT_NS_MOREFRAG) != 0;
				h = nmt_ring_next(r, h);
				if (!in_frame) {
					pk++;
					got++;
					if (g->count && pk >= g->count)
						break;
				}
			}
			r->head = r->cur = h;
			if (g->count && pk >= g->count)
				break;
		}
		if (free_slots < run->min_space)
			run->min_space = free_slots;
		if (got) {
			now = nmt_clock_ns();
			if (!last_pkt)
				st->t_start_ns = now;
			last_pkt = now;
			st->pkts = pk;
			st->bytes = by;
			st->events++;
			st->t_end_ns = now;
			idle_since = 0;
		} else {
			now = nmt_clock_ns();
			if (g->idle_stop_ms > 0 && last_pkt &&
			    now - last_pkt >= (uint64_t)g->idle_stop_ms * 1000000)
				break;
			if (nmt_ring_idle(p, ring, NMT_WAIT_RX, &idle_since) < 0) {
				rc = -1;
				goto out;
			}
		}
		if (g->duration_ns && now - start >= g->duration_ns)
			break;
	}
	for (ri = first; ri < last; ri++)
		nmt_rxsync(p, ri);
out:
	st->pkts = pk;
	st->bytes = by;
	if (!last_pkt)
		st->t_start_ns = st->t_end_ns = nmt_clock_ns();
	free(flows);
	return rc;
}

/* ---- ping / pong -------------------------------------------------------------- */

static int gen_ping(struct nmt_port *p, const struct nmt_gen *g, struct nmt_run *run)
{
	struct nmt_stats *st = &run->st;
	struct gstate s;
	struct nmt_ring *tx, *rx;
	uint32_t burst = g->burst ? g->burst : 1, ri;
	uint32_t mark = (uint32_t)g->mark_off;
	uint64_t start, end_at = 0, seq = 0, idle_since = 0;
	struct nmt_pace pace;
	int rc = 0, timeout = g->reply_timeout_ms > 0 ? g->reply_timeout_ms : 1000;

	if (!p->num_tx_rings || !p->num_rx_rings)
		return nmt_err(p, EOPNOTSUPP, "%s: ping needs tx and rx rings", p->name);
	if (g->mark_off < 0 || g->l3_off < 0)
		return nmt_err(p, EINVAL, "ping needs generated frames with a mark");
	if (gstate_init(p, &s, g) < 0) {
		gstate_free(&s);
		return -1;
	}
	tx = p->tx_rings[0];
	if (s.longest > tx->nr_buf_size || tx->num_slots < 2) {
		gstate_free(&s);
		if (tx->num_slots < 2)
			return never_fits(p, 0, s.longest, tx->nr_buf_size);
		return nmt_err(p, EMSGSIZE, "%s: ping sends each request in one buffer: %u bytes "
			       "do not fit in %u; use a shorter -l", p->name, s.longest,
			       tx->nr_buf_size);
	}
	start = nmt_clock_ns();
	st->t_start_ns = start;
	nmt_pace_init(&pace, g->pps, start, 0, burst); /* a request per due time, no batches */
	if (g->duration_ns)
		end_at = nmt_sat_add(start, g->duration_ns);
	while (!st->cancel && (g->count == 0 || run->sent < g->count)) {
		uint64_t now = nmt_clock_ns(), deadline;
		uint32_t n = 0, want;

		if (end_at && now >= end_at)
			break;
		if (pace.ns_per > 0) {
			uint64_t due = nmt_pace_due(&pace, run->sent);

			if (due > now) {
				if (end_at && due >= end_at)
					break;
				if (nmt_pace_sleep_until(due, &st->cancel))
					break;
			}
		}
		want = burst;
		if (g->count && g->count - run->sent < want)
			want = (uint32_t)(g->count - run->sent);
		if (nmt_ring_space(tx) < want && nmt_txsync(p, 0) < 0) {
			rc = -1;
			break;
		}
		while (n < want && nmt_ring_space(tx)) {
			struct nmt_slot *sl = nmt_slot(tx, tx->head);
			uint32_t len = gen_frame(&s, (uint8_t *)nmt_buf(tx, sl->buf_idx), 1,
						 (uint32_t)seq++, 0, nmt_clock_ns());

			sl->len = (uint16_t)len;
			sl->flags = 0;
			tx->head = tx->cur = nmt_ring_next(tx, tx->head);
			n++;
		}
		if (nmt_txsync(p, 0) < 0) {
			rc = -1;
			break;
		}
		if (n == 0) {
			st->drops++; /* "ouch, cannot send" */
			if (nmt_ring_idle(p, -1, NMT_WAIT_TX, &idle_since) < 0) {
				rc = -1;
				break;
			}
			continue;
		}
		run->sent += n;
		/* collect the replies to this round */
		deadline = nmt_clock_ns() + (uint64_t)timeout * 1000000;
		{
			uint32_t replies = 0;

			while (replies < n && !st->cancel) {
				uint32_t got = 0;

				for (ri = 0; ri < p->num_rx_rings; ri++) {
					rx = p->rx_rings[ri];
					if (nmt_rxsync(p, ri) < 0) {
						rc = -1;
						goto out;
					}
					while (!nmt_ring_empty(rx)) {
						struct nmt_slot *sl = nmt_slot(rx, rx->head);
						const uint8_t *b = (const uint8_t *)nmt_buf(rx, sl->buf_idx);

						if (sl->len >= mark + MARK_LEN &&
						    mark + MARK_LEN <= rx->nr_buf_size &&
						    get16(b + mark + 14) == MARK_MAGIC) {
							uint64_t ts = (uint64_t)get32(b + mark + 4) *
									      1000000000u +
								      get32(b + mark + 8);
							uint64_t t = nmt_clock_ns();

							nmt_hist_add(&run->lat, t > ts ? t - ts : 0);
							st->pkts++;
							st->bytes += sl->len;
							replies++;
							got++;
						}
						rx->head = rx->cur = nmt_ring_next(rx, rx->head);
					}
				}
				if (got) {
					st->events++;
					st->t_end_ns = nmt_clock_ns();
					continue;
				}
				now = nmt_clock_ns();
				if (now >= deadline)
					break;
				{
					int left = (int)((deadline - now) / 1000000) + 1;

					if (nmt_port_wait(p, NMT_WAIT_RX, left < WAIT_MS ? left : WAIT_MS) <
					    0) {
						rc = -1;
						goto out;
					}
				}
			}
			if (replies < n)
				st->drops += n - replies; /* no answer in time */
		}
	}
out:
	st->t_end_ns = nmt_clock_ns();
	gstate_free(&s);
	return rc;
}

static void swap_bytes(uint8_t *a, uint8_t *b, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		uint8_t t = a[i];

		a[i] = b[i];
		b[i] = t;
	}
}

/* turn a request into its reply: swap MACs, IP addresses, UDP ports */
static void make_reply(uint8_t *f, uint32_t len)
{
	uint32_t l3 = 14, type;

	if (len < 14)
		return;
	swap_bytes(f, f + 6, 6);
	type = get16(f + 12);
	while ((type == 0x8100 || type == 0x88a8) && len >= l3 + 4) {
		type = get16(f + l3 + 2);
		l3 += 4;
	}
	if (type == 0x0800 && len >= l3 + 20) {
		uint32_t ihl = (f[l3] & 15) * 4u;

		swap_bytes(f + l3 + 12, f + l3 + 16, 4);
		if (f[l3 + 9] == 17 && len >= l3 + ihl + 8)
			swap_bytes(f + l3 + ihl, f + l3 + ihl + 2, 2);
	} else if (type == 0x86dd && len >= l3 + 40) {
		swap_bytes(f + l3 + 8, f + l3 + 24, 16);
		if (f[l3 + 6] == 17 && len >= l3 + 48)
			swap_bytes(f + l3 + 40, f + l3 + 42, 2);
	}
}

/*
 * pong_frame - the reply to the frame of n slots at rx->head, in tx's next n
 * slots (1 when sent, 0 when tx had no room: dropped, as pkt-gen does).
 */
static int pong_frame(struct nmt_ring *rx, struct nmt_ring *tx, uint32_t n, uint64_t *bytes)
{
	uint32_t i = rx->head, o = tx->head, cap = rx->nr_buf_size < tx->nr_buf_size ?
							   rx->nr_buf_size : tx->nr_buf_size;

	if (nmt_ring_space(tx) < n)
		return 0;
	for (uint32_t k = 0; k < n; k++) {
		struct nmt_slot *in = nmt_slot(rx, i), *out = nmt_slot(tx, o);
		uint8_t *dst = (uint8_t *)nmt_buf(tx, out->buf_idx);
		uint32_t len = in->len <= cap ? in->len : cap;

		memcpy(dst, nmt_buf(rx, in->buf_idx), len);
		if (k == 0)
			make_reply(dst, len); /* the headers are in the first slot */
		out->len = (uint16_t)len;
		out->flags = k + 1 < n ? NMT_NS_MOREFRAG : 0;
		*bytes += len;
		i = nmt_ring_next(rx, i);
		o = nmt_ring_next(tx, o);
	}
	tx->head = tx->cur = o;
	return 1;
}

/* pong: every frame received goes back with MACs, addresses and ports swapped;
 * the time runs from the first frame received to the last, as rx's */
static int gen_pong(struct nmt_port *p, const struct nmt_gen *g, struct nmt_run *run)
{
	struct nmt_stats *st = &run->st;
	uint64_t idle_since = 0, start = nmt_clock_ns(), seen = 0, bytes = 0;
	int rc = 0;

	if (!p->num_tx_rings || !p->num_rx_rings)
		return nmt_err(p, EOPNOTSUPP, "%s: pong needs tx and rx rings", p->name);
	while (!st->cancel && (g->count == 0 || st->pkts < g->count)) {
		struct nmt_ring *tx = p->tx_rings[0];
		uint32_t got = 0, sent = 0, ri;

		for (ri = 0; ri < p->num_rx_rings; ri++) {
			struct nmt_ring *rx = p->rx_rings[ri];

			if (nmt_rxsync(p, ri) < 0) {
				rc = -1;
				goto out;
			}
			while (!nmt_ring_empty(rx)) {
				uint32_t n = nmt_ring_frame(rx, rx->head);

				if (n == 0) {
					if (nmt_ring_space(rx) < rx->num_slots - 1)
						break; /* the rest is on its way */
					/* a frame longer than the ring: it can never be whole */
					n = nmt_ring_space(rx);
					st->drops++;
				} else {
					got++;
					if (nmt_ring_space(tx) < n)
						nmt_txsync(p, 0);
					if (pong_frame(rx, tx, n, &bytes)) {
						st->pkts++;
						sent++;
					} else {
						st->drops++; /* tx full: drop, as pkt-gen does */
					}
				}
				rx->head = rx->cur = nmt_ring_add(rx, rx->head, n);
				if (g->count && st->pkts >= g->count)
					break;
			}
		}
		if (got) {
			uint64_t now = nmt_clock_ns();

			if (sent && nmt_txsync(p, 0) < 0) {
				rc = -1;
				break;
			}
			if (!seen)
				st->t_start_ns = now;
			seen += got;
			st->t_end_ns = now;
			st->bytes = bytes;
			st->events++;
			idle_since = 0;
		} else {
			if (g->duration_ns && nmt_clock_ns() - start >= g->duration_ns)
				break;
			if (nmt_ring_idle(p, -1, NMT_WAIT_RX, &idle_since) < 0) {
				rc = -1;
				break;
			}
		}
	}
out:
	if (rc == 0)
		nmt_port_flush(p, 1000);
	for (uint32_t ri = 0; ri < p->num_rx_rings; ri++)
		nmt_rxsync(p, ri);
	if (!seen)
		st->t_start_ns = st->t_end_ns = nmt_clock_ns();
	st->bytes = bytes;
	return rc;
}

int nmt_gen_tx(struct nmt_port *p, int ring, const struct nmt_gen *g, struct nmt_run *run)
{
	int rc = gen_tx(p, ring, g, run);

	run->st.done = 1; /* also when it could not start */
	return rc;
}

int nmt_gen_rx(struct nmt_port *p, int ring, const struct nmt_gen *g, struct nmt_run *run)
{
	int rc = gen_rx(p, ring, g, run);

	run->st.done = 1; /* also when it could not start */
	return rc;
}

int nmt_gen_ping(struct nmt_port *p, const struct nmt_gen *g, struct nmt_run *run)
{
	int rc = gen_ping(p, g, run);

	run->st.done = 1; /* also when it could not start */
	return rc;
}

int nmt_gen_pong(struct nmt_port *p, const struct nmt_gen *g, struct nmt_run *run)
{
	int rc = gen_pong(p, g, run);

	run->st.done = 1; /* also when it could not start */
	return rc;
}
