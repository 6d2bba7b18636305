/*
 * Unit tests for user/resp_parser.c.
 *
 * Recorded Redis conversations (resp_recordings.h) are fed whole, split at
 * every byte, in random pieces and byte by byte; every piece handed to the
 * parser ends right before a PROT_NONE page, so reading one byte too far
 * crashes the test. Each value is checked against a rendering written out
 * below and its end against an independent reference splitter. Then limits,
 * malformed input, gap skipping, detection (with random bytes, TLS, HTTP and
 * HTTP/2 that must never look like RESP) and the command table.
 */
#include <criterion/criterion.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "guard_page.h"
#include "parse/resp_parser.h"
#include "resp_recordings.h"

/* ---- rendering a parsed value ---- */

/* Values rendered as "<type><len>:<head>" for strings, ":<n>", "#t", "_", "<type><count>"
 * for aggregates followed by " [<first elements>]". */
#define RENDER_MAX 256
#define MAX_VALUES 64

static void render_elem(char *out, size_t cap, const struct resp_elem *e)
{
	switch (e->type) {
	case RESP_INTEGER:
		snprintf(out, cap, ":%lld", (long long)e->integer);
		break;
	case RESP_BOOLEAN:
		snprintf(out, cap, "#%c", e->is_bool_true ? 't' : 'f');
		break;
	case RESP_NULL:
		snprintf(out, cap, "_");
		break;
	case RESP_ARRAY: case RESP_MAP: case RESP_SET: case RESP_ATTRIBUTE: case RESP_PUSH: case RESP_INLINE:
		snprintf(out, cap, "%c%llu", e->type, (unsigned long long)e->len);
		break;
	default:
		snprintf(out, cap, "%c%llu:%.*s", e->type, (unsigned long long)e->len, e->head_len, e->head);
	}
}

static void render(char *out, size_t cap, const struct resp_value *v)
{
	size_t n = (size_t)snprintf(out, cap, "%s", v->attributed ? "|" : "");
	uint8_t t = v->top.type;

	render_elem(out + n, cap - n, &v->top);
	if ((t == RESP_ARRAY || t == RESP_MAP || t == RESP_SET || t == RESP_PUSH || t == RESP_INLINE) && v->top.len) {
		uint64_t k = t == RESP_MAP ? 2 * v->top.len : v->top.len;

		strncat(out, " [", cap - strlen(out) - 1);
		for (uint64_t i = 0; i < k && i < RESP_KEEP_ELEMS; i++) {
			char e[RENDER_MAX];

			render_elem(e, sizeof(e), &v->elems[i]);
			if (i)
				strncat(out, " ", cap - strlen(out) - 1);
			strncat(out, e, cap - strlen(out) - 1);
		}
		strncat(out, "]", cap - strlen(out) - 1);
	}
}

/* ---- expected values of the recordings ---- */

static const char *const rec_cli_requests[] = {
	"*3 [$3:SET $8:greeting $5:hello]",
	"*2 [$3:GET $8:greeting]",
	"*6 [$4:HSET $6:user:1 $4:name]",
	"*2 [$4:INCR $8:greeting]",
	"*2 [$3:GET $6:user:1]",
	"*2 [$3:DEL $5:nokey]",
	"*2 [$3:GET $5:nokey]",
	"*5 [$5:LPUSH $1:q $1:a]",
	"*4 [$6:LRANGE $1:q $1:0]",
};
static const char *const rec_cli_replies[] = {
	"+2:OK",
	"$5:hello",
	":2",
	"-43:ERR value is not an integer or o",
	"-65:WRONGTYPE Operation against a ke",
	":0",
	"_",
	":3",
	"*3 [$1:c $1:b $1:a]",
};
static const char *const rec_py_pipeline_requests[] = {
	"*3 [$3:SET $2:k1 $2:v1]",
	"*2 [$3:GET $2:k1]",
	"*3 [$6:INCRBY $7:counter $1:1]",
	"*6 [$4:HSET $1:h $2:f1]",
	"*2 [$7:HGETALL $1:h]",
	"*1 [$5:MULTI]",
	"*3 [$3:SET $2:k2 $1:x]",
	"*3 [$6:INCRBY $2:k2 $1:1]",
	"*2 [$3:GET $2:k2]",
	"*1 [$4:EXEC]",
};
static const char *const rec_py_pipeline_replies[] = {
	"+2:OK",
	"$2:v1",
	":1",
	":2",
	"*4 [$2:f1 $1:a $2:f2]",
	"+2:OK",
	"+6:QUEUED",
	"+6:QUEUED",
	"+6:QUEUED",
	"*3 [+2:OK -43:ERR value is not an integer or o $1:x]",
};
static const char *const rec_py_pubsub_requests[] = {
	"*3 [$9:SUBSCRIBE $4:news $6:alerts]",
	"*2 [$10:PSUBSCRIBE $2:n*]",
	"*1 [$11:UNSUBSCRIBE]",
	"*1 [$12:PUNSUBSCRIBE]",
};
static const char *const rec_py_pubsub_replies[] = {
	"*3 [$9:subscribe $4:news :1]",
	"*3 [$9:subscribe $6:alerts :2]",
	"*3 [$7:message $4:news $5:hello]",
	"*3 [$7:message $6:alerts $4:fire]",
	"*3 [$10:psubscribe $2:n* :3]",
	"*3 [$7:message $4:news $5:again]",
	"*4 [$8:pmessage $2:n* $4:news]",
	"*3 [$11:unsubscribe $6:alerts :2]",
	"*3 [$11:unsubscribe $4:news :1]",
	"*3 [$12:punsubscribe $2:n* :0]",
};
static const char *const rec_py_blpop_requests[] = {
	"*3 [$5:BLPOP $4:jobs $1:5]",
	"*3 [$5:BLPOP $5:empty $3:0.2]",
};
static const char *const rec_py_blpop_replies[] = {
	"*2 [$4:jobs $4:job1]",
	"_",
};
static const char *const rec_resp3_requests[] = {
	"*2 [$5:HELLO $1:3]",
	"*3 [$3:SET $1:k $1:v]",
	"*2 [$3:GET $1:k]",
	"*2 [$3:GET $5:nokey]",
	"*6 [$4:HSET $2:h3 $1:a]",
	"*2 [$7:HGETALL $2:h3]",
	"*4 [$4:SADD $2:s3 $1:x]",
	"*2 [$8:SMEMBERS $2:s3]",
	"*4 [$4:ZADD $2:z3 $3:1.5]",
	"*3 [$6:ZSCORE $2:z3 $1:m]",
	"*4 [$7:ZINCRBY $2:z3 $3:inf]",
	"*2 [$6:EXISTS $1:k]",
	"*3 [$5:DEBUG $8:PROTOCOL $6:bignum]",
	"*3 [$5:DEBUG $8:PROTOCOL $4:true]",
	"*3 [$5:DEBUG $8:PROTOCOL $5:false]",
	"*3 [$5:DEBUG $8:PROTOCOL $8:verbatim]",
	"*3 [$5:DEBUG $8:PROTOCOL $6:attrib]",
	"*3 [$5:DEBUG $8:PROTOCOL $4:push]",
	"*3 [$5:DEBUG $8:PROTOCOL $6:double]",
	"*3 [$5:DEBUG $8:PROTOCOL $4:null]",
	"*3 [$5:DEBUG $8:PROTOCOL $3:map]",
	"*3 [$5:DEBUG $8:PROTOCOL $3:set]",
	"*2 [$4:INCR $1:k]",
	"*3 [$6:CLIENT $8:TRACKING $2:on]",
	"*2 [$3:GET $1:k]",
	"*1 [$4:PING]",
	"*3 [$9:SUBSCRIBE $2:c1 $2:c2]",
	"*1 [$4:PING]",
	"*1 [$11:UNSUBSCRIBE]",
	"*3 [$6:CLIENT $7:SETNAME $4:rec3]",
	"*2 [$6:CLIENT $4:INFO]",
};
static const char *const rec_resp3_replies[] = {
	"%7 [$6:server $5:redis $7:version]",
	"+2:OK",
	"$1:v",
	"_",
	":2",
	"%2 [$1:a $1:1 $1:b]",
	":2",
	"~2 [$1:y $1:x]",
	":1",
	",3:1.5",
	",3:inf",
	":1",
	"(37:12345679999999999999999999999999",
	"#t",
	"#f",
	"=29:txt:This is a verbatim\nstring",
	"|$39:Some real reply following the at",
	">2 [$16:server-cpu-usage :42]",
	"$40:Some real reply following the pu",
	",5:3.141",
	"_",
	"%3 [:0 #f :1]",
	"~3 [:0 :1 :2]",
	"-43:ERR value is not an integer or o",
	"+2:OK",
	"$1:v",
	"+4:PONG",
	">2 [$10:invalidate *1]",
	">3 [$9:subscribe $2:c1 :1]",
	">3 [$9:subscribe $2:c2 :2]",
	"+4:PONG",
	">3 [$7:message $2:c1 $2:m1]",
	">3 [$11:unsubscribe $2:c1 :1]",
	">3 [$11:unsubscribe $2:c2 :0]",
	"+2:OK",
	"=273:txt:id=12 addr=127.0.0.1:59914 l",
};
static const char *const rec_bench_config_requests[] = {
	"*3 [$6:CONFIG $3:GET $4:save]",
	"*3 [$6:CONFIG $3:GET $10:appendonly]",
};
static const char *const rec_bench_config_replies[] = {
	"*2 [$4:save $0:]",
	"*2 [$10:appendonly $2:no]",
};
static const char *const rec_inline_requests[] = {
	"i1 [$4:PING]",
	"i3 [$3:set $8:greeting $11:hello world]",
	"i2 [$3:get $8:greeting]",
	"i3 [$6:CLIENT $7:setname $13:inline-client]",
};
static const char *const rec_inline_replies[] = {
	"+4:PONG",
	"+2:OK",
	"$11:hello world",
	"+2:OK",
};
static const char *const rec_resp3_spec_requests[] = {
	"*2 [$4:EVAL $6:return]",
	"*1 [$4:TIME]",
};
static const char *const rec_resp3_spec_replies[] = {
	"!21:SYNTAX invalid syntax",
	"*2 [(44:-3492890328409238509324850943850 %0]",
};

