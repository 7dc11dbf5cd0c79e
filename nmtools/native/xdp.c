/*
 * xdp.c - NIC ports over AF_XDP: one XSK socket per interface queue, one tx
 * and one rx ring per socket, with no system library (raw bpf(2) calls).
 *
 * Memory: the buffers ARE the UMEM. An arena of chunks (2048 or 4096 bytes,
 * aligned mode) is registered once; ring headers and slots live in the port's
 * private region (nmt_ring_alloc_in). Buffer i is chunk i shifted by
 * XDP_PACKET_HEADROOM (256): the kernel writes a received frame 256 bytes into
 * its chunk, so with the shift a received chunk IS a buffer and rx needs no
 * copy either. A buffer holds chunk - 256 bytes (nr_buf_size); buffers are
 * chunk bytes apart (buf_stride).
 *  - TX: txsync puts {address of the slot's buffer, len} on the XSK tx ring
 *    and the completion ring hands the address back. A slot's buffer is the
 *    kernel's until its completion was seen, so tail only moves over
 *    completed slots. Completions may come back out of order (in copy mode
 *    an address is completed when its skb is freed), so each completed
 *    address is matched to its slot through a per-buffer owner table, and
 *    tail moves over the completed prefix.
 *  - RX: each queue gives the kernel a stock of spare buffers on its fill
 *    ring ("fill chunks", after the slots' own buffers). rxsync swaps: the
 *    rx slot takes the received chunk as its buffer, and the buffer the slot
 *    had goes on the fill ring in its place. Like netmap, an rx slot's
 *    buf_idx is only valid until the user gives the slot back.
 *  - Sharing: ports opened together (nmt_xdp_open_group, e.g. the two sides
 *    of a bridge) and the queues of one port carve their buffers from one
 *    arena. The first socket registers it; the others bind with
 *    XDP_SHARED_UMEM and their own fill and completion rings (Linux >= 5.10
 *    for another device or queue). Buffer indexes then mean the same thing
 *    on every port of the group (equal mem_id): a frame received on one port
 *    goes out on another by swapping buf_idx, without a copy. Where the
 *    kernel refuses to share, each socket registers the whole arena as its
 *    own UMEM instead: addresses stay the same, the pages are pinned once per
 *    socket.
 *  - Multi-buffer (XDP_USE_SG, Linux >= 6.6) is asked for and dropped when
 *    refused: frames longer than a chunk arrive as several slots
 *    (NS_MOREFRAG <-> XDP_PKT_CONTD) and NS_MOREFRAG frames go out as one.
 *    Buffers default to 2048 bytes, 4096 when MTU + 18 does not fit in 2048
 *    minus the headroom.
 *
 * Counting (netmap's hwcur/tail): txk.hwcur is the first slot the kernel has
 * not consumed from the XSK tx ring yet, i.e. frames count as sent once the
 * port accepted them (in copy mode consumption happens inside sendto(), in
 * zero-copy mode when the driver takes the descriptor); tail is the slot
 * before the first one not completed yet. A frame the kernel would refuse
 * (buffer out of range, length 0 or over a chunk, several slots without
 * multi-buffer support) is dropped with an error before it reaches the ring:
 * an invalid descriptor would be skipped by the kernel and never completed.
 *
 * XDP program: 6 instructions, `return bpf_redirect_map(&xsks,
 * ctx->rx_queue_index, XDP_PASS)`: frames of queues without a socket go on
 * to the host stack. It is attached through a BPF link (Linux >= 5.9), so it
 * goes away with the last file descriptor, also when the process is killed.
 * Native (driver) mode is tried first, then generic (skb) mode (req->mode
 * can force either, and copy or zero-copy: NMT_XDP_* below). An interface
 * has one XDP program: a second port with rx on the same interface (another
 * queue, another process) gets EBUSY; an existing program is never replaced.
 * Tx-only ports load no program at all and leave the queue's traffic alone;
 * their sockets stay in copy mode (zero-copy tx without a program is not
 * supported by all drivers).
 *
 * Wake-ups: sockets are bound with XDP_USE_NEED_WAKEUP. In zero-copy mode the
 * tx ring is kicked with sendto() only when the kernel set
 * XDP_RING_NEED_WAKEUP, and the driver is woken for rx with recvfrom() when
 * the fill ring asks for it. In copy mode the kernel transmits only inside
 * sendto()/poll(), a bounded batch per call (32 frames; the whole ring with
 * XDP_MAX_TX_SKB_BUDGET, Linux >= 6.17), so txsync kicks until the ring is
 * drained or the kernel pushes back.
 *
 * On veth, kernel 6.18 (rates measured by bench/pktgen.py and bench/forward.py):
 *  - native XDP attaches to veth and frames from the peer reach the program
 *    and the socket; generic mode works too (and is what an interface without
 *    native XDP gets); veth has no zero-copy: sockets run in copy mode;
 *  - tx beats AF_PACKET's sendmmsg at every frame size, and user space is a
 *    small part of its profile: `auto` sends with AF_XDP (ports/admode.py);
 *  - rx: the receiving end's XDP work (veth re-copies each skb for XDP, then
 *    the copy into the UMEM) runs in the sender's softirq, so a veth peer
 *    sends more slowly to an AF_XDP port than to an AF_PACKET one: `auto`
 *    receives with AF_PACKET;
 *  - an rx ring buffers rx_slots frames in the kernel plus as many in ours,
 *    against 32 MiB for the TPACKET_V3 ring: with 1024 slots a receiver that
 *    loses the CPU for a few ms at 1 Mpps drops frames (counted by the kernel
 *    as fill ring empty); 8192 slots rode out most of it;
 *  - queues: in native mode veth's rx queue is the peer's tx queue, so a port
 *    on queue N gets what the peer sent on its queue N; in generic mode veth
 *    records no rx queue and every frame is queue 0 (a port on queue 1 of a
 *    2-queue veth hears nothing; the whole-interface port gets everything);
 *  - a socket closed a moment ago still holds its queue (the kernel frees it
 *    from a workqueue): bind() retries EBUSY for up to 1 s;
 *  - forwarding between two veths: swapping buffers in one UMEM beats copying
 *    them between two, which beats AF_PACKET, so ports opened together share
 *    a UMEM. The kernel is most of the forwarder's profile (the copy-mode tx
 *    copy into an skb, and the receiving veth's stack in the same softirq).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <linux/bpf.h>
#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/if_xdp.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "nmt.h"

#ifndef AF_XDP
#define AF_XDP 44
#endif
#ifndef SOL_XDP
#define SOL_XDP 283
#endif
/* newer than some installed headers */
#ifndef XDP_USE_SG
#define XDP_USE_SG (1 << 4) /* bind: multi-buffer frames (Linux >= 6.6) */
#endif
#ifndef XDP_PKT_CONTD
#define XDP_PKT_CONTD (1 << 0) /* desc options: the frame goes on in the next one */
#endif
#ifndef XDP_MAX_TX_SKB_BUDGET
#define XDP_MAX_TX_SKB_BUDGET 9 /* sockopt: copy-mode frames per sendto (Linux >= 6.17) */
#endif

/* nmt_open_req.mode for AF_XDP ports (0: native XDP if the driver has it, else
 * generic; zero-copy if the driver has it, else copy) */
#define NMT_XDP_NATIVE 0x1   /* native (driver) XDP only */
#define NMT_XDP_GENERIC 0x2  /* generic (skb) XDP only */
#define NMT_XDP_COPY 0x4     /* never zero-copy */
#define NMT_XDP_ZEROCOPY 0x8 /* zero-copy only */
#define NMT_XDP_UMEM_PER_SOCKET 0x10 /* every socket registers the arena (as on Linux < 5.10) */
#define NMT_XDP_MODES 0x1f

#define XDP_HEADROOM 256   /* XDP_PACKET_HEADROOM: received data starts here in a chunk */
#define XDP_TX_BATCH 32    /* frames a copy-mode sendto() moves by default */
#define XDP_MAX_SEGS 17    /* descriptors per multi-buffer frame (MAX_SKB_FRAGS + 1) */
#define XDP_SMALL_RING 64  /* fill ring of a tx-only port, completion ring of an rx-only one */
#define NO_OWNER 0xffffffffu
#define OWNER_SLOT_BITS 17 /* owner = ring << 17 | slot */
#define GONE_CHECK_NS 20000000 /* a sleeper asks every 20 ms whether the interface is there */
#define GONE_SETTLE_MS 250   /* ENETDOWN on send: time for `ip link del` to unlist it */

/* one mapped XSK ring; for the rings we produce (tx, fill) prod is ours and
 * cons is a cached copy of the kernel's, for the others the reverse */
