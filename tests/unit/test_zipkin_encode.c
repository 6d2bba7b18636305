// SPDX-License-Identifier: MIT
/* Unit tests for zipkin_proto.c: the proto3 Span says exactly what the JSON
 * span says (decoded with protobuf-c and compared field by field, for fixed
 * and for thousands of random spans with hostile strings and edge values);
 * JSON and proto3 batches parse back to their spans and respect the size
 * limit; gzip round-trips. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cjson/cJSON.h>
#include <zlib.h>

#include "span/span.h"
#include "span/span_format.h"
#include "span_json.h"
#include "zipkin.pb-c.h"
#include "export/zipkin_proto.h"

static void hex(char *out, const uint8_t *in, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", in[i]);
}

static void add_raw(cJSON *o, const char *key, uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
	cr_assert_not_null(cJSON_AddRawToObject(o, key, buf));
}

/* A decoded proto3 endpoint in Zipkin's JSON model, or NULL when empty. */
static cJSON *endpoint_json(const Zipkin__Proto3__Endpoint *e)
{
	cJSON *o = cJSON_CreateObject();
	char ip[INET6_ADDRSTRLEN];

	if (e->service_name && e->service_name[0])
		cJSON_AddStringToObject(o, "serviceName", e->service_name);
	if (e->ipv4.len) {
		cr_assert_eq(e->ipv4.len, 4);
		cJSON_AddStringToObject(o, "ipv4", inet_ntop(AF_INET, e->ipv4.data, ip, sizeof(ip)));
	}
	if (e->ipv6.len) {
		cr_assert_eq(e->ipv6.len, 16);
		cJSON_AddStringToObject(o, "ipv6", inet_ntop(AF_INET6, e->ipv6.data, ip, sizeof(ip)));
	}
	if (e->port)
		cJSON_AddNumberToObject(o, "port", e->port);
	if (!o->child) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* A decoded proto3 span in Zipkin's JSON model, as the v2 JSON would carry it. */
static cJSON *proto_to_json(const Zipkin__Proto3__Span *p)
{
	cJSON *o = cJSON_CreateObject(), *ep;
	char buf[33];

	cr_assert(p->trace_id.len == 16 || p->trace_id.len == 8, "trace id of %zu bytes", p->trace_id.len);
	cr_assert_eq(p->id.len, 8);
	hex(buf, p->trace_id.data, p->trace_id.len);
	cJSON_AddStringToObject(o, "traceId", buf);
	hex(buf, p->id.data, 8);
	cJSON_AddStringToObject(o, "id", buf);
	if (p->parent_id.len) {
		cr_assert_eq(p->parent_id.len, 8);
		hex(buf, p->parent_id.data, 8);
		cJSON_AddStringToObject(o, "parentId", buf);
	}
	if (p->kind == ZIPKIN__PROTO3__SPAN__KIND__CLIENT)
		cJSON_AddStringToObject(o, "kind", "CLIENT");
	else if (p->kind == ZIPKIN__PROTO3__SPAN__KIND__SERVER)
		cJSON_AddStringToObject(o, "kind", "SERVER");
	else
		cr_assert_eq(p->kind, 0, "kind %d", p->kind);
	if (p->name && p->name[0])
		cJSON_AddStringToObject(o, "name", p->name);
	if (p->timestamp)
		add_raw(o, "timestamp", p->timestamp);
	if (p->duration)
		add_raw(o, "duration", p->duration);
	if (p->debug)
		cJSON_AddTrueToObject(o, "debug");
	if (p->shared)
		cJSON_AddTrueToObject(o, "shared");
	if (p->local_endpoint && (ep = endpoint_json(p->local_endpoint)))
		cJSON_AddItemToObject(o, "localEndpoint", ep);
	if (p->remote_endpoint && (ep = endpoint_json(p->remote_endpoint)))
		cJSON_AddItemToObject(o, "remoteEndpoint", ep);
	cr_assert_eq(p->n_annotations, 0);
	if (p->n_tags) {
		cJSON *tags = cJSON_AddObjectToObject(o, "tags");

		for (size_t i = 0; i < p->n_tags; i++) {
			cr_assert_null(cJSON_GetObjectItemCaseSensitive(tags, p->tags[i]->key),
				       "duplicate tag %s in the proto", p->tags[i]->key);
			cJSON_AddStringToObject(tags, p->tags[i]->key, p->tags[i]->value);
		}
	}
	return o;
}

/* json printed and parsed back: its raw numbers become numbers, as in span_json_tree's. */
static cJSON *reparsed(cJSON *json)
{
	char *text = cJSON_PrintUnformatted(json);
	cJSON *back = cJSON_Parse(text);

	cr_assert_not_null(back);
	cJSON_free(text);
	cJSON_Delete(json);
	return back;
}

static void expect_same_model(const struct span *s)
{
	struct zipkin_buf buf = { 0 };
	Zipkin__Proto3__Span *p;
	cJSON *want = span_json_tree(s), *got;

	cr_assert_not_null(want);
	cr_assert_eq(zipkin_proto_span(s, &buf), 0);
	p = zipkin__proto3__span__unpack(NULL, buf.len, buf.data);
	cr_assert_not_null(p, "protobuf-c cannot decode our Span");
	got = reparsed(proto_to_json(p));
	if (!cJSON_Compare(want, got, 1)) {
		char *a = cJSON_PrintUnformatted(want), *b = cJSON_PrintUnformatted(got);

		cr_assert_fail("proto3 and JSON differ:\njson:  %s\nproto: %s", a, b);
	}
	cJSON_Delete(want);
	cJSON_Delete(got);
	zipkin__proto3__span__free_unpacked(p, NULL);
	zipkin_buf_free(&buf);
}

static void fixed_span(struct span *s)
{
	memset(s, 0, sizeof(*s));
	for (int i = 0; i < 16; i++)
		s->trace_id[i] = (uint8_t)(0xa0 + i);
	for (int i = 0; i < 8; i++)
		s->id[i] = (uint8_t)(0x10 + i);
	s->kind = SPAN_KIND_SERVER;
	strcpy(s->name, "get /users/{id}");
	s->timestamp_us = 1795301147123456ull;
	s->duration_us = 1234;
	strcpy(s->local.service_name, "python3");
	s->local.family = AF_INET;
	inet_pton(AF_INET, "10.0.0.5", s->local.addr);
	s->local.port = 8080;
	s->remote.family = AF_INET;
	inet_pton(AF_INET, "10.0.0.9", s->remote.addr);
	s->remote.port = 51234;
	span_add_tag(s, "http.method", "GET", 3);
	span_add_tag(s, "http.path", "/users/42", 9);
	span_add_tag(s, "http.status_code", "200", 3);
	s->pid = 4242;
}

/* The exact fields of the fixed span, read back with protobuf-c. */
Test(zipkin_proto, fixed_span_fields)
{
	struct zipkin_buf buf = { 0 };
	Zipkin__Proto3__Span *p;
	struct span s;

	fixed_span(&s);
	cr_assert_eq(zipkin_proto_span(&s, &buf), 0);
	p = zipkin__proto3__span__unpack(NULL, buf.len, buf.data);
	cr_assert_not_null(p);
	cr_assert_arr_eq(p->trace_id.data, s.trace_id, 16);
	cr_assert_arr_eq(p->id.data, s.id, 8);
	cr_assert_eq(p->parent_id.len, 0);
	cr_assert_eq(p->kind, ZIPKIN__PROTO3__SPAN__KIND__SERVER);
	cr_assert_str_eq(p->name, "get /users/{id}");
	cr_assert_eq(p->timestamp, 1795301147123456ull);
	cr_assert_eq(p->duration, 1234);
	cr_assert_str_eq(p->local_endpoint->service_name, "python3");
	cr_assert_eq(p->local_endpoint->ipv4.len, 4);
	cr_assert_arr_eq(p->local_endpoint->ipv4.data, s.local.addr, 4);
	cr_assert_eq(p->local_endpoint->port, 8080);
	cr_assert_eq(p->remote_endpoint->port, 51234);
	cr_assert_eq(p->n_tags, 4);
	cr_assert_str_eq(p->tags[0]->key, "http.method");
	cr_assert_str_eq(p->tags[3]->key, "process.pid");
	cr_assert_str_eq(p->tags[3]->value, "4242");
	zipkin__proto3__span__free_unpacked(p, NULL);
	zipkin_buf_free(&buf);
	expect_same_model(&s);
}

Test(zipkin_proto, edge_cases_match_json)
{
	static const uint8_t v4mapped[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 168, 1, 2 };
	struct span s;

	/* duration 0 goes out as 1, timestamp 0 is omitted, no endpoints at all */
	memset(&s, 0, sizeof(s));
	s.trace_id[15] = 1;
	s.id[7] = 1;
	s.kind = SPAN_KIND_CLIENT;
	expect_same_model(&s);
	/* IPv4-mapped IPv6 is written as ipv4; unspecified addresses are omitted */
	s.local.family = AF_INET6;
	memcpy(s.local.addr, v4mapped, 16);
	s.remote.family = AF_INET6;
	s.remote.port = 443;
	expect_same_model(&s);
	s.remote.family = AF_INET;
	expect_same_model(&s);
	inet_pton(AF_INET6, "2001:db8::c001", s.remote.addr);
	s.remote.family = AF_INET6;
	expect_same_model(&s);
	/* values past INT64_MAX are clamped like the JSON's int64 */
	s.timestamp_us = UINT64_MAX;
	s.duration_us = (uint64_t)INT64_MAX + 5;
	expect_same_model(&s);
	/* a parent, an unknown kind */
	s.has_parent = true;
	s.parent_id[0] = 9;
	s.kind = (enum span_kind)7;
	expect_same_model(&s);
	/* duplicate keys (the first wins), a process.pid tag replaced by the pid,
	 * invalid UTF-8 and NULs in strings, fields without a NUL */
	s.kind = SPAN_KIND_SERVER;
	span_add_tag(&s, "a", "first", 5);
	span_add_tag(&s, "a", "second", 6);
	span_add_tag(&s, "process.pid", "1", 1);
	span_add_tag(&s, "bad", "x\xff\xc0\x80y\0z", 7);
	memset(s.name, 0xe9, sizeof(s.name));
	memset(s.local.service_name, 'q', sizeof(s.local.service_name));
	s.pid = 77;
	expect_same_model(&s);
	/* a process.pid tag kept when there is no pid */
	s.pid = 0;
	expect_same_model(&s);
	/* a full tag array */
	while (s.num_tags < SPAN_MAX_TAGS)
		span_add_tag(&s, "filler", "v", 1);
	memset(s.tags[5].value, '\x01', sizeof(s.tags[5].value));
	expect_same_model(&s);
}

static uint64_t rnd(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static void random_bytes(uint64_t *x, char *dst, size_t n)
{
	/* Mostly printable, sometimes anything (NUL, invalid UTF-8, controls). */
	for (size_t i = 0; i < n; i++)
		dst[i] = rnd(x) % 8 ? (char)(' ' + rnd(x) % 95) : (char)rnd(x);
}

static void random_endpoint(uint64_t *x, struct span_endpoint *e)
{
	static const int families[] = { 0, AF_INET, AF_INET6, 99 };
	size_t n = rnd(x) % (sizeof(e->service_name) + 1);

	random_bytes(x, e->service_name, n);
	if (n < sizeof(e->service_name))
		e->service_name[n] = '\0';
	e->family = (uint8_t)families[rnd(x) % 4];
	for (int i = 0; i < 16; i++)
		e->addr[i] = rnd(x) % 3 ? 0 : (uint8_t)rnd(x);
	if (rnd(x) % 4 == 0) {
		memset(e->addr, 0, 10);
		e->addr[10] = e->addr[11] = 0xff;
	}
	e->port = rnd(x) % 3 ? (uint16_t)rnd(x) : 0;
}

static void random_span(uint64_t *x, struct span *s)
{
	static const char *const keys[] = { "http.method", "http.path", "error", "process.pid", "k" };
	size_t n;

	memset(s, 0, sizeof(*s));
	for (int i = 0; i < 16; i++)
		s->trace_id[i] = (uint8_t)rnd(x);
	for (int i = 0; i < 8; i++) {
		s->id[i] = (uint8_t)rnd(x);
		s->parent_id[i] = (uint8_t)rnd(x);
	}
	s->has_parent = rnd(x) % 2;
	s->trace_id_len = rnd(x) % 2 ? 8 : 16;
	s->shared = rnd(x) % 2;
	s->debug = rnd(x) % 4 == 0;
	s->kind = (enum span_kind)(rnd(x) % 3);
	n = rnd(x) % (sizeof(s->name) + 1);
	random_bytes(x, s->name, n);
	if (n < sizeof(s->name))
		s->name[n] = '\0';
	s->timestamp_us = rnd(x) % 5 ? rnd(x) % (1ull << 52) : rnd(x);
	s->duration_us = rnd(x) % 5 ? rnd(x) % 100000 : rnd(x) % 2 ? 0 : rnd(x);
	random_endpoint(x, &s->local);
	random_endpoint(x, &s->remote);
	for (unsigned i = rnd(x) % (SPAN_MAX_TAGS + 1); i > 0; i--) {
		char v[SPAN_TAG_VALUE_MAX + 16];
		size_t len = rnd(x) % sizeof(v);

		random_bytes(x, v, len);
		span_add_tag(s, keys[rnd(x) % 5], v, len);
	}
	s->pid = rnd(x) % 2 ? (uint32_t)rnd(x) : 0;
}

Test(zipkin_proto, random_spans_match_json)
{
	uint64_t x = 0x2545f4914f6cdd1dull;
	struct span s;

	for (int i = 0; i < 3000; i++) {
		random_span(&x, &s);
		expect_same_model(&s);
	}
}

/* The body is exactly '[' + the spans' JSON joined by ',' + ']', and parses. */
/* The writer gives the bytes cJSON would print for the same object: escapes,
 * key order, numbers (cJSON prints integers of up to 31 bits exactly). */
/* cJSON's output with the characters our writer also escapes (DEL, C1
 * controls, line and paragraph separators, bidi controls) as \u escapes:
 * decoded here on their own, as the oracle. */
static void escape_like_ours(const char *in, char *out, size_t cap)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t o = 0;

	while (*p) {
		uint32_t cp = *p;
		size_t n = 1;

		if (*p >= 0xc0 && *p < 0xe0) {
			cp = (uint32_t)(p[0] & 0x1f) << 6 | (p[1] & 0x3f);
			n = 2;
		} else if (*p >= 0xe0 && *p < 0xf0) {
			cp = (uint32_t)(p[0] & 0x0f) << 12 | (uint32_t)(p[1] & 0x3f) << 6 | (p[2] & 0x3f);
			n = 3;
		} else if (*p >= 0xf0) {
			n = 4;
		}
		cr_assert_lt(o + 7, cap);
		if (cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) || cp == 0x61c || cp == 0x200e || cp == 0x200f ||
		    (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069)) {
			o += (size_t)snprintf(out + o, cap - o, "\\u%04x", cp);
		} else {
			memcpy(out + o, p, n);
			o += n;
		}
		p += n;
	}
	out[o] = '\0';
}

