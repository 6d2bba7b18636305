/* The userspace pipeline from events to spans, as the agent and the replay
 * benchmark run it: connection tracker -> protocol sessions -> tracer ->
 * span builder, whose sinks (the outputs) the caller adds. */
#ifndef SOCKSPAN_PIPELINE_H
#define SOCKSPAN_PIPELINE_H

#include <stdbool.h>
#include <stdint.h>

#include "conn/conn_tracker.h"
#include "session/exchange.h"
#include "span/span_builder.h"
#include "stats.h"
#include "trace/tracer.h"

/* Connections tracked at once; beyond it the least recently active is evicted.
 * The kernel's full_payload map (bpf/capture.bpf.h) holds twice as many. */
#define PIPELINE_MAX_CONNS 65536
/* Exchanges in flight at once (~200 bytes each): real traffic has far
 * fewer; beyond it new ones get no span, counted as untracked. */
#define PIPELINE_MAX_EXCHANGES 65536
/* How long the spans of a trace begun by a SERVER without trace context wait
 * for the CLIENT end to join it: that end's event can come late when its
 * writer is preempted after the reader woke (a few ms on a loaded node). */
#define PIPELINE_JOIN_WAIT_NS (200ull * 1000000)
/* A connection with no traffic for this long is forgotten (its role stays in
 * the kernel, so it is picked up again if it wakes). */
#define PIPELINE_CONN_IDLE_NS (300ull * 1000000000)
/* A connection quiet for this long gives back its protocol's empty storage
 * (request queues) and fits the bytes it keeps to their buffer:
 * reallocating them when it wakes costs far less. */
#define PIPELINE_TRIM_IDLE_NS (1ull * 1000000000)

struct pipeline_opts {
	const char *service_name; /* serviceName of every span; NULL: the pod's, or the process name */
	struct k8s_meta *meta;    /* who pods and peers are (NULL: nobody); outlives the pipeline */
	bool redis_statement;     /* Redis spans get db.statement (arguments as '?') */
	bool ignore_sampling;     /* requests marked not sampled get spans too */
	/* The memory budget, checked after every event: over it, connections
	 * are shed (conn_tracker_shed) down to 7/8 of it. heap_now: the heap in
	 * use (NULL: no budget). */
	size_t memory_limit;
	size_t (*heap_now)(void);
};

/* --raw: every event, with what its connection is known to speak
 * (conn_tracker_proto): for a close, before the tracker forgets it; for
 * data, after the tracker detected from it. */
typedef void (*pipeline_raw_fn)(void *ctx, const struct ss_event *ev, const uint8_t *payload, unsigned proto);

/* Initialised in place and never moved: the stages point at each other. */
struct pipeline {
	struct sockspan_stats *stats;
	struct span_opts span_opts;
	struct span_builder builder;
	struct session_env env;
	struct tracer *tracer;
	struct conn_tracker *tracker;
	uint64_t last_expiry_ns;
	size_t memory_limit;
	size_t (*heap_now)(void);
	size_t heap_after_shed; /* the heap the last shed left; 0: under budget since */
	pipeline_raw_fn raw; /* NULL: no --raw */
	void *raw_ctx;
};

/* Returns 0, or -1 when out of memory (p is then freed). */
int pipeline_init(struct pipeline *p, const struct pipeline_opts *o, struct sockspan_stats *stats);
/* A capture_event_fn (ctx: the pipeline). */
void pipeline_event(void *ctx, const struct ss_event *ev, const uint8_t *payload);
/* Time passes (call it at least every second): waiting spans go out, idle
 * connections are forgotten. */
void pipeline_tick(struct pipeline *p, uint64_t now_ns);
/* At exit: every waiting span goes out now. */
void pipeline_flush(struct pipeline *p);
void pipeline_free(struct pipeline *p);

#endif
