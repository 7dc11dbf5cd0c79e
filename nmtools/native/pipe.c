/*
 * pipe.c - netmap pipes in shared memory between processes of one user.
 *
 * The region (a file, mode 0600) holds a header, one channel per direction
 * and ring pair, the ring headers of both ends and all buffers. The tx ring
 * of one end and the rx ring of the other share one slot array: the sender
 * publishes filled slots by moving `prod`, the receiver gives them back by
 * moving `cons`. Buffers never move or get copied (zero copy); a user may
 * still swap buf_idx in a slot it owns (NS_BUF_CHANGED), and the buffer then
 * travels with the slot.
 *
 * Sleeping: each end has a FIFO. A waiter sets a want flag in the channel,
 * re-checks, and polls its FIFO; the other side writes one byte to it only
 * when the flag is set, so the fast path makes no system call.
 *
 * Liveness: each end records the pid and start time of its opener. A region
 * whose ends are all closed or dead is removed by the next open or probe.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nmt.h"

#define PIPE_MAGIC 0x657069702d746d6eull /* "nmt-pipe" */
#define PIPE_VERSION 2 /* 2: rings have buf_stride */
#define PIPE_MAX_SLOTS 32768

struct pipe_end {
	int32_t pid;
	uint32_t open;
	uint64_t starttime;
};

struct pipe_chan {
	_Alignas(64) uint32_t prod; /* written by the sender */
	uint32_t rx_want;           /* receiver is asleep */
	_Alignas(64) uint32_t cons; /* written by the receiver */
	uint32_t tx_want;           /* sender is asleep */
};

struct pipe_hdr {
	uint64_t magic;
	uint32_t version;
	uint32_t ready;
	uint32_t nrings, nslots, buf_size, nbufs;
	uint64_t chans_ofs, rings_ofs, slots_ofs, bufs_ofs, size;
	struct pipe_end end[2];
};

struct pipe_priv {
	struct pipe_hdr *h;
	size_t size;
	int end;
	int lockfd;
	int peerfd;
	char path[256];
};

#define RING_HDR ((sizeof(struct nmt_ring) + 63) & ~(size_t)63)

static struct pipe_chan *chan(struct pipe_hdr *h, int from_end, unsigned ri)
{
	return (struct pipe_chan *)((char *)h + h->chans_ofs) + from_end * h->nrings + ri;
}

static struct nmt_ring *ring_at(struct pipe_hdr *h, int end, int dir, unsigned ri)
{
	return (struct nmt_ring *)((char *)h + h->rings_ofs +
				   ((size_t)(end * 2 + dir) * h->nrings + ri) * RING_HDR);
}

static uint64_t proc_starttime(pid_t pid)
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

static int end_alive(const struct pipe_end *e)
{
	if (!e->open || e->pid <= 0)
		return 0;
	if (kill(e->pid, 0) < 0 && errno == ESRCH)
		return 0;
	return proc_starttime(e->pid) == e->starttime;
}

static void fifo_path(char *out, size_t len, const char *path, int end)
{
	snprintf(out, len, "%s.fifo%d", path, end);
}

static void unlink_all(const char *path)
{
	char f[300];

	fifo_path(f, sizeof(f), path, 0);
	unlink(f);
	fifo_path(f, sizeof(f), path, 1);
	unlink(f);
	unlink(path);
}

static inline void ring_bell(int fd)
{
	char c = 1;
	ssize_t rc = write(fd, &c, 1);

	(void)rc; /* EAGAIN: a wake-up is already pending */
}

static int pipe_txsync(struct nmt_port *p, unsigned ri)
{
	struct pipe_priv *pp = p->priv;
	struct pipe_chan *c = chan(pp->h, pp->end, ri);
	struct nmt_ring *r = p->tx_rings[ri];
	uint32_t head = r->head, cons;

	if (head >= r->num_slots)
		return nmt_err(p, EINVAL, "%s: tx ring %u head %u out of range", p->name, ri, head);
	if (head != p->txk[ri].hwcur) {
		__atomic_store_n(&c->prod, head, __ATOMIC_RELEASE);
		p->txk[ri].hwcur = head;
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (__atomic_load_n(&c->rx_want, __ATOMIC_RELAXED))
			ring_bell(pp->peerfd);
	}
	cons = __atomic_load_n(&c->cons, __ATOMIC_ACQUIRE);
	r->tail = cons == 0 ? r->num_slots - 1 : cons - 1;
	return 0;
}

