/* The exchanges in flight: started, not yet ended or dropped. Records live
 * in one array that grows up to a bound; an exchange_id names a slot and its
 * generation, so a stale or forged id finds nothing. Records can be found by
 * keys (hash indexes with chains through the records): the SERVER exchanges
 * of a process, of one of its threads, with a given incoming span id or
 * trace id, and exchanges by span id for joining the two ends of a
 * connection. */
#ifndef SOCKSPAN_INFLIGHT_H
#define SOCKSPAN_INFLIGHT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "session/exchange.h"

/* Buckets per index at first; they double with the records, so chains stay
 * about one record long while the buckets stay as small as the load: every
 * exchange touches several of them, and a table far larger than the records
 * in flight is a cache miss each time. */
#define INFLIGHT_MIN_BUCKETS 256u

enum xindex {
	XI_PROC,   /* SERVER exchanges of a process: key inflight_key(tgid, 0, 0) */
	XI_THREAD, /* SERVER exchanges read by a thread: (tgid, tid) */
	XI_SPAN,   /* SERVER exchanges by the span id they came with: (tgid, span id) */
	XI_TRACE,  /* SERVER exchanges by the trace their context named: (tgid, trace id bits) */
	XI_HOP,    /* exchanges without trace context, by their span id: joining both ends */
	XI__COUNT,
};

struct xlink {
	uint64_t key;
	uint32_t prev, next;     /* slot + 1 in the same chain; 0: none */
	bool linked;
};

struct tcell;
struct held;

struct xrec {
	uint32_t gen;            /* generation of the slot; odd while in use */
	uint32_t next_free;      /* free list, while free */
	struct xlink link[XI__COUNT];
	enum exchange_role role;
	enum proto_id proto;
	uint32_t tgid, tid;
	uint16_t lport, rport;   /* of the connection: a join checks the client's source port */
	uint64_t peer;           /* waiting SERVER: peers_key() of the process and its client's address */
	uint64_t start_ns;
	uint64_t id;             /* span id */
	uint64_t parent;         /* parent span id; 0: none */
	bool shared;             /* SERVER sharing its id with the CLIENT span of the RPC */
	bool waiting;            /* SERVER without trace context: a CLIENT seen later may join it */
	bool unattributed;       /* CLIENT that could have been caused by more than one request */
	bool has_local;          /* CLIENT: reports its parent's local endpoint (Zipkin links
				  * a child to a shared SERVER span by endpoint) */
	uint8_t local_family;
	uint16_t local_port;
	uint8_t local_addr[16];
	struct tcell *cell;      /* its trace */
	char *tracestate;        /* W3C tracestate it came with (malloc'd), NULL: none */
	struct held *held;       /* ended, its span waiting for its trace (trace/held.h) */
	uint32_t held_next;      /* slot + 1 of the next exchange held for the same trace */
};

struct inflight {
	struct xrec *v;
	uint32_t cap, max, used;
	uint32_t free_head;      /* first free slot + 1; 0: none */
	uint32_t nbuckets;       /* per index: a power of two, >= cap */
	uint32_t *buckets[XI__COUNT]; /* slot + 1 of each chain's first record */
};

/* max: records at most (< 2^31). Returns 0, or -1 without memory. */
int inflight_init(struct inflight *f, uint32_t max);
void inflight_free(struct inflight *f);
/* A zeroed record in use and its id, or NULL when max are in use or memory runs out. */
struct xrec *inflight_add(struct inflight *f, exchange_id *id);
/* The record id names, or NULL if it is not in use (ended, or never was). */
struct xrec *inflight_get(const struct inflight *f, exchange_id id);
/* Unlinks the record from every index and frees it. */
void inflight_remove(struct inflight *f, struct xrec *r);

/* A key for the process-scoped indexes. */
uint64_t inflight_key(uint32_t tgid, uint32_t kind, uint64_t v);
void inflight_link(struct inflight *f, struct xrec *r, enum xindex x, uint64_t key);
void inflight_unlink(struct inflight *f, struct xrec *r, enum xindex x);
/* Records under key in index x: the first, then the next after r (NULL: no more). */
struct xrec *inflight_first(const struct inflight *f, enum xindex x, uint64_t key);
struct xrec *inflight_next(const struct inflight *f, const struct xrec *r, enum xindex x);

#endif
