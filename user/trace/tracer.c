/* Correlation. Ids and parents are decided when an exchange starts, from
 * what each end sees alone: the request's trace context, the TCP sequence
 * number of its first byte, the bytes naming it (trace/ids.h).
 *
 * SERVER  span id: the hop id, hop(context, sequence number, request), the
 *         same at the CLIENT end. With a trace context: its trace, and the
 *         span id on the wire as parent (a B3 library's client span, or,
 *         when the caller copies headers, the caller's own caller: a span
 *         above it either way). With only an x-request-id: a trace derived
 *         from it. Without either: when this tracer saw the CLIENT end of
 *         the same request (same hop id, its source port the server's peer
 *         port), that CLIENT's trace and parent, marked shared; else a new
 *         trace, which a CLIENT seen later can still join while nothing of
 *         it was emitted (the two ends' events come in either order).
 * CLIENT  attributed to the one SERVER exchange in flight in its process
 *         that caused it: the one whose incoming span id the outgoing
 *         request carries, else the one of the same trace (ids are random:
 *         only a request of that trace can have passed it on; an
 *         x-request-id names a trace too), else the one being served by the
 *         thread that wrote it. Attributed, it is that SERVER's child, in its
 *         trace unless its own headers say another. Never a guess: with
 *         several candidates it is not attributed, counted, and takes its
 *         own headers' trace or starts one. Span id: the span id it sends
 *         when the process minted it (a library made a child: the SERVER
 *         end, whose parent is that id, then hangs under it, and so do the
 *         library's spans); the hop id when it copied an incoming one (both
 *         ends then share the hop id, which Zipkin pairs as one RPC).
 *
 * Traces are cells shared by an exchange and the children it caused, so a
 * late join moves them all; a cell is forwarded to the one it joined. The
 * spans of a trace that may still be joined wait (held, in order of their
 * deadlines) until it is, or until join_wait_ns has passed. */
#include "trace/tracer.h"

#include <stdlib.h>
#include <string.h>

#include "trace/held.h"
#include "trace/ids.h"
#include "trace/inflight.h"
#include "trace/peers.h"
#include "trace/random.h"

/* Candidate parents looked at for one CLIENT: more means a hostile or
 * extraordinary process, whose CLIENT spans are then not attributed. */
#define ATTRIBUTION_MAX_CANDIDATES 64

/* A trace, shared by the exchanges in it. */
struct tcell {
	struct tcell *fwd;      /* joined another trace: fwd holds its values */
	uint32_t refs;
	uint8_t trace_id[16];
	uint8_t trace_id_len;
	bool sampled, debug;
	bool emitted;           /* a span of it went out: it can no longer join another */
	uint64_t wait_until;    /* a CLIENT may still join it: its spans wait until then; 0: no */
	uint32_t held_head;     /* slot + 1 of the first exchange waiting (in end order); 0: none */
	uint32_t held_tail;     /* slot + 1 of the last */
	bool queued;            /* in the tracer's waiting list */
	struct tcell *wait_next;
};

struct tracer {
	struct tracer_opts o;
	struct sockspan_stats *stats;
	struct exchange_sink xsink;
	struct inflight inflight;
	struct peers peers;
	traced_fn traced;
	void *traced_ctx;
	struct tcell *wait_head, *wait_tail; /* traces with spans waiting, by deadline (each holds a ref) */
};

static void release_held(struct tracer *t, struct tcell *cell);
static void stop_waiting(struct tracer *t);
static void stop_waits(struct tracer *t, uint64_t now_ns, bool learn);

/* ---- trace cells ---- */

static struct tcell *cell_new(const uint8_t *trace_id, uint8_t len, bool sampled, bool debug)
{
	struct tcell *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->refs = 1;
	if (trace_id) {
		memcpy(c->trace_id, trace_id, len);
		c->trace_id_len = len;
	} else {
		random_trace_id(c->trace_id);
		c->trace_id_len = 16;
	}
	c->sampled = sampled || debug;
	c->debug = debug;
	return c;
}

static struct tcell *cell_ref(struct tcell *c)
{
	c->refs++;
	return c;
}

static void cell_unref(struct tcell *c)
{
	while (c && --c->refs == 0) {
		struct tcell *fwd = c->fwd;

		free(c);
		c = fwd;
	}
}

static struct tcell *cell_resolve(struct tcell *c)
{
	while (c->fwd)
		c = c->fwd;
	return c;
}

