#include "trace/trace.h"

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "capture/clock.h"
#include "conn/proto.h"
#include "span/span_name.h"
#include "stats.h"

static trace_span_fn sink;
static void *sink_ctx;
static const char *service_override;

void trace_set_sink(trace_span_fn fn, void *ctx, const char *service_name)
{
	sink = fn;
	sink_ctx = ctx;
	service_override = service_name;
}

/* The socket's address as is: encoders report IPv4-mapped IPv6 as IPv4 (span_endpoint_ip). */
static void set_endpoint(struct span_endpoint *ep, uint8_t family, const uint8_t addr[16], uint16_t port)
{
	ep->family = family;
	memcpy(ep->addr, addr, sizeof(ep->addr));
	ep->port = port;
}

void trace_span_begin(struct span *s, const struct conn *c, enum span_kind kind, uint64_t start_ns,
		      uint64_t end_ns)
{
	span_init(s);
	s->kind = kind;
	s->timestamp_us = clock_mono_to_epoch_us(start_ns);
	s->duration_us = end_ns > start_ns ? (end_ns - start_ns) / 1000 : 0;
	span_copy_utf8(s->local.service_name, sizeof(s->local.service_name),
		       service_override ? service_override : c->comm,
		       strlen(service_override ? service_override : c->comm));
	set_endpoint(&s->local, c->family, c->laddr, c->lport);
	set_endpoint(&s->remote, c->family, c->raddr, c->rport);
	s->pid = c->key.tgid;
	s->proto = c->proto ? c->proto->id : PROTO_NONE;
}

void trace_emit(const struct span *s)
{
	stats.spans++;
	if (sink)
		sink(sink_ctx, s);
}

void trace_http_exchange(const struct conn *c, const struct http_exchange *ex)
{
	struct span s;
	const char *path;
	size_t path_len;
	char status[16];
	int n;

	trace_span_begin(&s, c, ex->kind, ex->start_ns, ex->end_ns);
	span_name_http(s.name, sizeof(s.name), ex->method, ex->method_len, ex->target, ex->target_len);

	span_http_path(ex->target, ex->target_len, &path, &path_len);
	n = snprintf(status, sizeof(status), "%d", ex->status);
	span_add_tag(&s, "http.method", ex->method, ex->method_len);
	span_add_tag(&s, "http.path", path, path_len);
	span_add_tag(&s, "http.status_code", status, n);
	if (ex->status >= 500)
		span_add_tag(&s, "error", status, n);
	trace_emit(&s);
}
