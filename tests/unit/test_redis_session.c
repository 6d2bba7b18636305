/*
 * Unit tests for user/redis_session.c, driven the way the capture drives it:
 * synthetic events through user/conn_tracker.c (event_builder.h), spans
 * caught at trace.c's sink. Every test states the exact spans it expects
 * (kind, name, db.* tags, error, start and duration from event timestamps)
 * and the counters a clean or lossy conversation must leave.
 *
 * The recorded conversations of resp_recordings.h are replayed whole and
 * with each of their events cut in two at every byte.
 */
#include <criterion/criterion.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event_builder.h"
#include "parse/resp_parser.h"
#include "resp_recordings.h"

#define IN SS_DIR_INGRESS
#define OUT SS_DIR_EGRESS
#define SERVER SPAN_KIND_SERVER
#define CLIENT SPAN_KIND_CLIENT
/* Spans kept for inspection. */
#define RS_MAX_SPANS 2048
#define MAX_VALUES 64

/* ---- a sink for Redis spans ---- */

struct rs_span {
	enum span_kind kind;
	char name[SPAN_NAME_MAX];
	char system[SPAN_TAG_VALUE_MAX], op[SPAN_TAG_VALUE_MAX], stmt[SPAN_TAG_VALUE_MAX];
	char error[SPAN_TAG_VALUE_MAX];
	bool has_system, has_op, has_stmt, has_error, has_http;
	uint64_t timestamp_us, duration_us;
	uint32_t pid;
};

static struct rs_span rs_spans[RS_MAX_SPANS];
static size_t rs_n;

static void rs_sink(void *ctx, const struct span *s)
{
	struct rs_span *o;

	(void)ctx;
	if (rs_n++ >= RS_MAX_SPANS)
		return;
	o = &rs_spans[rs_n - 1];
	o->kind = s->kind;
	snprintf(o->name, sizeof(o->name), "%s", s->name);
	eb_copy_tag(s, "db.system", o->system, &o->has_system);
	eb_copy_tag(s, "db.operation", o->op, &o->has_op);
	eb_copy_tag(s, "db.statement", o->stmt, &o->has_stmt);
	eb_copy_tag(s, "error", o->error, &o->has_error);
	o->has_http = span_tag(s, "http.method") != NULL;
	o->timestamp_us = s->timestamp_us;
	o->duration_us = s->duration_us;
	o->pid = s->pid;
}

static void rs_setup(void)
{
	eb_setup();
	rs_n = 0;
	eb_sink_fn = rs_sink;
	}

TestSuite(redis_recorded, .init = rs_setup, .fini = eb_teardown);
TestSuite(redis_role, .init = rs_setup, .fini = eb_teardown);
TestSuite(redis_names, .init = rs_setup, .fini = eb_teardown);
TestSuite(redis_errors, .init = rs_setup, .fini = eb_teardown);
TestSuite(redis_pubsub, .init = rs_setup, .fini = eb_teardown);
TestSuite(redis_modes, .init = rs_setup, .fini = eb_teardown);
TestSuite(redis_lost, .init = rs_setup, .fini = eb_teardown);
TestSuite(redis_hostile, .init = rs_setup, .fini = eb_teardown);
TestSuite(redis_detect, .init = rs_setup, .fini = eb_teardown);

struct rs_want {
	enum span_kind kind;
	const char *name;
	const char *error;  /* NULL: no error tag */
	const char *stmt;   /* NULL: no db.statement tag */
	uint64_t start_ns, end_ns;
};

static bool span_ok(size_t i, const struct rs_want *w, char *why, size_t cap)
{
	const struct rs_span *s = &rs_spans[i];

	if (s->kind != w->kind)
		return snprintf(why, cap, "kind %d, want %d", s->kind, w->kind) < 0;
	if (strcmp(s->name, w->name) != 0)
		return snprintf(why, cap, "name \"%s\", want \"%s\"", s->name, w->name) < 0;
	if (!s->has_system || strcmp(s->system, "redis") != 0)
		return snprintf(why, cap, "db.system \"%s\"", s->system) < 0;
	if (!s->has_op || strcmp(s->op, w->name) != 0)
		return snprintf(why, cap, "db.operation \"%s\", want \"%s\"", s->op, w->name) < 0;
	if (s->has_http)
		return snprintf(why, cap, "http tags on a Redis span") < 0;
	if (s->has_error != (w->error != NULL) || (w->error && strcmp(s->error, w->error) != 0))
		return snprintf(why, cap, "error \"%s\" (%d), want \"%s\"", s->error, s->has_error,
				w->error ? w->error : "(none)") < 0;
	if (s->has_stmt != (w->stmt != NULL) || (w->stmt && strcmp(s->stmt, w->stmt) != 0))
		return snprintf(why, cap, "db.statement \"%s\" (%d), want \"%s\"", s->stmt, s->has_stmt,
				w->stmt ? w->stmt : "(none)") < 0;
	if (s->timestamp_us != clock_mono_to_epoch_us(w->start_ns))
		return snprintf(why, cap, "timestamp %llu, want %llu", (unsigned long long)s->timestamp_us,
				(unsigned long long)clock_mono_to_epoch_us(w->start_ns)) < 0;
	if (s->duration_us != (w->end_ns - w->start_ns) / 1000)
		return snprintf(why, cap, "duration %llu us, want %llu us", (unsigned long long)s->duration_us,
				(unsigned long long)((w->end_ns - w->start_ns) / 1000)) < 0;
	return true;
}

static bool spans_equal(const struct rs_want *w, size_t n, char *why, size_t cap)
{
	if (rs_n != n) {
		snprintf(why, cap, "%zu spans emitted, want %zu", rs_n, n);
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		char one[256];

		if (!span_ok(i, &w[i], one, sizeof(one))) {
			snprintf(why, cap, "span %zu (%s): %s", i, w[i].name, one);
			return false;
		}
	}
	return true;
}

static void check_spans(const struct rs_want *w, size_t n)
{
	char why[512];

	cr_assert(spans_equal(w, n, why, sizeof(why)), "%s", why);
}

static void check_counters(uint64_t unmatched, uint64_t pushes, uint64_t parse_errors, uint64_t resyncs)
{
	cr_expect_eq(stats.redis_unmatched, unmatched, "redis_unmatched %lu, want %lu",
		     (unsigned long)stats.redis_unmatched, (unsigned long)unmatched);
	cr_expect_eq(stats.redis_pushes, pushes, "redis_pushes %lu, want %lu", (unsigned long)stats.redis_pushes,
		     (unsigned long)pushes);
	cr_expect_eq(stats.redis_parse_errors, parse_errors, "redis_parse_errors %lu, want %lu",
		     (unsigned long)stats.redis_parse_errors, (unsigned long)parse_errors);
	cr_expect_eq(stats.stream_resyncs, resyncs, "stream_resyncs %lu, want %lu",
		     (unsigned long)stats.stream_resyncs, (unsigned long)resyncs);
	cr_expect_eq(stats.redis_pending_overflow, 0);
	cr_expect_eq(stats.http1_parse_errors, 0);
	cr_expect_eq(stats.proto_unknown, 0);
}

static void check_clean(uint64_t pushes)
{
	check_counters(0, pushes, 0, 0);
}

static struct conn_tracker *tracker(void)
{
	return eb_tracker(1024);
}