struct stream_case {
	const struct recording *rec;
	enum rec_dir dir;
	const char *const *want; /* NULL: every value is want_all */
	size_t n;
	const char *want_all;
};

#define CASE(r, d, w) { &r, d, w, REC_LEN(w), NULL }

static const struct stream_case cases[] = {
	CASE(rec_cli, REC_REQ, rec_cli_requests),
	CASE(rec_cli, REC_REP, rec_cli_replies),
	CASE(rec_py_pipeline, REC_REQ, rec_py_pipeline_requests),
	CASE(rec_py_pipeline, REC_REP, rec_py_pipeline_replies),
	CASE(rec_py_pubsub, REC_REQ, rec_py_pubsub_requests),
	CASE(rec_py_pubsub, REC_REP, rec_py_pubsub_replies),
	CASE(rec_py_blpop, REC_REQ, rec_py_blpop_requests),
	CASE(rec_py_blpop, REC_REP, rec_py_blpop_replies),
	CASE(rec_resp3, REC_REQ, rec_resp3_requests),
	CASE(rec_resp3, REC_REP, rec_resp3_replies),
	CASE(rec_bench_config, REC_REQ, rec_bench_config_requests),
	CASE(rec_bench_config, REC_REP, rec_bench_config_replies),
	{ &rec_bench_set, REC_REQ, NULL, 32, "*3 [$3:SET $16:key:__rand_int__ $3:VXK]" },
	{ &rec_bench_set, REC_REP, NULL, 32, "+2:OK" },
	CASE(rec_inline, REC_REQ, rec_inline_requests),
	CASE(rec_inline, REC_REP, rec_inline_replies),
	CASE(rec_resp3_spec, REC_REQ, rec_resp3_spec_requests),
	CASE(rec_resp3_spec, REC_REP, rec_resp3_spec_replies),
};

/* ---- feeding ---- */

struct outcome {
	size_t n;
	char vals[MAX_VALUES][RENDER_MAX];
	size_t ends[MAX_VALUES];
};

/* Feeds s in pieces ending at cuts[0..ncuts) (increasing, the last == len). */
static void feed(enum resp_mode mode, const char *s, size_t len, const size_t *cuts, size_t ncuts,
		 struct guard *g, struct outcome *out)
{
	struct resp_parser p;
	size_t pos = 0;

	cr_assert(ncuts > 0 && cuts[ncuts - 1] == len);
	resp_parser_init(&p, mode);
	out->n = 0;
	cr_assert(resp_parser_between(&p));
	for (size_t k = 0; k < ncuts; k++) {
		while (pos < cuts[k]) {
			size_t avail = cuts[k] - pos;
			ssize_t r = resp_parse(&p, guard_put(g, s + pos, avail), avail);

			if (r == RESP_NEED_MORE) {
				pos = cuts[k];
				break;
			}
			cr_assert_gt(r, 0, "error at byte %zu (piece ends at %zu)", pos, cuts[k]);
			cr_assert_leq((size_t)r, avail);
			cr_assert_lt(out->n, (size_t)MAX_VALUES);
			pos += (size_t)r;
			render(out->vals[out->n], RENDER_MAX, &p.value);
			out->ends[out->n++] = pos;
			cr_assert(resp_parser_between(&p));
		}
	}
	cr_assert(resp_parser_between(&p), "stream ends inside a value");
}