Test(zipkin_proto, json_writer_matches_cjson)
{
	uint64_t x = 0x9e3779b97f4a7c15ull;
	static char ours[SPAN_JSON_MAX], want[SPAN_JSON_MAX];
	struct span s;

	for (int i = 0; i < 3000; i++) {
		cJSON *json;
		char *theirs;

		random_span(&x, &s);
		s.timestamp_us %= 1u << 31;
		s.duration_us %= 1u << 31;
		cr_assert_gt(span_zipkin_json(&s, ours, sizeof(ours)), 0);
		json = cJSON_Parse(ours);
		cr_assert_not_null(json, "%s", ours);
		theirs = cJSON_PrintUnformatted(json);
		escape_like_ours(theirs, want, sizeof(want));
		cr_assert_str_eq(ours, want);
		cJSON_free(theirs);
		cJSON_Delete(json);
	}
}

Test(zipkin_proto, a_small_buffer_gets_nothing)
{
	uint64_t x = 1;
	char small[64];
	struct span s;

	random_span(&x, &s);
	cr_expect_eq(span_zipkin_json(&s, small, sizeof(small)), 0);
	cr_expect_eq(span_zipkin_json(&s, small, 0), 0);
}

Test(zipkin_batch, json_list_is_the_spans_json)
{
	struct zipkin_batch b;
	struct span spans[3];
	const uint8_t *body;
	char want[1 << 16] = "[";
	size_t len;
	cJSON *list;
	uint64_t x = 42;

	cr_assert_eq(zipkin_batch_init(&b, ZIPKIN_JSON), 0);
	body = zipkin_batch_finish(&b, &len);
	cr_assert_eq(len, 2);
	cr_assert_arr_eq(body, "[]", 2);
	for (int i = 0; i < 3; i++) {
		static char text[SPAN_JSON_MAX];

		random_span(&x, &spans[i]);
		cr_assert_eq(zipkin_batch_add(&b, &spans[i], 1 << 20), 1);
		cr_assert_gt(span_zipkin_json(&spans[i], text, sizeof(text)), 0);
		strcat(want, i ? "," : "");
		strcat(want, text);
	}
	strcat(want, "]");
	cr_assert_eq(b.nspans, 3);
	body = zipkin_batch_finish(&b, &len);
	cr_assert_eq(len, zipkin_batch_size(&b));
	cr_assert_eq(len, strlen(want));
	cr_assert_arr_eq(body, want, len);
	list = cJSON_ParseWithLength((const char *)body, len);
	cr_assert_not_null(list, "not JSON: %.*s", (int)len, body);
	cr_assert(cJSON_IsArray(list));
	cr_assert_eq(cJSON_GetArraySize(list), 3);
	cJSON_Delete(list);
	/* cleared: empty again, and reusable */
	zipkin_batch_clear(&b);
	body = zipkin_batch_finish(&b, &len);
	cr_assert_eq(len, 2);
	cr_assert_arr_eq(body, "[]", 2);
	cr_assert_eq(zipkin_batch_add(&b, &spans[0], 1 << 20), 1);
	body = zipkin_batch_finish(&b, &len);
	list = cJSON_ParseWithLength((const char *)body, len);
	cr_assert_eq(cJSON_GetArraySize(list), 1);
	cJSON_Delete(list);
	zipkin_batch_free(&b);
}

