/*
 * packet.c - NIC ports over AF_PACKET: one tx and one rx ring per port, in
 * private memory, on any Linux interface and with no kernel module.
 *
 * RX: a TPACKET_V3 ring mapped from the kernel: blocks of variable-size
 * frames that the kernel hands over (TP_STATUS_USER) when a block is full or
 * its retire timer (1 ms) fires. rxsync copies the frames of handed-over
 * blocks into the free slots of the port's rx ring; a frame longer than a
 * buffer spans several slots (NS_MOREFRAG). When the ring fills up in the
 * middle of a block, the position is remembered and the block goes back to
 * the kernel (TP_STATUS_KERNEL) only once all its frames were copied.
 * VLAN tags the stack took out of the frame (the core untags every frame
 * before packet sockets see it) are put back, so frames arrive as on the wire.
 * On a NIC with GRO/LRO on, the kernel merges frames before we see them:
 * turn it off (ethtool -K IF gro off lro off) to receive wire frames.
 *
 * TX: sendmmsg() straight from the ring's buffers (no copy in user space),
 * one message per frame (a MOREFRAG run is one message with several iovecs),
 * up to 1024 messages per call, with PACKET_QDISC_BYPASS. A frame belongs to
 * the kernel once the call returns, so tail follows hwcur at once.
 * A TPACKET_V3 PACKET_TX_RING (same kernel path as V2) was tried and
 * dropped: on veth it was no faster than sendmmsg for small frames and
 * slower for large ones, the kernel's per-frame cost dominating either way
 * (measured by bench/pktgen.py).
 *
 * Queues: with req->queue >= 0 a classic BPF filter (SKF_AD_QUEUE) keeps
 * only the frames of that rx queue. The filter reads skb->queue_mapping raw.
 * Measured on kernel 6.18:
 *  - drivers that record the rx queue with skb_record_rx_queue() store
 *    queue + 1: seen on virtio_net and on a 4-queue tap (frames written on
 *    the tap's queue N reach only the port of queue N); ixgbe, i40e, mlx5...
 *    make the same call;
 *  - veth records nothing (with GRO on too): the value is the peer's tx
 *    queue, which is also the veth rx queue the frame went through (a
 *    sender with qdisc bypass uses tx queue = CPU % queues, so
 *    `taskset -c 1` lands on queue 1);
 *  - a single-queue interface needs no filter (everything is queue 0), and a
 *    multi-queue driver that records nothing delivers nothing to a filtered
 *    port.
 * On tx the kernel picks the queue (CPU % queues with qdisc bypass, or the
 * driver's choice); a packet socket cannot force one.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <linux/ethtool.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
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
#include <sys/uio.h>
#include <unistd.h>

#include "nmt.h"

/*
 * rx ring geometry: the kernel closes a block when it is full or when its
 * retire timer fires, so the ring holds at most blk_nr blocks of traffic or
 * blk_nr * PKT_RETIRE_MS of it, whichever is less. Many small blocks buffer
 * longer at low rates: 256 x 128 KiB = 32 MiB hold ~256 ms at 1 Mpps and
 * ~230k minimum-size frames at any rate. A block must hold the largest frame
 * (64 KiB with GRO).
 */
#define PKT_BLOCK_SIZE (128u << 10) /* rx ring block */
#define PKT_BLOCK_NR 256          /* rx ring blocks (fewer if memory is short) */
#define PKT_BLOCK_MIN 8
#define PKT_FRAME_SIZE 2048       /* nominal rx frame size (V3 frames vary) */
#define PKT_RETIRE_MS 1           /* a partly filled block is handed over after this */
#define PKT_BATCH 1024            /* messages per sendmmsg (UIO_MAXIOV) */
#define PKT_GONE_CHECK_NS 20000000 /* a sleeper asks whether the interface is still there */