static bool cell_is(struct tcell *c, const uint8_t *trace_id, uint8_t len)
{
	c = cell_resolve(c);
	return c->trace_id_len == len && memcmp(c->trace_id, trace_id, len) == 0;
}

/* The trace a request's context names: its ids, or its x-request-id's. */
static bool context_trace(const struct trace_context *ctx, uint8_t trace_id[16], uint8_t *len)
{
	if (ctx->trace_id_len) {
		memcpy(trace_id, ctx->trace_id, ctx->trace_id_len);
		*len = ctx->trace_id_len;
		return true;
	}
	if (ctx->request_id.len) {
		ids_trace_from_request_id(ctx->request_id.p, ctx->request_id.len, trace_id);
		*len = 16;
		return true;
	}
	return false;
}

/* Where a process's SERVER exchanges of one trace are indexed. */
static uint64_t trace_key(uint32_t tgid, const uint8_t *trace, uint8_t len)
{
	return inflight_key(tgid, XI_TRACE, ids_get64(trace) ^ (len == 16 ? ids_get64(trace + 8) : 0));
}

static bool context_sampled(const struct trace_context *ctx)
{
	return ctx->sampled != TC_SAMPLED_DENY || ctx->debug;
}

/* ---- SERVER ---- */

/* The CLIENT end of the same request, seen by this tracer (no trace context
 * at either end): same hop id, and its source port is the server's peer port. */
static struct xrec *client_end(struct tracer *t, const struct xrec *r)
{
	for (struct xrec *c = inflight_first(&t->inflight, XI_HOP, r->id); c;
	     c = inflight_next(&t->inflight, c, XI_HOP))
		if (c->role == EXCHANGE_CLIENT && c->lport == r->rport)
			return c;
	return NULL;
}

static void server_start(struct tracer *t, struct xrec *r, const struct conn *c, const struct trace_context *ctx)
{
	uint8_t trace[16], len = 0;
	struct xrec *peer;

	if (context_trace(ctx, trace, &len)) {
		r->cell = cell_new(trace, len, context_sampled(ctx), ctx->debug);
		inflight_link(&t->inflight, r, XI_TRACE, trace_key(r->tgid, trace, len));
		if (ctx->trace_id_len) {
			r->parent = ids_get64(ctx->span_id);
			inflight_link(&t->inflight, r, XI_SPAN, inflight_key(r->tgid, XI_SPAN, r->parent));
		}
	} else if ((peer = client_end(t, r))) {
		r->cell = cell_ref(peer->cell);
		r->parent = peer->parent;
		r->shared = true;
		t->stats->trace_joins++;
		peers_joined(&t->peers, peers_key(r->tgid, c->family, c->raddr), r->start_ns);
	} else {
		uint64_t until;

		r->cell = cell_new(NULL, 0, context_sampled(ctx), ctx->debug);
		r->peer = peers_key(r->tgid, c->family, c->raddr);
		until = peers_wait_until(&t->peers, r->peer, r->start_ns, t->o.join_wait_ns);
		r->waiting = until != 0;
		if (r->waiting) {
			inflight_link(&t->inflight, r, XI_HOP, r->id);
			/* Not sampled, it makes no span whatever joins it: nothing waits. */
			if (r->cell && t->o.join_wait_ns && context_sampled(ctx))
				r->cell->wait_until = until;
		} else {
			t->stats->join_waits_skipped++;
		}
	}
	inflight_link(&t->inflight, r, XI_PROC, inflight_key(r->tgid, XI_PROC, 0));
	inflight_link(&t->inflight, r, XI_THREAD, inflight_key(r->tgid, XI_THREAD, r->tid));
	r->local_family = c->family;
	memcpy(r->local_addr, c->laddr, sizeof(r->local_addr));
	r->local_port = c->lport;
}

/* ---- CLIENT ---- */

struct candidates {
	struct xrec *one;       /* the candidate, when there is exactly one */
	unsigned n;             /* how many (ATTRIBUTION_MAX_CANDIDATES + 1: too many) */
	struct xrec *on_thread; /* the one on the CLIENT's thread, when exactly one is */
	unsigned n_thread;
};

static void consider(struct candidates *k, struct xrec *s, uint32_t tid)
{
	if (k->n > ATTRIBUTION_MAX_CANDIDATES || s == k->one)
		return;
	k->one = k->n++ ? NULL : s;
	if (s->tid == tid)
		k->on_thread = k->n_thread++ ? NULL : s;
}

