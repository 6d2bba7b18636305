/*
 * Synthetic capture events for the tracker tests, driving the pipeline the
 * agent runs (conn_tracker -> sessions -> tracer), and a span sink that
 * records what the tracer emits.
 *
 * A struct eb_conn stands for one traced socket: it keeps the next TCP
 * sequence number of each direction, so consecutive events are in order
 * unless a test calls eb_lose(). Every event gets its own timestamp from a
 * clock that moves 1 us per event (lost events included), so a span's start
 * and duration tell exactly which event they were taken from. Payloads are
 * copied to heap buffers of exactly cap_len bytes: under AddressSanitizer a
 * read one byte too far fails the test.
 */
#ifndef SOCKSPAN_TEST_EVENT_BUILDER_H
#define SOCKSPAN_TEST_EVENT_BUILDER_H

#include <criterion/criterion.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "capture/clock.h"
#include "conn/conn_tracker.h"
#include "session/exchange.h"
#include "session/protocols.h"
#include "sockspan_event.h"
#include "span/span.h"
#include "span/span_builder.h"
#include "stats.h"
#include "trace/tracer.h"

/* The clock step between two events: 1 us, so durations are exact in us. */
#define EB_TICK_NS 1000ull
/* Spans kept for inspection; more are counted but not stored. */
#define EB_MAX_SPANS 4096

struct eb_conn {
	struct conn_tracker *t;
	uint32_t tgid;
	int32_t fd;
	uint64_t ino;
	uint8_t role;          /* enum ss_role, sent on every event */
	uint16_t lport, rport;
	uint32_t seq[2];       /* next sequence number, by enum ss_dir */
};

/* What the tests look at in an emitted span (the span dies with the callback). */
struct eb_span {
	enum span_kind kind;
	char name[SPAN_NAME_MAX];
	char method[SPAN_TAG_VALUE_MAX];
	char path[SPAN_TAG_VALUE_MAX];
	char status[SPAN_TAG_VALUE_MAX];
	char error[SPAN_TAG_VALUE_MAX];
	bool has_method, has_path, has_status, has_error;
	uint64_t timestamp_us, duration_us;
	uint32_t pid;
	char service[SPAN_SERVICE_MAX];
	uint16_t lport, rport;
	uint8_t laddr[4], raddr[4];
	uint8_t trace_id[16], trace_id_len, id[8], parent_id[8];
	bool has_parent, shared;
};

/* The pipeline under test, what main owns in the agent: counters, span
 * options, the tracer (one per test, made by eb_tracker), the span builder
 * and its sink. */
__attribute__((unused)) static struct sockspan_stats stats;
__attribute__((unused)) static struct span_opts eb_span_opts;
__attribute__((unused)) static struct tracer *eb_tracer;
__attribute__((unused)) static struct span_builder eb_builder;
__attribute__((unused)) static struct session_env eb_env;
__attribute__((unused)) static struct eb_span eb_spans[EB_MAX_SPANS];
__attribute__((unused)) static size_t eb_nspans;
__attribute__((unused)) static uint64_t eb_clock_ns = 1000000000ull;

static inline void eb_copy_tag(const struct span *s, const char *key, char *dst, bool *has)
{
	const char *v = span_tag(s, key);

	*has = v != NULL;
	snprintf(dst, SPAN_TAG_VALUE_MAX, "%s", v ? v : "");
}

static void eb_sink(void *ctx, const struct span *s)
{
	struct eb_span *o;

	(void)ctx;
	if (eb_nspans++ >= EB_MAX_SPANS)
		return;
	o = &eb_spans[eb_nspans - 1];
	o->kind = s->kind;
	snprintf(o->name, sizeof(o->name), "%s", s->name);
	eb_copy_tag(s, "http.method", o->method, &o->has_method);
	eb_copy_tag(s, "http.path", o->path, &o->has_path);
	eb_copy_tag(s, "http.status_code", o->status, &o->has_status);
	eb_copy_tag(s, "error", o->error, &o->has_error);
	o->timestamp_us = s->timestamp_us;
	o->duration_us = s->duration_us;
	o->pid = s->pid;
	snprintf(o->service, sizeof(o->service), "%s", s->local.service_name);
	o->lport = s->local.port;
	o->rport = s->remote.port;
	memcpy(o->laddr, s->local.addr, 4);
	memcpy(o->raddr, s->remote.addr, 4);
	memcpy(o->trace_id, s->trace_id, 16);
	o->trace_id_len = s->trace_id_len;
	memcpy(o->id, s->id, 8);
	memcpy(o->parent_id, s->parent_id, 8);
	o->has_parent = s->has_parent;
	o->shared = s->shared;
}

