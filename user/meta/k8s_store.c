#include "meta/k8s_store.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Keys: a uid (36), a container id (64), "<namespace>/<name>" of a Service
 * (127) or an address (family and 16 bytes). */
#define KEY_MAX 128

/* One key -> record entry of an index; chained. */
struct entry {
	struct entry *next;
	void *rec;
	uint8_t len;
	char key[KEY_MAX];
};

struct index {
	struct entry **b;
	size_t mask;
};

struct k8s_set {
	struct k8s_store *st; /* counts what does not fit */
	enum k8s_kind kind;
	size_t n, cap;
	struct index by_key, by_cid, by_ip;
};

struct k8s_store {
	pthread_mutex_t mu;
	struct k8s_set *sets[2]; /* by enum k8s_kind */
	size_t caps[2];
	_Atomic uint64_t gen;
	_Atomic uint64_t dropped_full;
};

static uint64_t hash(const void *k, size_t n)
{
	const uint8_t *p = k;
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

static int index_init(struct index *x, size_t cap)
{
	size_t n = 64;

	while (n < cap)
		n <<= 1;
	x->b = calloc(n, sizeof(x->b[0]));
	x->mask = n - 1;
	return x->b ? 0 : -1;
}

static void index_free(struct index *x)
{
	for (size_t i = 0; x->b && i <= x->mask; i++)
		for (struct entry *e = x->b[i], *next; e; e = next) {
			next = e->next;
			free(e);
		}
	free(x->b);
	x->b = NULL;
}

/* At the head of its chain: the newest record wins a shared key (an
 * address reused before the old pod's deletion was seen). */
static int index_put(struct index *x, const void *key, size_t len, void *rec)
{
	struct entry *e = malloc(sizeof(*e));
	size_t i = hash(key, len) & x->mask;

	if (!e)
		return -1;
	e->rec = rec;
	e->len = (uint8_t)len;
	memcpy(e->key, key, len);
	e->next = x->b[i];
	x->b[i] = e;
	return 0;
}

static void *index_get(const struct index *x, const void *key, size_t len)
{
	for (struct entry *e = x->b[hash(key, len) & x->mask]; e; e = e->next)
		if (e->len == len && memcmp(e->key, key, len) == 0)
			return e->rec;
	return NULL;
}

/* Removes key's entry for rec only: another record may hold the same key. */
static void index_del(struct index *x, const void *key, size_t len, const void *rec)
{
	for (struct entry **pe = &x->b[hash(key, len) & x->mask]; *pe; pe = &(*pe)->next) {
		struct entry *e = *pe;

		if (e->rec == rec && e->len == len && memcmp(e->key, key, len) == 0) {
			*pe = e->next;
			free(e);
			return;
		}
	}
}

/* index_put (put) or index_del: one walk over a record's keys does both. */
static int index_op(struct index *x, const void *key, size_t len, void *rec, bool put)
{
	if (put)
		return index_put(x, key, len, rec);
	index_del(x, key, len, rec);
	return 0;
}

static size_t ip_key(const struct k8s_ip *ip, uint8_t key[17])
{
	key[0] = ip->family;
	memcpy(key + 1, ip->addr, 16);
	return 17;
}

static size_t service_key(const char *ns, const char *name, char key[KEY_MAX])
{
	return (size_t)snprintf(key, KEY_MAX, "%s/%s", ns, name);
}

/* A pod's address names it while it may still hold it. */
static bool pod_owns_ips(const struct k8s_pod *p)
{
	return !p->host_network && p->phase != K8S_PHASE_SUCCEEDED && p->phase != K8S_PHASE_FAILED;
}

/* Every index entry of rec, added (put) or removed. */
static int index_rec(struct k8s_set *s, void *rec, bool put)
{
	char key[KEY_MAX];
	uint8_t ipk[17];
	const struct k8s_ip *ips;
	unsigned nips;
	int r = 0;

	if (s->kind == K8S_PODS) {
		struct k8s_pod *p = rec;

		r |= index_op(&s->by_key, p->uid, strlen(p->uid), rec, put);
		for (unsigned i = 0; i < p->ncontainers; i++)
			if (p->containers[i].id[0])
				r |= index_op(&s->by_cid, p->containers[i].id, strlen(p->containers[i].id), rec, put);
		ips = p->ips;
		nips = pod_owns_ips(p) ? p->nips : 0;
	} else {
		struct k8s_service *svc = rec;

		r |= index_op(&s->by_key, key, service_key(svc->ns, svc->name, key), rec, put);
		ips = svc->ips;
		nips = svc->nips;
	}
	for (unsigned i = 0; i < nips; i++)
		r |= index_op(&s->by_ip, ipk, ip_key(&ips[i], ipk), rec, put);
	return r;
}

static void set_remove(struct k8s_set *s, void *rec)
{
	if (!rec)
		return;
	index_rec(s, rec, false);
	free(rec);
	s->n--;
}

/* rec: a copy of size bytes of the object whose primary key is key[0..len). */
static int set_put(struct k8s_set *s, const void *obj, size_t size, const char *key, size_t len)
{
	void *old = index_get(&s->by_key, key, len), *rec;

	if (!old && s->n == s->cap) {
		atomic_fetch_add(&s->st->dropped_full, 1);
		return -1;
	}
	rec = malloc(size);
	if (!rec) {
		atomic_fetch_add(&s->st->dropped_full, 1);
		return -1;
	}
	set_remove(s, old);
	memcpy(rec, obj, size);
	s->n++;
	if (index_rec(s, rec, true)) {
		set_remove(s, rec);
		atomic_fetch_add(&s->st->dropped_full, 1);
		return -1;
	}
	return 0;
}

struct k8s_set *k8s_set_new(struct k8s_store *st, enum k8s_kind kind)
{
	struct k8s_set *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->st = st;
	s->kind = kind;
	s->cap = st->caps[kind];
	if (index_init(&s->by_key, s->cap) || index_init(&s->by_cid, kind == K8S_PODS ? s->cap : 1) ||
	    index_init(&s->by_ip, s->cap)) {
		k8s_set_free(s);
		return NULL;
	}
	return s;
}

void k8s_set_free(struct k8s_set *s)
{
	if (!s)
		return;
	/* Every record has its by_key entry: free them from there. */
	for (size_t i = 0; s->by_key.b && i <= s->by_key.mask; i++)
		for (struct entry *e = s->by_key.b[i]; e; e = e->next)
			free(e->rec);
	index_free(&s->by_key);
	index_free(&s->by_cid);
	index_free(&s->by_ip);
	free(s);
}

int k8s_set_put_pod(struct k8s_set *s, const struct k8s_pod *p)
{
	return set_put(s, p, sizeof(*p), p->uid, strlen(p->uid));
}

int k8s_set_put_service(struct k8s_set *s, const struct k8s_service *svc)
{
	char key[KEY_MAX];

	return set_put(s, svc, sizeof(*svc), key, service_key(svc->ns, svc->name, key));
}

struct k8s_store *k8s_store_new(size_t max_pods, size_t max_services)
{
	struct k8s_store *st = calloc(1, sizeof(*st));

	if (!st)
		return NULL;
	pthread_mutex_init(&st->mu, NULL);
	st->caps[K8S_PODS] = max_pods;
	st->caps[K8S_SERVICES] = max_services;
	st->sets[K8S_PODS] = k8s_set_new(st, K8S_PODS);
	st->sets[K8S_SERVICES] = k8s_set_new(st, K8S_SERVICES);
	if (!st->sets[K8S_PODS] || !st->sets[K8S_SERVICES]) {
		k8s_store_free(st);
		return NULL;
	}
	return st;
}

void k8s_store_free(struct k8s_store *st)
{
	if (!st)
		return;
	k8s_set_free(st->sets[K8S_PODS]);
	k8s_set_free(st->sets[K8S_SERVICES]);
	pthread_mutex_destroy(&st->mu);
	free(st);
}

void k8s_store_replace(struct k8s_store *st, struct k8s_set *s)
{
	struct k8s_set *old;

	pthread_mutex_lock(&st->mu);
	old = st->sets[s->kind];
	st->sets[s->kind] = s;
	atomic_fetch_add(&st->gen, 1);
	pthread_mutex_unlock(&st->mu);
	k8s_set_free(old);
}

int k8s_store_put_pod(struct k8s_store *st, const struct k8s_pod *p)
{
	int r;

	pthread_mutex_lock(&st->mu);
	r = k8s_set_put_pod(st->sets[K8S_PODS], p);
	atomic_fetch_add(&st->gen, 1);
	pthread_mutex_unlock(&st->mu);
	return r;
}

int k8s_store_put_service(struct k8s_store *st, const struct k8s_service *svc)
{
	int r;

	pthread_mutex_lock(&st->mu);
	r = k8s_set_put_service(st->sets[K8S_SERVICES], svc);
	atomic_fetch_add(&st->gen, 1);
	pthread_mutex_unlock(&st->mu);
	return r;
}

static void delete_key(struct k8s_store *st, enum k8s_kind kind, const char *key, size_t len)
{
	struct k8s_set *s;

	pthread_mutex_lock(&st->mu);
	s = st->sets[kind];
	set_remove(s, index_get(&s->by_key, key, len));
	atomic_fetch_add(&st->gen, 1);
	pthread_mutex_unlock(&st->mu);
}

void k8s_store_delete_pod(struct k8s_store *st, const char *uid)
{
	delete_key(st, K8S_PODS, uid, strnlen(uid, KEY_MAX));
}

void k8s_store_delete_service(struct k8s_store *st, const char *ns, const char *name)
{
	char key[KEY_MAX];

	delete_key(st, K8S_SERVICES, key, service_key(ns, name, key));
}

/* The pod with that uid or (by_cid) container id, copied. */
static bool pod_lookup(struct k8s_store *st, bool by_cid, const char *key, struct k8s_pod *out)
{
	const struct k8s_pod *p;

	pthread_mutex_lock(&st->mu);
	p = index_get(by_cid ? &st->sets[K8S_PODS]->by_cid : &st->sets[K8S_PODS]->by_key, key, strlen(key));
	if (p)
		*out = *p;
	pthread_mutex_unlock(&st->mu);
	return p != NULL;
}

bool k8s_store_pod(struct k8s_store *st, const char *uid, struct k8s_pod *out)
{
	return pod_lookup(st, false, uid, out);
}

bool k8s_store_pod_by_container(struct k8s_store *st, const char *cid, struct k8s_pod *out)
{
	return pod_lookup(st, true, cid, out);
}

enum k8s_peer k8s_store_by_ip(struct k8s_store *st, uint8_t family, const uint8_t addr[16], struct k8s_pod *pod,
			      struct k8s_service *svc)
{
	struct k8s_ip ip;
	uint8_t key[17];
	const void *rec;
	enum k8s_peer r = K8S_PEER_NONE;

	if (!k8s_ip_of(family, addr, &ip))
		return r;
	ip_key(&ip, key);
	pthread_mutex_lock(&st->mu);
	if ((rec = index_get(&st->sets[K8S_PODS]->by_ip, key, sizeof(key)))) {
		*pod = *(const struct k8s_pod *)rec;
		r = K8S_PEER_POD;
	} else if ((rec = index_get(&st->sets[K8S_SERVICES]->by_ip, key, sizeof(key)))) {
		*svc = *(const struct k8s_service *)rec;
		r = K8S_PEER_SERVICE;
	}
	pthread_mutex_unlock(&st->mu);
	return r;
}

void k8s_store_each_pod(struct k8s_store *st, void (*fn)(const struct k8s_pod *p, void *ctx), void *ctx)
{
	const struct index *x;

	pthread_mutex_lock(&st->mu);
	x = &st->sets[K8S_PODS]->by_key;
	for (size_t i = 0; i <= x->mask; i++)
		for (const struct entry *e = x->b[i]; e; e = e->next)
			fn(e->rec, ctx);
	pthread_mutex_unlock(&st->mu);
}

uint64_t k8s_store_generation(const struct k8s_store *st)
{
	return atomic_load(&st->gen);
}

void k8s_store_stats(struct k8s_store *st, struct k8s_store_stats *out)
{
	pthread_mutex_lock(&st->mu);
	out->pods = st->sets[K8S_PODS]->n;
	out->services = st->sets[K8S_SERVICES]->n;
	pthread_mutex_unlock(&st->mu);
	out->dropped_full = atomic_load(&st->dropped_full);
}