struct pkt_priv {
	/* rx: the TPACKET_V3 ring */
	uint8_t *rxr;
	size_t rxr_size;
	uint32_t blk_size, blk_nr;
	uint32_t blk;              /* next block to read */
	uint32_t left;             /* frames of blk not yet copied (when pkt) */
	struct tpacket3_hdr *pkt;  /* next frame of blk; NULL: blk not opened */
	/* tx */
	struct mmsghdr *msgs;
	struct iovec *iov;
	uint32_t *msg_slots;       /* slots of each message */
	/* waiting: p->fd is an epoll set holding the socket (see pkt_arm) */
	int sock;                  /* the AF_PACKET socket */
	uint32_t ep_events;        /* the socket's current epoll interest */
	uint64_t next_check;       /* when pkt_arm next asks whether the interface is gone */
};

static struct tpacket_block_desc *pkt_block(struct pkt_priv *pv, uint32_t b)
{
	return (struct tpacket_block_desc *)(pv->rxr + (size_t)b * pv->blk_size);
}

/* free slots of an rx ring: all but the user's and the one kept empty */
static uint32_t rx_free(const struct nmt_ring *r, uint32_t head, uint32_t tail)
{
	return r->num_slots - 1 - nmt_ring_dist(r, head, tail);
}

static int bad_head(struct nmt_port *p, const struct nmt_ring *r, const char *dir)
{
	return nmt_err(p, EINVAL, "%s: %s ring head %u out of range (the ring has %u slots)",
		       p->ifname, dir, r->head, r->num_slots);
}

/*
 * put_frame - copy a frame given as pieces into slots from t on, splitting
 * it at buffer boundaries (NS_MOREFRAG on all slots but the last).
 * Returns the slot after the frame, or num_slots on a bad buf_idx.
 */
static uint32_t put_frame(struct nmt_port *p, struct nmt_ring *r, uint32_t t,
			  const struct iovec *seg, int nseg)
{
	uint32_t bsz = r->nr_buf_size, used = 0;
	struct nmt_slot *s = nmt_slot(r, t);
	char *dst;
	int i;

	if (s->buf_idx >= p->num_bufs)
		return r->num_slots;
	dst = nmt_buf(r, s->buf_idx);
	for (i = 0; i < nseg; i++) {
		const char *src = seg[i].iov_base;
		size_t rem = seg[i].iov_len;

		while (rem) {
			size_t c;

			if (used == bsz) {
				s->len = (uint16_t)used;
				s->flags = NMT_NS_MOREFRAG;
				t = nmt_ring_next(r, t);
				s = nmt_slot(r, t);
				if (s->buf_idx >= p->num_bufs)
					return r->num_slots;
				dst = nmt_buf(r, s->buf_idx);
				used = 0;
			}
			c = rem < bsz - used ? rem : bsz - used;
			memcpy(dst + used, src, c);
			used += (uint32_t)c;
			src += c;
			rem -= c;
		}
	}
	s->len = (uint16_t)used;
	s->flags = 0;
	return nmt_ring_next(r, t);
}

