#include "trace/inflight.h"

#include <stdlib.h>
#include <string.h>

/* Records allocated at first; the array doubles up to max. */
#define INFLIGHT_INITIAL 256

void inflight_init(struct inflight *f, uint32_t max)
{
	memset(f, 0, sizeof(*f));
	f->max = max;
}

void inflight_free(struct inflight *f)
{
	free(f->v);
	memset(f, 0, sizeof(*f));
}

static int grow(struct inflight *f)
{
	uint32_t ncap = f->cap ? f->cap * 2 : INFLIGHT_INITIAL;
	struct xrec *nv;

	if (ncap > f->max)
		ncap = f->max;
	if (ncap <= f->cap)
		return -1;
	nv = realloc(f->v, (size_t)ncap * sizeof(*nv));
	if (!nv)
		return -1;
	memset(nv + f->cap, 0, (size_t)(ncap - f->cap) * sizeof(*nv));
	for (uint32_t i = f->cap; i < ncap; i++)
		nv[i].next_free = i + 1 < ncap ? i + 2 : f->free_head;
	f->free_head = f->cap + 1;
	f->v = nv;
	f->cap = ncap;
	return 0;
}

struct xrec *inflight_add(struct inflight *f, exchange_id *id)
{
	struct xrec *r;
	uint32_t gen, i;

	if (!f->free_head && grow(f) < 0)
		return NULL;
	i = f->free_head - 1;
	r = &f->v[i];
	f->free_head = r->next_free;
	gen = r->gen + 1; /* odd: in use */
	memset(r, 0, sizeof(*r));
	r->gen = gen;
	f->used++;
	*id = (uint64_t)gen << 32 | (i + 1);
	return r;
}

struct xrec *inflight_get(const struct inflight *f, exchange_id id)
{
	uint32_t i = (uint32_t)id - 1, gen = (uint32_t)(id >> 32);

	if ((uint32_t)id == 0 || i >= f->cap || !(gen & 1) || f->v[i].gen != gen)
		return NULL;
	return &f->v[i];
}

void inflight_remove(struct inflight *f, struct xrec *r)
{
	r->gen++; /* even: free; ids of the old generation find nothing */
	r->next_free = f->free_head;
	f->free_head = (uint32_t)(r - f->v) + 1;
	f->used--;
}