struct xring {
	uint32_t *prod, *cons, *flags;
	void *desc;
	uint32_t mask;
	uint32_t cprod, ccons;
	void *map;
	size_t map_len;
};

struct xq {
	int fd;
	int qid;                /* interface queue */
	struct xring rx, tx, fq, cq;
	uint32_t sub;           /* tx: first slot not posted (or dropped) yet */
	uint32_t done;          /* tx: first slot not completed yet */
	uint32_t *post_slot;    /* tx: the slot of each descriptor, by ring index */
	uint8_t *cdone;         /* tx: completed slots at or past done */
	uint32_t fill0, nfill;  /* rx: fill chunks are buffers [fill0, fill0 + nfill) */
	uint64_t next_check;    /* when a sleeper next asks whether the socket was unbound */
	int gone;               /* it was: the interface went away */
};

/* a group's buffer arena, one UMEM; freed with the last port using it */
struct xdp_arena {
	int refs;
	char *base;             /* chunk 0 */
	size_t size;            /* nbufs * chunk */
	uint32_t chunk, nbufs;
	unsigned nports;        /* ports it was made for */
	int shared;             /* 1 XDP_SHARED_UMEM, 0 every socket registered it */
};

struct xdp_priv {
	unsigned nq;
	struct xq q[NMT_MAX_RINGS];
	int map_fd, prog_fd, link_fd, ep_fd;
	uint32_t ep_events;     /* current epoll interest of every socket */
	uint32_t *owner;        /* per arena buffer: the tx slot it is in flight on */
	struct xdp_arena *arena;
	uint32_t chunk, chunk_shift;
	uint32_t want_chunk;    /* the chunk this port needs (buf_size asked for, else by MTU) */
	int fixed_chunk;        /* ... because it was asked for */
	uint32_t tx_n, rx_n, fill_n, comp_n, nfill, maxframe, mode;
	uint32_t nbufs;         /* buffers this port takes from the arena */
	int has_tx, has_rx;
	int zc, native, need_wakeup, sg, budget;
	char natif_err[48];     /* why native XDP was refused */
};

static long sys_bpf(int cmd, union bpf_attr *attr, unsigned size)
{
	return syscall(__NR_bpf, cmd, attr, size);
}

