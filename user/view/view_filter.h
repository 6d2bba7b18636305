/* SPDX-License-Identifier: MIT */
/*
 * view_filter.h - which traces and spans to show or export, as hubble
 * observe's filters do: criteria of one kind are ORed, kinds are ANDed, and
 * each criterion can be negated ("--not --service redis-server").
 *
 * A criterion holds for a group of spans (a trace in the tree view, a lone
 * span in line output and export) when one of the spans meets it; a negated
 * one when none does. So in the tree view "--errors" keeps traces with an
 * error in them, whole, and "--not --errors" those with none. The sample
 * rate keeps a trace or not from its id alone, the same way in every
 * instance, so agents on several nodes keep the same traces.
 */
#ifndef SOCKSPAN_VIEW_FILTER_H
#define SOCKSPAN_VIEW_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "view/view_span.h"

/* Filter options on one command line, at most. */
#define VIEW_FILTER_MAX 32

enum view_filter_kind {
	VIEW_FILTER_PROTOCOL,     /* http1|http2|grpc|redis */
	VIEW_FILTER_MIN_DURATION, /* 50ms, 1.5s, 200us */
	VIEW_FILTER_ERRORS,       /* no argument: a span with an "error" tag */
	VIEW_FILTER_STATUS,       /* 5xx (HTTP class), or a number: HTTP status or gRPC code */
	VIEW_FILTER_SERVICE,      /* the local service name, exactly */
	VIEW_FILTER_PATH_PREFIX,  /* the start of http.path (or a gRPC method) */
	VIEW_FILTER_TRACE_ID,     /* 16 or 32 hex digits */
	VIEW_FILTER__COUNT,
};

struct view_criterion {
	uint8_t kind;  /* enum view_filter_kind */
	bool negate;
	uint8_t proto; /* enum view_proto */
	uint16_t status_lo, status_hi;
	bool full;        /* a 128-bit trace id: value_hi counts too */
	uint64_t value;   /* microseconds; or the low 64 bits of a trace id */
	uint64_t value_hi; /* the high 64 bits of a 128-bit trace id */
	const char *text; /* service, path prefix, trace id hex: the argv string, not owned */
};

struct view_filter {
	struct view_criterion c[VIEW_FILTER_MAX];
	unsigned n;
	bool sampling;
	uint64_t sample_below; /* a trace is kept when the hash of its id is below this */
};

/*
 * Add a criterion of kind (arg: its option's argument, NULL for --errors;
 * kept by pointer: argv outlives the filter). Returns 0, or -1 with a
 * message in err for a bad argument or too many criteria.
 */
int view_filter_add(struct view_filter *f, enum view_filter_kind kind, const char *arg, bool negate, char *err,
		    size_t cap);
/* --sample-rate: a fraction in [0, 1]. Returns 0, or -1 with a message in err. */
int view_filter_set_sample_rate(struct view_filter *f, const char *arg, char *err, size_t cap);
/* Whether the filter has anything to say (else every span passes). */
bool view_filter_active(const struct view_filter *f);
/* Whether the group of n spans (one trace, or one span) passes. */
bool view_filter_match(const struct view_filter *f, const struct view_span *spans, size_t n);
/* The option name of a kind, without dashes ("min-duration"). */
const char *view_filter_name(enum view_filter_kind kind);

#endif