Test(zipkin_batch, proto_list_of_spans_parses_back)
{
	struct zipkin_batch b;
	struct zipkin_buf one = { 0 };
	struct span spans[4];
	Zipkin__Proto3__ListOfSpans *list;
	const uint8_t *body;
	size_t len;
	uint64_t x = 7;

	cr_assert_eq(zipkin_batch_init(&b, ZIPKIN_PROTO3), 0);
	zipkin_batch_finish(&b, &len);
	cr_assert_eq(len, 0);
	for (int i = 0; i < 4; i++) {
		random_span(&x, &spans[i]);
		cr_assert_eq(zipkin_batch_add(&b, &spans[i], 1 << 20), 1);
	}
	body = zipkin_batch_finish(&b, &len);
	list = zipkin__proto3__list_of_spans__unpack(NULL, len, body);
	cr_assert_not_null(list);
	cr_assert_eq(list->n_spans, 4);
	for (int i = 0; i < 4; i++) {
		uint8_t *packed;
		size_t n = zipkin__proto3__span__get_packed_size(list->spans[i]);

		/* Re-encoding what protobuf-c decoded gives our bytes back. */
		cr_assert_eq(zipkin_proto_span(&spans[i], &one), 0);
		packed = malloc(n);
		zipkin__proto3__span__pack(list->spans[i], packed);
		cr_assert_eq(n, one.len);
		cr_assert_arr_eq(packed, one.data, n);
		free(packed);
	}
	zipkin__proto3__list_of_spans__free_unpacked(list, NULL);
	zipkin_buf_free(&one);
	zipkin_batch_free(&b);
}

