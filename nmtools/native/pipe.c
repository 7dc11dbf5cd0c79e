/*
 * pipe.c - netmap pipes in shared memory between processes of one user.
 *
 * The region (a file of the user's, mode 0600; made and checked by shm.c)
 * holds a header, one channel per direction and ring (shm.h: counters and a
 * slot array) and all buffers. Each end keeps its rings in private memory:
 * txsync copies the slots the user filled into the channel, rxsync copies
 * new slots out of it, and both check every counter, buffer index and length
 * the other side wrote. Buffers are shared and never copied (zero copy); a
 * user may swap buf_idx in a slot it owns (NS_BUF_CHANGED), and the buffer
 * then travels with the slot. A peer that breaks the protocol marks the port
 * broken: every later sync fails with one line that says what it did.
 *
 * Sleeping: each end has one doorbell FIFO per ring (shm.h). A waiter sets a
 * want flag in the channel, re-checks, and polls its FIFO; the other side
 * writes one byte to it only when the flag is set, so the fast path makes no
 * system call, and a thread that owns ring i sleeps on ring i's doorbell alone. With
 * several rings p->fd is an epoll set over the end's doorbells.
 *
 * Liveness: each end records the pid and start time of its opener (struct
 * nmt_shm_owner, shm.h). A region whose ends are all closed or dead is
 * removed by the next open or probe.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nmt.h"
#include "shm.h"

#define PIPE_MAGIC 0x657069702d746d6eull /* "nmt-pipe" */
#define PIPE_VERSION 3 /* 3: private rings, checked channels (shm.h), a doorbell per ring */
#define PIPE_MAX_SLOTS 32768
#define PIPE_WHY 200

/* the header: magic..size and end[] keep version 2's offsets, so any version
 * can tell whether an end of another version's pipe is alive */
struct pipe_hdr {
	uint64_t magic;
	uint32_t version;
	uint32_t ready;
	uint32_t nrings, nslots, buf_size, nbufs;
	uint64_t chans_ofs, resv, slots_ofs, bufs_ofs, size;
	struct nmt_shm_owner end[2]; /* who opened each end */
};

/* where everything is: computed from the geometry, never read from the region */
struct pipe_layout {
	uint32_t nrings, nslots, buf_size, nbufs;
	size_t chans_ofs, slots_ofs, bufs_ofs, size;
};

struct pipe_priv {
	struct pipe_hdr *h;
	size_t size;
	int end;
	int lockfd;
	struct stat st; /* of the region: what may be removed */
	int epfd;       /* p->fd with several rings */
	struct pipe_layout lay;
	int bell[NMT_MAX_RINGS]; /* this end's doorbells (read) */
	int peer[NMT_MAX_RINGS]; /* the other end's (written) */
	struct nmt_chan_end tx[NMT_MAX_RINGS], rx[NMT_MAX_RINGS];
	int broken;
	char why[NMT_ERRLEN];
	char path[256];
};

static int layout(struct pipe_layout *l, uint32_t nrings, uint32_t nslots, uint32_t buf_size)
{
	if (nrings < 1 || nrings > NMT_MAX_RINGS || nslots < 4 || nslots > PIPE_MAX_SLOTS ||
	    buf_size < 64 || buf_size > 65535)
		return -1;
	l->nrings = nrings;
	l->nslots = nslots;
	l->buf_size = buf_size;
	l->nbufs = 2 * nrings * nslots;
	l->chans_ofs = (sizeof(struct pipe_hdr) + 63) & ~(size_t)63;
	l->slots_ofs = l->chans_ofs + 2 * (size_t)nrings * sizeof(struct nmt_shm_chan);
	l->bufs_ofs = (l->slots_ofs + (size_t)l->nbufs * sizeof(uint64_t) + 4095) & ~(size_t)4095;
	l->size = l->bufs_ofs + (size_t)l->nbufs * buf_size;
	return 0;
}

