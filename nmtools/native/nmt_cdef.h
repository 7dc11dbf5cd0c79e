/* nmt_cdef.h - what cffi sees of nmt.h (checked against it by the compiler). */
#define NMT_NS_BUF_CHANGED ...
#define NMT_NS_REPORT ...
#define NMT_NS_MOREFRAG ...
#define NMT_WAIT_RX ...
#define NMT_WAIT_TX ...
#define NMT_KIND_NULL ...
#define NMT_KIND_PIPE ...
#define NMT_KIND_PACKET ...
#define NMT_KIND_XDP ...
#define NMT_OPEN_TX_ONLY ...
#define NMT_OPEN_RX_ONLY ...
#define NMT_MAX_RINGS ...

struct nmt_slot {
	uint32_t buf_idx;
	uint16_t len;
	uint16_t flags;
	uint64_t ptr;
};

struct nmt_ring {
	uint32_t num_slots;
	uint32_t nr_buf_size;
	uint16_t ringid;
	uint16_t dir;
	uint32_t head;
	uint32_t cur;
	uint32_t tail;
	uint32_t buf_stride;
	...;
};

struct nmt_open_req {
	int kind;
	char ifname[64];
	char pipe_id[64];
	int pipe_end;
	char path[256];
	int queue;
	int flags;
	uint32_t tx_rings, rx_rings, tx_slots, rx_slots;
	uint32_t buf_size;
	uint32_t mode;
	uint32_t fanout;
};

struct nmt_port {
	char name[128];
	char ifname[64];
	const char *backend;
	char mem_id[128];
	uint32_t num_tx_rings, num_rx_rings;
	uint32_t num_tx_slots, num_rx_slots;
	uint32_t buf_size;
	uint32_t num_bufs;
	uint64_t memsize;
	int fd;
	int mtu;
	int ifindex;
	int queue;
	int num_queues;
	uint8_t mac[6];
	int has_mac;
	char detail[128];
	struct nmt_ring *tx_rings[];
	struct nmt_ring *rx_rings[];
	uint64_t tx_dropped[];
	char errmsg[];
	...;
};

struct nmt_stats {
	volatile uint64_t pkts;
	volatile uint64_t bytes;
	volatile uint64_t events;
	volatile uint64_t drops;
	volatile uint64_t errors;
	volatile uint64_t t_start_ns;
	volatile uint64_t t_end_ns;
	volatile uint64_t t_last_ns;
	volatile int cancel;
	volatile int done;
};

struct nmt_pipe_info {
	uint32_t rings, slots, buf_size;
	int32_t pid[2];
	int alive[2];
	uint64_t size;
};

struct nmt_port *nmt_port_new(void);
void nmt_port_free(struct nmt_port *p);
int nmt_port_open(struct nmt_port *p, const struct nmt_open_req *req);
int nmt_port_open_group(struct nmt_port **ps, const struct nmt_open_req *reqs, unsigned n,
		   int *failed);
void nmt_port_close(struct nmt_port *p);
int nmt_port_arm(struct nmt_port *p, int events);
void nmt_port_disarm(struct nmt_port *p, int events);
int nmt_port_wait(struct nmt_port *p, int events, int timeout_ms);
int nmt_port_flush(struct nmt_port *p, int timeout_ms);
int nmt_ring_arm(struct nmt_port *p, int ring, int events);
void nmt_ring_disarm(struct nmt_port *p, int ring, int events);
int nmt_ring_wait(struct nmt_port *p, int ring, int events, int timeout_ms);
int nmt_port_send(struct nmt_port *p, const uint8_t *data, const uint32_t *lens, uint32_t n,
	     int timeout_ms);
int nmt_port_recv(struct nmt_port *p, uint8_t *out, size_t cap, uint32_t *lens, uint32_t maxn,
	     int timeout_ms);
int nmt_pipe_probe(const char *path, struct nmt_pipe_info *info, int reap, char *err,
		   size_t errlen);
int nmt_pattern_tx(struct nmt_port *p, uint64_t count, uint64_t seed, uint32_t minlen,
		       uint32_t maxlen, uint32_t batch, struct nmt_stats *st);
int nmt_pattern_rx(struct nmt_port *p, uint64_t count, uint64_t seed, uint32_t minlen,
		       uint32_t maxlen, int idle_ms, struct nmt_stats *st);
uint64_t nmt_clock_ns(void);
int nmt_fwd_zerocopy(const struct nmt_port *src, const struct nmt_port *dst);
int nmt_fwd_run(struct nmt_port *src, struct nmt_port *dst, uint64_t count, uint32_t burst,
		int zerocopy, int idle_ms, struct nmt_stats *st, uint64_t *copied);

/* gen.h */
#define NMT_HIST_BUCKETS ...
struct nmt_hist {
	uint64_t count, sum, min, max;
	uint64_t b[];
	...;
};
struct nmt_seq_stats {
	uint64_t dropped, out_of_order, dup, seq_too_high, seq_too_low;
};
#define NMT_DUMP_ENTRIES ...
#define NMT_DUMP_BYTES ...
struct nmt_dump_entry {
	uint64_t seq;
	uint32_t len;
	uint32_t slot;
	uint32_t buf_idx;
	uint16_t flags;
	uint16_t ring;
	uint8_t data[];
	...;
};
struct nmt_dump {
	uint64_t widx;
	struct nmt_dump_entry e[];
	...;
};
struct nmt_run {
	struct nmt_stats st;
	struct nmt_hist lat;
	struct nmt_hist gap;
	struct nmt_seq_stats seq;
	uint32_t min_space;
	uint64_t sent;
	struct nmt_dump *dump;
	...;
};
struct nmt_gen {
	const uint8_t *tpl;
	const uint32_t *tpl_off;
	const uint32_t *tpl_len;
	uint32_t ntpl;
	int32_t l3_off;
	int32_t l4_off;
	int32_t ipv6;
	uint32_t src_ip0, src_ip1, dst_ip0, dst_ip1;
	uint32_t src_port0, src_port1, dst_port0, dst_port1;
	int32_t rand_src, rand_dst;
	const uint16_t *len_table;
	uint32_t len_n;
	int32_t mark_off;
	uint32_t flows;
	uint32_t flow_base;
	double pps;
	uint64_t count;
	uint64_t duration_ns;
	uint32_t burst;
	uint32_t frag_size;
	uint64_t seed;
	int32_t idle_stop_ms;
	int32_t reply_timeout_ms;
};
int nmt_gen_tx(struct nmt_port *p, int ring, const struct nmt_gen *g, struct nmt_run *run);
int nmt_gen_rx(struct nmt_port *p, int ring, const struct nmt_gen *g, struct nmt_run *run);
int nmt_gen_ping(struct nmt_port *p, const struct nmt_gen *g, struct nmt_run *run);
int nmt_gen_pong(struct nmt_port *p, const struct nmt_gen *g, struct nmt_run *run);
uint64_t nmt_hist_upper(uint32_t bucket);
