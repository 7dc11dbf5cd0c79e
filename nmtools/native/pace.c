/*
 * pace.c - the pacing schedule's slow parts (see pace.h): what a run owes,
 * and the wait.
 */
#define _GNU_SOURCE
#include <sys/prctl.h>
#include <time.h>

#include "pace.h"

/*
 * The product is exact for whole rates and durations; a relative 1e-12 keeps a product a
 * rounding step above a whole number from owing one more.
 */
uint64_t nmt_pace_owed(uint64_t duration_ns, double pps)
{
	double x = (double)duration_ns * pps / 1e9;
	uint64_t n;

	x -= x * 1e-12;
	n = nmt_d2u64(x);
	if ((double)n < x && n < UINT64_MAX)
		n++;
	return n ? n : 1;
}

void nmt_pace_init(struct nmt_pace *pc, double pps, uint64_t start, uint64_t duration_ns,
		   uint32_t burst)
{
	pc->start = start;
	pc->ns_per = pps > 0 ? 1e9 / pps : 0;
	pc->all = 0;
	pc->min_batch = 1;
	if (pc->ns_per > 0) {
		/* batches of up to 10 us of traffic keep system calls few and the spacing fine */
		double m = pps * 10e-6;

		pc->min_batch = m < 1 ? 1 : (m > burst ? burst : (uint32_t)m);
		if (duration_ns)
			pc->all = nmt_pace_owed(duration_ns, pps);
	}
}

/*
 * Sleep through long gaps, spin the last SPIN_NS: even with a timer slack of 1 ns,
 * nanosleep() wakes late by microseconds (a tenth of a millisecond at worst on a busy
 * VM: the gap error tests/cli/test_run_rate.py and bench/pktgen.py report), so spinning
 * the last part keeps the spacing, and sleeping the rest keeps a slow stream (1 kpps)
 * at a fraction of a core rather than a whole one.
 */
#define SLEEP_MIN_NS 300000
#define SPIN_NS 200000
#define SLEEP_MAX_NS 100000000 /* a long gap is slept in steps that look at cancel */

int nmt_pace_sleep_until(uint64_t t, const volatile int *cancel)
{
	static __thread int slack_set;
	uint64_t now;

	while ((now = nmt_clock_ns()) < t) {
		if (*cancel)
			return 1;
		if (t - now > SLEEP_MIN_NS) {
			struct timespec ts;
			uint64_t d = t - now - SPIN_NS;

			if (!slack_set) {
				prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0); /* this thread only */
				slack_set = 1;
			}
			if (d > SLEEP_MAX_NS)
				d = SLEEP_MAX_NS;
			ts.tv_sec = (time_t)(d / 1000000000u);
			ts.tv_nsec = (long)(d % 1000000000u);
			nanosleep(&ts, NULL);
			continue;
		}
		nmt_cpu_relax();
	}
	return *cancel != 0;
}