/* channel of direction from_end -> other end, ring ri, and its slot words */
static struct nmt_shm_chan *chan(void *h, const struct pipe_layout *l, int from_end, unsigned ri)
{
	return (struct nmt_shm_chan *)((char *)h + l->chans_ofs) + from_end * l->nrings + ri;
}

static uint64_t *chan_slots(void *h, const struct pipe_layout *l, int from_end, unsigned ri)
{
	return (uint64_t *)((char *)h + l->slots_ofs) +
	       ((size_t)from_end * l->nrings + ri) * l->nslots;
}

static int fifo_path(char *out, size_t len, const char *path, int end, unsigned ring)
{
	int n = snprintf(out, len, "%s.fifo%d.%u", path, end, ring);

	return n > 0 && (size_t)n < len ? 0 : -1;
}

/*
 * Remove the region (if path still names the inode st describes) and its
 * doorbells (FIFOs of ours; the ones this end opened must be those it holds).
 * Called with the region locked, so no other opener is making them anew.
 */
static void unlink_all(const char *path, const struct stat *st, const struct pipe_priv *pp)
{
	char f[300];
	unsigned ri;
	int e;

	if (nmt_shm_unlink(path, st->st_dev, st->st_ino, S_IFREG) < 0)
		return; /* not ours (any more): neither are the FIFOs next to it */
	for (e = 0; e < 2; e++)
		for (ri = 0; ri < NMT_MAX_RINGS; ri++) {
			const int *fds = pp ? (e == pp->end ? pp->bell : pp->peer) : NULL;
			struct stat fs;

			if (fifo_path(f, sizeof(f), path, e, ri) < 0)
				break;
			if (fds && ri < pp->lay.nrings && fds[ri] >= 0 && fstat(fds[ri], &fs) == 0) {
				nmt_shm_unlink(f, fs.st_dev, fs.st_ino, S_IFIFO);
				continue;
			}
			if (nmt_shm_unlink(f, 0, 0, S_IFIFO) < 0 && errno == ENOENT)
				break; /* made in ring order: the rest do not exist */
		}
}

static int broken_err(struct nmt_port *p)
{
	struct pipe_priv *pp = p->priv;

	while (__atomic_load_n(&pp->broken, __ATOMIC_ACQUIRE) != 2)
		nmt_cpu_relax(); /* another thread is still writing why */
	return nmt_err(p, EPROTO, "%s", pp->why);
}

/* the first breach wins (several threads may see one); the port stays broken */
static int mark_broken(struct nmt_port *p, const char *dir, unsigned ri, const char *what)
{
	struct pipe_priv *pp = p->priv;
	int was = 0;

	if (__atomic_compare_exchange_n(&pp->broken, &was, 1, 0, __ATOMIC_ACQ_REL,
					__ATOMIC_ACQUIRE)) {
		snprintf(pp->why, sizeof(pp->why),
			 "%.127s: the other end broke the pipe protocol (%s ring %u, %.110s); "
			 "reopen the pipe", p->name[0] ? p->name : pp->path, dir, ri, what);
		__atomic_store_n(&pp->broken, 2, __ATOMIC_RELEASE);
	}
	return broken_err(p);
}

static int pipe_txsync(struct nmt_port *p, unsigned ri)
{
	struct pipe_priv *pp = p->priv;
	struct nmt_chan_end *ce = &pp->tx[ri];
	struct nmt_ring *r = p->tx_rings[ri];
	char why[PIPE_WHY];
	int rc;

	if (__builtin_expect(__atomic_load_n(&pp->broken, __ATOMIC_ACQUIRE) != 0, 0))
		return broken_err(p);
	rc = nmt_chan_tx_sync(ce, r, pp->peer[ri], why, sizeof(why));
	if (rc == NMT_CHAN_BROKEN)
		return mark_broken(p, "tx", ri, why);
	p->txk[ri].hwtail = r->tail;
	if (rc < 0)
		return nmt_err(p, EINVAL, "%s: tx ring %u %s", p->name, ri, why);
	p->txk[ri].hwcur = ce->prod_idx;
	return 0;
}

