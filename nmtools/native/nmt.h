/*
 * nmt.h - the nmtools ring core: every port looks like netmap rings.
 *
 * A port has tx and rx rings. A ring is an array of slots; a slot names a
 * fixed-size buffer by index (buf_idx) in the port's memory region, plus the
 * length of the data in it and flags. Ownership follows netmap(4):
 *
 *   - the user owns the slots in [head, tail) and may advance head and cur;
 *   - the backend owns the rest; one slot is always left empty;
 *   - txsync sends the slots in [hwcur, head) and advances tail over the
 *     slots the port has accepted (and given back);
 *   - rxsync takes back the slots in [hwcur, head) and advances tail over
 *     newly received slots.
 *
 * Backends (null, pipe, AF_PACKET, AF_XDP, ...) implement struct nmt_ops.
 * The loops (gen.c, pattern.c) are written once against this model.
 *
 * Error contract: every fallible function returns -1, sets errno and writes a
 * one-line message into port->errmsg.
 */
#ifndef NMT_H
#define NMT_H

#include <stddef.h>
#include <stdint.h>

#define NMT_ERRLEN 320
#define NMT_MAX_RINGS 64
#define NMT_NAMELEN 128

/* slot flags, netmap's values */
#define NMT_NS_BUF_CHANGED 0x0001
#define NMT_NS_REPORT 0x0002
#define NMT_NS_FORWARD 0x0004
#define NMT_NS_NO_LEARN 0x0008
#define NMT_NS_INDIRECT 0x0010
#define NMT_NS_MOREFRAG 0x0020

/* wait events */
#define NMT_WAIT_RX 1
#define NMT_WAIT_TX 2

/* backend kinds */
#define NMT_KIND_NULL 1
#define NMT_KIND_PIPE 2
#define NMT_KIND_PACKET 3
#define NMT_KIND_XDP 4

/* open flags (nmt_open_req.flags) */
#define NMT_OPEN_TX_ONLY 0x1 /* '/T': no rx rings */
#define NMT_OPEN_RX_ONLY 0x2 /* '/R': no tx rings */

struct nmt_slot {
	uint32_t buf_idx; /* buffer index in the port's memory */
	uint16_t len;     /* bytes of data in the buffer */
	uint16_t flags;   /* NMT_NS_* */
	uint64_t ptr;     /* user pointer (NS_INDIRECT), else unused */
};

/*
 * struct nmt_ring - one ring as the user sees it.
 * Slots and buffers are found by offsets from the ring itself, so a ring in
 * shared memory works wherever each process maps it.
 */
struct nmt_ring {
	int64_t buf_ofs;      /* buffer i is at (char *)ring + buf_ofs + i * buf_stride */
	int64_t slot_ofs;     /* slot array is at (char *)ring + slot_ofs */
	uint32_t num_slots;
	uint32_t nr_buf_size; /* bytes a buffer holds */
	uint16_t ringid;
	uint16_t dir;         /* 0 tx, 1 rx */
	uint32_t head;        /* (u) first slot the user owns */
	uint32_t cur;         /* (u) wake-up point */
	uint32_t tail;        /* (k) first slot the backend owns */
	uint32_t flags;
	uint32_t buf_stride;  /* distance between buffers: nr_buf_size, or more when the
			       * backend keeps room in front of each (AF_XDP headroom) */
	uint64_t ts_ns;       /* (k) time of the last rxsync that got packets */
};

/* a polite busy-wait step */
static inline void nmt_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

static inline struct nmt_slot *nmt_slot(struct nmt_ring *r, uint32_t i)
{
	return (struct nmt_slot *)((char *)r + r->slot_ofs) + i;
}

static inline char *nmt_buf(struct nmt_ring *r, uint32_t idx)
{
	return (char *)r + r->buf_ofs + (int64_t)idx * r->buf_stride;
}

/* index arithmetic in a ring of n slots (indexes < n) */
static inline uint32_t nmt_idx_prev(uint32_t i, uint32_t n)
{
	return i == 0 ? n - 1 : i - 1;
}

/* slots from `from` up to (not including) `to` */
static inline uint32_t nmt_idx_dist(uint32_t from, uint32_t to, uint32_t n)
{
	return to >= from ? to - from : to + n - from;
}