/* SERVER exchanges in index x under key, in trace (trace, len) when given. */
static void gather(struct tracer *t, struct candidates *k, enum xindex x, uint64_t key, uint32_t tid,
		   const uint8_t *trace, uint8_t len)
{
	for (struct xrec *s = inflight_first(&t->inflight, x, key); s && k->n <= ATTRIBUTION_MAX_CANDIDATES;
	     s = inflight_next(&t->inflight, s, x))
		if (!trace || cell_is(s->cell, trace, len))
			consider(k, s, tid);
}

/* The request being served that caused this one, or NULL (*ambiguous when
 * one of several might have). */
static struct xrec *attribute(struct tracer *t, const struct xrec *r, const struct trace_context *ctx,
			      const uint8_t *trace, uint8_t len, bool *ambiguous)
{
	struct candidates k = { 0 };

	*ambiguous = false;
	/* The outgoing context names the incoming one: copied (same span id),
	 * or a child a library made (its parent)... */
	if (ctx->trace_id_len) {
		gather(t, &k, XI_SPAN, inflight_key(r->tgid, XI_SPAN, ids_get64(ctx->span_id)), r->tid, trace, len);
		if (ctx->has_parent)
			gather(t, &k, XI_SPAN, inflight_key(r->tgid, XI_SPAN, ids_get64(ctx->parent_id)), r->tid,
			       trace, len);
	}
	/* ...or at least its trace (a library's own spans in between; an
	 * x-request-id): trace ids are random, only a request of that trace
	 * being served can have passed it on. */
	if (trace && k.n == 0)
		gather(t, &k, XI_TRACE, trace_key(r->tgid, trace, len), r->tid, trace, len);
	if (k.n == 1)
		return k.one;
	if (k.n > 1) {
		*ambiguous = k.n_thread != 1;
		return k.n_thread == 1 ? k.on_thread : NULL;
	}
	/* No header says: the request the writing thread is serving. */
	gather(t, &k, XI_THREAD, inflight_key(r->tgid, XI_THREAD, r->tid), r->tid, trace, len);
	if (k.n == 1)
		return k.one;
	*ambiguous = k.n > 1 || inflight_first(&t->inflight, XI_PROC, inflight_key(r->tgid, XI_PROC, 0));
	return NULL;
}

/* Is the span id this CLIENT sends one its process received (a copy of an
 * incoming request's), rather than one it minted? */
static bool copied(struct tracer *t, const struct xrec *r, const struct trace_context *ctx)
{
	return inflight_first(&t->inflight, XI_SPAN, inflight_key(r->tgid, XI_SPAN, ids_get64(ctx->span_id)));
}

/* A SERVER end of this request that started first, without trace context
 * either, joins this CLIENT's trace if none of its spans went out yet. */
static void join_waiting_server(struct tracer *t, struct xrec *r)
{
	for (struct xrec *s = inflight_first(&t->inflight, XI_HOP, r->id); s;
	     s = inflight_next(&t->inflight, s, XI_HOP)) {
		struct tcell *sc = cell_resolve(s->cell), *rc = cell_resolve(r->cell);

		if (s->role != EXCHANGE_SERVER || !s->waiting || s->rport != r->lport)
			continue;
		if (!sc->emitted && sc != rc) {
			sc->fwd = cell_ref(rc);
			s->parent = r->parent;
			s->shared = true;
			t->stats->trace_joins++;
		}
		peers_joined(&t->peers, s->peer, r->start_ns);
		s->waiting = false;
		inflight_unlink(&t->inflight, s, XI_HOP);
		/* Its spans that waited go out in the joined trace. */
		sc->wait_until = 0;
		release_held(t, sc);
		return;
	}
}

static void client_start(struct tracer *t, struct xrec *r, const struct trace_context *ctx)
{
	uint8_t trace[16], len = 0;
	bool own = context_trace(ctx, trace, &len), ambiguous;
	struct xrec *p = attribute(t, r, ctx, own ? trace : NULL, len, &ambiguous);

	r->unattributed = ambiguous;
	if (ctx->trace_id_len && !copied(t, r, ctx))
		r->id = ids_get64(ctx->span_id);
	if (p) {
		r->parent = p->id;
		r->has_local = true;
		r->local_family = p->local_family;
		memcpy(r->local_addr, p->local_addr, sizeof(r->local_addr));
		r->local_port = p->local_port;
	} else if (ctx->trace_id_len) {
		/* The wire's parent: the caller's span this request belongs under. */
		r->parent = ids_get64(ctx->has_parent ? ctx->parent_id : ctx->span_id);
	}
	/* A parent's decision holds unless the request carries its own. */
	if (p && (ctx->sampled == TC_SAMPLED_DEFER ||
		  (ctx->sampled == TC_SAMPLED_ACCEPT) == cell_resolve(p->cell)->sampled))
		r->cell = cell_ref(p->cell);
	else
		r->cell = cell_new(own ? trace : NULL, own ? len : 0, context_sampled(ctx), ctx->debug);
	if (!own) {
		inflight_link(&t->inflight, r, XI_HOP, r->id);
		join_waiting_server(t, r);
	}
}

