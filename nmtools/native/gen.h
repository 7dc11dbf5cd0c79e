/*
 * gen.h - pkt-gen's loops: generator (tx, txseq), sink (rx, rxseq), ping, pong.
 */
#ifndef NMT_GEN_H
#define NMT_GEN_H

#include "nmt.h"

#define NMT_HIST_BUCKETS 1280

/* log-linear histogram of nanoseconds: exact below 64, then 32 steps per octave */
struct nmt_hist {
	uint64_t count, sum, min, max;
	uint64_t b[NMT_HIST_BUCKETS];
};

/* TRex's sequence-error vocabulary */
struct nmt_seq_stats {
	uint64_t dropped;      /* gaps: packets never seen (so far) */
	uint64_t out_of_order; /* late packets that filled a gap */
	uint64_t dup;          /* seen twice */
	uint64_t seq_too_high; /* arrivals that opened a gap */
	uint64_t seq_too_low;  /* arrivals below the expected number */
};

#define NMT_DUMP_ENTRIES 256
#define NMT_DUMP_BYTES 128

/* a copy of a packet's first bytes for -X; the UI thread prints what it finds */
struct nmt_dump_entry {
	uint64_t seq;      /* packet number + 1 once written (0: empty) */
	uint32_t len;      /* the frame's length */
	uint32_t slot;     /* ring slot */
	uint32_t buf_idx;
	uint16_t flags;
	uint16_t ring;
	uint8_t data[NMT_DUMP_BYTES];
};

struct nmt_dump {
	uint64_t widx; /* entries written so far (entry i at e[i % NMT_DUMP_ENTRIES]) */
	struct nmt_dump_entry e[NMT_DUMP_ENTRIES];
};

/* struct nmt_run - what one worker publishes (read by the UI thread). */
struct nmt_run {
	struct nmt_stats st;
	struct nmt_hist lat; /* ping: round-trip times */
	struct nmt_hist gap; /* paced tx: lateness of each batch against its schedule */
	struct nmt_seq_stats seq;
	uint32_t min_space;  /* rx: fewest free slots seen */
	uint32_t _pad;
	uint64_t sent;       /* ping: requests sent */
	struct nmt_dump *dump; /* -X: where packets are copied (NULL: off) */
};

/* the generator's settings (filled by Python, read-only for the loop) */
struct nmt_gen {
	/* templates: ntpl frames in tpl at tpl_off[i], tpl_len[i] bytes */
	const uint8_t *tpl;
	const uint32_t *tpl_off;
	const uint32_t *tpl_len;
	uint32_t ntpl;
	/* generated UDP frames (ntpl == 1): where the headers are, -1 = none */
	int32_t l3_off;
	int32_t l4_off;
	int32_t ipv6;
	/* address ranges (IPv4: the address; IPv6: its low 32 bits), inclusive */
	uint32_t src_ip0, src_ip1, dst_ip0, dst_ip1;
	uint32_t src_port0, src_port1, dst_port0, dst_port1;
	int32_t rand_src, rand_dst;
	/* sizes: a table to draw from (len_n > 0), else fixed tpl_len[0] */
	const uint16_t *len_table;
	uint32_t len_n;
	/* our mark in the UDP payload: seq, timestamp, flow (-1 = none) */
	int32_t mark_off;
	uint32_t flows;     /* txseq: flows to spread packets over (>= 1) */
	uint32_t flow_base; /* first flow id of this thread */
	/* pacing: packets per second for this worker, 0 = as fast as possible */
	double pps;
	uint64_t count;       /* 0 = no limit */
	uint64_t duration_ns; /* 0 = no limit */
	uint32_t burst;
	uint32_t frag_size;   /* split frames in slots of at most this many bytes */
	uint64_t seed;
	int32_t idle_stop_ms; /* rx: stop after this long without packets (-W), 0 = never */
	int32_t reply_timeout_ms; /* ping */
};

int nmt_gen_tx(struct nmt_port *p, int ring, const struct nmt_gen *g, struct nmt_run *run);
int nmt_gen_rx(struct nmt_port *p, int ring, const struct nmt_gen *g, struct nmt_run *run);
int nmt_gen_ping(struct nmt_port *p, const struct nmt_gen *g, struct nmt_run *run);
int nmt_gen_pong(struct nmt_port *p, const struct nmt_gen *g, struct nmt_run *run);
void nmt_hist_add(struct nmt_hist *h, uint64_t v);
uint64_t nmt_hist_upper(uint32_t bucket);

#endif
