/*
 * libFuzzer target for user/resp_parser.c, and user/redis_session.c behind
 * user/conn_tracker.c.
 *
 * Input, as fuzz_h2_session.c reads it: one byte of role (enum ss_role,
 * modulo 3; bit 7 turns db.statement on), then events, each a control byte
 * and a 16-bit big-endian length, then that many bytes:
 *   bit 0: direction (enum ss_dir)
 *   bit 1: the bytes are lost (the next event shows a gap)
 *   bit 2: only the first half is captured (a truncated payload)
 *   bit 3: a close event follows
 * The seed corpus holds the recorded conversations of
 * tests/unit/resp_recordings.h in this format.
 *
 * The bytes of each direction, and the raw input, are parsed as requests and
 * as replies: whole, split at a point the input picks, byte by byte, and with
 * a gap skipped; every way must find the same values, within the limits, and
 * never read past the buffer (exact-size heap copies, so ASan sees it). The
 * events then go through the tracker: detection and the session must never
 * crash, and every span must be well formed.
 *
 *   ./build/fuzz/fuzz_resp_parser tests/fuzz/corpus/resp_parser
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "capture/clock.h"
#include "fuzz_pipeline.h"
#include "parse/resp_parser.h"
#include "sockspan_event.h"
#include "span/span.h"

/* Streams fed byte by byte too, up to this size: bigger ones add little. */
#define FUZZ_BYTEWISE_MAX 4096
/* Values compared between the ways of feeding a stream. */
#define FUZZ_MAX_VALUES 256

#define CHECK(cond) \
	do { \
		if (!(cond)) \
			abort(); \
	} while (0)

static char *copy(const void *src, size_t len)
{
	char *p = malloc(len ? len : 1);

	CHECK(p != NULL);
	if (len)
		memcpy(p, src, len);
	return p;
}

static void check_elem(const struct resp_elem *e)
{
	CHECK(e->head_len <= RESP_HEAD_MAX);
	switch (e->type) {
	case RESP_SIMPLE: case RESP_ERROR_LINE: case RESP_BIGNUM: case RESP_DOUBLE:
		CHECK(e->len <= RESP_MAX_LINE && e->head_len == (e->len < RESP_HEAD_MAX ? e->len : RESP_HEAD_MAX));
		break;
	case RESP_BULK: case RESP_BLOB_ERROR: case RESP_VERBATIM:
		CHECK(e->len <= RESP_MAX_BULK_LEN && e->head_len <= e->len);
		break;
	case RESP_ARRAY: case RESP_MAP: case RESP_SET: case RESP_ATTRIBUTE: case RESP_PUSH:
		CHECK(e->len <= RESP_MAX_ELEMENTS);
		break;
	case RESP_INTEGER: case RESP_NULL: case RESP_BOOLEAN: case RESP_INLINE:
		break;
	default:
		CHECK(0);
	}
}

/* What a way of feeding found: where each value ended, and how it stopped. */
struct outcome {
	size_t n;
	size_t ends[FUZZ_MAX_VALUES];
	uint8_t types[FUZZ_MAX_VALUES];
	uint64_t lens[FUZZ_MAX_VALUES];
	int error;
};

static void record(struct outcome *o, const struct resp_parser *p, size_t end)
{
	const struct resp_value *v = &p->value;

	check_elem(&v->top);
	CHECK(v->top.type != RESP_ATTRIBUTE);
	for (size_t i = 0; i < RESP_KEEP_ELEMS; i++)
		if (v->elems[i].type)
			check_elem(&v->elems[i]);
	if (p->mode == RESP_MODE_REQUEST) {
		CHECK(v->top.type == RESP_ARRAY || v->top.type == RESP_INLINE);
		CHECK(v->top.len > 0);
	}
	CHECK(p->depth == 0 && resp_parser_between(p));
	if (o->n < FUZZ_MAX_VALUES) {
		o->ends[o->n] = end;
		o->types[o->n] = v->top.type;
		o->lens[o->n] = v->top.len;
	}
	o->n++;
}

/* Feeds s in pieces ending at the increasing cuts (the last one is len).
 * own_copies: each piece in an allocation of its own size, so ASan sees a
 * read past it; else pieces point into s (byte by byte, that is much faster). */
