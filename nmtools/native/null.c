/*
 * null.c - the null port (pkt-gen's `-i null`): txsync consumes everything,
 * rxsync never returns a packet. It measures the loops' own cost.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "nmt.h"

static int null_txsync(struct nmt_port *p, unsigned ri)
{
	struct nmt_ring *r = p->tx_rings[ri];

	p->txk[ri].hwcur = r->head;
	r->tail = nmt_ring_prev(r, r->head);
	return 0;
}

static int null_rxsync(struct nmt_port *p, unsigned ri)
{
	struct nmt_ring *r = p->rx_rings[ri];

	p->rxk[ri].hwcur = r->head;
	r->tail = r->head;
	return 0;
}

static int null_arm(struct nmt_port *p, int ring, int events)
{
	(void)p;
	(void)ring;
	return (events & NMT_WAIT_TX) ? 1 : 0;
}

static int null_tx_pending(struct nmt_port *p, int ring)
{
	(void)p;
	(void)ring;
	return 0;
}

static const struct nmt_ops null_ops = {
	.name = "null",
	.txsync = null_txsync,
	.rxsync = null_rxsync,
	.arm = null_arm,
	.tx_pending = null_tx_pending,
};

int nmt_null_open(struct nmt_port *p, const struct nmt_open_req *req)
{
	uint32_t ntx = req->tx_rings ? req->tx_rings : 1;
	uint32_t nrx = req->rx_rings ? req->rx_rings : 1;

	if (req->flags & NMT_OPEN_RX_ONLY)
		ntx = 0;
	if (req->flags & NMT_OPEN_TX_ONLY)
		nrx = 0;
	if (nmt_ring_alloc(p, ntx, nrx, req->tx_slots ? req->tx_slots : 1024,
			    req->rx_slots ? req->rx_slots : 1024,
			    req->buf_size ? req->buf_size : 2048) < 0)
		return -1;
	p->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (p->fd < 0)
		return nmt_err(p, errno, "eventfd: %s", strerror(errno));
	p->backend = "null";
	snprintf(p->mem_id, sizeof(p->mem_id), "null:%p", (void *)p->region);
	p->ops = &null_ops;
	return 0;
}