static void expect_outcome(const struct stream_case *c, const struct outcome *o, const size_t *ref_ends,
			   const char *how)
{
	cr_assert_eq(o->n, c->n, "%s %s (%s): %zu values, want %zu", c->rec->name,
		     c->dir == REC_REQ ? "requests" : "replies", how, o->n, c->n);
	for (size_t i = 0; i < o->n; i++) {
		const char *want = c->want ? c->want[i] : c->want_all;

		cr_assert_str_eq(o->vals[i], want, "%s value %zu (%s): \"%s\", want \"%s\"", c->rec->name, i, how,
				 o->vals[i], want);
		cr_assert_eq(o->ends[i], ref_ends[i], "%s value %zu (%s): ends at %zu, want %zu", c->rec->name, i,
			     how, o->ends[i], ref_ends[i]);
	}
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
	/* xorshift64*: fixed seed, so every run tests the same inputs */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ull;
}

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return x < y ? -1 : x > y;
}

static void run_case(const struct stream_case *c)
{
	enum resp_mode mode = c->dir == REC_REQ ? RESP_MODE_REQUEST : RESP_MODE_REPLY;
	size_t len, starts[MAX_VALUES], ends[MAX_VALUES];
	char *s = rec_stream(c->rec, c->dir, &len);
	struct guard g = guard_new(len);
	struct outcome *o = malloc(sizeof(*o));
	size_t *cuts = malloc((len + 1) * sizeof(*cuts));
	int nref;

	cr_assert(s && o && cuts);
	nref = ref_values(s, len, c->dir == REC_REQ, starts, ends, MAX_VALUES);
	cr_assert_eq(nref, (int)c->n, "reference splitter: %d values", nref);

	/* Whole. */
	cuts[0] = len;
	feed(mode, s, len, cuts, 1, &g, o);
	expect_outcome(c, o, ends, "whole");
	/* Split in two at every byte. */
	for (size_t i = 1; i < len; i++) {
		char how[32];

		cuts[0] = i;
		cuts[1] = len;
		feed(mode, s, len, cuts, 2, &g, o);
		snprintf(how, sizeof(how), "split at %zu", i);
		expect_outcome(c, o, ends, how);
	}
	/* Byte by byte. */
	for (size_t i = 0; i < len; i++)
		cuts[i] = i + 1;
	feed(mode, s, len, cuts, len, &g, o);
	expect_outcome(c, o, ends, "byte by byte");
	/* Random pieces. */
	for (int round = 0; round < 200; round++) {
		size_t n = 1 + rng() % 8;

		for (size_t i = 0; i + 1 < n; i++)
			cuts[i] = 1 + rng() % len;
		cuts[n - 1] = len;
		qsort(cuts, n, sizeof(*cuts), cmp_size);
		feed(mode, s, len, cuts, n, &g, o);
		expect_outcome(c, o, ends, "random pieces");
	}
	free(cuts);
	free(o);
	free(s);
	guard_free(&g);
}

Test(resp_recorded, every_split_of_every_stream)
{
	for (size_t i = 0; i < REC_LEN(cases); i++)
		run_case(&cases[i]);
}

/* ---- one value at a time ---- */

/* Parses str (a whole buffer before the guard) from a fresh parser. */
static ssize_t parse1(enum resp_mode mode, const char *str, size_t len, struct resp_parser *p)
{
	struct guard g = guard_new(len);
	ssize_t r;

	resp_parser_init(p, mode);
	r = resp_parse(p, guard_put(&g, str, len), len);
	guard_free(&g);
	return r;
}

static void expect_value(enum resp_mode mode, const char *str, const char *want)
{
	struct resp_parser p;
	char got[RENDER_MAX];
	ssize_t r = parse1(mode, str, strlen(str), &p);

	cr_assert_eq(r, (ssize_t)strlen(str), "\"%s\": %zd", str, r);
	render(got, sizeof(got), &p.value);
	cr_assert_str_eq(got, want, "\"%s\" parsed as \"%s\", want \"%s\"", str, got, want);
}

/* Malformed as a whole, and no prefix of it an error before the byte that breaks it. */
static void expect_error(enum resp_mode mode, const char *str)
{
	struct resp_parser p;
	ssize_t r = parse1(mode, str, strlen(str), &p);

	cr_assert_eq(r, RESP_ERROR, "\"%s\" should be an error, got %zd", str, r);
	/* Sticky. */
	cr_assert_eq(resp_parse(&p, "+OK\r\n", 5), RESP_ERROR, "\"%s\": error not sticky", str);
	cr_assert_eq(resp_skip(&p, 1), RESP_ERROR);
	resp_parser_init(&p, RESP_MODE_REPLY);
	cr_assert_eq(resp_parse(&p, "+OK\r\n", 5), 5, "init clears the error");
}

