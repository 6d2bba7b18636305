/*
 * libFuzzer target for the span's encoders with hostile spans: the text line,
 * Zipkin JSON and proto3 (user/span/span_format.c, user/export/zipkin_proto.c),
 * fed spans made the way the builder makes them (span_copy_utf8, span_add_tag)
 * from any bytes a peer or a process could choose.
 *
 * Input: byte 0 flags (bit 0 kind, 1 parent, 2 shared, 3 debug, 4-5 address
 * family none/IPv4/IPv6/mapped, 6 64-bit trace id), 32 bytes of ids and
 * addresses, then fields: a length byte and that many bytes for the name, the
 * local and remote services, then tags as (key index, length, bytes).
 *
 * Checks: JSON parses back (cJSON) with the same name and tag values; the
 * text line holds no control character but its final newline, no C1 control
 * and no bidi override; proto3 unpacks (protobuf-c) with the same name.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cjson/cJSON.h>

#include "export/zipkin_proto.h"
#include "span/span.h"
#include "span/span_format.h"
#include "zipkin.pb-c.h"

static const char *const keys[] = {
	"http.method", "http.path", "http.status_code", "error", "rpc.service", "rpc.method",
	"db.statement", "w3c.tracestate", "k8s.pod.name", "http.route",
};

/* A member's string value; "" when it is absent (empty names and values may be left out). */
static const char *str_of(const cJSON *o, const char *key)
{
	const cJSON *v = o ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;

	if (v && !cJSON_IsString(v))
		abort();
	return v ? v->valuestring : "";
}

/* The next field: a length byte, then up to that many bytes. */
static const uint8_t *field(const uint8_t **p, const uint8_t *end, size_t *len)
{
	const uint8_t *f;

	if (*p >= end) {
		*len = 0;
		return *p;
	}
	*len = **p;
	(*p)++;
	if (*len > (size_t)(end - *p))
		*len = (size_t)(end - *p);
	f = *p;
	*p += *len;
	return f;
}

static void check_json(const struct span *s)
{
	static char buf[1 << 17];
	size_t n = span_zipkin_json(s, buf, sizeof(buf) - 1);
	cJSON *j, *tags;

	if (n == 0 || n >= sizeof(buf) - 1)
		abort();
	buf[n] = '\0';
	j = cJSON_Parse(buf);
	if (!j || strcmp(str_of(j, "name"), s->name) != 0)
		abort();
	tags = cJSON_GetObjectItemCaseSensitive(j, "tags");
	/* Duplicate keys: the first one's value is exported. */
	for (unsigned i = 0; i < s->num_tags; i++)
		if (strcmp(str_of(tags, s->tags[i].key), span_tag(s, s->tags[i].key)) != 0)
			abort();
	cJSON_Delete(j);
}

static void check_text(const struct span *s)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);

	if (!f)
		return;
	span_format_text(f, s);
	fclose(f);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)buf[i];

		if ((c < 0x20 && !(c == '\n' && i == n - 1)) || c == 0x7f)
			abort();
		if (c == 0xc2 && i + 1 < n && (unsigned char)buf[i + 1] >= 0x80 && (unsigned char)buf[i + 1] <= 0x9f)
			abort(); /* a C1 control */
		if (c == 0xe2 && i + 2 < n && (unsigned char)buf[i + 1] == 0x80 && (unsigned char)buf[i + 2] >= 0xaa &&
		    (unsigned char)buf[i + 2] <= 0xae)
			abort(); /* U+202A-E */
	}
	free(buf);
}

static void check_proto(const struct span *s)
{
	struct zipkin_buf out = {};
	Zipkin__Proto3__Span *p;

	if (zipkin_proto_span(s, &out))
		return;
	p = zipkin__proto3__span__unpack(NULL, out.len, out.data);
	if (!p || strcmp(p->name ? p->name : "", s->name) != 0)
		abort();
	zipkin__proto3__span__free_unpacked(p, NULL);
	zipkin_buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data + 33, *end = data + size, *f;
	static const int families[] = { 0, AF_INET, AF_INET6, AF_INET6 };
	struct span s;
	size_t len;

	if (size < 33)
		return 0;
	span_clear(&s);
	s.kind = data[0] & 1 ? SPAN_KIND_SERVER : SPAN_KIND_CLIENT;
	s.has_parent = data[0] & 2;
	s.shared = data[0] & 4;
	s.debug = data[0] & 8;
	s.trace_id_len = data[0] & 64 ? 8 : 16;
	memcpy(s.trace_id, data + 1, 16);
	memcpy(s.id, data + 17, 8);
	memcpy(s.parent_id, data + 25, 8);
	s.local.family = s.remote.family = (uint8_t)families[(data[0] >> 4) & 3];
	memcpy(s.local.addr, data + 1, 16);
	memcpy(s.remote.addr, data + 17, 16);
	if (((data[0] >> 4) & 3) == 3) /* IPv4-mapped */
		memcpy(s.local.addr, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12);
	s.local.port = (uint16_t)(data[1] << 8 | data[2]);
	s.timestamp_us = (uint64_t)data[3] << 40;
	s.duration_us = data[4];
	s.pid = data[5];
	f = field(&p, end, &len);
	span_copy_utf8(s.name, sizeof(s.name), (const char *)f, len);
	f = field(&p, end, &len);
	span_copy_utf8(s.local.service_name, sizeof(s.local.service_name), (const char *)f, len);
	f = field(&p, end, &len);
	span_copy_utf8(s.remote.service_name, sizeof(s.remote.service_name), (const char *)f, len);
	while (p < end) {
		const char *key = keys[*p++ % (sizeof(keys) / sizeof(keys[0]))];

		f = field(&p, end, &len);
		span_add_tag(&s, key, (const char *)f, len);
	}
	check_json(&s);
	check_text(&s);
	check_proto(&s);
	return 0;
}
