/*
 * port.c - port handles, private ring regions, waiting, and the slow-path
 * send/recv helpers used by scripts and tests.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "nmt.h"

uint64_t nmt_clock_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int nmt_err(struct nmt_port *p, int err, const char *fmt, ...)
{
	va_list ap;

	if (p) {
		va_start(ap, fmt);
		vsnprintf(p->errmsg, sizeof(p->errmsg), fmt, ap);
		va_end(ap);
	}
	errno = err;
	return -1;
}

struct nmt_port *nmt_port_new(void)
{
	struct nmt_port *p = calloc(1, sizeof(*p));

	if (p) {
		p->fd = -1;
		p->queue = -1;
		p->poll_rx = POLLIN;
		p->poll_tx = POLLIN;
	}
	return p;
}

void nmt_port_free(struct nmt_port *p)
{
	if (!p)
		return;
	nmt_port_close(p);
	free(p);
}

/*
 * The backends, by kind (NMT_KIND_*): how a port of the kind opens alone, and,
 * for kinds whose ports can share memory, how several open together. A new
 * kind is a row here, a constant in nmt.h and nmt_cdef.h, and a resolver in
 * nmtools/ports/port.py.
 */
struct nmt_backend {
	const char *name;
	int (*open)(struct nmt_port *p, const struct nmt_open_req *req);
	int (*open_group)(struct nmt_port **ps, const struct nmt_open_req **reqs, unsigned n,
			  int *failed);
};

static const struct nmt_backend backends[] = {
	[NMT_KIND_NULL] = { "null", nmt_null_open, NULL },
	[NMT_KIND_PIPE] = { "pipe", nmt_pipe_open, NULL },
	[NMT_KIND_PACKET] = { "packet", nmt_packet_open, NULL },
	[NMT_KIND_XDP] = { "xdp", nmt_xdp_open, nmt_xdp_open_group },
};

#define NMT_NUM_KINDS ((int)(sizeof(backends) / sizeof(backends[0])))

static const struct nmt_backend *backend_of(struct nmt_port *p, int kind)
{
	if (kind <= 0 || kind >= NMT_NUM_KINDS || !backends[kind].open) {
		nmt_err(p, EINVAL, "unknown port kind %d", kind);
		return NULL;
	}
	return &backends[kind];
}

int nmt_port_open(struct nmt_port *p, const struct nmt_open_req *req)
{
	const struct nmt_backend *b;

	if (p->ops)
		return nmt_err(p, EBUSY, "port handle already open");
	b = backend_of(p, req->kind);
	if (!b)
		return -1;
	if (b->open(p, req) < 0) {
		int e = errno;

		nmt_port_close(p);
		errno = e;
		return -1;
	}
	return 0;
}

/*
 * nmt_port_open_group - open n ports at once; those of a kind that can share
 * memory (AF_XDP: one UMEM) open together, so that buffers move between them
 * by index (a bridge forwards without copying). On failure every port is
 * closed again, *failed is the index of the port whose errmsg says why, and -1
 * is returned.
 */
int nmt_port_open_group(struct nmt_port **ps, const struct nmt_open_req *reqs, unsigned n,
			int *failed)
{
	struct nmt_port *gp[NMT_MAX_RINGS];
	const struct nmt_open_req *gr[NMT_MAX_RINGS];
	int gi[NMT_MAX_RINGS];
	unsigned i, ng;
	int e, f = -1, k;

	*failed = -1;
	for (i = 0; i < n; i++) {
		if (ps[i]->ops) {
			*failed = (int)i;
			return nmt_err(ps[i], EBUSY, "port handle already open");
		}
		if (!backend_of(ps[i], reqs[i].kind)) {
			*failed = (int)i;
			return -1;
		}
	}
	for (i = 0; i < n; i++) {
		if (backends[reqs[i].kind].open_group)
			continue;
		if (nmt_port_open(ps[i], &reqs[i]) < 0) {
			f = (int)i;
			goto fail;
		}
	}
	for (k = 1; k < NMT_NUM_KINDS; k++) {
		if (!backends[k].open_group)
			continue;
		for (i = 0, ng = 0; i < n; i++) {
			if (reqs[i].kind != k)
				continue;
			if (ng == NMT_MAX_RINGS) {
				f = (int)i;
				nmt_err(ps[i], EINVAL, "at most %d %s ports open together",
					NMT_MAX_RINGS, k == NMT_KIND_XDP ? "AF_XDP" : backends[k].name);
				goto fail;
			}
			gi[ng] = (int)i;
			gp[ng] = ps[i];
			gr[ng++] = &reqs[i];
		}
		if (ng && backends[k].open_group(gp, gr, ng, &f) < 0) {
			f = f >= 0 ? gi[f] : gi[0];
			goto fail;
		}
	}
	return 0;
fail:
	e = errno;
	for (i = 0; i < n; i++)
		nmt_port_close(ps[i]); /* errmsg stays */
	*failed = f;
	errno = e;
	return -1;
}

