#include "trace/tracer.h"

#include <stdlib.h>
#include <string.h>

#include "capture/clock.h"
#include "trace/inflight.h"

struct sink {
	span_sink_fn fn;
	void *ctx;
};

struct tracer {
	struct tracer_opts o;
	struct sockspan_stats *stats;
	struct exchange_sink xsink;
	struct inflight inflight;
	struct sink sinks[TRACER_MAX_SINKS];
	unsigned nsinks;
};

static exchange_id on_start(void *ctx, const struct conn *c, const struct exchange_start *x)
{
	struct tracer *t = ctx;
	exchange_id id;
	struct xrec *r = inflight_add(&t->inflight, &id);

	(void)c;
	if (!r) {
		t->stats->exchanges_untracked++;
		return 0;
	}
	r->role = x->role;
	r->proto = x->proto;
	r->start_ns = x->start_ns;
	return id;
}

/* The socket's address as is: encoders report IPv4-mapped IPv6 as IPv4 (span_endpoint_ip). */
static void set_endpoint(struct span_endpoint *ep, uint8_t family, const uint8_t addr[16], uint16_t port)
{
	ep->family = family;
	memcpy(ep->addr, addr, sizeof(ep->addr));
	ep->port = port;
}

static void emit(struct tracer *t, const struct span *s)
{
	t->stats->spans++;
	t->stats->proto_spans[s->proto][s->kind]++;
	for (unsigned i = 0; i < t->nsinks; i++)
		t->sinks[i].fn(t->sinks[i].ctx, s);
}

static void on_end(void *ctx, exchange_id id, const struct conn *c, const struct exchange_end *x)
{
	struct tracer *t = ctx;
	struct xrec *r = inflight_get(&t->inflight, id);
	const char *service = t->o.service_name ? t->o.service_name : c->comm;
	struct span s;

	if (!r)
		return;
	span_init(&s);
	s.kind = r->role == EXCHANGE_CLIENT ? SPAN_KIND_CLIENT : SPAN_KIND_SERVER;
	s.timestamp_us = clock_mono_to_epoch_us(r->start_ns);
	s.duration_us = x->end_ns > r->start_ns ? (x->end_ns - r->start_ns) / 1000 : 0;
	span_copy_utf8(s.local.service_name, sizeof(s.local.service_name), service, strlen(service));
	set_endpoint(&s.local, c->family, c->laddr, c->lport);
	set_endpoint(&s.remote, c->family, c->raddr, c->rport);
	s.pid = c->key.tgid;
	s.proto = r->proto;
	span_set_exchange(&s, x, t->o.span);
	inflight_remove(&t->inflight, r);
	emit(t, &s);
}

static void on_drop(void *ctx, exchange_id id)
{
	struct tracer *t = ctx;
	struct xrec *r = inflight_get(&t->inflight, id);

	if (r)
		inflight_remove(&t->inflight, r);
}

struct tracer *tracer_new(const struct tracer_opts *o, struct sockspan_stats *stats)
{
	struct tracer *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->o = *o;
	t->stats = stats;
	t->xsink = (struct exchange_sink){ .start = on_start, .end = on_end, .drop = on_drop, .ctx = t };
	inflight_init(&t->inflight, (uint32_t)o->max_exchanges);
	return t;
}

void tracer_free(struct tracer *t)
{
	if (!t)
		return;
	inflight_free(&t->inflight);
	free(t);
}

int tracer_add_sink(struct tracer *t, span_sink_fn fn, void *ctx)
{
	if (t->nsinks == TRACER_MAX_SINKS)
		return -1;
	t->sinks[t->nsinks++] = (struct sink){ fn, ctx };
	return 0;
}

const struct exchange_sink *tracer_exchange_sink(struct tracer *t)
{
	return &t->xsink;
}

size_t tracer_in_flight(const struct tracer *t)
{
	return t->inflight.used;
}