static void pkt_release_block(struct pkt_priv *pv)
{
	struct tpacket_block_desc *bd = pkt_block(pv, pv->blk);

	__atomic_store_n(&bd->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
	pv->blk = pv->blk + 1 == pv->blk_nr ? 0 : pv->blk + 1;
	pv->pkt = NULL;
	pv->left = 0;
}

/* open the next block if the kernel handed it over; 0 if it did not */
static int pkt_open_block(struct pkt_priv *pv)
{
	struct tpacket_block_desc *bd = pkt_block(pv, pv->blk);

	while (__atomic_load_n(&bd->hdr.bh1.block_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER) {
		if (bd->hdr.bh1.num_pkts) {
			pv->left = bd->hdr.bh1.num_pkts;
			pv->pkt = (struct tpacket3_hdr *)((uint8_t *)bd +
							  bd->hdr.bh1.offset_to_first_pkt);
			return 1;
		}
		pkt_release_block(pv);
		bd = pkt_block(pv, pv->blk);
	}
	return 0;
}

static int pkt_rxsync(struct nmt_port *p, unsigned ri)
{
	struct pkt_priv *pv = p->priv;
	struct nmt_ring *r;
	uint32_t head, tail, got = 0, room;

	if (ri >= p->num_rx_rings)
		return nmt_err(p, EINVAL, "%s: no rx ring %u (the port has %u)", p->ifname, ri,
			       p->num_rx_rings);
	r = p->rx_rings[ri];
	head = r->head;
	tail = p->rxk[ri].hwtail;
	if (head >= r->num_slots)
		return bad_head(p, r, "rx");
	p->rxk[ri].hwcur = head;
	room = rx_free(r, head, tail);
	while (room && (pv->pkt || pkt_open_block(pv))) {
		struct tpacket3_hdr *h = pv->pkt;
		uint8_t *data = (uint8_t *)h + h->tp_mac;
		uint32_t len = h->tp_snaplen, need, nseg = 1;
		struct iovec seg[3];
		uint8_t tag[4];

		seg[0].iov_base = data;
		seg[0].iov_len = len;
		if ((h->tp_status & TP_STATUS_VLAN_VALID) && len >= 12) {
			/* the stack took the tag out: put it back after the MACs */
			uint16_t tpid = (h->tp_status & TP_STATUS_VLAN_TPID_VALID) ?
					h->hv1.tp_vlan_tpid : ETH_P_8021Q;

			tag[0] = (uint8_t)(tpid >> 8);
			tag[1] = (uint8_t)tpid;
			tag[2] = (uint8_t)(h->hv1.tp_vlan_tci >> 8);
			tag[3] = (uint8_t)h->hv1.tp_vlan_tci;
			seg[0].iov_len = 12;
			seg[1].iov_base = tag;
			seg[1].iov_len = 4;
			seg[2].iov_base = data + 12;
			seg[2].iov_len = len - 12;
			nseg = 3;
			len += 4;
		}
		need = len ? (len + r->nr_buf_size - 1) / r->nr_buf_size : 1;
		if (need <= r->num_slots - 1) {
			uint32_t t;

			if (need > room)
				break; /* resume here at the next rxsync */
			t = put_frame(p, r, tail, seg, (int)nseg);
			if (t == r->num_slots) {
				r->tail = p->rxk[ri].hwtail = tail;
				return nmt_err(p, EINVAL, "%s: rx slot %u has a bad buffer index "
					       "(the port has %u buffers)", p->ifname, tail,
					       p->num_bufs);
			}
			tail = t;
			room -= need;
			got++;
		} /* else: a frame longer than the whole ring can never fit; drop it */
		if (--pv->left)
			pv->pkt = (struct tpacket3_hdr *)((uint8_t *)h + h->tp_next_offset);
		else
			pkt_release_block(pv);
	}
	r->tail = p->rxk[ri].hwtail = tail;
	if (got)
		r->ts_ns = nmt_clock_ns();
	return 0;
}

/*
 * The interface can go away under an open port (`ip link del`, or moved to
 * another network namespace): the kernel unbinds the socket and nothing
 * arrives any more, so waits must notice it themselves. `ip link del` first
 * takes the interface down, then unlists it: a send that failed with
 * ENETDOWN waits a moment to tell "down" from "going away".
 */
#define GONE_SETTLE_MS 250

int nmt_err_gone(struct nmt_port *p)
{
	return nmt_err(p, ENXIO, "%s: the interface has gone away (deleted, or moved to another "
		       "network namespace, while in use)", p->ifname);
}

int nmt_if_gone(const struct nmt_port *p)
{
	unsigned idx = if_nametoindex(p->ifname);

	if (idx == 0)
		return errno == ENODEV || errno == ENXIO;
	return (int)idx != p->ifindex; /* another interface took the name */
}

int nmt_if_gone_wait(const struct nmt_port *p, int ms)
{
	uint64_t end = nmt_clock_ns() + (uint64_t)ms * 1000000;

	for (;;) {
		if (nmt_if_gone(p))
			return 1;
		if (nmt_clock_ns() >= end)
			return 0;
		usleep(5000);
	}
}

/* has the kernel unbound the socket (the interface was unregistered)? */
static int pkt_unbound(struct nmt_port *p, struct pkt_priv *pv)
{
	struct sockaddr_ll sll;
	socklen_t sl = sizeof(sll);

	if (getsockname(pv->sock, (struct sockaddr *)&sll, &sl) < 0)
		return 0;
	return sll.sll_ifindex != p->ifindex;
}

/* one-line message for a send error; per_frame tells whether it is the frame's fault */
static int tx_error(struct nmt_port *p, int e, uint32_t len, int *per_frame)
{
	*per_frame = 0;
	switch (e) {
	case ENETDOWN:
		if (pkt_unbound(p, p->priv) || nmt_if_gone_wait(p, GONE_SETTLE_MS))
			return nmt_err_gone(p);
		return nmt_err(p, e, "%s: interface is down (bring it up: ip link set %s up)",
			       p->ifname, p->ifname);
	case ENXIO:
	case ENODEV:
		return nmt_err_gone(p);
	case EMSGSIZE:
		*per_frame = 1;
		return nmt_err(p, e, "%s: frame of %u bytes dropped: longer than the MTU (%d) "
			       "allows; raise it (ip link set %s mtu N)", p->ifname, len, p->mtu,
			       p->ifname);
	case EINVAL:
		*per_frame = 1;
		return nmt_err(p, e, "%s: frame of %u bytes dropped: the kernel refused it "
			       "(shorter than an Ethernet header?)", p->ifname, len);
	default:
		return nmt_err(p, e, "%s: send failed: %s", p->ifname, strerror(e));
	}
}

/*
 * tx_frame - the frame starting at slot c: its slots, and the first bad slot
 * (buffer index or length out of range) in *bad. Returns 1 if the frame ends
 * before head, 0 if it runs into head (the user has not finished it).
 */
static int tx_frame(struct nmt_port *p, struct nmt_ring *r, uint32_t c, uint32_t head,
		    uint32_t *nslots, int64_t *bad)
{
	uint32_t k = 0;

	*bad = -1;
	for (;;) {
		struct nmt_slot *s = nmt_slot(r, c);

		if (*bad < 0 && (s->buf_idx >= p->num_bufs || s->len > r->nr_buf_size))
			*bad = c;
		k++;
		c = nmt_ring_next(r, c);
		if (!(s->flags & NMT_NS_MOREFRAG))
			break;
		if (c == head) {
			*bad = -1; /* judged once it is complete */
			return 0;
		}
	}
	*nslots = k;
	return 1;
}

static int bad_slot(struct nmt_port *p, struct nmt_ring *r, uint32_t c)
{
	struct nmt_slot *s = nmt_slot(r, c);

	return nmt_err(p, EINVAL, "%s: tx frame dropped: slot %u has buffer %u of length %u "
		       "(the port has %u buffers of %u bytes)", p->ifname, c, s->buf_idx, s->len,
		       p->num_bufs, r->nr_buf_size);
}

/*
 * txsync - send the complete frames in [hwcur, head), 1024 per system call,
 * from the buffers themselves. EAGAIN/ENOBUFS leave the rest pending (the
 * next txsync, or a wait for POLLOUT, retries); a frame the kernel refuses
 * is dropped with an error, or it would block the ring for good.
 */
/* does the interface lack a carrier (up, but not running)? */
static int no_carrier(struct nmt_port *p, struct pkt_priv *pv)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, p->ifname, strnlen(p->ifname, IFNAMSIZ - 1));
	if (ioctl(pv->sock, SIOCGIFFLAGS, &ifr) < 0)
		return 0;
	return (ifr.ifr_flags & IFF_UP) && !(ifr.ifr_flags & IFF_RUNNING);
}