void nmt_port_close(struct nmt_port *p)
{
	if (p->ops && p->ops->close)
		p->ops->close(p);
	p->ops = NULL;
	nmt_ring_free(p);
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
	p->num_tx_rings = p->num_rx_rings = 0;
}

/*
 * nmt_ring_alloc_in - one private region of ring headers and slot arrays; the
 * buffers are at mem (buffer i at mem + i * stride) when mem is given, else
 * in the region after the slots. Slots get buffers first_buf, first_buf + 1,
 * ... in ring order. tx rings start with all slots free for the user, rx
 * rings empty. The caller sets p->num_bufs when the buffers are not its own.
 */
int nmt_ring_alloc_in(struct nmt_port *p, uint32_t ntx, uint32_t nrx, uint32_t tx_slots,
		       uint32_t rx_slots, uint32_t buf_size, uint32_t stride, char *mem,
		       uint32_t first_buf)
{
	size_t hdr = (sizeof(struct nmt_ring) + 63) & ~(size_t)63;
	size_t nrings = ntx + nrx;
	size_t nslots = (size_t)ntx * tx_slots + (size_t)nrx * rx_slots;
	size_t slots_ofs = nrings * hdr;
	size_t bufs_ofs = (slots_ofs + nslots * sizeof(struct nmt_slot) + 4095) & ~(size_t)4095;
	size_t size = bufs_ofs + (mem ? 0 : nslots * stride);
	char *base, *slots;
	uint32_t b = first_buf;
	size_t i;

	if (ntx > NMT_MAX_RINGS || nrx > NMT_MAX_RINGS)
		return nmt_err(p, EINVAL, "too many rings (at most %d)", NMT_MAX_RINGS);
	if ((ntx && tx_slots < 2) || (nrx && rx_slots < 2) || tx_slots > 65536 ||
	    rx_slots > 65536)
		return nmt_err(p, EINVAL, "ring slots must be in [2, 65536]");
	if (buf_size < 64 || buf_size > 65535 || stride < buf_size)
		return nmt_err(p, EINVAL, "buffer size %u out of range [64, 65535] "
					  "(slot lengths are 16 bits)", buf_size);
	base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED)
		return nmt_err(p, errno, "cannot allocate %zu bytes of ring memory: %s", size,
			       strerror(errno));
	p->region = base;
	p->region_size = size;
	p->mem = mem ? mem : base + bufs_ofs;
	p->memsize = size;
	p->buf_size = buf_size;
	p->num_bufs = (uint32_t)nslots;
	p->num_tx_rings = ntx;
	p->num_rx_rings = nrx;
	p->num_tx_slots = ntx ? tx_slots : 0;
	p->num_rx_slots = nrx ? rx_slots : 0;
	slots = base + slots_ofs;
	for (i = 0; i < nrings; i++) {
		struct nmt_ring *r = (struct nmt_ring *)(base + i * hdr);
		int tx = i < ntx;
		uint32_t n = tx ? tx_slots : rx_slots;
		uint32_t j;

		r->num_slots = n;
		r->nr_buf_size = buf_size;
		r->buf_stride = stride;
		r->ringid = (uint16_t)(tx ? i : i - ntx);
		r->dir = tx ? 0 : 1;
		r->slot_ofs = slots - (char *)r;
		r->buf_ofs = p->mem - (char *)r;
		r->head = r->cur = 0;
		r->tail = tx ? n - 1 : 0;
		for (j = 0; j < n; j++) {
			struct nmt_slot *s = nmt_slot(r, j);

			s->buf_idx = b++;
			s->len = 0;
			s->flags = 0;
		}
		slots += (size_t)n * sizeof(struct nmt_slot);
		if (tx) {
			p->tx_rings[r->ringid] = r;
			p->txk[r->ringid].hwcur = 0;
			p->txk[r->ringid].hwtail = n - 1;
		} else {
			p->rx_rings[r->ringid] = r;
			p->rxk[r->ringid].hwcur = 0;
			p->rxk[r->ringid].hwtail = 0;
		}
	}
	return 0;
}

