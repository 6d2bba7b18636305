/* SPDX-License-Identifier: MIT */
/*
 * view_json.h - Zipkin v2 JSON spans back into view spans, for replay:
 * sockspan's -o output (one span object per line), a collector's answer
 * (a list of spans, or a list of traces, each a list of spans), or several
 * such values one after the other. The input is hostile: it is bounded by
 * the caller (its size) and by max_spans; a span that is not one (no valid
 * traceId or id, a bad parentId) is skipped and counted, and so is a value
 * that does not parse (reading goes on at the next line).
 */
#ifndef SOCKSPAN_VIEW_JSON_H
#define SOCKSPAN_VIEW_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "view/view_span.h"

struct view_json_stats {
	uint64_t spans;     /* given to the callback */
	uint64_t invalid;   /* objects or values that are no span: skipped */
	uint64_t unparsed;  /* stretches of input that are not JSON: skipped to the next line */
	uint64_t beyond;    /* spans after max_spans: not read */
};

typedef void (*view_span_fn)(void *ctx, const struct view_span *s);

/*
 * Read every span of buf (len bytes; no NUL needed) in order, giving each
 * to fn, at most max_spans; counts added to *st. Memory: the parse tree of
 * one top-level JSON value at a time (cJSON limits its nesting).
 */
void view_json_read(const char *buf, size_t len, size_t max_spans, view_span_fn fn, void *ctx,
		    struct view_json_stats *st);

#endif