static int pkt_txsync(struct nmt_port *p, unsigned ri)
{
	struct pkt_priv *pv = p->priv;
	struct nmt_ring *r;
	uint32_t head, cur, batch = PKT_BATCH;
	int rc = 0, carrier = -1;

	if (ri >= p->num_tx_rings)
		return nmt_err(p, EINVAL, "%s: no tx ring %u (the port has %u)", p->ifname, ri,
			       p->num_tx_rings);
	r = p->tx_rings[ri];
	head = r->head;
	cur = p->txk[ri].hwcur;
	if (head >= r->num_slots)
		return bad_head(p, r, "tx");
	while (cur != head) {
		uint32_t c = cur, nmsg = 0, nio = 0, k = 0, i;
		int64_t bad = -1;
		int n;

		while (c != head && nmsg < batch) {
			struct msghdr *mh = &pv->msgs[nmsg].msg_hdr;

			if (!tx_frame(p, r, c, head, &k, &bad) || bad >= 0)
				break;
			memset(mh, 0, sizeof(*mh));
			mh->msg_iov = &pv->iov[nio];
			mh->msg_iovlen = k;
			for (i = 0; i < k; i++) {
				struct nmt_slot *s = nmt_slot(r, c);

				pv->iov[nio].iov_base = nmt_buf(r, s->buf_idx);
				pv->iov[nio].iov_len = s->len;
				nio++;
				c = nmt_ring_next(r, c);
			}
			pv->msg_slots[nmsg++] = k;
		}
		if (nmsg == 0) {
			if (bad >= 0) { /* the first frame is bad: drop it */
				rc = bad_slot(p, r, (uint32_t)bad);
				cur = nmt_ring_add(r, cur, k);
			}
			break; /* or the user has not finished the frame */
		}
		do {
			n = sendmmsg(pv->sock, pv->msgs, nmsg, MSG_DONTWAIT);
		} while (n < 0 && errno == EINTR);
		if (n < 0) {
			int e = errno, per_frame;
			uint32_t bytes = 0;

			if (e == ENOBUFS && carrier < 0)
				carrier = !no_carrier(p, pv);
			if (e == ENOBUFS && !carrier) {
				/*
				 * The device took the first frame and dropped it: no carrier
				 * (on veth: the peer is down). Retrying would send it into the
				 * void forever at 0 pps; it is the kernel's (counted in the
				 * interface's tx_dropped) and counted here. The others follow,
				 * one a call, so each is the kernel's to send or drop.
				 */
				p->tx_dropped[ri]++;
				cur = nmt_ring_add(r, cur, pv->msg_slots[0]);
				batch = 1;
				continue;
			}
			if (e == EAGAIN || e == ENOBUFS)
				break; /* full (ENOBUFS on veth: the peer's backlog): the rest
					* stays pending, and the dropped frame is sent again */
			for (i = 0; i < pv->msgs[0].msg_hdr.msg_iovlen; i++)
				bytes += (uint32_t)pv->msgs[0].msg_hdr.msg_iov[i].iov_len;
			rc = tx_error(p, e, bytes, &per_frame);
			if (per_frame)
				cur = nmt_ring_add(r, cur, pv->msg_slots[0]);
			break;
		}
		/* fewer than nmsg: the next call sends the rest or tells why not */
		for (i = 0; i < (uint32_t)n; i++)
			cur = nmt_ring_add(r, cur, pv->msg_slots[i]);
	}
	p->txk[ri].hwcur = cur;
	p->txk[ri].hwtail = r->tail = nmt_ring_prev(r, cur);
	return rc;
}

