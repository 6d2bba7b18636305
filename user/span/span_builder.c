#include "span/span_builder.h"

#include <string.h>

#include "capture/clock.h"
#include "trace/ids.h"

void span_builder_init(struct span_builder *b, const char *service_name, struct k8s_meta *meta,
		       const struct span_opts *opts, struct sockspan_stats *stats)
{
	memset(b, 0, sizeof(*b));
	b->service_name = service_name;
	b->meta = meta;
	b->opts = opts;
	b->stats = stats;
}

int span_builder_add_sink(struct span_builder *b, span_sink_fn fn, void *ctx)
{
	if (b->nsinks == SPAN_BUILDER_MAX_SINKS)
		return -1;
	b->sinks[b->nsinks].fn = fn;
	b->sinks[b->nsinks].ctx = ctx;
	b->nsinks++;
	return 0;
}

/* The socket's address as is: encoders report IPv4-mapped IPv6 as IPv4 (span_endpoint_ip). */
static void set_endpoint(struct span_endpoint *ep, uint8_t family, const uint8_t addr[16], uint16_t port)
{
	ep->family = family;
	memcpy(ep->addr, addr, sizeof(ep->addr));
	ep->port = port;
}

static void add_str_tag(struct span *s, const char *key, const char *value)
{
	if (value[0])
		span_add_tag(s, key, value, strlen(value));
}

/* What the cgroup says (the pod's uid, the container's id), and what the API adds. */
static void add_k8s_tags(struct span *s, const struct k8s_ident *id)
{
	add_str_tag(s, "k8s.pod.uid", id->pod_uid);
	add_str_tag(s, "container.id", id->container_id);
	if (!id->known)
		return;
	add_str_tag(s, "k8s.namespace.name", id->ns);
	add_str_tag(s, "k8s.pod.name", id->pod);
	add_str_tag(s, "k8s.container.name", id->container);
	add_str_tag(s, "k8s.node.name", id->node);
	if (id->workload_tag)
		add_str_tag(s, id->workload_tag, id->workload);
}

void span_builder_traced(void *ctx, const struct conn *c, const struct traced *t, const struct exchange_end *x)
{
	struct span_builder *b = ctx;
	const struct k8s_ident *id = b->meta ? k8s_meta_local(b->meta, c->cgroup_id) : NULL;
	const char *service = b->service_name ? b->service_name : id && id->known ? id->service : c->comm;
	struct span s;

	span_clear(&s);
	memcpy(s.trace_id, t->trace_id, sizeof(s.trace_id));
	s.trace_id_len = t->trace_id_len;
	ids_put64(s.id, t->id);
	s.has_parent = t->parent != 0;
	ids_put64(s.parent_id, t->parent);
	s.shared = t->shared;
	s.debug = t->debug;
	s.kind = t->role == EXCHANGE_CLIENT ? SPAN_KIND_CLIENT : SPAN_KIND_SERVER;
	s.timestamp_us = clock_mono_to_epoch_us(t->start_ns);
	s.duration_us = x->end_ns > t->start_ns ? (x->end_ns - t->start_ns) / 1000 : 0;
	span_copy_utf8(s.local.service_name, sizeof(s.local.service_name), service, strlen(service));
	if (t->has_local)
		set_endpoint(&s.local, t->local_family, t->local_addr, t->local_port);
	else
		set_endpoint(&s.local, c->family, c->laddr, c->lport);
	set_endpoint(&s.remote, c->family, c->raddr, c->rport);
	if (b->meta)
		k8s_meta_remote(b->meta, c->family, c->raddr, s.remote.service_name, sizeof(s.remote.service_name));
	s.pid = c->key.tgid;
	s.proto = t->proto;
	span_set_exchange(&s, x, b->opts);
	if (t->tracestate)
		span_add_tag(&s, "w3c.tracestate", t->tracestate, strlen(t->tracestate));
	if (id)
		add_k8s_tags(&s, id);
	b->stats->spans++;
	b->stats->proto_spans[s.proto][s.kind]++;
	for (unsigned i = 0; i < b->nsinks; i++)
		b->sinks[i].fn(b->sinks[i].ctx, &s);
}
