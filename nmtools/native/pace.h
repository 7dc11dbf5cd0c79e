/*
 * pace.h - an absolute pacing schedule: packet k of a run at `pps` is due at
 * start + k / pps, so lateness never accumulates (a batch that left late is
 * followed by one that leaves on time, carrying what is owed). Used by the
 * generator (gen.c) and meant for anything else that sends at a rate.
 *
 * Batches: a paced sender waits until the last packet of a batch of
 * min_batch (about 10 us of traffic) is due, then sends every packet due by
 * then: few system calls, fine spacing. A run of fixed duration owes exactly
 * the packets due in [0, duration).
 */
#ifndef NMT_PACE_H
#define NMT_PACE_H

#include <stdint.h>

#include "nmt.h"

#define NMT_PACE_LATE_NS 100000000 /* a paced -t run sends what it owes up to this late */

struct nmt_pace {
	uint64_t start;     /* when packet 0 is due (ns, nmt_clock_ns) */
	double ns_per;      /* ns between packets: 1e9 / pps; 0 = not paced */
	uint64_t all;       /* packets owed by a run of fixed duration (0: no end, or not paced) */
	uint32_t min_batch; /* packets a batch waits for (1 when not paced) */
};

/* a double as uint64_t, clamped: NaN and negatives are 0, >= 2^64 is UINT64_MAX */
static inline uint64_t nmt_d2u64(double x)
{
	if (!(x > 0))
		return 0;
	if (x >= 18446744073709551616.0)
		return UINT64_MAX;
	return (uint64_t)x;
}

static inline uint64_t nmt_sat_add(uint64_t a, uint64_t b)
{
	return b > UINT64_MAX - a ? UINT64_MAX : a + b;
}

/* owed - packets a paced run of duration_ns owes: ceil(duration x rate), at least 1 */
uint64_t nmt_pace_owed(uint64_t duration_ns, double pps);

/* the schedule of a run at pps (<= 0: not paced) from start; duration_ns 0: no end;
 * batches of at most burst */
void nmt_pace_init(struct nmt_pace *pc, double pps, uint64_t start, uint64_t duration_ns,
		   uint32_t burst);

/* sleep until t (nmt_clock_ns): sleep through long gaps, spin the last part; returns
 * early (and says 1) when *cancel is set */
int nmt_pace_sleep_until(uint64_t t, const volatile int *cancel);

/* when packet k is due: start + k * ns_per, for any ns_per (even inf: k = 0 is due at 0) */
static inline uint64_t nmt_pace_due(const struct nmt_pace *pc, uint64_t k)
{
	return k == 0 ? pc->start : nmt_sat_add(pc->start, nmt_d2u64((double)k * pc->ns_per));
}

/*
 * nmt_pace_next - the next batch of a paced run that has sent `sent` packets (pc->ns_per
 * > 0): wait until the batch's last packet is due (*now: the time then, as given if no
 * wait was needed), then say how many packets are due by now (*allowed - sent >= 1; never
 * beyond pc->all) and how late the batch leaves (*late, ns). 1: stop (all owed sent, or
 * cancelled while waiting), 0: go.
 */
static inline int nmt_pace_next(const struct nmt_pace *pc, uint64_t sent, uint64_t *now,
				uint64_t *late, uint64_t *allowed, const volatile int *cancel)
{
	uint64_t last_k = sent + pc->min_batch - 1, go, a;

	if (pc->all) {
		if (sent >= pc->all)
			return 1;
		if (last_k >= pc->all)
			last_k = pc->all - 1;
	}
	go = nmt_pace_due(pc, last_k);
	if (go > *now) {
		if (nmt_pace_sleep_until(go, cancel))
			return 1;
		*now = nmt_clock_ns();
	}
	*late = *now - go;
	a = nmt_d2u64((double)(*now - pc->start) / pc->ns_per);
	a = a == UINT64_MAX ? a : a + 1;
	if (a <= sent) /* now >= its due time, rounded the other way */
		a = sent + 1;
	if (pc->all && a > pc->all) /* exactly what is owed, not a batch more */
		a = pc->all;
	*allowed = a;
	return 0;
}

#endif