static void eb_sink(void *ctx, const struct span *s);
/* Where the tracer's spans go: eb_sink unless a suite's init says otherwise. */
__attribute__((unused)) static span_sink_fn eb_sink_fn;

/* Fresh counters, options, sink and clock: call from every test's init. */
static inline void eb_setup(void)
{
	memset(&stats, 0, sizeof(stats));
	memset(&eb_span_opts, 0, sizeof(eb_span_opts));
	tracer_free(eb_tracer);
	eb_tracer = NULL;
	eb_sink_fn = eb_sink;
	eb_nspans = 0;
	eb_clock_ns = 1000000000ull;
	clock_sync();
}

/* After a test that freed its trackers: every exchange a session started was
 * ended or dropped (none leaks in the tracer). */
static inline void eb_teardown(void)
{
	if (eb_tracer)
		cr_expect_eq(tracer_in_flight(eb_tracer), 0, "%zu exchanges still in flight",
			     tracer_in_flight(eb_tracer));
}

/* A connection tracker (max_conns connections) feeding the test's tracer. */
static inline struct conn_tracker *eb_tracker(size_t max_conns)
{
	struct tracer_opts to = { .max_exchanges = 1u << 16 };
	struct conn_tracker_opts o = {
		.max_conns = max_conns, .protocols = session_protocols, .env = &eb_env, .stats = &stats,
	};
	struct conn_tracker *t;

	if (!eb_tracer) {
		span_builder_init(&eb_builder, NULL, NULL, &eb_span_opts, &stats);
		cr_assert_eq(span_builder_add_sink(&eb_builder, eb_sink_fn, NULL), 0);
		eb_tracer = tracer_new(&to, &stats, span_builder_traced, &eb_builder);
		cr_assert_not_null(eb_tracer);
	}
	eb_env = (struct session_env){ .sink = tracer_exchange_sink(eb_tracer), .stats = &stats };
	t = conn_tracker_new(&o);
	cr_assert_not_null(t);
	return t;
}

/* A connection whose sequence numbers cross 2^32 after 0x100 bytes. */
static inline struct eb_conn eb_open(struct conn_tracker *t, uint32_t tgid, int32_t fd, uint64_t ino,
				     uint8_t role)
{
	struct eb_conn c = {
		.t = t, .tgid = tgid, .fd = fd, .ino = ino, .role = role,
		.lport = 8080, .rport = 40000 + (uint16_t)(ino % 20000),
		.seq = { 0xffffff00u, 0xfffffe00u },
	};

	return c;
}

static inline uint64_t eb_tick(void)
{
	eb_clock_ns += EB_TICK_NS;
	return eb_clock_ns;
}

/*
 * One event of the given type moving len bytes in dir, of which the first
 * cap_len are copied from data. Returns its timestamp.
 */
static inline uint64_t eb_event(struct eb_conn *c, uint8_t type, enum ss_dir dir, const void *data,
				uint32_t len, uint32_t cap_len)
{
	struct ss_event ev;
	uint8_t *payload = malloc(cap_len ? cap_len : 1);

	cr_assert_not_null(payload);
	cr_assert_leq(cap_len, len);
	memset(&ev, 0, sizeof(ev));
	ev.ts_ns = eb_tick();
	ev.cgroup_id = 1;
	ev.sock_ino = c->ino;
	ev.tgid = c->tgid;
	ev.tid = c->tgid;
	ev.fd = c->fd;
	ev.seq = c->seq[dir];
	ev.len = len;
	ev.cap_len = cap_len;
	ev.type = type;
	ev.dir = dir;
	ev.role = c->role;
	ev.family = AF_INET;
	ev.lport = c->lport;
	ev.rport = c->rport;
	ev.laddr[0] = 10, ev.laddr[3] = 1;
	ev.raddr[0] = 10, ev.raddr[3] = 2;
	memcpy(ev.comm, "testproc", 8);
	if (cap_len)
		memcpy(payload, data, cap_len);
	if (type != SS_EV_CLOSE)
		c->seq[dir] += len;
	conn_tracker_event(c->t, &ev, payload);
	free(payload);
	return ev.ts_ns;
}

/* A read or write that moved len bytes, all captured. */
static inline uint64_t eb_data(struct eb_conn *c, enum ss_dir dir, const void *data, size_t len)
{
	return eb_event(c, SS_EV_DATA, dir, data, (uint32_t)len, (uint32_t)len);
}

static inline uint64_t eb_str(struct eb_conn *c, enum ss_dir dir, const char *s)
{
	return eb_data(c, dir, s, strlen(s));
}

/* An event that moved n bytes in dir and never reached userspace (ring buffer full). */
static inline void eb_lose(struct eb_conn *c, enum ss_dir dir, uint32_t n)
{
	c->seq[dir] += n;
	eb_tick();
}

