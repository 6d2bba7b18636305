#include "conn/conn_table.h"

#include <stdlib.h>
#include <string.h>

#include "stats.h"

struct conn_table {
	struct conn **buckets;
	size_t nbuckets;   /* power of two */
	size_t count, max;
	struct conn *oldest, *newest;
	conn_release_fn release;
	void *ctx;
	struct sockspan_stats *stats;
};

static uint64_t hash_key(const struct conn_key *k)
{
	/* splitmix64 finaliser over the packed key: cheap and well mixed. */
	uint64_t x = (uint64_t)k->tgid ^ (k->sock_ino * 0x9e3779b97f4a7c15ull);

	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static bool key_eq(const struct conn_key *a, const struct conn_key *b)
{
	return a->tgid == b->tgid && a->sock_ino == b->sock_ino;
}

struct conn_table *conn_table_new(size_t max_conns, conn_release_fn release, void *ctx,
				  struct sockspan_stats *stats)
{
	struct conn_table *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->nbuckets = 1024;
	t->buckets = calloc(t->nbuckets, sizeof(*t->buckets));
	if (!t->buckets) {
		free(t);
		return NULL;
	}
	t->max = max_conns;
	t->release = release;
	t->ctx = ctx;
	t->stats = stats;
	return t;
}

static void list_unlink(struct conn_table *t, struct conn *c)
{
	if (c->older)
		c->older->newer = c->newer;
	else
		t->oldest = c->newer;
	if (c->newer)
		c->newer->older = c->older;
	else
		t->newest = c->older;
	c->older = c->newer = NULL;
}

static void list_push_newest(struct conn_table *t, struct conn *c)
{
	c->older = t->newest;
	c->newer = NULL;
	if (t->newest)
		t->newest->newer = c;
	else
		t->oldest = c;
	t->newest = c;
}

static void grow(struct conn_table *t)
{
	size_t n = t->nbuckets * 2;
	struct conn **nb = calloc(n, sizeof(*nb));

	if (!nb)
		return; /* longer chains, still correct */
	for (size_t i = 0; i < t->nbuckets; i++) {
		struct conn *c = t->buckets[i], *next;

		for (; c; c = next) {
			next = c->hnext;
			size_t b = hash_key(&c->key) & (n - 1);
			c->hnext = nb[b];
			nb[b] = c;
		}
	}
	free(t->buckets);
	t->buckets = nb;
	t->nbuckets = n;
}

struct conn *conn_table_lookup(struct conn_table *t, const struct conn_key *k)
{
	struct conn *c = t->buckets[hash_key(k) & (t->nbuckets - 1)];

	while (c && !key_eq(&c->key, k))
		c = c->hnext;
	return c;
}

/* Least recently active connections looked at to choose the one evicted. */
#define EVICT_WINDOW 32

/* The connection a full table gives up: among the EVICT_WINDOW least recently
 * active, the oldest of the process holding most of them. Plain LRU would let
 * one process that opens connections faster than others (or drops them
 * without close(), so they linger) push out every other process's idle ones;
 * this way it mostly evicts its own. */
static struct conn *eviction_victim(struct conn_table *t)
{
	struct conn *window[EVICT_WINDOW], *c = t->oldest;
	size_t n = 0, best = 0, best_count = 0;

	for (; c && n < EVICT_WINDOW; c = c->newer)
		window[n++] = c;
	for (size_t i = 0; i < n; i++) {
		size_t count = 0;

		for (size_t j = i; j < n; j++)
			count += window[j]->key.tgid == window[i]->key.tgid;
		if (count > best_count) {
			best = i;
			best_count = count;
		}
	}
	return window[best];
}

struct conn *conn_table_upsert(struct conn_table *t, const struct ss_event *ev, bool *created)
{
	struct conn_key k = { .tgid = ev->tgid, .sock_ino = ev->sock_ino };
	struct conn *c = conn_table_lookup(t, &k);
	size_t b;

	*created = false;
	if (c) {
		c->last_ns = ev->ts_ns;
		if (ev->fd >= 0)
			c->fd = ev->fd;
		if (c->role == SS_ROLE_UNKNOWN)
			c->role = ev->role;
		list_unlink(t, c);
		list_push_newest(t, c);
		return c;
	}
	if (t->count >= t->max && t->oldest) {
		t->stats->conns_evicted++;
		conn_table_remove(t, eviction_victim(t));
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->key = k;
	c->fd = ev->fd;
	c->last_ns = ev->ts_ns;
	c->cgroup_id = ev->cgroup_id;
	c->role = ev->role;
	c->family = ev->family;
	c->lport = ev->lport;
	c->rport = ev->rport;
	memcpy(c->laddr, ev->laddr, sizeof(c->laddr));
	memcpy(c->raddr, ev->raddr, sizeof(c->raddr));
	memcpy(c->comm, ev->comm, SS_COMM_LEN);
	c->comm[SS_COMM_LEN] = '\0';
	if (t->count >= t->nbuckets)
		grow(t);
	b = hash_key(&k) & (t->nbuckets - 1);
	c->hnext = t->buckets[b];
	t->buckets[b] = c;
	list_push_newest(t, c);
	t->count++;
	t->stats->conns_opened++;
	*created = true;
	return c;
}

void conn_table_remove(struct conn_table *t, struct conn *c)
{
	struct conn **pp = &t->buckets[hash_key(&c->key) & (t->nbuckets - 1)];

	while (*pp && *pp != c)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = c->hnext;
	list_unlink(t, c);
	t->count--;
	if (t->release)
		t->release(c, t->ctx);
	stream_free(&c->streams[0]);
	stream_free(&c->streams[1]);
	free(c);
}

size_t conn_table_expire(struct conn_table *t, uint64_t now_ns, uint64_t idle_ns)
{
	size_t n = 0;

	while (t->oldest && t->oldest->last_ns + idle_ns < now_ns) {
		conn_table_remove(t, t->oldest);
		n++;
	}
	t->stats->conns_expired += n;
	return n;
}

struct conn *conn_table_oldest(struct conn_table *t)
{
	return t->oldest;
}

size_t conn_table_count(const struct conn_table *t)
{
	return t->count;
}

void conn_table_free(struct conn_table *t)
{
	if (!t)
		return;
	while (t->oldest)
		conn_table_remove(t, t->oldest);
	free(t->buckets);
	free(t);
}