Test(resp_values, scalars_and_edges)
{
	expect_value(RESP_MODE_REPLY, ":9223372036854775807\r\n", ":9223372036854775807");
	expect_value(RESP_MODE_REPLY, ":-9223372036854775808\r\n", ":-9223372036854775808");
	expect_value(RESP_MODE_REPLY, ":+7\r\n", ":7");
	expect_value(RESP_MODE_REPLY, ":-0\r\n", ":0");
	expect_value(RESP_MODE_REPLY, "$0\r\n\r\n", "$0:");
	expect_value(RESP_MODE_REPLY, "$-1\r\n", "_");
	expect_value(RESP_MODE_REPLY, "*-1\r\n", "_");
	expect_value(RESP_MODE_REPLY, "*0\r\n", "*0");
	expect_value(RESP_MODE_REPLY, "%0\r\n", "%0");
	expect_value(RESP_MODE_REPLY, "~0\r\n", "~0");
	expect_value(RESP_MODE_REPLY, ">0\r\n", ">0");
	expect_value(RESP_MODE_REPLY, "+\r\n", "+0:");
	expect_value(RESP_MODE_REPLY, "-ERR\r\n", "-3:ERR");
	expect_value(RESP_MODE_REPLY, ",-inf\r\n", ",4:-inf");
	expect_value(RESP_MODE_REPLY, ",nan\r\n", ",3:nan");
	expect_value(RESP_MODE_REPLY, ",-Inf\r\n", ",4:-Inf"); /* case-insensitive, as Redis reads them */
	expect_value(RESP_MODE_REPLY, ",1.5e+300\r\n", ",8:1.5e+300");
	expect_value(RESP_MODE_REPLY, ",-10\r\n", ",3:-10");
	expect_value(RESP_MODE_REPLY, "(+12\r\n", "(3:+12");
	expect_value(RESP_MODE_REPLY, "=4\r\ntxt:\r\n", "=4:txt:");
	expect_value(RESP_MODE_REPLY, "!0\r\n\r\n", "!0:");
	/* Binary-safe: CR, LF and NUL inside a bulk string. */
	expect_value(RESP_MODE_REPLY, "$5\r\n\r\n\n\r\n\r\n", "$5:\r\n\n\r\n");
	/* Heads keep RESP_HEAD_MAX bytes of longer strings. */
	expect_value(RESP_MODE_REPLY, "$40\r\n0123456789012345678901234567890123456789\r\n",
		     "$40:01234567890123456789012345678901");
	/* Attributes: before a reply, inside an array, nested, empty. */
	expect_value(RESP_MODE_REPLY, "|1\r\n+a\r\n|1\r\n+b\r\n+c\r\n+d\r\n:1\r\n", "|:1");
	expect_value(RESP_MODE_REPLY, "*2\r\n|1\r\n+a\r\n+b\r\n:1\r\n|0\r\n:2\r\n", "*2 [:1 :2]");
	expect_value(RESP_MODE_REPLY, "|0\r\n#t\r\n", "|#t");
	/* Only the top-level aggregate's elements are recorded. */
	expect_value(RESP_MODE_REPLY, "*3\r\n*2\r\n+x\r\n+y\r\n%1\r\n+k\r\n+v\r\n>1\r\n_\r\n", "*3 [*2 %1 >1]");
	expect_value(RESP_MODE_REPLY, "%2\r\n+a\r\n:1\r\n+b\r\n:2\r\n", "%2 [+1:a :1 +1:b]");
	/* Requests: nothing but arrays of bulk strings, or inline lines. */
	expect_value(RESP_MODE_REQUEST, "*1\r\n$4\r\nPING\r\n", "*1 [$4:PING]");
	expect_value(RESP_MODE_REQUEST, "*0\r\n*-1\r\n\r\n\n*1\r\n$4\r\nPING\r\n", "*1 [$4:PING]");
	expect_value(RESP_MODE_REQUEST, "*2\r\n$3\r\nGET\r\n$0\r\n\r\n", "*2 [$3:GET $0:]");
	expect_value(RESP_MODE_REQUEST, "ping\n", "i1 [$4:ping]");
	expect_value(RESP_MODE_REQUEST, " \tSET  a\t\"b \\\" c\"  'd'\r\n", "i4 [$3:SET $1:a $5:b \" c]");
	expect_value(RESP_MODE_REQUEST, "SET a\"b\" x\r\n", "i3 [$3:SET $2:ab $1:x]");
	expect_value(RESP_MODE_REQUEST, "ECHO \"\"\n", "i2 [$4:ECHO $0:]");
}

Test(resp_values, malformed)
{
	static const char *const replies[] = {
		"?\r\n", "\r\n", "x", "+OK\n", "+O\rK\r\n", "-ERR\r\r\n", ":\r\n", ":12a\r\n", ":-\r\n",
		":1-\r\n", ":9223372036854775808\r\n", ":-9223372036854775809\r\n", ":12345678901234567890\r\n",
		"$\r\n", "$-2\r\n", "$-10\r\n", "$+1\r\nx\r\n", "$3\r\nabcd\r\n", "$3\r\nab\r\n\r\n",
		"$3\r\nabc\n", "$?\r\n;4\r\nHell\r\n;0\r\n", "*?\r\n:1\r\n.\r\n", "*-2\r\n", "%-1\r\n",
		"~-1\r\n", "|-1\r\n", ">-1\r\n", "!-1\r\n", "=-1\r\n", "#\r\n", "#x\r\n", "#tt\r\n", "_x\r\n",
		"_\n", ",\r\n", ",abc\r\n", ",1.5x\r\n", ",inff\r\n", ",1,5\r\n", "(\r\n", "(12a\r\n", "(-\r\n",
		"=3\r\ntxt\r\n", "=5\r\ntxt-x\r\n", "*1\r\n\r\n", "*1\r\n?\r\n", "%1\r\n+k\r\n\r\n",
		"$1\r\nx\r\n:", /* a value, then garbage: the garbage is only seen by the next call */
	};
	static const char *const requests[] = {
		"*1\r\n:1\r\n", "*1\r\n*1\r\n$1\r\nx\r\n", "*1\r\n$-1\r\n", "*1\r\n+OK\r\n", "*2\r\n_\r\n",
		"SET \"a\n", "SET 'a\n", "SET \"a\"b\n", "SET 'a'b\n", "*x\r\n",
	};

	for (size_t i = 0; i + 1 < REC_LEN(replies); i++)
		expect_error(RESP_MODE_REPLY, replies[i]);
	for (size_t i = 0; i < REC_LEN(requests); i++)
		expect_error(RESP_MODE_REQUEST, requests[i]);

	/* The last one: a value ends, then the next call meets the garbage. */
	struct resp_parser p;
	const char *s = replies[REC_LEN(replies) - 1];

	cr_assert_eq(parse1(RESP_MODE_REPLY, s, strlen(s), &p), 7);
	cr_assert_eq(resp_parse(&p, ":", 1), RESP_NEED_MORE);
	cr_assert_eq(resp_parse(&p, "\r\n", 2), RESP_ERROR);
}

/* ---- limits ---- */

static char *repeat(const char *unit, size_t n, const char *tail)
{
	size_t ul = strlen(unit), tl = strlen(tail);
	char *s = malloc(ul * n + tl + 1);

	cr_assert_not_null(s);
	for (size_t i = 0; i < n; i++)
		memcpy(s + i * ul, unit, ul);
	memcpy(s + ul * n, tail, tl + 1);
	return s;
}

Test(resp_limits, nesting_depth)
{
	struct resp_parser p;
	char *ok = repeat("*1\r\n", RESP_MAX_DEPTH, ":1\r\n");
	char *deep = repeat("*1\r\n", RESP_MAX_DEPTH + 1, ":1\r\n");
	char *attrs = repeat("|1\r\n", RESP_MAX_DEPTH + 1, "");

	cr_assert_eq(parse1(RESP_MODE_REPLY, ok, strlen(ok), &p), (ssize_t)strlen(ok));
	cr_assert_eq(parse1(RESP_MODE_REPLY, deep, strlen(deep), &p), RESP_ERROR);
	cr_assert_eq(parse1(RESP_MODE_REPLY, attrs, strlen(attrs), &p), RESP_ERROR);
	/* The error comes at the header that goes too deep, not later. */
	cr_assert_eq(parse1(RESP_MODE_REPLY, deep, 4 * (RESP_MAX_DEPTH + 1), &p), RESP_ERROR);
	cr_assert_eq(parse1(RESP_MODE_REPLY, deep, 4 * (RESP_MAX_DEPTH + 1) - 1, &p), RESP_NEED_MORE);
	free(ok);
	free(deep);
	free(attrs);
}