static void feed(enum resp_mode mode, const uint8_t *s, size_t len, const size_t *cuts, size_t ncuts,
		 bool own_copies, struct outcome *o)
{
	struct resp_parser p;
	size_t pos = 0;

	resp_parser_init(&p, mode);
	memset(o, 0, sizeof(*o));
	CHECK(ncuts == 0 || cuts[ncuts - 1] == len);
	for (size_t k = 0; k < ncuts && !o->error; k++) {
		while (pos < cuts[k]) {
			size_t avail = cuts[k] - pos;
			char *piece = own_copies ? copy(s + pos, avail) : (char *)s + pos;
			ssize_t r = resp_parse(&p, piece, avail);

			if (own_copies)
				free(piece);
			CHECK(p.depth <= RESP_MAX_DEPTH);
			if (r == RESP_NEED_MORE) {
				pos = cuts[k];
				break;
			}
			if (r == RESP_ERROR) {
				o->error = 1;
				/* Sticky. */
				CHECK(resp_parse(&p, "+OK\r\n", 5) == RESP_ERROR);
				break;
			}
			CHECK(r > 0 && (size_t)r <= avail);
			pos += (size_t)r;
			record(o, &p, pos);
		}
	}
}

static void same(const struct outcome *a, const struct outcome *b)
{
	CHECK(a->n == b->n && a->error == b->error);
	for (size_t i = 0; i < a->n && i < FUZZ_MAX_VALUES; i++)
		CHECK(a->ends[i] == b->ends[i] && a->types[i] == b->types[i] && a->lens[i] == b->lens[i]);
}

/* Feeds a prefix, skips a gap the input picks if the parser can, and goes on. */
static void skip_then_feed(enum resp_mode mode, const uint8_t *s, size_t len, uint64_t seed)
{
	struct resp_parser p;
	size_t cut = len ? (size_t)(seed % (len + 1)) : 0;
	char *a = copy(s, cut);
	ssize_t r;

	resp_parser_init(&p, mode);
	r = resp_parse(&p, a, cut);
	free(a);
	if (r == RESP_NEED_MORE) {
		struct resp_parser before = p;
		uint64_t n = (seed >> 16) % 64;
		int k = resp_skip(&p, n);

		if (k < 0) {
			CHECK(memcmp(&before, &p, sizeof(p)) == 0);
		} else {
			CHECK(n == 0 || before.state == RESP_ST_BULK || before.state == RESP_ST_BULK_CR ||
			      before.state == RESP_ST_BULK_LF);
			if (k == 1)
				record(&(struct outcome){ 0 }, &p, 0);
		}
		if (cut + n < len) {
			char *b = copy(s + cut + n, len - cut - n);

			r = resp_parse(&p, b, len - cut - n);
			CHECK(r == RESP_ERROR || r == RESP_NEED_MORE || (r > 0 && (size_t)r <= len - cut - n));
			free(b);
		}
	}
}

static void fuzz_stream(enum resp_mode mode, const uint8_t *s, size_t len, uint64_t seed)
{
	struct outcome *whole = malloc(sizeof(*whole)), *other = malloc(sizeof(*other));
	size_t cuts[2];

	CHECK(whole && other);
	cuts[0] = len;
	feed(mode, s, len, cuts, 1, true, whole);
	if (len > 1) {
		cuts[0] = 1 + (size_t)(seed % (len - 1));
		cuts[1] = len;
		feed(mode, s, len, cuts, 2, true, other);
		same(whole, other);
	}
	if (len <= FUZZ_BYTEWISE_MAX) {
		size_t *bytes = malloc((len + 1) * sizeof(*bytes));

		CHECK(bytes != NULL);
		for (size_t i = 0; i < len; i++)
			bytes[i] = i + 1;
		feed(mode, s, len, bytes, len, false, other);
		same(whole, other);
		free(bytes);
	}
	skip_then_feed(mode, s, len, seed);
	free(whole);
	free(other);
}

static void fuzz_detect(const uint8_t *s, size_t len)
{
	char *buf = copy(s, len);
	int r = resp_looks_like(buf, len);

	CHECK(r == 0 || r == RESP_LOOKS_REQUEST || r == RESP_LOOKS_REPLY || r == RESP_NEED_MORE);
	CHECK(r != RESP_NEED_MORE || len < RESP_DETECT_MAX);
	free(buf);
}

