// SPDX-License-Identifier: MIT
/* view_filter.c - criteria parsed from options, matched against spans. */
#include "view/view_filter.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const kind_names[VIEW_FILTER__COUNT] = {
	[VIEW_FILTER_PROTOCOL] = "protocol",   [VIEW_FILTER_MIN_DURATION] = "min-duration",
	[VIEW_FILTER_ERRORS] = "errors",       [VIEW_FILTER_STATUS] = "status",
	[VIEW_FILTER_SERVICE] = "service",     [VIEW_FILTER_PATH_PREFIX] = "path-prefix",
	[VIEW_FILTER_TRACE_ID] = "trace-id",
};

const char *view_filter_name(enum view_filter_kind kind)
{
	return kind < VIEW_FILTER__COUNT ? kind_names[kind] : "";
}

static int parse_protocol(struct view_criterion *c, const char *arg)
{
	static const struct {
		const char *name;
		uint8_t proto;
	} protos[] = {
		{ "http1", VIEW_PROTO_HTTP1 }, { "http2", VIEW_PROTO_HTTP2 },
		{ "grpc", VIEW_PROTO_GRPC },   { "redis", VIEW_PROTO_REDIS },
	};

	for (size_t i = 0; i < sizeof(protos) / sizeof(protos[0]); i++) {
		if (strcmp(arg, protos[i].name) == 0) {
			c->proto = protos[i].proto;
			return 0;
		}
	}
	return -1;
}

/* "50ms", "1.5s", "200us" or "200µs": a number and its unit. */
static int parse_duration(struct view_criterion *c, const char *arg)
{
	static const struct {
		const char *unit;
		double us;
	} units[] = { { "us", 1 }, { "\xc2\xb5s", 1 }, { "ms", 1e3 }, { "s", 1e6 } };
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (errno || end == arg || !(v >= 0) || !isfinite(v))
		return -1;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].unit) == 0 && v * units[i].us < 1e18) {
			c->value = (uint64_t)(v * units[i].us + 0.5);
			return 0;
		}
	}
	return -1;
}

/* "5xx" (an HTTP class), or a number 0..999. */
static int parse_status(struct view_criterion *c, const char *arg)
{
	char *end;
	long v;

	if (arg[0] >= '1' && arg[0] <= '5' && strcasecmp(arg + 1, "xx") == 0) {
		c->status_lo = (uint16_t)((arg[0] - '0') * 100);
		c->status_hi = (uint16_t)(c->status_lo + 99);
		return 0;
	}
	if (arg[0] < '0' || arg[0] > '9')
		return -1;
	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || *end || v > 999)
		return -1;
	c->status_lo = c->status_hi = (uint16_t)v;
	return 0;
}

/* 16 or 32 hex digits: the low 64 bits in value, the high ones in value_hi. */
static int parse_trace_id(struct view_criterion *c, const char *arg)
{
	size_t n = strlen(arg);

	if (n != 16 && n != 32)
		return -1;
	c->value = c->value_hi = 0;
	for (size_t i = 0; i < n; i++) {
		char ch = arg[i];
		int d = ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
			: ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : -1;

		if (d < 0)
			return -1;
		if (i < n - 16)
			c->value_hi = c->value_hi << 4 | (uint64_t)d;
		else
			c->value = c->value << 4 | (uint64_t)d;
	}
	c->full = n == 32;
	return 0;
}

