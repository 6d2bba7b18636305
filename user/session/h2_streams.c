#include "session/h2_streams.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

struct h2_stream *h2_streams_find(struct h2_streams *ss, uint32_t id)
{
	for (unsigned i = 0; i < ss->n; i++)
		if (ss->v[i].id == id)
			return &ss->v[i];
	return NULL;
}

void h2_streams_remove(struct h2_streams *ss, struct h2_stream *h)
{
	unsigned i = (unsigned)(h - ss->v);

	if (i != ss->n - 1)
		ss->v[i] = ss->v[ss->n - 1];
	ss->n--;
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
		struct h2_stream *n;

		if (ncap > H2_MAX_STREAMS)
			ncap = H2_MAX_STREAMS;
		n = realloc(ss->v, ncap * sizeof(*n));
		if (!n) {
			ss->env->stats->h2_streams_overflow++;
			return NULL;
		}
		ss->v = n;
		ss->cap = ncap;
	}
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

void h2_streams_free(struct h2_streams *ss)
{
	h2_streams_drop_all(ss);
	free(ss->v);
	ss->v = NULL;
	ss->cap = 0;
}