static void check_limit(enum zipkin_encoding enc)
{
	struct zipkin_batch b;
	struct span s;
	size_t limit = 4000, len, before;
	uint64_t x = 99;
	int r = 1, added = 0;

	cr_assert_eq(zipkin_batch_init(&b, enc), 0);
	while (r == 1) {
		random_span(&x, &s);
		before = zipkin_batch_size(&b);
		r = zipkin_batch_add(&b, &s, limit);
		if (r == 0)
			cr_assert_eq(zipkin_batch_size(&b), before, "a refused span changed the batch");
		added += r == 1;
	}
	cr_assert_eq(r, 0);
	cr_assert_gt(added, 1);
	cr_assert_eq((size_t)added, b.nspans);
	zipkin_batch_finish(&b, &len);
	cr_assert_leq(len, limit);
	/* An empty batch takes any span, however big. */
	zipkin_batch_clear(&b);
	fixed_span(&s);
	while (s.num_tags < SPAN_MAX_TAGS)
		span_add_tag(&s, "big", "", 0);
	for (unsigned i = 0; i < s.num_tags; i++)
		memset(s.tags[i].value, 'v', SPAN_TAG_VALUE_MAX - 1);
	cr_assert_eq(zipkin_batch_add(&b, &s, 100), 1);
	cr_assert_gt(zipkin_batch_size(&b), 100);
	cr_assert_eq(zipkin_batch_add(&b, &s, 100), 0);
	zipkin_batch_free(&b);
}

