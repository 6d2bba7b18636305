// SPDX-License-Identifier: MIT
/* span_format.c - text lines and Zipkin v2 JSON from struct span. */
#include "span/span_format.h"
#include "parse/word8.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdbool.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define SPAN_FORMAT_PID_TAG "process.pid"

/* The status column: the first of these tags a span has (HTTP, gRPC, or the
 * error code of a Redis reply). */
static const char *const status_tags[] = { "http.status_code", "grpc.status_code", "error" };

static const char *status_of(const struct span *s)
{
	for (size_t i = 0; i < sizeof(status_tags) / sizeof(status_tags[0]); i++) {
		const char *v = span_tag(s, status_tags[i]);

		if (v)
			return v;
	}
	return NULL;
}

static void hex_encode(char *out, const uint8_t *in, size_t n)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0xf];
	}
	out[2 * n] = '\0';
}

/*
 * Copy a fixed-size string field of the span as valid UTF-8.  strnlen: other
 * modules write these arrays directly, and one filled to the brim has no NUL.
 */
static size_t copy_field(char *dst, size_t cap, const char *field, size_t field_size)
{
	return span_copy_utf8(dst, cap, field, strnlen(field, field_size));
}

/* For the text line: characters that could fool a terminal or a reader
 * (span_unsafe_char) become '?', an empty field becomes "-". */
static const char *text_field(char *buf, size_t cap, const char *field, size_t field_size)
{
	return span_copy_safe(buf, cap, field, strnlen(field, field_size)) ? buf : "-";
}

int span_format_text(FILE *out, const struct span *s)
{
	char when[64], service[SPAN_SERVICE_MAX], name[SPAN_NAME_MAX];
	char status_buf[SPAN_TAG_VALUE_MAX], trace[33], id[17], parent[17] = "-";
	const char *status = status_of(s);
	time_t secs = (time_t)(s->timestamp_us / 1000000);
	struct tm tm;

	if (gmtime_r(&secs, &tm)) {
		size_t n = strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);

		snprintf(when + n, sizeof(when) - n, ".%06uZ",
			 (unsigned)(s->timestamp_us % 1000000));
	} else {
		snprintf(when, sizeof(when), "%" PRIu64 "us", s->timestamp_us);
	}
	hex_encode(trace, s->trace_id, span_trace_id_len(s));
	hex_encode(id, s->id, sizeof(s->id));
	if (s->has_parent)
		hex_encode(parent, s->parent_id, sizeof(s->parent_id));
	return fprintf(out, "%s %s %s %s %s %" PRIu64 ".%03" PRIu64 "ms %s %s %s\n", when,
		       text_field(service, sizeof(service), s->local.service_name,
				  sizeof(s->local.service_name)),
		       span_kind_str(s->kind),
		       text_field(name, sizeof(name), s->name, sizeof(s->name)),
		       status ? text_field(status_buf, sizeof(status_buf), status,
					   SPAN_TAG_VALUE_MAX)
			      : "-",
		       s->duration_us / 1000, s->duration_us % 1000, trace, id, parent);
}

/* Writes into a caller's buffer; once it is full, nothing more (and the
 * result is 0). */
struct jw {
	char *p, *end;
	bool full;
};

static void put(struct jw *w, const char *s, size_t n)
{
	if (w->full || (size_t)(w->end - w->p) <= n) {
		w->full = true;
		return;
	}
	memcpy(w->p, s, n);
	w->p += n;
}

#define PUT(w, lit) put(w, lit, sizeof(lit) - 1)

/* Bytes that start what a JSON string escapes: controls, '"', '\\', and the
 * lead bytes of the other characters span_unsafe_char names, which are
 * valid in JSON but would reach a terminal as they are (-o to a tty). */
static const bool json_escaped[256] = {
	[0 ... 0x1f] = true,
	['"'] = true,
	['\\'] = true,
	[0x7f] = true,
	[0xc2] = true,
	[0xd8] = true,
	[0xe2] = true,
};

/* Could one of these 8 bytes start an escape? Controls, '"', '\\', DEL and
 * every byte >= 0x80 say yes (the exact test is json_escaped): plain words,
 * most of a span's strings, are skipped 8 bytes at a time. */
static bool word_may_escape(uint64_t x)
{
	return word8_below(x, 0x20) | word8_has(x, '"') | word8_has(x, '\\') | word8_has(x, 0x7f) |
	       (x & WORD8_HIGH);
}

/* A JSON string as cJSON escapes one: quote, backslash, the short escapes,
 * \u00xx for other control bytes; plus \uXXXX for the other characters
 * span_unsafe_char names; everything else as is (valid UTF-8). */
