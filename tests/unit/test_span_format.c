// SPDX-License-Identifier: MIT
/* Unit tests for span_format.c: exact text lines and exact Zipkin v2 JSON. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "span/span.h"
#include "span/span_format.h"
#include "span_json.h"

#define TRACE_HEX "4bf92f3577b34da6a3ce929d0e0e4736"
#define ID_HEX "00f067aa0ba902b7"
#define PARENT_HEX "53995c3f42cd8ad8"
#define TS_US 1795301147123456ULL /* 2026-11-21T22:45:47.123456Z */

static void unhex(uint8_t *out, const char *hex, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned v;

		cr_assert_eq(sscanf(hex + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
}

static void set_ip(struct span_endpoint *e, int family, const char *text, uint16_t port)
{
	e->family = (uint8_t)family;
	cr_assert_eq(inet_pton(family, text, e->addr), 1, "%s", text);
	e->port = port;
}

static void add_tag(struct span *s, const char *key, const char *value)
{
	cr_assert_eq(span_add_tag(s, key, value, strlen(value)), 0);
}

/* A server span with fixed ids and time, IPv4 on both ends, a parent and tags. */
static void fixed_span(struct span *s)
{
	memset(s, 0, sizeof(*s));
	unhex(s->trace_id, TRACE_HEX, 16);
	unhex(s->id, ID_HEX, 8);
	unhex(s->parent_id, PARENT_HEX, 8);
	s->has_parent = true;
	s->kind = SPAN_KIND_SERVER;
	strcpy(s->name, "get /users/{id}");
	s->timestamp_us = TS_US;
	s->duration_us = 1234;
	strcpy(s->local.service_name, "python3");
	set_ip(&s->local, AF_INET, "10.0.0.5", 8080);
	set_ip(&s->remote, AF_INET, "10.0.0.9", 51234);
	add_tag(s, "http.method", "GET");
	add_tag(s, "http.path", "/users/42");
	add_tag(s, "http.status_code", "200");
	s->pid = 4242;
}

/* A bare client span: fixed ids and time, nothing else. */
static void bare_span(struct span *s)
{
	memset(s, 0, sizeof(*s));
	unhex(s->trace_id, TRACE_HEX, 16);
	unhex(s->id, ID_HEX, 8);
	s->kind = SPAN_KIND_CLIENT;
	s->timestamp_us = TS_US;
	s->duration_us = 5;
}

#define HEAD_CLIENT "{\"traceId\":\"" TRACE_HEX "\",\"id\":\"" ID_HEX "\",\"kind\":\"CLIENT\""
#define BARE_TIME ",\"timestamp\":1795301147123456,\"duration\":5"

static void expect_json(const struct span *s, const char *want)
{
	static char text[SPAN_JSON_MAX];

	cr_assert_eq(span_zipkin_json(s, text, sizeof(text)), strlen(want));
	cr_expect_str_eq(text, want);
}

static char *capture(int (*fn)(FILE *, const struct span *), const struct span *s, int *rc)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	cr_assert_not_null(f);
	*rc = fn(f, s);
	cr_assert_eq(fclose(f), 0);
	return buf;
}

static void expect_text(const struct span *s, const char *want)
{
	int rc;
	char *line = capture(span_format_text, s, &rc);

	cr_expect_str_eq(line, want);
	cr_expect_eq(rc, (int)strlen(want));
	free(line);
}

Test(span_format_text, fixed_span)
{
	struct span s;

	fixed_span(&s);
	expect_text(&s, "2026-11-21T22:45:47.123456Z python3 SERVER get /users/{id} 200 1.234ms "
			TRACE_HEX " " ID_HEX " " PARENT_HEX "\n");
}

Test(span_format_text, missing_fields_are_dashes)
{
	struct span s;

	bare_span(&s);
	s.timestamp_us = 0;
	s.duration_us = 0;
	expect_text(&s, "1970-01-01T00:00:00.000000Z - CLIENT - - 0.000ms " TRACE_HEX " " ID_HEX " -\n");
}

Test(span_format_text, status_of_grpc_and_redis_spans)
{
	struct span s;

	fixed_span(&s);
	s.num_tags = 0;
	cr_assert_eq(span_add_tag(&s, "error", "WRONGTYPE", 9), 0);
	expect_text(&s, "2026-11-21T22:45:47.123456Z python3 SERVER get /users/{id} WRONGTYPE 1.234ms "
			TRACE_HEX " " ID_HEX " " PARENT_HEX "\n");
	cr_assert_eq(span_add_tag(&s, "grpc.status_code", "5", 1), 0);
	expect_text(&s, "2026-11-21T22:45:47.123456Z python3 SERVER get /users/{id} 5 1.234ms "
			TRACE_HEX " " ID_HEX " " PARENT_HEX "\n");
}

Test(span_format_text, durations)
{
	struct span s;

	bare_span(&s);
	s.duration_us = 999;
	expect_text(&s, "2026-11-21T22:45:47.123456Z - CLIENT - - 0.999ms " TRACE_HEX " " ID_HEX " -\n");
	s.duration_us = 1234567;
	expect_text(&s, "2026-11-21T22:45:47.123456Z - CLIENT - - 1234.567ms " TRACE_HEX " " ID_HEX " -\n");
	s.duration_us = 60000000;
	expect_text(&s, "2026-11-21T22:45:47.123456Z - CLIENT - - 60000.000ms " TRACE_HEX " " ID_HEX " -\n");
}

Test(span_format_text, one_line_whatever_the_fields_hold)
{
	struct span s;

	bare_span(&s);
	strcpy(s.name, "get /a\nb\t\x7f\xff");
	strcpy(s.local.service_name, "x\ry");
	add_tag(&s, "http.status_code", "2\n0");
	expect_text(&s, "2026-11-21T22:45:47.123456Z x?y CLIENT get /a?b??? 2?0 0.005ms " TRACE_HEX " " ID_HEX " -\n");
	/* name filling its whole array without a NUL */
	memset(s.name, 'n', sizeof(s.name));
	{
		int rc;
		char *line = capture(span_format_text, &s, &rc);
		char want_name[SPAN_NAME_MAX + 2] = " ";

		memset(want_name + 1, 'n', SPAN_NAME_MAX - 1);
		want_name[SPAN_NAME_MAX] = ' ';
		want_name[SPAN_NAME_MAX + 1] = '\0';
		cr_expect_not_null(strstr(line, want_name));
		cr_expect_eq(strchr(line, '\n'), line + strlen(line) - 1);
		free(line);
	}
}

Test(span_zipkin_json, fixed_span_ipv4_with_parent)
{
	struct span s;

	fixed_span(&s);
	expect_json(&s,
		"{\"traceId\":\"" TRACE_HEX "\",\"id\":\"" ID_HEX "\",\"parentId\":\"" PARENT_HEX "\","
		"\"kind\":\"SERVER\",\"name\":\"get /users/{id}\","
		"\"timestamp\":1795301147123456,\"duration\":1234,"
		"\"localEndpoint\":{\"serviceName\":\"python3\",\"ipv4\":\"10.0.0.5\",\"port\":8080},"
		"\"remoteEndpoint\":{\"ipv4\":\"10.0.0.9\",\"port\":51234},"
		"\"tags\":{\"http.method\":\"GET\",\"http.path\":\"/users/42\","
		"\"http.status_code\":\"200\",\"process.pid\":\"4242\"}}");
}

Test(span_zipkin_json, ipv6_no_parent_duration_zero)
{
	struct span s;

	bare_span(&s);
	strcpy(s.name, "get /");
	s.duration_us = 0;
	strcpy(s.local.service_name, "curl");
	set_ip(&s.local, AF_INET6, "2001:db8::1", 0);
	set_ip(&s.remote, AF_INET6, "2001:DB8::C001", 443);
	expect_json(&s, HEAD_CLIENT ",\"name\":\"get /\",\"timestamp\":1795301147123456,\"duration\":1,"
			"\"localEndpoint\":{\"serviceName\":\"curl\",\"ipv6\":\"2001:db8::1\"},"
			"\"remoteEndpoint\":{\"ipv6\":\"2001:db8::c001\",\"port\":443}}");
}

Test(span_zipkin_json, no_remote_no_local_no_tags)
{
	struct span s;

	bare_span(&s);
	expect_json(&s, HEAD_CLIENT BARE_TIME "}");
}

Test(span_zipkin_json, endpoint_fields_omitted_one_by_one)
{
	struct span s;

	bare_span(&s);
	s.remote.port = 5432;
	strcpy(s.local.service_name, "svc");
	expect_json(&s, HEAD_CLIENT BARE_TIME ",\"localEndpoint\":{\"serviceName\":\"svc\"},"
			"\"remoteEndpoint\":{\"port\":5432}}");
	/* unspecified addresses and unknown families say nothing */
	bare_span(&s);
	set_ip(&s.local, AF_INET, "0.0.0.0", 80);
	set_ip(&s.remote, AF_INET6, "::", 0);
	expect_json(&s, HEAD_CLIENT BARE_TIME ",\"localEndpoint\":{\"port\":80}}");
	bare_span(&s);
	s.remote.family = AF_UNIX;
	s.remote.addr[0] = 1;
	expect_json(&s, HEAD_CLIENT BARE_TIME "}");
}

/* The endpoint cache changes no byte, whatever the sequence of endpoints
 * (escaped names, too long to keep, IPv6, one omitted, an encoding cut short
 * by a small buffer);
 * and what it holds is what is written, until the endpoint differs. */
Test(span_zipkin_json, endpoint_cache_same_bytes_and_used)
{
	static char plain[SPAN_JSON_MAX], cached[SPAN_JSON_MAX];
	static struct span_json_cache cache;
	struct span s;
	int held;

	for (int i = 0; i < 32; i++) {
		size_t n;

		fixed_span(&s);
		if (i & 1)
			s.remote.port = (uint16_t)(51234 + i);
		if (i & 2)
			strcpy(s.local.service_name, "a\"b\x01");
		if (i & 4)
			memset(&s.remote, 0, sizeof(s.remote));
		if (i & 8)
			set_ip(&s.local, AF_INET6, "2001:db8::1", 8080);
		if (i & 16) /* escaped past what a slot keeps */
			memset(s.remote.service_name, 1, 40);
		n = span_zipkin_json(&s, plain, sizeof(plain));
		cr_assert_eq(span_zipkin_json_cached(&s, cached, 60, &cache), 0);
		for (int again = 0; again < 2; again++) {
			cr_assert_eq(span_zipkin_json_cached(&s, cached, sizeof(cached), &cache), n, "%d", i);
			cr_assert_str_eq(cached, plain);
		}
	}
	fixed_span(&s);
	span_zipkin_json_cached(&s, cached, sizeof(cached), &cache);
	held = 0;
	for (int i = 0; i < SPAN_JSON_CACHE_SLOTS; i++) {
		struct span_json_endpoint *c = &cache.slot[i];

		if (c->len && memcmp(&c->e, &s.local, sizeof(s.local)) == 0) {
			strcpy(c->json, "{\"port\":1}");
			c->len = (uint8_t)strlen(c->json);
			held++;
		}
	}
	cr_assert_eq(held, 1);
	span_zipkin_json_cached(&s, cached, sizeof(cached), &cache);
	cr_assert(strstr(cached, ",\"localEndpoint\":{\"port\":1},\"remoteEndpoint\":"), "%s", cached);
	s.local.port++;
	span_zipkin_json_cached(&s, cached, sizeof(cached), &cache);
	cr_assert(strstr(cached, "\"localEndpoint\":{\"serviceName\":\"python3\",\"ipv4\":\"10.0.0.5\",\"port\":8081}"),
		  "%s", cached);
}

Test(span_zipkin_json, trace_id_width_shared_and_debug)
{
	struct span s;

	bare_span(&s);
	s.trace_id_len = 8;
	s.shared = true;
	s.debug = true;
	expect_json(&s, "{\"traceId\":\"4bf92f3577b34da6\",\"id\":\"" ID_HEX "\",\"kind\":\"CLIENT\""
			BARE_TIME ",\"debug\":true,\"shared\":true}");
	s.trace_id_len = 16;
	s.shared = false;
	s.debug = false;
	expect_json(&s, HEAD_CLIENT BARE_TIME "}");
}

Test(span_zipkin_json, v4_mapped_ipv6_is_ipv4)
{
	struct span s;

	bare_span(&s);
	set_ip(&s.remote, AF_INET6, "::ffff:192.0.2.1", 80);
	set_ip(&s.local, AF_INET6, "::ffff:0.0.0.0", 8080);
	expect_json(&s, HEAD_CLIENT BARE_TIME ",\"localEndpoint\":{\"port\":8080},"
			"\"remoteEndpoint\":{\"ipv4\":\"192.0.2.1\",\"port\":80}}");
}

Test(span_zipkin_json, integers_exact_and_clamped)
{
	struct span s;

	bare_span(&s);
	s.timestamp_us = 0; /* unknown: omitted */
	s.duration_us = UINT64_MAX;
	expect_json(&s, HEAD_CLIENT ",\"duration\":9223372036854775807}");
	s.timestamp_us = 4102444800000001ULL; /* 2100-01-01, beyond %1.15g */
	s.duration_us = 123456789012345ULL;
	expect_json(&s, HEAD_CLIENT ",\"timestamp\":4102444800000001,\"duration\":123456789012345}");
}

Test(span_zipkin_json, tags_duplicates_and_pid)
{
	struct span s;

	bare_span(&s);
	add_tag(&s, "a", "1");
	add_tag(&s, "process.pid", "999");
	add_tag(&s, "a", "2");
	add_tag(&s, "b", "");
	s.tags[s.num_tags++].key = NULL; /* a slot nobody filled properly */
	s.pid = 7;
	expect_json(&s, HEAD_CLIENT BARE_TIME ",\"tags\":{\"a\":\"1\",\"b\":\"\",\"process.pid\":\"7\"}}");
	/* without a pid the tag of that name is kept */
	s.pid = 0;
	expect_json(&s, HEAD_CLIENT BARE_TIME ",\"tags\":{\"a\":\"1\",\"process.pid\":\"999\",\"b\":\"\"}}");
	/* pid only */
	bare_span(&s);
	s.pid = 1;
	expect_json(&s, HEAD_CLIENT BARE_TIME ",\"tags\":{\"process.pid\":\"1\"}}");
}

Test(span_zipkin_json, full_tag_table)
{
	static char keys[SPAN_MAX_TAGS][16];
	struct span s;
	cJSON *json, *tags;

	for (int i = 0; i < SPAN_MAX_TAGS; i++)
		snprintf(keys[i], sizeof(keys[i]), "k%d", i);
	bare_span(&s);
	for (int i = 0; i < SPAN_MAX_TAGS; i++)
		add_tag(&s, keys[i], keys[i]);
	s.pid = 3;
	json = span_json_tree(&s);
	cr_assert_not_null(json);
	tags = cJSON_GetObjectItemCaseSensitive(json, "tags");
	cr_assert_eq(cJSON_GetArraySize(tags), SPAN_MAX_TAGS + 1);
	for (int i = 0; i < SPAN_MAX_TAGS; i++)
		cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(tags, keys[i])),
				 keys[i]);
	cJSON_Delete(json);
}