Test(resp_limits, lengths_and_counts)
{
	struct resp_parser p;
	char buf[64];

	/* The largest bulk string is accepted and costs nothing: skip through it. */
	snprintf(buf, sizeof(buf), "$%llu\r\n", RESP_MAX_BULK_LEN);
	cr_assert_eq(parse1(RESP_MODE_REPLY, buf, strlen(buf), &p), RESP_NEED_MORE);
	cr_assert_eq(resp_parse(&p, "abc", 3), RESP_NEED_MORE);
	cr_assert_eq(resp_skip(&p, RESP_MAX_BULK_LEN - 3), 0);
	cr_assert_eq(resp_parse(&p, "\r\n", 2), 2);
	cr_assert_str_eq(p.value.top.head, "abc");
	snprintf(buf, sizeof(buf), "$%llu\r\n", RESP_MAX_BULK_LEN + 1);
	cr_assert_eq(parse1(RESP_MODE_REPLY, buf, strlen(buf), &p), RESP_ERROR);
	snprintf(buf, sizeof(buf), "*%llu\r\n", RESP_MAX_ELEMENTS);
	cr_assert_eq(parse1(RESP_MODE_REPLY, buf, strlen(buf), &p), RESP_NEED_MORE);
	snprintf(buf, sizeof(buf), "%%%llu\r\n", RESP_MAX_ELEMENTS);
	cr_assert_eq(parse1(RESP_MODE_REPLY, buf, strlen(buf), &p), RESP_NEED_MORE);
	snprintf(buf, sizeof(buf), "*%llu\r\n", RESP_MAX_ELEMENTS + 1);
	cr_assert_eq(parse1(RESP_MODE_REPLY, buf, strlen(buf), &p), RESP_ERROR);
	snprintf(buf, sizeof(buf), "*%llu\r\n", RESP_MAX_ELEMENTS + 1);
	cr_assert_eq(parse1(RESP_MODE_REQUEST, buf, strlen(buf), &p), RESP_ERROR);
	/* 19 digits parse, the 20th is refused at once. */
	cr_assert_eq(parse1(RESP_MODE_REPLY, "$0000000000000000003\r\nabc\r\n", 27, &p), 27);
	cr_assert_eq(parse1(RESP_MODE_REPLY, "$00000000000000000003", 21, &p), RESP_ERROR);
}

Test(resp_limits, line_lengths)
{
	struct resp_parser p;
	/* Type byte, then RESP_MAX_LINE bytes of text: the longest line; one more is refused. */
	char *ok = repeat("x", RESP_MAX_LINE + 1, "\r\n");
	char *long_line = repeat("x", RESP_MAX_LINE + 2, "\r\n");
	char *inline_ok = repeat("a ", RESP_MAX_LINE / 2, "\n");
	char *inline_long = repeat("a ", RESP_MAX_LINE / 2, "a\n");
	char *dbl = repeat("1", RESP_MAX_DOUBLE_LINE + 1, "\r\n");
	char *long_dbl = repeat("1", RESP_MAX_DOUBLE_LINE + 2, "\r\n");

	ok[0] = '+';
	long_line[0] = '-';
	cr_assert_eq(parse1(RESP_MODE_REPLY, ok, strlen(ok), &p), (ssize_t)strlen(ok));
	cr_assert_eq(p.value.top.len, RESP_MAX_LINE);
	cr_assert_eq(parse1(RESP_MODE_REPLY, long_line, strlen(long_line), &p), RESP_ERROR);
	cr_assert_eq(parse1(RESP_MODE_REQUEST, inline_ok, strlen(inline_ok), &p), (ssize_t)strlen(inline_ok));
	cr_assert_eq(p.value.top.len, RESP_MAX_LINE / 2);
	cr_assert_eq(parse1(RESP_MODE_REQUEST, inline_long, strlen(inline_long), &p), RESP_ERROR);
	dbl[0] = long_dbl[0] = ',';
	cr_assert_eq(parse1(RESP_MODE_REPLY, dbl, strlen(dbl), &p), (ssize_t)strlen(dbl));
	cr_assert_eq(parse1(RESP_MODE_REPLY, long_dbl, strlen(long_dbl), &p), RESP_ERROR);
	free(ok);
	free(long_line);
	free(inline_ok);
	free(inline_long);
	free(dbl);
	free(long_dbl);
}

/* A huge declared length is never allocated: a hostile peer costs no memory. */
Test(resp_limits, hostile_lengths_cost_nothing)
{
	struct resp_parser p;
	static const char s[] = "*2147483647\r\n$536870912\r\nxyz";

	cr_assert_eq(parse1(RESP_MODE_REPLY, s, sizeof(s) - 1, &p), RESP_NEED_MORE);
	cr_assert_eq(p.depth, 1);
	cr_assert_eq(p.bulk_left, 536870912ull - 3);
	cr_assert_eq(sizeof(p) < 4096, 1);
}

/* ---- gaps ---- */

