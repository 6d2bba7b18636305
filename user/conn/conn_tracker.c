#include "conn/conn_tracker.h"

#include <stdlib.h>

#include "conn/conn_table.h"

/* A gap whose size is unknown (bytes seen twice or out of order). */
#define GAP_UNKNOWN UINT64_MAX

struct conn_tracker {
	struct conn_table *conns;
	const struct proto_ops *const *protocols;
	const struct session_env *env;
	struct sockspan_stats *stats;
	conn_tracker_full_payload_fn full_payload;
	void *full_payload_ctx;
};

void conn_tracker_on_full_payload(struct conn_tracker *t, conn_tracker_full_payload_fn fn, void *ctx)
{
	t->full_payload = fn;
	t->full_payload_ctx = ctx;
}

static void release(struct conn *c, void *ctx)
{
	struct conn_tracker *t = ctx;

	if (c->full_payload_asked && t->full_payload)
		t->full_payload(t->full_payload_ctx, c->key.sock_ino, false);
	if (c->proto)
		c->proto->state_free(c->proto_state);
}

struct conn_tracker *conn_tracker_new(const struct conn_tracker_opts *o)
{
	struct conn_tracker *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->protocols = o->protocols;
	t->env = o->env;
	t->stats = o->stats;
	t->conns = conn_table_new(o->max_conns, release, t, o->stats);
	if (!t->conns) {
		free(t);
		return NULL;
	}
	return t;
}

void conn_tracker_free(struct conn_tracker *t)
{
	if (!t)
		return;
	conn_table_free(t->conns);
	free(t);
}

/* Picks the protocol from the bytes buffered in dir. */
static void detect(struct conn_tracker *t, struct conn *c, struct stream *s)
{
	bool maybe = false;

	for (size_t i = 0; i < PROTO_COUNT; i++) {
		const struct proto_ops *p = t->protocols[i];
		enum proto_verdict v = p->detect(c, s->buf, s->len);

		if (v == PROTO_YES) {
			c->proto_state = p->state_new(c, t->env);
			if (c->proto_state)
				c->proto = p;
			c->proto_done = true;
			return;
		}
		maybe |= v == PROTO_NEED_MORE;
	}
	if (maybe)
		return;
	stream_clear(s);
	if (++c->detect_tries >= TRACKER_DETECT_TRIES) {
		c->proto_done = true;
		t->stats->proto_unknown++;
	}
}

/* The session asked for another protocol: its state gives way to a new one
 * that takes over. Without memory for it, the connection is no longer parsed. */
static void switch_protocol(struct conn_tracker *t, struct conn *c, struct proto_switch *sw)
{
	const struct proto_ops *to = t->protocols[sw->to];
	void *st = to->take_over ? to->state_new(c, t->env) : NULL;

	if (st)
		to->take_over(st, c, sw);
	c->proto->state_free(c->proto_state);
	c->proto = st ? to : NULL;
	c->proto_state = st;
}

/* n bytes went by in dir without being captured: tell the parser. */
static void skip(struct conn *c, enum ss_dir dir, uint64_t n, uint64_t now_ns)
{
	struct stream *s = &c->streams[dir];

	if (!c->proto) {
		stream_clear(s);
		return;
	}
	if (c->proto->gap(c->proto_state, c, dir, n, now_ns) < 0)
		stream_clear(s);
}

/* By the protocol known when the event arrives: a connection's first bytes
 * count as PROTO_NONE until they are recognised. */
static void count_event(struct sockspan_stats *stats, const struct conn *c, enum ss_dir dir, uint32_t len)
{
	unsigned p = c->proto ? c->proto->id : PROTO_NONE;

	stats->bytes += len;
	stats->proto_events[p][dir]++;
	stats->proto_bytes[p][dir] += len;
}

