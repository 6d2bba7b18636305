/* SPDX-License-Identifier: MIT */
/*
 * view_render.h - a trace as text for a terminal of a given width, one line
 * per span, never wider than the width:
 *
 * 22:45:47 trace 4bf92f3577b34da6a3ce929d0e0e4736 6 spans 12.0ms
 * !    +0µs chain-drv CLIENT get /chain/{id}     502     12.0ms |================|
 * !  +300µs   chain-a SERVER get /chain/{id}     502     11.0ms |================|
 * !  +500µs     chain-a CLIENT get /chain/{id}   500     9.00ms |=============   |
 * !  +800µs       chain-b SERVER get /chain/{id} 500     8.00ms | ===========    |
 *   +1.00ms         chain-b CLIENT get           -        450µs | =              |
 *   +1.10ms           redis-server SERVER get    -         50µs | =              |
 *
 * A header (UTC time of the first span, trace id, span count, duration,
 * "incomplete" when the store gave up waiting, spans it could not keep),
 * then per span in tree order (view_tree.h): '!' for an error (any "error"
 * tag) else ' ', offset from the trace's start, two columns of indent per
 * level, service, kind, name, status, duration, and from width 60 a bar
 * (a fifth of the width) placing the span in the trace. A trace of one
 * span is one line, the UTC time of its start in place of the offset, no
 * bar. With colour, error lines are red and headers bold (ANSI SGR). Every
 * string is made safe first (span_copy_safe) and shortened in the middle to
 * fit.
 */
#ifndef SOCKSPAN_VIEW_RENDER_H
#define SOCKSPAN_VIEW_RENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "view/view_span.h"

/* Narrower terminals get lines of this width (they wrap); wider ones are
 * capped at the max (no line longer than that is useful). */
#define VIEW_MIN_WIDTH 40
#define VIEW_MAX_WIDTH 1000
/* From this width on, lines have a bar. */
#define VIEW_BAR_MIN_WIDTH 60

struct view_style {
	unsigned width; /* columns */
	bool color;     /* ANSI colours */
};

/*
 * Write the n spans of one trace (n >= 1) to out as described above.
 * incomplete: the trace was written before it was done; dropped: spans of
 * it that were not kept. Returns 0, or -1 when out of memory or on a write
 * error.
 */
int view_render_trace(FILE *out, const struct view_span *spans, size_t n, bool incomplete, unsigned dropped,
		      const struct view_style *st);

#endif
