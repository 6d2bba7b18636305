// SPDX-License-Identifier: MIT
/* view_store.c - open traces in fixed slots: a hash of trace ids to find
 * them, a list by first arrival to evict the oldest in O(1). */
#define _GNU_SOURCE /* qsort_r */
#include "view/view_store.h"

#include <stdlib.h>
#include <string.h>

#define NONE (-1)
#define FIRST_CAP 8

struct view_store {
	struct view_store_opts o;
	view_trace_fn emit;
	void *ctx;
	struct view_trace *slots;
	int *buckets;    /* heads of the hash chains */
	unsigned nbuckets; /* a power of two */
	int free_slot;   /* chain of unused slots, through next_hash */
	int oldest, newest;
	size_t open, spans;
	int *batch;      /* the traces one tick emits */
	struct view_store_stats stats;
};

static unsigned hash_id(const struct view_span *s, unsigned mask)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (int i = 0; i < 16; i++)
		h = (h ^ s->trace_id[i]) * 16777619u;
	return (h ^ s->trace_id_len) & mask;
}

static bool same_trace(const struct view_span *a, const struct view_span *b)
{
	return a->trace_id_len == b->trace_id_len && memcmp(a->trace_id, b->trace_id, sizeof(a->trace_id)) == 0;
}

struct view_store *view_store_new(const struct view_store_opts *o, view_trace_fn emit, void *ctx)
{
	struct view_store *st = calloc(1, sizeof(*st));

	if (!st)
		return NULL;
	st->o = *o;
	st->o.max_traces = o->max_traces ? o->max_traces : VIEW_MAX_TRACES;
	st->o.max_trace_spans = o->max_trace_spans ? o->max_trace_spans : VIEW_MAX_TRACE_SPANS;
	st->o.max_spans = o->max_spans ? o->max_spans : VIEW_MAX_SPANS;
	st->o.max_wait_us = o->max_wait_us ? o->max_wait_us : VIEW_MAX_WAIT_US;
	st->emit = emit;
	st->ctx = ctx;
	for (st->nbuckets = 1; st->nbuckets < 2 * st->o.max_traces; st->nbuckets *= 2)
		;
	st->slots = calloc(st->o.max_traces, sizeof(*st->slots));
	st->buckets = malloc(st->nbuckets * sizeof(*st->buckets));
	st->batch = malloc(st->o.max_traces * sizeof(*st->batch));
	if (!st->slots || !st->buckets || !st->batch) {
		view_store_free(st);
		return NULL;
	}
	for (unsigned i = 0; i < st->nbuckets; i++)
		st->buckets[i] = NONE;
	for (unsigned i = 0; i < st->o.max_traces; i++)
		st->slots[i].next_hash = i + 1 < st->o.max_traces ? (int)i + 1 : NONE;
	st->oldest = st->newest = NONE;
	return st;
}

void view_store_free(struct view_store *st)
{
	if (!st)
		return;
	for (unsigned i = 0; st->slots && i < st->o.max_traces; i++)
		free(st->slots[i].spans);
	free(st->slots);
	free(st->buckets);
	free(st->batch);
	free(st);
}

static int *chain_of(struct view_store *st, const struct view_span *s)
{
	return &st->buckets[hash_id(s, st->nbuckets - 1)];
}

/* Emit slot i and give it back. */
static void take_out(struct view_store *st, int i)
{
	struct view_trace *t = &st->slots[i];
	int *p = chain_of(st, &t->spans[0]);

	while (*p != i)
		p = &st->slots[*p].next_hash;
	*p = t->next_hash;
	if (t->older != NONE)
		st->slots[t->older].newer = t->newer;
	else
		st->oldest = t->newer;
	if (t->newer != NONE)
		st->slots[t->newer].older = t->older;
	else
		st->newest = t->older;
	st->stats.traces_out++;
	st->emit(st->ctx, t);
	st->open--;
	st->spans -= t->n;
	free(t->spans);
	memset(t, 0, sizeof(*t));
	t->next_hash = st->free_slot;
	st->free_slot = i;
}