Test(resp_skip, inside_bulk_only)
{
	struct resp_parser p;

	/* Skipped inside a reply's payload, then the end and the next value. */
	cr_assert_eq(parse1(RESP_MODE_REPLY, "$10\r\nab", 7, &p), RESP_NEED_MORE);
	cr_assert_eq(resp_skip(&p, 0), 0);
	cr_assert_eq(resp_skip(&p, 11), RESP_ERROR, "past the CRLF");
	cr_assert_eq(resp_skip(&p, 8), 0);
	cr_assert_eq(resp_parse(&p, "\r\n+OK\r\n", 7), 2);
	cr_assert_eq(p.value.top.len, 10);
	cr_assert_eq(resp_parse(&p, "+OK\r\n", 5), 5);
	/* The gap may take the CRLF too: the CR, or both, which ends the value. */
	cr_assert_eq(parse1(RESP_MODE_REPLY, "$10\r\nab", 7, &p), RESP_NEED_MORE);
	cr_assert_eq(resp_skip(&p, 9), 0);
	cr_assert_eq(resp_parse(&p, "\r", 1), RESP_ERROR, "LF expected");
	cr_assert_eq(parse1(RESP_MODE_REPLY, "$10\r\nab", 7, &p), RESP_NEED_MORE);
	cr_assert_eq(resp_skip(&p, 9), 0);
	cr_assert_eq(resp_skip(&p, 1), 1);
	cr_assert_eq(p.value.top.type, RESP_BULK);
	cr_assert_eq(p.value.top.len, 10);
	cr_assert_eq(p.value.top.head_len, 2, "the head stops at the gap");
	cr_assert(resp_parser_between(&p));
	cr_assert_eq(resp_parse(&p, ":1\r\n", 4), 4);
	cr_assert_eq(p.value.top.type, RESP_INTEGER);
	/* The last element of an array: the array ends with the gap; an earlier one: it goes on. */
	cr_assert_eq(parse1(RESP_MODE_REQUEST, "*2\r\n$3\r\nGET\r\n$5\r\nab", 19, &p), RESP_NEED_MORE);
	cr_assert_eq(resp_skip(&p, 5), 1);
	cr_assert_eq(p.value.top.len, 2);
	cr_assert_eq(p.value.elems[1].len, 5);
	cr_assert_eq(parse1(RESP_MODE_REPLY, "*2\r\n$3\r\nab", 10, &p), RESP_NEED_MORE);
	cr_assert_eq(resp_skip(&p, 3), 0);
	cr_assert_eq(resp_parse(&p, ":7\r\n", 4), 4);
	cr_assert_eq(p.value.elems[1].integer, 7);

	/* Not between values, not inside a header. */
	resp_parser_init(&p, RESP_MODE_REPLY);
	cr_assert_eq(resp_skip(&p, 1), RESP_ERROR);
	cr_assert_eq(resp_parse(&p, "$3", 2), RESP_NEED_MORE);
	cr_assert_eq(resp_skip(&p, 1), RESP_ERROR);
	cr_assert_eq(resp_parse(&p, "\r\nabc", 5), RESP_NEED_MORE);
	cr_assert_eq(resp_skip(&p, 3), RESP_ERROR, "payload done: only the CRLF is left");
	cr_assert_eq(resp_parse(&p, "\r\n", 2), 2);

	/* A command name cut by the gap shows it: its head stays short of its length. */
	resp_parser_init(&p, RESP_MODE_REQUEST);
	cr_assert_eq(resp_parse(&p, "*2\r\n$3\r\nSE", 10), RESP_NEED_MORE);
	cr_assert_eq(resp_skip(&p, 1), 0);
	/* An argument of 100 bytes: its tail is skipped, its head kept. */
	cr_assert_eq(resp_parse(&p, "\r\n$100\r\n0123456789012345678901234567890123456789", 48), RESP_NEED_MORE);
	cr_assert_eq(resp_skip(&p, 60), 0);
	cr_assert_eq(resp_parse(&p, "\r\n", 2), 2);
	cr_assert_eq(p.value.top.len, 2);
	cr_assert_eq(p.value.elems[0].len, 3);
	cr_assert_eq(p.value.elems[0].head_len, 2);
	cr_assert_eq(p.value.elems[1].len, 100);
	cr_assert_eq(p.value.elems[1].head_len, RESP_HEAD_MAX);
	cr_assert_eq(memcmp(p.value.elems[1].head, "0123456789", 10), 0);
	/* A third element (not recorded past RESP_KEEP_ELEMS) skips freely. */
	resp_parser_init(&p, RESP_MODE_REQUEST);
	cr_assert_eq(resp_parse(&p, "*4\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$5\r\n", 29), RESP_NEED_MORE);
	cr_assert_eq(resp_skip(&p, 5), 0);
	cr_assert_eq(resp_parse(&p, "\r\n", 2), 2);
}

/* ---- detection ---- */

static int looks(const char *s, size_t len)
{
	struct guard g = guard_new(len);
	int r = resp_looks_like(guard_put(&g, s, len), len);

	guard_free(&g);
	return r;
}

static int looks_str(const char *s)
{
	return looks(s, strlen(s));
}

/* Every recorded stream's first value is recognised, and no prefix of it is refused. */
Test(resp_detect, recorded_first_bytes)
{
	for (size_t i = 0; i < REC_LEN(cases); i++) {
		const struct stream_case *c = &cases[i];
		size_t len;
		char *s = rec_stream(c->rec, c->dir, &len);
		int want = c->dir == REC_REQ ? RESP_LOOKS_REQUEST : RESP_LOOKS_REPLY;
		/* CONFIG GET's answer ["save", ""] is word for word the command SAVE "": only its
		 * direction tells, detection just says RESP. */
		int also = c->rec == &rec_bench_config ? RESP_LOOKS_REQUEST : want;

		/* Inline commands are only recognised in capitals (PING, CLIENT): these are. */
		cr_assert(looks(s, len) == want || looks(s, len) == also, "%s %d: %d", c->rec->name, c->dir,
			  looks(s, len));
		for (size_t k = 1; k < len && k < 64; k++) {
			int r = looks(s, k);

			cr_assert(r == RESP_NEED_MORE || r == want || r == also, "%s %d: prefix of %zu: %d",
				  c->rec->name, c->dir, k, r);
		}
		free(s);
	}
}

Test(resp_detect, strong_evidence_only)
{
	/* Requests: a known command, in an array or inline in capitals. */
	cr_assert_eq(looks_str("*1\r\n$4\r\nPING\r\n"), RESP_LOOKS_REQUEST);
	cr_assert_eq(looks_str("*2\r\n$3\r\nget\r\n$1\r\nk\r\n"), RESP_LOOKS_REQUEST);
	cr_assert_eq(looks_str("*2\r\n$3\r\nget\r\n$1\r\nk"), RESP_NEED_MORE, "whole commands only");
	cr_assert_eq(looks_str("*3\r\n$3\r\nSE"), RESP_NEED_MORE);
	/* A pub/sub confirmation starts like SUBSCRIBE: its integer says reply. */
	cr_assert_eq(looks_str("*3\r\n$9\r\nsubscribe\r\n$4\r\nnews\r\n:1\r\n"), RESP_LOOKS_REPLY);
	cr_assert_eq(looks_str("PING\r\n"), RESP_LOOKS_REQUEST);
	cr_assert_eq(looks_str("PING\n"), RESP_LOOKS_REQUEST);
	cr_assert_eq(looks_str("SET k \"v w\"\r\n"), RESP_LOOKS_REQUEST);
	cr_assert_eq(looks_str("PING"), RESP_NEED_MORE);
	cr_assert_eq(looks_str("SET key"), RESP_NEED_MORE);
	cr_assert_eq(looks_str("ping\r\n"), 0, "lowercase inline: memcached's commands look like it");
	cr_assert_eq(looks_str("FOO bar\r\n"), 0);
	cr_assert_eq(looks_str("PINGX\r\n"), 0);
	cr_assert_eq(looks_str("SET k\rv\r\n"), 0);
	cr_assert_eq(looks_str("SET k \x01\r\n"), 0);
	/* An array of bulk strings not starting with a command is a reply. */
	cr_assert_eq(looks_str("*2\r\n$3\r\nfoo\r\n$3\r\nbar\r\n"), RESP_LOOKS_REPLY);
	cr_assert_eq(looks_str("*2\r\n$3\r\nfoo\r\n"), RESP_LOOKS_REPLY);
	cr_assert_eq(looks_str("*2\r\n:1\r\n"), RESP_LOOKS_REPLY);
	/* Replies: complete values; one header alone is not enough. */
	cr_assert_eq(looks_str("+OK\r\n"), RESP_LOOKS_REPLY);
	cr_assert_eq(looks_str("-ERR unknown command\r\n"), RESP_LOOKS_REPLY);
	cr_assert_eq(looks_str(":1\r\n"), RESP_LOOKS_REPLY);
	cr_assert_eq(looks_str("$-1\r\n"), RESP_LOOKS_REPLY);
	cr_assert_eq(looks_str("_\r\n"), RESP_LOOKS_REPLY);
	cr_assert_eq(looks_str("$5\r\nhel"), RESP_NEED_MORE);
	cr_assert_eq(looks_str("*2\r\n"), RESP_NEED_MORE);
	cr_assert_eq(looks_str("+OK"), RESP_NEED_MORE);
	cr_assert_eq(looks_str("+OK\r\x01"), 0);
	cr_assert_eq(looks_str("+\x80\x81\r\n"), 0, "status lines are text");
	cr_assert_eq(looks_str("-err lowercase\r\n"), 0, "error codes are capitals");
	cr_assert_eq(looks_str(":12x\r\n"), 0);
	/* A big bulk string still open after RESP_DETECT_MAX bytes: a reply; in a command, a command. */
	char *big = repeat("x", RESP_DETECT_MAX + 10, "");
	static const char set_big[] = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$100000\r\n";

	memcpy(big, set_big, sizeof(set_big) - 1);
	cr_assert_eq(looks(big, RESP_DETECT_MAX + 10), RESP_LOOKS_REQUEST);
	cr_assert_eq(looks(big, RESP_DETECT_MAX - 1), RESP_NEED_MORE);
	memcpy(big, "$100000\r\n", 9);
	cr_assert_eq(looks(big, RESP_DETECT_MAX + 10), RESP_LOOKS_REPLY);
	free(big);
	/* A simple string that never ends by then: not. */
	big = repeat("x", RESP_DETECT_MAX + 10, "");
	big[0] = '+';
	cr_assert_eq(looks(big, RESP_DETECT_MAX + 10), 0);
	cr_assert_eq(looks(big, RESP_DETECT_MAX - 1), RESP_NEED_MORE);
	free(big);
}

