#include "trace/inflight.h"

#include <stdlib.h>
#include <string.h>

/* Records allocated at first; the array doubles up to max. */
#define INFLIGHT_INITIAL 256

int inflight_init(struct inflight *f, uint32_t max)
{
	memset(f, 0, sizeof(*f));
	f->max = max;
	f->nbuckets = INFLIGHT_MIN_BUCKETS;
	for (int x = 0; x < XI__COUNT; x++) {
		f->buckets[x] = calloc(f->nbuckets, sizeof(uint32_t));
		if (!f->buckets[x]) {
			inflight_free(f);
			return -1;
		}
	}
	return 0;
}

void inflight_free(struct inflight *f)
{
	for (int x = 0; x < XI__COUNT; x++)
		free(f->buckets[x]);
	free(f->v);
	memset(f, 0, sizeof(*f));
}

static uint32_t *bucket(const struct inflight *f, enum xindex x, uint64_t key)
{
	return &f->buckets[x][(key ^ (key >> 32)) & (f->nbuckets - 1)];
}

/* Every chain of index x moved to n buckets. Records of one old chain only
 * go to buckets no other old chain feeds (n is a multiple of the old count),
 * so walking each chain from its tail and pushing at the heads keeps the
 * order of records under one key: the newest first. */
static void rehash(struct inflight *f, enum xindex x, uint32_t *nb, uint32_t n)
{
	uint32_t *old = f->buckets[x], oldn = f->nbuckets;

	for (uint32_t b = 0; b < oldn; b++) {
		uint32_t s = old[b];

		while (s && f->v[s - 1].link[x].next)
			s = f->v[s - 1].link[x].next;
		while (s) {
			struct xlink *l = &f->v[s - 1].link[x];
			uint32_t *head = &nb[(l->key ^ (l->key >> 32)) & (n - 1)], prev = l->prev;

			l->prev = 0;
			l->next = *head;
			if (*head)
				f->v[*head - 1].link[x].prev = s;
			*head = s;
			s = prev;
		}
	}
	free(old);
	f->buckets[x] = nb;
}

/* Buckets for at least cap records; -1 without memory (nothing changed). */
static int grow_buckets(struct inflight *f, uint32_t cap)
{
	uint32_t *nb[XI__COUNT] = { 0 }, n = f->nbuckets;

	while (n < cap)
		n *= 2;
	if (n == f->nbuckets)
		return 0;
	for (int x = 0; x < XI__COUNT; x++) {
		nb[x] = calloc(n, sizeof(uint32_t));
		if (!nb[x]) {
			for (int y = 0; y < x; y++)
				free(nb[y]);
			return -1;
		}
	}
	for (int x = 0; x < XI__COUNT; x++)
		rehash(f, x, nb[x], n);
	f->nbuckets = n;
	return 0;
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
	/* Without memory for bigger buckets the chains just grow longer. */
	grow_buckets(f, ncap);
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
	for (int x = 0; x < XI__COUNT; x++)
		inflight_unlink(f, r, x);
	r->gen++; /* even: free; ids of the old generation find nothing */
	r->next_free = f->free_head;
	f->free_head = (uint32_t)(r - f->v) + 1;
	f->used--;
}

uint64_t inflight_key(uint32_t tgid, uint32_t kind, uint64_t v)
{
	/* splitmix64 finaliser over the fields: well mixed for the bucket index. */
	uint64_t x = ((uint64_t)tgid << 32 | kind) ^ (v * 0x9e3779b97f4a7c15ull);

	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static uint32_t slot(const struct inflight *f, const struct xrec *r)
{
	return (uint32_t)(r - f->v) + 1;
}

void inflight_link(struct inflight *f, struct xrec *r, enum xindex x, uint64_t key)
{
	uint32_t *b = bucket(f, x, key);
	struct xlink *l = &r->link[x];

	if (l->linked)
		inflight_unlink(f, r, x);
	l->key = key;
	l->prev = 0;
	l->next = *b;
	if (*b)
		f->v[*b - 1].link[x].prev = slot(f, r);
	*b = slot(f, r);
	l->linked = true;
}

void inflight_unlink(struct inflight *f, struct xrec *r, enum xindex x)
{
	struct xlink *l = &r->link[x];

	if (!l->linked)
		return;
	if (l->prev)
		f->v[l->prev - 1].link[x].next = l->next;
	else
		*bucket(f, x, l->key) = l->next;
	if (l->next)
		f->v[l->next - 1].link[x].prev = l->prev;
	l->linked = false;
}

static struct xrec *from(const struct inflight *f, uint32_t s, enum xindex x, uint64_t key)
{
	while (s && f->v[s - 1].link[x].key != key)
		s = f->v[s - 1].link[x].next;
	return s ? &f->v[s - 1] : NULL;
}

struct xrec *inflight_first(const struct inflight *f, enum xindex x, uint64_t key)
{
	return from(f, *bucket(f, x, key), x, key);
}

struct xrec *inflight_next(const struct inflight *f, const struct xrec *r, enum xindex x)
{
	return from(f, r->link[x].next, x, r->link[x].key);
}
