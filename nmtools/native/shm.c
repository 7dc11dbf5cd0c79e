/*
 * shm.c - shared memory that trusts no one (see shm.h).
 *
 * Why every check:
 *  - another user may have planted the name (a symbolic link, a file, a FIFO,
 *    a hard link to one of our files) before we make it: exclusive create and
 *    mkfifo never follow links, O_NOFOLLOW refuses a link at open, and the
 *    descriptor's owner, type, mode and link count are checked before use;
 *  - removal: a name is removed only if it still names the inode that was
 *    checked (or, for a FIFO we did not open, a FIFO of ours), so a listing
 *    by root never deletes another user's file;
 *  - a peer of the same user can write anything into the region at any time:
 *    every counter and slot it hands over is checked once, at the sync that
 *    takes it, and copied into private memory before anyone uses it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shm.h"

/* ---- files ------------------------------------------------------------------------ */

static const char *kind_name(mode_t m)
{
	switch (m & S_IFMT) {
	case S_IFREG:
		return "file";
	case S_IFIFO:
		return "FIFO";
	case S_IFDIR:
		return "directory";
	case S_IFLNK:
		return "symbolic link";
	case S_IFSOCK:
		return "socket";
	default:
		return "device";
	}
}

/* what is at path (not followed), for the message that refuses it */
static int refuse_existing(struct nmt_port *p, const char *path, int err, const char *what)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return nmt_err(p, err, "%s: cannot %s: %s", path, what, strerror(err));
	if (st.st_uid != geteuid())
		return nmt_err(p, EACCES,
			       "%s: a %s of uid %u is in the way (not followed, not removed): "
			       "ask its owner to remove it, or set NMTOOLS_SHM_DIR to a directory "
			       "of your own",
			       path, kind_name(st.st_mode), (unsigned)st.st_uid);
	return nmt_err(p, err == ELOOP ? EEXIST : err,
		       "%s: a %s is in the way (not followed): remove it", path,
		       kind_name(st.st_mode));
}

int nmt_shm_check_fd(struct nmt_port *p, int fd, const char *path, mode_t type)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return nmt_err(p, errno, "%s: %s", path, strerror(errno));
	if (st.st_uid != geteuid())
		return nmt_err(p, EACCES,
			       "%s belongs to uid %u, not to you (uid %u): refused; ask its owner "
			       "to remove it, or set NMTOOLS_SHM_DIR to a directory of your own",
			       path, (unsigned)st.st_uid, (unsigned)geteuid());
	if ((st.st_mode & S_IFMT) != type)
		return nmt_err(p, EEXIST, "%s: a %s where a %s should be: refused (remove it)", path,
			       kind_name(st.st_mode), kind_name(type));
	if (st.st_mode & 077)
		return nmt_err(p, EACCES,
			       "%s has mode %04o: others may use it; refused (pipes are 0600; "
			       "remove it)",
			       path, (unsigned)(st.st_mode & 07777));
	if (st.st_nlink > 1)
		return nmt_err(p, EACCES, "%s has %lu hard links, not 1: refused (remove it)", path,
			       (unsigned long)st.st_nlink);
	return 0;
}

int nmt_shm_open(struct nmt_port *p, const char *path, int *created)
{
	int tries, fd;

	for (tries = 0; tries < 20; tries++) {
		fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC,
			  0600);
		*created = fd >= 0;
		if (fd < 0 && errno != EEXIST)
			return nmt_err(p, errno, "%s: cannot create shared memory: %s", path,
				       strerror(errno));
		if (fd < 0)
			fd = open(path, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0 && errno == ENOENT)
			continue; /* removed since: make it */
		if (fd < 0)
			return refuse_existing(p, path, errno, "open shared memory");
		if (nmt_shm_check_fd(p, fd, path, S_IFREG) < 0) {
			close(fd);
			return -1;
		}
		return fd;
	}
	return nmt_err(p, EAGAIN, "%s: made and removed too often meanwhile; try again", path);
}