/* one tx and one rx ring: the ring argument of the ops has nothing to choose */
static int pkt_tx_pending(struct nmt_port *p, int ring)
{
	(void)ring;
	return p->num_tx_rings && p->txk[0].hwcur != p->tx_rings[0]->head;
}

static int pkt_rx_ready(struct nmt_port *p)
{
	struct pkt_priv *pv = p->priv;

	if (!p->num_rx_rings)
		return 0;
	if (p->rx_rings[0]->head != p->rxk[0].hwtail || pv->pkt)
		return 1;
	return !!(__atomic_load_n(&pkt_block(pv, pv->blk)->hdr.bh1.block_status,
				  __ATOMIC_ACQUIRE) & TP_STATUS_USER);
}

/*
 * arm - ready now, or about to sleep on the socket. A pending socket error
 * (the kernel reports ENETDOWN when the interface goes down) is collected
 * here: it is an error only when frames wait to be sent; a receiver just
 * waits for the link to come back, unless the interface is gone (the kernel
 * unbound the socket: checked every PKT_GONE_CHECK_NS of sleeping).
 * p->fd is an epoll set holding the socket, so that such an error makes the
 * wait return (and the next arm collect it) instead of failing it with
 * POLLERR; its interest is only what the caller waits for.
 */
static int pkt_arm(struct nmt_port *p, int ring, int events)
{
	struct pkt_priv *pv = p->priv;
	int pending, soerr = 0;
	socklen_t sl = sizeof(soerr);
	uint32_t ev;
	uint64_t now;

	if ((events & NMT_WAIT_RX) && pkt_rx_ready(p))
		return 1;
	(void)ring;
	pending = (events & NMT_WAIT_TX) && p->num_tx_rings && pkt_tx_pending(p, 0);
	if ((events & NMT_WAIT_TX) && p->num_tx_rings && !pending)
		return 1;
	if (getsockopt(pv->sock, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr) {
		int per_frame;

		if (soerr != ENETDOWN || pending)
			return tx_error(p, soerr, 0, &per_frame);
	}
	now = nmt_clock_ns();
	if (now >= pv->next_check) {
		pv->next_check = now + PKT_GONE_CHECK_NS;
		if (pkt_unbound(p, pv))
			return nmt_err_gone(p);
	}
	ev = ((events & NMT_WAIT_RX) && p->num_rx_rings ? EPOLLIN : 0) | (pending ? EPOLLOUT : 0);
	if (ev != pv->ep_events) {
		struct epoll_event e = { .events = ev };

		if (epoll_ctl(p->fd, EPOLL_CTL_MOD, pv->sock, &e) < 0)
			return nmt_err(p, errno, "%s: epoll_ctl: %s", p->ifname, strerror(errno));
		pv->ep_events = ev;
	}
	return 0;
}

static void pkt_close(struct nmt_port *p)
{
	struct pkt_priv *pv = p->priv;

	if (!pv)
		return;
	if (pv->rxr)
		munmap(pv->rxr, pv->rxr_size);
	free(pv->msgs);
	free(pv->iov);
	free(pv->msg_slots);
	if (pv->sock >= 0)
		close(pv->sock);
	free(pv);
	p->priv = NULL;
}

static const struct nmt_ops pkt_ops = {
	.name = "packet",
	.txsync = pkt_txsync,
	.rxsync = pkt_rxsync,
	.arm = pkt_arm,
	.tx_pending = pkt_tx_pending,
	.close = pkt_close,
};

/* keep only the frames of rx queue q (see the top of the file for the value) */
static int pkt_queue_filter(struct nmt_port *p, int q, int is_veth)
{
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (uint32_t)(SKF_AD_OFF + SKF_AD_QUEUE)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)(is_veth ? q : q + 1), 0, 1),
		BPF_STMT(BPF_RET | BPF_K, 0x7fffffff),
		BPF_STMT(BPF_RET | BPF_K, 0),
	};
	struct sock_fprog prog = { .len = 4, .filter = code };

	if (setsockopt(p->fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0)
		return nmt_err(p, errno, "%s: cannot attach the queue %d filter: %s", p->ifname,
			       q, strerror(errno));
	return 0;
}

