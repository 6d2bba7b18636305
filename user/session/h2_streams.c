#include "session/h2_streams.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* The first by_id entry whose id is >= id (n if none). */
static unsigned lower_bound(const struct h2_streams *ss, uint32_t id)
{
	unsigned lo = 0, hi = ss->n;

	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;

		if (ss->by_id[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The by_id entry of v[slot]. */
static unsigned ref_of(const struct h2_streams *ss, unsigned slot)
{
	unsigned k = lower_bound(ss, ss->v[slot].id);

	while (ss->by_id[k].slot != slot)
		k++;
	return k;
}

struct h2_stream *h2_streams_find(struct h2_streams *ss, uint32_t id)
{
	unsigned k = lower_bound(ss, id);

	return k < ss->n && ss->by_id[k].id == id ? &ss->v[ss->by_id[k].slot] : NULL;
}

void h2_streams_remove(struct h2_streams *ss, struct h2_stream *h)
{
	unsigned i = (unsigned)(h - ss->v), last = ss->n - 1, k = ref_of(ss, i);

	memmove(&ss->by_id[k], &ss->by_id[k + 1], (ss->n - k - 1) * sizeof(ss->by_id[0]));
	ss->n--;
	if (i != last) {
		/* The last stream moves into the freed slot: so does its ref. */
		ss->by_id[ref_of(ss, last)].slot = i;
		ss->v[i] = ss->v[last];
	}
}

void h2_streams_drop(struct h2_streams *ss, struct h2_stream *h)
{
	ss->env->stats->h2_streams_unspanned++;
	exchange_drop(ss->env, h->xid);
	h2_streams_remove(ss, h);
}

struct h2_stream *h2_streams_add(struct h2_streams *ss, uint32_t id)
{
	struct h2_stream *h;
	unsigned k;

	if (ss->n == H2_MAX_STREAMS) {
		/* A stream damaged by a loss may never see its end: it goes first. */
		for (h = ss->v; h < ss->v + ss->n && !h->damaged; h++)
			;
		if (h == ss->v + ss->n) {
			ss->env->stats->h2_streams_overflow++;
			return NULL;
		}
		h2_streams_drop(ss, h);
	}
	if (ss->n == ss->cap) {
		unsigned ncap = ss->cap ? ss->cap * 2 : 8;
		struct h2_stream_ref *r;
		struct h2_stream *n;

		if (ncap > H2_MAX_STREAMS)
			ncap = H2_MAX_STREAMS;
		n = realloc(ss->v, ncap * sizeof(*n));
		if (n)
			ss->v = n;
		r = n ? realloc(ss->by_id, ncap * sizeof(*r)) : NULL;
		if (!r) {
			ss->env->stats->h2_streams_overflow++;
			return NULL;
		}
		ss->by_id = r;
		ss->cap = ncap;
	}
	/* Ids mostly come in increasing order: the ref goes last, no move. */
	k = lower_bound(ss, id);
	memmove(&ss->by_id[k + 1], &ss->by_id[k], (ss->n - k) * sizeof(ss->by_id[0]));
	ss->by_id[k] = (struct h2_stream_ref){ id, ss->n };
	h = &ss->v[ss->n++];
	memset(h, 0, offsetof(struct h2_stream, method));
	h->id = id;
	h->grpc_status = -1;
	return h;
}

void h2_streams_drop_all(struct h2_streams *ss)
{
	while (ss->n)
		h2_streams_drop(ss, &ss->v[ss->n - 1]);
}

void h2_streams_trim(struct h2_streams *ss)
{
	if (ss->n)
		return;
	free(ss->v);
	free(ss->by_id);
	ss->v = NULL;
	ss->by_id = NULL;
	ss->cap = 0;
}

void h2_streams_free(struct h2_streams *ss)
{
	h2_streams_drop_all(ss);
	free(ss->v);
	free(ss->by_id);
	ss->v = NULL;
	ss->by_id = NULL;
	ss->cap = 0;
}