/* C1 controls (CSI U+009B, NEL U+0085), a line separator and bidi overrides
 * could rewrite a terminal or reorder what a person reads: each one '?', and
 * other non-ASCII text kept. */
Test(span_format_text, no_character_that_could_fool_a_terminal)
{
	struct span s;

	bare_span(&s);
	strcpy(s.name, "get /\xc2\x9b" "31mX\xc2\x85Y\xe2\x80\xaeZ\xe2\x81\xa6W\xe2\x80\x8f\xd8\x9c\xe2\x80\xa8" "caf\xc3\xa9\xe2\x82\xac");
	strcpy(s.local.service_name, "\xe2\x80\xadsvc");
	expect_text(&s, "2026-11-21T22:45:47.123456Z ?svc CLIENT get /?31mX?Y?Z?W???caf\xc3\xa9\xe2\x82\xac - 0.005ms "
			TRACE_HEX " " ID_HEX " -\n");
}

/* The same characters are \u escapes in JSON (the same text to a parser, and
 * harmless when -o writes to a terminal). */
Test(span_zipkin_json, characters_that_could_fool_a_terminal_are_escaped)
{
	struct span s;

	bare_span(&s);
	strcpy(s.name, "a\xc2\x9b" "b\x7f\xe2\x80\xae" "c\xe2\x80\xa9\xe2\x81\xa9\xd8\x9c\xc3\xa9");
	expect_json(&s, HEAD_CLIENT ",\"name\":\"a\\u009bb\\u007f\\u202ec\\u2029\\u2069\\u061c\xc3\xa9\"" BARE_TIME "}");
}

