// SPDX-License-Identifier: MIT
/* view_tree.c - parents, then a depth-first walk by start time. O(n^2) for
 * n spans of one trace, which the store caps (VIEW_MAX_TRACE_SPANS). */
#define _GNU_SOURCE /* qsort_r */
#include "view/view_tree.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Index of the parent of spans[i], or -1. */
static long parent_of(const struct view_span *spans, size_t n, size_t i)
{
	const struct view_span *s = &spans[i];
	long found = -1;

	for (size_t j = 0; j < n; j++) {
		if (j != i && s->kind == VIEW_KIND_SERVER && spans[j].kind == VIEW_KIND_CLIENT &&
		    memcmp(spans[j].id, s->id, sizeof(s->id)) == 0)
			return (long)j;
	}
	if (!s->has_parent)
		return -1;
	for (size_t j = 0; j < n; j++) {
		if (j == i || memcmp(spans[j].id, s->parent_id, sizeof(s->parent_id)) != 0)
			continue;
		if (found < 0 || spans[j].kind == VIEW_KIND_SERVER)
			found = (long)j;
	}
	return found;
}

/* Start time, then CLIENT before SERVER (a client span starts the RPC),
 * then input order: a total order, so the output never depends on qsort. */
static int by_start(const void *a, const void *b, void *ctx)
{
	const struct view_span *spans = ctx;
	unsigned i = *(const unsigned *)a, j = *(const unsigned *)b;
	const struct view_span *x = &spans[i], *y = &spans[j];

	if (x->start_us != y->start_us)
		return x->start_us < y->start_us ? -1 : 1;
	if (x->kind != y->kind)
		return x->kind == VIEW_KIND_CLIENT ? -1 : y->kind == VIEW_KIND_CLIENT ? 1 : 0;
	return i < j ? -1 : i > j;
}

struct walk {
	const long *parent;
	const unsigned *sorted;
	bool *seen;
	unsigned *stack, *cursor; /* per depth: the span, the next place in sorted to look for its children */
	struct view_node *out;
	size_t n, nout;
};

/* Depth-first from root: each span's children in sorted order. */
static void walk_from(struct walk *w, unsigned root)
{
	size_t depth = 0;

	w->seen[root] = true;
	w->out[w->nout++] = (struct view_node){ root, 0 };
	w->stack[0] = root;
	w->cursor[0] = 0;
	for (;;) {
		unsigned top = w->stack[depth];
		bool pushed = false;

		while (w->cursor[depth] < w->n) {
			unsigned c = w->sorted[w->cursor[depth]++];

			if (w->seen[c] || w->parent[c] != (long)top)
				continue;
			w->seen[c] = true;
			w->out[w->nout++] = (struct view_node){ c, (unsigned)depth + 1 };
			depth++;
			w->stack[depth] = c;
			w->cursor[depth] = 0;
			pushed = true;
			break;
		}
		if (pushed)
			continue;
		if (depth == 0)
			return;
		depth--;
	}
}

int view_tree_order(const struct view_span *spans, size_t n, struct view_node *out)
{
	long *parent = calloc(n ? n : 1, sizeof(*parent));
	unsigned *scratch = calloc(n ? 3 * n : 1, sizeof(*scratch));
	bool *seen = calloc(n ? n : 1, sizeof(*seen));
	struct walk w = { parent, scratch, seen, scratch + n, scratch + 2 * n, out, n, 0 };

	if (!parent || !scratch || !seen) {
		free(parent);
		free(scratch);
		free(seen);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		parent[i] = parent_of(spans, n, i);
		scratch[i] = (unsigned)i;
	}
	qsort_r(scratch, n, sizeof(*scratch), by_start, (void *)spans);
	/* Roots first; then what only a cycle of parents reaches. */
	for (size_t k = 0; k < n; k++)
		if (parent[scratch[k]] < 0 && !seen[scratch[k]])
			walk_from(&w, scratch[k]);
	for (size_t k = 0; k < n; k++)
		if (!seen[scratch[k]])
			walk_from(&w, scratch[k]);
	free(parent);
	free(scratch);
	free(seen);
	return 0;
}
