// SPDX-License-Identifier: MIT
/* Unit tests for view_store.c: when traces go out, and its bounds. */
#include "view_spans.h"

#include "view/view_store.h"

#define MAX_OUT 16

struct got {
	unsigned n;
	struct {
		uint8_t first_id; /* the id byte of the trace's id we set (trace_id[15]) */
		unsigned spans, dropped;
		bool incomplete;
	} t[MAX_OUT];
};

static void on_trace(void *ctx, const struct view_trace *t)
{
	struct got *g = ctx;

	cr_assert_lt(g->n, MAX_OUT);
	g->t[g->n].first_id = t->spans[0].trace_id[15];
	g->t[g->n].spans = t->n;
	g->t[g->n].dropped = t->dropped;
	g->t[g->n].incomplete = t->incomplete;
	g->n++;
}

/* A span of trace number `trace`, starting `at` µs after T0_US. */
static struct view_span of_trace(uint8_t trace, uint8_t id, uint64_t at)
{
	struct view_span s = vspan(id, 0, VIEW_KIND_SERVER, "svc", "get /", at, 10, "200", false);

	s.trace_id[15] = trace;
	return s;
}

Test(view_store, a_trace_goes_out_after_the_grace_with_no_new_span)
{
	struct view_store_opts o = { .grace_us = 1000 };
	struct got g = { 0 };
	struct view_store *st = view_store_new(&o, on_trace, &g);
	struct view_span a = of_trace(1, 1, 0), b = of_trace(1, 2, 5);

	view_store_add(st, &a, 100);
	view_store_tick(st, 1000);
	view_store_add(st, &b, 1000);
	view_store_tick(st, 1999);
	cr_assert_eq(g.n, 0);
	cr_assert_eq(view_store_open_traces(st), 1);
	view_store_tick(st, 2000);
	cr_assert_eq(g.n, 1);
	cr_assert_eq(g.t[0].spans, 2);
	cr_assert_not(g.t[0].incomplete);
	cr_assert_eq(view_store_open_traces(st), 0);
	view_store_free(st);
}

Test(view_store, a_trace_that_keeps_growing_goes_out_incomplete_after_the_max_wait)
{
	struct view_store_opts o = { .grace_us = 1000, .max_wait_us = 5000 };
	struct got g = { 0 };
	struct view_store *st = view_store_new(&o, on_trace, &g);

	for (uint64_t now = 0; now < 5000; now += 500) {
		struct view_span s = of_trace(1, (uint8_t)(now / 500 + 1), now);

		view_store_add(st, &s, now);
		view_store_tick(st, now);
	}
	cr_assert_eq(g.n, 0);
	view_store_tick(st, 5000);
	cr_assert_eq(g.n, 1);
	cr_assert_eq(g.t[0].spans, 10);
	cr_assert(g.t[0].incomplete);
	view_store_free(st);
}

Test(view_store, ready_traces_go_out_by_start_time_and_flush_takes_all)
{
	struct view_store_opts o = { .grace_us = 1000 };
	struct got g = { 0 };
	struct view_store *st = view_store_new(&o, on_trace, &g);
	struct view_span late = of_trace(1, 1, 900), early = of_trace(2, 1, 100), open = of_trace(3, 1, 0);

	view_store_add(st, &late, 0);
	view_store_add(st, &early, 0);
	view_store_add(st, &open, 800);
	view_store_tick(st, 1000);
	cr_assert_eq(g.n, 2);
	cr_assert_eq(g.t[0].first_id, 2);
	cr_assert_eq(g.t[1].first_id, 1);
	view_store_flush(st);
	cr_assert_eq(g.n, 3);
	cr_assert_eq(g.t[2].first_id, 3);
	cr_assert_not(g.t[2].incomplete);
	cr_assert_eq(view_store_stats(st)->traces_out, 3);
	view_store_free(st);
}

Test(view_store, full_of_traces_the_oldest_goes_out_early_and_is_counted)
{
	struct view_store_opts o = { .grace_us = 1000, .max_traces = 2 };
	struct got g = { 0 };
	struct view_store *st = view_store_new(&o, on_trace, &g);

	for (uint8_t t = 1; t <= 3; t++) {
		struct view_span s = of_trace(t, 1, t);

		view_store_add(st, &s, 0);
	}
	cr_assert_eq(g.n, 1);
	cr_assert_eq(g.t[0].first_id, 1);
	cr_assert(g.t[0].incomplete);
	cr_assert_eq(view_store_stats(st)->traces_evicted, 1);
	cr_assert_eq(view_store_open_traces(st), 2);
	view_store_free(st);
}

Test(view_store, spans_beyond_the_caps_are_dropped_or_make_room)
{
	struct view_store_opts o = { .grace_us = 1000, .max_trace_spans = 3, .max_spans = 4 };
	struct got g = { 0 };
	struct view_store *st = view_store_new(&o, on_trace, &g);

	for (uint8_t id = 1; id <= 5; id++) {
		struct view_span s = of_trace(1, id, id);

		view_store_add(st, &s, 0);
	}
	cr_assert_eq(view_store_stats(st)->spans_dropped, 2);
	/* Trace 2's second span finds 4 kept in all: trace 1 goes out to make room. */
	for (uint8_t id = 1; id <= 2; id++) {
		struct view_span s = of_trace(2, id, id);

		view_store_add(st, &s, 0);
	}
	cr_assert_eq(g.n, 1);
	cr_assert_eq(g.t[0].first_id, 1);
	cr_assert_eq(g.t[0].spans, 3);
	cr_assert_eq(g.t[0].dropped, 2);
	cr_assert(g.t[0].incomplete);
	view_store_flush(st);
	cr_assert_eq(g.n, 2);
	cr_assert_eq(g.t[1].spans, 2);
	view_store_free(st);
}