Test(span_zipkin_json, strings_are_valid_utf8_and_escaped)
{
	struct span s;

	bare_span(&s);
	strcpy(s.name, "get /caf\xc3\xa9\xff\"\n");
	strcpy(s.local.service_name, "a\xc3");
	add_tag(&s, "http.url", "/\xe2\x82\xac&q=\"x\"");
	memcpy(s.tags[0].value + 1, "\xed\xa0\x80", 3); /* a surrogate written behind span_add_tag */
	expect_json(&s, HEAD_CLIENT ",\"name\":\"get /caf\xc3\xa9?\\\"\\n\"" BARE_TIME
			",\"localEndpoint\":{\"serviceName\":\"a?\"},"
			"\"tags\":{\"http.url\":\"/?" "??&q=\\\"x\\\"\"}}");
}

Test(span_zipkin_json, name_without_nul_and_unknown_kind)
{
	struct span s;
	char want[512];

	bare_span(&s);
	memset(s.name, 'n', sizeof(s.name));
	s.kind = (enum span_kind)9;
	snprintf(want, sizeof(want),
		 "{\"traceId\":\"" TRACE_HEX "\",\"id\":\"" ID_HEX "\",\"name\":\"%.*s\"" BARE_TIME "}",
		 SPAN_NAME_MAX - 1, s.name);
	expect_json(&s, want);
}

