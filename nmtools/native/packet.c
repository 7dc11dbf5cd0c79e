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
 * TX (mode 0, the default): sendmmsg() straight from the ring's buffers, one
 * message per frame (a MOREFRAG run is one message with several iovecs), up
 * to 1024 messages per call, with PACKET_QDISC_BYPASS. A frame is handed over
 * when the call returns, so tail follows hwcur at once.
 * TX (mode 1): a TPACKET_V3 PACKET_TX_RING on the same socket: txsync copies
 * frames into the kernel ring and kicks it with send(). On veth it was not
 * faster than sendmmsg (see the numbers below), so it is not the default.
 *
 * Queues: with req->queue >= 0 a classic BPF filter (SKF_AD_QUEUE) keeps
 * only the frames of that rx queue. The filter reads skb->queue_mapping raw.
 * Measured on kernel 6.18:
 *  - drivers that record the rx queue (virtio_net, and by the same
 *    skb_record_rx_queue() call ixgbe, i40e, mlx5, tun...) store queue + 1;
 *  - veth records nothing: the value is the peer's tx queue, which is also
 *    the veth rx queue the frame went through (a sender with qdisc bypass
 *    uses tx queue = CPU % queues, so `taskset -c 1` lands on queue 1);
 *  - a single-queue interface needs no filter (everything is queue 0), and a
 *    multi-queue driver that records nothing delivers nothing to a filtered
 *    port.
 * On tx the kernel picks the queue (CPU % queues with qdisc bypass, or the
 * driver's choice); there is no way to force one from a packet socket.
 *
 * Measured on veth, 60-byte frames, peer up in another namespace, 2 vCPUs
 * (medians): see the report in the commit; sendmmsg and the tx ring both move
 * ~0.8-1 Mpps, bounded by the kernel's per-frame cost.
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "nmt.h"

#define PKT_BLOCK_SIZE (1u << 20) /* rx ring block */
#define PKT_BLOCK_NR 32           /* rx ring blocks (fewer if memory is short) */
#define PKT_BLOCK_MIN 4
#define PKT_FRAME_SIZE 2048       /* nominal rx frame size (V3 frames vary) */
#define PKT_RETIRE_MS 1           /* a partly filled block is handed over after this */
#define PKT_BATCH 1024            /* messages per sendmmsg (UIO_MAXIOV) */
#define PKT_TXR_BLOCK (1u << 16)  /* tx ring block (mode 1) */
#define PKT_TXR_HDR TPACKET_ALIGN(sizeof(struct tpacket3_hdr)) /* data offset */

enum { PKT_TX_MMSG = 0, PKT_TX_RING = 1 };

struct pkt_priv {
	int mode;
	/* rx: TPACKET_V3 ring, then (mode 1) the tx ring, in one mapping */
	uint8_t *map;
	size_t map_size;
	uint8_t *rxr;
	uint32_t blk_size, blk_nr;
	uint32_t blk;              /* next block to read */
	uint32_t left;             /* frames of blk not yet copied (when pkt) */
	struct tpacket3_hdr *pkt;  /* next frame of blk; NULL: blk not opened */
	/* tx, mode 0 */
	struct mmsghdr *msgs;
	struct iovec *iov;
	uint32_t *msg_slots;       /* slots of each message */
	/* tx, mode 1 */
	uint8_t *txr;
	uint32_t fr_size, fr_nr;
	uint32_t fr_cur;           /* next frame to fill */
	uint32_t fr_old;           /* oldest frame that may still be in the kernel */
};

static struct tpacket_block_desc *pkt_block(struct pkt_priv *pv, uint32_t b)
{
	return (struct tpacket_block_desc *)(pv->rxr + (size_t)b * pv->blk_size);
}

static struct tpacket3_hdr *pkt_txframe(struct pkt_priv *pv, uint32_t f)
{
	return (struct tpacket3_hdr *)(pv->txr + (size_t)f * pv->fr_size);
}

/* free slots of an rx ring: all but the user's and the one kept empty */
static uint32_t rx_free(const struct nmt_ring *r, uint32_t head, uint32_t tail)
{
	uint32_t used = tail >= head ? tail - head : tail + r->num_slots - head;

	return r->num_slots - 1 - used;
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
	struct nmt_ring *r = p->rx_rings[ri];
	uint32_t head = r->head, tail = p->rxk[ri].hwtail, got = 0, room;

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
		r->ts_ns = nmt_now_ns();
	return 0;
}

/* one-line message for a send error; per_frame tells whether it is the frame's fault */
static int tx_error(struct nmt_port *p, int e, uint32_t len, int *per_frame)
{
	*per_frame = 0;
	switch (e) {
	case ENETDOWN:
		return nmt_err(p, e, "%s: interface is down (bring it up: ip link set %s up)",
			       p->ifname, p->ifname);
	case ENXIO:
	case ENODEV:
		return nmt_err(p, e, "%s: interface has gone away", p->ifname);
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
 * tx_frame - measure the frame starting at slot c: its slots and bytes.
 * Returns 1 if complete before head, 0 if it runs into head (not finished by
 * the user), -1 if a slot is bad.
 */
static int tx_frame(struct nmt_port *p, struct nmt_ring *r, uint32_t c, uint32_t head,
		    uint32_t *nslots, uint32_t *bytes)
{
	uint32_t k = 0, b = 0;

	for (;;) {
		struct nmt_slot *s = nmt_slot(r, c);

		if (s->buf_idx >= p->num_bufs || s->len > r->nr_buf_size) {
			*nslots = k + 1;
			*bytes = b + s->len;
			return -1;
		}
		b += s->len;
		k++;
		c = nmt_ring_next(r, c);
		if (!(s->flags & NMT_NS_MOREFRAG))
			break;
		if (c == head)
			return 0;
	}
	*nslots = k;
	*bytes = b;
	return 1;
}

static int bad_slot(struct nmt_port *p, struct nmt_ring *r, uint32_t c)
{
	struct nmt_slot *s = nmt_slot(r, c);

	return nmt_err(p, EINVAL, "%s: tx frame at slot %u dropped: bad buffer index %u or "
		       "length %u (at most %u buffers of %u bytes)", p->ifname, c, s->buf_idx,
		       s->len, p->num_bufs, r->nr_buf_size);
}

static void tx_done(struct nmt_port *p, unsigned ri, uint32_t cur)
{
	struct nmt_ring *r = p->tx_rings[ri];

	p->txk[ri].hwcur = cur;
	p->txk[ri].hwtail = r->tail = cur == 0 ? r->num_slots - 1 : cur - 1;
}

static int pkt_txsync_mmsg(struct nmt_port *p, unsigned ri)
{
	struct pkt_priv *pv = p->priv;
	struct nmt_ring *r = p->tx_rings[ri];
	uint32_t head = r->head, cur = p->txk[ri].hwcur;
	int rc = 0;

	if (head >= r->num_slots)
		return bad_head(p, r, "tx");
	while (cur != head) {
		uint32_t c = cur, nmsg = 0, nio = 0, bad = 0, i;
		int n;

		while (c != head && nmsg < PKT_BATCH) {
			struct msghdr *mh = &pv->msgs[nmsg].msg_hdr;
			uint32_t k, bytes, j;
			int ok = tx_frame(p, r, c, head, &k, &bytes);

			if (ok == 0)
				break;
			if (ok < 0) {
				bad = 1;
				break;
			}
			memset(mh, 0, sizeof(*mh));
			mh->msg_iov = &pv->iov[nio];
			mh->msg_iovlen = k;
			for (j = 0; j < k; j++) {
				struct nmt_slot *s = nmt_slot(r, c);

				pv->iov[nio].iov_base = nmt_buf(r, s->buf_idx);
				pv->iov[nio].iov_len = s->len;
				nio++;
				c = nmt_ring_next(r, c);
			}
			pv->msg_slots[nmsg++] = k;
		}
		if (nmsg == 0) {
			if (bad) { /* drop the bad frame, say so */
				uint32_t k, bytes;

				tx_frame(p, r, cur, head, &k, &bytes);
				rc = bad_slot(p, r, cur);
				cur = nmt_ring_add(r, cur, k);
			}
			break; /* or an unfinished frame: wait for the user */
		}
		do {
			n = sendmmsg(p->fd, pv->msgs, nmsg, MSG_DONTWAIT);
		} while (n < 0 && errno == EINTR);
		if (n < 0) {
			int e = errno, per_frame;
			uint32_t bytes = 0;

			if (e == EAGAIN || e == ENOBUFS)
				break; /* full: the rest stays pending */
			for (i = 0; i < pv->msgs[0].msg_hdr.msg_iovlen; i++)
				bytes += (uint32_t)pv->msgs[0].msg_hdr.msg_iov[i].iov_len;
			rc = tx_error(p, e, bytes, &per_frame);
			if (per_frame) /* drop it, or it blocks the ring for good */
				cur = nmt_ring_add(r, cur, pv->msg_slots[0]);
			break;
		}
		/* fewer than nmsg: the next call sends the rest or tells why not */
		for (i = 0; i < (uint32_t)n; i++)
			cur = nmt_ring_add(r, cur, pv->msg_slots[i]);
	}
	tx_done(p, ri, cur);
	return rc;
}

/* mode 1: copy frames into the kernel's tx ring, then kick it */
static int pkt_txsync_ring(struct nmt_port *p, unsigned ri)
{
	struct pkt_priv *pv = p->priv;
	struct nmt_ring *r = p->tx_rings[ri];
	uint32_t head = r->head, cur = p->txk[ri].hwcur, queued = 0;
	uint32_t maxlen = pv->fr_size - PKT_TXR_HDR;
	int rc = 0, n;

	if (head >= r->num_slots)
		return bad_head(p, r, "tx");
	if (p->mtu > 0 && (uint32_t)p->mtu + 18 < maxlen)
		maxlen = (uint32_t)p->mtu + 18;
	while (cur != head) {
		struct tpacket3_hdr *h = pkt_txframe(pv, pv->fr_cur);
		uint32_t k, bytes, j, c = cur, off = 0;
		int ok = tx_frame(p, r, cur, head, &k, &bytes);

		if (ok == 0)
			break;
		if (ok < 0 || bytes > maxlen) {
			if (ok < 0)
				rc = bad_slot(p, r, cur);
			else
				rc = nmt_err(p, EMSGSIZE, "%s: frame of %u bytes dropped: longer "
					     "than the MTU (%d) allows; raise it (ip link set %s "
					     "mtu N)", p->ifname, bytes, p->mtu, p->ifname);
			cur = nmt_ring_add(r, cur, k);
			break;
		}
		if (__atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE) != TP_STATUS_AVAILABLE)
			break; /* kernel ring full */
		for (j = 0; j < k; j++) {
			struct nmt_slot *s = nmt_slot(r, c);

			memcpy((uint8_t *)h + PKT_TXR_HDR + off, nmt_buf(r, s->buf_idx), s->len);
			off += s->len;
			c = nmt_ring_next(r, c);
		}
		h->tp_len = bytes;
		h->tp_snaplen = bytes;
		h->tp_next_offset = 0;
		__atomic_store_n(&h->tp_status, TP_STATUS_SEND_REQUEST, __ATOMIC_RELEASE);
		pv->fr_cur = pv->fr_cur + 1 == pv->fr_nr ? 0 : pv->fr_cur + 1;
		cur = c;
		queued++;
	}
	tx_done(p, ri, cur);
	if (!queued && pv->fr_old == pv->fr_cur)
		return rc;
	do {
		n = (int)send(p->fd, NULL, 0, MSG_DONTWAIT);
	} while (n < 0 && errno == EINTR);
	if (n < 0 && errno != EAGAIN && errno != ENOBUFS) {
		int per_frame;

		return tx_error(p, errno, 0, &per_frame);
	}
	return rc;
}

static int pkt_txsync(struct nmt_port *p, unsigned ri)
{
	struct pkt_priv *pv = p->priv;

	return pv->mode == PKT_TX_RING ? pkt_txsync_ring(p, ri) : pkt_txsync_mmsg(p, ri);
}

static int pkt_tx_pending(struct nmt_port *p)
{
	struct pkt_priv *pv = p->priv;

	if (!p->num_tx_rings)
		return 0;
	if (p->txk[0].hwcur != p->tx_rings[0]->head)
		return 1;
	if (pv->mode == PKT_TX_RING) {
		while (pv->fr_old != pv->fr_cur) {
			struct tpacket3_hdr *h = pkt_txframe(pv, pv->fr_old);

			if (__atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE) != TP_STATUS_AVAILABLE)
				return 1;
			pv->fr_old = pv->fr_old + 1 == pv->fr_nr ? 0 : pv->fr_old + 1;
		}
	}
	return 0;
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
 * (the kernel reports ENETDOWN when the interface goes down) would make
 * poll() return POLLERR at once: collect it here. It is an error only when
 * frames wait to be sent; a receiver just waits for the link to come back.
 */
static int pkt_arm(struct nmt_port *p, int events)
{
	int pending, soerr = 0;
	socklen_t sl = sizeof(soerr);

	if ((events & NMT_WAIT_RX) && pkt_rx_ready(p))
		return 1;
	pending = (events & NMT_WAIT_TX) && p->num_tx_rings && pkt_tx_pending(p);
	if ((events & NMT_WAIT_TX) && p->num_tx_rings && !pending)
		return 1;
	if (getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr) {
		int per_frame;

		if (soerr != ENETDOWN || pending)
			return tx_error(p, soerr, 0, &per_frame);
	}
	return 0;
}

static void pkt_close(struct nmt_port *p)
{
	struct pkt_priv *pv = p->priv;

	if (!pv)
		return;
	if (pv->map)
		munmap(pv->map, pv->map_size);
	free(pv->msgs);
	free(pv->iov);
	free(pv->msg_slots);
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

/* rx queues of the interface: ethtool channels, else sysfs, else 1 */
static int pkt_num_queues(struct nmt_port *p, const char *ifname, int *is_veth)
{
	struct ethtool_channels ch;
	struct ethtool_drvinfo di;
	struct ifreq ifr;
	char path[128];
	struct dirent *de;
	DIR *d;
	FILE *f;
	int n = 0, idx = -1;

	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, ifname, strnlen(ifname, IFNAMSIZ - 1));
	memset(&di, 0, sizeof(di));
	di.cmd = ETHTOOL_GDRVINFO;
	ifr.ifr_data = (void *)&di;
	*is_veth = ioctl(p->fd, SIOCETHTOOL, &ifr) == 0 && strcmp(di.driver, "veth") == 0;
	memset(&ch, 0, sizeof(ch));
	ch.cmd = ETHTOOL_GCHANNELS;
	ifr.ifr_data = (void *)&ch;
	if (ioctl(p->fd, SIOCETHTOOL, &ifr) == 0 && ch.rx_count + ch.combined_count > 0)
		return (int)(ch.rx_count + ch.combined_count);
	/* sysfs shows the namespace it was mounted in: check it is ours */
	snprintf(path, sizeof(path), "/sys/class/net/%s/ifindex", ifname);
	f = fopen(path, "re");
	if (f) {
		if (fscanf(f, "%d", &idx) != 1)
			idx = -1;
		fclose(f);
	}
	if (idx != p->ifindex)
		return 1;
	snprintf(path, sizeof(path), "/sys/class/net/%s/queues", ifname);
	d = opendir(path);
	if (!d)
		return 1;
	while ((de = readdir(d)))
		if (strncmp(de->d_name, "rx-", 3) == 0)
			n++;
	closedir(d);
	return n > 0 ? n : 1;
}

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

static uint32_t pow2_at_least(uint32_t x)
{
	uint32_t v = 64;

	while (v < x)
		v <<= 1;
	return v;
}

static int pkt_setup_txring(struct nmt_port *p, struct pkt_priv *pv, uint32_t slots)
{
	struct tpacket_req3 req;
	uint32_t mtu = p->mtu > 0 ? (uint32_t)p->mtu : 1500, bsz, fpb;

	pv->fr_size = pow2_at_least(PKT_TXR_HDR + mtu + 18);
	if (pv->fr_size > (1u << 17))
		return nmt_err(p, EINVAL, "%s: MTU %u too large for a tx ring (use mode 0)",
			       p->ifname, mtu);
	bsz = pv->fr_size > PKT_TXR_BLOCK ? pv->fr_size : PKT_TXR_BLOCK;
	fpb = bsz / pv->fr_size;
	pv->fr_nr = (slots + fpb - 1) / fpb * fpb;
	memset(&req, 0, sizeof(req));
	req.tp_block_size = bsz;
	req.tp_block_nr = pv->fr_nr / fpb;
	req.tp_frame_size = pv->fr_size;
	req.tp_frame_nr = pv->fr_nr;
	if (setsockopt(p->fd, SOL_PACKET, PACKET_TX_RING, &req, sizeof(req)) < 0)
		return nmt_err(p, errno, "%s: cannot set up a %u-frame tx ring: %s", p->ifname,
			       pv->fr_nr, strerror(errno));
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
	size_t rx_bytes = 0, tx_bytes = 0;
	char txd[48], qd[64];

	if (nmt_if_query(p, ifname) < 0)
		return -1;
	if (!has_tx && !has_rx)
		return nmt_err(p, EINVAL, "%s: a port cannot be both tx-only and rx-only", ifname);
	if (req->mode > PKT_TX_RING)
		return nmt_err(p, EINVAL, "%s: AF_PACKET mode %u unknown (0 sendmmsg, 1 tx ring)",
			       ifname, req->mode);
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
	p->priv = pv;
	p->ops = &pkt_ops; /* from here on a failed open is cleaned up by pkt_close */
	pv->mode = (int)req->mode;
	pv->blk_nr = 1;

	p->num_queues = pkt_num_queues(p, ifname, &is_veth);
	if (req->queue >= p->num_queues)
		return nmt_err(p, EINVAL, "%s: queue %d does not exist (the interface has %d "
			       "queues: 0-%d)", ifname, req->queue, p->num_queues,
			       p->num_queues - 1);
	p->queue = req->queue;

	if (setsockopt(p->fd, SOL_PACKET, PACKET_VERSION, &v, sizeof(v)) < 0)
		return nmt_err(p, errno, "%s: this kernel has no TPACKET_V3 (PACKET_VERSION: %s)",
			       ifname, strerror(errno));
	/* a malformed frame in the tx ring is skipped, not left to block it;
	 * must come before any ring exists */
	if (has_tx && pv->mode == PKT_TX_RING &&
	    setsockopt(p->fd, SOL_PACKET, PACKET_LOSS, &one, sizeof(one)) < 0)
		return nmt_err(p, errno, "%s: PACKET_LOSS: %s", ifname, strerror(errno));
	if (has_rx) {
		if (pkt_setup_rx(p, pv) < 0)
			return -1;
		rx_bytes = (size_t)pv->blk_size * pv->blk_nr;
		/* kernel >= 4.20; older ones would only loop back without bypass */
		setsockopt(p->fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one));
		if (req->queue >= 0 && p->num_queues > 1 &&
		    pkt_queue_filter(p, req->queue, is_veth) < 0)
			return -1;
	}
	if (has_tx) {
		bypass = setsockopt(p->fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one,
				    sizeof(one)) == 0;
		if (pv->mode == PKT_TX_RING) {
			if (pkt_setup_txring(p, pv, tx_slots) < 0)
				return -1;
			tx_bytes = (size_t)pv->fr_size * pv->fr_nr;
		}
	}
	if (rx_bytes + tx_bytes) {
		pv->map = mmap(NULL, rx_bytes + tx_bytes, PROT_READ | PROT_WRITE,
			       MAP_SHARED, p->fd, 0);
		if (pv->map == MAP_FAILED) {
			pv->map = NULL;
			return nmt_err(p, errno, "%s: cannot map the packet rings (%zu bytes): %s",
				       ifname, rx_bytes + tx_bytes, strerror(errno));
		}
		pv->map_size = rx_bytes + tx_bytes;
		pv->rxr = rx_bytes ? pv->map : NULL;
		pv->txr = tx_bytes ? pv->map + rx_bytes : NULL;
	}

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

	if (nmt_rings_alloc(p, has_tx ? 1 : 0, has_rx ? 1 : 0, tx_slots, rx_slots, buf_size,
			    0) < 0)
		return -1;
	if (has_tx && pv->mode == PKT_TX_MMSG) {
		pv->msgs = calloc(PKT_BATCH, sizeof(*pv->msgs));
		pv->msg_slots = calloc(PKT_BATCH, sizeof(*pv->msg_slots));
		pv->iov = calloc(tx_slots, sizeof(*pv->iov));
		if (!pv->msgs || !pv->msg_slots || !pv->iov)
			return nmt_err(p, ENOMEM, "%s: out of memory", ifname);
	}

	p->backend = "packet";
	snprintf(p->mem_id, sizeof(p->mem_id), "packet:%s:%d:%p", ifname, (int)getpid(),
		 (void *)p->region);
	p->poll_rx = POLLIN;
	p->poll_tx = POLLOUT;
	if (!has_tx)
		snprintf(txd, sizeof(txd), "no tx");
	else
		snprintf(txd, sizeof(txd), "%s tx%s",
			 pv->mode == PKT_TX_RING ? "TPACKET_V3 ring" : "sendmmsg",
			 bypass ? ", qdisc bypass" : "");
	if (req->queue < 0)
		qd[0] = 0;
	else
		snprintf(qd, sizeof(qd), ", rx queue %d%s, tx queue: kernel's", req->queue,
			 p->num_queues > 1 ? " (BPF)" : "");
	if (has_rx)
		snprintf(p->detail, sizeof(p->detail), "TPACKET_V3 rx ring %ux%uMiB, %s%s",
			 pv->blk_nr, pv->blk_size >> 20, txd, qd);
	else
		snprintf(p->detail, sizeof(p->detail), "no rx, %s%s", txd, qd);
	return 0;
}
