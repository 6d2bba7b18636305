#include "export/zipkin_proto.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <zlib.h>

#include "span/span_format.h"
#include "zipkin.pb-c.h"

#define PID_TAG "process.pid"
/* ListOfSpans: field 1, wire type 2 (length-delimited). */
#define LIST_OF_SPANS_KEY 0x0a
#define VARINT_MAX 10
/* gzip header and trailer around deflate's output. */
#define GZIP_OVERHEAD 32

static int buf_reserve(struct zipkin_buf *b, size_t extra)
{
	size_t cap = b->cap ? b->cap : 4096;
	uint8_t *p;

	if (b->len + extra <= b->cap)
		return 0;
	while (cap < b->len + extra)
		cap *= 2;
	p = realloc(b->data, cap);
	if (!p)
		return -1;
	b->data = p;
	b->cap = cap;
	return 0;
}

static void buf_put(struct zipkin_buf *b, const void *src, size_t n)
{
	memcpy(b->data + b->len, src, n);
	b->len += n;
}

void zipkin_buf_free(struct zipkin_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

const char *zipkin_content_type(enum zipkin_encoding enc)
{
	return enc == ZIPKIN_PROTO3 ? "application/x-protobuf" : "application/json";
}

/* --- proto3 --- */

static size_t put_varint(uint8_t *p, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

/* Same address as the JSON encoding reports (span_endpoint_ip). */
static void set_ip(Zipkin__Proto3__Endpoint *pe, const struct span_endpoint *e)
{
	const uint8_t *addr;
	int family = span_endpoint_ip(e, &addr);

	if (family == AF_INET) {
		pe->ipv4.data = (uint8_t *)addr;
		pe->ipv4.len = 4;
	} else if (family == AF_INET6) {
		pe->ipv6.data = (uint8_t *)addr;
		pe->ipv6.len = 16;
	}
}

/* Fills pe from e; false when it has nothing to say (then it is omitted). */
static bool set_endpoint(Zipkin__Proto3__Endpoint *pe, char *service, const struct span_endpoint *e)
{
	span_copy_utf8(service, SPAN_SERVICE_MAX, e->service_name,
		       strnlen(e->service_name, sizeof(e->service_name)));
	set_ip(pe, e);
	pe->service_name = service;
	pe->port = e->port;
	return service[0] || pe->ipv4.len || pe->ipv6.len || e->port;
}

struct proto_span {
	Zipkin__Proto3__Span span;
	Zipkin__Proto3__Endpoint local, remote;
	char name[SPAN_NAME_MAX];
	char lservice[SPAN_SERVICE_MAX], rservice[SPAN_SERVICE_MAX];
	Zipkin__Proto3__Span__TagsEntry entries[SPAN_MAX_TAGS + 1];
	Zipkin__Proto3__Span__TagsEntry *tags[SPAN_MAX_TAGS + 1];
	char values[SPAN_MAX_TAGS][SPAN_TAG_VALUE_MAX];
	char pid[16];
};

static bool tag_seen(const struct proto_span *p, const char *key)
{
	for (size_t i = 0; i < p->span.n_tags; i++)
		if (strcmp(p->tags[i]->key, key) == 0)
			return true;
	return false;
}

static void add_tag(struct proto_span *p, const char *key, char *value)
{
	Zipkin__Proto3__Span__TagsEntry *t = &p->entries[p->span.n_tags];

	zipkin__proto3__span__tags_entry__init(t);
	t->key = (char *)key;
	t->value = value;
	p->tags[p->span.n_tags++] = t;
}

static void build(struct proto_span *p, const struct span *s)
{
	unsigned ntags = s->num_tags < SPAN_MAX_TAGS ? s->num_tags : SPAN_MAX_TAGS;

	zipkin__proto3__span__init(&p->span);
	zipkin__proto3__endpoint__init(&p->local);
	zipkin__proto3__endpoint__init(&p->remote);
	p->span.trace_id.data = (uint8_t *)s->trace_id;
	p->span.trace_id.len = span_trace_id_len(s);
	p->span.id.data = (uint8_t *)s->id;
	p->span.id.len = sizeof(s->id);
	if (s->has_parent) {
		p->span.parent_id.data = (uint8_t *)s->parent_id;
		p->span.parent_id.len = sizeof(s->parent_id);
	}
	p->span.debug = s->debug;
	p->span.shared = s->shared;
	switch (s->kind) {
	case SPAN_KIND_CLIENT:
		p->span.kind = ZIPKIN__PROTO3__SPAN__KIND__CLIENT;
		break;
	case SPAN_KIND_SERVER:
		p->span.kind = ZIPKIN__PROTO3__SPAN__KIND__SERVER;
		break;
	}
	span_copy_utf8(p->name, sizeof(p->name), s->name, strnlen(s->name, sizeof(s->name)));
	p->span.name = p->name;
	/* JSON writes int64 values: clamp the same way so both say the same. */
	p->span.timestamp = s->timestamp_us > INT64_MAX ? INT64_MAX : s->timestamp_us;
	p->span.duration = !s->duration_us ? 1 : s->duration_us > INT64_MAX ? INT64_MAX : s->duration_us;
	if (set_endpoint(&p->local, p->lservice, &s->local))
		p->span.local_endpoint = &p->local;
	if (set_endpoint(&p->remote, p->rservice, &s->remote))
		p->span.remote_endpoint = &p->remote;

	p->span.tags = p->tags;
	for (unsigned i = 0; i < ntags; i++) {
		const struct span_tag *t = &s->tags[i];

		if (!t->key || tag_seen(p, t->key) || (s->pid && strcmp(t->key, PID_TAG) == 0))
			continue;
		span_copy_utf8(p->values[i], sizeof(p->values[i]), t->value, strnlen(t->value, sizeof(t->value)));
		add_tag(p, t->key, p->values[i]);
	}
	if (s->pid) {
		snprintf(p->pid, sizeof(p->pid), "%u", (unsigned)s->pid);
		add_tag(p, PID_TAG, p->pid);
	}
}

/* Packs s as a Span message at the end of out, after `prefix` reserved bytes
 * the caller fills. Returns the message's length, or -1 on ENOMEM. */
static ssize_t append_span(const struct span *s, struct zipkin_buf *out, size_t prefix_max,
			   size_t *prefix_len)
{
	struct proto_span p;
	size_t n;

	build(&p, s);
	n = zipkin__proto3__span__get_packed_size(&p.span);
	if (buf_reserve(out, prefix_max + n))
		return -1;
	*prefix_len = 0;
	if (prefix_max) {
		out->data[out->len] = LIST_OF_SPANS_KEY;
		*prefix_len = 1 + put_varint(out->data + out->len + 1, n);
	}
	zipkin__proto3__span__pack(&p.span, out->data + out->len + *prefix_len);
	return (ssize_t)n;
}

int zipkin_proto_span(const struct span *s, struct zipkin_buf *out)
{
	size_t prefix;
	ssize_t n;

	out->len = 0;
	n = append_span(s, out, 0, &prefix);
	if (n < 0)
		return -1;
	out->len = (size_t)n;
	return 0;
}

/* --- batches --- */

int zipkin_batch_init(struct zipkin_batch *b, enum zipkin_encoding enc)
{
	memset(b, 0, sizeof(*b));
	b->enc = enc;
	if (buf_reserve(&b->body, 1))
		return -1;
	zipkin_batch_clear(b);
	return 0;
}

void zipkin_batch_free(struct zipkin_batch *b)
{
	zipkin_buf_free(&b->body);
}

void zipkin_batch_clear(struct zipkin_batch *b)
{
	b->nspans = 0;
	b->body.len = 0;
	if (b->enc == ZIPKIN_JSON)
		buf_put(&b->body, "[", 1);
}

size_t zipkin_batch_size(const struct zipkin_batch *b)
{
	/* JSON: the closing bracket (an empty list is "[]"). */
	return b->body.len + (b->enc == ZIPKIN_JSON);
}

static int add_json(struct zipkin_batch *b, const struct span *s, size_t limit)
{
	size_t n, sep = b->nspans > 0;

	if (buf_reserve(&b->body, sep + SPAN_JSON_MAX))
		return -1;
	n = span_zipkin_json_cached(s, (char *)b->body.data + b->body.len + sep, SPAN_JSON_MAX, &b->json);
	if (!n)
		return -1;
	if (b->nspans > 0 && zipkin_batch_size(b) + sep + n > limit)
		return 0;
	buf_put(&b->body, ",", sep);
	b->body.len += n;
	return 1;
}

static int add_proto(struct zipkin_batch *b, const struct span *s, size_t limit)
{
	size_t prefix;
	ssize_t n = append_span(s, &b->body, 1 + VARINT_MAX, &prefix);

	if (n < 0)
		return -1;
	if (b->nspans > 0 && b->body.len + prefix + (size_t)n > limit)
		return 0;
	b->body.len += prefix + (size_t)n;
	return 1;
}

int zipkin_batch_add(struct zipkin_batch *b, const struct span *s, size_t limit)
{
	int r = b->enc == ZIPKIN_PROTO3 ? add_proto(b, s, limit) : add_json(b, s, limit);

	if (r == 1)
		b->nspans++;
	return r;
}

const uint8_t *zipkin_batch_finish(struct zipkin_batch *b, size_t *len)
{
	if (b->enc == ZIPKIN_JSON) {
		/* add_json keeps one spare byte for the bracket. */
		b->body.data[b->body.len] = ']';
	}
	*len = zipkin_batch_size(b);
	return b->body.data;
}

int zipkin_gzip(const uint8_t *in, size_t len, struct zipkin_buf *out)
{
	z_stream z = { 0 };
	int r;

	out->len = 0;
	/* 15 + 16: a gzip wrapper instead of zlib's; level 1: see README's
	 * Export section for what higher levels cost per span. */
	if (deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -1;
	if (buf_reserve(out, deflateBound(&z, len) + GZIP_OVERHEAD)) {
		deflateEnd(&z);
		return -1;
	}
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)len;
	z.next_out = out->data;
	z.avail_out = (uInt)out->cap;
	r = deflate(&z, Z_FINISH);
	out->len = z.total_out;
	deflateEnd(&z);
	return r == Z_STREAM_END ? 0 : -1;
}