static int pipe_rxsync(struct nmt_port *p, unsigned ri)
{
	struct pipe_priv *pp = p->priv;
	struct nmt_chan_end *ce = &pp->rx[ri];
	struct nmt_ring *r = p->rx_rings[ri];
	char why[PIPE_WHY];
	int rc;

	if (__builtin_expect(__atomic_load_n(&pp->broken, __ATOMIC_ACQUIRE) != 0, 0))
		return broken_err(p);
	rc = nmt_chan_rx_sync(ce, r, pp->peer[ri], why, sizeof(why));
	if (rc == NMT_CHAN_BROKEN)
		return mark_broken(p, "rx", ri, why);
	p->rxk[ri].hwtail = r->tail;
	if (rc < 0)
		return nmt_err(p, EINVAL, "%s: rx ring %u %s", p->name, ri, why);
	p->rxk[ri].hwcur = ce->cons_idx;
	return 0;
}

static void set_want(struct nmt_port *p, int ring, int events, uint32_t v)
{
	struct pipe_priv *pp = p->priv;
	uint32_t i, first, last;

	nmt_rings_span(ring, p->num_rx_rings, &first, &last);
	if (events & NMT_WAIT_RX)
		for (i = first; i < last; i++)
			__atomic_store_n(&pp->rx[i].c->rx_want, v, __ATOMIC_RELAXED);
	nmt_rings_span(ring, p->num_tx_rings, &first, &last);
	if (events & NMT_WAIT_TX)
		for (i = first; i < last; i++)
			__atomic_store_n(&pp->tx[i].c->tx_want, v, __ATOMIC_RELAXED);
}

static int pipe_ready(struct nmt_port *p, int ring, int events)
{
	struct pipe_priv *pp = p->priv;
	uint32_t i, first, last;

	nmt_rings_span(ring, p->num_rx_rings, &first, &last);
	if (events & NMT_WAIT_RX)
		for (i = first; i < last; i++)
			if (nmt_chan_rx_ready(&pp->rx[i], p->rx_rings[i]))
				return 1;
	nmt_rings_span(ring, p->num_tx_rings, &first, &last);
	if (events & NMT_WAIT_TX)
		for (i = first; i < last; i++)
			if (nmt_chan_tx_ready(&pp->tx[i], p->tx_rings[i]))
				return 1;
	return 0;
}

static int pipe_arm(struct nmt_port *p, int ring, int events)
{
	struct pipe_priv *pp = p->priv;

	if (__atomic_load_n(&pp->broken, __ATOMIC_ACQUIRE))
		return broken_err(p);
	set_want(p, ring, events, 1);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (pipe_ready(p, ring, events)) {
		set_want(p, ring, events, 0);
		return 1;
	}
	return 0;
}

static void pipe_disarm(struct nmt_port *p, int ring, int events)
{
	struct pipe_priv *pp = p->priv;
	uint32_t i, first, last;

	set_want(p, ring, events, 0);
	nmt_rings_span(ring, pp->lay.nrings, &first, &last);
	for (i = first; i < last; i++)
		nmt_shm_bell_drain(pp->bell[i]);
}

static int pipe_wait_fd(struct nmt_port *p, int ring, short *poll_rx, short *poll_tx)
{
	struct pipe_priv *pp = p->priv;

	*poll_rx = *poll_tx = POLLIN;
	if (ring < 0 || (uint32_t)ring >= pp->lay.nrings)
		return p->fd;
	return pp->bell[ring];
}

static int pipe_tx_pending(struct nmt_port *p, int ring)
{
	uint32_t i, first, last;

	nmt_rings_span(ring, p->num_tx_rings, &first, &last);
	for (i = first; i < last; i++)
		if (p->tx_rings[i]->head != p->txk[i].hwcur)
			return 1;
	return 0;
}

static void close_fds(struct pipe_priv *pp)
{
	unsigned i;

	for (i = 0; i < NMT_MAX_RINGS; i++) {
		if (pp->bell[i] >= 0)
			close(pp->bell[i]);
		if (pp->peer[i] >= 0)
			close(pp->peer[i]);
		pp->bell[i] = pp->peer[i] = -1;
	}
}

