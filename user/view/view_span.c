// SPDX-License-Identifier: MIT
/* view_span.c - the view's compact span, from a live span's tags or JSON's. */
#include "view/view_span.h"

#include <stdlib.h>
#include <string.h>

#include "conn/proto_id.h"

const char *const view_tag_keys[VIEW_TAG__COUNT] = {
	[VIEW_TAG_HTTP_STATUS] = "http.status_code", [VIEW_TAG_GRPC_STATUS] = "grpc.status_code",
	[VIEW_TAG_ERROR] = "error",                  [VIEW_TAG_HTTP_PATH] = "http.path",
	[VIEW_TAG_RPC_SYSTEM] = "rpc.system",        [VIEW_TAG_DB_SYSTEM] = "db.system",
};

/* A decimal tag value in [min, max], else -1 (hostile JSON holds anything). */
static long small_number(const char *s, long min, long max)
{
	char *end;
	long v;

	if (!s || *s < '0' || *s > '9')
		return -1;
	v = strtol(s, &end, 10);
	return *end || v < min || v > max ? -1 : v;
}

static void copy_str(char *dst, size_t cap, const char *src)
{
	span_copy_utf8(dst, cap, src, strlen(src));
}

void view_span_set_tags(struct view_span *v, const char *const tags[VIEW_TAG__COUNT])
{
	const char *status = tags[VIEW_TAG_HTTP_STATUS] ? tags[VIEW_TAG_HTTP_STATUS]
			     : tags[VIEW_TAG_GRPC_STATUS] ? tags[VIEW_TAG_GRPC_STATUS]
							  : tags[VIEW_TAG_ERROR];
	long http = small_number(tags[VIEW_TAG_HTTP_STATUS], 100, 999);
	bool grpc = tags[VIEW_TAG_RPC_SYSTEM] && strcmp(tags[VIEW_TAG_RPC_SYSTEM], "grpc") == 0;

	copy_str(v->status, sizeof(v->status), status ? status : "");
	v->error = tags[VIEW_TAG_ERROR] != NULL;
	v->http_status = http < 0 ? 0 : (uint16_t)http;
	v->grpc_status = (int16_t)small_number(tags[VIEW_TAG_GRPC_STATUS], 0, 16);
	/* A gRPC method's path is its name (span_grpc.c keeps no http.path). */
	copy_str(v->path, sizeof(v->path), tags[VIEW_TAG_HTTP_PATH] ? tags[VIEW_TAG_HTTP_PATH] : grpc ? v->name : "");
	if (tags[VIEW_TAG_DB_SYSTEM] && strcmp(tags[VIEW_TAG_DB_SYSTEM], "redis") == 0)
		v->proto = VIEW_PROTO_REDIS;
	else if (grpc)
		v->proto = VIEW_PROTO_GRPC;
	else if (tags[VIEW_TAG_HTTP_STATUS] || tags[VIEW_TAG_HTTP_PATH])
		v->proto = VIEW_PROTO_HTTP;
	else
		v->proto = VIEW_PROTO_OTHER;
}

void view_span_from_span(struct view_span *v, const struct span *s)
{
	const char *tags[VIEW_TAG__COUNT];

	memset(v, 0, sizeof(*v));
	memcpy(v->trace_id, s->trace_id, sizeof(v->trace_id));
	v->trace_id_len = (uint8_t)span_trace_id_len(s);
	memcpy(v->id, s->id, sizeof(v->id));
	memcpy(v->parent_id, s->parent_id, sizeof(v->parent_id));
	v->has_parent = s->has_parent;
	v->shared = s->shared;
	v->kind = s->kind == SPAN_KIND_CLIENT ? VIEW_KIND_CLIENT : VIEW_KIND_SERVER;
	v->start_us = s->timestamp_us;
	v->duration_us = s->duration_us;
	span_copy_utf8(v->service, sizeof(v->service), s->local.service_name,
		       strnlen(s->local.service_name, sizeof(s->local.service_name)));
	span_copy_utf8(v->name, sizeof(v->name), s->name, strnlen(s->name, sizeof(s->name)));
	for (int i = 0; i < VIEW_TAG__COUNT; i++)
		tags[i] = span_tag(s, view_tag_keys[i]);
	view_span_set_tags(v, tags);
	/* Live spans know their HTTP version. */
	if (v->proto == VIEW_PROTO_HTTP)
		v->proto = s->proto == PROTO_HTTP2 ? VIEW_PROTO_HTTP2 : VIEW_PROTO_HTTP1;
}

static uint64_t be64(const uint8_t *p)
{
	uint64_t x = 0;

	for (int i = 0; i < 8; i++)
		x = x << 8 | p[i];
	return x;
}

uint64_t view_span_trace_low64(const struct view_span *v)
{
	return be64(v->trace_id + (v->trace_id_len == 8 ? 0 : 8));
}

uint64_t view_span_trace_high64(const struct view_span *v)
{
	return v->trace_id_len == 8 ? 0 : be64(v->trace_id);
}

void view_span_trace_hex(const struct view_span *v, char out[33])
{
	static const char digits[] = "0123456789abcdef";
	size_t n = v->trace_id_len == 8 ? 8 : 16;

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[v->trace_id[i] >> 4];
		out[2 * i + 1] = digits[v->trace_id[i] & 0xf];
	}
	out[2 * n] = '\0';
}
