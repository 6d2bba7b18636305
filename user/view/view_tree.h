/* SPDX-License-Identifier: MIT */
/*
 * view_tree.h - the order in which a trace's spans are shown: each under its
 * parent, siblings by start time, as Zipkin's UI nests them.
 */
#ifndef SOCKSPAN_VIEW_TREE_H
#define SOCKSPAN_VIEW_TREE_H

#include <stddef.h>

#include "view/view_span.h"

struct view_node {
	unsigned idx;   /* into the spans given */
	unsigned depth; /* 0 for a root */
};

/*
 * The n spans of one trace in tree order, into out (n entries, each span
 * once). A span's parent is:
 *   - for a SERVER span, a CLIENT span with the same id (Zipkin's shared
 *     span: both ends of one RPC), so the server nests under its client;
 *   - else the span whose id is its parent id, the SERVER one when a CLIENT
 *     and a SERVER share that id (the child was made while serving);
 *   - else none: the span is a root (no parent, or one not in the trace).
 * Roots and the children of a span come by start time (then CLIENT before
 * SERVER, then input order). Spans in a cycle of parents (hostile input)
 * are shown too: the earliest one left becomes a root.
 * Returns 0, or -1 when out of memory (out is then unset).
 */
int view_tree_order(const struct view_span *spans, size_t n, struct view_node *out);

#endif