static uint64_t seed_of(const uint8_t *data, size_t len)
{
	uint64_t h = 1469598103934665603u;

	for (size_t i = 0; i < len && i < 16; i++)
		h = (h ^ data[len - 1 - i]) * 1099511628211u;
	return h;
}

/* ---- the session through the tracker ---- */

static void sink(void *ctx, const struct span *s)
{
	const char *sys = span_tag(s, "db.system"), *op = span_tag(s, "db.operation");

	(void)ctx;
	CHECK(strlen(s->name) > 0 && strlen(s->name) < SPAN_NAME_MAX && s->num_tags <= SPAN_MAX_TAGS);
	CHECK(sys && strcmp(sys, "redis") == 0 && op && strcmp(op, s->name) == 0);
	/* Names are the command in lowercase: never argument bytes. */
	for (const char *p = s->name; *p; p++)
		CHECK((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || strchr("._:- ", *p));
}

static struct ss_event event_at(uint8_t role, enum ss_dir dir, uint32_t seq, uint64_t ts, uint64_t ino)
{
	struct ss_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.ts_ns = ts;
	ev.sock_ino = ino;
	ev.tgid = ev.tid = 7;
	ev.fd = 3;
	ev.seq = seq;
	ev.type = SS_EV_DATA;
	ev.dir = dir;
	ev.role = role;
	ev.family = 2;
	ev.lport = 6379;
	ev.rport = 40000;
	memcpy(ev.comm, "fuzz", 4);
	return ev;
}

static void fuzz_session(const uint8_t *data, size_t size, uint8_t **streams, size_t *lens)
{
	struct fuzz_pipeline pl;
	struct conn_tracker *t;
	uint32_t seq[2] = { 0xfffff000u, 0x7ffff000u };
	uint64_t ts = 1000000000ull, ino = 1;
	uint8_t role = data[0] % 3;
	size_t off = 1;

	CHECK(fuzz_pipeline_new(&pl, sink, data[0] & 0x80, 16) == 0);
	t = pl.tracker;
	while (off + 3 <= size) {
		uint8_t ctl = data[off];
		size_t len = (size_t)data[off + 1] << 8 | data[off + 2];
		enum ss_dir dir = ctl & 1 ? SS_DIR_INGRESS : SS_DIR_EGRESS;
		struct ss_event ev = event_at(role, dir, seq[dir], ts += 1000, ino);

		off += 3;
		if (len > size - off)
			len = size - off;
		memcpy(streams[dir] + lens[dir], data + off, len);
		lens[dir] += len;
		ev.len = (uint32_t)len;
		ev.cap_len = ctl & 4 ? (uint32_t)len / 2 : (uint32_t)len;
		seq[dir] += (uint32_t)len;
		if (!(ctl & 2)) {
			uint8_t *payload = (uint8_t *)copy(data + off, ev.cap_len);

			conn_tracker_event(t, &ev, payload);
			free(payload);
		}
		off += len;
		if (ctl & 8) {
			ev = event_at(role, SS_DIR_EGRESS, 0, ts += 1000, ino++);
			ev.type = SS_EV_CLOSE;
			conn_tracker_event(t, &ev, NULL);
		}
	}
	fuzz_pipeline_free(&pl);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	clock_sync();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t seed = seed_of(data, size);
	uint8_t *streams[2];
	size_t lens[2] = { 0, 0 };

	fuzz_detect(data, size);
	fuzz_stream(RESP_MODE_REQUEST, data, size, seed);
	fuzz_stream(RESP_MODE_REPLY, data, size, seed);
	if (size < 1)
		return 0;
	streams[0] = malloc(size);
	streams[1] = malloc(size);
	CHECK(streams[0] && streams[1]);
	fuzz_session(data, size, streams, lens);
	for (int d = 0; d < 2; d++) {
		fuzz_detect(streams[d], lens[d]);
		fuzz_stream(RESP_MODE_REQUEST, streams[d], lens[d], seed >> 1);
		fuzz_stream(RESP_MODE_REPLY, streams[d], lens[d], seed >> 1);
		free(streams[d]);
	}
	return 0;
}