static inline uint32_t nmt_ring_next(const struct nmt_ring *r, uint32_t i)
{
	return i + 1 == r->num_slots ? 0 : i + 1;
}

/* the slot before i (a tx ring given back up to i has its tail there) */
static inline uint32_t nmt_ring_prev(const struct nmt_ring *r, uint32_t i)
{
	return nmt_idx_prev(i, r->num_slots);
}

/* slots in [from, to) */
static inline uint32_t nmt_ring_dist(const struct nmt_ring *r, uint32_t from, uint32_t to)
{
	return nmt_idx_dist(from, to, r->num_slots);
}

static inline uint32_t nmt_ring_add(const struct nmt_ring *r, uint32_t i, uint32_t n)
{
	i += n;
	return i >= r->num_slots ? i - r->num_slots : i;
}

/* slots the user owns: [head, tail) */
static inline uint32_t nmt_ring_space(const struct nmt_ring *r)
{
	int64_t d = (int64_t)r->tail - r->head;
	return (uint32_t)(d < 0 ? d + r->num_slots : d);
}

static inline int nmt_ring_empty(const struct nmt_ring *r)
{
	return r->head == r->tail;
}

/* slots of the complete frame (NS_MOREFRAG chain) at slot i, 0 if it runs into tail */
static inline uint32_t nmt_ring_frame(struct nmt_ring *r, uint32_t i)
{
	uint32_t n = 1;

	while (nmt_slot(r, i)->flags & NMT_NS_MOREFRAG) {
		i = nmt_ring_next(r, i);
		if (i == r->tail)
			return 0;
		n++;
	}
	return n;
}

/* rings [*first, *last) of `ring` (-1: all n); -1 (and no rings) if ring >= n */
static inline int nmt_rings_span(int ring, uint32_t n, uint32_t *first, uint32_t *last)
{
	*first = ring < 0 ? 0 : (uint32_t)ring;
	*last = ring < 0 ? n : ((uint32_t)ring < n ? (uint32_t)ring + 1 : 0);
	return ring >= 0 && (uint32_t)ring >= n ? -1 : 0;
}

struct nmt_port;

/* backend-side ring state for rings in private memory */
struct nmt_kring {
	uint32_t hwcur;  /* first slot not yet synced */
	uint32_t hwtail; /* first slot owned by the backend */
};

/*
 * struct nmt_ops - what a backend provides.
 *
 * Waiting is per ring so that threads that each own one ring never touch
 * another's state: `ring` is a ring index (the tx and rx rings of that
 * number), or -1 for every ring of the port (what p->fd covers).
 */
struct nmt_ops {
	const char *name;
	int (*txsync)(struct nmt_port *p, unsigned ring);
	int (*rxsync)(struct nmt_port *p, unsigned ring);
	/* arm - prepare to sleep on the descriptor of ring (see wait_fd).
	 * Returns 1 if ready now (no sleep needed), 0 if armed, -1 on error. */
	int (*arm)(struct nmt_port *p, int ring, int events);
	/* disarm - after the descriptor woke (or timed out): drain and clear. */
	void (*disarm)(struct nmt_port *p, int ring, int events);
	/* tx_pending - 1 while sent slots are still in flight on tx ring `ring`
	 * (-1: on any tx ring) */
	int (*tx_pending)(struct nmt_port *p, int ring);
	/* wait_fd - the descriptor to poll() for one ring and the events that mean
	 * "rx may be ready" / "tx may have room" on it. NULL, or ring -1: p->fd
	 * with p->poll_rx / p->poll_tx. */
	int (*wait_fd)(struct nmt_port *p, int ring, short *poll_rx, short *poll_tx);
	void (*close)(struct nmt_port *p);
};

/*
 * struct nmt_open_req - what Python resolved from a port name.
 */
struct nmt_open_req {
	int kind;                 /* NMT_KIND_* */
	char ifname[64];          /* interface, or pipe parent */
	char pipe_id[64];         /* pipe id ('{' / '}' ends) */
	int pipe_end;             /* 0 master '{', 1 slave '}' */
	char path[256];           /* shared-memory file (pipes) */
	int queue;                /* -1 all queues, else one queue */
	int flags;                /* NMT_OPEN_* */
	uint32_t tx_rings, rx_rings, tx_slots, rx_slots; /* 0 = default */
	uint32_t buf_size;        /* 0 = default (2048) */
	uint32_t mode;            /* backend specific (0 = default) */
	uint32_t fanout;          /* AF_PACKET rx: join this fanout group by flow hash (0 = no) */
};