int view_filter_add(struct view_filter *f, enum view_filter_kind kind, const char *arg, bool negate, char *err,
		    size_t cap)
{
	static const char *const expected[VIEW_FILTER__COUNT] = {
		[VIEW_FILTER_PROTOCOL] = "http1, http2, grpc or redis",
		[VIEW_FILTER_MIN_DURATION] = "a number and us, ms or s, e.g. 50ms",
		[VIEW_FILTER_STATUS] = "an HTTP status, a class such as 5xx, or a gRPC code",
		[VIEW_FILTER_SERVICE] = "a service name",
		[VIEW_FILTER_PATH_PREFIX] = "a path starting with /",
		[VIEW_FILTER_TRACE_ID] = "16 or 32 hex digits",
	};
	struct view_criterion c = { .kind = (uint8_t)kind, .negate = negate, .text = arg };
	int r = 0;

	if (f->n == VIEW_FILTER_MAX) {
		snprintf(err, cap, "at most %d filter options", VIEW_FILTER_MAX);
		return -1;
	}
	switch (kind) {
	case VIEW_FILTER_PROTOCOL: r = parse_protocol(&c, arg); break;
	case VIEW_FILTER_MIN_DURATION: r = parse_duration(&c, arg); break;
	case VIEW_FILTER_STATUS: r = parse_status(&c, arg); break;
	case VIEW_FILTER_SERVICE: r = arg[0] ? 0 : -1; break;
	case VIEW_FILTER_PATH_PREFIX: r = arg[0] == '/' ? 0 : -1; break;
	case VIEW_FILTER_TRACE_ID: r = parse_trace_id(&c, arg); break;
	case VIEW_FILTER_ERRORS: break;
	default: r = -1;
	}
	if (r) {
		snprintf(err, cap, "invalid --%s '%s' (expected %s)", view_filter_name(kind), arg ? arg : "",
			 kind < VIEW_FILTER__COUNT && expected[kind] ? expected[kind] : "nothing");
		return -1;
	}
	f->c[f->n++] = c;
	return 0;
}

int view_filter_set_sample_rate(struct view_filter *f, const char *arg, char *err, size_t cap)
{
	char *end;
	double rate;

	errno = 0;
	rate = strtod(arg, &end);
	if (errno || end == arg || *end || !(rate >= 0 && rate <= 1)) {
		snprintf(err, cap, "invalid --sample-rate '%s' (expected a fraction from 0 to 1)", arg);
		return -1;
	}
	f->sampling = rate < 1;
	/* Of the 2^53 values of a trace id's top 53 bits (a double's precision). */
	f->sample_below = (uint64_t)(rate * 9007199254740992.0);
	return 0;
}

bool view_filter_active(const struct view_filter *f)
{
	return f->n || f->sampling;
}

static bool span_meets(const struct view_criterion *c, const struct view_span *s)
{
	switch (c->kind) {
	case VIEW_FILTER_PROTOCOL:
		return s->proto == c->proto ||
		       (s->proto == VIEW_PROTO_HTTP && (c->proto == VIEW_PROTO_HTTP1 || c->proto == VIEW_PROTO_HTTP2));
	case VIEW_FILTER_MIN_DURATION:
		return s->duration_us >= c->value;
	case VIEW_FILTER_ERRORS:
		return s->error;
	case VIEW_FILTER_STATUS:
		return (s->http_status && s->http_status >= c->status_lo && s->http_status <= c->status_hi) ||
		       (s->grpc_status >= 0 && c->status_lo == c->status_hi && s->grpc_status == c->status_lo);
	case VIEW_FILTER_SERVICE:
		return strcmp(s->service, c->text) == 0;
	case VIEW_FILTER_PATH_PREFIX:
		return strncmp(s->path, c->text, strlen(c->text)) == 0;
	case VIEW_FILTER_TRACE_ID:
		/* A 64-bit id and a 128-bit one match on what they share. */
		return view_span_trace_low64(s) == c->value &&
		       (!c->full || s->trace_id_len == 8 || view_span_trace_high64(s) == c->value_hi);
	}
	return false;
}

static bool group_meets(const struct view_criterion *c, const struct view_span *spans, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (span_meets(c, &spans[i]))
			return true;
	return false;
}

bool view_filter_match(const struct view_filter *f, const struct view_span *spans, size_t n)
{
	bool has_positive[VIEW_FILTER__COUNT] = { false }, positive_met[VIEW_FILTER__COUNT] = { false };

	if (n == 0)
		return false;
	if (f->sampling && view_span_trace_low64(&spans[0]) >> 11 >= f->sample_below)
		return false;
	for (unsigned i = 0; i < f->n; i++) {
		const struct view_criterion *c = &f->c[i];
		bool met = group_meets(c, spans, n);

		if (c->negate && met)
			return false;
		if (!c->negate) {
			has_positive[c->kind] = true;
			positive_met[c->kind] |= met;
		}
	}
	for (int k = 0; k < VIEW_FILTER__COUNT; k++)
		if (has_positive[k] && !positive_met[k])
			return false;
	return true;
}
