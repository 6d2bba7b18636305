#include <stdio.h>
#include <string.h>

#include "span/span_exchange.h"
#include "span/span_name.h"

static void add_count_tags(struct span *s, const struct grpc_msgs *m, const char *messages_key,
			   const char *bytes_key)
{
	char num[20];

	if (!m || m->broken)
		return;
	span_add_tag(s, messages_key, num, span_fmt_uint(num, m->messages));
	span_add_tag(s, bytes_key, num, span_fmt_uint(num, m->bytes));
}

/* Named after the full method; the status is grpc-status (an error unless
 * OK), or what HTTP said when no gRPC status came (a proxy's answer). */
void span_set_grpc(struct span *s, const struct exchange_grpc *x, int64_t rst)
{
	const char *svc, *meth, *name;
	size_t svc_len, meth_len;
	bool reset = rst >= 0;
	char num[20];
	size_t n;
	int path_len;

	/* Not a method: named as an HTTP path is (no query, ids templated), so
	 * that what a peer sends can neither leak a secret nor flood the names. */
	path_len = grpc_split_path(x->path, x->path_len, &svc, &svc_len, &meth, &meth_len);
	if (path_len > 0)
		span_copy_utf8(s->name, sizeof(s->name), x->path, (size_t)path_len);
	else
		span_name_http(s->name, sizeof(s->name), "POST", 4, x->path, x->path_len);
	span_add_tag(s, "rpc.system", "grpc", 4);
	if (path_len > 0) {
		span_add_tag(s, "rpc.service", svc, svc_len);
		span_add_tag(s, "rpc.method", meth, meth_len);
	}
	if (x->grpc_status >= 0) {
		n = span_fmt_uint(num, (unsigned)x->grpc_status);
		span_add_tag(s, "grpc.status_code", num, n);
		if (x->message)
			span_add_tag(s, "grpc.message", x->message, x->message_len);
		if (x->grpc_status != 0 && !reset) {
			name = grpc_status_name(x->grpc_status);
			span_add_tag(s, "error", name ? name : num, name ? strlen(name) : n);
		}
	} else if (!reset) {
		n = span_fmt_uint(num, (unsigned)x->http_status);
		span_add_tag(s, "http.status_code", num, n);
		if (x->http_status != 200)
			span_add_tag(s, "error", num, n);
		else
			span_add_tag(s, "error", "no grpc-status", 14);
	}
	add_count_tags(s, x->request, "rpc.request.messages", "rpc.request.bytes");
	add_count_tags(s, x->response, "rpc.response.messages", "rpc.response.bytes");
	if (reset)
		span_add_rst_error(s, rst);
}