struct nmt_port {
	char name[NMT_NAMELEN];   /* the name it was opened by */
	char ifname[64];
	const char *backend;      /* "null", "pipe", "packet", "xdp" */
	char mem_id[NMT_NAMELEN]; /* ports with equal mem_id share buffers */
	uint32_t num_tx_rings, num_rx_rings;
	uint32_t num_tx_slots, num_rx_slots;
	uint32_t buf_size;
	uint32_t num_bufs;
	uint64_t memsize;
	char *mem;                /* base of the buffer region (buffer 0) */
	int fd;                   /* poll()-able: see nmt_port_arm() */
	int mtu;                  /* 0 = not an interface (no limit but 65535) */
	int ifindex;
	int queue;
	int num_queues;
	uint8_t mac[6];
	int has_mac;
	char detail[NMT_NAMELEN]; /* backend details for `nm info` */
	struct nmt_ring *tx_rings[NMT_MAX_RINGS];
	struct nmt_ring *rx_rings[NMT_MAX_RINGS];
	short poll_rx;            /* poll() events that mean "rx may be ready" on fd */
	short poll_tx;            /* ... "tx may have room" */
	/* (k) frames of tx ring i the kernel took from the port and dropped instead of
	 * sending (no carrier, the peer's backlog full): counted as sent by hwcur, not
	 * carried. Written by the thread that owns the ring. */
	uint64_t tx_dropped[NMT_MAX_RINGS];
	struct nmt_kring txk[NMT_MAX_RINGS]; /* backend state of private rings */
	struct nmt_kring rxk[NMT_MAX_RINGS];
	char errmsg[NMT_ERRLEN];
	const struct nmt_ops *ops;
	void *priv;
	void *region;             /* private ring region (nmt_ring_alloc) */
	size_t region_size;
};

struct nmt_port *nmt_port_new(void);
void nmt_port_free(struct nmt_port *p);
int nmt_port_open(struct nmt_port *p, const struct nmt_open_req *req);
int nmt_port_open_group(struct nmt_port **ps, const struct nmt_open_req *reqs, unsigned n,
		   int *failed);
void nmt_port_close(struct nmt_port *p);

