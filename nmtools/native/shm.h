/*
 * shm.h - shared memory that trusts no one: files made without following
 * links, and ring channels whose every index and length is checked.
 *
 * Files (regions, doorbell FIFOs) live in a directory of the user's own
 * (nmtools/ports/pipes.py picks and checks it). Each is made with an
 * exclusive create or mkfifo (neither follows a link), opened with
 * O_NOFOLLOW, and accepted only after fstat() of the open descriptor shows
 * the right type, the caller's euid as owner, no group/other permissions and
 * one link. Removal checks that the name still names what was checked.
 *
 * Liveness: a region records who uses it as (pid, start time) pairs
 * (struct nmt_shm_owner); a pid alone could have been reused by another
 * process since. A region none of whose owners is alive may be removed.
 *
 * Doorbells: a FIFO per sleeper. A waiter sets a want flag in shared memory,
 * re-checks, and polls its FIFO; the other side writes a byte to it only when
 * the flag is set (nmt_shm_bell_ring), so the fast path makes no system call.
 *
 * Channels: one direction of a ring pair, a slot array in shared memory
 * between a sender and a receiver. Each process keeps its own rings (ring
 * headers and slots in private memory, buffers in the region) and copies
 * slots into and out of the channel at sync time, so a peer that scribbles
 * on the region can change buffer contents (its data) but never an index or
 * a length that this process uses without checking. See nmt_chan_*.
 */
#ifndef NMT_SHM_H
#define NMT_SHM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "nmt.h"

/* ---- files ------------------------------------------------------------------------ */

/* open a region, making it (size 0) if it does not exist; *created says which */
int nmt_shm_open(struct nmt_port *p, const char *path, int *created);
/* give a region made by nmt_shm_open its size, memory reserved now (no SIGBUS later) */
int nmt_shm_size(struct nmt_port *p, int fd, const char *path, size_t size);
/* make a doorbell FIFO (it must not exist) / open one; both return the descriptor */
int nmt_shm_mkfifo(struct nmt_port *p, const char *path);
int nmt_shm_open_fifo(struct nmt_port *p, const char *path);
/* is fd what we may use: of type S_IFREG / S_IFIFO, ours, mode 0600 at most, one link */
int nmt_shm_check_fd(struct nmt_port *p, int fd, const char *path, mode_t type);
/* remove path if it still names (dev, ino); with ino 0, if it is a `type` of ours */
int nmt_shm_unlink(const char *path, dev_t dev, ino_t ino, mode_t type);

/* ---- liveness --------------------------------------------------------------------- */

/* one user of a region, as it records itself there (16 bytes; its layout is part of
 * every region that holds one) */
struct nmt_shm_owner {
	int32_t pid;
	uint32_t open;
	uint64_t starttime; /* nmt_shm_proc_starttime(pid) when it claimed */
};
_Static_assert(sizeof(struct nmt_shm_owner) == 16, "struct nmt_shm_owner is 16 bytes");

/* the start time of process pid (field 22 of /proc/PID/stat), 0 if unknown */
uint64_t nmt_shm_proc_starttime(pid_t pid);
/* is pid the very process that started at starttime (not a later one with its pid) */
int nmt_shm_alive(pid_t pid, uint64_t starttime);
/* is o open and its process alive (o is read once: the region is not ours alone) */
int nmt_shm_owner_alive(const struct nmt_shm_owner *o);
/* record this process in o (pid and start time before open) / forget it if it is ours */
void nmt_shm_owner_claim(struct nmt_shm_owner *o);
void nmt_shm_owner_release(struct nmt_shm_owner *o);

/* ---- doorbells -------------------------------------------------------------------- */

/* wake the sleeper on FIFO fd (a full FIFO: a wake-up is already pending) */
void nmt_shm_bell_ring(int fd);
/* read every pending wake-up from FIFO fd (non-blocking) */
void nmt_shm_bell_drain(int fd);

/* ---- channels ----------------------------------------------------------------------- */

/*
 * In shared memory: the counters and want flags of one channel, and its slot
 * array (one 64-bit word per slot: buf_idx, len, flags).
 *
 * prod and cons are free-running counters modulo n * NMT_CHAN_LAPS (slot
 * index = counter % n), so a receiver tells a counter that moved back from
 * one that went round the ring. Each is stored with its complement in the
 * upper half of one 64-bit word: a stray write to it is caught, not counted.
 * A slot is written only when it changes (a sender that resends the same
 * buffers leaves the lines shared in both caches), and the only flag that
 * crosses is NS_MOREFRAG. A receiver that swapped buffers (NS_BUF_CHANGED, as
 * netmap asks) writes the new ones into the slots it gives back and moves
 * `swapped`; the sender copies buffer indexes back (checked) only then.
 * Whatever a peer writes, this end only ever uses indexes it has checked.
 */
#define NMT_CHAN_LAPS 32768u

struct nmt_shm_chan {
	_Alignas(64) uint64_t prod; /* written by the sender */
	uint32_t rx_want;           /* the receiver sleeps: ring its doorbell */
	_Alignas(64) uint64_t cons; /* written by the receiver */
	uint32_t tx_want;           /* the sender sleeps */
	uint32_t swapped;           /* receiver: slots before this counter may carry other
				     * buffers than were sent (NS_BUF_CHANGED) */
};