static int pkt_setup_rx(struct nmt_port *p, struct pkt_priv *pv)
{
	struct tpacket_req3 req;
	uint32_t nr = PKT_BLOCK_NR;

	for (;;) {
		memset(&req, 0, sizeof(req));
		req.tp_block_size = PKT_BLOCK_SIZE;
		req.tp_block_nr = nr;
		req.tp_frame_size = PKT_FRAME_SIZE;
		req.tp_frame_nr = nr * (PKT_BLOCK_SIZE / PKT_FRAME_SIZE);
		req.tp_retire_blk_tov = PKT_RETIRE_MS;
		if (setsockopt(p->fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req)) == 0)
			break;
		if (errno != ENOMEM || nr / 2 < PKT_BLOCK_MIN)
			return nmt_err(p, errno, "%s: cannot set up a %ux%u KiB TPACKET_V3 rx "
				       "ring: %s", p->ifname, nr, PKT_BLOCK_SIZE >> 10,
				       strerror(errno));
		nr /= 2;
	}
	pv->blk_size = PKT_BLOCK_SIZE;
	pv->blk_nr = nr;
	return 0;
}

int nmt_packet_open(struct nmt_port *p, const struct nmt_open_req *req)
{
	const char *ifname = req->ifname;
	int has_tx = !(req->flags & NMT_OPEN_RX_ONLY), has_rx = !(req->flags & NMT_OPEN_TX_ONLY);
	uint32_t tx_slots = req->tx_slots ? req->tx_slots : 1024;
	uint32_t rx_slots = req->rx_slots ? req->rx_slots : 1024;
	uint32_t buf_size = req->buf_size ? req->buf_size : 2048;
	struct sockaddr_ll sll;
	struct pkt_priv *pv;
	int is_veth = 0, v = TPACKET_V3, one = 1, bypass = 0, soerr;
	socklen_t sl = sizeof(soerr);
	size_t o;

	if (nmt_if_query(p, ifname) < 0)
		return -1;
	if (!has_tx && !has_rx)
		return nmt_err(p, EINVAL, "%s: a port cannot be both tx-only and rx-only", ifname);
	if (req->mode != 0)
		return nmt_err(p, EINVAL, "%s: AF_PACKET mode %u unknown (0 is the only one: "
			       "sendmmsg tx)", ifname, req->mode);
	if (buf_size < 64 || buf_size > 65535)
		return nmt_err(p, EINVAL, "%s: buffer size %u out of range [64, 65535]", ifname,
			       buf_size);
	if (req->queue < -1)
		return nmt_err(p, EINVAL, "%s: bad queue %d", ifname, req->queue);

	p->fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (p->fd < 0) {
		if (errno == EPERM || errno == EACCES)
			return nmt_err(p, errno, "%s: permission denied opening an AF_PACKET socket "
				       "(run as root or give CAP_NET_RAW)", ifname);
		if (errno == EAFNOSUPPORT)
			return nmt_err(p, errno, "%s: this kernel has no AF_PACKET sockets "
				       "(CONFIG_PACKET)", ifname);
		return nmt_err(p, errno, "%s: AF_PACKET socket: %s", ifname, strerror(errno));
	}
	pv = calloc(1, sizeof(*pv));
	if (!pv)
		return nmt_err(p, ENOMEM, "%s: out of memory", ifname);
	pv->sock = -1; /* until the socket moves from p->fd into the epoll set */
	memset(p->tx_dropped, 0, sizeof(p->tx_dropped)); /* a handle may be opened again */
	p->priv = pv;
	p->ops = &pkt_ops; /* from here on a failed open is cleaned up by pkt_close */

	{
		struct nmt_if_queues q;

		nmt_if_queues(p, ifname, &q);
		p->num_queues = q.rx;
		is_veth = q.is_veth;
	}
	if (req->queue >= p->num_queues)
		return nmt_err(p, EINVAL, "%s: queue %d does not exist (the interface has %d "
			       "queues: 0-%d)", ifname, req->queue, p->num_queues,
			       p->num_queues - 1);
	p->queue = req->queue;

	if (setsockopt(p->fd, SOL_PACKET, PACKET_VERSION, &v, sizeof(v)) < 0)
		return nmt_err(p, errno, "%s: this kernel has no TPACKET_V3 (PACKET_VERSION: %s)",
			       ifname, strerror(errno));
	if (has_rx) {
		if (pkt_setup_rx(p, pv) < 0)
			return -1;
		pv->rxr_size = (size_t)pv->blk_size * pv->blk_nr;
		pv->rxr = mmap(NULL, pv->rxr_size, PROT_READ | PROT_WRITE, MAP_SHARED, p->fd, 0);
		if (pv->rxr == MAP_FAILED) {
			pv->rxr = NULL;
			return nmt_err(p, errno, "%s: cannot map the rx ring (%zu bytes): %s",
				       ifname, pv->rxr_size, strerror(errno));
		}
		/* kernel >= 4.20; older ones loop back our frames only without bypass */
		setsockopt(p->fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one));
		if (req->queue >= 0 && p->num_queues > 1 &&
		    pkt_queue_filter(p, req->queue, is_veth) < 0)
			return -1;
	}
	if (has_tx)
		bypass = setsockopt(p->fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one,
				    sizeof(one)) == 0;

	/* bind last: a socket only receives once it is bound with a protocol */
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = has_rx ? htons(ETH_P_ALL) : 0;
	sll.sll_ifindex = p->ifindex;
	if (bind(p->fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		return nmt_err(p, errno, "%s: cannot bind the AF_PACKET socket: %s", ifname,
			       strerror(errno));
	/* binding to a down interface leaves ENETDOWN pending: not an error yet */
	getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
	if (has_rx && req->fanout) {
		/* several sockets share the interface's traffic, a flow to each */
		int arg = (int)((req->fanout & 0xffff) | (PACKET_FANOUT_HASH << 16));

		if (setsockopt(p->fd, SOL_PACKET, PACKET_FANOUT, &arg, sizeof(arg)) < 0)
			return nmt_err(p, errno, "%s: cannot join fanout group %u: %s", ifname,
				       req->fanout & 0xffff, strerror(errno));
	}

	if (nmt_ring_alloc(p, has_tx ? 1 : 0, has_rx ? 1 : 0, tx_slots, rx_slots, buf_size) < 0)
		return -1;
	if (has_tx) {
		pv->msgs = calloc(PKT_BATCH, sizeof(*pv->msgs));
		pv->msg_slots = calloc(PKT_BATCH, sizeof(*pv->msg_slots));
		pv->iov = calloc(tx_slots, sizeof(*pv->iov));
		if (!pv->msgs || !pv->msg_slots || !pv->iov)
			return nmt_err(p, ENOMEM, "%s: out of memory", ifname);
	}

	{
		struct epoll_event e = { .events = 0 };
		int ep = epoll_create1(EPOLL_CLOEXEC);

		if (ep < 0)
			return nmt_err(p, errno, "%s: epoll_create1: %s", ifname, strerror(errno));
		if (epoll_ctl(ep, EPOLL_CTL_ADD, p->fd, &e) < 0) {
			int e2 = errno;

			close(ep);
			return nmt_err(p, e2, "%s: epoll_ctl: %s", ifname, strerror(e2));
		}
		pv->sock = p->fd;
		p->fd = ep;
	}

	p->backend = "packet";
	snprintf(p->mem_id, sizeof(p->mem_id), "packet:%s:%d:%p", ifname, (int)getpid(),
		 (void *)p->region);
	p->poll_rx = POLLIN; /* on the epoll set */
	p->poll_tx = POLLIN;
	o = 0;
	if (has_rx)
		o = nmt_port_detail(p, o, "TPACKET_V3 rx ring %ux%uKiB", pv->blk_nr, pv->blk_size >> 10);
	else
		o = nmt_port_detail(p, o, "no rx");
	if (has_tx)
		o = nmt_port_detail(p, o, ", sendmmsg tx%s", bypass ? ", qdisc bypass" : "");
	else
		o = nmt_port_detail(p, o, ", no tx");
	if (req->queue >= 0) {
		o = nmt_port_detail(p, o, ", queue %d:", req->queue);
		if (has_rx)
			o = nmt_port_detail(p, o, " rx %s", p->num_queues > 1 ? "by BPF filter" : "all");
		if (has_tx)
			nmt_port_detail(p, o, "%s tx picked by the kernel", has_rx ? "," : "");
	}
	return 0;
}