/* set errno and p->errmsg; always returns -1 */
int nmt_err(struct nmt_port *p, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static inline int nmt_txsync(struct nmt_port *p, unsigned ring)
{
	return p->ops->txsync(p, ring);
}

static inline int nmt_rxsync(struct nmt_port *p, unsigned ring)
{
	return p->ops->rxsync(p, ring);
}

/* waiting on the whole port (every ring; p->fd) */
int nmt_port_arm(struct nmt_port *p, int events);
void nmt_port_disarm(struct nmt_port *p, int events);
int nmt_port_wait(struct nmt_port *p, int events, int timeout_ms);
int nmt_port_tx_pending(struct nmt_port *p);
int nmt_port_flush(struct nmt_port *p, int timeout_ms);
/* ... and on one ring (ring -1: the whole port), for a thread that owns it */
int nmt_ring_arm(struct nmt_port *p, int ring, int events);
void nmt_ring_disarm(struct nmt_port *p, int ring, int events);
int nmt_ring_wait(struct nmt_port *p, int ring, int events, int timeout_ms);
int nmt_ring_idle(struct nmt_port *p, int ring, int events, uint64_t *since);
int nmt_ring_tx_pending(struct nmt_port *p, int ring);
int nmt_ring_flush(struct nmt_port *p, int ring, int timeout_ms);

/* slow path: copy n frames in (send) or out (recv) */
int nmt_port_send(struct nmt_port *p, const uint8_t *data, const uint32_t *lens, uint32_t n,
	     int timeout_ms);
int nmt_port_recv(struct nmt_port *p, uint8_t *out, size_t cap, uint32_t *lens, uint32_t maxn,
	     int timeout_ms);

/* backends */
int nmt_null_open(struct nmt_port *p, const struct nmt_open_req *req);
int nmt_pipe_open(struct nmt_port *p, const struct nmt_open_req *req);
int nmt_packet_open(struct nmt_port *p, const struct nmt_open_req *req);
int nmt_xdp_open(struct nmt_port *p, const struct nmt_open_req *req);
int nmt_xdp_open_group(struct nmt_port **ps, const struct nmt_open_req **reqs, unsigned n,
		       int *failed);

/* helpers shared by backends (port.c) */
int nmt_ring_alloc(struct nmt_port *p, uint32_t ntx, uint32_t nrx, uint32_t tx_slots,
		    uint32_t rx_slots, uint32_t buf_size);
int nmt_ring_alloc_in(struct nmt_port *p, uint32_t ntx, uint32_t nrx, uint32_t tx_slots,
		       uint32_t rx_slots, uint32_t buf_size, uint32_t stride, char *mem,
		       uint32_t first_buf);
void nmt_ring_free(struct nmt_port *p);
int nmt_if_query(struct nmt_port *p, const char *ifname);
struct nmt_if_queues {
	int rx, tx;  /* queue counts */
	int is_veth; /* veth records rx queues differently (see packet.c) */
};
void nmt_if_queues(struct nmt_port *p, const char *ifname, struct nmt_if_queues *q);
/* an interface that went away under an open port (packet.c): the one message
 * (ENXIO), whether p->ifname still names p->ifindex, and the same after waiting
 * up to ms for an interface that went down to go (as `ip link del` does) */
int nmt_err_gone(struct nmt_port *p);
int nmt_if_gone(const struct nmt_port *p);
int nmt_if_gone_wait(const struct nmt_port *p, int ms);
size_t nmt_port_detail(struct nmt_port *p, size_t o, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
uint64_t nmt_clock_ns(void);

/*
 * struct nmt_stats - counters a loop publishes; the UI thread reads them.
 * Written by one worker thread only; cancel is written by the controller.
 */
struct nmt_stats {
	volatile uint64_t pkts;    /* complete packets */
	volatile uint64_t bytes;   /* bytes over all slots */
	volatile uint64_t events;  /* ring operations that moved >= 1 packet */
	volatile uint64_t drops;
	volatile uint64_t errors;
	volatile uint64_t t_start_ns; /* first packet (or start) */
	volatile uint64_t t_end_ns;   /* last packet (or end) */
	volatile uint64_t t_last_ns;  /* paced tx: when the last batch left (0: not kept) */
	volatile int cancel;          /* set to stop the loop */
	volatile int done;            /* set by the loop when it returns */
};


/* self-checking traffic (pattern.c): frame k's length and bytes follow from (seed, k) */
int nmt_pattern_tx(struct nmt_port *p, uint64_t count, uint64_t seed, uint32_t minlen,
		       uint32_t maxlen, uint32_t batch, struct nmt_stats *st);
int nmt_pattern_rx(struct nmt_port *p, uint64_t count, uint64_t seed, uint32_t minlen,
		       uint32_t maxlen, int idle_ms, struct nmt_stats *st);

/* forwarding (fwd.c): rx rings of src to tx rings of dst, like netmap's bridge */
struct nmt_fwd_count {
	uint64_t pkts, bytes;
	uint64_t dropped; /* longer than dst's buffers */
	uint64_t copied;  /* slots copied (not swapped) */
	int stuck;        /* an rx ring is full of one frame that never ends */
	int full;         /* the last move left a whole frame waiting for room on dst */
};
int nmt_fwd_zerocopy(const struct nmt_port *src, const struct nmt_port *dst);
uint32_t nmt_fwd_move(struct nmt_port *src, struct nmt_port *dst, uint32_t frames, int zc,
		      struct nmt_fwd_count *c);
int nmt_fwd_run(struct nmt_port *src, struct nmt_port *dst, uint64_t count, uint32_t burst,
		int zerocopy, int idle_ms, struct nmt_stats *st, uint64_t *copied);

/* pipes in shared memory: inspect (and with reap, remove when no end is alive) */
struct nmt_pipe_info {
	uint32_t rings, slots, buf_size;
	int32_t pid[2];   /* 0 when the end is closed */
	int alive[2];
	uint64_t size;
};
int nmt_pipe_probe(const char *path, struct nmt_pipe_info *info, int reap, char *err,
		   size_t errlen);

#endif