static inline uint64_t eb_close(struct eb_conn *c)
{
	return eb_event(c, SS_EV_CLOSE, SS_DIR_EGRESS, NULL, 0, 0);
}

/* The span a test expects; error tag expected exactly when status >= 500. */
struct eb_want {
	enum span_kind kind;
	const char *name, *method, *path;
	int status;
	uint64_t start_ns, end_ns;
};

static inline void eb_check_span(size_t i, const struct eb_want *w)
{
	const struct eb_span *s;
	char status[16];

	cr_assert_lt(i, eb_nspans, "span %zu missing (%zu emitted)", i, eb_nspans);
	cr_assert_lt(i, (size_t)EB_MAX_SPANS);
	s = &eb_spans[i];
	snprintf(status, sizeof(status), "%d", w->status);
	cr_expect_eq(s->kind, w->kind, "span %zu: kind %d, want %d", i, s->kind, w->kind);
	cr_expect_str_eq(s->name, w->name, "span %zu: name \"%s\", want \"%s\"", i, s->name, w->name);
	cr_expect(s->has_method, "span %zu: no http.method", i);
	cr_expect_str_eq(s->method, w->method, "span %zu: http.method \"%s\", want \"%s\"", i, s->method, w->method);
	cr_expect(s->has_path, "span %zu: no http.path", i);
	cr_expect_str_eq(s->path, w->path, "span %zu: http.path \"%s\", want \"%s\"", i, s->path, w->path);
	cr_expect(s->has_status, "span %zu: no http.status_code", i);
	cr_expect_str_eq(s->status, status, "span %zu: http.status_code %s, want %s", i, s->status, status);
	if (w->status >= 500) {
		cr_expect(s->has_error, "span %zu: status %d without error tag", i, w->status);
		cr_expect_str_eq(s->error, status, "span %zu: error tag", i);
	} else {
		cr_expect_not(s->has_error, "span %zu: status %d with error tag \"%s\"", i, w->status, s->error);
	}
	cr_expect_eq(s->timestamp_us, clock_mono_to_epoch_us(w->start_ns),
		     "span %zu (want %s): timestamp %lu, want %lu", i, w->name,
		     (unsigned long)s->timestamp_us, (unsigned long)clock_mono_to_epoch_us(w->start_ns));
	cr_expect_eq(s->duration_us, (w->end_ns - w->start_ns) / 1000,
		     "span %zu (want %s): duration %lu us, want %lu us", i, w->name,
		     (unsigned long)s->duration_us, (unsigned long)((w->end_ns - w->start_ns) / 1000));
}

/* Exactly these spans, in this order. */
static inline void eb_check_spans(const struct eb_want *w, size_t n)
{
	cr_assert_eq(eb_nspans, n, "%zu spans emitted, want %zu", eb_nspans, n);
	for (size_t i = 0; i < n; i++)
		eb_check_span(i, &w[i]);
}

/* Silent form of eb_check_span, for loops over thousands of conversations. */
static inline bool eb_span_matches(size_t i, const struct eb_want *w)
{
	const struct eb_span *s = &eb_spans[i];
	char status[16];

	if (i >= eb_nspans || i >= EB_MAX_SPANS)
		return false;
	snprintf(status, sizeof(status), "%d", w->status);
	return s->kind == w->kind && strcmp(s->name, w->name) == 0 && s->has_method &&
	       strcmp(s->method, w->method) == 0 && s->has_path && strcmp(s->path, w->path) == 0 &&
	       s->has_status && strcmp(s->status, status) == 0 &&
	       s->has_error == (w->status >= 500) && (!s->has_error || strcmp(s->error, status) == 0) &&
	       s->timestamp_us == clock_mono_to_epoch_us(w->start_ns) &&
	       s->duration_us == (w->end_ns - w->start_ns) / 1000;
}

static inline bool eb_spans_equal(const struct eb_want *w, size_t n)
{
	if (eb_nspans != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!eb_span_matches(i, &w[i]))
			return false;
	return true;
}

/* The HTTP counters of a conversation that should have gone without a hitch. */
static inline void eb_check_clean(void)
{
	cr_expect_eq(stats.http1_parse_errors, 0, "http1_parse_errors %lu", (unsigned long)stats.http1_parse_errors);
	cr_expect_eq(stats.http1_unmatched, 0, "http1_unmatched %lu", (unsigned long)stats.http1_unmatched);
	cr_expect_eq(stats.stream_resyncs, 0, "stream_resyncs %lu", (unsigned long)stats.stream_resyncs);
	cr_expect_eq(stats.stream_overflows, 0, "stream_overflows %lu", (unsigned long)stats.stream_overflows);
	cr_expect_eq(stats.http1_pending_overflow, 0);
}

#endif