/* nmt_ring_alloc - rings and their buffers in one private region */
int nmt_ring_alloc(struct nmt_port *p, uint32_t ntx, uint32_t nrx, uint32_t tx_slots,
		    uint32_t rx_slots, uint32_t buf_size)
{
	return nmt_ring_alloc_in(p, ntx, nrx, tx_slots, rx_slots, buf_size, buf_size, NULL, 0);
}

void nmt_ring_free(struct nmt_port *p)
{
	if (p->region)
		munmap(p->region, p->region_size);
	p->region = NULL;
	p->region_size = 0;
}

/* nmt_if_query - ifindex, MTU and MAC of a network interface */
int nmt_if_query(struct nmt_port *p, const char *ifname)
{
	struct ifreq ifr;
	int s;

	if (strlen(ifname) >= IFNAMSIZ)
		return nmt_err(p, EINVAL, "%s: interface name too long (at most %d characters)",
			       ifname, IFNAMSIZ - 1);
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return nmt_err(p, errno, "socket: %s", strerror(errno));
	memset(&ifr, 0, sizeof(ifr));
	strncpy(ifr.ifr_name, ifname, IFNAMSIZ - 1);
	if (ioctl(s, SIOCGIFINDEX, &ifr) < 0) {
		int e = errno;

		close(s);
		if (e == ENODEV)
			return nmt_err(p, ENXIO, "%s: no such interface (see `ip link` for the "
					      "interfaces of this network namespace)", ifname);
		return nmt_err(p, e, "%s: %s", ifname, strerror(e));
	}
	p->ifindex = ifr.ifr_ifindex;
	if (ioctl(s, SIOCGIFMTU, &ifr) == 0)
		p->mtu = ifr.ifr_mtu;
	if (ioctl(s, SIOCGIFHWADDR, &ifr) == 0 && ifr.ifr_hwaddr.sa_family == ARPHRD_ETHER) {
		memcpy(p->mac, ifr.ifr_hwaddr.sa_data, 6);
		p->has_mac = 1;
	}
	close(s);
	snprintf(p->ifname, sizeof(p->ifname), "%s", ifname);
	return 0;
}

int nmt_ring_arm(struct nmt_port *p, int ring, int events)
{
	if (!p->ops)
		return nmt_err(p, EBADF, "port is closed");
	return p->ops->arm(p, ring, events);
}

void nmt_ring_disarm(struct nmt_port *p, int ring, int events)
{
	if (p->ops && p->ops->disarm)
		p->ops->disarm(p, ring, events);
}

int nmt_port_arm(struct nmt_port *p, int events)
{
	return nmt_ring_arm(p, -1, events);
}

void nmt_port_disarm(struct nmt_port *p, int events)
{
	nmt_ring_disarm(p, -1, events);
}

/*
 * nmt_ring_wait - sleep until rx ring `ring` may have data / tx ring `ring`
 * may have room (ring -1: any ring of the port), or the timeout (ms, -1
 * forever) passes. Returns 1 ready, 0 timeout, -1 error.
 */
int nmt_ring_wait(struct nmt_port *p, int ring, int events, int timeout_ms)
{
	struct pollfd pfd;
	short prx = p->poll_rx, ptx = p->poll_tx;
	int rc = nmt_ring_arm(p, ring, events);

	if (rc != 0)
		return rc;
	pfd.fd = p->fd;
	if (ring >= 0 && p->ops->wait_fd)
		pfd.fd = p->ops->wait_fd(p, ring, &prx, &ptx);
	pfd.events = (short)(((events & NMT_WAIT_RX) ? prx : 0) |
			     ((events & NMT_WAIT_TX) ? ptx : 0));
	pfd.revents = 0;
	do {
		rc = poll(&pfd, 1, timeout_ms);
	} while (rc < 0 && errno == EINTR);
	nmt_ring_disarm(p, ring, events);
	if (rc < 0)
		return nmt_err(p, errno, "poll: %s", strerror(errno));
	if (rc > 0 && (pfd.revents & (POLLERR | POLLNVAL)))
		return nmt_err(p, EIO, "%s: port reported an error while waiting", p->name);
	return rc > 0;
}

