#include <stdio.h>

#include "parse/h2_frame.h"
#include "span/span_exchange.h"
#include "span/span_name.h"

void span_set_exchange(struct span *s, const struct exchange_end *x, const struct span_opts *o)
{
	switch (x->type) {
	case EXCHANGE_HTTP:
		span_set_http(s, &x->u.http, x->rst);
		break;
	case EXCHANGE_GRPC:
		span_set_grpc(s, &x->u.grpc, x->rst);
		break;
	case EXCHANGE_REDIS:
		span_set_redis(s, &x->u.redis, o);
		break;
	}
}

void span_add_rst_error(struct span *s, int64_t rst)
{
	const char *name = h2_error_name((uint32_t)rst);
	char err[48];
	int n = name ? snprintf(err, sizeof(err), "RST_STREAM %s", name)
		     : snprintf(err, sizeof(err), "RST_STREAM 0x%x", (unsigned)rst);

	span_add_tag(s, "error", err, (size_t)n);
}

/* Name from method and path (ids made {id}, no query); the query never
 * reaches a tag: http.path is the path alone. A 5xx, or a reset, is an error. */
void span_set_http(struct span *s, const struct exchange_http *x, int64_t rst)
{
	const char *path;
	size_t path_len;
	char status[20];
	size_t n = 0;

	span_name_http(s->name, sizeof(s->name), x->method, x->method_len, x->target, x->target_len);
	span_http_path(x->target, x->target_len, &path, &path_len);
	span_add_tag(s, "http.method", x->method, x->method_len);
	span_add_tag(s, "http.path", path, path_len);
	if (x->status) {
		n = span_fmt_uint(status, (unsigned)x->status);
		span_add_tag(s, "http.status_code", status, n);
	}
	if (rst >= 0)
		span_add_rst_error(s, rst);
	else if (x->status >= 500)
		span_add_tag(s, "error", status, n);
}