static enum ss_dir other(enum ss_dir d)
{
	return d == IN ? OUT : IN;
}

/* A command and its reply, each in one event; the span it should give. */
static struct rs_want xchg(struct eb_conn *c, enum ss_dir req_dir, const char *cmd, const char *reply,
			   const char *name, const char *error)
{
	struct rs_want w = { req_dir == OUT ? CLIENT : SERVER, name, error, NULL, 0, 0 };

	w.start_ns = eb_str(c, req_dir, cmd);
	w.end_ns = eb_str(c, other(req_dir), reply);
	return w;
}

/* The exchange that shows a connection is still in step. */
static struct rs_want xchg_ping(struct eb_conn *c, enum ss_dir req_dir)
{
	return xchg(c, req_dir, "*1\r\n$4\r\nPING\r\n", "+PONG\r\n", "ping", NULL);
}

/* ---- 1. recorded conversations at every split ---- */

struct want_span {
	const char *name;
	const char *error;
	int cmd;   /* index of the command among the request stream's values */
	int reply; /* index of the reply (the last confirmation) among the reply stream's values */
};

struct conversation {
	const struct recording *rec;
	uint8_t role;
	enum ss_dir req_dir;
	const struct want_span *spans;
	size_t n;
	uint64_t pushes;
};

static const struct want_span cli_spans[] = {
	{ "set", NULL, 0, 0 }, { "get", NULL, 1, 1 }, { "hset", NULL, 2, 2 }, { "incr", "ERR", 3, 3 },
	{ "get", "WRONGTYPE", 4, 4 }, { "del", NULL, 5, 5 }, { "get", NULL, 6, 6 }, { "lpush", NULL, 7, 7 },
	{ "lrange", NULL, 8, 8 },
};

static const struct want_span pipeline_spans[] = {
	{ "set", NULL, 0, 0 }, { "get", NULL, 1, 1 }, { "incrby", NULL, 2, 2 }, { "hset", NULL, 3, 3 },
	{ "hgetall", NULL, 4, 4 }, { "multi", NULL, 5, 5 }, { "set", NULL, 6, 6 }, { "incrby", NULL, 7, 7 },
	{ "get", NULL, 8, 8 }, { "exec", NULL, 9, 9 },
};

static const struct want_span pubsub_spans[] = {
	{ "subscribe", NULL, 0, 1 }, { "psubscribe", NULL, 1, 4 }, { "unsubscribe", NULL, 2, 8 },
	{ "punsubscribe", NULL, 3, 9 },
};

static const struct want_span blpop_spans[] = {
	{ "blpop", NULL, 0, 0 }, { "blpop", NULL, 1, 1 },
};

static const struct want_span resp3_spans[] = {
	{ "hello", NULL, 0, 0 }, { "set", NULL, 1, 1 }, { "get", NULL, 2, 2 }, { "get", NULL, 3, 3 },
	{ "hset", NULL, 4, 4 }, { "hgetall", NULL, 5, 5 }, { "sadd", NULL, 6, 6 },
	{ "smembers", NULL, 7, 7 }, { "zadd", NULL, 8, 8 }, { "zscore", NULL, 9, 9 },
	{ "zincrby", NULL, 10, 10 }, { "exists", NULL, 11, 11 }, { "debug", NULL, 12, 12 },
	{ "debug", NULL, 13, 13 }, { "debug", NULL, 14, 14 }, { "debug", NULL, 15, 15 },
	{ "debug", NULL, 16, 16 }, /* attribute, then the reply */
	{ "debug", NULL, 17, 18 }, /* a push (counted), then the reply */
	{ "debug", NULL, 18, 19 }, { "debug", NULL, 19, 20 }, { "debug", NULL, 20, 21 },
	{ "debug", NULL, 21, 22 }, { "incr", "ERR", 22, 23 }, { "client tracking", NULL, 23, 24 },
	{ "get", NULL, 24, 25 }, { "ping", NULL, 25, 26 }, /* then an invalidation push */
	{ "subscribe", NULL, 26, 29 }, { "ping", NULL, 27, 30 }, /* then a message push */
	{ "unsubscribe", NULL, 28, 33 }, { "client setname", NULL, 29, 34 }, { "client info", NULL, 30, 35 },
};

static const struct want_span bench_config_spans[] = {
	{ "config get", NULL, 0, 0 }, { "config get", NULL, 1, 1 },
};

static struct want_span bench_set_spans[32];

static const struct want_span inline_spans[] = {
	{ "ping", NULL, 0, 0 }, { "set", NULL, 1, 1 }, { "get", NULL, 2, 2 }, { "client setname", NULL, 3, 3 },
};

static const struct want_span resp3_spec_spans[] = {
	{ "eval", "SYNTAX", 0, 0 }, { "time", NULL, 1, 1 },
};

#define CONV(r, role, dir, spans, pushes) { &r, role, dir, spans, REC_LEN(spans), pushes }

static const struct conversation conversations[] = {
	CONV(rec_cli, SS_ROLE_SERVER, IN, cli_spans, 0),
	CONV(rec_py_pipeline, SS_ROLE_CLIENT, OUT, pipeline_spans, 0),
	CONV(rec_py_pubsub, SS_ROLE_CLIENT, OUT, pubsub_spans, 4),
	CONV(rec_py_blpop, SS_ROLE_CLIENT, OUT, blpop_spans, 0),
	/* Role unknown: the command written says client. */
	CONV(rec_resp3, SS_ROLE_UNKNOWN, OUT, resp3_spans, 3),
	CONV(rec_bench_config, SS_ROLE_SERVER, IN, bench_config_spans, 0),
	CONV(rec_bench_set, SS_ROLE_SERVER, IN, bench_set_spans, 0),
	CONV(rec_inline, SS_ROLE_SERVER, IN, inline_spans, 0),
	CONV(rec_resp3_spec, SS_ROLE_CLIENT, OUT, resp3_spec_spans, 0),
};

/* Arrival time of every byte of both streams in one replay. */
struct replay {
	uint64_t *ts[2]; /* by enum rec_dir */
	size_t len[2];
};

static void replay_init(struct replay *rp, const struct recording *r)
{
	for (int d = 0; d < 2; d++) {
		size_t n = 0;

		for (size_t i = 0; i < r->n; i++)
			n += r->events[i].dir == (enum rec_dir)d ? r->events[i].data.len : 0;
		rp->ts[d] = calloc(n + 1, sizeof(uint64_t));
		cr_assert_not_null(rp->ts[d]);
		rp->len[d] = 0;
	}
}

static void replay_free(struct replay *rp)
{
	free(rp->ts[0]);
	free(rp->ts[1]);
}

static void play_piece(struct eb_conn *c, enum ss_dir req_dir, enum rec_dir d, const char *p, size_t len,
		       struct replay *rp)
{
	uint64_t ts = eb_data(c, d == REC_REQ ? req_dir : other(req_dir), p, len);

	for (size_t k = 0; k < len; k++)
		rp->ts[d][rp->len[d]++] = ts;
}

