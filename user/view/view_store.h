/* SPDX-License-Identifier: MIT */
/*
 * view_store.h - open traces, each a growing group of spans with one trace
 * id, until they are ready to show: no new span for a grace period (late
 * children get that long), or open for the max wait (then marked
 * incomplete). Bounded in traces, in spans per trace and in spans in all:
 * when full, the trace that came first goes out early (incomplete) and is
 * counted; a span beyond its trace's cap is dropped and counted. Times are
 * the caller's clock in microseconds (the store reads none).
 */
#ifndef SOCKSPAN_VIEW_STORE_H
#define SOCKSPAN_VIEW_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "view/view_span.h"

/* Traces open at once: a terminal shows far fewer per grace period. */
#define VIEW_MAX_TRACES 4096
/* Spans kept per trace: more would not fit a screen; the tree walk is O(n^2). */
#define VIEW_MAX_TRACE_SPANS 512
/* Spans kept in all (~450 bytes each: 29 MiB). */
#define VIEW_MAX_SPANS 65536
#define VIEW_GRACE_DEFAULT_US 1000000ull
/* A trace still growing after this long is shown as it is (incomplete). */
#define VIEW_MAX_WAIT_US 30000000ull

struct view_trace {
	struct view_span *spans; /* in the order they came */
	unsigned n, cap;
	unsigned dropped;        /* spans beyond the per-trace cap */
	bool incomplete;         /* shown before it was ready: max wait, or evicted */
	uint64_t first_us, last_us; /* when its first and its last span came */
	/* The store's: hash chain (or free list), and the list by first arrival. */
	int next_hash, older, newer;
};

/* Receives each trace that goes out; it is freed after the call. */
typedef void (*view_trace_fn)(void *ctx, const struct view_trace *t);

struct view_store_opts {
	unsigned max_traces;      /* 0: VIEW_MAX_TRACES */
	unsigned max_trace_spans; /* 0: VIEW_MAX_TRACE_SPANS */
	unsigned max_spans;       /* 0: VIEW_MAX_SPANS */
	uint64_t grace_us;
	uint64_t max_wait_us;     /* 0: VIEW_MAX_WAIT_US */
};

struct view_store_stats {
	uint64_t traces_out;     /* traces given to the callback */
	uint64_t traces_evicted; /* of them, sent out early to make room */
	uint64_t spans_dropped;  /* spans not kept: their trace was at its cap, or no memory */
};

struct view_store;

/* Returns the store, or NULL when out of memory. emit gets every trace. */
struct view_store *view_store_new(const struct view_store_opts *o, view_trace_fn emit, void *ctx);
/* Free, without emitting what is open (view_store_flush first for that). */
void view_store_free(struct view_store *st);

/* Add a copy of s to its trace, opening it if needed, at now_us. May emit
 * older traces first to make room. */
void view_store_add(struct view_store *st, const struct view_span *s, uint64_t now_us);
/* Emit the traces ready at now_us, oldest start first. */
void view_store_tick(struct view_store *st, uint64_t now_us);
/* Emit every open trace, oldest start first (at exit; the end of a replay). */
void view_store_flush(struct view_store *st);

size_t view_store_open_traces(const struct view_store *st);
const struct view_store_stats *view_store_stats(const struct view_store *st);

#endif