static void pipe_close(struct nmt_port *p)
{
	struct pipe_priv *pp = p->priv;

	if (!pp)
		return;
	if (pp->h) {
		if (pp->lockfd >= 0)
			flock(pp->lockfd, LOCK_EX);
		nmt_shm_owner_release(&pp->h->end[pp->end]);
		if (!nmt_shm_owner_alive(&pp->h->end[1 - pp->end]))
			unlink_all(pp->path, &pp->st, pp);
		munmap(pp->h, pp->size);
	}
	/* p->fd is the epoll set, or bell[0] (closed here, not by nmt_port_close) */
	if (p->fd >= 0 && p->fd != pp->epfd)
		p->fd = -1;
	close_fds(pp);
	if (pp->lockfd >= 0)
		close(pp->lockfd); /* drops the lock */
	free(pp);
	p->priv = NULL;
	memset(p->tx_rings, 0, sizeof(p->tx_rings));
	memset(p->rx_rings, 0, sizeof(p->rx_rings));
}

static const struct nmt_ops pipe_ops = {
	.name = "pipe",
	.txsync = pipe_txsync,
	.rxsync = pipe_rxsync,
	.arm = pipe_arm,
	.disarm = pipe_disarm,
	.tx_pending = pipe_tx_pending,
	.wait_fd = pipe_wait_fd,
	.close = pipe_close,
};