static void parse(struct conn_tracker *t, struct conn *c, enum ss_dir dir, uint64_t now_ns)
{
	struct stream *s = &c->streams[dir];
	struct proto_switch sw;

	if (!c->proto_done)
		detect(t, c, s);
	if (!c->proto) {
		if (c->proto_done)
			stream_clear(s);
		return;
	}
	stream_consume(s, c->proto->data(c->proto_state, c, dir, s, now_ns));
	if (c->proto->switch_to && c->proto->switch_to(c->proto_state, &sw)) {
		switch_protocol(t, c, &sw);
		if (!c->proto) {
			stream_clear(&c->streams[0]);
			stream_clear(&c->streams[1]);
			return;
		}
		/* What followed the switch in the same bytes is the new protocol's. */
		s = &c->streams[sw.dir];
		stream_consume(s, c->proto->data(c->proto_state, c, sw.dir, s, now_ns));
	}
	/* After detection, or a switch (HTTP/1.1 Upgrade: h2c). */
	if (c->proto && c->proto->full_payload && !c->full_payload_asked && t->full_payload) {
		t->full_payload(t->full_payload_ctx, c->key.sock_ino, true);
		c->full_payload_asked = true;
	}
}

void conn_tracker_event(struct conn_tracker *t, const struct ss_event *ev, const uint8_t *payload)
{
	enum ss_dir dir = ev->dir ? SS_DIR_INGRESS : SS_DIR_EGRESS;
	struct conn *c;
	bool created;
	uint64_t missing;

	t->stats->events++;
	if (ev->type == SS_EV_CLOSE) {
		struct conn_key k = { .tgid = ev->tgid, .sock_ino = ev->sock_ino };

		c = conn_table_lookup(t->conns, &k);
		if (c) {
			if (c->proto)
				c->proto->close(c->proto_state, c, ev->ts_ns);
			conn_table_remove(t->conns, c);
		}
		return;
	}
	c = conn_table_upsert(t->conns, ev, &created);
	if (!c)
		return;
	/* A role from connect/accept means the connection was seen from its
	 * start: which end spoke first tells client-first protocols apart. */
	if (created)
		c->server_first = (c->role == SS_ROLE_SERVER && dir == SS_DIR_EGRESS) ||
				  (c->role == SS_ROLE_CLIENT && dir == SS_DIR_INGRESS);
	count_event(t->stats, c, dir, ev->len);
	if (c->proto_done && !c->proto)
		return; /* not a protocol we parse */

	switch (stream_advance(&c->streams[dir], ev->seq, ev->len, &missing)) {
	case STREAM_IN_ORDER:
		break;
	case STREAM_GAP: /* events lost between this one and the last */
		t->stats->stream_gaps += missing;
		skip(c, dir, missing, ev->ts_ns);
		break;
	case STREAM_REWIND:
		skip(c, dir, GAP_UNKNOWN, ev->ts_ns);
		break;
	}
	if (ev->type == SS_EV_GAP) {
		skip(c, dir, ev->len, ev->ts_ns);
		return;
	}
	if (stream_append(&c->streams[dir], payload, ev->cap_len, ev->ts_ns, ev->seq, ev->tid) < 0) {
		t->stats->stream_overflows++;
		skip(c, dir, GAP_UNKNOWN, ev->ts_ns);
	} else {
		parse(t, c, dir, ev->ts_ns);
	}
	/* A payload cut at the capture limit: the rest is a gap of known length. */
	if (ev->len > ev->cap_len)
		skip(c, dir, ev->len - ev->cap_len, ev->ts_ns);
	/* The parser saw the payload where it is: what it left is copied now. */
	if (stream_keep(&c->streams[dir]) < 0) {
		t->stats->stream_overflows++;
		skip(c, dir, GAP_UNKNOWN, ev->ts_ns);
	}
}

size_t conn_tracker_expire(struct conn_tracker *t, uint64_t now_ns, uint64_t idle_ns)
{
	return conn_table_expire(t->conns, now_ns, idle_ns);
}