/* ---- exchanges ---- */

static exchange_id on_start(void *ctx, const struct conn *c, const struct exchange_start *x)
{
	struct tracer *t = ctx;
	struct trace_context tc;
	exchange_id id;
	struct xrec *r;

	/* Held spans are the first to give their room up: a span joined late
	 * is worth less than a span made at all (redis-benchmark -P 16 at
	 * 200k requests/s fills the table within the join wait). */
	while (!(r = inflight_add(&t->inflight, &id)) && t->wait_head) {
		t->stats->join_waits_cut += t->wait_head->held_head != 0;
		stop_waiting(t);
	}
	if (!r) {
		t->stats->exchanges_untracked++;
		return 0;
	}
	if (x->headers)
		tc_decode(x->headers, &tc, t->stats->trace_context_invalid);
	else
		memset(&tc, 0, sizeof(tc));
	r->role = x->role;
	r->proto = x->proto;
	r->tgid = c->key.tgid;
	r->tid = x->tid;
	r->lport = c->lport;
	r->rport = c->rport;
	r->start_ns = x->start_ns;
	r->id = ids_hop(x->seq, &tc, x->ident);
	/* Kept as a tag: vendors put their own position in the trace there. */
	if (tc.tracestate.len)
		r->tracestate = strndup(tc.tracestate.p, tc.tracestate.len);
	if (x->role == EXCHANGE_SERVER)
		server_start(t, r, c, &tc);
	else
		client_start(t, r, &tc);
	if (!r->cell) {
		free(r->tracestate);
		inflight_remove(&t->inflight, r);
		t->stats->exchanges_untracked++;
		return 0;
	}
	return id;
}

static void release(struct tracer *t, struct xrec *r)
{
	free(r->tracestate);
	cell_unref(r->cell);
	inflight_remove(&t->inflight, r);
}

/* The exchange's span goes out (or is not made: not sampled); r is freed. */
static void finish(struct tracer *t, struct xrec *r, const struct conn *c, const struct exchange_end *x)
{
	struct tcell *cell = cell_resolve(r->cell);
	struct traced d;

	if (!cell->sampled && !t->o.ignore_sampling) {
		t->stats->spans_not_sampled++;
		release(t, r);
		return;
	}
	d = (struct traced){
		.role = r->role, .proto = r->proto, .start_ns = r->start_ns,
		.trace_id_len = cell->trace_id_len, .id = r->id, .parent = r->parent != r->id ? r->parent : 0,
		.shared = r->shared && r->role == EXCHANGE_SERVER, .debug = cell->debug,
		.has_local = r->has_local, .local_family = r->local_family, .local_port = r->local_port,
		.local_addr = r->local_addr, .tracestate = r->tracestate,
	};
	memcpy(d.trace_id, cell->trace_id, sizeof(d.trace_id));
	cell->emitted = true;
	t->stats->spans_unattributed += r->unattributed;
	t->traced(t->traced_ctx, c, &d, x);
	release(t, r);
}

/* Sends out the spans held for cell (its trace is now known, or will never be). */
static void release_held(struct tracer *t, struct tcell *cell)
{
	while (cell->held_head) {
		struct xrec *r = &t->inflight.v[cell->held_head - 1];
		struct held *h = r->held;

		cell->held_head = r->held_next;
		r->held = NULL;
		finish(t, r, &h->conn, &h->end);
		free(h);
	}
}

/* Holds r's span while its trace may still be joined. Returns false when it
 * cannot wait (no memory): it goes out now. */