int nmt_shm_size(struct nmt_port *p, int fd, const char *path, size_t size)
{
	/* reserved now: a full tmpfs fails here, not with SIGBUS at the first touch */
	int e = posix_fallocate(fd, 0, (off_t)size);

	if (e == EOPNOTSUPP && ftruncate(fd, (off_t)size) == 0)
		return 0;
	if (e)
		return nmt_err(p, e, "%s: cannot reserve %zu bytes of shared memory: %s", path, size,
			       strerror(e));
	return 0;
}

int nmt_shm_open_fifo(struct nmt_port *p, const char *path)
{
	int fd = open(path, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return refuse_existing(p, path, errno, "open doorbell");
	if (nmt_shm_check_fd(p, fd, path, S_IFIFO) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int nmt_shm_mkfifo(struct nmt_port *p, const char *path)
{
	if (mkfifo(path, 0600) < 0)
		return refuse_existing(p, path, errno, "make doorbell");
	return nmt_shm_open_fifo(p, path);
}

int nmt_shm_unlink(const char *path, dev_t dev, ino_t ino, mode_t type)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return -1;
	if (ino ? st.st_dev != dev || st.st_ino != ino :
		  (st.st_mode & S_IFMT) != type || st.st_uid != geteuid()) {
		errno = EPERM; /* not what we checked: not ours to remove */
		return -1;
	}
	return unlink(path);
}

/* ---- liveness --------------------------------------------------------------------- */

uint64_t nmt_shm_proc_starttime(pid_t pid)
{
	char path[64], buf[1024];
	unsigned long long st = 0;
	FILE *f;
	char *s;
	int i;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	if (!fgets(buf, sizeof(buf), f)) {
		fclose(f);
		return 0;
	}
	fclose(f);
	s = strrchr(buf, ')');
	if (!s)
		return 0;
	/* field 3 starts after ") "; starttime is field 22 */
	s += 2;
	for (i = 3; i < 22 && s; i++) {
		s = strchr(s, ' ');
		if (s)
			s++;
	}
	if (s)
		st = strtoull(s, NULL, 10);
	return st;
}

int nmt_shm_alive(pid_t pid, uint64_t starttime)
{
	if (pid <= 0)
		return 0;
	if (kill(pid, 0) < 0 && errno == ESRCH)
		return 0;
	return nmt_shm_proc_starttime(pid) == starttime;
}

int nmt_shm_owner_alive(const struct nmt_shm_owner *o)
{
	struct nmt_shm_owner c = *o; /* one read: the region is not ours alone */

	if (!c.open)
		return 0;
	return nmt_shm_alive(c.pid, c.starttime);
}

void nmt_shm_owner_claim(struct nmt_shm_owner *o)
{
	o->pid = getpid();
	o->starttime = nmt_shm_proc_starttime(getpid());
	o->open = 1;
}

void nmt_shm_owner_release(struct nmt_shm_owner *o)
{
	if (o->pid == getpid()) {
		o->open = 0;
		o->pid = 0;
	}
}

/* ---- doorbells -------------------------------------------------------------------- */

void nmt_shm_bell_ring(int fd)
{
	char c = 1;
	ssize_t rc = write(fd, &c, 1);

	(void)rc; /* EAGAIN: a wake-up is already pending */
}

void nmt_shm_bell_drain(int fd)
{
	char buf[256];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

/* ---- channels ----------------------------------------------------------------------- */

#define WORD_FLAGS_MORE ((uint64_t)NMT_NS_MOREFRAG << 48)
#define WORD_BAD_FLAGS (~(uint64_t)0 << 48 & ~WORD_FLAGS_MORE)

static inline uint32_t ctr(const struct nmt_chan_end *e, uint32_t lap, uint32_t idx)
{
	return lap * e->n + idx;
}

static inline uint32_t cdist(const struct nmt_chan_end *e, uint32_t a, uint32_t b)
{
	return a >= b ? a - b : a + e->mod - b;
}

static inline void advance(const struct nmt_chan_end *e, uint32_t *lap, uint32_t *idx, uint32_t d)
{
	*idx += d;
	if (*idx >= e->n) {
		*idx -= e->n;
		if (++*lap == NMT_CHAN_LAPS)
			*lap = 0;
	}
}

static inline uint32_t in_flight(const struct nmt_chan_end *e)
{
	return cdist(e, ctr(e, e->prod_lap, e->prod_idx), ctr(e, e->cons_lap, e->cons_idx));
}

/* a counter the other side stored: -1 unless it is whole and in range */
static inline int64_t load_ctr(const struct nmt_chan_end *e, const uint64_t *w)
{
	uint64_t v = __atomic_load_n(w, __ATOMIC_ACQUIRE);
	uint32_t c = (uint32_t)v;

	if ((uint32_t)(v >> 32) != (uint32_t)~c || c >= e->mod)
		return -1;
	return c;
}

static inline void store_ctr(uint64_t *w, uint32_t c)
{
	__atomic_store_n(w, nmt_chan_ctr(c), __ATOMIC_RELEASE);
}

void nmt_chan_format(struct nmt_shm_chan *c, uint64_t *sh, uint32_t n, uint32_t first_buf)
{
	uint32_t j;

	c->prod = c->cons = nmt_chan_ctr(0);
	c->rx_want = c->tx_want = 0;
	c->swapped = NMT_CHAN_LAPS / 2 * n; /* far from 0: nothing swapped */
	for (j = 0; j < n; j++)
		sh[j] = nmt_chan_word(first_buf + j, 0, 0);
}

int nmt_chan_init(struct nmt_chan_end *e, struct nmt_shm_chan *c, uint64_t *sh, uint32_t n,
		  uint32_t nbufs, uint32_t buf_size, char *why, size_t wl)
{
	int64_t p, q;

	e->c = c;
	e->sh = sh;
	e->n = n;
	e->nbufs = nbufs;
	e->buf_size = buf_size;
	e->mod = n * NMT_CHAN_LAPS;
	p = load_ctr(e, &c->prod);
	q = load_ctr(e, &c->cons);
	if (p < 0 || q < 0 || cdist(e, (uint32_t)p, (uint32_t)q) >= n) {
		snprintf(why, wl, "counters prod %#llx cons %#llx, a ring of %u slots",
			 (unsigned long long)c->prod, (unsigned long long)c->cons, n);
		return -1;
	}
	e->prod_lap = (uint32_t)p / n;
	e->prod_idx = (uint32_t)p - e->prod_lap * n;
	e->cons_lap = (uint32_t)q / n;
	e->cons_idx = (uint32_t)q - e->cons_lap * n;
	return 0;
}

void nmt_chan_tx_ring(const struct nmt_chan_end *e, struct nmt_ring *r)
{
	uint32_t j;

	/* the buffers of the free slots are where the channel says (checked here) */
	for (j = 0; j < e->n; j++) {
		struct nmt_slot *s = nmt_slot(r, j);
		uint32_t bi = (uint32_t)__atomic_load_n(&e->sh[j], __ATOMIC_RELAXED);

		s->buf_idx = bi < e->nbufs ? bi : 0;
		s->len = 0;
		s->flags = NMT_NS_BUF_CHANGED;
	}
	r->head = r->cur = e->prod_idx;
	r->tail = nmt_idx_prev(e->cons_idx, e->n);
}

void nmt_chan_rx_ring(struct nmt_chan_end *e, struct nmt_ring *r)
{
	/* what is in flight is fetched (and checked) by the first rxsync */
	e->prod_idx = e->cons_idx;
	e->prod_lap = e->cons_lap;
	r->head = r->cur = r->tail = e->cons_idx;
}

/* the first 8 bytes of a slot (buf_idx, len, flags) as a channel word */
static inline uint64_t slot_word(const struct nmt_slot *s)
{
	uint64_t w;

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	memcpy(&w, s, sizeof(w));
#else
	w = nmt_chan_word(s->buf_idx, s->len, s->flags);
#endif
	return w;
}

static inline void set_slot_word(struct nmt_slot *s, uint64_t w)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	memcpy(s, &w, sizeof(w));
#else
	s->buf_idx = (uint32_t)w;
	s->len = (uint16_t)(w >> 32);
	s->flags = (uint16_t)(w >> 48);
#endif
}

#define WORD_LEN(w) ((uint32_t)((w) >> 32) & 0xffff)

#if defined(__GNUC__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ && !defined(NMT_NO_VECTORS)
#define VECTORS 1 /* two slot words at a time (SSE2 / NEON; the compiler's generic vectors) */
typedef uint64_t v2u64 __attribute__((vector_size(16)));
typedef uint32_t v4u32 __attribute__((vector_size(16)));
#endif

/* ring slots [a, b) into the channel; nonzero if one is bad. Only a slot that changed is
 * written, and checked: an unchanged one was checked when it was written (a resending
 * sender leaves the lines shared in both caches) */
static uint32_t publish_slow(uint64_t *sh, const struct nmt_slot *sl, uint32_t a, uint32_t b,
			     uint32_t nbufs, uint32_t bsz)
{
	uint32_t bad = 0, j;

	for (j = a; j < b; j++) {
		uint64_t w = slot_word(&sl[j]) & ~WORD_BAD_FLAGS;

		if (__atomic_load_n(&sh[j], __ATOMIC_RELAXED) != w) {
			uint32_t x = ((uint32_t)w >= nbufs) | (WORD_LEN(w) > bsz);

			bad |= x;
			if (!x) /* a bad one never gets there: what is there was checked */
				__atomic_store_n(&sh[j], w, __ATOMIC_RELAXED);
		}
	}
	return bad;
}

static inline uint32_t publish_seg(uint64_t *sh, const struct nmt_slot *sl, uint32_t a, uint32_t b,
				   uint32_t nbufs, uint32_t bsz)
{
	const struct nmt_slot *p = sl + a;
	const uint64_t *q = sh + a;
	uint64_t diff = 0;
	uint32_t j = a;

	/* what changed? (four at a time; a re-read of the channel only decides whether to
	 * write) */
#ifdef VECTORS
	const v2u64 keep = { ~WORD_BAD_FLAGS, ~WORD_BAD_FLAGS };
	v2u64 d0 = { 0, 0 }, d1 = { 0, 0 };

	for (; j + 4 <= b; j += 4, p += 4, q += 4) {
		v2u64 x0, x1;

		memcpy(&x0, q, sizeof(x0));
		memcpy(&x1, q + 2, sizeof(x1));
		d0 |= ((v2u64){ slot_word(p), slot_word(p + 1) } & keep) ^ x0;
		d1 |= ((v2u64){ slot_word(p + 2), slot_word(p + 3) } & keep) ^ x1;
	}
	d0 |= d1;
	diff = d0[0] | d0[1];
#endif
	for (; j < b; j++, p++, q++)
		diff |= (slot_word(p) & ~WORD_BAD_FLAGS) ^ *q;
	if (__builtin_expect(diff != 0, 0))
		return publish_slow(sh, sl, a, b, nbufs, bsz);
	return 0;
}

/* channel slots [a, b) into the ring, checked as copied: each word is loaded once, and
 * what is checked is what the loops get. Nonzero if one is bad. A word is bad when its
 * buffer is >= nbufs, or (len | flags << 16) with NS_MOREFRAG masked out is > buf_size
 * (a length beyond a buffer, or any other flag). */
#define LF_MASK (~((uint32_t)NMT_NS_MOREFRAG << 16))

static uint64_t fetch_copy(const uint64_t *sh, struct nmt_slot *sl, uint32_t a, uint32_t b,
			   uint32_t nbufs, uint32_t bsz)
{
	uint64_t bad = 0;
	uint32_t j = a;
#ifdef VECTORS
	const v4u32 m = { ~0u, LF_MASK, ~0u, LF_MASK }, lim = { nbufs - 1, bsz, nbufs - 1, bsz };
	v4u32 b4 = { 0, 0, 0, 0 };

	for (; j + 2 <= b; j += 2) {
		uint64_t w0 = __atomic_load_n(&sh[j], __ATOMIC_RELAXED);
		uint64_t w1 = __atomic_load_n(&sh[j + 1], __ATOMIC_RELAXED);

		b4 |= (v4u32)(((v4u32)(v2u64){ w0, w1 } & m) > lim);
		set_slot_word(&sl[j], w0);
		set_slot_word(&sl[j + 1], w1);
	}
	bad = b4[0] | b4[1] | b4[2] | b4[3];
#endif
	for (; j < b; j++) {
		uint64_t w = __atomic_load_n(&sh[j], __ATOMIC_RELAXED);

		bad |= ((uint32_t)w > nbufs - 1) | (((uint32_t)(w >> 32) & LF_MASK) > bsz);
		set_slot_word(&sl[j], w);
	}
	return bad;
}

/*
 * A sender that resends the same buffers hands over, lap after lap, the very words the
 * ring's slots already hold: those were checked when they were copied (a bad copy breaks
 * the port for good, so it is never compared again), so an equal word needs no check and
 * no copy. Only when something differs are the slots copied and checked.
 */
static inline uint64_t fetch_seg(const uint64_t *sh, struct nmt_slot *sl, uint32_t a, uint32_t b,
				 uint32_t nbufs, uint32_t bsz)
{
	const struct nmt_slot *p = sl + a;
	const uint64_t *q = sh + a;
	uint64_t d0 = 0, d1 = 0;
	uint32_t j = a;

	for (; j + 4 <= b; j += 4, p += 4, q += 4) {
		d0 |= (__atomic_load_n(q, __ATOMIC_RELAXED) ^ slot_word(p)) |
		      (__atomic_load_n(q + 1, __ATOMIC_RELAXED) ^ slot_word(p + 1));
		d1 |= (__atomic_load_n(q + 2, __ATOMIC_RELAXED) ^ slot_word(p + 2)) |
		      (__atomic_load_n(q + 3, __ATOMIC_RELAXED) ^ slot_word(p + 3));
	}
	for (; j < b; j++, p++, q++)
		d0 |= __atomic_load_n(q, __ATOMIC_RELAXED) ^ slot_word(p);
	if (__builtin_expect((d0 | d1) != 0, 0))
		return fetch_copy(sh, sl, a, b, nbufs, bsz);
	return 0;
}

/* the OR of the flags of ring slots [a, b) */
static inline uint32_t flags_seg(const struct nmt_slot *sl, uint32_t a, uint32_t b)
{
	const struct nmt_slot *p = sl + a;
	uint32_t f = 0, j = a;
#ifdef VECTORS
	v2u64 a0 = { 0, 0 }, a1 = { 0, 0 };

	for (; j + 4 <= b; j += 4, p += 4) {
		v2u64 s0, s1, s2, s3;

		memcpy(&s0, p, sizeof(s0));
		memcpy(&s1, p + 1, sizeof(s1));
		memcpy(&s2, p + 2, sizeof(s2));
		memcpy(&s3, p + 3, sizeof(s3));
		a0 |= s0 | s1;
		a1 |= s2 | s3;
	}
	a0 |= a1;
	f = (uint32_t)(a0[0] >> 48);
#endif
	for (; j < b; j++, p++)
		f |= p->flags;
	return f;
}

/* for each stretch of `d` slots from `idx` in a ring of n: f(a, b) */
#define FOR_STRETCH(idx, d, n, a, b)                                                   \
	for (uint32_t a = (idx), left_ = (d), b; left_ && (b = left_ < (n) - a ? a + left_ : (n), 1); \
	     left_ -= b - a, a = 0)

static void bad_slot(const struct nmt_ring *r, uint32_t idx, uint32_t d, uint32_t nbufs,
		     uint32_t bsz, int flags, char *why, size_t wl)
{
	uint32_t k;

	for (k = 0; k < d; k++, idx = nmt_ring_next(r, idx)) {
		const struct nmt_slot *s = nmt_slot((struct nmt_ring *)r, idx);

		if (s->buf_idx >= nbufs) {
			snprintf(why, wl, "slot %u: buffer %u, the region has %u", idx, s->buf_idx,
				 nbufs);
			return;
		}
		if (s->len > bsz) {
			snprintf(why, wl, "slot %u: length %u, buffers hold %u", idx, s->len, bsz);
			return;
		}
		if (flags && (s->flags & ~NMT_NS_MOREFRAG)) {
			snprintf(why, wl, "slot %u: flags %#x", idx, s->flags);
			return;
		}
	}
	snprintf(why, wl, "slots changed while being read");
}

int nmt_chan_publish(struct nmt_chan_end *e, struct nmt_ring *r, char *why, size_t wl)
{
	uint32_t head = r->head, n = e->n, idx = e->prod_idx, d, bad = 0;
	const struct nmt_slot *slots = nmt_slot(r, 0);

	if (head >= n) {
		snprintf(why, wl, "head %u out of range (%u slots)", head, n);
		return -1;
	}
	d = nmt_idx_dist(idx, head, n);
	if (d == 0)
		return 0;
	if (d > n - 1 - in_flight(e)) {
		snprintf(why, wl, "head %u moved past tail %u", head, r->tail);
		return -1;
	}
	FOR_STRETCH(idx, d, n, a, b)
		bad |= publish_seg(e->sh, slots, a, b, e->nbufs, e->buf_size);
	if (bad) { /* nothing is published */
		bad_slot(r, idx, d, e->nbufs, e->buf_size, 0, why, wl);
		return -1;
	}
	advance(e, &e->prod_lap, &e->prod_idx, d);
	store_ctr(&e->c->prod, ctr(e, e->prod_lap, e->prod_idx));
	return 1;
}

int nmt_chan_reclaim(struct nmt_chan_end *e, struct nmt_ring *r, char *why, size_t wl)
{
	int64_t q = load_ctr(e, &e->c->cons);
	uint32_t cons = ctr(e, e->cons_lap, e->cons_idx), n = e->n, nbufs = e->nbufs;
	uint32_t d, sw;

	if (q == cons)
		return 0;
	if (q < 0 || (d = cdist(e, (uint32_t)q, cons)) > in_flight(e)) {
		snprintf(why, wl, "cons moved from %u to %#llx with %u slots in flight", cons,
			 (unsigned long long)__atomic_load_n(&e->c->cons, __ATOMIC_RELAXED),
			 in_flight(e));
		return -1;
	}
	/* buffers swapped by the receiver come back (read after cons: see release) */
	sw = __atomic_load_n(&e->c->swapped, __ATOMIC_ACQUIRE);
	if (__builtin_expect(sw < e->mod && cdist(e, sw, cons) - 1 < n, 0)) {
		struct nmt_slot *slots = nmt_slot(r, 0);

		FOR_STRETCH(e->cons_idx, d, n, a, b)
			for (uint32_t j = a; j < b; j++) {
				uint32_t bi = (uint32_t)__atomic_load_n(&e->sh[j], __ATOMIC_RELAXED);

				if (bi == slots[j].buf_idx)
					continue;
				if (bi >= nbufs) {
					snprintf(why, wl, "slot %u: buffer %u given back, the region "
							  "has %u", j, bi, nbufs);
					return -1;
				}
				slots[j].buf_idx = bi;
				slots[j].flags |= NMT_NS_BUF_CHANGED;
			}
	}
	advance(e, &e->cons_lap, &e->cons_idx, d);
	r->tail = nmt_idx_prev(e->cons_idx, n);
	return 0;
}

int nmt_chan_release(struct nmt_chan_end *e, struct nmt_ring *r, char *why, size_t wl)
{
	uint32_t head = r->head, n = e->n, idx = e->cons_idx, d, changed = 0;
	struct nmt_slot *slots = nmt_slot(r, 0);

	if (head >= n) {
		snprintf(why, wl, "head %u out of range (%u slots)", head, n);
		return -1;
	}
	d = nmt_idx_dist(idx, head, n);
	if (d == 0)
		return 0;
	if (d > in_flight(e)) {
		snprintf(why, wl, "head %u moved past tail %u", head, r->tail);
		return -1;
	}
	FOR_STRETCH(idx, d, n, a, b)
		changed |= flags_seg(slots, a, b);
	if (__builtin_expect(changed & NMT_NS_BUF_CHANGED, 0)) {
		FOR_STRETCH(idx, d, n, a, b)
			for (uint32_t j = a; j < b; j++) {
				uint64_t w = __atomic_load_n(&e->sh[j], __ATOMIC_RELAXED);
				uint32_t bi = slots[j].buf_idx;

				if (!(slots[j].flags & NMT_NS_BUF_CHANGED) || bi == (uint32_t)w)
					continue;
				if (bi >= e->nbufs) {
					snprintf(why, wl, "slot %u: buffer %u, the region has %u", j,
						 bi, e->nbufs);
					return -1;
				}
				/* the user swapped it: the other buffer goes back */
				__atomic_store_n(&e->sh[j], (w & ~(uint64_t)0xffffffff) | bi,
						 __ATOMIC_RELAXED);
			}
	}
	advance(e, &e->cons_lap, &e->cons_idx, d);
	if (changed & NMT_NS_BUF_CHANGED) /* before cons: the sender reads it after */
		__atomic_store_n(&e->c->swapped, ctr(e, e->cons_lap, e->cons_idx),
				 __ATOMIC_RELEASE);
	store_ctr(&e->c->cons, ctr(e, e->cons_lap, e->cons_idx));
	return 1;
}

int nmt_chan_fetch(struct nmt_chan_end *e, struct nmt_ring *r, char *why, size_t wl)
{
	int64_t q = load_ctr(e, &e->c->prod);
	uint32_t prod = ctr(e, e->prod_lap, e->prod_idx), cons = ctr(e, e->cons_lap, e->cons_idx);
	uint32_t n = e->n, avail, have, d;
	struct nmt_slot *slots = nmt_slot(r, 0);
	uint64_t bad = 0;

	if (q == prod)
		return 0;
	have = cdist(e, prod, cons);
	if (q < 0 || (avail = cdist(e, (uint32_t)q, cons)) >= n || avail < have) {
		snprintf(why, wl, "prod moved from %u to %#llx, the ring has %u slots from %u", prod,
			 (unsigned long long)__atomic_load_n(&e->c->prod, __ATOMIC_RELAXED), n,
			 cons);
		return -1;
	}
	d = avail - have;
	FOR_STRETCH(e->prod_idx, d, n, a, b)
		bad |= fetch_seg(e->sh, slots, a, b, e->nbufs, e->buf_size);
	if (__builtin_expect(bad != 0, 0)) {
		bad_slot(r, e->prod_idx, d, e->nbufs, e->buf_size, 1, why, wl);
		return -1;
	}
	advance(e, &e->prod_lap, &e->prod_idx, d);
	r->tail = e->prod_idx;
	return 0;
}

int nmt_chan_tx_ready(const struct nmt_chan_end *e, const struct nmt_ring *r)
{
	return r->head != r->tail ||
	       load_ctr(e, &e->c->cons) != ctr(e, e->cons_lap, e->cons_idx);
}

int nmt_chan_rx_ready(const struct nmt_chan_end *e, const struct nmt_ring *r)
{
	return r->head != r->tail ||
	       load_ctr(e, &e->c->prod) != ctr(e, e->prod_lap, e->prod_idx);
}