int nmt_port_wait(struct nmt_port *p, int events, int timeout_ms)
{
	return nmt_ring_wait(p, -1, events, timeout_ms);
}

int nmt_ring_tx_pending(struct nmt_port *p, int ring)
{
	if (p->ops && p->ops->tx_pending)
		return p->ops->tx_pending(p, ring);
	return 0;
}

int nmt_port_tx_pending(struct nmt_port *p)
{
	return nmt_ring_tx_pending(p, -1);
}

/*
 * nmt_ring_flush - txsync tx ring `ring` (-1: every tx ring) until nothing
 * is pending on it (or timeout). Only that ring is touched: another thread
 * may own the others.
 */
int nmt_ring_flush(struct nmt_port *p, int ring, int timeout_ms)
{
	uint64_t deadline = nmt_clock_ns() + (uint64_t)(timeout_ms < 0 ? 0 : timeout_ms) * 1000000;
	uint32_t i, first, last;

	if (nmt_rings_span(ring, p->num_tx_rings, &first, &last) < 0)
		return nmt_err(p, EINVAL, "%s: no tx ring %d (the port has %u)", p->name, ring,
			       p->num_tx_rings);
	for (;;) {
		for (i = first; i < last; i++)
			if (nmt_txsync(p, i) < 0)
				return -1;
		if (!nmt_ring_tx_pending(p, ring))
			return 0;
		if (timeout_ms >= 0 && nmt_clock_ns() >= deadline)
			return nmt_err(p, ETIMEDOUT, "%s: packets still queued after %d ms",
				       p->name, timeout_ms);
		if (nmt_ring_wait(p, ring, NMT_WAIT_TX, 10) < 0)
			return -1;
	}
}

int nmt_port_flush(struct nmt_port *p, int timeout_ms)
{
	return nmt_ring_flush(p, -1, timeout_ms);
}

static int tx_ring_with_room(struct nmt_port *p, uint32_t need, uint32_t *next)
{
	uint32_t k;

	for (k = 0; k < p->num_tx_rings; k++) {
		uint32_t i = (*next + k) % p->num_tx_rings;

		if (nmt_ring_space(p->tx_rings[i]) >= need) {
			*next = i;
			return (int)i;
		}
	}
	return -1;
}

/*
 * nmt_port_send - copy n frames (concatenated in data, lengths in lens) into the tx
 * rings and sync. Frames longer than a buffer span several slots (MOREFRAG).
 * Waits up to timeout_ms for room. Returns the number of frames accepted.
 */
int nmt_port_send(struct nmt_port *p, const uint8_t *data, const uint32_t *lens, uint32_t n,
	     int timeout_ms)
{
	uint64_t deadline = nmt_clock_ns() + (uint64_t)(timeout_ms < 0 ? 0 : timeout_ms) * 1000000;
	uint32_t sent = 0, next = 0, i;
	size_t off = 0;

	if (!p->ops)
		return nmt_err(p, EBADF, "port is closed");
	if (p->num_tx_rings == 0)
		return nmt_err(p, EOPNOTSUPP, "%s: port has no tx rings", p->name);
	while (sent < n) {
		uint32_t len = lens[sent];
		uint32_t need = len ? (len + p->buf_size - 1) / p->buf_size : 1;
		struct nmt_ring *r;
		int ri;

		if (need > 64 || need >= p->num_tx_slots)
			return nmt_err(p, EMSGSIZE, "frame %u is %u bytes, too long for this port",
				       sent, len);
		ri = tx_ring_with_room(p, need, &next);
		if (ri < 0) {
			for (i = 0; i < p->num_tx_rings; i++)
				if (nmt_txsync(p, i) < 0)
					return -1;
			ri = tx_ring_with_room(p, need, &next);
		}
		if (ri < 0) {
			int64_t left = timeout_ms < 0 ? -1 :
				(int64_t)(deadline - nmt_clock_ns()) / 1000000;
			if (timeout_ms >= 0 && (left <= 0 || nmt_clock_ns() >= deadline))
				break;
			if (nmt_port_wait(p, NMT_WAIT_TX, (int)(left < 0 ? 100 : left)) < 0)
				return -1;
			continue;
		}
		r = p->tx_rings[ri];
		{
			uint32_t h = r->head, done = 0;

			do {
				struct nmt_slot *s = nmt_slot(r, h);
				uint32_t chunk = len - done > r->nr_buf_size ? r->nr_buf_size :
										len - done;

				memcpy(nmt_buf(r, s->buf_idx), data + off + done, chunk);
				s->len = (uint16_t)chunk;
				done += chunk;
				s->flags = done < len ? NMT_NS_MOREFRAG : 0;
				h = nmt_ring_next(r, h);
			} while (done < len);
			r->head = r->cur = h;
		}
		off += len;
		sent++;
		next = (next + 1) % p->num_tx_rings;
	}
	for (i = 0; i < p->num_tx_rings; i++)
		if (nmt_txsync(p, i) < 0)
			return -1;
	return (int)sent;
}