static void put_string(struct jw *w, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t run = 0;

	PUT(w, "\"");
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[6] = { '\\', 0 };
		size_t len = 2, k = 1;
		uint32_t cp = c;

		if (n - i >= 8 && !word_may_escape(word8_load(s + i))) {
			i += 7;
			continue;
		}
		if (!json_escaped[c])
			continue;
		if (c >= 0x7f && !(k = span_unsafe_char(s + i, n - i, &cp)))
			continue;
		put(w, s + run, i - run);
		run = i + k;
		i += k - 1;
		switch (cp) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		default:
			esc[1] = 'u';
			for (int d = 0; d < 4; d++)
				esc[2 + d] = hex[(cp >> (12 - 4 * d)) & 0xf];
			len = 6;
		}
		put(w, esc, len);
	}
	put(w, s + run, n - run);
	PUT(w, "\"");
}

/* ,"key": (the first member of an object has no comma: *first). Keys are
 * sockspan's own literals: nothing in them needs escaping. Inlined, so that
 * a literal's length is known without strlen. */
static inline __attribute__((always_inline)) void put_key(struct jw *w, bool *first, const char *key)
{
	if (!*first)
		PUT(w, ",");
	*first = false;
	PUT(w, "\"");
	put(w, key, strlen(key));
	PUT(w, "\":");
}

/* A span field made valid UTF-8 (span_copy_utf8), as a JSON string. */
static void put_field(struct jw *w, const char *field, size_t field_size)
{
	char buf[SPAN_TAG_VALUE_MAX];

	put_string(w, buf, copy_field(buf, sizeof(buf), field, field_size));
}

static void put_hex(struct jw *w, bool *first, const char *key, const uint8_t *id, size_t n)
{
	/* Quoted hex digits: nothing to escape. */
	char buf[35];

	buf[0] = '"';
	hex_encode(buf + 1, id, n);
	buf[2 * n + 1] = '"';
	put_key(w, first, key);
	put(w, buf, 2 * n + 2);
}

/* An exact integer, clamped to int64 (cJSON would print big doubles as 1.7e+15). */
static void put_uint(struct jw *w, bool *first, const char *key, uint64_t v)
{
	char buf[20];

	put_key(w, first, key);
	put(w, buf, span_fmt_uint(buf, v > INT64_MAX ? (uint64_t)INT64_MAX : v));
}

/* The textual address of e and the Zipkin field it goes in, or NULL when it
 * has none. IPv4 by hand: inet_ntop is a tenth of a span's encoding. */
static const char *endpoint_ip(const struct span_endpoint *e, char *buf, size_t cap,
			       const char **field)
{
	const uint8_t *addr;
	int family = span_endpoint_ip(e, &addr);
	size_t n = 0;

	if (!family)
		return NULL;
	*field = family == AF_INET ? "ipv4" : "ipv6";
	if (family != AF_INET)
		return inet_ntop(family, addr, buf, (socklen_t)cap);
	for (int i = 0; i < 4; i++) {
		if (i)
			buf[n++] = '.';
		n += span_fmt_uint(buf + n, addr[i]);
	}
	buf[n] = '\0';
	return buf;
}

/* The cache slot of e, or NULL. */
static struct span_json_endpoint *cache_slot(struct span_json_cache *cache, const struct span_endpoint *e)
{
	uint32_t a, b, n;

	if (!cache)
		return NULL;
	memcpy(&a, e->addr, 4);
	memcpy(&b, e->addr + 12, 4);
	/* With the name: a traced peer's endpoint is also a remote one, unnamed. */
	memcpy(&n, e->service_name, 4);
	return &cache->slot[((e->port * 0x9e3779b1u) ^ (a * 0x85ebca6bu) ^ (b * 0xc2b2ae35u) ^ (n * 0x27d4eb2fu)) >>
			    26];
}

/* e under key, unless it has nothing to say; from the cache when it holds e,
 * else kept there. Endpoints are zeroed before they are filled (span_clear),
 * so comparing whole structures is exact. */
static void put_endpoint(struct jw *w, bool *first, const char *key, const struct span_endpoint *e,
			 struct span_json_cache *cache)
{
	struct span_json_endpoint *c = cache_slot(cache, e);
	char service[SPAN_SERVICE_MAX], ip_buf[INET6_ADDRSTRLEN];
	const char *field = NULL, *ip;
	size_t n;
	bool inner = true;
	char *start;