static bool hold(struct tracer *t, struct xrec *r, struct tcell *cell, const struct conn *c,
		 const struct exchange_end *x)
{
	r->held = held_new(c, x);
	if (!r->held)
		return false;
	/* Still findable by a CLIENT end, if it is the SERVER waiting for one. */
	for (int i = 0; i < XI__COUNT; i++)
		if (!(i == XI_HOP && r->waiting))
			inflight_unlink(&t->inflight, r, i);
	r->held_next = 0;
	if (cell->held_head)
		t->inflight.v[cell->held_tail - 1].held_next = (uint32_t)(r - t->inflight.v) + 1;
	else
		cell->held_head = (uint32_t)(r - t->inflight.v) + 1;
	cell->held_tail = (uint32_t)(r - t->inflight.v) + 1;
	if (!cell->queued) {
		cell->queued = true;
		cell->wait_next = NULL;
		if (t->wait_tail)
			t->wait_tail->wait_next = cell;
		else
			t->wait_head = cell;
		t->wait_tail = cell_ref(cell);
	}
	return true;
}

static void on_end(void *ctx, exchange_id id, const struct conn *c, const struct exchange_end *x)
{
	struct tracer *t = ctx;
	struct xrec *r = inflight_get(&t->inflight, id);
	struct tcell *cell;

	if (!r)
		return;
	/* Waits over by this event's time end first: spans of one client go out
	 * in order, whether they waited or not. A late CLIENT event has its
	 * writer's time, so none can still come for them. */
	stop_waits(t, x->end_ns, true);
	cell = cell_resolve(r->cell);
	if (cell->wait_until && x->end_ns < cell->wait_until && hold(t, r, cell, c, x))
		return;
	finish(t, r, c, x);
}

/* The trace that has waited longest for a CLIENT end stops waiting: its
 * held spans go out in their own trace. */
static void stop_waiting(struct tracer *t)
{
	struct tcell *cell = t->wait_head;

	t->wait_head = cell->wait_next;
	if (!t->wait_head)
		t->wait_tail = NULL;
	cell->queued = false;
	cell->wait_until = 0; /* no CLIENT came: its own trace */
	release_held(t, cell);
	cell_unref(cell);
}

/* The SERVER exchanges of cell that waited in vain: their clients' addresses
 * may stop waiting. */
static void note_unjoined(struct tracer *t, const struct tcell *cell, uint64_t now_ns)
{
	for (uint32_t s = cell->held_head; s; s = t->inflight.v[s - 1].held_next) {
		const struct xrec *r = &t->inflight.v[s - 1];

		if (r->waiting)
			peers_unjoined(&t->peers, r->peer, now_ns);
	}
}

/* Traces whose wait is over at now_ns stop waiting; learn: it really ended
 * (a flush tells nothing about the clients). */
static void stop_waits(struct tracer *t, uint64_t now_ns, bool learn)
{
	while (t->wait_head && (!t->wait_head->held_head || t->wait_head->wait_until <= now_ns)) {
		if (learn)
			note_unjoined(t, t->wait_head, now_ns);
		stop_waiting(t);
	}
}

void tracer_tick(struct tracer *t, uint64_t now_ns)
{
	stop_waits(t, now_ns, true);
}

void tracer_flush(struct tracer *t)
{
	stop_waits(t, UINT64_MAX, false);
}

static void on_drop(void *ctx, exchange_id id)
{
	struct tracer *t = ctx;
	struct xrec *r = inflight_get(&t->inflight, id);

	if (r)
		release(t, r);
}

struct tracer *tracer_new(const struct tracer_opts *o, struct sockspan_stats *stats, traced_fn fn, void *ctx)
{
	struct tracer *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->o = *o;
	t->stats = stats;
	t->traced = fn;
	t->traced_ctx = ctx;
	t->xsink = (struct exchange_sink){ .start = on_start, .end = on_end, .drop = on_drop, .ctx = t };
	if (inflight_init(&t->inflight, (uint32_t)o->max_exchanges) < 0) {
		free(t);
		return NULL;
	}
	if (peers_init(&t->peers) < 0) {
		inflight_free(&t->inflight);
		free(t);
		return NULL;
	}
	return t;
}

void tracer_free(struct tracer *t)
{
	if (!t)
		return;
	while (t->wait_head) {
		struct tcell *cell = t->wait_head;

		t->wait_head = cell->wait_next;
		cell_unref(cell);
	}
	for (uint32_t i = 0; i < t->inflight.cap; i++)
		if (t->inflight.v[i].gen & 1) {
			free(t->inflight.v[i].tracestate);
			free(t->inflight.v[i].held);
			cell_unref(t->inflight.v[i].cell);
		}
	inflight_free(&t->inflight);
	peers_free(&t->peers);
	free(t);
}

const struct exchange_sink *tracer_exchange_sink(struct tracer *t)
{
	return &t->xsink;
}

size_t tracer_in_flight(const struct tracer *t)
{
	return t->inflight.used;
}
