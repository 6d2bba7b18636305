/* SPDX-License-Identifier: MIT */
/*
 * view_span.h - what the terminal view keeps of a span: ids, kind, times,
 * names and the few tags it shows or filters on, in ~450 bytes instead of a
 * struct span's ~8.5 KiB, so thousands of open traces fit. Made from a live
 * span (view_span_from_span) or from Zipkin v2 JSON (view_json.h), through
 * one mapping of tags (view_span_set_tags).
 */
#ifndef SOCKSPAN_VIEW_SPAN_H
#define SOCKSPAN_VIEW_SPAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "span/span.h"

#define VIEW_STATUS_MAX 32   /* a status code, a gRPC code or a Redis error word */
#define VIEW_PATH_MAX 128    /* --path-prefix compares the start of it */

enum view_kind { VIEW_KIND_NONE, VIEW_KIND_CLIENT, VIEW_KIND_SERVER, VIEW_KIND_PRODUCER, VIEW_KIND_CONSUMER };

/* VIEW_PROTO_HTTP: HTTP of an unknown version (a replayed span: JSON does
 * not say which); live spans are always HTTP1 or HTTP2. */
enum view_proto { VIEW_PROTO_OTHER, VIEW_PROTO_HTTP1, VIEW_PROTO_HTTP2, VIEW_PROTO_HTTP, VIEW_PROTO_GRPC,
		  VIEW_PROTO_REDIS };

/* The tags the view reads, by index into view_span_set_tags's array. */
enum view_tag { VIEW_TAG_HTTP_STATUS, VIEW_TAG_GRPC_STATUS, VIEW_TAG_ERROR, VIEW_TAG_HTTP_PATH, VIEW_TAG_RPC_SYSTEM,
		VIEW_TAG_DB_SYSTEM, VIEW_TAG__COUNT };

/* Their keys, as sockspan writes them (span_http.c, span_grpc.c, span_redis.c). */
extern const char *const view_tag_keys[VIEW_TAG__COUNT];

struct view_span {
	uint8_t trace_id[16];   /* as struct span: a 64-bit id in the first 8 bytes */
	uint8_t trace_id_len;   /* 8 or 16 */
	uint8_t id[8];
	uint8_t parent_id[8];
	bool has_parent;
	bool shared;
	bool error;             /* it has an "error" tag */
	uint8_t kind;           /* enum view_kind */
	uint8_t proto;          /* enum view_proto */
	uint16_t http_status;   /* 0: none */
	int16_t grpc_status;    /* -1: none */
	uint64_t start_us;      /* epoch microseconds */
	uint64_t duration_us;
	/* Valid UTF-8 (span_copy_utf8), not yet made safe for a terminal:
	 * rendering does that, in one place. */
	char service[SPAN_SERVICE_MAX];
	char name[SPAN_NAME_MAX];
	char status[VIEW_STATUS_MAX]; /* http.status_code, else grpc.status_code, else error; "" for none */
	char path[VIEW_PATH_MAX];     /* http.path, or a gRPC method's name */
};

/* Fill v from a span the builder made (every field of v is set). */
void view_span_from_span(struct view_span *v, const struct span *s);

/*
 * Set status, error, http_status, grpc_status, path and proto from the
 * values of the tags of view_tag_keys (NULL: the span has no such tag).
 * name must be set first (a gRPC span's path is its name).
 */
void view_span_set_tags(struct view_span *v, const char *const tags[VIEW_TAG__COUNT]);

/* The low 64 bits of the trace id (the whole id of a 64-bit one): what a
 * 64-bit and a 128-bit form of one trace id share. */
uint64_t view_span_trace_low64(const struct view_span *v);
/* The high 64 bits of a 128-bit trace id; 0 for a 64-bit one. */
uint64_t view_span_trace_high64(const struct view_span *v);

/* Lowercase hex of the trace id into out (33 bytes): 16 or 32 digits. */
void view_span_trace_hex(const struct view_span *v, char out[33]);

#endif
