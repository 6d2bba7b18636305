/* SPDX-License-Identifier: MIT */
/*
 * view_out.h - the tree view as an output: spans gathered into traces
 * (view_store.h), each trace that passes the filter written with
 * view_render.h once ready. Fed live spans (a span sink of the builder) or
 * replayed ones. Also the filter in front of the other sinks (lines, JSON,
 * Zipkin), where each span is judged alone.
 */
#ifndef SOCKSPAN_VIEW_OUT_H
#define SOCKSPAN_VIEW_OUT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "span/span.h"
#include "span/span_builder.h"
#include "view/view_filter.h"
#include "view/view_render.h"
#include "view/view_store.h"

struct view_out {
	struct view_store *store;
	const struct view_filter *filter; /* outlives the output */
	struct view_style style;
	FILE *f;
	int width_fd;     /* the terminal whose width is followed at each tick; -1: style.width stays */
	uint64_t now_us;  /* the last tick's time: when live spans are said to come */
	uint64_t traces_shown, traces_filtered, write_errors;
};

/* Returns 0, or -1 when out of memory. store_opts: see view_store.h;
 * now_us: the time, for the spans that come before the first tick. */
int view_out_init(struct view_out *o, FILE *f, const struct view_filter *filter, const struct view_style *style,
		  const struct view_store_opts *store_opts, uint64_t now_us);
/* Emits nothing: view_out_flush first. */
void view_out_free(struct view_out *o);

/* Adds one span (at the last tick's time). */
void view_out_add(struct view_out *o, const struct view_span *s);
/* A span_sink_fn (ctx: the view_out) for the builder. */
void view_out_span(void *ctx, const struct span *s);
/* Time passes: writes the traces ready at now_us, and flushes f. */
void view_out_tick(struct view_out *o, uint64_t now_us);
/* Writes every open trace (at exit, at the end of a replay), and flushes f. */
void view_out_flush(struct view_out *o);
/* One line of counters on err: traces shown, filtered, sent out early, spans not kept. */
void view_out_report(const struct view_out *o, FILE *err);

/* A sink that passes on the spans the filter keeps, each judged alone. */
struct view_filter_sink {
	const struct view_filter *filter;
	span_sink_fn next;
	void *next_ctx;
};

/* A span_sink_fn (ctx: the view_filter_sink). */
void view_filter_sink_write(void *ctx, const struct span *s);

#endif