static inline uint32_t ld_acq(const uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static inline void st_rel(uint32_t *p, uint32_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

static inline struct xdp_desc *xdesc(struct xring *r, uint32_t i)
{
	return (struct xdp_desc *)r->desc + (i & r->mask);
}

static inline uint64_t *xaddr(struct xring *r, uint32_t i)
{
	return (uint64_t *)r->desc + (i & r->mask);
}

static int bad_head(struct nmt_port *p, const struct nmt_ring *r, const char *dir)
{
	return nmt_err(p, EINVAL, "%s: %s ring head %u out of range (the ring has %u slots)",
		       p->ifname, dir, r->head, r->num_slots);
}

/* free slots of an rx ring: all but the user's and the one kept empty */
static uint32_t rx_free(const struct nmt_ring *r, uint32_t head, uint32_t tail)
{
	return r->num_slots - 1 - nmt_ring_dist(r, head, tail);
}

/* ------------------------------------------------------------------ rx */

static int xdp_rxsync(struct nmt_port *p, unsigned ri)
{
	struct xdp_priv *pv = p->priv;
	struct nmt_ring *r;
	struct xq *q;
	uint32_t head, tail, room, avail, cons, fprod, got = 0;
	uint64_t cmask = ~(uint64_t)(pv->chunk - 1);
	int rc = 0;

	if (ri >= p->num_rx_rings)
		return nmt_err(p, EINVAL, "%s: no rx ring %u (the port has %u)", p->ifname, ri,
			       p->num_rx_rings);
	r = p->rx_rings[ri];
	q = &pv->q[ri];
	head = r->head;
	if (head >= r->num_slots)
		return bad_head(p, r, "rx");
	p->rxk[ri].hwcur = head;
	tail = p->rxk[ri].hwtail;
	room = rx_free(r, head, tail);
	cons = q->rx.ccons;
	avail = q->rx.cprod - cons;
	if (avail < room) {
		q->rx.cprod = ld_acq(q->rx.prod);
		avail = q->rx.cprod - cons;
	}
	fprod = q->fq.cprod;
	while (avail && room) {
		uint32_t k = 1, j, t0 = tail, f0 = fprod;
		int fits;

		/* a multi-buffer frame is published whole; check anyway */
		while ((xdesc(&q->rx, cons + k - 1)->options & XDP_PKT_CONTD) && k < avail)
			k++;
		if (xdesc(&q->rx, cons + k - 1)->options & XDP_PKT_CONTD)
			break; /* the rest is not there yet */
		fits = k <= r->num_slots - 1; /* else longer than the ring can hold: dropped */
		if (fits && k > room)
			break; /* resume here at the next rxsync */
		for (j = 0; j < k; j++) {
			struct xdp_desc *d = xdesc(&q->rx, cons + j);
			uint64_t addr = d->addr, refill = addr & cmask;
			uint32_t len = d->len;

			if (fits) {
				struct nmt_slot *s = nmt_slot(r, tail);

				if (s->buf_idx >= p->num_bufs) {
					rc = nmt_err(p, EINVAL, "%s: rx slot %u has a bad buffer "
						     "index (the port has %u buffers)", p->ifname,
						     tail, p->num_bufs);
					tail = t0; /* the frame stays on the XSK ring */
					fprod = f0;
					goto out;
				}
				if (addr + len > pv->arena->size || len > r->nr_buf_size) {
					len = 0; /* cannot happen: the kernel keeps frames in a chunk */
				} else if ((addr & (pv->chunk - 1)) == XDP_HEADROOM) {
					/* the chunk is a buffer: swap it in, the slot's goes to the kernel */
					refill = (uint64_t)s->buf_idx << pv->chunk_shift;
					s->buf_idx = (uint32_t)(addr >> pv->chunk_shift);
				} else {
					/* data elsewhere in the chunk (a driver's own headroom) */
					memcpy(nmt_buf(r, s->buf_idx), pv->arena->base + addr, len);
				}
				s->len = (uint16_t)len;
				s->flags = j + 1 < k ? NMT_NS_MOREFRAG : 0;
				tail = nmt_ring_next(r, tail);
			}
			*xaddr(&q->fq, fprod++) = refill;
		}
		cons += k;
		avail -= k;
		if (fits) {
			room -= k;
			got++;
		}
	}
out:
	if (cons != q->rx.ccons) {
		st_rel(q->rx.cons, cons);
		q->rx.ccons = cons;
	}
	if (fprod != q->fq.cprod) {
		st_rel(q->fq.prod, fprod);
		q->fq.cprod = fprod;
		/* zero-copy drivers sleep when the fill ring ran dry */
		if (pv->need_wakeup && (ld_acq(q->fq.flags) & XDP_RING_NEED_WAKEUP))
			recvfrom(q->fd, NULL, 0, MSG_DONTWAIT, NULL, NULL);
	}
	r->tail = p->rxk[ri].hwtail = tail;
	if (got)
		r->ts_ns = nmt_clock_ns();
	return rc;
}

/* ------------------------------------------------------------------ tx */

/* take back the buffers the kernel completed; move done over the completed prefix */
static void xdp_reap(struct nmt_port *p, struct xdp_priv *pv, unsigned ri)
{
	struct xq *q = &pv->q[ri];
	struct nmt_ring *r = p->tx_rings[ri];
	uint32_t cons = q->cq.ccons, prod = ld_acq(q->cq.prod);

	if (cons != prod) {
		for (; cons != prod; cons++) {
			uint64_t idx = *xaddr(&q->cq, cons) >> pv->chunk_shift;
			uint32_t o;

			if (idx >= p->num_bufs)
				continue; /* not ours: cannot happen */
			o = pv->owner[idx];
			if (o == NO_OWNER || o >> OWNER_SLOT_BITS != ri)
				continue;
			pv->owner[idx] = NO_OWNER;
			q->cdone[o & ((1u << OWNER_SLOT_BITS) - 1)] = 1;
		}
		st_rel(q->cq.cons, cons);
		q->cq.ccons = cons;
	}
	while (q->done != q->sub && q->cdone[q->done]) {
		q->cdone[q->done] = 0;
		q->done = nmt_ring_next(r, q->done);
	}
}

/*
 * xq_gone - has the kernel unbound this socket? When the interface is
 * unregistered (deleted, or moved to another namespace) the kernel unbinds
 * every socket on it and sets ENETDOWN on them (only then: a socket on a down
 * interface stays bound); nothing else will tell, as poll() on an unbound
 * socket never returns. Per queue, so that the thread owning it asks alone.
 */
static int xq_gone(struct xq *q)
{
	int soerr = 0;
	socklen_t sl = sizeof(soerr);

	if (!q->gone && q->fd >= 0 &&
	    getsockopt(q->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr)
		q->gone = 1;
	return q->gone;
}

static int tx_error(struct nmt_port *p, struct xq *q, int e)
{
	switch (e) {
	case ENETDOWN:
		/* `ip link del` takes the interface down before it unlists it */
		if (xq_gone(q) || nmt_if_gone_wait(p, GONE_SETTLE_MS))
			return nmt_err_gone(p);
		return nmt_err(p, e, "%s: interface is down (bring it up: ip link set %s up)",
			       p->ifname, p->ifname);
	case ENXIO:
	case ENODEV:
		q->gone = 1;
		return nmt_err_gone(p);
	default:
		return nmt_err(p, e, "%s: AF_XDP send failed: %s", p->ifname, strerror(e));
	}
}

/*
 * kick - make the kernel take the descriptors on the tx ring. Copy mode
 * sends only inside sendto(), a budget per call (EAGAIN: more to do, or the
 * completion ring / the device is full: reap and retry a bounded number of
 * times); zero-copy mode needs a call only when the driver asked for it.
 */
static int xdp_kick(struct nmt_port *p, struct xdp_priv *pv, unsigned ri)
{
	struct xq *q = &pv->q[ri];
	uint32_t left = q->tx.cprod - ld_acq(q->tx.cons);
	uint32_t tries;

	if (!left)
		return 0;
	if (pv->zc && pv->need_wakeup && !(ld_acq(q->tx.flags) & XDP_RING_NEED_WAKEUP))
		return 0;
	tries = left / (uint32_t)pv->budget + 2;
	while (tries--) {
		if (sendto(q->fd, NULL, 0, MSG_DONTWAIT, NULL, 0) >= 0) {
			if (!pv->zc && q->tx.cprod != ld_acq(q->tx.cons))
				continue; /* raced with a wrap of the kernel's cache: once more */
			return 0;
		}
		switch (errno) {
		case EINTR:
			tries++;
			break;
		case EBUSY:
			if (pv->zc)
				return 0; /* the driver has it */
			/* copy mode: the device dropped one frame (no carrier, a full
			 * backlog: NET_XMIT_DROP) and the kernel completed it unsent and
			 * stopped; it is counted, and this is progress, not a try */
			p->tx_dropped[ri]++;
			tries++;
			xdp_reap(p, pv, ri);
			break;
		case EAGAIN: /* budget used up, or completion ring / device queue full */
		case ENOBUFS:
			if (pv->zc)
				return 0; /* the driver has it */
			xdp_reap(p, pv, ri);
			break;
		default:
			return tx_error(p, q, errno);
		}
	}
	return 0;
}

/*
 * tx_frame - the frame starting at slot c: its slot count in *k, and whether
 * the kernel would take it (*bad = first bad slot or -1). Returns 0 when the
 * frame runs into head (the user has not finished it).
 */
static int tx_frame(struct nmt_port *p, struct nmt_ring *r, uint32_t c,
		    uint32_t head, uint32_t *k, int64_t *bad)
{
	uint32_t n = 0;

	*bad = -1;
	for (;;) {
		struct nmt_slot *s = nmt_slot(r, c);

		if (*bad < 0 && (s->buf_idx >= p->num_bufs || s->len == 0 ||
				 s->len > p->buf_size))
			*bad = c;
		n++;
		c = nmt_ring_next(r, c);
		if (!(s->flags & NMT_NS_MOREFRAG))
			break;
		if (c == head)
			return 0;
	}
	*k = n;
	return 1;
}

/* does a frame of k slots from c name one buffer twice? (each completion frees one) */
static int dup_in_frame(struct nmt_ring *r, uint32_t c, uint32_t k)
{
	uint32_t a = c, i, j;

	for (i = 0; i < k; i++, a = nmt_ring_next(r, a)) {
		uint32_t b = nmt_ring_next(r, a);

		for (j = i + 1; j < k; j++, b = nmt_ring_next(r, b))
			if (nmt_slot(r, a)->buf_idx == nmt_slot(r, b)->buf_idx)
				return 1;
	}
	return 0;
}

static int bad_frame(struct nmt_port *p, struct xdp_priv *pv, struct nmt_ring *r, uint32_t c,
		     int64_t bad, uint32_t k)
{
	if (bad >= 0) {
		struct nmt_slot *s = nmt_slot(r, (uint32_t)bad);

		return nmt_err(p, EINVAL, "%s: tx frame dropped: slot %u has buffer %u of length "
			       "%u (the port has %u buffers of %u bytes; lengths start at 1)",
			       p->ifname, (uint32_t)bad, s->buf_idx, s->len, p->num_bufs,
			       p->buf_size);
	}
	if (!pv->sg)
		return nmt_err(p, EMSGSIZE, "%s: tx frame at slot %u dropped: it spans %u slots "
			       "(NS_MOREFRAG) and this AF_XDP socket sends one buffer per frame "
			       "(multi-buffer needs Linux >= 6.6); keep frames within %u bytes",
			       p->ifname, c, k, p->buf_size);
	return nmt_err(p, EMSGSIZE, "%s: tx frame at slot %u dropped: it spans %u slots, "
		       "AF_XDP takes at most %d", p->ifname, c, k, XDP_MAX_SEGS);
}

/*
 * txsync - post the complete frames in [hwcur, head) on the XSK tx ring,
 * kick, reap completions; hwcur = first slot the kernel has not consumed,
 * tail = the slot before the first one not completed.
 */
static int xdp_txsync(struct nmt_port *p, unsigned ri)
{
	struct xdp_priv *pv = p->priv;
	struct nmt_ring *r;
	struct xq *q;
	uint32_t head, c, prod, cons, pc, mask, tail;
	int rc = 0;

	if (ri >= p->num_tx_rings)
		return nmt_err(p, EINVAL, "%s: no tx ring %u (the port has %u)", p->ifname, ri,
			       p->num_tx_rings);
	r = p->tx_rings[ri];
	q = &pv->q[ri];
	head = r->head;
	if (head >= r->num_slots)
		return bad_head(p, r, "tx");
	xdp_reap(p, pv, ri);

	/* post; there is always room: at most num_slots - 1 slots are in flight */
	c = q->sub;
	prod = q->tx.cprod;
	mask = q->tx.mask;
	while (c != head) {
		uint32_t k = 0, j, cc;
		int64_t bad;

		if (!tx_frame(p, r, c, head, &k, &bad))
			break; /* unfinished frame */
		if (bad >= 0 || (k > 1 && (!pv->sg || k > XDP_MAX_SEGS))) {
			if (rc == 0)
				rc = bad_frame(p, pv, r, c, bad, k);
			for (j = 0; j < k; j++) {
				q->cdone[c] = 1; /* dropped: "completed" at once */
				c = nmt_ring_next(r, c);
			}
			continue;
		}
		/* a buffer still in flight in another slot: wait for it */
		for (j = 0, cc = c; j < k; j++, cc = nmt_ring_next(r, cc))
			if (pv->owner[nmt_slot(r, cc)->buf_idx] != NO_OWNER)
				break;
		if (j < k)
			break;
		if (k > 1 && dup_in_frame(r, c, k)) {
			if (rc == 0)
				rc = nmt_err(p, EINVAL, "%s: tx frame at slot %u dropped: it uses "
					     "one buffer in two slots", p->ifname, c);
			for (j = 0; j < k; j++) {
				q->cdone[c] = 1;
				c = nmt_ring_next(r, c);
			}
			continue;
		}
		for (j = 0; j < k; j++) {
			struct nmt_slot *s = nmt_slot(r, c);
			struct xdp_desc *d = xdesc(&q->tx, prod);

			d->addr = ((uint64_t)s->buf_idx << pv->chunk_shift) + XDP_HEADROOM;
			d->len = s->len;
			d->options = j + 1 < k ? XDP_PKT_CONTD : 0;
			q->post_slot[prod & mask] = c;
			pv->owner[s->buf_idx] = ri << OWNER_SLOT_BITS | c;
			prod++;
			c = nmt_ring_next(r, c);
		}
	}
	q->sub = c;
	if (prod != q->tx.cprod) {
		st_rel(q->tx.prod, prod);
		q->tx.cprod = prod;
	}
	if (xdp_kick(p, pv, ri) < 0 && rc == 0)
		rc = -1;
	xdp_reap(p, pv, ri);

	/* consumed position: the slot of the first descriptor left on the ring */
	cons = ld_acq(q->tx.cons);
	pc = cons == prod ? q->sub : q->post_slot[cons & mask];
	/* a completion can show before the kernel publishes its consumer index */
	if (nmt_ring_dist(r, q->done, pc) > nmt_ring_dist(r, q->done, q->sub))
		pc = q->done;
	p->txk[ri].hwcur = pc;
	tail = nmt_ring_prev(r, q->done);
	p->txk[ri].hwtail = r->tail = tail;
	return rc;
}

static int xdp_tx_pending(struct nmt_port *p, int ring)
{
	uint32_t i, first, last;

	nmt_rings_span(ring, p->num_tx_rings, &first, &last);
	for (i = first; i < last; i++)
		if (p->txk[i].hwcur != p->tx_rings[i]->head)
			return 1;
	return 0;
}

/* ---------------------------------------------------------- waiting */

/* epoll interest of every socket (several queues): only what the caller waits for */
static int xdp_ep_set(struct nmt_port *p, struct xdp_priv *pv, uint32_t ev)
{
	unsigned i;

	if (pv->ep_fd < 0 || ev == pv->ep_events)
		return 0;
	for (i = 0; i < pv->nq; i++) {
		struct epoll_event e = { .events = ev, .data.u32 = i };

		if (epoll_ctl(pv->ep_fd, EPOLL_CTL_MOD, pv->q[i].fd, &e) < 0)
			return nmt_err(p, errno, "%s: epoll_ctl: %s", p->ifname, strerror(errno));
	}
	pv->ep_events = ev;
	return 0;
}

/*
 * arm - ready now, or about to sleep. RX: frames in our ring or on an XSK rx
 * ring. TX: slots to post, completions to reap, or nothing in flight;
 * otherwise sleep for POLLOUT (in copy mode poll() itself drives the tx ring
 * and a freed frame wakes it; zero-copy drivers wake it as they consume).
 * One ring (a thread that owns that queue) sleeps on its own socket and
 * leaves the epoll set of the whole port alone.
 */
static int xdp_arm(struct nmt_port *p, int ring, int events)
{
	struct xdp_priv *pv = p->priv;
	uint32_t ev = 0, i, first, last;

	if (events & NMT_WAIT_RX) {
		nmt_rings_span(ring, p->num_rx_rings, &first, &last);
		for (i = first; i < last; i++) {
			struct xq *q = &pv->q[i];

			if (p->rx_rings[i]->head != p->rxk[i].hwtail ||
			    ld_acq(q->rx.prod) != q->rx.ccons)
				return 1;
		}
		if (p->num_rx_rings)
			ev |= EPOLLIN;
	}
	if (events & NMT_WAIT_TX) {
		nmt_rings_span(ring, p->num_tx_rings, &first, &last);
		for (i = first; i < last; i++) {
			struct xq *q = &pv->q[i];

			if (q->sub != p->tx_rings[i]->head || q->done == q->sub ||
			    ld_acq(q->cq.prod) != q->cq.ccons)
				return 1;
		}
		if (p->num_tx_rings)
			ev |= EPOLLOUT;
	}
	/* about to sleep: is the interface still there? (one ring: its own socket) */
	{
		struct xq *q = &pv->q[ring < 0 || (unsigned)ring >= pv->nq ? 0 : ring];
		uint64_t now = nmt_clock_ns();

		if (now >= q->next_check) {
			q->next_check = now + GONE_CHECK_NS;
			if (xq_gone(q))
				return nmt_err_gone(p);
		}
	}
	if (ring >= 0)
		return 0;
	return xdp_ep_set(p, pv, ev);
}

/* wait_fd - one ring: its queue's socket, polled directly */
static int xdp_wait_fd(struct nmt_port *p, int ring, short *poll_rx, short *poll_tx)
{
	struct xdp_priv *pv = p->priv;

	if (ring < 0 || (unsigned)ring >= pv->nq)
		return p->fd;
	*poll_rx = POLLIN;
	*poll_tx = POLLOUT;
	return pv->q[ring].fd;
}

/* ------------------------------------------------------------ close */

/* the socket and its rings (the tx bookkeeping arrays stay) */
static void xq_close(struct xq *q)
{
	struct xring *rs[4] = { &q->rx, &q->tx, &q->fq, &q->cq };
	int i;

	for (i = 0; i < 4; i++) {
		if (rs[i]->map)
			munmap(rs[i]->map, rs[i]->map_len);
		memset(rs[i], 0, sizeof(*rs[i]));
	}
	if (q->fd >= 0)
		close(q->fd);
	q->fd = -1;
}

static void xdp_close(struct nmt_port *p)
{
	struct xdp_priv *pv = p->priv;
	unsigned i;

	if (!pv)
		return;
	/* the link first: no more redirects to sockets about to go */
	if (pv->link_fd >= 0)
		close(pv->link_fd);
	if (pv->prog_fd >= 0)
		close(pv->prog_fd);
	if (pv->map_fd >= 0)
		close(pv->map_fd);
	if (pv->ep_fd >= 0)
		close(pv->ep_fd);
	for (i = 0; i < NMT_MAX_RINGS; i++) {
		xq_close(&pv->q[i]);
		free(pv->q[i].post_slot);
		free(pv->q[i].cdone);
	}
	free(pv->owner);
	if (pv->arena && __atomic_sub_fetch(&pv->arena->refs, 1, __ATOMIC_ACQ_REL) == 0) {
		/* the kernel holds its own references to pinned pages */
		if (pv->arena->base)
			munmap(pv->arena->base, pv->arena->size);
		free(pv->arena);
	}
	free(pv);
	p->priv = NULL;
	p->fd = -1; /* it was one of the above */
}

static const struct nmt_ops xdp_ops = {
	.name = "xdp",
	.txsync = xdp_txsync,
	.rxsync = xdp_rxsync,
	.arm = xdp_arm,
	.tx_pending = xdp_tx_pending,
	.wait_fd = xdp_wait_fd,
	.close = xdp_close,
};

/* ------------------------------------------------------------- setup */

static int perm_error(struct nmt_port *p, int e, const char *what)
{
	return nmt_err(p, e, "%s: permission denied (%s): AF_XDP needs root, or CAP_NET_RAW, "
		       "CAP_NET_ADMIN and CAP_BPF (CAP_SYS_ADMIN before Linux 5.8)", p->ifname,
		       what);
}

/* the id and mode of the XDP program attached to ifindex (netlink RTM_GETLINK); 0 if none */
static uint32_t xdp_attached_prog(int ifindex, uint8_t *mode)
{
	struct {
		struct nlmsghdr nh;
		struct ifinfomsg ifi;
	} req;
	const size_t bufsize = 32768;
	char *buf;
	struct nlmsghdr *nh;
	uint32_t id = 0;
	ssize_t n;
	int fd;

	*mode = 0;
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return 0;
	buf = malloc(bufsize);
	if (!buf) {
		close(fd);
		return 0;
	}
	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_len = sizeof(req);
	req.nh.nlmsg_type = RTM_GETLINK;
	req.nh.nlmsg_flags = NLM_F_REQUEST;
	req.nh.nlmsg_seq = 1;
	req.ifi.ifi_family = AF_UNSPEC;
	req.ifi.ifi_index = ifindex;
	n = send(fd, &req, sizeof(req), 0) < 0 ? -1 : recv(fd, buf, bufsize, 0);
	close(fd);
	for (nh = (struct nlmsghdr *)buf; n > 0 && NLMSG_OK(nh, (size_t)n);
	     nh = NLMSG_NEXT(nh, n)) {
		struct ifinfomsg *ifi;
		struct rtattr *a;
		int len;

		if (nh->nlmsg_type != RTM_NEWLINK)
			continue;
		ifi = NLMSG_DATA(nh);
		len = (int)IFLA_PAYLOAD(nh);
		for (a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
			struct rtattr *x;
			int xl;

			if ((a->rta_type & NLA_TYPE_MASK) != IFLA_XDP)
				continue;
			xl = (int)RTA_PAYLOAD(a);
			for (x = RTA_DATA(a); RTA_OK(x, xl); x = RTA_NEXT(x, xl)) {
				if (x->rta_type == IFLA_XDP_ATTACHED && RTA_PAYLOAD(x) >= 1)
					*mode = *(uint8_t *)RTA_DATA(x);
				else if (x->rta_type == IFLA_XDP_PROG_ID && RTA_PAYLOAD(x) >= 4)
					memcpy(&id, RTA_DATA(x), 4);
			}
		}
	}
	free(buf);
	return id;
}

static int xdp_busy(struct nmt_port *p)
{
	static const char *const modes[] = { "", "native", "generic", "offloaded", "several" };
	uint8_t mode;
	uint32_t id = xdp_attached_prog(p->ifindex, &mode);

	if (id)
		return nmt_err(p, EBUSY, "%s: an XDP program (id %u, %s mode) is already attached "
			       "and nm will not replace it (`ip link show %s` shows it; if nothing "
			       "needs it: ip link set dev %s xdp off); or use --admode packet",
			       p->ifname, id, mode < 5 ? modes[mode] : "?", p->ifname, p->ifname);
	return nmt_err(p, EBUSY, "%s: an XDP program is already attached and nm will not "
		       "replace it (see `ip link show %s`; if nothing needs it: ip link set "
		       "dev %s xdp off); or use --admode packet", p->ifname, p->ifname,
		       p->ifname);
}

/* map + program + link; native mode first, then generic */
static int xdp_attach(struct nmt_port *p, struct xdp_priv *pv, uint32_t mode)
{
	struct bpf_insn prog[] = {
		/* r2 = ctx->rx_queue_index */
		{ .code = BPF_LDX | BPF_MEM | BPF_W, .dst_reg = BPF_REG_2, .src_reg = BPF_REG_1,
		  .off = 16 },
		/* r1 = &xsks (two instructions) */
		{ .code = BPF_LD | BPF_DW | BPF_IMM, .dst_reg = BPF_REG_1,
		  .src_reg = BPF_PSEUDO_MAP_FD, .imm = 0 },
		{ .code = 0 },
		/* r3 = XDP_PASS: the action when the slot has no socket */
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_3, .imm = XDP_PASS },
		{ .code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_redirect_map },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	char *log;
	union bpf_attr a;
	int e, frags;

	memset(&a, 0, sizeof(a));
	a.map_type = BPF_MAP_TYPE_XSKMAP;
	a.key_size = 4;
	a.value_size = 4;
	a.max_entries = (uint32_t)p->num_queues;
	memcpy(a.map_name, "nmt_xsks", 9);
	pv->map_fd = (int)sys_bpf(BPF_MAP_CREATE, &a, sizeof(a));
	if (pv->map_fd < 0) {
		e = errno;
		if (e == EPERM || e == EACCES)
			return perm_error(p, e, "creating a BPF map");
		if (e == ENOSYS)
			return nmt_err(p, e, "%s: this kernel has no bpf() system call "
				       "(CONFIG_BPF_SYSCALL); use --admode packet", p->ifname);
		return nmt_err(p, e, "%s: cannot create the XSKMAP: %s (needs Linux >= 4.18 with "
			       "CONFIG_XDP_SOCKETS); use --admode packet", p->ifname, strerror(e));
	}
	prog[1].imm = pv->map_fd;

	/* frags-aware (Linux >= 5.18): native XDP then accepts any MTU the driver allows */
	for (frags = 1; frags >= 0; frags--) {
		memset(&a, 0, sizeof(a));
		a.prog_type = BPF_PROG_TYPE_XDP;
		a.insns = (uint64_t)(uintptr_t)prog;
		a.insn_cnt = sizeof(prog) / sizeof(prog[0]);
		a.license = (uint64_t)(uintptr_t)"Dual BSD/GPL";
		a.prog_flags = frags ? BPF_F_XDP_HAS_FRAGS : 0;
		memcpy(a.prog_name, "nmt_xsk", 8);
		pv->prog_fd = (int)sys_bpf(BPF_PROG_LOAD, &a, sizeof(a));
		if (pv->prog_fd >= 0 || errno != EINVAL)
			break;
	}
	if (pv->prog_fd < 0) {
		e = errno;
		if (e == EPERM || e == EACCES)
			return perm_error(p, e, "loading the XDP program");
		/* again with the verifier's log */
		log = calloc(1, 65536);
		if (log) {
			a.log_buf = (uint64_t)(uintptr_t)log;
			a.log_size = 65536;
			a.log_level = 1;
			pv->prog_fd = (int)sys_bpf(BPF_PROG_LOAD, &a, sizeof(a));
		}
		if (pv->prog_fd < 0) {
			char *nl = log ? strchr(log, '\n') : NULL;

			if (nl)
				*nl = 0;
			nmt_err(p, e, "%s: the kernel refused the XDP program: %s%s%s", p->ifname,
				strerror(e), log && log[0] ? ": " : "", log ? log : "");
			free(log);
			return -1;
		}
		free(log);
	}

	memset(&a, 0, sizeof(a));
	a.link_create.prog_fd = (uint32_t)pv->prog_fd;
	a.link_create.target_ifindex = (uint32_t)p->ifindex;
	a.link_create.attach_type = BPF_XDP;
	if (!(mode & NMT_XDP_GENERIC)) {
		a.link_create.flags = XDP_FLAGS_DRV_MODE;
		pv->link_fd = (int)sys_bpf(BPF_LINK_CREATE, &a, sizeof(a));
		if (pv->link_fd >= 0) {
			pv->native = 1;
			return 0;
		}
		e = errno;
		if (e == EBUSY || e == EEXIST)
			return xdp_busy(p);
		if (e == EPERM || e == EACCES)
			return perm_error(p, e, "attaching the XDP program");
		if (mode & NMT_XDP_NATIVE) {
			if (e == EOPNOTSUPP)
				return nmt_err(p, e, "%s: the driver has no native XDP; drop the "
					       "native-only mode to use generic XDP", p->ifname);
			return nmt_err(p, e, "%s: the driver refused native XDP: %s%s", p->ifname,
				       strerror(e), e == EINVAL || e == ERANGE ?
				       " (MTU too large for XDP? try a smaller MTU)" : "");
		}
		if (e != EOPNOTSUPP)
			snprintf(pv->natif_err, sizeof(pv->natif_err), "%s", strerror(e));
	}
	a.link_create.flags = XDP_FLAGS_SKB_MODE;
	pv->link_fd = (int)sys_bpf(BPF_LINK_CREATE, &a, sizeof(a));
	if (pv->link_fd >= 0)
		return 0;
	e = errno;
	if (e == EBUSY || e == EEXIST)
		return xdp_busy(p);
	if (e == EINVAL)
		return nmt_err(p, e, "%s: cannot attach the XDP program: %s (BPF links for XDP "
			       "need Linux >= 5.9); use --admode packet", p->ifname, strerror(e));
	return nmt_err(p, e, "%s: cannot attach the XDP program: %s; use --admode packet",
		       p->ifname, strerror(e));
}

static int ring_map(struct nmt_port *p, struct xq *q, struct xring *r, const char *name,
		    const struct xdp_ring_offset *off, uint32_t n, size_t desc_size,
		    uint64_t pgoff)
{
	r->map_len = off->desc + n * desc_size;
	r->map = mmap(NULL, r->map_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, q->fd,
		      (off_t)pgoff);
	if (r->map == MAP_FAILED) {
		r->map = NULL;
		return nmt_err(p, errno, "%s: cannot map the AF_XDP %s ring of queue %d: %s",
			       p->ifname, name, q->qid, strerror(errno));
	}
	r->prod = (uint32_t *)((char *)r->map + off->producer);
	r->cons = (uint32_t *)((char *)r->map + off->consumer);
	r->flags = (uint32_t *)((char *)r->map + off->flags);
	r->desc = (char *)r->map + off->desc;
	r->mask = n - 1;
	r->cprod = *r->prod;
	r->ccons = *r->cons;
	return 0;
}

static int sockopt_u32(struct nmt_port *p, struct xq *q, int opt, uint32_t v, const char *what)
{
	if (setsockopt(q->fd, SOL_XDP, opt, &v, sizeof(v)) < 0)
		return nmt_err(p, errno, "%s: cannot size the AF_XDP %s ring of queue %d to %u: %s",
			       p->ifname, what, q->qid, v, strerror(errno));
	return 0;
}

/*
 * xq_open - one socket on queue q->qid: rings, fill ring stocked, bound. With
 * share_fd < 0 the socket registers the arena as its UMEM and binds with
 * bind_flags; else it binds with XDP_SHARED_UMEM to share_fd's UMEM (and its
 * copy/zero-copy mode). On failure errno says why; the caller closes it.
 */
static int xq_open(struct nmt_port *p, struct xdp_priv *pv, struct xq *q, int share_fd,
		   uint16_t bind_flags)
{
	uint32_t tx_n = pv->has_tx ? pv->tx_n : 0, rx_n = pv->has_rx ? pv->rx_n : 0;
	struct xdp_arena *ar = pv->arena;
	struct xdp_mmap_offsets off;
	struct sockaddr_xdp sxdp;
	socklen_t ol = sizeof(off);
	uint32_t i;
	int e;

	q->fd = socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (q->fd < 0) {
		e = errno;
		if (e == EAFNOSUPPORT)
			return nmt_err(p, e, "%s: AF_XDP is not available in this kernel (needs "
				       "Linux >= 4.18 with CONFIG_XDP_SOCKETS); use --admode packet",
				       p->ifname);
		if (e == EPERM || e == EACCES)
			return perm_error(p, e, "opening an AF_XDP socket");
		return nmt_err(p, e, "%s: AF_XDP socket: %s", p->ifname, strerror(e));
	}
	if (share_fd < 0) {
		struct xdp_umem_reg mr;

		memset(&mr, 0, sizeof(mr));
		mr.addr = (uint64_t)(uintptr_t)ar->base;
		mr.len = ar->size;
		mr.chunk_size = ar->chunk;
		mr.headroom = 0;
		if (setsockopt(q->fd, SOL_XDP, XDP_UMEM_REG, &mr, sizeof(mr)) < 0) {
			e = errno;
			if (e == EPERM)
				return perm_error(p, e, "registering the UMEM");
			if (e == ENOBUFS || e == ENOMEM)
				return nmt_err(p, e, "%s: cannot pin %zu KiB of AF_XDP buffer memory: "
					       "%s (over the locked-memory limit? run as root, give "
					       "CAP_IPC_LOCK or raise `ulimit -l`, or use fewer slots)",
					       p->ifname, ar->size >> 10, strerror(e));
			return nmt_err(p, e, "%s: cannot register the AF_XDP buffer memory: %s",
				       p->ifname, strerror(e));
		}
	}
	/* a socket sharing a UMEM on another device or queue has its own fill and
	 * completion rings */
	if (sockopt_u32(p, q, XDP_UMEM_FILL_RING, pv->fill_n, "fill") < 0 ||
	    sockopt_u32(p, q, XDP_UMEM_COMPLETION_RING, pv->comp_n, "completion") < 0 ||
	    (rx_n && sockopt_u32(p, q, XDP_RX_RING, rx_n, "rx") < 0) ||
	    (tx_n && sockopt_u32(p, q, XDP_TX_RING, tx_n, "tx") < 0))
		return -1;
	if (getsockopt(q->fd, SOL_XDP, XDP_MMAP_OFFSETS, &off, &ol) < 0 || ol < sizeof(off))
		return nmt_err(p, errno ? errno : EPROTO, "%s: cannot get the AF_XDP ring offsets "
			       "(needs Linux >= 5.4)", p->ifname);
	if ((rx_n && ring_map(p, q, &q->rx, "rx", &off.rx, rx_n, sizeof(struct xdp_desc),
			      XDP_PGOFF_RX_RING) < 0) ||
	    (tx_n && ring_map(p, q, &q->tx, "tx", &off.tx, tx_n, sizeof(struct xdp_desc),
			      XDP_PGOFF_TX_RING) < 0) ||
	    ring_map(p, q, &q->fq, "fill", &off.fr, pv->fill_n, sizeof(uint64_t),
		     XDP_UMEM_PGOFF_FILL_RING) < 0 ||
	    ring_map(p, q, &q->cq, "completion", &off.cr, pv->comp_n, sizeof(uint64_t),
		     XDP_UMEM_PGOFF_COMPLETION_RING) < 0)
		return -1;
	/* every fill chunk goes to the kernel */
	for (i = 0; i < q->nfill; i++)
		*xaddr(&q->fq, q->fq.cprod + i) = (uint64_t)(q->fill0 + i) << pv->chunk_shift;
	q->fq.cprod += q->nfill;
	st_rel(q->fq.prod, q->fq.cprod);

	memset(&sxdp, 0, sizeof(sxdp));
	sxdp.sxdp_family = AF_XDP;
	sxdp.sxdp_flags = share_fd < 0 ? bind_flags : XDP_SHARED_UMEM;
	sxdp.sxdp_ifindex = (uint32_t)p->ifindex;
	sxdp.sxdp_queue_id = (uint32_t)q->qid;
	sxdp.sxdp_shared_umem_fd = share_fd < 0 ? 0 : (uint32_t)share_fd;
	/* a socket closed just before (by us or a previous run) frees its hold on
	 * the queue from a kernel workqueue: EBUSY for a few ms; wait up to 1 s */
	for (i = 0; bind(q->fd, (struct sockaddr *)&sxdp, sizeof(sxdp)) < 0; i++) {
		e = errno;
		if (e == EBUSY && i < 100) {
			usleep(10000);
			continue;
		}
		return nmt_err(p, e, "%s: cannot bind an AF_XDP socket to queue %d%s: %s",
			       p->ifname, q->qid, share_fd < 0 ? "" : " (sharing a UMEM)",
			       e == EBUSY ? "the queue is taken by another AF_XDP socket "
			       "(another nm or XDP application?)" : strerror(e));
	}
	return 0;
}

static void group_close_sockets(struct nmt_port **ps, unsigned n)
{
	unsigned k, i;

	for (k = 0; k < n; k++) {
		struct xdp_priv *pv = ps[k]->priv;

		for (i = 0; i < pv->nq; i++)
			xq_close(&pv->q[i]);
	}
}

/* every socket of the group with these flags; share: through XDP_SHARED_UMEM */
static int group_try(struct nmt_port **ps, unsigned n, uint16_t flags, int share, int *failed)
{
	int fd0 = -1;
	unsigned k, i;

	for (k = 0; k < n; k++) {
		struct xdp_priv *pv = ps[k]->priv;

		for (i = 0; i < pv->nq; i++) {
			if (xq_open(ps[k], pv, &pv->q[i], share ? fd0 : -1, flags) < 0) {
				int e = errno;

				*failed = (int)k;
				group_close_sockets(ps, n);
				errno = e;
				return -1;
			}
			if (fd0 < 0)
				fd0 = pv->q[i].fd;
		}
	}
	return 0;
}

/*
 * group_sockets - every queue's socket of every port of one arena, trying the
 * best bind flags first, and sharing the UMEM before registering it per socket.
 */
static int group_sockets(struct nmt_port **ps, unsigned n, int *failed)
{
	struct xdp_arena *ar = ((struct xdp_priv *)ps[0]->priv)->arena;
	int allow_zc = 1, allow_copy = 1, nt = 0, t, share = 0, z, per_socket = 0;
	unsigned k, i, nsock = 0;
	uint16_t tries[8];

	for (k = 0; k < n; k++) {
		struct xdp_priv *pv = ps[k]->priv;

		allow_zc &= (pv->has_rx && pv->native) || (pv->mode & NMT_XDP_ZEROCOPY);
		allow_copy &= !(pv->mode & NMT_XDP_ZEROCOPY);
		if (pv->mode & NMT_XDP_UMEM_PER_SOCKET)
			per_socket = 1;
		nsock += pv->nq;
	}
	for (z = allow_zc ? 0 : 1; z < (allow_copy ? 2 : 1); z++) {
		uint16_t mode = z == 0 ? XDP_ZEROCOPY : XDP_COPY;

		tries[nt++] = mode | XDP_USE_NEED_WAKEUP | XDP_USE_SG;
		tries[nt++] = mode | XDP_USE_NEED_WAKEUP;
	}
	if (allow_copy)
		tries[nt++] = XDP_COPY; /* Linux < 5.4: no need_wakeup */
	for (t = 0; t < nt; t++) {
		for (share = nsock > 1 && !per_socket; share >= 0; share--) {
			int e;

			if (group_try(ps, n, tries[t], share, failed) == 0)
				goto bound;
			e = errno;
			/* only "this mode (or sharing) is not supported" is worth another try */
			if (e != EOPNOTSUPP && e != EINVAL && e != EPROTONOSUPPORT)
				return -1;
			if (t + 1 == nt && share == 0)
				return -1;
		}
	}
	return -1;
bound:
	ar->shared = share;
	for (k = 0; k < n; k++) {
		struct xdp_priv *pv = ps[k]->priv;
		struct xdp_options o;
		socklen_t ol = sizeof(o);

		pv->zc = (tries[t] & XDP_ZEROCOPY) != 0;
		pv->need_wakeup = (tries[t] & XDP_USE_NEED_WAKEUP) != 0;
		pv->sg = (tries[t] & XDP_USE_SG) != 0;
		/* bind may fall back silently on old kernels: ask */
		if (pv->zc && getsockopt(pv->q[0].fd, SOL_XDP, XDP_OPTIONS, &o, &ol) == 0)
			pv->zc = (o.flags & XDP_OPTIONS_ZEROCOPY) != 0;
		/* copy mode: let one sendto() move a whole ring instead of 32 frames */
		pv->budget = XDP_TX_BATCH;
		if (!pv->zc && pv->has_tx && pv->tx_n > XDP_TX_BATCH) {
			uint32_t b = pv->tx_n;

			for (i = 0; i < pv->nq; i++)
				if (setsockopt(pv->q[i].fd, SOL_XDP, XDP_MAX_TX_SKB_BUDGET, &b,
					       sizeof(b)) < 0)
					break;
			if (i == pv->nq)
				pv->budget = (int)b;
		}
	}
	return 0;
}

static uint32_t pow2_up(uint32_t v)
{
	uint32_t n = 1;

	while (n < v && n < (1u << 30))
		n <<= 1;
	return n;
}

/*
 * xdp_prepare - check the request, find the queues, attach the XDP program
 * (rx); what the port needs from an arena is left in its priv.
 */
static int xdp_prepare(struct nmt_port *p, const struct nmt_open_req *req)
{
	const char *ifname = req->ifname;
	int has_tx = !(req->flags & NMT_OPEN_RX_ONLY), has_rx = !(req->flags & NMT_OPEN_TX_ONLY);
	uint32_t tx_n = pow2_up(req->tx_slots ? req->tx_slots : 1024);
	uint32_t rx_n = pow2_up(req->rx_slots ? req->rx_slots : 1024);
	struct xdp_priv *pv;
	uint32_t i;

	if (nmt_if_query(p, ifname) < 0)
		return -1;
	if (!has_tx && !has_rx)
		return nmt_err(p, EINVAL, "%s: a port cannot be both tx-only and rx-only", ifname);
	if ((req->mode & ~(uint32_t)NMT_XDP_MODES) ||
	    (req->mode & (NMT_XDP_NATIVE | NMT_XDP_GENERIC)) == (NMT_XDP_NATIVE | NMT_XDP_GENERIC) ||
	    (req->mode & (NMT_XDP_COPY | NMT_XDP_ZEROCOPY)) == (NMT_XDP_COPY | NMT_XDP_ZEROCOPY))
		return nmt_err(p, EINVAL, "%s: AF_XDP mode 0x%x unknown (0 auto, or 1 native, "
			       "2 generic, plus 4 copy, 8 zero-copy, 16 UMEM per socket)", ifname,
			       req->mode);
	if (req->queue < -1)
		return nmt_err(p, EINVAL, "%s: bad queue %d", ifname, req->queue);
	if (tx_n < 2 || rx_n < 2 || tx_n > 65536 || rx_n > 65536)
		return nmt_err(p, EINVAL, "%s: AF_XDP rings have 2 to 65536 slots (asked for %u tx, "
			       "%u rx)", ifname, req->tx_slots, req->rx_slots);
	if (req->buf_size && req->buf_size != 2048 && req->buf_size != 4096)
		return nmt_err(p, EINVAL, "%s: AF_XDP buffers are 2048 or 4096 bytes (the UMEM "
			       "chunk size), not %u", ifname, req->buf_size);

	pv = calloc(1, sizeof(*pv));
	if (!pv)
		return nmt_err(p, ENOMEM, "%s: out of memory", ifname);
	pv->map_fd = pv->prog_fd = pv->link_fd = pv->ep_fd = -1;
	for (i = 0; i < NMT_MAX_RINGS; i++)
		pv->q[i].fd = -1;
	p->priv = pv;
	p->ops = &xdp_ops; /* from here on a failed open is cleaned up by xdp_close */
	memset(p->tx_dropped, 0, sizeof(p->tx_dropped)); /* a handle may be opened again */
	pv->has_tx = has_tx;
	pv->has_rx = has_rx;
	pv->mode = req->mode;
	pv->tx_n = tx_n;
	pv->rx_n = rx_n;
	/* frames up to MTU + Ethernet header + one VLAN tag, after 256 bytes of headroom */
	pv->maxframe = (uint32_t)(p->mtu > 0 ? p->mtu : 1500) + 18;
	pv->fixed_chunk = req->buf_size != 0;
	pv->want_chunk = req->buf_size ? req->buf_size :
		pv->maxframe + XDP_HEADROOM <= 2048 ? 2048 : 4096;

	{
		/* AF_XDP needs the queue on both sides */
		struct nmt_if_queues q;

		nmt_if_queues(p, ifname, &q);
		p->num_queues = q.tx && q.tx < q.rx ? q.tx : q.rx;
	}
	if (req->queue >= p->num_queues)
		return p->num_queues == 1 ?
			nmt_err(p, EINVAL, "%s: queue %d does not exist (the interface has one "
				"queue: 0)", ifname, req->queue) :
			nmt_err(p, EINVAL, "%s: queue %d does not exist (the interface has %d "
				"queues: 0-%d)", ifname, req->queue, p->num_queues,
				p->num_queues - 1);
	if (req->queue < 0 && p->num_queues > NMT_MAX_RINGS)
		return nmt_err(p, EINVAL, "%s: the interface has %d queues, an AF_XDP port opens at "
			       "most %d: open one queue (%s-N)", ifname, p->num_queues,
			       NMT_MAX_RINGS, ifname);
	p->queue = req->queue;
	pv->nq = req->queue < 0 ? (unsigned)p->num_queues : 1;
	for (i = 0; i < pv->nq; i++)
		pv->q[i].qid = req->queue < 0 ? (int)i : req->queue;

	/* buffers: one per slot, then each queue's spares for the fill ring */
	pv->fill_n = has_rx ? rx_n : XDP_SMALL_RING;
	pv->comp_n = has_tx ? tx_n : XDP_SMALL_RING;
	pv->nfill = has_rx ? pv->fill_n : 0;
	pv->nbufs = pv->nq * ((has_tx ? tx_n : 0) + (has_rx ? rx_n + pv->nfill : 0));

	/* the program first (frames pass until a socket is in the map), then the sockets */
	if (has_rx && xdp_attach(p, pv, req->mode) < 0)
		return -1;
	return 0;
}

/* xdp_rings - the port's rings, with buffers [first, first + pv->nbufs) of the arena */
static int xdp_rings(struct nmt_port *p, struct xdp_priv *pv, struct xdp_arena *ar,
		     uint32_t first)
{
	uint32_t nslots = pv->nq * ((pv->has_tx ? pv->tx_n : 0) + (pv->has_rx ? pv->rx_n : 0));
	uint32_t i;

	pv->arena = ar;
	__atomic_add_fetch(&ar->refs, 1, __ATOMIC_ACQ_REL);
	pv->chunk = ar->chunk;
	pv->chunk_shift = ar->chunk == 2048 ? 11 : 12;
	if (nmt_ring_alloc_in(p, pv->has_tx ? pv->nq : 0, pv->has_rx ? pv->nq : 0, pv->tx_n,
			       pv->rx_n, ar->chunk - XDP_HEADROOM, ar->chunk,
			       ar->base + XDP_HEADROOM, first) < 0)
		return -1;
	/* any buffer of the arena may be named in a slot */
	p->num_bufs = ar->nbufs;
	p->memsize = p->region_size + ar->size;
	for (i = 0; i < pv->nq; i++) {
		pv->q[i].fill0 = first + nslots + i * pv->nfill;
		pv->q[i].nfill = pv->nfill;
	}
	if (pv->has_tx) {
		pv->owner = malloc((size_t)ar->nbufs * sizeof(*pv->owner));
		if (!pv->owner)
			return nmt_err(p, ENOMEM, "%s: out of memory", p->ifname);
		memset(pv->owner, 0xff, (size_t)ar->nbufs * sizeof(*pv->owner));
		for (i = 0; i < pv->nq; i++) {
			pv->q[i].post_slot = calloc(pv->tx_n, sizeof(uint32_t));
			pv->q[i].cdone = calloc(pv->tx_n, 1);
			if (!pv->q[i].post_slot || !pv->q[i].cdone)
				return nmt_err(p, ENOMEM, "%s: out of memory", p->ifname);
		}
	}
	return 0;
}

/* xdp_finish - sockets bound: XSKMAP, the pollable fd, and what `nm info` says */
static int xdp_finish(struct nmt_port *p, struct xdp_priv *pv)
{
	struct xdp_arena *ar = pv->arena;
	const char *ifname = p->ifname;
	uint32_t i;
	size_t o;

	if ((pv->mode & NMT_XDP_ZEROCOPY) && !pv->zc)
		return nmt_err(p, EOPNOTSUPP, "%s: the driver has no AF_XDP zero-copy mode "
			       "(veth and generic XDP never do); drop the zero-copy-only mode",
			       ifname);
	if (pv->has_rx) {
		for (i = 0; i < pv->nq; i++) {
			union bpf_attr a;
			uint32_t key = (uint32_t)pv->q[i].qid, val = (uint32_t)pv->q[i].fd;

			memset(&a, 0, sizeof(a));
			a.map_fd = (uint32_t)pv->map_fd;
			a.key = (uint64_t)(uintptr_t)&key;
			a.value = (uint64_t)(uintptr_t)&val;
			a.flags = BPF_ANY;
			if (sys_bpf(BPF_MAP_UPDATE_ELEM, &a, sizeof(a)) < 0)
				return nmt_err(p, errno, "%s: cannot put the socket of queue %u in "
					       "the XSKMAP: %s", ifname, key, strerror(errno));
		}
	}

	/* one pollable fd: the socket itself, or an epoll set of all of them */
	if (pv->nq == 1) {
		p->fd = pv->q[0].fd;
		p->poll_rx = POLLIN;
		p->poll_tx = POLLOUT;
	} else {
		pv->ep_fd = epoll_create1(EPOLL_CLOEXEC);
		if (pv->ep_fd < 0)
			return nmt_err(p, errno, "%s: epoll_create1: %s", ifname, strerror(errno));
		for (i = 0; i < pv->nq; i++) {
			struct epoll_event e = { .events = 0, .data.u32 = i };

			if (epoll_ctl(pv->ep_fd, EPOLL_CTL_ADD, pv->q[i].fd, &e) < 0)
				return nmt_err(p, errno, "%s: epoll_ctl: %s", ifname,
					       strerror(errno));
		}
		p->fd = pv->ep_fd;
		p->poll_rx = POLLIN;
		p->poll_tx = POLLIN;
	}

	p->backend = "xdp";
	snprintf(p->mem_id, sizeof(p->mem_id), "xdp:%d:%p", (int)getpid(), (void *)ar->base);
	o = nmt_port_detail(p, 0, "AF_XDP");
	if (pv->has_rx)
		o = nmt_port_detail(p, o, ", XDP %s", pv->native ? "native" : "generic");
	else
		o = nmt_port_detail(p, o, ", tx only (no XDP program)");
	if (!pv->has_tx)
		o = nmt_port_detail(p, o, ", rx only");
	o = nmt_port_detail(p, o, ", %s%s%s", pv->zc ? "zero-copy" : "copy",
			   pv->need_wakeup ? ", need_wakeup" : "", pv->sg ? ", multi-buffer" : "");
	if (pv->nq == 1)
		o = nmt_port_detail(p, o, ", queue %d", pv->q[0].qid);
	else
		o = nmt_port_detail(p, o, ", queues 0-%u", pv->nq - 1);
	if (ar->nports > 1)
		o = nmt_port_detail(p, o, ", UMEM %s with %u other port%s",
				   ar->shared ? "shared" : "registered per socket, buffers shared",
				   ar->nports - 1, ar->nports > 2 ? "s" : "");
	if (pv->has_rx && pv->maxframe + XDP_HEADROOM > pv->chunk && !pv->sg)
		o = nmt_port_detail(p, o, ", rx frames over %u bytes dropped",
				   pv->chunk - XDP_HEADROOM);
	if (pv->has_rx && !pv->native && pv->natif_err[0])
		nmt_port_detail(p, o, " (native XDP: %s)", pv->natif_err);
	return 0;
}

/* can port pv use an arena of chunk (asked for: fixed) and copy/zero-copy modes? */
static int xdp_fits(const struct xdp_priv *pv, uint32_t *chunk, int *fixed, uint32_t *modes)
{
	uint32_t m = (*modes | pv->mode) & (NMT_XDP_COPY | NMT_XDP_ZEROCOPY);

	if (m == (NMT_XDP_COPY | NMT_XDP_ZEROCOPY))
		return 0;
	if (pv->fixed_chunk && *fixed && pv->want_chunk != *chunk)
		return 0;
	if (pv->fixed_chunk && !*fixed && pv->want_chunk < *chunk)
		return 0;
	if (!pv->fixed_chunk && *fixed && pv->want_chunk > *chunk)
		return 0;
	if (pv->fixed_chunk || pv->want_chunk > *chunk)
		*chunk = pv->want_chunk;
	*fixed |= pv->fixed_chunk;
	*modes = m;
	return 1;
}

/* one arena for ports ps[0..n): buffers, rings, sockets, then each port's finish */
static int xdp_open_arena(struct nmt_port **ps, unsigned n, uint32_t chunk, int *failed)
{
	struct xdp_arena *ar;
	uint64_t nbufs = 0, first = 0;
	unsigned k;
	int rc = -1;

	for (k = 0; k < n; k++)
		nbufs += ((struct xdp_priv *)ps[k]->priv)->nbufs;
	*failed = 0;
	if (nbufs > (1ull << 31) / 4 || nbufs * chunk > (1ull << 40))
		return nmt_err(ps[0], ENOMEM, "%s: %llu AF_XDP buffers are too many; use fewer "
			       "slots", ps[0]->ifname, (unsigned long long)nbufs);
	ar = calloc(1, sizeof(*ar));
	if (!ar)
		return nmt_err(ps[0], ENOMEM, "%s: out of memory", ps[0]->ifname);
	ar->chunk = chunk;
	ar->nbufs = (uint32_t)nbufs;
	ar->nports = n;
	ar->size = (size_t)nbufs * chunk;
	ar->base = mmap(NULL, ar->size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
			0);
	if (ar->base == MAP_FAILED) {
		int e = errno;

		free(ar);
		return nmt_err(ps[0], e, "%s: cannot allocate %zu KiB of AF_XDP buffers: %s",
			       ps[0]->ifname, (size_t)(nbufs * chunk) >> 10, strerror(e));
	}
	/* a forked child must not share pages the kernel has pinned (fork would copy them
	 * all at once, or the two processes would see each other's frames) */
	madvise(ar->base, ar->size, MADV_DONTFORK);
	/* each port holds a reference from xdp_rings on; this one is dropped below */
	ar->refs = 1;
	for (k = 0; k < n; k++) {
		struct xdp_priv *pv = ps[k]->priv;

		*failed = (int)k;
		if (xdp_rings(ps[k], pv, ar, (uint32_t)first) < 0)
			break;
		first += pv->nbufs;
	}
	if (k == n && group_sockets(ps, n, failed) == 0) {
		for (k = 0; k < n; k++) {
			*failed = (int)k;
			if (xdp_finish(ps[k], ps[k]->priv) < 0)
				break;
		}
		rc = k == n ? 0 : -1;
	}
	if (__atomic_sub_fetch(&ar->refs, 1, __ATOMIC_ACQ_REL) == 0) {
		int e = errno;

		munmap(ar->base, ar->size);
		free(ar);
		errno = e;
	}
	return rc;
}

/*
 * nmt_xdp_open_group - open AF_XDP ports together: those that can (same
 * chunk size, compatible copy/zero-copy modes) share one arena and UMEM. On
 * failure *failed is the index of the port whose errmsg says why; the caller
 * closes every port.
 */
int nmt_xdp_open_group(struct nmt_port **ps, const struct nmt_open_req **reqs, unsigned n,
		       int *failed)
{
	struct nmt_port *g[NMT_MAX_RINGS];
	int gi[NMT_MAX_RINGS], done[NMT_MAX_RINGS] = { 0 };
	unsigned k, j, ng;

	*failed = -1;
	if (n > NMT_MAX_RINGS) {
		*failed = 0;
		return nmt_err(ps[0], EINVAL, "at most %d AF_XDP ports open together",
			       NMT_MAX_RINGS);
	}
	/* one XDP program an interface: a second receiving port there would only get EBUSY */
	for (k = 0; k < n; k++)
		for (j = 0; j < k; j++)
			if (!(reqs[k]->flags & NMT_OPEN_TX_ONLY) && !(reqs[j]->flags & NMT_OPEN_TX_ONLY) &&
			    strcmp(reqs[k]->ifname, reqs[j]->ifname) == 0) {
				*failed = (int)k;
				return nmt_err(ps[k], EBUSY, "%s: two ports that receive on one "
					       "interface (one XDP program an interface): open it "
					       "once, with all its queues (netmap:%s), or make one "
					       "transmit-only (/T)", reqs[k]->ifname,
					       reqs[k]->ifname);
			}
	for (k = 0; k < n; k++)
		if (xdp_prepare(ps[k], reqs[k]) < 0) {
			*failed = (int)k;
			return -1;
		}
	for (k = 0; k < n; k++) {
		struct xdp_priv *pv = ps[k]->priv;
		uint32_t chunk = pv->want_chunk, modes = pv->mode;
		int fixed = pv->fixed_chunk, f;

		if (done[k])
			continue;
		ng = 0;
		gi[ng] = (int)k;
		g[ng++] = ps[k];
		done[k] = 1;
		modes &= NMT_XDP_COPY | NMT_XDP_ZEROCOPY;
		for (j = k + 1; j < n; j++)
			if (!done[j] && xdp_fits(ps[j]->priv, &chunk, &fixed, &modes)) {
				gi[ng] = (int)j;
				g[ng++] = ps[j];
				done[j] = 1;
			}
		if (xdp_open_arena(g, ng, chunk, &f) < 0) {
			*failed = gi[f >= 0 ? f : 0];
			return -1;
		}
	}
	return 0;
}

int nmt_xdp_open(struct nmt_port *p, const struct nmt_open_req *req)
{
	int failed;

	return nmt_xdp_open_group(&p, &req, 1, &failed);
}