void conn_tracker_trim(struct conn_tracker *t, uint64_t now_ns, uint64_t idle_ns)
{
	for (struct conn *c = conn_table_oldest(t->conns); c && c->last_ns + idle_ns < now_ns; c = c->newer) {
		stream_trim(&c->streams[0]);
		stream_trim(&c->streams[1]);
		if (c->proto && c->proto->trim)
			c->proto->trim(c->proto_state);
	}
}

size_t conn_tracker_count(const struct conn_tracker *t)
{
	return conn_table_count(t->conns);
}

static size_t footprint(const struct conn *c)
{
	size_t n = sizeof(*c) + stream_footprint(&c->streams[0]) + stream_footprint(&c->streams[1]);

	if (c->proto && c->proto_state && c->proto->footprint)
		n += c->proto->footprint(c->proto_state);
	return n;
}

struct shed_candidate {
	size_t bytes;
	uint32_t tgid;
	struct conn *c;
};

/* By process, then costliest first. */
static int shed_order(const void *a, const void *b)
{
	const struct shed_candidate *x = a, *y = b;

	if (x->tgid != y->tgid)
		return x->tgid < y->tgid ? -1 : 1;
	return x->bytes < y->bytes ? 1 : x->bytes > y->bytes ? -1 : 0;
}

/* One process's candidates, v[next..end), still holding total bytes. */
struct shed_group {
	size_t total, next, end;
};

/* Max-heap of groups by total, sifted down from i. */
static void sift_down(struct shed_group *h, size_t n, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		struct shed_group tmp;

		if (l < n && h[l].total > h[m].total)
			m = l;
		if (r < n && h[r].total > h[m].total)
			m = r;
		if (m == i)
			return;
		tmp = h[i];
		h[i] = h[m];
		h[m] = tmp;
		i = m;
	}
}

/* The process holding the most memory gives up its costliest connection, as
 * many times as needed: memory is taken back from whoever holds it (a
 * tracee with never-ending heads, or one with tens of thousands of small
 * connections), while every other process keeps its connections, however
 * large one of them is. */
size_t conn_tracker_shed(struct conn_tracker *t, size_t bytes)
{
	size_t n = conn_table_count(t->conns), k = 0, ng = 0, freed = 0;
	struct shed_candidate *v = n ? malloc(n * sizeof(*v)) : NULL;
	struct shed_group *g = n ? malloc(n * sizeof(*g)) : NULL;

	if (!v || !g) {
		free(v);
		free(g);
		return 0;
	}
	for (struct conn *c = conn_table_oldest(t->conns); c && k < n; c = c->newer)
		v[k++] = (struct shed_candidate){ footprint(c), c->key.tgid, c };
	qsort(v, k, sizeof(*v), shed_order);
	for (size_t i = 0; i < k; i++) {
		if (i == 0 || v[i].tgid != v[i - 1].tgid)
			g[ng++] = (struct shed_group){ 0, i, i };
		g[ng - 1].total += v[i].bytes;
		g[ng - 1].end = i + 1;
	}
	for (size_t i = ng; i-- > 0;)
		sift_down(g, ng, i);
	while (ng > 0 && freed < bytes) {
		struct shed_candidate *s = &v[g[0].next++];

		freed += s->bytes;
		g[0].total -= s->bytes;
		conn_table_remove(t->conns, s->c);
		t->stats->conns_shed++;
		if (g[0].next == g[0].end)
			g[0] = g[--ng];
		sift_down(g, ng, 0);
	}
	free(v);
	free(g);
	return freed;
}

unsigned conn_tracker_proto(const struct conn_tracker *t, uint32_t tgid, uint64_t sock_ino)
{
	const struct conn *c = conn_table_lookup(t->conns, &(struct conn_key){ .tgid = tgid, .sock_ino = sock_ino });

	if (!c || !c->proto_done)
		return CONN_PROTO_UNDETECTED;
	return c->proto ? c->proto->id : PROTO_NONE;
}
