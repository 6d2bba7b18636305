#include "trace/held.h"

#include <stdlib.h>
#include <string.h>

struct arena {
	char *p;
	size_t left;
};

/* Copies len bytes of s (cut to what is left) and points *dst at the copy. */
static void keep(struct arena *a, const char **dst, size_t *len, const char *s)
{
	size_t n = *len < a->left ? *len : a->left;

	if (!s) {
		*dst = NULL;
		return;
	}
	memcpy(a->p, s, n);
	*dst = a->p;
	*len = n;
	a->p += n;
	a->left -= n;
}

/* Bytes of x's strings that held_new keeps. */
static size_t strings_len(const struct exchange_end *x)
{
	size_t n = 0;

	switch (x->type) {
	case EXCHANGE_HTTP:
		n = x->u.http.method_len + x->u.http.target_len;
		break;
	case EXCHANGE_GRPC:
		n = x->u.grpc.path_len + x->u.grpc.message_len;
		break;
	case EXCHANGE_REDIS:
		n = x->u.redis.name_len + x->u.redis.error_len;
		break;
	}
	return n < HELD_STRINGS_MAX ? n : HELD_STRINGS_MAX;
}

struct held *held_new(const struct conn *c, const struct exchange_end *x)
{
	/* Sized to its strings and not zeroed but for the connection: a span
	 * is held by the thousand per second, for up to a join wait. */
	size_t n = strings_len(x);
	struct held *h = malloc(sizeof(*h) + n);
	struct arena a = { h ? h->strings : NULL, n };

	if (!h)
		return NULL;
	memset(&h->conn, 0, sizeof(h->conn));
	h->conn.key = c->key;
	h->conn.fd = c->fd;
	h->conn.cgroup_id = c->cgroup_id;
	h->conn.role = c->role;
	h->conn.family = c->family;
	h->conn.lport = c->lport;
	h->conn.rport = c->rport;
	memcpy(h->conn.laddr, c->laddr, sizeof(h->conn.laddr));
	memcpy(h->conn.raddr, c->raddr, sizeof(h->conn.raddr));
	memcpy(h->conn.comm, c->comm, sizeof(h->conn.comm));
	h->end = *x;
	switch (x->type) {
	case EXCHANGE_HTTP:
		keep(&a, &h->end.u.http.method, &h->end.u.http.method_len, x->u.http.method);
		keep(&a, &h->end.u.http.target, &h->end.u.http.target_len, x->u.http.target);
		break;
	case EXCHANGE_GRPC:
		keep(&a, &h->end.u.grpc.path, &h->end.u.grpc.path_len, x->u.grpc.path);
		keep(&a, &h->end.u.grpc.message, &h->end.u.grpc.message_len, x->u.grpc.message);
		if (x->u.grpc.request)
			h->msgs[0] = *x->u.grpc.request;
		if (x->u.grpc.response)
			h->msgs[1] = *x->u.grpc.response;
		h->end.u.grpc.request = x->u.grpc.request ? &h->msgs[0] : NULL;
		h->end.u.grpc.response = x->u.grpc.response ? &h->msgs[1] : NULL;
		break;
	case EXCHANGE_REDIS:
		keep(&a, &h->end.u.redis.name, &h->end.u.redis.name_len, x->u.redis.name);
		keep(&a, &h->end.u.redis.error, &h->end.u.redis.error_len, x->u.redis.error);
		break;
	}
	return h;
}