static int pipe_rxsync(struct nmt_port *p, unsigned ri)
{
	struct pipe_priv *pp = p->priv;
	struct pipe_chan *c = chan(pp->h, 1 - pp->end, ri);
	struct nmt_ring *r = p->rx_rings[ri];
	uint32_t head = r->head;

	if (head >= r->num_slots)
		return nmt_err(p, EINVAL, "%s: rx ring %u head %u out of range", p->name, ri, head);
	if (head != p->rxk[ri].hwcur) {
		__atomic_store_n(&c->cons, head, __ATOMIC_RELEASE);
		p->rxk[ri].hwcur = head;
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (__atomic_load_n(&c->tx_want, __ATOMIC_RELAXED))
			ring_bell(pp->peerfd);
	}
	r->tail = __atomic_load_n(&c->prod, __ATOMIC_ACQUIRE);
	return 0;
}

/* rings [*first, *last) of `ring` (-1: all n) */
static void ring_span(int ring, uint32_t n, uint32_t *first, uint32_t *last)
{
	*first = ring < 0 ? 0 : (uint32_t)ring;
	*last = ring < 0 ? n : ((uint32_t)ring < n ? (uint32_t)ring + 1 : 0);
}

static void set_want(struct nmt_port *p, int ring, int events, uint32_t v)
{
	struct pipe_priv *pp = p->priv;
	uint32_t i, first, last;

	ring_span(ring, p->num_rx_rings, &first, &last);
	if (events & NMT_WAIT_RX)
		for (i = first; i < last; i++)
			__atomic_store_n(&chan(pp->h, 1 - pp->end, i)->rx_want, v,
					 __ATOMIC_RELAXED);
	ring_span(ring, p->num_tx_rings, &first, &last);
	if (events & NMT_WAIT_TX)
		for (i = first; i < last; i++)
			__atomic_store_n(&chan(pp->h, pp->end, i)->tx_want, v, __ATOMIC_RELAXED);
}

static int pipe_ready(struct nmt_port *p, int ring, int events)
{
	struct pipe_priv *pp = p->priv;
	uint32_t i, first, last;

	ring_span(ring, p->num_rx_rings, &first, &last);
	if (events & NMT_WAIT_RX)
		for (i = first; i < last; i++) {
			struct nmt_ring *r = p->rx_rings[i];

			if (r->head != r->tail ||
			    __atomic_load_n(&chan(pp->h, 1 - pp->end, i)->prod, __ATOMIC_ACQUIRE) !=
				    r->tail)
				return 1;
		}
	ring_span(ring, p->num_tx_rings, &first, &last);
	if (events & NMT_WAIT_TX)
		for (i = first; i < last; i++) {
			struct nmt_ring *r = p->tx_rings[i];
			uint32_t cons = __atomic_load_n(&chan(pp->h, pp->end, i)->cons,
							__ATOMIC_ACQUIRE);
			uint32_t t = cons == 0 ? r->num_slots - 1 : cons - 1;

			if (r->head != r->tail || t != r->tail)
				return 1;
		}
	return 0;
}