/* take one complete frame from ring r if there is one; -2 when out does not fit, -3 when
 * the frame fills the whole ring and so can never end */
static int take_frame(struct nmt_ring *r, uint8_t *out, size_t cap, uint32_t *len)
{
	uint32_t h = r->head, total = 0, n = nmt_ring_space(r), k = 0;

	/* is the whole frame there? */
	while (k < n && (nmt_slot(r, nmt_ring_add(r, h, k))->flags & NMT_NS_MOREFRAG))
		k++;
	if (k >= n)
		return n == r->num_slots - 1 ? -3 : 0;
	for (uint32_t j = 0; j <= k; j++) {
		struct nmt_slot *s = nmt_slot(r, nmt_ring_add(r, h, j));

		total += s->len;
	}
	if (total > cap)
		return -2;
	total = 0;
	for (uint32_t j = 0; j <= k; j++) {
		struct nmt_slot *s = nmt_slot(r, nmt_ring_add(r, h, j));

		memcpy(out + total, nmt_buf(r, s->buf_idx), s->len);
		total += s->len;
	}
	r->head = r->cur = nmt_ring_add(r, h, k + 1);
	*len = total;
	return 1;
}

/*
 * nmt_port_recv - copy up to maxn complete frames into out (cap bytes), lengths in
 * lens. Waits up to timeout_ms for the first frame. Returns the count.
 */
int nmt_port_recv(struct nmt_port *p, uint8_t *out, size_t cap, uint32_t *lens, uint32_t maxn,
	     int timeout_ms)
{
	uint64_t deadline = nmt_clock_ns() + (uint64_t)(timeout_ms < 0 ? 0 : timeout_ms) * 1000000;
	uint32_t got = 0, i;
	size_t off = 0;
	int pass;

	if (!p->ops)
		return nmt_err(p, EBADF, "port is closed");
	if (p->num_rx_rings == 0)
		return nmt_err(p, EOPNOTSUPP, "%s: port has no rx rings", p->name);
	for (;;) {
		for (pass = 0; pass < 2; pass++) {
			for (i = 0; i < p->num_rx_rings && got < maxn; i++) {
				struct nmt_ring *r = p->rx_rings[i];
				int rc = 0;

				while (got < maxn &&
				       (rc = take_frame(r, out + off, cap - off, &lens[got])) == 1) {
					off += lens[got];
					got++;
				}
				if (rc == -2 && got == 0)
					return nmt_err(p, ENOBUFS, "receive buffer too small");
				if (rc == -3 && got == 0)
					return nmt_err(p, EPROTO,
						       "%s: rx ring %u is full of one unfinished frame "
						       "(%u slots, each NS_MOREFRAG): it can never end",
						       p->name, i, r->num_slots - 1);
			}
			/* give back what was taken, fetch what arrived */
			for (i = 0; i < p->num_rx_rings; i++)
				if (nmt_rxsync(p, i) < 0)
					return -1;
			if (got)
				return (int)got;
		}
		{
			int64_t left = ((int64_t)deadline - (int64_t)nmt_clock_ns()) / 1000000;

			if (timeout_ms >= 0 && left <= 0)
				return 0;
			if (nmt_port_wait(p, NMT_WAIT_RX, timeout_ms < 0 ? -1 : (int)left) < 0)
				return -1;
		}
	}
}

