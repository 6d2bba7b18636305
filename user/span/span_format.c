// SPDX-License-Identifier: MIT
/* span_format.c - text lines and Zipkin v2 JSON from struct span. */
#include "span/span_format.h"

#include <arpa/inet.h>
#include <inttypes.h>
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

/* For the text line: control bytes become '?', an empty field becomes "-". */
static const char *text_field(char *buf, size_t cap, const char *field, size_t field_size)
{
	size_t n = copy_field(buf, cap, field, field_size);

	if (n == 0)
		return "-";
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f)
			buf[i] = '?';
	return buf;
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

/* int64 in JSON, exact: cJSON numbers are doubles printed with %1.15g. */
static cJSON *add_int64(cJSON *obj, const char *key, uint64_t v)
{
	char buf[24];

	if (v > INT64_MAX)
		v = INT64_MAX;
	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	return cJSON_AddRawToObject(obj, key, buf);
}

static cJSON *add_hex(cJSON *obj, const char *key, const uint8_t *id, size_t n)
{
	char buf[33];

	hex_encode(buf, id, n);
	return cJSON_AddStringToObject(obj, key, buf);
}

/* The textual address of e and the Zipkin field it goes in, or NULL when it has none. */
static const char *endpoint_ip(const struct span_endpoint *e, char *buf, size_t cap,
			       const char **field)
{
	const uint8_t *addr;
	int family = span_endpoint_ip(e, &addr);

	if (!family)
		return NULL;
	*field = family == AF_INET ? "ipv4" : "ipv6";
	return inet_ntop(family, addr, buf, (socklen_t)cap);
}

/* Add e under key unless it has nothing to say.  Returns 0, or -1 on allocation failure. */
static int add_endpoint(cJSON *span, const char *key, const struct span_endpoint *e)
{
	char service[SPAN_SERVICE_MAX], ip_buf[INET6_ADDRSTRLEN];
	const char *field = NULL, *ip = endpoint_ip(e, ip_buf, sizeof(ip_buf), &field);
	cJSON *obj;

	copy_field(service, sizeof(service), e->service_name, sizeof(e->service_name));
	if (!service[0] && !ip && !e->port)
		return 0;
	obj = cJSON_AddObjectToObject(span, key);
	if (!obj)
		return -1;
	if (service[0] && !cJSON_AddStringToObject(obj, "serviceName", service))
		return -1;
	if (ip && !cJSON_AddStringToObject(obj, field, ip))
		return -1;
	if (e->port && !cJSON_AddNumberToObject(obj, "port", e->port))
		return -1;
	return 0;
}

static int add_tags(cJSON *span, const struct span *s)
{
	unsigned n = s->num_tags < SPAN_MAX_TAGS ? s->num_tags : SPAN_MAX_TAGS;
	char value[SPAN_TAG_VALUE_MAX];
	cJSON *tags = cJSON_CreateObject();

	if (!tags)
		return -1;
	for (unsigned i = 0; i < n; i++) {
		const struct span_tag *t = &s->tags[i];

		if (!t->key || cJSON_GetObjectItemCaseSensitive(tags, t->key))
			continue;
		if (s->pid && strcmp(t->key, SPAN_FORMAT_PID_TAG) == 0)
			continue;
		copy_field(value, sizeof(value), t->value, sizeof(t->value));
		if (!cJSON_AddStringToObject(tags, t->key, value))
			goto fail;
	}
	if (s->pid) {
		snprintf(value, sizeof(value), "%" PRIu32, s->pid);
		if (!cJSON_AddStringToObject(tags, SPAN_FORMAT_PID_TAG, value))
			goto fail;
	}
	if (!tags->child) {
		cJSON_Delete(tags);
		return 0;
	}
	if (!cJSON_AddItemToObject(span, "tags", tags))
		goto fail;
	return 0;
fail:
	cJSON_Delete(tags);
	return -1;
}

cJSON *span_to_zipkin_json(const struct span *s)
{
	char name[SPAN_NAME_MAX];
	const char *kind = span_kind_str(s->kind);
	cJSON *root = cJSON_CreateObject();

	if (!root)
		return NULL;
	if (!add_hex(root, "traceId", s->trace_id, span_trace_id_len(s)) ||
	    !add_hex(root, "id", s->id, sizeof(s->id)))
		goto fail;
	if (s->has_parent && !add_hex(root, "parentId", s->parent_id, sizeof(s->parent_id)))
		goto fail;
	if (kind[0] && !cJSON_AddStringToObject(root, "kind", kind))
		goto fail;
	if (copy_field(name, sizeof(name), s->name, sizeof(s->name)) &&
	    !cJSON_AddStringToObject(root, "name", name))
		goto fail;
	if (s->timestamp_us && !add_int64(root, "timestamp", s->timestamp_us))
		goto fail;
	/* Zipkin rejects duration 0: sub-microsecond spans round up. */
	if (!add_int64(root, "duration", s->duration_us ? s->duration_us : 1))
		goto fail;
	if ((s->debug && !cJSON_AddTrueToObject(root, "debug")) ||
	    (s->shared && !cJSON_AddTrueToObject(root, "shared")))
		goto fail;
	if (add_endpoint(root, "localEndpoint", &s->local) ||
	    add_endpoint(root, "remoteEndpoint", &s->remote) || add_tags(root, s))
		goto fail;
	return root;
fail:
	cJSON_Delete(root);
	return NULL;
}

int span_format_zipkin_line(FILE *out, const struct span *s)
{
	cJSON *json = span_to_zipkin_json(s);
	char *text;
	int rc = -1;

	if (!json)
		return -1;
	text = cJSON_PrintUnformatted(json);
	cJSON_Delete(json);
	if (!text)
		return -1;
	if (fputs(text, out) >= 0 && fputc('\n', out) != EOF)
		rc = 0;
	cJSON_free(text);
	return rc;
}
