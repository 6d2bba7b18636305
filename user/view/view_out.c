// SPDX-License-Identifier: MIT
/* view_out.c - store, filter and render put together; the export filter. */
#include "view/view_out.h"

#include <string.h>

#include "view/view_term.h"

static void show(void *ctx, const struct view_trace *t)
{
	struct view_out *o = ctx;

	if (!view_filter_match(o->filter, t->spans, t->n)) {
		o->traces_filtered++;
		return;
	}
	o->traces_shown++;
	if (view_render_trace(o->f, t->spans, t->n, t->incomplete, t->dropped, &o->style))
		o->write_errors++;
}

int view_out_init(struct view_out *o, FILE *f, const struct view_filter *filter, const struct view_style *style,
		  const struct view_store_opts *store_opts, uint64_t now_us)
{
	memset(o, 0, sizeof(*o));
	o->now_us = now_us;
	o->f = f;
	o->filter = filter;
	o->style = *style;
	o->width_fd = -1;
	o->store = view_store_new(store_opts, show, o);
	return o->store ? 0 : -1;
}

void view_out_free(struct view_out *o)
{
	view_store_free(o->store);
	o->store = NULL;
}

void view_out_add(struct view_out *o, const struct view_span *s)
{
	view_store_add(o->store, s, o->now_us);
}

void view_out_span(void *ctx, const struct span *s)
{
	struct view_span v;

	view_span_from_span(&v, s);
	view_out_add(ctx, &v);
}

void view_out_tick(struct view_out *o, uint64_t now_us)
{
	o->now_us = now_us;
	if (o->width_fd >= 0)
		o->style.width = view_term_width(o->width_fd);
	view_store_tick(o->store, now_us);
	fflush(o->f);
}

void view_out_flush(struct view_out *o)
{
	view_store_flush(o->store);
	fflush(o->f);
}

void view_out_report(const struct view_out *o, FILE *err)
{
	const struct view_store_stats *st = view_store_stats(o->store);

	fprintf(err,
		"sockspan: view: %llu traces shown, %llu filtered out, %llu shown before they were ready "
		"(view full), %llu spans not kept, %llu write errors\n",
		(unsigned long long)o->traces_shown, (unsigned long long)o->traces_filtered,
		(unsigned long long)st->traces_evicted, (unsigned long long)st->spans_dropped,
		(unsigned long long)o->write_errors);
}

void view_filter_sink_write(void *ctx, const struct span *s)
{
	struct view_filter_sink *fs = ctx;
	struct view_span v;

	view_span_from_span(&v, s);
	if (view_filter_match(fs->filter, &v, 1))
		fs->next(fs->next_ctx, s);
}