Test(zipkin_batch, size_limit_json)
{
	check_limit(ZIPKIN_JSON);
}

Test(zipkin_batch, size_limit_proto3)
{
	check_limit(ZIPKIN_PROTO3);
}

Test(zipkin_batch, content_types)
{
	cr_assert_str_eq(zipkin_content_type(ZIPKIN_JSON), "application/json");
	cr_assert_str_eq(zipkin_content_type(ZIPKIN_PROTO3), "application/x-protobuf");
}

Test(zipkin_gzip, round_trip)
{
	struct zipkin_buf gz = { 0 };
	size_t n = 300000;
	uint8_t *in = malloc(n), *back = malloc(n + 1);
	uLongf back_len = n + 1;
	z_stream z = { 0 };
	uint64_t x = 5;

	for (size_t i = 0; i < n; i++)
		in[i] = i % 3 ? (uint8_t)"spans"[i % 5] : (uint8_t)rnd(&x);
	cr_assert_eq(zipkin_gzip(in, n, &gz), 0);
	cr_assert_geq(gz.len, 18);
	cr_assert_eq(gz.data[0], 0x1f);
	cr_assert_eq(gz.data[1], 0x8b);
	cr_assert_lt(gz.len, n);
	cr_assert_eq(inflateInit2(&z, 15 + 16), Z_OK);
	z.next_in = gz.data;
	z.avail_in = (uInt)gz.len;
	z.next_out = back;
	z.avail_out = (uInt)back_len;
	cr_assert_eq(inflate(&z, Z_FINISH), Z_STREAM_END);
	cr_assert_eq(z.total_out, n);
	cr_assert_arr_eq(back, in, n);
	inflateEnd(&z);
	/* empty input is a valid gzip stream too */
	cr_assert_eq(zipkin_gzip(in, 0, &gz), 0);
	cr_assert_geq(gz.len, 18);
	zipkin_buf_free(&gz);
	free(in);
	free(back);
}