static void drain(int fd)
{
	char buf[256];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

static int pipe_arm(struct nmt_port *p, int ring, int events)
{
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
	set_want(p, ring, events, 0);
	drain(p->fd);
}

static int pipe_tx_pending(struct nmt_port *p, int ring)
{
	uint32_t i, first, last;

	ring_span(ring, p->num_tx_rings, &first, &last);
	for (i = first; i < last; i++)
		if (p->tx_rings[i]->head != p->txk[i].hwcur)
			return 1;
	return 0;
}

static void pipe_close(struct nmt_port *p)
{
	struct pipe_priv *pp = p->priv;

	if (!pp)
		return;
	if (pp->h) {
		if (pp->lockfd >= 0)
			flock(pp->lockfd, LOCK_EX);
		if (pp->h->end[pp->end].pid == getpid()) {
			pp->h->end[pp->end].open = 0;
			pp->h->end[pp->end].pid = 0;
		}
		if (!end_alive(&pp->h->end[1 - pp->end]))
			unlink_all(pp->path);
		munmap(pp->h, pp->size);
	}
	if (pp->lockfd >= 0)
		close(pp->lockfd); /* drops the lock */
	if (pp->peerfd >= 0)
		close(pp->peerfd);
	free(pp);
	p->priv = NULL;
	p->tx_rings[0] = p->rx_rings[0] = NULL;
}

static const struct nmt_ops pipe_ops = {
	.name = "pipe",
	.txsync = pipe_txsync,
	.rxsync = pipe_rxsync,
	.arm = pipe_arm,
	.disarm = pipe_disarm,
	.tx_pending = pipe_tx_pending,
	.close = pipe_close,
};

static int init_region(struct nmt_port *p, int fd, const char *path, uint32_t nrings,
		       uint32_t nslots, uint32_t buf_size)
{
	struct pipe_hdr *h;
	size_t chans_ofs = (sizeof(struct pipe_hdr) + 63) & ~(size_t)63;
	size_t rings_ofs = chans_ofs + 2 * (size_t)nrings * sizeof(struct pipe_chan);
	size_t slots_ofs = rings_ofs + 4 * (size_t)nrings * RING_HDR;
	size_t nbufs = 2 * (size_t)nrings * nslots;
	size_t bufs_ofs = (slots_ofs + nbufs * sizeof(struct nmt_slot) + 4095) & ~(size_t)4095;
	size_t size = bufs_ofs + nbufs * buf_size;
	char f[300];
	size_t j;

	if (ftruncate(fd, (off_t)size) < 0)
		return nmt_err(p, errno, "%s: cannot size shared memory to %zu bytes: %s", path,
			       size, strerror(errno));
	h = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (h == MAP_FAILED)
		return nmt_err(p, errno, "%s: mmap: %s", path, strerror(errno));
	h->magic = PIPE_MAGIC;
	h->version = PIPE_VERSION;
	h->nrings = nrings;
	h->nslots = nslots;
	h->buf_size = buf_size;
	h->nbufs = (uint32_t)nbufs;
	h->chans_ofs = chans_ofs;
	h->rings_ofs = rings_ofs;
	h->slots_ofs = slots_ofs;
	h->bufs_ofs = bufs_ofs;
	h->size = size;
	for (j = 0; j < nbufs; j++) {
		struct nmt_slot *s = (struct nmt_slot *)((char *)h + slots_ofs) + j;

		s->buf_idx = (uint32_t)j;
	}
	for (j = 0; j < 2; j++) {
		fifo_path(f, sizeof(f), path, (int)j);
		unlink(f);
		if (mkfifo(f, 0600) < 0) {
			int e = errno;

			munmap(h, size);
			return nmt_err(p, e, "%s: mkfifo: %s", f, strerror(e));
		}
	}
	__atomic_store_n(&h->ready, 1, __ATOMIC_RELEASE);
	munmap(h, size);
	return 0;
}

static void setup_rings(struct nmt_port *p, struct pipe_priv *pp, const struct nmt_open_req *req)
{
	struct pipe_hdr *h = pp->h;
	int e = pp->end;
	unsigned ri;

	p->num_tx_rings = (req->flags & NMT_OPEN_RX_ONLY) ? 0 : h->nrings;
	p->num_rx_rings = (req->flags & NMT_OPEN_TX_ONLY) ? 0 : h->nrings;
	for (ri = 0; ri < h->nrings; ri++) {
		struct nmt_ring *tx = ring_at(h, e, 0, ri), *rx = ring_at(h, e, 1, ri);
		struct pipe_chan *ct = chan(h, e, ri), *cr = chan(h, 1 - e, ri);
		uint32_t prod = __atomic_load_n(&ct->prod, __ATOMIC_ACQUIRE);
		uint32_t cons = __atomic_load_n(&ct->cons, __ATOMIC_ACQUIRE);
		char *slots = (char *)h + h->slots_ofs;

		/* the sender's view: owns [prod, cons - 1) */
		tx->num_slots = h->nslots;
		tx->nr_buf_size = tx->buf_stride = h->buf_size;
		tx->ringid = (uint16_t)ri;
		tx->dir = 0;
		tx->slot_ofs = slots + ((size_t)e * h->nrings + ri) * h->nslots *
						sizeof(struct nmt_slot) - (char *)tx;
		tx->buf_ofs = (char *)h + h->bufs_ofs - (char *)tx;
		tx->head = tx->cur = prod;
		tx->tail = cons == 0 ? h->nslots - 1 : cons - 1;
		p->txk[ri].hwcur = prod;
		/* the receiver's view: owns [cons, prod) */
		prod = __atomic_load_n(&cr->prod, __ATOMIC_ACQUIRE);
		cons = __atomic_load_n(&cr->cons, __ATOMIC_ACQUIRE);
		rx->num_slots = h->nslots;
		rx->nr_buf_size = rx->buf_stride = h->buf_size;
		rx->ringid = (uint16_t)ri;
		rx->dir = 1;
		rx->slot_ofs = slots + ((size_t)(1 - e) * h->nrings + ri) * h->nslots *
						sizeof(struct nmt_slot) - (char *)rx;
		rx->buf_ofs = (char *)h + h->bufs_ofs - (char *)rx;
		rx->head = rx->cur = cons;
		rx->tail = prod;
		p->rxk[ri].hwcur = cons;
		cr->rx_want = 0;
		ct->tx_want = 0;
		if (p->num_tx_rings)
			p->tx_rings[ri] = tx;
		if (p->num_rx_rings)
			p->rx_rings[ri] = rx;
	}
}

int nmt_pipe_open(struct nmt_port *p, const struct nmt_open_req *req)
{
	uint32_t nrings = req->tx_rings > req->rx_rings ? req->tx_rings : req->rx_rings;
	uint32_t nslots = req->tx_slots > req->rx_slots ? req->tx_slots : req->rx_slots;
	uint32_t buf_size = req->buf_size ? req->buf_size : 2048;
	int explicit_geom = nrings || nslots;
	struct pipe_priv *pp;
	struct pipe_hdr *h = NULL;
	int attempt, created, e = req->pipe_end ? 1 : 0;
	char f[300];

	if (!nrings)
		nrings = 1;
	if (!nslots)
		nslots = 1024;
	if (nrings > NMT_MAX_RINGS)
		return nmt_err(p, EINVAL, "%s: %u rings requested, a pipe has at most %d",
			       req->path, nrings, NMT_MAX_RINGS);
	if (nslots < 4 || nslots > PIPE_MAX_SLOTS)
		return nmt_err(p, EINVAL, "%s: %u slots requested, use 4 to %d", req->path,
			       nslots, PIPE_MAX_SLOTS);
	pp = calloc(1, sizeof(*pp));
	if (!pp)
		return nmt_err(p, ENOMEM, "out of memory");
	pp->lockfd = pp->peerfd = -1;
	pp->end = e;
	snprintf(pp->path, sizeof(pp->path), "%s", req->path);
	p->priv = pp;
	p->ops = &pipe_ops;
	for (attempt = 0; attempt < 20; attempt++) {
		struct stat st;
		int fd = open(req->path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

		if (fd < 0)
			return nmt_err(p, errno, "%s: cannot open shared memory: %s", req->path,
				       strerror(errno));
		if (flock(fd, LOCK_EX) < 0 || fstat(fd, &st) < 0) {
			int err = errno;

			close(fd);
			return nmt_err(p, err, "%s: %s", req->path, strerror(err));
		}
		if (st.st_nlink == 0) { /* removed by a reaper meanwhile */
			close(fd);
			continue;
		}
		if (st.st_uid != geteuid()) {
			close(fd);
			return nmt_err(p, EACCES, "%s belongs to uid %u, not to you (uid %u)",
				       req->path, (unsigned)st.st_uid, (unsigned)geteuid());
		}
		created = st.st_size == 0;
		if (created && init_region(p, fd, req->path, nrings, nslots, buf_size) < 0) {
			int err = errno;

			unlink_all(req->path);
			close(fd);
			errno = err;
			return -1;
		}
		if (fstat(fd, &st) < 0 || (size_t)st.st_size < sizeof(struct pipe_hdr)) {
			unlink_all(req->path);
			close(fd);
			continue;
		}
		h = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (h == MAP_FAILED) {
			int err = errno;

			close(fd);
			return nmt_err(p, err, "%s: mmap: %s", req->path, strerror(err));
		}
		if (h->magic != PIPE_MAGIC || h->version != PIPE_VERSION || !h->ready ||
		    h->size != (uint64_t)st.st_size ||
		    (!created && !end_alive(&h->end[0]) && !end_alive(&h->end[1]))) {
			/* half-made or left by dead processes: start afresh */
			munmap(h, (size_t)st.st_size);
			h = NULL;
			unlink_all(req->path);
			close(fd);
			continue;
		}
		pp->lockfd = fd;
		pp->size = (size_t)st.st_size;
		break;
	}
	if (!h)
		return nmt_err(p, EAGAIN, "%s: could not set up the pipe (raced too often)",
			       req->path);
	pp->h = h;
	if (end_alive(&h->end[e])) {
		int pid = h->end[e].pid;

		pp->h = NULL;
		munmap(h, pp->size);
		return nmt_err(p, EBUSY, "%s: this end of the pipe is already open (pid %d)",
			       p->name[0] ? p->name : req->path, pid);
	}
	if (explicit_geom && ((req->tx_rings | req->rx_rings) && nrings != h->nrings)) {
		uint32_t have = h->nrings;

		pp->h = NULL;
		munmap(h, pp->size);
		return nmt_err(p, EINVAL, "%s: the pipe exists with %u ring pairs, not %u",
			       p->name[0] ? p->name : req->path, have, nrings);
	}
	if (explicit_geom && ((req->tx_slots | req->rx_slots) && nslots != h->nslots)) {
		uint32_t have = h->nslots;

		pp->h = NULL;
		munmap(h, pp->size);
		return nmt_err(p, EINVAL, "%s: the pipe exists with %u slots per ring, not %u",
			       p->name[0] ? p->name : req->path, have, nslots);
	}
	fifo_path(f, sizeof(f), req->path, e);
	p->fd = open(f, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (p->fd < 0)
		goto fail_fifo;
	fifo_path(f, sizeof(f), req->path, 1 - e);
	pp->peerfd = open(f, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (pp->peerfd < 0)
		goto fail_fifo;
	drain(p->fd);
	h->end[e].pid = getpid();
	h->end[e].starttime = proc_starttime(getpid());
	h->end[e].open = 1;
	setup_rings(p, pp, req);
	flock(pp->lockfd, LOCK_UN);
	p->backend = "pipe";
	p->mem = (char *)h + h->bufs_ofs;
	p->memsize = h->size;
	p->buf_size = h->buf_size;
	p->num_bufs = h->nbufs;
	p->num_tx_slots = p->num_tx_rings ? h->nslots : 0;
	p->num_rx_slots = p->num_rx_rings ? h->nslots : 0;
	snprintf(p->mem_id, sizeof(p->mem_id), "shm:%.120s", req->path);
	return 0;

fail_fifo: {
	int err = errno;

	pp->h = NULL;
	munmap(h, pp->size);
	return nmt_err(p, err, "%s: %s", f, strerror(err));
}
}

int nmt_pipe_probe(const char *path, struct nmt_pipe_info *info, int reap, char *err,
		   size_t errlen)
{
	struct pipe_hdr *h;
	struct stat st;
	int fd = open(path, O_RDWR | O_CLOEXEC), k;

	memset(info, 0, sizeof(*info));
	if (fd < 0) {
		int e = errno;

		snprintf(err, errlen, "%s: %s", path, strerror(e));
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
		if (reap && st.st_nlink)
			unlink_all(path);
		close(fd);
		snprintf(err, errlen, "%s: not a pipe (removed)", path);
		errno = ENOENT;
		return -1;
	}
	h = mmap(NULL, sizeof(*h), PROT_READ, MAP_SHARED, fd, 0);
	if (h == MAP_FAILED) {
		int e = errno;

		close(fd);
		snprintf(err, errlen, "%s: mmap: %s", path, strerror(e));
		errno = e;
		return -1;
	}
	if (h->magic == PIPE_MAGIC && h->version == PIPE_VERSION && h->ready) {
		info->rings = h->nrings;
		info->slots = h->nslots;
		info->buf_size = h->buf_size;
		info->size = h->size;
		for (k = 0; k < 2; k++) {
			info->alive[k] = end_alive(&h->end[k]);
			info->pid[k] = h->end[k].open ? h->end[k].pid : 0;
		}
	}
	munmap(h, sizeof(*h));
	if (reap && !info->alive[0] && !info->alive[1])
		unlink_all(path);
	close(fd);
	return 0;
}
