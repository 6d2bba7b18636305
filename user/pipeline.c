#include "pipeline.h"

#include <string.h>

#include "session/protocols.h"

int pipeline_init(struct pipeline *p, const struct pipeline_opts *o, struct sockspan_stats *stats)
{
	struct tracer_opts topts = {
		.max_exchanges = PIPELINE_MAX_EXCHANGES,
		.join_wait_ns = PIPELINE_JOIN_WAIT_NS,
		.ignore_sampling = o->ignore_sampling,
	};
	struct conn_tracker_opts kopts = {
		.max_conns = PIPELINE_MAX_CONNS, .protocols = session_protocols, .env = &p->env, .stats = stats,
	};

	memset(p, 0, sizeof(*p));
	p->stats = stats;
	p->memory_limit = o->memory_limit;
	p->heap_now = o->heap_now;
	p->span_opts.redis_statement = o->redis_statement;
	span_builder_init(&p->builder, o->service_name, o->meta, &p->span_opts, stats);
	p->tracer = tracer_new(&topts, stats, span_builder_traced, &p->builder);
	p->env = (struct session_env){ .sink = p->tracer ? tracer_exchange_sink(p->tracer) : NULL, .stats = stats };
	p->tracker = p->tracer ? conn_tracker_new(&kopts) : NULL;
	if (!p->tracker) {
		pipeline_free(p);
		return -1;
	}
	return 0;
}

static void raw_event(struct pipeline *p, const struct ss_event *ev, const uint8_t *payload)
{
	if (ev->type == SS_EV_CLOSE)
		p->raw(p->raw_ctx, ev, payload, conn_tracker_proto(p->tracker, ev->tgid, ev->sock_ino));
	conn_tracker_event(p->tracker, ev, payload);
	if (ev->type != SS_EV_CLOSE)
		p->raw(p->raw_ctx, ev, payload, conn_tracker_proto(p->tracker, ev->tgid, ev->sock_ino));
}

/* After every event, not once per poll round: a round drains up to a whole
 * ring buffer, enough for the heap to pass the budget by tens of MiB. What
 * shedding cannot give back (spans waiting for export...) must not make
 * every event shed again: the next shed waits for the heap to grow by a
 * sixteenth of the budget past what the last one left. */
static void hold_budget(struct pipeline *p)
{
	size_t heap = p->heap_now();

	if (heap <= p->memory_limit) {
		p->heap_after_shed = 0;
		return;
	}
	if (heap <= p->heap_after_shed + p->memory_limit / 16)
		return;
	conn_tracker_shed(p->tracker, heap - p->memory_limit / 8 * 7);
	p->heap_after_shed = p->heap_now();
}

void pipeline_event(void *ctx, const struct ss_event *ev, const uint8_t *payload)
{
	struct pipeline *p = ctx;

	if (p->raw)
		raw_event(p, ev, payload);
	else
		conn_tracker_event(p->tracker, ev, payload);
	if (p->heap_now)
		hold_budget(p);
}

void pipeline_tick(struct pipeline *p, uint64_t now_ns)
{
	tracer_tick(p->tracer, now_ns);
	if (now_ns - p->last_expiry_ns >= 1000000000ull) {
		conn_tracker_expire(p->tracker, now_ns, PIPELINE_CONN_IDLE_NS);
		conn_tracker_trim(p->tracker, now_ns, PIPELINE_TRIM_IDLE_NS);
		p->last_expiry_ns = now_ns;
	}
}

void pipeline_flush(struct pipeline *p)
{
	tracer_flush(p->tracer);
}

void pipeline_free(struct pipeline *p)
{
	conn_tracker_free(p->tracker);
	tracer_free(p->tracer);
	p->tracker = NULL;
	p->tracer = NULL;
}