/* What other protocols start with never looks like RESP. */
Test(resp_detect, other_protocols)
{
	static const unsigned char tls_client_hello[] = {
		0x16, 0x03, 0x01, 0x00, 0xf8, 0x01, 0x00, 0x00, 0xf4, 0x03, 0x03, 0x5b, 0x2a, 0x3c, 0x9d,
		0x11, 0xe4, 0x07, 0x6a, 0x2d, 0x93, 0x57, 0x0e, 0xbb, 0x4f, 0x81, 0x1c, 0x3a, 0x62, 0x0d,
		0x28, 0x14, 0xb0, 0x5f, 0xc1, 0x87, 0x33, 0x2e, 0x9a, 0x41, 0x6c, 0xd2, 0x20, 0x0a, 0x9e,
		0x8c, 0x2f, 0x13, 0x02, 0x13, 0x01, 0x00, 0x3e, 0xc0, 0x2c, 0xc0, 0x30, 0x00, 0x9f, 0xcc,
		0xa9, 0xcc, 0xa8, 0xcc, 0xaa, 0xc0, 0x2b, 0xc0, 0x2f, 0x00, 0x9e, 0x01, 0x00, 0x00, 0x8d,
		0x00, 0x00, 0x00, 0x0e, 0x00, 0x0c, 0x00, 0x00, 0x09, 0x6c, 0x6f, 0x63, 0x61, 0x6c, 0x68,
		0x6f, 0x73, 0x74, 0x00, 0x0b, 0x00, 0x04, 0x03, 0x00, 0x01, 0x02,
	};
	static const unsigned char h2_preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
		"\x00\x00\x12\x04\x00\x00\x00\x00\x00\x00\x03\x00\x00\x00\x64\x00\x04\x00\x00\xff\xff";
	static const unsigned char h2_settings[] = { 0x00, 0x00, 0x06, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00,
						     0x00, 0x03, 0x00, 0x00, 0x00, 0x64 };
	static const unsigned char pg_startup[] = { 0x00, 0x00, 0x00, 0x08, 0x04, 0xd2, 0x16, 0x2f };
	static const char *const texts[] = {
		"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n",
		"GET /index.html HTTP/1.0\r\n\r\n",
		"GET /\r\n", /* HTTP/0.9 */
		"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
		"POST /api HTTP/1.1\r\n",
		"MOVE /a HTTP/1.1\r\nDestination: /b\r\n\r\n",
		"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n",
		"220 mail.example.com ESMTP Postfix\r\n",
		"EHLO client.example.com\r\n",
		"get foo\r\n",
		"set foo 0 0 3\r\nbar\r\n",
		"VALUE foo 0 3\r\nbar\r\nEND\r\n",
		":irc.example.net 001 nick :Welcome\r\n",
		"NICK sockspan\r\nUSER s 0 * :s\r\n",
		"{\"jsonrpc\":\"2.0\",\"method\":\"ping\"}\n",
		"<?xml version=\"1.0\"?>\n",
		"* OK IMAP4rev1 ready\r\n",
		"+OK POP3 server ready \x80\r\n",
		"-\r\n",
		"$$$$\r\n",
		"*\r\n",
	};

	cr_assert_eq(looks((const char *)tls_client_hello, sizeof(tls_client_hello)), 0);
	cr_assert_eq(looks((const char *)h2_preface, sizeof(h2_preface) - 1), 0);
	cr_assert_eq(looks((const char *)h2_settings, sizeof(h2_settings)), 0);
	cr_assert_eq(looks((const char *)pg_startup, sizeof(pg_startup)), 0);
	for (size_t i = 0; i < REC_LEN(texts); i++) {
		int r = looks_str(texts[i]);

		cr_assert_eq(r, 0, "\"%s\" looks like RESP: %d", texts[i], r);
	}
	/* Nested headers without a value are refused at the depth limit. */
	char *deep = repeat("*1\r\n", RESP_MAX_DEPTH + 1, "");
	cr_assert_eq(looks_str(deep), 0);
	free(deep);
}

/* Random bytes: never RESP, whatever they start with. */
Test(resp_detect, random_bytes)
{
	static const char types[] = "+-:$*_,#(!=%~|>";
	unsigned char buf[64];
	unsigned yes = 0, more = 0;

	for (int round = 0; round < 1000000; round++) {
		size_t len = 1 + rng() % sizeof(buf);
		int r;

		for (size_t i = 0; i < len; i++)
			buf[i] = (unsigned char)rng();
		/* A quarter start with a type byte, a quarter with a command-like capital word. */
		if (round % 4 == 1)
			buf[0] = (unsigned char)types[rng() % (sizeof(types) - 1)];
		if (round % 4 == 2)
			buf[0] = (unsigned char)('A' + rng() % 26);
		r = resp_looks_like((const char *)buf, len);
		yes += r == RESP_LOOKS_REQUEST || r == RESP_LOOKS_REPLY;
		more += r == RESP_NEED_MORE && len >= 8;
	}
	cr_assert_eq(yes, 0, "%u random buffers looked like RESP", yes);
	/* Past a few bytes valid prefixes are rare too: the tracker stops buffering quickly. */
	cr_assert_lt(more, 1000000 / 1000, "%u random buffers of 8 bytes or more were valid prefixes", more);
}