	if (c && c->len && memcmp(&c->e, e, sizeof(*e)) == 0) {
		put_key(w, first, key);
		put(w, c->json, c->len);
		return;
	}
	ip = endpoint_ip(e, ip_buf, sizeof(ip_buf), &field);
	n = copy_field(service, sizeof(service), e->service_name, sizeof(e->service_name));
	if (!n && !ip && !e->port)
		return;
	put_key(w, first, key);
	start = w->p;
	PUT(w, "{");
	if (n) {
		put_key(w, &inner, "serviceName");
		put_string(w, service, n);
	}
	if (ip) {
		put_key(w, &inner, field);
		put_string(w, ip, strlen(ip));
	}
	if (e->port)
		put_uint(w, &inner, "port", e->port);
	PUT(w, "}");
	if (c && !w->full && (size_t)(w->p - start) <= sizeof(c->json)) {
		c->e = *e;
		c->len = (uint8_t)(w->p - start);
		memcpy(c->json, start, c->len);
	}
}

/* Has an earlier tag this key? (the first of duplicates wins) */
static bool seen_before(const struct span *s, unsigned i)
{
	for (unsigned j = 0; j < i; j++)
		if (s->tags[j].key && strcmp(s->tags[j].key, s->tags[i].key) == 0)
			return true;
	return false;
}

static void put_tags(struct jw *w, bool *first, const struct span *s)
{
	unsigned n = s->num_tags < SPAN_MAX_TAGS ? s->num_tags : SPAN_MAX_TAGS;
	bool inner = true;
	char pid[20];

	for (unsigned i = 0; i < n; i++) {
		const struct span_tag *t = &s->tags[i];

		if (!t->key || seen_before(s, i) || (s->pid && strcmp(t->key, SPAN_FORMAT_PID_TAG) == 0))
			continue;
		if (inner) {
			put_key(w, first, "tags");
			PUT(w, "{");
		}
		put_key(w, &inner, t->key);
		put_field(w, t->value, sizeof(t->value));
	}
	if (s->pid) {
		if (inner) {
			put_key(w, first, "tags");
			PUT(w, "{");
		}
		put_key(w, &inner, SPAN_FORMAT_PID_TAG);
		put_string(w, pid, span_fmt_uint(pid, s->pid));
	}
	if (!inner)
		PUT(w, "}");
}

size_t span_zipkin_json(const struct span *s, char *out, size_t cap)
{
	return span_zipkin_json_cached(s, out, cap, NULL);
}

size_t span_zipkin_json_cached(const struct span *s, char *out, size_t cap, struct span_json_cache *cache)
{
	struct jw w = { out, out + cap, cap == 0 };
	const char *kind = span_kind_str(s->kind);
	char name[SPAN_NAME_MAX];
	size_t name_len = copy_field(name, sizeof(name), s->name, sizeof(s->name));
	bool first = true;

	PUT(&w, "{");
	put_hex(&w, &first, "traceId", s->trace_id, span_trace_id_len(s));
	put_hex(&w, &first, "id", s->id, sizeof(s->id));
	if (s->has_parent)
		put_hex(&w, &first, "parentId", s->parent_id, sizeof(s->parent_id));
	if (kind[0]) {
		put_key(&w, &first, "kind");
		put_string(&w, kind, strlen(kind));
	}
	if (name_len) {
		put_key(&w, &first, "name");
		put_string(&w, name, name_len);
	}
	if (s->timestamp_us)
		put_uint(&w, &first, "timestamp", s->timestamp_us);
	/* Zipkin rejects duration 0: sub-microsecond spans round up. */
	put_uint(&w, &first, "duration", s->duration_us ? s->duration_us : 1);
	if (s->debug) {
		put_key(&w, &first, "debug");
		PUT(&w, "true");
	}
	if (s->shared) {
		put_key(&w, &first, "shared");
		PUT(&w, "true");
	}
	put_endpoint(&w, &first, "localEndpoint", &s->local, cache);
	put_endpoint(&w, &first, "remoteEndpoint", &s->remote, cache);
	put_tags(&w, &first, s);
	PUT(&w, "}");
	if (w.full)
		return 0;
	*w.p = '\0';
	return (size_t)(w.p - out);
}

int span_format_zipkin_line(FILE *out, const struct span *s, struct span_json_cache *cache)
{
	static __thread char buf[SPAN_JSON_MAX];
	size_t n = span_zipkin_json_cached(s, buf, sizeof(buf), cache);

	if (!n)
		return -1;
	buf[n] = '\n';
	return fwrite(buf, 1, n + 1, out) == n + 1 ? 0 : -1;
}