/* Plays every event; event split_ev is cut at byte split_at into two events. */
static void play(struct eb_conn *c, const struct conversation *cv, size_t split_ev, size_t split_at,
		 struct replay *rp)
{
	rp->len[0] = rp->len[1] = 0;
	for (size_t i = 0; i < cv->rec->n; i++) {
		const struct rec_event *e = &cv->rec->events[i];

		if (i == split_ev) {
			play_piece(c, cv->req_dir, e->dir, e->data.p, split_at, rp);
			play_piece(c, cv->req_dir, e->dir, e->data.p + split_at, e->data.len - split_at, rp);
		} else {
			play_piece(c, cv->req_dir, e->dir, e->data.p, e->data.len, rp);
		}
	}
}

/* The spans a replay must give, and one more exchange after it. */
static size_t expected(const struct conversation *cv, const struct replay *rp, const size_t *starts,
		       const size_t *ends, struct rs_want *w)
{
	for (size_t i = 0; i < cv->n; i++) {
		w[i].kind = cv->req_dir == OUT ? CLIENT : SERVER;
		w[i].name = cv->spans[i].name;
		w[i].error = cv->spans[i].error;
		w[i].stmt = NULL;
		w[i].start_ns = rp->ts[REC_REQ][starts[cv->spans[i].cmd]];
		w[i].end_ns = rp->ts[REC_REP][ends[cv->spans[i].reply] - 1];
	}
	return cv->n;
}

static void run_conversation(const struct conversation *cv)
{
	struct conn_tracker *t = tracker();
	size_t rlen, plen, rstarts[MAX_VALUES], rends[MAX_VALUES], pstarts[MAX_VALUES], pends[MAX_VALUES];
	char *req = rec_stream(cv->rec, REC_REQ, &rlen), *rep = rec_stream(cv->rec, REC_REP, &plen);
	struct rs_want *w = calloc(cv->n + 1, sizeof(*w));
	struct replay rp;
	uint64_t ino = 1;

	cr_assert(req && rep && w);
	cr_assert_gt(ref_values(req, rlen, true, rstarts, rends, MAX_VALUES), 0);
	cr_assert_gt(ref_values(rep, plen, false, pstarts, pends, MAX_VALUES), 0);
	replay_init(&rp, cv->rec);
	for (size_t ev = 0; ev < cv->rec->n; ev++) {
		size_t len = cv->rec->events[ev].data.len;

		/* split_at == len: the event whole (once, for the first event). */
		for (size_t at = 1; at <= len; at++) {
			struct eb_conn c;
			char why[512];
			size_t n;

			if (at == len && ev > 0)
				continue;
			memset(&stats, 0, sizeof(stats));
			rs_n = 0;
			c = eb_open(t, 7, 3, ino++, cv->role);
			play(&c, cv, at < len ? ev : SIZE_MAX, at, &rp);
			n = expected(cv, &rp, rstarts, pends, w);
			w[n++] = xchg_ping(&c, cv->req_dir);
			eb_close(&c);
			if (!spans_equal(w, n, why, sizeof(why)))
				cr_assert_fail("%s, event %zu split at %zu: %s", cv->rec->name, ev, at, why);
			cr_assert_eq(stats.redis_pushes, cv->pushes, "%s, event %zu split at %zu: %lu pushes",
				     cv->rec->name, ev, at, (unsigned long)stats.redis_pushes);
			check_clean(cv->pushes);
		}
	}
	cr_expect_eq(conn_tracker_count(t), 0);
	replay_free(&rp);
	free(w);
	free(req);
	free(rep);
	conn_tracker_free(t);
}

Test(redis_recorded, redis_cli_resp2) { run_conversation(&conversations[0]); }
Test(redis_recorded, redis_py_pipeline_multi_exec) { run_conversation(&conversations[1]); }
Test(redis_recorded, redis_py_pubsub) { run_conversation(&conversations[2]); }
Test(redis_recorded, redis_py_blpop) { run_conversation(&conversations[3]); }
Test(redis_recorded, resp3_every_type) { run_conversation(&conversations[4]); }
Test(redis_recorded, benchmark_config) { run_conversation(&conversations[5]); }
Test(redis_recorded, benchmark_pipelined_sets)
{
	for (int i = 0; i < 32; i++)
		bench_set_spans[i] = (struct want_span){ "set", NULL, i, i };
	run_conversation(&conversations[6]);
}
Test(redis_recorded, inline_commands) { run_conversation(&conversations[7]); }
Test(redis_recorded, resp3_spec_blob_error) { run_conversation(&conversations[8]); }

/* Every byte its own event, both directions. */
Test(redis_recorded, byte_by_byte)
{
	for (size_t k = 0; k < REC_LEN(conversations); k++) {
		const struct conversation *cv = &conversations[k];
		struct conn_tracker *t = tracker();
		struct eb_conn c = eb_open(t, 7, 3, 1, cv->role);
		size_t rlen, plen, rstarts[MAX_VALUES], rends[MAX_VALUES], pstarts[MAX_VALUES], pends[MAX_VALUES];
		char *req = rec_stream(cv->rec, REC_REQ, &rlen), *rep = rec_stream(cv->rec, REC_REP, &plen);
		struct rs_want w[64];
		struct replay rp;

		for (int i = 0; i < 32; i++)
			bench_set_spans[i] = (struct want_span){ "set", NULL, i, i };
		memset(&stats, 0, sizeof(stats));
		rs_n = 0;
		ref_values(req, rlen, true, rstarts, rends, MAX_VALUES);
		ref_values(rep, plen, false, pstarts, pends, MAX_VALUES);
		replay_init(&rp, cv->rec);
		for (size_t i = 0; i < cv->rec->n; i++) {
			const struct rec_event *e = &cv->rec->events[i];

			for (size_t b = 0; b < e->data.len; b++)
				play_piece(&c, cv->req_dir, e->dir, e->data.p + b, 1, &rp);
		}
		check_spans(w, expected(cv, &rp, rstarts, pends, w));
		check_clean(cv->pushes);
		replay_free(&rp);
		free(req);
		free(rep);
		conn_tracker_free(t);
	}
}

/* ---- 2. roles ---- */

Test(redis_role, server_and_client_sides)
{
	struct conn_tracker *t = tracker();
	struct eb_conn srv = eb_open(t, 4242, 9, 1, SS_ROLE_SERVER);
	struct eb_conn cli = eb_open(t, 4343, 5, 2, SS_ROLE_CLIENT);
	struct rs_want w[2];

	w[0] = xchg(&srv, IN, "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", "$1\r\nv\r\n", "get", NULL);
	w[1] = xchg(&cli, OUT, "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", "$1\r\nv\r\n", "get", NULL);
	check_spans(w, 2);
	cr_expect_eq(rs_spans[0].pid, 4242);
	cr_expect_eq(rs_spans[1].pid, 4343);
	check_clean(0);
	conn_tracker_free(t);
}

