/* The exchanges in flight: started, not yet ended or dropped. Records live
 * in one array that grows up to a bound; an exchange_id names a slot and its
 * generation, so a stale or forged id finds nothing. */
#ifndef SOCKSPAN_INFLIGHT_H
#define SOCKSPAN_INFLIGHT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "session/exchange.h"

struct xrec {
	uint32_t gen;            /* generation of the slot; odd while in use */
	uint32_t next_free;      /* free list, while free */
	enum exchange_role role;
	enum proto_id proto;
	uint64_t start_ns;
};

struct inflight {
	struct xrec *v;
	uint32_t cap, max, used;
	uint32_t free_head;      /* first free slot + 1; 0: none */
};

/* max: records at most (< 2^31). */
void inflight_init(struct inflight *f, uint32_t max);
void inflight_free(struct inflight *f);
/* A zeroed record in use and its id, or NULL when max are in use or memory runs out. */
struct xrec *inflight_add(struct inflight *f, exchange_id *id);
/* The record id names, or NULL if it is not in use (ended, or never was). */
struct xrec *inflight_get(const struct inflight *f, exchange_id id);
/* Frees the record (r from inflight_add/_get). */
void inflight_remove(struct inflight *f, struct xrec *r);

#endif