/* make the region in fd (ours, empty, locked): header, channels, doorbells */
static int init_region(struct nmt_port *p, int fd, const char *path, const struct pipe_layout *l)
{
	struct pipe_hdr *h;
	char f[300];
	unsigned ri;
	int e;

	if (nmt_shm_size(p, fd, path, l->size) < 0)
		return -1;
	h = mmap(NULL, l->bufs_ofs, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (h == MAP_FAILED)
		return nmt_err(p, errno, "%s: mmap: %s", path, strerror(errno));
	h->magic = PIPE_MAGIC;
	h->version = PIPE_VERSION;
	h->nrings = l->nrings;
	h->nslots = l->nslots;
	h->buf_size = l->buf_size;
	h->nbufs = l->nbufs;
	h->chans_ofs = l->chans_ofs;
	h->slots_ofs = l->slots_ofs;
	h->bufs_ofs = l->bufs_ofs;
	h->size = l->size;
	for (e = 0; e < 2; e++)
		for (ri = 0; ri < l->nrings; ri++)
			nmt_chan_format(chan(h, l, e, ri), chan_slots(h, l, e, ri), l->nslots,
					((uint32_t)e * l->nrings + ri) * l->nslots);
	for (e = 0; e < 2; e++)
		for (ri = 0; ri < l->nrings; ri++) {
			int ffd;

			if (fifo_path(f, sizeof(f), path, e, ri) < 0) {
				munmap(h, l->bufs_ofs);
				return nmt_err(p, ENAMETOOLONG, "%s: path too long", path);
			}
			ffd = nmt_shm_mkfifo(p, f);
			if (ffd < 0) {
				munmap(h, l->bufs_ofs);
				return -1;
			}
			close(ffd);
		}
	__atomic_store_n(&h->ready, 1, __ATOMIC_RELEASE);
	munmap(h, l->bufs_ofs);
	return 0;
}

/* doorbells and the epoll set over them */
static int open_bells(struct nmt_port *p, struct pipe_priv *pp)
{
	char f[300];
	unsigned ri;
	int e;

	for (e = 0; e < 2; e++)
		for (ri = 0; ri < pp->lay.nrings; ri++) {
			int fd;

			if (fifo_path(f, sizeof(f), pp->path, e, ri) < 0)
				return nmt_err(p, ENAMETOOLONG, "%s: path too long", pp->path);
			fd = nmt_shm_open_fifo(p, f);
			if (fd < 0)
				return -1;
			if (e == pp->end) {
				pp->bell[ri] = fd;
				nmt_shm_bell_drain(fd);
			} else {
				pp->peer[ri] = fd;
			}
		}
	if (pp->lay.nrings == 1) {
		p->fd = pp->bell[0];
		return 0;
	}
	pp->epfd = p->fd = epoll_create1(EPOLL_CLOEXEC);
	if (p->fd < 0)
		return nmt_err(p, errno, "epoll_create1: %s", strerror(errno));
	for (ri = 0; ri < pp->lay.nrings; ri++) {
		struct epoll_event ev = { .events = EPOLLIN, .data.u32 = ri };

		if (epoll_ctl(p->fd, EPOLL_CTL_ADD, pp->bell[ri], &ev) < 0)
			return nmt_err(p, errno, "epoll_ctl: %s", strerror(errno));
	}
	return 0;
}

/* the region's header says what it is; 1 usable, 0 stale (remove), -1 refused */
static int check_header(struct nmt_port *p, struct pipe_priv *pp, const struct pipe_hdr *hh,
			size_t fsize, int created)
{
	struct pipe_hdr h = *hh; /* one read */
	int alive = nmt_shm_owner_alive(&hh->end[0]) || nmt_shm_owner_alive(&hh->end[1]);

	if (h.magic != PIPE_MAGIC || !h.ready)
		return 0; /* half made by a process that died (we hold the lock) */
	if (h.version != PIPE_VERSION) {
		if (!alive)
			return 0;
		return nmt_err(p, EPROTO, "%s: made by another version of nmtools (pipe version "
					  "%u, this is %u) that still uses it; close it there",
			       pp->path, h.version, PIPE_VERSION);
	}
	if (layout(&pp->lay, h.nrings, h.nslots, h.buf_size) < 0 || pp->lay.size != fsize ||
	    h.size != fsize) {
		if (!alive)
			return 0;
		return nmt_err(p, EPROTO, "%s: a pipe region of impossible geometry (%u rings, %u "
					  "slots, %u-byte buffers, %zu bytes); close its users",
			       pp->path, h.nrings, h.nslots, h.buf_size, fsize);
	}
	if (!created && !alive)
		return 0; /* left by dead processes: start afresh */
	return 1;
}

static void setup_rings(struct nmt_port *p, struct pipe_priv *pp)
{
	unsigned ri;

	for (ri = 0; ri < p->num_tx_rings; ri++) {
		nmt_chan_tx_ring(&pp->tx[ri], p->tx_rings[ri]);
		p->txk[ri].hwcur = p->tx_rings[ri]->head;
		p->txk[ri].hwtail = p->tx_rings[ri]->tail;
	}
	for (ri = 0; ri < p->num_rx_rings; ri++) {
		nmt_chan_rx_ring(&pp->rx[ri], p->rx_rings[ri]);
		p->rxk[ri].hwcur = p->rxk[ri].hwtail = p->rx_rings[ri]->head;
	}
}

static int give_up(struct nmt_port *p, struct pipe_priv *pp)
{
	int e = errno;

	if (pp->h)
		munmap(pp->h, pp->size);
	pp->h = NULL; /* close leaves the region alone */
	errno = e;
	(void)p;
	return -1;
}

int nmt_pipe_open(struct nmt_port *p, const struct nmt_open_req *req)
{
	uint32_t nrings = req->tx_rings > req->rx_rings ? req->tx_rings : req->rx_rings;
	uint32_t nslots = req->tx_slots > req->rx_slots ? req->tx_slots : req->rx_slots;
	uint32_t buf_size = req->buf_size ? req->buf_size : 2048;
	const char *name = p->name[0] ? p->name : req->path;
	struct pipe_layout want;
	struct pipe_priv *pp;
	struct pipe_hdr *h = NULL;
	int attempt, created, e = req->pipe_end ? 1 : 0;
	char why[PIPE_WHY];
	unsigned ri, i;

	if (nrings > NMT_MAX_RINGS)
		return nmt_err(p, EINVAL, "%s: %u rings requested, a pipe has at most %d", name,
			       nrings, NMT_MAX_RINGS);
	if (nslots && (nslots < 4 || nslots > PIPE_MAX_SLOTS))
		return nmt_err(p, EINVAL, "%s: %u slots requested, use 4 to %d", name, nslots,
			       PIPE_MAX_SLOTS);
	if (layout(&want, nrings ? nrings : 1, nslots ? nslots : 1024, buf_size) < 0)
		return nmt_err(p, EINVAL, "%s: buffer size %u out of range [64, 65535]", name,
			       buf_size);
	pp = calloc(1, sizeof(*pp));
	if (!pp)
		return nmt_err(p, ENOMEM, "out of memory");
	pp->lockfd = pp->epfd = -1;
	for (i = 0; i < NMT_MAX_RINGS; i++)
		pp->bell[i] = pp->peer[i] = -1;
	pp->end = e;
	snprintf(pp->path, sizeof(pp->path), "%s", req->path);
	p->priv = pp;
	p->ops = &pipe_ops;
	for (attempt = 0; attempt < 20 && !h; attempt++) {
		int fd = nmt_shm_open(p, req->path, &created), ok;

		if (fd < 0)
			return -1;
		if (flock(fd, LOCK_EX) < 0 || fstat(fd, &pp->st) < 0) {
			int err = errno;

			close(fd);
			return nmt_err(p, err, "%s: %s", req->path, strerror(err));
		}
		if (pp->st.st_nlink == 0) { /* removed by a reaper meanwhile */
			close(fd);
			continue;
		}
		created = pp->st.st_size == 0; /* whoever locks an empty one first makes it */
		if (created && init_region(p, fd, req->path, &want) < 0) {
			int err = errno;

			unlink_all(req->path, &pp->st, NULL);
			close(fd);
			errno = err;
			return -1;
		}
		if (fstat(fd, &pp->st) < 0 || (size_t)pp->st.st_size < sizeof(struct pipe_hdr)) {
			unlink_all(req->path, &pp->st, NULL);
			close(fd);
			continue;
		}
		h = mmap(NULL, sizeof(*h), PROT_READ, MAP_SHARED, fd, 0);
		if (h == MAP_FAILED) {
			int err = errno;

			close(fd);
			return nmt_err(p, err, "%s: mmap: %s", req->path, strerror(err));
		}
		ok = check_header(p, pp, h, (size_t)pp->st.st_size, created);
		munmap(h, sizeof(*h));
		h = NULL;
		if (ok < 0) {
			close(fd);
			return -1;
		}
		if (ok == 0) {
			unlink_all(req->path, &pp->st, NULL);
			close(fd);
			continue;
		}
		pp->size = pp->lay.size;
		h = mmap(NULL, pp->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (h == MAP_FAILED) {
			int err = errno;

			h = NULL;
			close(fd);
			return nmt_err(p, err, "%s: mmap: %s", req->path, strerror(err));
		}
		pp->lockfd = fd;
	}
	if (!h)
		return nmt_err(p, EAGAIN, "%s: could not set up the pipe (raced too often)",
			       req->path);
	pp->h = h;
	if (nmt_shm_owner_alive(&h->end[e])) {
		int pid = h->end[e].pid;

		give_up(p, pp);
		return nmt_err(p, EBUSY, "%s: this end of the pipe is already open (pid %d)", name,
			       pid);
	}
	if (nrings && nrings != pp->lay.nrings) {
		give_up(p, pp);
		return nmt_err(p, EINVAL, "%s: the pipe exists with %u ring pairs, not %u", name,
			       pp->lay.nrings, nrings);
	}
	if (nslots && nslots != pp->lay.nslots) {
		give_up(p, pp);
		return nmt_err(p, EINVAL, "%s: the pipe exists with %u slots per ring, not %u", name,
			       pp->lay.nslots, nslots);
	}
	for (ri = 0; ri < pp->lay.nrings; ri++) {
		const struct pipe_layout *l = &pp->lay;

		if (nmt_chan_init(&pp->tx[ri], chan(h, l, e, ri), chan_slots(h, l, e, ri),
				  l->nslots, l->nbufs, l->buf_size, why, sizeof(why)) < 0 ||
		    nmt_chan_init(&pp->rx[ri], chan(h, l, 1 - e, ri), chan_slots(h, l, 1 - e, ri),
				  l->nslots, l->nbufs, l->buf_size, why, sizeof(why)) < 0) {
			give_up(p, pp);
			return nmt_err(p, EPROTO, "%s: the other end broke the pipe protocol (ring "
						  "%u: %s); close both ends and reopen",
				       name, ri, why);
		}
	}
	if (open_bells(p, pp) < 0 ||
	    nmt_ring_alloc_in(p, (req->flags & NMT_OPEN_RX_ONLY) ? 0 : pp->lay.nrings,
			       (req->flags & NMT_OPEN_TX_ONLY) ? 0 : pp->lay.nrings, pp->lay.nslots,
			       pp->lay.nslots, pp->lay.buf_size, pp->lay.buf_size,
			       (char *)h + pp->lay.bufs_ofs, 0) < 0)
		return give_up(p, pp);
	for (ri = 0; ri < pp->lay.nrings; ri++) {
		pp->rx[ri].c->rx_want = 0;
		pp->tx[ri].c->tx_want = 0;
	}
	setup_rings(p, pp);
	nmt_shm_owner_claim(&h->end[e]);
	flock(pp->lockfd, LOCK_UN);
	p->backend = "pipe";
	p->memsize = pp->size;
	p->num_bufs = pp->lay.nbufs;
	snprintf(p->mem_id, sizeof(p->mem_id), "shm:%.120s", req->path);
	return 0;
}

int nmt_pipe_probe(const char *path, struct nmt_pipe_info *info, int reap, char *err,
		   size_t errlen)
{
	struct nmt_port tmp; /* for the shm.c messages */
	struct pipe_layout l;
	struct pipe_hdr h;
	struct stat st;
	void *m;
	int fd, k;

	memset(info, 0, sizeof(*info));
	tmp.errmsg[0] = '\0';
	fd = open(path, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;

		snprintf(err, errlen, "%s: %s", path, strerror(e));
		errno = e;
		return -1;
	}
	if (nmt_shm_check_fd(&tmp, fd, path, S_IFREG) < 0) {
		int e = errno;

		close(fd); /* not ours: neither looked into nor removed */
		snprintf(err, errlen, "%s", tmp.errmsg);
		errno = e;
		return -1;
	}
	if (flock(fd, LOCK_EX) < 0 || fstat(fd, &st) < 0) {
		int e = errno;

		close(fd);
		snprintf(err, errlen, "%s: %s", path, strerror(e));
		errno = e;
		return -1;
	}
	if (st.st_nlink == 0 || (size_t)st.st_size < sizeof(struct pipe_hdr)) {
		/* an empty one may be being made (its maker holds no lock before flock) */
		if (reap && st.st_nlink && st.st_size > 0)
			unlink_all(path, &st, NULL);
		close(fd);
		snprintf(err, errlen, "%s: not a pipe", path);
		errno = ENOENT;
		return -1;
	}
	m = mmap(NULL, sizeof(h), PROT_READ, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) {
		int e = errno;

		close(fd);
		snprintf(err, errlen, "%s: mmap: %s", path, strerror(e));
		errno = e;
		return -1;
	}
	memcpy(&h, m, sizeof(h));
	if (h.magic == PIPE_MAGIC && h.ready && h.version == PIPE_VERSION &&
	    layout(&l, h.nrings, h.nslots, h.buf_size) == 0 && l.size == (size_t)st.st_size) {
		info->rings = h.nrings;
		info->slots = h.nslots;
		info->buf_size = h.buf_size;
		info->size = l.size;
	}
	for (k = 0; k < 2; k++) {
		info->alive[k] = nmt_shm_owner_alive(&((struct pipe_hdr *)m)->end[k]);
		info->pid[k] = h.end[k].open ? h.end[k].pid : 0;
	}
	munmap(m, sizeof(h));
	if (reap && !info->alive[0] && !info->alive[1])
		unlink_all(path, &st, NULL);
	close(fd);
	return 0;
}