Test(redis_role, unknown_inferred_from_command_read)
{
	struct conn_tracker *t = tracker();
	struct eb_conn c = eb_open(t, 1, 9, 1, SS_ROLE_UNKNOWN);
	struct rs_want w[2];

	w[0] = xchg(&c, IN, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n", "+OK\r\n", "set", NULL);
	w[1] = xchg_ping(&c, IN);
	check_spans(w, 2);
	check_clean(0);
	conn_tracker_free(t);
}

/* Capture started between a command and its reply: the reply read says client. */
Test(redis_role, unknown_inferred_from_reply_read)
{
	struct conn_tracker *t = tracker();
	struct eb_conn c = eb_open(t, 1, 9, 1, SS_ROLE_UNKNOWN);
	struct rs_want w;

	eb_str(&c, IN, "$5\r\nhello\r\n");
	cr_expect_eq(rs_n, 0);
	w = xchg_ping(&c, OUT);
	check_spans(&w, 1);
	check_counters(1, 0, 0, 0);
	conn_tracker_free(t);
}

/* Capture started inside a big value: those bytes tell nothing; the next command does. */
Test(redis_role, unknown_first_bytes_mid_value)
{
	struct conn_tracker *t = tracker();
	struct eb_conn c = eb_open(t, 1, 9, 1, SS_ROLE_UNKNOWN);
	struct rs_want w;

	eb_str(&c, OUT, "some value bytes\r\n");
	eb_str(&c, OUT, "\x01\x02\x03");
	w = xchg_ping(&c, IN);
	check_spans(&w, 1);
	check_clean(0);
	conn_tracker_free(t);
}

/* ---- 3. names and statements ---- */

struct name_case {
	const char *cmd;
	const char *name;
	const char *stmt;
};

Test(redis_names, commands_and_subcommands)
{
	static const struct name_case cases[] = {
		{ "*3\r\n$3\r\nset\r\n$1\r\nk\r\n$1\r\nv\r\n", "set", "SET ? ?" },
		{ "*3\r\n$6\r\nCLIENT\r\n$7\r\nSETNAME\r\n$3\r\nweb\r\n", "client setname", "CLIENT SETNAME ?" },
		{ "*3\r\n$6\r\nconfig\r\n$3\r\nGET\r\n$9\r\nmaxmemory\r\n", "config get", "CONFIG GET ?" },
		{ "*3\r\n$6\r\nOBJECT\r\n$8\r\nENCODING\r\n$1\r\nk\r\n", "object encoding", "OBJECT ENCODING ?" },
		{ "*3\r\n$5\r\nXINFO\r\n$6\r\nSTREAM\r\n$1\r\ns\r\n", "xinfo stream", "XINFO STREAM ?" },
		{ "*2\r\n$3\r\nACL\r\n$6\r\nWHOAMI\r\n", "acl whoami", "ACL WHOAMI" },
		{ "*3\r\n$6\r\nMEMORY\r\n$5\r\nUSAGE\r\n$1\r\nk\r\n", "memory usage", "MEMORY USAGE ?" },
		{ "*2\r\n$6\r\nSCRIPT\r\n$5\r\nFLUSH\r\n", "script flush", "SCRIPT FLUSH" },
		{ "*2\r\n$8\r\nFUNCTION\r\n$4\r\nLIST\r\n", "function list", "FUNCTION LIST" },
		{ "*2\r\n$7\r\nCOMMAND\r\n$4\r\nDOCS\r\n", "command docs", "COMMAND DOCS" },
		{ "*2\r\n$7\r\nCLUSTER\r\n$5\r\nSLOTS\r\n", "cluster slots", "CLUSTER SLOTS" },
		{ "*1\r\n$7\r\nCOMMAND\r\n", "command", "COMMAND" },
		/* Not a container: the second word is an argument. */
		{ "*3\r\n$5\r\nDEBUG\r\n$5\r\nSLEEP\r\n$1\r\n0\r\n", "debug", "DEBUG ? ?" },
		/* Module commands keep their dots. */
		{ "*3\r\n$9\r\nFT.SEARCH\r\n$3\r\nidx\r\n$5\r\nhello\r\n", "ft.search", "FT.SEARCH ? ?" },
		/* A subcommand that is no word is left out; a command that is none is "unknown". */
		{ "*2\r\n$6\r\nCLIENT\r\n$2\r\n\x01\x02\r\n", "client", "CLIENT ?" },
		{ "*2\r\n$3\r\n\xff\xfe\x01\r\n$1\r\nk\r\n", "unknown", "? ?" },
		{ "*1\r\n$40\r\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\r\n", "unknown", "?" },
		{ "*1\r\n$0\r\n\r\n", "unknown", "?" },
		/* Inline, any case. */
		{ "client SetName web\r\n", "client setname", "CLIENT SETNAME ?" },
	};
	struct conn_tracker *t = tracker();
	struct eb_conn c = eb_open(t, 1, 9, 1, SS_ROLE_SERVER);
	struct rs_want w[2 * REC_LEN(cases)];

	/* Off by default, then on: the statement never shows an argument. */
	for (size_t i = 0; i < REC_LEN(cases); i++)
		w[i] = xchg(&c, IN, cases[i].cmd, "+OK\r\n", cases[i].name, NULL);
	eb_span_opts.redis_statement = true;
	for (size_t i = 0; i < REC_LEN(cases); i++) {
		w[REC_LEN(cases) + i] = xchg(&c, IN, cases[i].cmd, "+OK\r\n", cases[i].name, NULL);
		w[REC_LEN(cases) + i].stmt = cases[i].stmt;
	}
	check_spans(w, 2 * REC_LEN(cases));
	check_clean(0);
	conn_tracker_free(t);
}

Test(redis_names, long_statement_is_cut)
{
	struct conn_tracker *t = tracker();
	struct eb_conn c = eb_open(t, 1, 9, 1, SS_ROLE_SERVER);
	char cmd[8192], want[SPAN_TAG_VALUE_MAX];
	size_t n = (size_t)snprintf(cmd, sizeof(cmd), "*601\r\n$4\r\nMSET\r\n"), k;
	struct rs_want w;

	for (int i = 0; i < 600; i++)
		n += (size_t)snprintf(cmd + n, sizeof(cmd) - n, "$1\r\nx\r\n");
	k = (size_t)snprintf(want, sizeof(want), "MSET");
	while (k + 2 + 5 <= sizeof(want))
		k += (size_t)snprintf(want + k, sizeof(want) - k, " ?");
	snprintf(want + k, sizeof(want) - k, " ...");
	eb_span_opts.redis_statement = true;
	w = xchg(&c, IN, cmd, "+OK\r\n", "mset", NULL);
	w.stmt = want;
	check_spans(&w, 1);
	check_clean(0);
	conn_tracker_free(t);
}

/* ---- 4. errors ---- */

Test(redis_errors, codes)
{
	static const struct {
		const char *reply, *error;
	} cases[] = {
		{ "-ERR unknown command 'FOO', with args beginning with: 'secret'\r\n", "ERR" },
		{ "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n", "WRONGTYPE" },
		{ "-MOVED 3999 127.0.0.1:6381\r\n", "MOVED" },
		{ "-NOAUTH Authentication required.\r\n", "NOAUTH" },
		{ "-ERR\r\n", "ERR" },
		{ "-EXECABORT Transaction discarded because of previous errors.\r\n", "EXECABORT" },
		{ "!21\r\nSYNTAX invalid syntax\r\n", "SYNTAX" },
		/* Not a code: the first word is user data (a Lua error, say). */
		{ "-my custom error\r\n", "error" },
		{ "-user:1234 not allowed\r\n", "error" },
		{ "-ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGHIJ is too long\r\n", "error" },
		{ "- leading space\r\n", "error" },
		{ "!0\r\n\r\n", "error" },
	};
	struct conn_tracker *t = tracker();
	struct eb_conn c = eb_open(t, 1, 9, 1, SS_ROLE_CLIENT);
	struct rs_want w[REC_LEN(cases) + 1];

	for (size_t i = 0; i < REC_LEN(cases); i++)
		w[i] = xchg(&c, OUT, "*2\r\n$4\r\nINCR\r\n$1\r\nk\r\n", cases[i].reply, "incr", cases[i].error);
	/* An array holding an error (EXEC) is no error itself. */
	w[REC_LEN(cases)] = xchg(&c, OUT, "*1\r\n$4\r\nEXEC\r\n", "*1\r\n-ERR x\r\n", "exec", NULL);
	check_spans(w, REC_LEN(cases) + 1);
	check_clean(0);
	conn_tracker_free(t);
}

/* ---- 5. pub/sub ---- */

Test(redis_pubsub, confirmations_split_and_messages)
{
	struct conn_tracker *t = tracker();
	struct eb_conn c = eb_open(t, 1, 9, 1, SS_ROLE_CLIENT);
	struct rs_want w[3];

	w[0].start_ns = eb_str(&c, OUT, "*4\r\n$9\r\nSUBSCRIBE\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n");
	eb_str(&c, IN, "*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n*3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n*3\r\n$9\r\nsub");
	cr_assert_eq(rs_n, 0, "two of three confirmations");
	w[0].end_ns = eb_str(&c, IN, "scribe\r\n$1\r\nc\r\n:3\r\n");
	w[0].kind = CLIENT, w[0].name = "subscribe", w[0].error = NULL, w[0].stmt = NULL;
	/* Messages, one of them pattern-matched: no spans. */
	eb_str(&c, IN, "*3\r\n$7\r\nmessage\r\n$1\r\na\r\n$2\r\nhi\r\n");
	eb_str(&c, IN, "*3\r\n$7\r\nmessage\r\n$1\r\nb\r\n$2\r\nho\r\n*3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$0\r\n\r\n");
	/* PING while subscribed answers ["pong", ""] in RESP2. */
	w[1] = xchg(&c, OUT, "*1\r\n$4\r\nPING\r\n", "*2\r\n$4\r\npong\r\n$0\r\n\r\n", "ping", NULL);
	/* UNSUBSCRIBE b: one confirmation. */
	w[2] = xchg(&c, OUT, "*2\r\n$11\r\nUNSUBSCRIBE\r\n$1\r\nb\r\n", "*3\r\n$11\r\nunsubscribe\r\n$1\r\nb\r\n:2\r\n",
		    "unsubscribe", NULL);
	eb_str(&c, IN, "*3\r\n$7\r\nmessage\r\n$1\r\na\r\n$2\r\nhi\r\n");
	check_spans(w, 3);
	check_clean(4);
	conn_tracker_free(t);
}

/* Not subscribed: an array that starts with "message" is a reply like any other. */
Test(redis_pubsub, message_shaped_reply)
{
	struct conn_tracker *t = tracker();
	struct eb_conn c = eb_open(t, 1, 9, 1, SS_ROLE_CLIENT);
	struct rs_want w[2];

	w[0] = xchg(&c, OUT, "*4\r\n$6\r\nLRANGE\r\n$1\r\nl\r\n$1\r\n0\r\n$2\r\n-1\r\n",
		    "*3\r\n$7\r\nmessage\r\n$1\r\na\r\n$1\r\nb\r\n", "lrange", NULL);
	w[1] = xchg(&c, OUT, "*2\r\n$4\r\nEVAL\r\n$1\r\nx\r\n", "*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n",
		    "eval", NULL);
	check_spans(w, 2);
	check_clean(0);
	conn_tracker_free(t);
}

/* Attached while subscribed: messages with nothing pending are counted; an
 * UNSUBSCRIBE of unknown extent ends with its last confirmation, known when
 * the next reply comes, or at close. */
Test(redis_pubsub, attached_while_subscribed)
{
	struct conn_tracker *t = tracker();
	/* Attached to it while it ran: no connect seen, the role is unknown. */
	struct eb_conn c = eb_open(t, 1, 9, 1, SS_ROLE_UNKNOWN);
	struct rs_want w[3];

	eb_str(&c, IN, "*3\r\n$7\r\nmessage\r\n$1\r\na\r\n$2\r\nhi\r\n");
	cr_expect_eq(stats.redis_pushes, 1);
	/* Counted subscriptions: none; the first confirmation says 1 left, so more come. */
	w[0].start_ns = eb_str(&c, OUT, "*1\r\n$11\r\nUNSUBSCRIBE\r\n");
	eb_str(&c, IN, "*3\r\n$11\r\nunsubscribe\r\n$1\r\na\r\n:2\r\n");
	w[0].end_ns = eb_str(&c, IN, "*3\r\n$11\r\nunsubscribe\r\n$1\r\nb\r\n:1\r\n");
	w[0].kind = CLIENT, w[0].name = "unsubscribe", w[0].error = NULL, w[0].stmt = NULL;
	cr_expect_eq(rs_n, 0);
	w[1] = xchg_ping(&c, OUT);
	/* Patterns: two left after the first confirmation, and the connection closes. */
	w[2].start_ns = eb_str(&c, OUT, "*1\r\n$12\r\nPUNSUBSCRIBE\r\n");
	w[2].end_ns = eb_str(&c, IN, "*3\r\n$12\r\npunsubscribe\r\n$2\r\np*\r\n:3\r\n");
	w[2].kind = CLIENT, w[2].name = "punsubscribe", w[2].error = NULL, w[2].stmt = NULL;
	cr_expect_eq(rs_n, 2);
	eb_close(&c);
	check_spans(w, 3);
	check_clean(1);
	conn_tracker_free(t);
}

/* RESP3: confirmations and messages are pushes; commands run while subscribed. */
Test(redis_pubsub, resp3_pushes_interleaved)
{
	struct conn_tracker *t = tracker();
	struct eb_conn c = eb_open(t, 1, 9, 1, SS_ROLE_SERVER);
	struct rs_want w[4];

	w[0].start_ns = eb_str(&c, IN, "*2\r\n$10\r\nPSUBSCRIBE\r\n$2\r\nn*\r\n");
	w[1].start_ns = eb_str(&c, IN, "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
	w[0].end_ns = eb_str(&c, OUT, ">3\r\n$10\r\npsubscribe\r\n$2\r\nn*\r\n:1\r\n"
				      ">4\r\n$8\r\npmessage\r\n$2\r\nn*\r\n$2\r\nnx\r\n$1\r\nm\r\n");
	w[1].end_ns = eb_str(&c, OUT, "$1\r\nv\r\n");
	w[0].kind = w[1].kind = SERVER;
	w[0].name = "psubscribe", w[1].name = "get";
	w[0].error = w[1].error = w[0].stmt = w[1].stmt = NULL;
	/* SSUBSCRIBE counts shard channels apart. */
	w[2] = xchg(&c, IN, "*2\r\n$10\r\nSSUBSCRIBE\r\n$1\r\ns\r\n", ">3\r\n$10\r\nssubscribe\r\n$1\r\ns\r\n:1\r\n",
		    "ssubscribe", NULL);
	w[3] = xchg(&c, IN, "*1\r\n$12\r\nSUNSUBSCRIBE\r\n", ">3\r\n$12\r\nsunsubscribe\r\n$1\r\ns\r\n:0\r\n",
		    "sunsubscribe", NULL);
	eb_str(&c, OUT, ">2\r\n$10\r\ninvalidate\r\n_\r\n");
	check_spans(w, 4);
	check_clean(2);
	conn_tracker_free(t);
}

/* ---- 6. MULTI/EXEC, blocking, reply modes, feeds ---- */

Test(redis_modes, multi_exec_and_execabort)
{
	struct conn_tracker *t = tracker();
	struct eb_conn c = eb_open(t, 1, 9, 1, SS_ROLE_CLIENT);
	struct rs_want w[6];

	w[0] = xchg(&c, OUT, "*1\r\n$5\r\nMULTI\r\n", "+OK\r\n", "multi", NULL);
	w[1] = xchg(&c, OUT, "*2\r\n$4\r\nINCR\r\n$1\r\nk\r\n", "+QUEUED\r\n", "incr", NULL);
	w[2] = xchg(&c, OUT, "*1\r\n$4\r\nNOPE\r\n", "-ERR unknown command 'NOPE'\r\n", "nope", "ERR");
	w[3] = xchg(&c, OUT, "*1\r\n$4\r\nEXEC\r\n", "-EXECABORT Transaction discarded\r\n", "exec", "EXECABORT");
	/* A WATCHed key changed: EXEC answers a null array. */
	w[4] = xchg(&c, OUT, "*1\r\n$5\r\nMULTI\r\n", "+OK\r\n", "multi", NULL);
	w[5] = xchg(&c, OUT, "*1\r\n$4\r\nEXEC\r\n", "*-1\r\n", "exec", NULL);
	check_spans(w, 6);
	check_clean(0);
	conn_tracker_free(t);
}

/* A blocking command's span runs until its reply, whatever happens meanwhile elsewhere. */
Test(redis_modes, blocking_command_times)
{
	struct conn_tracker *t = tracker();
	struct eb_conn c = eb_open(t, 1, 9, 1, SS_ROLE_SERVER);
	struct eb_conn other_conn = eb_open(t, 1, 10, 2, SS_ROLE_SERVER);
	struct rs_want w[4];

	w[0].start_ns = eb_str(&c, IN, "*3\r\n$5\r\nBLPOP\r\n$4\r\njobs\r\n$1\r\n0\r\n");
	w[1] = xchg(&other_conn, IN, "*3\r\n$5\r\nRPUSH\r\n$4\r\nnope\r\n$1\r\nx\r\n", ":1\r\n", "rpush", NULL);
	for (int i = 0; i < 50; i++)
		eb_tick();
	w[2] = xchg(&other_conn, IN, "*3\r\n$5\r\nRPUSH\r\n$4\r\njobs\r\n$1\r\nj\r\n", ":1\r\n", "rpush", NULL);
	w[3] = w[2];
	w[3].end_ns = eb_str(&c, OUT, "*2\r\n$4\r\njobs\r\n$1\r\nj\r\n");
	w[3].start_ns = w[0].start_ns;
	w[3].name = "blpop";
	check_spans(w + 1, 3);
	cr_expect_eq(rs_spans[2].duration_us, 55, "BLPOP lasted %llu us", (unsigned long long)rs_spans[2].duration_us);
	check_clean(0);
	conn_tracker_free(t);
}

Test(redis_modes, client_reply_off_skip_on)
{
	struct conn_tracker *t = tracker();
	struct eb_conn c = eb_open(t, 1, 9, 1, SS_ROLE_CLIENT);
	struct rs_want w[5];

	eb_str(&c, OUT, "*3\r\n$6\r\nCLIENT\r\n$5\r\nREPLY\r\n$3\r\nOFF\r\n");
	eb_str(&c, OUT, "*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n");
	eb_str(&c, OUT, "*3\r\n$6\r\nCLIENT\r\n$5\r\nREPLY\r\n$4\r\nSKIP\r\n"); /* ignored while OFF */
	eb_str(&c, OUT, "*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$1\r\n2\r\n");
	w[0] = xchg(&c, OUT, "*3\r\n$6\r\nCLIENT\r\n$5\r\nREPLY\r\n$2\r\nON\r\n", "+OK\r\n", "client reply", NULL);
	eb_str(&c, OUT, "*3\r\n$6\r\nCLIENT\r\n$5\r\nreply\r\n$4\r\nskip\r\n");
	eb_str(&c, OUT, "*3\r\n$3\r\nSET\r\n$1\r\nc\r\n$1\r\n3\r\n");
	w[1] = xchg(&c, OUT, "*2\r\n$3\r\nGET\r\n$1\r\nc\r\n", "$1\r\n3\r\n", "get", NULL);
	/* RESET turns replies back on, and ends subscriptions: then "message" arrays are replies. */
	w[2] = xchg(&c, OUT, "*2\r\n$9\r\nSUBSCRIBE\r\n$1\r\na\r\n", "*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n",
		    "subscribe", NULL);
	eb_str(&c, OUT, "*3\r\n$6\r\nCLIENT\r\n$5\r\nREPLY\r\n$3\r\nOFF\r\n");
	w[3] = xchg(&c, OUT, "*1\r\n$5\r\nRESET\r\n", "+RESET\r\n", "reset", NULL);
	w[4] = xchg(&c, OUT, "*2\r\n$6\r\nLRANGE\r\n$1\r\nl\r\n", "*3\r\n$7\r\nmessage\r\n$1\r\nx\r\n$1\r\ny\r\n",
		    "lrange", NULL);
	check_spans(w, 5);
	check_clean(0);
	conn_tracker_free(t);
}

Test(redis_modes, monitor_feed_ignored)
{
	struct conn_tracker *t = tracker();
	struct eb_conn c = eb_open(t, 1, 9, 1, SS_ROLE_CLIENT);
	struct rs_want w[2];

	w[0] = xchg_ping(&c, OUT);
	w[1] = xchg(&c, OUT, "*1\r\n$7\r\nMONITOR\r\n", "+OK\r\n", "monitor", NULL);
	eb_str(&c, IN, "+1700000000.123456 [0 127.0.0.1:5000] \"get\" \"k\"\r\n");
	eb_str(&c, OUT, "*1\r\n$4\r\nQUIT\r\n");
	eb_str(&c, IN, "+1700000000.223456 [0 127.0.0.1:5000] \"set\" \"k\" \"v\"\r\n+OK\r\n");
	eb_close(&c);
	check_spans(w, 2);
	check_clean(0);
	conn_tracker_free(t);
}

/* A replica's link: PSYNC turns the connection into the replication stream. */
Test(redis_modes, replication_ignored)
{
	struct conn_tracker *t = tracker();
	struct eb_conn c = eb_open(t, 1, 9, 1, SS_ROLE_CLIENT);
	struct eb_conn seen_from_master = eb_open(t, 2, 9, 2, SS_ROLE_UNKNOWN);
	struct rs_want w;

	w = xchg_ping(&c, OUT);
	eb_str(&c, OUT, "*3\r\n$8\r\nREPLCONF\r\n$14\r\nlistening-port\r\n$4\r\n6380\r\n");
	eb_str(&c, IN, "+OK\r\n");
	eb_str(&c, OUT, "*3\r\n$5\r\nPSYNC\r\n$1\r\n?\r\n$2\r\n-1\r\n");
	eb_str(&c, IN, "+FULLRESYNC 8de1787ba490483314a4d30f1c628bc5025eb761 0\r\n$5\r\nREDIS");
	eb_str(&c, IN, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n");
	eb_str(&c, OUT, "*3\r\n$8\r\nREPLCONF\r\n$3\r\nACK\r\n$1\r\n0\r\n");
	/* Attached to an established link: the master's writes look like commands, the
	 * replica's acknowledgements say what this is. */
	eb_str(&seen_from_master, OUT, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n");
	eb_str(&seen_from_master, IN, "*3\r\n$8\r\nREPLCONF\r\n$3\r\nACK\r\n$2\r\n31\r\n");
	eb_str(&seen_from_master, OUT, "*1\r\n$4\r\nPING\r\n");
	eb_str(&seen_from_master, IN, "*3\r\n$8\r\nREPLCONF\r\n$3\r\nACK\r\n$2\r\n45\r\n");
	check_spans(&w, 1);
	check_counters(1, 0, 0, 0);
	conn_tracker_free(t);
}

/* ---- 7. losses ---- */

/* A command event lost among pipelined ones: its reply and those after it are never paired wrongly. */
Test(redis_lost, command_lost_in_pipeline)
{
	struct conn_tracker *t = tracker();
	struct eb_conn c = eb_open(t, 1, 9, 1, SS_ROLE_SERVER);
	static const char get[] = "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n";
	struct rs_want w[2];

	w[0].start_ns = eb_str(&c, IN, get);
	eb_lose(&c, IN, 20);
	eb_str(&c, IN, "*2\r\n$3\r\nDEL\r\n$1\r\nk\r\n");
	w[0].end_ns = eb_str(&c, OUT, "$1\r\nv\r\n");
	w[0].kind = SERVER, w[0].name = "get", w[0].error = w[0].stmt = NULL;
	eb_str(&c, OUT, "$1\r\nw\r\n:1\r\n"); /* the lost GET's, then DEL's: unknown which is which */
	w[1] = xchg_ping(&c, IN);
	check_spans(w, 2);
	/* Two replies meeting the marker; DEL dropped behind it. */
	check_counters(3, 0, 0, 1);
	conn_tracker_free(t);
}

/* Replies lost: the commands waiting are dropped, counted; the connection goes on. */
Test(redis_lost, replies_lost)
{
	struct conn_tracker *t = tracker();
	struct eb_conn c = eb_open(t, 1, 9, 1, SS_ROLE_CLIENT);
	struct rs_want w[2];

	w[0] = xchg_ping(&c, OUT);
	eb_str(&c, OUT, "*2\r\n$3\r\nGET\r\n$1\r\na\r\n*2\r\n$3\r\nGET\r\n$1\r\nb\r\n");
	eb_lose(&c, IN, 7);
	eb_str(&c, IN, "$1\r\nb\r\n");
	w[1] = xchg_ping(&c, OUT);
	check_spans(w, 2);
	check_counters(3, 0, 0, 1);
	conn_tracker_free(t);
}

/* A client that waits for each reply loses a whole reply (the command after
 * it looks pipelined behind the unanswered one), then a command whose reply
 * is seen: the exchanges after that still get their spans. */
Test(redis_lost, two_losses_do_not_stall_a_connection)
{
	struct conn_tracker *t = tracker();
	struct eb_conn c = eb_open(t, 1, 9, 1, SS_ROLE_SERVER);
	struct rs_want w[3];

	w[0] = xchg_ping(&c, IN);
	eb_str(&c, IN, "*2\r\n$3\r\nGET\r\n$1\r\na\r\n");
	eb_lose(&c, OUT, 7);
	eb_str(&c, IN, "*2\r\n$3\r\nGET\r\n$1\r\nb\r\n");
	eb_str(&c, OUT, "$1\r\nb\r\n");
	eb_lose(&c, IN, 29);
	eb_str(&c, OUT, "+OK\r\n");
	w[1] = xchg_ping(&c, IN);
	w[2] = xchg_ping(&c, IN);
	check_spans(w, 3);
	conn_tracker_free(t);
}

/* A value bigger than the capture: the rest is a gap inside a bulk string, skipped in step. */
Test(redis_lost, truncated_bulk_skipped_in_step)
{
	struct conn_tracker *t = tracker();
	struct eb_conn c = eb_open(t, 1, 9, 1, SS_ROLE_SERVER);
	static char cmd[40000], reply[40000];
	struct rs_want w[3];
	size_t n = (size_t)snprintf(cmd, sizeof(cmd), "*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$30000\r\n");
	size_t m = (size_t)snprintf(reply, sizeof(reply), "$30000\r\n");

	memset(cmd + n, 'x', 30000);
	memcpy(cmd + n + 30000, "\r\n", 2);
	memset(reply + m, 'y', 30000);
	memcpy(reply + m + 30000, "\r\n", 2);
	w[0].start_ns = eb_event(&c, SS_EV_DATA, IN, cmd, n + 30002, 16384);
	w[0].end_ns = eb_str(&c, OUT, "+OK\r\n");
	w[0].kind = SERVER, w[0].name = "set", w[0].error = w[0].stmt = NULL;
	w[1].start_ns = eb_str(&c, IN, "*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n");
	w[1].end_ns = eb_event(&c, SS_EV_DATA, OUT, reply, m + 30002, 100);
	w[1].kind = SERVER, w[1].name = "get", w[1].error = w[1].stmt = NULL;
	w[2] = xchg_ping(&c, IN);
	check_spans(w, 3);
	check_clean(0);
	conn_tracker_free(t);
}

/* A gap where no length says what was lost: resynchronise at a syscall that
 * holds whole values only. */
Test(redis_lost, resync_only_at_whole_values)
{
	struct conn_tracker *t = tracker();
	struct eb_conn c = eb_open(t, 1, 9, 1, SS_ROLE_CLIENT);
	struct rs_want w[2];

	w[0] = xchg(&c, OUT, "*2\r\n$3\r\nGET\r\n$1\r\na\r\n", "$1\r\nA\r\n", "get", NULL);
	/* A header cut by a lost event. */
	eb_str(&c, OUT, "*2\r\n$3\r\nGET\r\n$1");
	eb_lose(&c, OUT, 5);
	/* Not whole values: the end of a value, or a start that does not end. */
	eb_str(&c, OUT, "\r\nb\r\n*1\r\n$4\r\nPING\r\n");
	eb_str(&c, OUT, "*1\r\n$4\r\nPI");
	eb_str(&c, OUT, "NG\r\n");
	eb_str(&c, IN, "$1\r\nB\r\n+PONG\r\n+PONG\r\n+PONG\r\n");
	w[1] = xchg(&c, OUT, "*2\r\n$3\r\nGET\r\n$1\r\nc\r\n", "$1\r\nC\r\n", "get", NULL);
	check_spans(w, 2);
	check_counters(4, 0, 0, 1);
	conn_tracker_free(t);
}

/* A parse error in the replies: that side waits for whole values again. */
Test(redis_lost, garbage_reply)
{
	struct conn_tracker *t = tracker();
	struct eb_conn c = eb_open(t, 1, 9, 1, SS_ROLE_CLIENT);
	struct rs_want w[2];

	/* GET's reply comes first, then garbage: the span stands. */
	w[0] = xchg(&c, OUT, "*2\r\n$3\r\nGET\r\n$1\r\na\r\n", "$1\r\nA\r\n?garbage\r\n", "get", NULL);
	w[1] = xchg_ping(&c, OUT);
	check_spans(w, 2);
	check_counters(0, 0, 1, 1);
	conn_tracker_free(t);
}

/* More pipelined commands than REDIS_MAX_PENDING: a marker stands for the rest. */
Test(redis_lost, pending_overflow)
{
	struct conn_tracker *t = tracker();
	struct eb_conn c = eb_open(t, 1, 9, 1, SS_ROLE_SERVER);
	static char cmds[1100 * 14 + 1], replies[1100 * 4 + 1];
	struct rs_want w;

	for (int i = 0; i < 1100; i++) {
		memcpy(cmds + i * 14, "*1\r\n$4\r\nPING\r\n", 14);
		memcpy(replies + i * 4, ":1\r\n", 4);
	}
	eb_data(&c, IN, cmds, sizeof(cmds) - 1);
	eb_data(&c, OUT, replies, sizeof(replies) - 1);
	cr_assert_eq(rs_n, 1023);
	cr_expect_eq(stats.redis_pending_overflow, 76);
	/* 1024th made the marker, the reply meeting it, 76 replies with nothing left. */
	cr_expect_eq(stats.redis_unmatched, 78);
	rs_n = 0;
	w = xchg_ping(&c, IN);
	check_spans(&w, 1);
	conn_tracker_free(t);
}

/* Commands still waiting when the connection closes are counted. */
Test(redis_lost, unanswered_at_close)
{
	struct conn_tracker *t = tracker();
	struct eb_conn c = eb_open(t, 1, 9, 1, SS_ROLE_SERVER);

	eb_str(&c, IN, "*1\r\n$8\r\nSHUTDOWN\r\n*1\r\n$4\r\nPING\r\n");
	eb_close(&c);
	cr_expect_eq(rs_n, 0);
	check_counters(2, 0, 0, 0);
	conn_tracker_free(t);
}

/* ---- 8. hostile input ---- */

Test(redis_hostile, deep_nesting_and_huge_lengths)
{
	struct conn_tracker *t = tracker();
	struct eb_conn c = eb_open(t, 1, 9, 1, SS_ROLE_CLIENT);
	char deep[4 * (RESP_MAX_DEPTH + 1) + 5];
	struct rs_want w;

	for (int i = 0; i <= RESP_MAX_DEPTH; i++)
		memcpy(deep + 4 * i, "*1\r\n", 4);
	memcpy(deep + 4 * (RESP_MAX_DEPTH + 1), ":1\r\n", 5);
	eb_str(&c, OUT, "*1\r\n$4\r\nPING\r\n");
	eb_str(&c, IN, deep);
	/* A 512 MB bulk string announced: nothing is allocated for it. */
	eb_str(&c, OUT, "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
	eb_str(&c, IN, "$536870912\r\nshort");
	eb_close(&c);
	cr_expect_eq(rs_n, 0);
	check_counters(2, 0, 1, 1);

	c = eb_open(t, 1, 9, 2, SS_ROLE_CLIENT);
	w = xchg_ping(&c, OUT);
	check_spans(&w, 1);
	conn_tracker_free(t);
}

/* Commands that are no commands (inline lines naming nothing Redis knows): not spans. */
Test(redis_hostile, inline_unknown_commands)
{
	struct conn_tracker *t = tracker();
	struct eb_conn c = eb_open(t, 1, 9, 1, SS_ROLE_SERVER);
	struct rs_want w;

	eb_str(&c, IN, "PING\r\n");
	eb_str(&c, OUT, "+PONG\r\n");
	cr_assert_eq(rs_n, 1);
	rs_n = 0;
	eb_str(&c, IN, "USER alice\r\n");
	eb_str(&c, OUT, "-ERR unknown command 'USER'\r\n");
	w = xchg(&c, IN, "ECHO hi\r\n", "$2\r\nhi\r\n", "echo", NULL);
	check_spans(&w, 1);
	check_counters(1, 0, 1, 1);
	conn_tracker_free(t);
}

/* ---- 9. detection through the tracker ---- */

static void unknown_conn(const void *first, size_t len)
{
	struct conn_tracker *t = tracker();
	struct eb_conn c = eb_open(t, 1, 9, 1, SS_ROLE_CLIENT);

	for (int i = 0; i < TRACKER_DETECT_TRIES; i++) {
		eb_data(&c, OUT, first, len);
		eb_data(&c, IN, first, len);
	}
	/* Once unknown, even real Redis later makes no span. */
	eb_str(&c, OUT, "*1\r\n$4\r\nPING\r\n");
	eb_str(&c, IN, "+PONG\r\n");
	cr_expect_eq(rs_n, 0);
	cr_expect_eq(stats.proto_unknown, 1);
	cr_expect_eq(stats.redis_parse_errors, 0);
	conn_tracker_free(t);
}

Test(redis_detect, not_redis)
{
	static const unsigned char tls[] = { 0x16, 0x03, 0x01, 0x00, 0xf8, 0x01, 0x00, 0x00, 0xf4, 0x03, 0x03,
					     0x5b, 0x2a, 0x3c, 0x9d, 0x11, 0xe4, 0x07, 0x6a };
	unsigned char rnd[256];
	uint64_t x = 88172645463325252ull;

	for (size_t i = 0; i < sizeof(rnd); i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		rnd[i] = (unsigned char)x;
	}
	unknown_conn(tls, sizeof(tls));
	rs_setup();
	unknown_conn(rnd, sizeof(rnd));
	rs_setup();
	unknown_conn("get foo\r\n", 9);
}

/* A POP3 session (the server greets first with "+OK", the client ends with
 * "QUIT") became a Redis "quit" span; so could FTP or SMTP banners followed
 * by commands Redis also has. Seen from its start, a connection whose server
 * spoke first is not Redis, at either end. */
static void server_first_conn(uint8_t role, enum ss_dir from_server)
{
	static const char *const pop3[][2] = {
		{ "+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>\r\n", NULL },
		{ "USER bob\r\n", "+OK bob is welcome here\r\n" },
		{ "PASS redqueen\r\n", "+OK maildrop has 2 messages (320 octets)\r\n" },
		{ "STAT\r\n", "+OK 2 320\r\n" },
		{ "QUIT\r\n", "+OK dewey POP3 server signing off\r\n" },
	};
	struct conn_tracker *t = tracker();
	struct eb_conn c = eb_open(t, 1, 9, 1, role);
	enum ss_dir from_client = from_server == IN ? OUT : IN;

	eb_str(&c, from_server, pop3[0][0]);
	for (size_t i = 1; i < sizeof(pop3) / sizeof(pop3[0]); i++) {
		eb_str(&c, from_client, pop3[i][0]);
		eb_str(&c, from_server, pop3[i][1]);
	}
	eb_close(&c);
	cr_expect_eq(rs_n, 0, "%zu spans from POP3", rs_n);
	cr_expect_eq(stats.redis_parse_errors + stats.redis_unmatched, 0);
	conn_tracker_free(t);
}

Test(redis_detect, a_server_that_speaks_first_is_not_redis_at_the_server)
{
	server_first_conn(SS_ROLE_SERVER, OUT);
}

Test(redis_detect, a_server_that_speaks_first_is_not_redis_at_the_client)
{
	server_first_conn(SS_ROLE_CLIENT, IN);
}