/*
 * nmt_if_queues - the queue counts of an interface: ethtool channels, else
 * sysfs (when it shows this namespace), else 1; and whether it is a veth.
 */
void nmt_if_queues(struct nmt_port *p, const char *ifname, struct nmt_if_queues *q)
{
	struct ethtool_channels ch;
	struct ethtool_drvinfo di;
	struct ifreq ifr;
	char path[128];
	struct dirent *de;
	DIR *d;
	FILE *f;
	int idx = -1, s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	q->rx = q->tx = 0;
	q->is_veth = 0;
	if (s >= 0) {
		memset(&ifr, 0, sizeof(ifr));
		memcpy(ifr.ifr_name, ifname, strnlen(ifname, IFNAMSIZ - 1));
		memset(&di, 0, sizeof(di));
		di.cmd = ETHTOOL_GDRVINFO;
		ifr.ifr_data = (void *)&di;
		q->is_veth = ioctl(s, SIOCETHTOOL, &ifr) == 0 && strcmp(di.driver, "veth") == 0;
		memset(&ch, 0, sizeof(ch));
		ch.cmd = ETHTOOL_GCHANNELS;
		ifr.ifr_data = (void *)&ch;
		if (ioctl(s, SIOCETHTOOL, &ifr) == 0 && ch.rx_count + ch.combined_count > 0) {
			q->rx = (int)(ch.combined_count + ch.rx_count);
			q->tx = (int)(ch.combined_count + ch.tx_count);
		}
		close(s);
		if (q->rx)
			return;
	}
	q->rx = q->tx = 1;
	/* sysfs shows the namespace it was mounted in: check it is ours */
	snprintf(path, sizeof(path), "/sys/class/net/%s/ifindex", ifname);
	f = fopen(path, "re");
	if (f) {
		if (fscanf(f, "%d", &idx) != 1)
			idx = -1;
		fclose(f);
	}
	if (idx != p->ifindex)
		return;
	snprintf(path, sizeof(path), "/sys/class/net/%s/queues", ifname);
	d = opendir(path);
	if (!d)
		return;
	q->rx = q->tx = 0;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "rx-", 3) == 0)
			q->rx++;
		else if (strncmp(de->d_name, "tx-", 3) == 0)
			q->tx++;
	}
	closedir(d);
	if (q->rx == 0)
		q->rx = 1;
	if (q->tx == 0)
		q->tx = 1;
}

/* nmt_port_detail - append to p->detail from offset o; returns the new end */
size_t nmt_port_detail(struct nmt_port *p, size_t o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o >= sizeof(p->detail) - 1)
		return o;
	va_start(ap, fmt);
	n = vsnprintf(p->detail + o, sizeof(p->detail) - o, fmt, ap);
	va_end(ap);
	o += n > 0 ? (size_t)n : 0;
	return o < sizeof(p->detail) ? o : sizeof(p->detail) - 1;
}

#define IDLE_PAUSE_NS 2000 /* spin this long without giving up the CPU, */
#define IDLE_SPIN_NS 50000 /* then yield to others this long, then sleep */
#define IDLE_WAIT_MS 100   /* at most this long, so a cancel is seen */

/*
 * nmt_ring_idle - for a loop whose pass over `ring` (-1: all) moved nothing.
 * A peer that is about to move something costs no system call: spin briefly,
 * then yield (a peer on this CPU may run), then sleep on the ring. *since is the loop's idle start
 * (0 when busy). Returns 0 or -1.
 */
int nmt_ring_idle(struct nmt_port *p, int ring, int events, uint64_t *since)
{
	uint64_t now = nmt_clock_ns();

	if (*since == 0)
		*since = now;
	if (now - *since < IDLE_PAUSE_NS) {
		nmt_cpu_relax();
		return 0;
	}
	if (now - *since < IDLE_SPIN_NS) {
		sched_yield();
		return 0;
	}
	*since = 0;
	return nmt_ring_wait(p, ring, events, IDLE_WAIT_MS) < 0 ? -1 : 0;
}