static void evict_oldest(struct view_store *st)
{
	st->slots[st->oldest].incomplete = true;
	st->stats.traces_evicted++;
	take_out(st, st->oldest);
}

static int find_or_open(struct view_store *st, const struct view_span *s, uint64_t now_us)
{
	int *head = chain_of(st, s), i;
	struct view_trace *t;

	for (i = *head; i != NONE; i = st->slots[i].next_hash)
		if (same_trace(&st->slots[i].spans[0], s))
			return i;
	if (st->open == st->o.max_traces)
		evict_oldest(st);
	i = st->free_slot;
	t = &st->slots[i];
	t->cap = FIRST_CAP < st->o.max_trace_spans ? FIRST_CAP : st->o.max_trace_spans;
	t->spans = malloc(t->cap * sizeof(*t->spans));
	if (!t->spans)
		return NONE;
	st->free_slot = t->next_hash;
	t->first_us = now_us;
	t->next_hash = *head;
	*head = i;
	t->older = st->newest;
	t->newer = NONE;
	if (st->newest != NONE)
		st->slots[st->newest].newer = i;
	else
		st->oldest = i;
	st->newest = i;
	st->open++;
	return i;
}

/* Room for one more span in t: false when its cap is reached or no memory. */
static bool make_room(struct view_store *st, struct view_trace *t)
{
	struct view_span *grown;
	unsigned cap;

	if (t->n < t->cap)
		return true;
	if (t->cap >= st->o.max_trace_spans)
		return false;
	cap = 2 * t->cap < st->o.max_trace_spans ? 2 * t->cap : st->o.max_trace_spans;
	grown = realloc(t->spans, cap * sizeof(*grown));
	if (!grown)
		return false;
	t->spans = grown;
	t->cap = cap;
	return true;
}

void view_store_add(struct view_store *st, const struct view_span *s, uint64_t now_us)
{
	struct view_trace *t;
	int i;

	/* The oldest traces make room, even the one s belongs to (s then
	 * opens it again). */
	while (st->spans >= st->o.max_spans)
		evict_oldest(st);
	i = find_or_open(st, s, now_us);
	if (i == NONE) {
		st->stats.spans_dropped++;
		return;
	}
	t = &st->slots[i];
	t->last_us = now_us;
	if (!make_room(st, t)) {
		t->dropped++;
		st->stats.spans_dropped++;
		return;
	}
	t->spans[t->n++] = *s;
	st->spans++;
}

static uint64_t start_of(const struct view_trace *t)
{
	uint64_t start = UINT64_MAX;

	for (unsigned i = 0; i < t->n; i++)
		start = t->spans[i].start_us < start ? t->spans[i].start_us : start;
	return start;
}

static int by_start(const void *a, const void *b, void *ctx)
{
	const struct view_store *st = ctx;
	int i = *(const int *)a, j = *(const int *)b;
	uint64_t x = start_of(&st->slots[i]), y = start_of(&st->slots[j]);

	if (x != y)
		return x < y ? -1 : 1;
	return i < j ? -1 : i > j;
}

/* Emit the open traces that ready() picks, by start time. */
static void emit_batch(struct view_store *st, uint64_t now_us, bool all)
{
	size_t n = 0;

	for (int i = st->oldest; i != NONE; i = st->slots[i].newer) {
		struct view_trace *t = &st->slots[i];

		if (!all && now_us - t->first_us >= st->o.max_wait_us && now_us - t->last_us < st->o.grace_us)
			t->incomplete = true;
		if (all || t->incomplete || now_us - t->last_us >= st->o.grace_us)
			st->batch[n++] = i;
	}
	qsort_r(st->batch, n, sizeof(*st->batch), by_start, st);
	for (size_t k = 0; k < n; k++)
		take_out(st, st->batch[k]);
}

void view_store_tick(struct view_store *st, uint64_t now_us)
{
	emit_batch(st, now_us, false);
}

void view_store_flush(struct view_store *st)
{
	emit_batch(st, 0, true);
}

size_t view_store_open_traces(const struct view_store *st)
{
	return st->open;
}

const struct view_store_stats *view_store_stats(const struct view_store *st)
{
	return &st->stats;
}