/* Random printable text lines (the likeliest misfits): never RESP either. */
Test(resp_detect, random_text_lines)
{
	static const char chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 "
				    "+-:$*_,#(!=%~|>/.\t";
	char buf[80];
	unsigned yes = 0;

	for (int round = 0; round < 300000; round++) {
		size_t len = 1 + rng() % (sizeof(buf) - 2);
		int r;

		for (size_t i = 0; i < len; i++)
			buf[i] = chars[rng() % (sizeof(chars) - 1)];
		buf[len] = '\r';
		buf[len + 1] = '\n';
		r = resp_looks_like(buf, len + 2);
		if (r == RESP_LOOKS_REQUEST || r == RESP_LOOKS_REPLY) {
			/* Text that is RESP grammar: "+text", "-ERR text", an inline
			 * command; otherwise only a short line like ":12", "#t", "*0". */
			bool text = (buf[0] >= 'A' && buf[0] <= 'Z') || buf[0] == '+' || buf[0] == '-';

			cr_assert(text || len <= 8, "\"%.*s\" looks like RESP", (int)len, buf);
			yes += !text;
		}
	}
	cr_assert_lt(yes, 300, "%u random lines looked like RESP scalars", yes);
}

/* ---- the command table ---- */

Test(resp_commands, table)
{
	/* Every command of Redis 7.0's COMMAND LIST is found, in any case: the table is sorted. */
	static const char *const all[] = {
		"acl", "append", "asking", "auth", "bgrewriteaof", "bgsave", "bitcount", "bitfield",
		"bitfield_ro", "bitop", "bitpos", "blmove", "blmpop", "blpop", "brpop", "brpoplpush", "bzmpop",
		"bzpopmax", "bzpopmin", "client", "cluster", "command", "config", "copy", "dbsize", "debug",
		"decr", "decrby", "del", "discard", "dump", "echo", "eval", "eval_ro", "evalsha", "evalsha_ro",
		"exec", "exists", "expire", "expireat", "expiretime", "failover", "fcall", "fcall_ro",
		"flushall", "flushdb", "function", "geoadd", "geodist", "geohash", "geopos", "georadius",
		"georadius_ro", "georadiusbymember", "georadiusbymember_ro", "geosearch", "geosearchstore",
		"get", "getbit", "getdel", "getex", "getrange", "getset", "hdel", "hello", "hexists", "hget",
		"hgetall", "hincrby", "hincrbyfloat", "hkeys", "hlen", "hmget", "hmset", "hrandfield", "hscan",
		"hset", "hsetnx", "hstrlen", "hvals", "incr", "incrby", "incrbyfloat", "info", "keys",
		"lastsave", "latency", "lcs", "lindex", "linsert", "llen", "lmove", "lmpop", "lolwut", "lpop",
		"lpos", "lpush", "lpushx", "lrange", "lrem", "lset", "ltrim", "memory", "mget", "migrate",
		"module", "monitor", "move", "mset", "msetnx", "multi", "object", "persist", "pexpire",
		"pexpireat", "pexpiretime", "pfadd", "pfcount", "pfdebug", "pfmerge", "pfselftest", "ping",
		"psetex", "psubscribe", "psync", "pttl", "publish", "pubsub", "punsubscribe", "quit",
		"randomkey", "readonly", "readwrite", "rename", "renamenx", "replconf", "replicaof", "reset",
		"restore", "restore-asking", "role", "rpop", "rpoplpush", "rpush", "rpushx", "sadd", "save",
		"scan", "scard", "script", "sdiff", "sdiffstore", "select", "set", "setbit", "setex", "setnx",
		"setrange", "shutdown", "sinter", "sintercard", "sinterstore", "sismember", "slaveof",
		"slowlog", "smembers", "smismember", "smove", "sort", "sort_ro", "spop", "spublish",
		"srandmember", "srem", "sscan", "ssubscribe", "strlen", "subscribe", "substr", "sunion",
		"sunionstore", "sunsubscribe", "swapdb", "sync", "time", "touch", "ttl", "type", "unlink",
		"unsubscribe", "unwatch", "wait", "watch", "xack", "xadd", "xautoclaim", "xclaim", "xdel",
		"xgroup", "xinfo", "xlen", "xpending", "xrange", "xread", "xreadgroup", "xrevrange", "xsetid",
		"xtrim", "zadd", "zcard", "zcount", "zdiff", "zdiffstore", "zincrby", "zinter", "zintercard",
		"zinterstore", "zlexcount", "zmpop", "zmscore", "zpopmax", "zpopmin", "zrandmember", "zrange",
		"zrangebylex", "zrangebyscore", "zrangestore", "zrank", "zrem", "zremrangebylex",
		"zremrangebyrank", "zremrangebyscore", "zrevrange", "zrevrangebylex", "zrevrangebyscore",
		"zrevrank", "zscan", "zscore", "zunion", "zunionstore",
	};
	static const char *const containers[] = {
		"acl", "client", "cluster", "command", "config", "function", "latency", "memory", "module",
		"object", "pubsub", "script", "slowlog", "xgroup", "xinfo",
	};
	static const char *const unknown[] = { "", "a", "ge", "gets", "sett", "zzz", "ft.search",
					       "GET ", "client|list", "aclx" };

	for (size_t i = 0; i < REC_LEN(all); i++) {
		char upper[32];
		size_t n = strlen(all[i]);

		for (size_t k = 0; k <= n; k++)
			upper[k] = all[i][k] >= 'a' && all[i][k] <= 'z' ? (char)(all[i][k] - 32) : all[i][k];
		cr_assert(resp_command_flags(all[i], n) & RESP_CMD_KNOWN, "%s", all[i]);
		cr_assert(resp_command_flags(upper, n) & RESP_CMD_KNOWN, "%s", upper);
	}
	for (size_t i = 0; i < REC_LEN(containers); i++)
		cr_assert_eq(resp_command_flags(containers[i], strlen(containers[i])),
			     RESP_CMD_KNOWN | RESP_CMD_CONTAINER, "%s", containers[i]);
	cr_assert_eq(resp_command_flags("get", 3), RESP_CMD_KNOWN);
	cr_assert_eq(resp_command_flags("get\0", 4), 0);
	for (size_t i = 0; i < REC_LEN(unknown); i++)
		cr_assert_eq(resp_command_flags(unknown[i], strlen(unknown[i])), 0, "%s", unknown[i]);
}
