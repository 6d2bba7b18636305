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

void pipeline_event(void *ctx, const struct ss_event *ev, const uint8_t *payload)
{
	struct pipeline *p = ctx;

	if (p->raw) {
		raw_event(p, ev, payload);
		return;
	}
	conn_tracker_event(p->tracker, ev, payload);
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
