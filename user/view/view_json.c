// SPDX-License-Identifier: MIT
/* view_json.c - cJSON, one top-level value at a time. */
#include "view/view_json.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdbool.h>
#include <string.h>

/* n hex digits of s into out (n / 2 bytes); false for anything else. */
static bool unhex(uint8_t *out, const char *s, size_t n)
{
	if (strlen(s) != n)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
			: c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;

		if (d < 0)
			return false;
		out[i / 2] = (uint8_t)(i % 2 ? out[i / 2] | d : d << 4);
	}
	return true;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static const char *string_of(const cJSON *obj, const char *key)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsString(item) ? item->valuestring : NULL;
}

/* A JSON number as microseconds: 0 for none, a negative or a silly one. */
static uint64_t micros(const cJSON *obj, const char *key)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);
	double v = cJSON_IsNumber(item) ? item->valuedouble : 0;

	return isfinite(v) && v > 0 && v < 1.8e19 ? (uint64_t)v : 0;
}

static uint8_t kind_of(const char *kind)
{
	static const char *const names[] = {
		[VIEW_KIND_CLIENT] = "CLIENT", [VIEW_KIND_SERVER] = "SERVER",
		[VIEW_KIND_PRODUCER] = "PRODUCER", [VIEW_KIND_CONSUMER] = "CONSUMER",
	};

	for (uint8_t k = VIEW_KIND_CLIENT; kind && k < sizeof(names) / sizeof(names[0]); k++)
		if (strcmp(kind, names[k]) == 0)
			return k;
	return VIEW_KIND_NONE;
}

static void copy_str(char *dst, size_t cap, const char *src)
{
	span_copy_utf8(dst, cap, src ? src : "", src ? strlen(src) : 0);
}

/* The span of a JSON object; false when it is not one. */
static bool span_of(const cJSON *obj, struct view_span *v)
{
	const char *trace = string_of(obj, "traceId"), *id = string_of(obj, "id");
	const char *parent = string_of(obj, "parentId"), *tags[VIEW_TAG__COUNT];
	const cJSON *tag_obj = cJSON_GetObjectItemCaseSensitive(obj, "tags");
	const cJSON *local = cJSON_GetObjectItemCaseSensitive(obj, "localEndpoint");

	memset(v, 0, sizeof(*v));
	if (!trace || !id || (strlen(trace) != 16 && strlen(trace) != 32))
		return false;
	v->trace_id_len = (uint8_t)(strlen(trace) / 2);
	if (!unhex(v->trace_id, trace, strlen(trace)) || all_zero(v->trace_id, v->trace_id_len) ||
	    !unhex(v->id, id, 16) || all_zero(v->id, sizeof(v->id)))
		return false;
	v->has_parent = parent != NULL;
	if (parent && !unhex(v->parent_id, parent, 16))
		return false;
	v->shared = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(obj, "shared"));
	v->kind = kind_of(string_of(obj, "kind"));
	v->start_us = micros(obj, "timestamp");
	v->duration_us = micros(obj, "duration");
	copy_str(v->service, sizeof(v->service), cJSON_IsObject(local) ? string_of(local, "serviceName") : NULL);
	copy_str(v->name, sizeof(v->name), string_of(obj, "name"));
	for (int i = 0; i < VIEW_TAG__COUNT; i++)
		tags[i] = cJSON_IsObject(tag_obj) ? string_of(tag_obj, view_tag_keys[i]) : NULL;
	view_span_set_tags(v, tags);
	return true;
}

struct reader {
	size_t max_spans;
	view_span_fn fn;
	void *ctx;
	struct view_json_stats *st;
};

/* A span object, a list of them, or a list of lists (depth counts lists). */
static void take(struct reader *r, const cJSON *item, int depth)
{
	struct view_span v;
	const cJSON *e;

	if (cJSON_IsArray(item) && depth < 2) {
		cJSON_ArrayForEach(e, item)
			take(r, e, depth + 1);
		return;
	}
	if (!cJSON_IsObject(item) || !span_of(item, &v)) {
		r->st->invalid++;
		return;
	}
	if (r->st->spans >= r->max_spans) {
		r->st->beyond++;
		return;
	}
	r->st->spans++;
	r->fn(r->ctx, &v);
}

/* Past blanks and the commas of a list cut in pieces, from p. */
static const char *skip_blanks(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n' || *p == ','))
		p++;
	return p;
}

void view_json_read(const char *buf, size_t len, size_t max_spans, view_span_fn fn, void *ctx,
		    struct view_json_stats *st)
{
	struct reader r = { max_spans, fn, ctx, st };
	const char *p = buf, *end = buf + len;

	while ((p = skip_blanks(p, end)) < end) {
		const char *after = NULL;
		cJSON *value = cJSON_ParseWithLengthOpts(p, (size_t)(end - p), &after, false);

		if (!value) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));

			st->unparsed++;
			p = nl ? nl + 1 : end;
			continue;
		}
		take(&r, value, 0);
		cJSON_Delete(value);
		/* Never stand still, whatever cJSON says it read. */
		p = after && after > p && after <= end ? after : end;
	}
}