static inline uint64_t nmt_chan_word(uint32_t buf_idx, uint32_t len, uint32_t flags)
{
	return (uint64_t)buf_idx | (uint64_t)len << 32 | (uint64_t)flags << 48;
}

static inline uint64_t nmt_chan_ctr(uint32_t c)
{
	return (uint64_t)c | (uint64_t)(uint32_t)~c << 32;
}

/* one end's private view of a channel (never in shared memory) */
struct nmt_chan_end {
	struct nmt_shm_chan *c;
	uint64_t *sh;          /* the channel's n slot words */
	uint32_t n;            /* slots */
	uint32_t nbufs;        /* valid buffer indexes are [0, nbufs) */
	uint32_t buf_size;     /* valid lengths are [0, buf_size] */
	uint32_t mod;          /* counters run modulo n * NMT_CHAN_LAPS */
	uint32_t prod_idx, prod_lap; /* sender: published; receiver: seen and checked */
	uint32_t cons_idx, cons_lap; /* receiver: given back; sender: seen and checked */
};

/* the first 8 bytes of a struct nmt_slot are a channel word (little-endian) */
_Static_assert(offsetof(struct nmt_slot, len) == 4 && offsetof(struct nmt_slot, flags) == 6,
	       "struct nmt_slot starts with buf_idx, len, flags");

/* init - the view of channel c (n slots) as it is now; -1 (why says) if its counters are bad */
int nmt_chan_init(struct nmt_chan_end *e, struct nmt_shm_chan *c, uint64_t *sh, uint32_t n,
		  uint32_t nbufs, uint32_t buf_size, char *why, size_t wl);
/* the fresh state of a channel whose buffers are first_buf .. first_buf + n - 1 */
void nmt_chan_format(struct nmt_shm_chan *c, uint64_t *sh, uint32_t n, uint32_t first_buf);

/*
 * Sender: publish - copy ring r's slots [prod, head) into the channel and move
 * prod (1 if it moved, 0 if not, -1 if the ring's own head or slots are bad);
 * reclaim - take back what the receiver returned: cons is checked, buffer
 * indexes copied back (NS_BUF_CHANGED where the receiver swapped one),
 * r->tail advanced (0, or -1: the receiver broke the protocol).
 * Receiver: release - return slots [cons, head) of r (their buffer indexes)
 * and move cons (1/0/-1 like publish); fetch - check the new prod and every
 * new slot, copy them into r, advance r->tail (0, or -1: the sender broke
 * the protocol). Messages go to why.
 */
int nmt_chan_publish(struct nmt_chan_end *e, struct nmt_ring *r, char *why, size_t wl);
int nmt_chan_reclaim(struct nmt_chan_end *e, struct nmt_ring *r, char *why, size_t wl);
int nmt_chan_release(struct nmt_chan_end *e, struct nmt_ring *r, char *why, size_t wl);
int nmt_chan_fetch(struct nmt_chan_end *e, struct nmt_ring *r, char *why, size_t wl);

/*
 * A whole sync of one channel end with ring r. Sender: reclaim first (then what came back
 * can only be what was sent before this sync), publish, and if that moved prod and the
 * receiver sleeps, ring its doorbell `bell`. Receiver: fetch first (then what arrived can
 * only be what fit before this sync gave room), release, and ring `bell` if the sender
 * sleeps. 0 done; NMT_CHAN_BAD_RING: r's own head or slots are bad (r->tail is already
 * up to date); NMT_CHAN_BROKEN: the peer broke the protocol. Messages go to why.
 * Inline: a txsync / rxsync makes no call more than the four it needs.
 */
#define NMT_CHAN_BAD_RING (-1)
#define NMT_CHAN_BROKEN (-2)

static inline int nmt_chan_tx_sync(struct nmt_chan_end *e, struct nmt_ring *r, int bell,
				   char *why, size_t wl)
{
	int rc;

	if (nmt_chan_reclaim(e, r, why, wl) < 0)
		return NMT_CHAN_BROKEN;
	rc = nmt_chan_publish(e, r, why, wl);
	if (rc < 0)
		return NMT_CHAN_BAD_RING;
	if (rc > 0) {
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (__atomic_load_n(&e->c->rx_want, __ATOMIC_RELAXED))
			nmt_shm_bell_ring(bell);
	}
	return 0;
}

static inline int nmt_chan_rx_sync(struct nmt_chan_end *e, struct nmt_ring *r, int bell,
				   char *why, size_t wl)
{
	int rc;

	if (nmt_chan_fetch(e, r, why, wl) < 0)
		return NMT_CHAN_BROKEN;
	rc = nmt_chan_release(e, r, why, wl);
	if (rc < 0)
		return NMT_CHAN_BAD_RING;
	if (rc > 0) {
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (__atomic_load_n(&e->c->tx_want, __ATOMIC_RELAXED))
			nmt_shm_bell_ring(bell);
	}
	return 0;
}

/* set up r (n slots, private) as the sender's / receiver's ring of e */
void nmt_chan_tx_ring(const struct nmt_chan_end *e, struct nmt_ring *r);
void nmt_chan_rx_ring(struct nmt_chan_end *e, struct nmt_ring *r);

/* has anything moved that a sync would pick up (for arm) */
int nmt_chan_tx_ready(const struct nmt_chan_end *e, const struct nmt_ring *r);
int nmt_chan_rx_ready(const struct nmt_chan_end *e, const struct nmt_ring *r);

#endif