static int zipkin_line(FILE *out, const struct span *s)
{
	return span_format_zipkin_line(out, s, NULL);
}

Test(span_zipkin_line, one_line_and_parseable)
{
	struct span s;
	int rc;
	char *line;
	cJSON *back;

	fixed_span(&s);
	s.has_parent = false;
	s.remote = (struct span_endpoint){ 0 };
	line = capture(zipkin_line, &s, &rc);
	cr_assert_eq(rc, 0);
	cr_assert_str_eq(line,
		"{\"traceId\":\"" TRACE_HEX "\",\"id\":\"" ID_HEX "\","
		"\"kind\":\"SERVER\",\"name\":\"get /users/{id}\","
		"\"timestamp\":1795301147123456,\"duration\":1234,"
		"\"localEndpoint\":{\"serviceName\":\"python3\",\"ipv4\":\"10.0.0.5\",\"port\":8080},"
		"\"tags\":{\"http.method\":\"GET\",\"http.path\":\"/users/42\","
		"\"http.status_code\":\"200\",\"process.pid\":\"4242\"}}\n");
	back = cJSON_Parse(line);
	cr_assert_not_null(back);
	cr_assert_eq(cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(back, "timestamp")),
		     (double)TS_US);
	cJSON_Delete(back);
	free(line);
}

Test(span_zipkin_line, write_error_is_reported)
{
	struct span s;
	FILE *f = fopen("/dev/full", "w");

	cr_assert_not_null(f);
	setvbuf(f, NULL, _IONBF, 0);
	fixed_span(&s);
	cr_assert_eq(span_format_zipkin_line(f, &s, NULL), -1);
	cr_assert_lt(span_format_text(f, &s), 0);
	fclose(f);
}
