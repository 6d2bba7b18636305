/*
 * Unit tests for user/parse/trace_context.c.
 *
 * Values are the examples of the B3 README (openzipkin/b3-propagation), the
 * W3C Trace Context recommendation, and headers written by Envoy's Zipkin
 * tracer. Every value handed to a parser, and every header name, ends right
 * before a PROT_NONE page, so reading one byte too far crashes the test.
 */
#include <criterion/criterion.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "guard_page.h"
#include "parse/trace_context.h"

/* B3 README. */
#define T32 "80f198ee56343ba864fe8b2a57d3eff7"
#define S1 "e457b5a2e4d86bd1"
#define P1 "05e3ac9a4f6e3b90"
#define T16 "463ac35c9f6413ad"
#define S2 "a2fb4a1d1a96d312"
#define P2 "0020000000000001"
/* W3C Trace Context. */
#define W3T "0af7651916cd43dd8448eb211c80319c"
#define W3S "b7ad6b7169203331"
#define TP_SAMPLED "00-" W3T "-" W3S "-01"
#define TP_DENIED "00-" W3T "-" W3S "-00"
/* Envoy's Zipkin tracer. */
#define OT64 "a3ce929d0e0e4736"
#define Z16 "0000000000000000"
#define Z32 Z16 Z16

static const uint8_t t32_bytes[16] = { 0x80, 0xf1, 0x98, 0xee, 0x56, 0x34, 0x3b, 0xa8,
				       0x64, 0xfe, 0x8b, 0x2a, 0x57, 0xd3, 0xef, 0xf7 };
static const uint8_t s1_bytes[8] = { 0xe4, 0x57, 0xb5, 0xa2, 0xe4, 0xd8, 0x6b, 0xd1 };
static const uint8_t p1_bytes[8] = { 0x05, 0xe3, 0xac, 0x9a, 0x4f, 0x6e, 0x3b, 0x90 };
static const uint8_t t16_bytes[8] = { 0x46, 0x3a, 0xc3, 0x5c, 0x9f, 0x64, 0x13, 0xad };
static const uint8_t s2_bytes[8] = { 0xa2, 0xfb, 0x4a, 0x1d, 0x1a, 0x96, 0xd3, 0x12 };
static const uint8_t p2_bytes[8] = { 0x00, 0x20, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01 };
static const uint8_t w3t_bytes[16] = { 0x0a, 0xf7, 0x65, 0x19, 0x16, 0xcd, 0x43, 0xdd,
				       0x84, 0x48, 0xeb, 0x21, 0x1c, 0x80, 0x31, 0x9c };
static const uint8_t w3s_bytes[8] = { 0xb7, 0xad, 0x6b, 0x71, 0x69, 0x20, 0x33, 0x31 };
static const uint8_t ot64_bytes[8] = { 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36 };

/* Checks the ids of c exactly, padding included; parent NULL: none. */
static void expect_ids(const struct trace_context *c, enum tc_source src, const uint8_t *trace, size_t trace_len,
		       const uint8_t *span, const uint8_t *parent)
{
	uint8_t trace_want[16] = { 0 }, span_want[8] = { 0 }, parent_want[8] = { 0 };

	if (trace)
		memcpy(trace_want, trace, trace_len);
	if (span)
		memcpy(span_want, span, 8);
	if (parent)
		memcpy(parent_want, parent, 8);
	cr_assert_eq(c->source, src, "source %d, want %d", c->source, src);
	cr_assert_eq(c->trace_id_len, trace_len, "trace_id_len %u, want %zu", c->trace_id_len, trace_len);
	cr_assert_arr_eq(c->trace_id, trace_want, 16, "trace id");
	cr_assert_arr_eq(c->span_id, span_want, 8, "span id");
	cr_assert_eq(c->has_parent, parent != NULL, "has_parent");
	cr_assert_arr_eq(c->parent_id, parent_want, 8, "parent id");
}

/* Expected bytes written as hex in the tables below. */
static void unhex(const char *hex, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(sscanf(hex + 2 * i, "%2hhx", &out[i]), 1, "bad hex in test");
}

typedef ssize_t (*parse_fn)(const char *, size_t, struct trace_context *, enum tc_invalid *);

struct valid {
	const char *value;
	enum tc_source src;
	const char *trace, *span, *parent; /* hex; NULL: absent */
	enum tc_sampled sampled;
	bool debug;
};

struct invalid {
	const char *value;
	enum tc_invalid why;
};

static ssize_t parse_guarded(parse_fn fn, struct guard *g, const char *value, size_t len,
			     struct trace_context *c, enum tc_invalid *why)
{
	*why = TC_INVALID__COUNT;
	memset(c, 0xa5, sizeof(*c));
	return fn(guard_put(g, value, len), len, c, why);
}

static void run_valid(parse_fn fn, const struct valid *t, size_t n)
{
	struct guard g = guard_new(256);

	for (size_t i = 0; i < n; i++) {
		struct trace_context c;
		enum tc_invalid why;
		size_t len = strlen(t[i].value), tlen = t[i].trace ? strlen(t[i].trace) / 2 : 0;
		uint8_t trace[16], span[8], parent[8];
		ssize_t r = parse_guarded(fn, &g, t[i].value, len, &c, &why);

		cr_assert_eq(r, (ssize_t)len, "\"%s\": got %zd, why %d", t[i].value, r, why);
		if (t[i].trace)
			unhex(t[i].trace, trace, tlen);
		if (t[i].span)
			unhex(t[i].span, span, 8);
		if (t[i].parent)
			unhex(t[i].parent, parent, 8);
		expect_ids(&c, t[i].src, t[i].trace ? trace : NULL, tlen, t[i].span ? span : NULL,
			   t[i].parent ? parent : NULL);
		cr_assert_eq(c.sampled, t[i].sampled, "\"%s\": sampled %d", t[i].value, c.sampled);
		cr_assert_eq(c.debug, t[i].debug, "\"%s\": debug", t[i].value);
	}
	guard_free(&g);
}

static void run_invalid(parse_fn fn, const struct invalid *t, size_t n)
{
	struct guard g = guard_new(256);

	for (size_t i = 0; i < n; i++) {
		struct trace_context c;
		enum tc_invalid why;
		ssize_t r = parse_guarded(fn, &g, t[i].value, strlen(t[i].value), &c, &why);

		cr_assert_eq(r, TC_ERROR, "\"%s\": got %zd", t[i].value, r);
		cr_assert_eq(why, t[i].why, "\"%s\": why %d, want %d", t[i].value, why, t[i].why);
	}
	guard_free(&g);
}

/* Every prefix of every valid value fails, unless it is itself in the table
 * (which lists every valid prefix of its values). */
static void run_prefixes(parse_fn fn, const struct valid *t, size_t n)
{
	struct guard g = guard_new(256);

	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(t[i].value);

		for (size_t k = 0; k < len; k++) {
			struct trace_context c;
			enum tc_invalid why;
			ssize_t r = parse_guarded(fn, &g, t[i].value, k, &c, &why);
			bool listed = false;

			for (size_t j = 0; j < n; j++)
				listed |= strlen(t[j].value) == k && memcmp(t[j].value, t[i].value, k) == 0;
			if (listed) {
				cr_assert_eq(r, (ssize_t)k, "\"%.*s\" is valid, got %zd", (int)k, t[i].value, r);
			} else {
				cr_assert_eq(r, TC_ERROR, "\"%.*s\": got %zd", (int)k, t[i].value, r);
				cr_assert_lt(why, TC_INVALID_CONFLICT, "\"%.*s\": why %d", (int)k, t[i].value, why);
			}
		}
	}
	guard_free(&g);
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ---- hex ids ---- */

Test(tc_hex_id, both_widths)
{
	struct guard g = guard_new(32);
	enum tc_invalid why;
	uint8_t out[16];

	memset(out, 0xee, sizeof(out));
	cr_assert_eq(tc_parse_hex_id(guard_put(&g, T32, 32), 32, out, 16, &why), 32);
	cr_assert_arr_eq(out, t32_bytes, 16);
	memset(out, 0xee, sizeof(out));
	cr_assert_eq(tc_parse_hex_id(guard_put(&g, T16, 16), 16, out, 8, &why), 16);
	cr_assert_arr_eq(out, t16_bytes, 8);
	cr_assert_eq(out[8], 0xee, "wrote past nbytes");
	cr_assert_eq(tc_parse_hex_id(guard_put(&g, "0123456789abcdef", 16), 16, out, 8, &why), 16);
	cr_assert_arr_eq(out, ((uint8_t[]){ 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef }), 8);
	guard_free(&g);
}

Test(tc_hex_id, errors_leave_out_alone)
{
	static const struct {
		const char *hex;
		size_t nbytes;
		enum tc_invalid why;
	} t[] = {
		{ "", 8, TC_INVALID_LENGTH },
		{ T16, 16, TC_INVALID_LENGTH },
		{ T32, 8, TC_INVALID_LENGTH },
		{ T16 "0", 8, TC_INVALID_LENGTH },
		{ "463ac35c9f6413a", 8, TC_INVALID_LENGTH },
		{ T16, 4, TC_INVALID_LENGTH },
		{ T16, 0, TC_INVALID_LENGTH },
		{ "463AC35C9F6413AD", 8, TC_INVALID_HEX },
		{ "463ac35c9f6413aD", 8, TC_INVALID_HEX },
		{ "463ac35c9f6413ag", 8, TC_INVALID_HEX },
		{ "g63ac35c9f6413ad", 8, TC_INVALID_HEX },
		{ "463ac35c 9f6413a", 8, TC_INVALID_HEX },
		{ "463ac35c-9f6413a", 8, TC_INVALID_HEX },
		{ "0x63ac35c9f6413a", 8, TC_INVALID_HEX },
		{ "000000000000000g", 8, TC_INVALID_HEX },
		{ Z16, 8, TC_INVALID_ZERO },
		{ Z32, 16, TC_INVALID_ZERO },
	};
	struct guard g = guard_new(64);

	for (size_t i = 0; i < N(t); i++) {
		uint8_t out[16], fill[16];
		enum tc_invalid why = TC_INVALID__COUNT;
		size_t len = strlen(t[i].hex);

		memset(out, 0x5a, sizeof(out));
		memset(fill, 0x5a, sizeof(fill));
		cr_assert_eq(tc_parse_hex_id(guard_put(&g, t[i].hex, len), len, out, t[i].nbytes, &why), TC_ERROR,
			     "\"%s\"/%zu", t[i].hex, t[i].nbytes);
		cr_assert_eq(why, t[i].why, "\"%s\"/%zu: why %d", t[i].hex, t[i].nbytes, why);
		cr_assert_arr_eq(out, fill, 16, "\"%s\": out written on error", t[i].hex);
	}
	guard_free(&g);
}

Test(tc_hex_id, every_byte_value)
{
	struct guard g = guard_new(16);
	char hex[17];
	uint8_t out[8];
	enum tc_invalid why;

	/* Only 0-9a-f anywhere in the id. */
	for (int b = 0; b < 256; b++) {
		int ok = (b >= '0' && b <= '9') || (b >= 'a' && b <= 'f');

		memcpy(hex, "1000000000000000", 16);
		hex[15] = (char)b;
		cr_assert_eq(tc_parse_hex_id(guard_put(&g, hex, 16), 16, out, 8, &why), ok ? 16 : TC_ERROR,
			     "byte 0x%02x", b);
		if (!ok)
			cr_assert_eq(why, TC_INVALID_HEX, "byte 0x%02x", b);
	}
	guard_free(&g);
}

/* ---- b3 ---- */

static const struct valid b3_valid[] = {
	{ T32 "-" S1 "-1-" P1, TC_SRC_B3_SINGLE, T32, S1, P1, TC_SAMPLED_ACCEPT, false },
	{ T32 "-" S1 "-1", TC_SRC_B3_SINGLE, T32, S1, NULL, TC_SAMPLED_ACCEPT, false },
	{ T32 "-" S1, TC_SRC_B3_SINGLE, T32, S1, NULL, TC_SAMPLED_DEFER, false },
	{ T16 "-" S2 "-d-" P2, TC_SRC_B3_SINGLE, T16, S2, P2, TC_SAMPLED_ACCEPT, true },
	{ T16 "-" S2 "-d", TC_SRC_B3_SINGLE, T16, S2, NULL, TC_SAMPLED_ACCEPT, true },
	{ T16 "-" S2, TC_SRC_B3_SINGLE, T16, S2, NULL, TC_SAMPLED_DEFER, false },
	/* Starts with 0: its one-byte prefix is the valid "0". */
	{ W3T "-" W3S "-0", TC_SRC_B3_SINGLE, W3T, W3S, NULL, TC_SAMPLED_DENY, false },
	{ W3T "-" W3S, TC_SRC_B3_SINGLE, W3T, W3S, NULL, TC_SAMPLED_DEFER, false },
	/* A 128-bit id whose high half is zero keeps its width. */
	{ Z16 T16 "-" S2 "-0-" P2, TC_SRC_B3_SINGLE, Z16 T16, S2, P2, TC_SAMPLED_DENY, false },
	{ Z16 T16 "-" S2 "-0", TC_SRC_B3_SINGLE, Z16 T16, S2, NULL, TC_SAMPLED_DENY, false },
	{ Z16 T16 "-" S2, TC_SRC_B3_SINGLE, Z16 T16, S2, NULL, TC_SAMPLED_DEFER, false },
	{ "0", TC_SRC_NONE, NULL, NULL, NULL, TC_SAMPLED_DENY, false },
	{ "1", TC_SRC_NONE, NULL, NULL, NULL, TC_SAMPLED_ACCEPT, false },
	{ "d", TC_SRC_NONE, NULL, NULL, NULL, TC_SAMPLED_ACCEPT, true },
};

Test(tc_b3, valid_forms) { run_valid(tc_parse_b3, b3_valid, N(b3_valid)); }
Test(tc_b3, prefixes) { run_prefixes(tc_parse_b3, b3_valid, N(b3_valid)); }

Test(tc_b3, spec_example_bytes)
{
	static const char v[] = T32 "-" S1 "-1-" P1;
	struct guard g = guard_new(sizeof(v));
	struct trace_context c;
	enum tc_invalid why;

	cr_assert_eq(parse_guarded(tc_parse_b3, &g, v, sizeof(v) - 1, &c, &why), (ssize_t)sizeof(v) - 1);
	expect_ids(&c, TC_SRC_B3_SINGLE, t32_bytes, 16, s1_bytes, p1_bytes);
	cr_assert_eq(c.sampled, TC_SAMPLED_ACCEPT);
	cr_assert_not(c.debug);
	cr_assert_eq(parse_guarded(tc_parse_b3, &g, T16 "-" S2 "-0-" P2, 52, &c, &why), 52);
	expect_ids(&c, TC_SRC_B3_SINGLE, t16_bytes, 8, s2_bytes, p2_bytes);
	cr_assert_eq(c.sampled, TC_SAMPLED_DENY);
	guard_free(&g);
}

static const struct invalid b3_invalid[] = {
	{ "", TC_INVALID_LENGTH },
	{ "2", TC_INVALID_FORMAT },
	{ "D", TC_INVALID_FORMAT },
	{ "-", TC_INVALID_FORMAT },
	{ "true", TC_INVALID_FORMAT },
	{ "10", TC_INVALID_FORMAT },
	{ T32, TC_INVALID_FORMAT },
	{ T32 "-", TC_INVALID_FORMAT },
	{ "-" S1, TC_INVALID_FORMAT },
	{ T32 "--" S1, TC_INVALID_FORMAT },
	{ T32 "-" S1 "-", TC_INVALID_FORMAT },
	{ T32 "-" S1 "-1-", TC_INVALID_FORMAT },
	{ T32 "-" S1 "--" P1, TC_INVALID_FORMAT },
	{ T32 "-" S1 "-1-" P1 "-", TC_INVALID_FORMAT },
	{ T32 "-" S1 "-1-" P1 "-1", TC_INVALID_FORMAT },
	{ T32 "-" S1 "-" P1, TC_INVALID_FORMAT },   /* a parent needs the sampling state */
	{ T32 "-" S1 "-2", TC_INVALID_FORMAT },
	{ T32 "-" S1 "-D", TC_INVALID_FORMAT },
	{ T32 "-" S1 "-true", TC_INVALID_FORMAT },
	{ T32 "-" S1 "-11", TC_INVALID_FORMAT },
	{ T32 "-" S1 "-1-" P1 "0", TC_INVALID_LENGTH },
	{ T32 "-" S1 "-1-05e3ac9a4f6e3b9", TC_INVALID_LENGTH },
	{ T32 "0-" S1, TC_INVALID_LENGTH },
	{ "80f198ee56343ba864fe8b2a-" S1, TC_INVALID_LENGTH },
	{ T32 "-" S1 "0", TC_INVALID_LENGTH },
	{ T32 "-" T32, TC_INVALID_LENGTH },
	{ " " T32 "-" S1, TC_INVALID_LENGTH },
	{ "80F198EE56343BA864FE8B2A57D3EFF7-E457B5A2E4D86BD1", TC_INVALID_HEX },
	{ T32 "-E457B5A2E4D86BD1", TC_INVALID_HEX },
	{ T32 "-" S1 "-1-05E3AC9A4F6E3B90", TC_INVALID_HEX },
	{ "80f198ee56343ba8_4fe8b2a57d3eff7-" S1, TC_INVALID_HEX },
	{ Z32 "-" S1, TC_INVALID_ZERO },
	{ Z16 "-" S1 "-1", TC_INVALID_ZERO },
	{ T32 "-" Z16, TC_INVALID_ZERO },
	{ T32 "-" S1 "-1-" Z16, TC_INVALID_ZERO },
};

Test(tc_b3, invalid) { run_invalid(tc_parse_b3, b3_invalid, N(b3_invalid)); }

/* ---- traceparent ---- */

static const struct valid tp_valid[] = {
	{ TP_SAMPLED, TC_SRC_TRACEPARENT, W3T, W3S, NULL, TC_SAMPLED_ACCEPT, false },
	{ TP_DENIED, TC_SRC_TRACEPARENT, W3T, W3S, NULL, TC_SAMPLED_DENY, false },
	/* Only bit 0 decides; other flag bits (random, in level 2) are allowed. */
	{ "00-" T32 "-" S1 "-03", TC_SRC_TRACEPARENT, T32, S1, NULL, TC_SAMPLED_ACCEPT, false },
	{ "00-" T32 "-" S1 "-02", TC_SRC_TRACEPARENT, T32, S1, NULL, TC_SAMPLED_DENY, false },
	{ "00-" T32 "-" S1 "-ff", TC_SRC_TRACEPARENT, T32, S1, NULL, TC_SAMPLED_ACCEPT, false },
	{ "00-" T32 "-" S1 "-f0", TC_SRC_TRACEPARENT, T32, S1, NULL, TC_SAMPLED_DENY, false },
	{ "00-" Z16 T16 "-" S2 "-01", TC_SRC_TRACEPARENT, Z16 T16, S2, NULL, TC_SAMPLED_ACCEPT, false },
};

Test(tc_traceparent, valid_forms) { run_valid(tc_parse_traceparent, tp_valid, N(tp_valid)); }
Test(tc_traceparent, prefixes) { run_prefixes(tc_parse_traceparent, tp_valid, N(tp_valid)); }

Test(tc_traceparent, w3c_example_bytes)
{
	struct guard g = guard_new(64);
	struct trace_context c;
	enum tc_invalid why;

	cr_assert_eq(parse_guarded(tc_parse_traceparent, &g, TP_SAMPLED, 55, &c, &why), 55);
	expect_ids(&c, TC_SRC_TRACEPARENT, w3t_bytes, 16, w3s_bytes, NULL);
	cr_assert_eq(c.sampled, TC_SAMPLED_ACCEPT);
	cr_assert_not(c.debug);
	guard_free(&g);
}

static const struct invalid tp_invalid[] = {
	{ "", TC_INVALID_LENGTH },
	{ "0", TC_INVALID_FORMAT },
	{ "00", TC_INVALID_LENGTH },
	{ "ff-" W3T "-" W3S "-01", TC_INVALID_FORMAT },
	{ "01-" W3T "-" W3S "-01", TC_INVALID_FORMAT },
	{ "01-" W3T "-" W3S "-01-what-the-future-will-be", TC_INVALID_FORMAT },
	{ "0A-" W3T "-" W3S "-01", TC_INVALID_FORMAT },
	{ "cc-" W3T "-" W3S "-01", TC_INVALID_FORMAT },
	{ TP_SAMPLED "-", TC_INVALID_LENGTH },
	{ TP_SAMPLED " ", TC_INVALID_LENGTH },
	{ "00-" W3T "-" W3S "-1", TC_INVALID_LENGTH },
	{ "00-" T16 "-" W3S "-01", TC_INVALID_LENGTH },
	{ "00-" W3T "-" W3T "-01", TC_INVALID_LENGTH },
	{ "00_" W3T "-" W3S "-01", TC_INVALID_FORMAT },
	{ "00-" W3T "_" W3S "-01", TC_INVALID_FORMAT },
	{ "00-" W3T "-" W3S "_01", TC_INVALID_FORMAT },
	{ "00-" W3T "-" W3S "-0-1", TC_INVALID_LENGTH },
	{ "00-0AF7651916CD43DD8448EB211C80319C-" W3S "-01", TC_INVALID_HEX },
	{ "00-" W3T "-B7AD6B7169203331-01", TC_INVALID_HEX },
	{ "00-" W3T "-" W3S "-0A", TC_INVALID_HEX },
	{ "00-" W3T "-" W3S "-0g", TC_INVALID_HEX },
	{ "00-" W3T "-" W3S "-g0", TC_INVALID_HEX },
	{ "00-" Z32 "-" W3S "-01", TC_INVALID_ZERO },
	{ "00-" W3T "-" Z16 "-01", TC_INVALID_ZERO },
};

Test(tc_traceparent, invalid) { run_invalid(tc_parse_traceparent, tp_invalid, N(tp_invalid)); }

/* ---- x-ot-span-context ---- */

static const struct valid ot_valid[] = {
	{ OT64 ";" S1 ";" P1, TC_SRC_OT, OT64, S1, P1, TC_SAMPLED_DEFER, false },
	{ OT64 ";" S1 ";" P1 ";cs", TC_SRC_OT, OT64, S1, P1, TC_SAMPLED_DEFER, false },
	{ OT64 ";" S1 ";" P1 ";sr", TC_SRC_OT, OT64, S1, P1, TC_SAMPLED_DEFER, false },
	{ OT64 ";" S1 ";" P1 ";cr", TC_SRC_OT, OT64, S1, P1, TC_SAMPLED_DEFER, false },
	{ OT64 ";" S1 ";" P1 ";ss", TC_SRC_OT, OT64, S1, P1, TC_SAMPLED_DEFER, false },
	/* Envoy's root span: a zero parent is no parent. */
	{ T32 ";" S2 ";" Z16, TC_SRC_OT, T32, S2, NULL, TC_SAMPLED_DEFER, false },
	{ T32 ";" S2 ";" Z16 ";cs", TC_SRC_OT, T32, S2, NULL, TC_SAMPLED_DEFER, false },
};

Test(tc_ot, valid_forms) { run_valid(tc_parse_ot_span_context, ot_valid, N(ot_valid)); }
Test(tc_ot, prefixes) { run_prefixes(tc_parse_ot_span_context, ot_valid, N(ot_valid)); }

Test(tc_ot, envoy_bytes)
{
	static const char v[] = OT64 ";" S1 ";" P1 ";cs";
	struct guard g = guard_new(sizeof(v));
	struct trace_context c;
	enum tc_invalid why;

	cr_assert_eq(parse_guarded(tc_parse_ot_span_context, &g, v, sizeof(v) - 1, &c, &why), (ssize_t)sizeof(v) - 1);
	expect_ids(&c, TC_SRC_OT, ot64_bytes, 8, s1_bytes, p1_bytes);
	cr_assert_eq(c.sampled, TC_SAMPLED_DEFER);
	cr_assert_not(c.debug);
	guard_free(&g);
}

static const struct invalid ot_invalid[] = {
	{ "", TC_INVALID_LENGTH },
	/* LightStep's base64 binary carrier. */
	{ "EigJOjioEaYHBgcRNmifUO7/xlgYASISCgdzdWNjZXNzEgd0cnVlAA==", TC_INVALID_FORMAT },
	{ OT64 ";" S1, TC_INVALID_FORMAT },
	{ OT64 ";" S1 ";", TC_INVALID_FORMAT },
	{ OT64 ";" S1 ";" P1 ";", TC_INVALID_FORMAT },
	{ OT64 ";" S1 ";" P1 ";xx", TC_INVALID_FORMAT },
	{ OT64 ";" S1 ";" P1 ";CS", TC_INVALID_FORMAT },
	{ OT64 ";" S1 ";" P1 ";cs;sr", TC_INVALID_FORMAT },
	{ OT64 ";;" S1 ";" P1, TC_INVALID_FORMAT },
	{ ";;", TC_INVALID_FORMAT },
	{ OT64 "-" S1 "-" P1, TC_INVALID_FORMAT },
	{ "a3ce929d0e0e473;" S1 ";" P1, TC_INVALID_LENGTH },
	{ OT64 ";" S1 "0;" P1, TC_INVALID_LENGTH },
	{ OT64 ";" S1 ";" T32, TC_INVALID_LENGTH },
	{ OT64 ";" S1 ";0", TC_INVALID_LENGTH },
	{ "A3CE929D0E0E4736;" S1 ";" P1, TC_INVALID_HEX },
	{ OT64 ";E457B5A2E4D86BD1;" P1, TC_INVALID_HEX },
	{ OT64 ";" S1 ";05E3AC9A4F6E3B90", TC_INVALID_HEX },
	{ Z16 ";" S1 ";" P1, TC_INVALID_ZERO },
	{ Z32 ";" S1 ";" P1, TC_INVALID_ZERO },
	{ OT64 ";" Z16 ";" P1, TC_INVALID_ZERO },
};

Test(tc_ot, invalid) { run_invalid(tc_parse_ot_span_context, ot_invalid, N(ot_invalid)); }

/* ---- header names ---- */

Test(tc_header_of, names_in_any_case)
{
	static const struct {
		const char *name;
		enum tc_header k;
	} t[] = {
		{ "b3", TC_H_B3 }, { "B3", TC_H_B3 },
		{ "x-b3-traceid", TC_H_X_B3_TRACEID }, { "X-B3-TraceId", TC_H_X_B3_TRACEID },
		{ "x-b3-spanid", TC_H_X_B3_SPANID }, { "X-B3-SPANID", TC_H_X_B3_SPANID },
		{ "x-b3-parentspanid", TC_H_X_B3_PARENTSPANID }, { "X-B3-ParentSpanId", TC_H_X_B3_PARENTSPANID },
		{ "x-b3-sampled", TC_H_X_B3_SAMPLED }, { "X-B3-Sampled", TC_H_X_B3_SAMPLED },
		{ "x-b3-flags", TC_H_X_B3_FLAGS }, { "X-b3-fLAGS", TC_H_X_B3_FLAGS },
		{ "traceparent", TC_H_TRACEPARENT }, { "TraceParent", TC_H_TRACEPARENT },
		{ "tracestate", TC_H_TRACESTATE }, { "TRACESTATE", TC_H_TRACESTATE },
		{ "x-ot-span-context", TC_H_OT_SPAN_CONTEXT }, { "X-Ot-Span-Context", TC_H_OT_SPAN_CONTEXT },
		{ "x-request-id", TC_H_REQUEST_ID }, { "X-Request-ID", TC_H_REQUEST_ID },
		/* near misses */
		{ "", TC_H_NONE }, { "b", TC_H_NONE }, { "b4", TC_H_NONE }, { "c3", TC_H_NONE },
		{ "b3 ", TC_H_NONE }, { " b3", TC_H_NONE }, { "x-b3-", TC_H_NONE },
		{ "x-b3-traceidx", TC_H_NONE }, { "x-b3-traceie", TC_H_NONE }, { "y-b3-traceid", TC_H_NONE },
		{ "x_b3_traceid", TC_H_NONE }, { "x-b3-spanid2", TC_H_NONE }, { "x-b3-span-id", TC_H_NONE },
		{ "x-b3-flag", TC_H_NONE }, { "traceparen", TC_H_NONE }, { "traceparents", TC_H_NONE },
		{ "tracestatf", TC_H_NONE }, { "x-request-ie", TC_H_NONE }, { "x-ot-span-contexs", TC_H_NONE },
		{ "x-b3-parentspanix", TC_H_NONE }, { ":authority", TC_H_NONE }, { "content-type", TC_H_NONE },
		{ "x-b3-tr\xc1" "ceid", TC_H_NONE }, { "x-b3-tr\x01" "ceid", TC_H_NONE },
	};
	struct guard g = guard_new(32);

	for (size_t i = 0; i < N(t); i++) {
		size_t len = strlen(t[i].name);
		enum tc_header k = tc_header_of(guard_put(&g, t[i].name, len), len);

		cr_assert_eq(k, t[i].k, "\"%s\": %d, want %d", t[i].name, k, t[i].k);
	}
	/* The length is the name's end, not a NUL. */
	cr_assert_eq(tc_header_of("b3x", 2), TC_H_B3);
	cr_assert_eq(tc_header_of("x-b3-traceid", 11), TC_H_NONE);
	guard_free(&g);
}

/* ---- collecting values ---- */

Test(tc_headers_add, first_kept_duplicates_and_conflicts)
{
	static const char a[] = "1", a2[] = "1", b[] = "0";
	struct tc_headers h;

	memset(&h, 0, sizeof(h));
	tc_headers_add(&h, TC_H_X_B3_SAMPLED, a, 1);
	cr_assert_eq(h.seen, 1u << TC_H_X_B3_SAMPLED);
	cr_assert_eq(h.v[TC_H_X_B3_SAMPLED].p, a);
	cr_assert_eq(h.v[TC_H_X_B3_SAMPLED].len, 1);
	/* An identical copy elsewhere is no conflict, and the first stays. */
	tc_headers_add(&h, TC_H_X_B3_SAMPLED, a2, 1);
	cr_assert_eq(h.conflict, 0);
	cr_assert_eq(h.v[TC_H_X_B3_SAMPLED].p, a);
	tc_headers_add(&h, TC_H_X_B3_SAMPLED, b, 1);
	cr_assert_eq(h.conflict, 1u << TC_H_X_B3_SAMPLED);
	cr_assert_eq(h.v[TC_H_X_B3_SAMPLED].p, a);
	/* A prefix of the first value differs. */
	tc_headers_add(&h, TC_H_B3, "10", 2);
	tc_headers_add(&h, TC_H_B3, "1", 1);
	cr_assert_eq(h.conflict, (1u << TC_H_X_B3_SAMPLED) | (1u << TC_H_B3));
	/* Empty values are values. */
	tc_headers_add(&h, TC_H_TRACESTATE, "", 0);
	tc_headers_add(&h, TC_H_TRACESTATE, NULL, 0);
	cr_assert_eq(h.seen, (1u << TC_H_X_B3_SAMPLED) | (1u << TC_H_B3) | (1u << TC_H_TRACESTATE));
	cr_assert_eq(h.conflict, (1u << TC_H_X_B3_SAMPLED) | (1u << TC_H_B3));
	tc_headers_add(&h, TC_H_TRACESTATE, "a", 1);
	cr_assert_eq(h.conflict, (1u << TC_H_X_B3_SAMPLED) | (1u << TC_H_B3) | (1u << TC_H_TRACESTATE));
	/* TC_H_NONE (what tc_header_of returns for other names) records nothing. */
	tc_headers_add(&h, TC_H_NONE, "x", 1);
	cr_assert_eq(h.seen, (1u << TC_H_X_B3_SAMPLED) | (1u << TC_H_B3) | (1u << TC_H_TRACESTATE));
}

/* ---- decoding a request's headers ---- */

#define MAX_HV 12

struct hv {
	enum tc_header k;
	const char *v;
	size_t len;
};
#define HV(k, lit) { k, lit, sizeof(lit) - 1 }

struct req {
	struct guard g[MAX_HV];
	size_t n;
	struct tc_headers h;
	struct trace_context c;
	uint64_t inv[TC_INVALID__COUNT];
};

/* Each value in its own guarded buffer, kept until req_free. */
static void req_decode(struct req *r, const struct hv *hv, size_t n)
{
	cr_assert_leq(n, MAX_HV);
	memset(&r->h, 0, sizeof(r->h));
	memset(r->inv, 0, sizeof(r->inv));
	memset(&r->c, 0xa5, sizeof(r->c));
	r->n = n;
	for (size_t i = 0; i < n; i++) {
		r->g[i] = guard_new(hv[i].len);
		tc_headers_add(&r->h, hv[i].k, guard_put(&r->g[i], hv[i].v, hv[i].len), hv[i].len);
	}
	tc_decode(&r->h, &r->c, r->inv);
}

static void req_free(struct req *r)
{
	for (size_t i = 0; i < r->n; i++)
		guard_free(&r->g[i]);
}

#define DECODE(r, ...) req_decode(r, (const struct hv[]){ __VA_ARGS__ }, \
				  sizeof((const struct hv[]){ __VA_ARGS__ }) / sizeof(struct hv))

static void expect_counts(const struct req *r, uint64_t len, uint64_t hex, uint64_t zero, uint64_t format,
			  uint64_t conflict)
{
	cr_assert_eq(r->inv[TC_INVALID_LENGTH], len, "length %lu", (unsigned long)r->inv[TC_INVALID_LENGTH]);
	cr_assert_eq(r->inv[TC_INVALID_HEX], hex, "hex %lu", (unsigned long)r->inv[TC_INVALID_HEX]);
	cr_assert_eq(r->inv[TC_INVALID_ZERO], zero, "zero %lu", (unsigned long)r->inv[TC_INVALID_ZERO]);
	cr_assert_eq(r->inv[TC_INVALID_FORMAT], format, "format %lu", (unsigned long)r->inv[TC_INVALID_FORMAT]);
	cr_assert_eq(r->inv[TC_INVALID_CONFLICT], conflict, "conflict %lu",
		     (unsigned long)r->inv[TC_INVALID_CONFLICT]);
}

static void expect_sampling(const struct trace_context *c, enum tc_sampled s, bool debug)
{
	cr_assert_eq(c->sampled, s, "sampled %d, want %d", c->sampled, s);
	cr_assert_eq(c->debug, debug, "debug %d", c->debug);
}

static void expect_no_slices(const struct trace_context *c)
{
	cr_assert_eq(c->tracestate.len, 0);
	cr_assert_null(c->tracestate.p);
	cr_assert_eq(c->request_id.len, 0);
	cr_assert_null(c->request_id.p);
}

static int slice_is(struct tc_slice s, const struct guard *g, const char *str)
{
	size_t n = strlen(str);

	/* The very bytes the caller handed in, not a copy. */
	return s.len == n && s.p == g->end - n && memcmp(s.p, str, n) == 0;
}

Test(tc_decode, nothing_at_all)
{
	struct trace_context zero;
	struct req r;

	memset(&zero, 0, sizeof(zero));
	req_decode(&r, NULL, 0);
	cr_assert_arr_eq(&r.c, &zero, sizeof(zero), "not fully zeroed");
	cr_assert_eq(r.c.source, TC_SRC_NONE);
	cr_assert_eq(r.c.sampled, TC_SAMPLED_DEFER);
	expect_counts(&r, 0, 0, 0, 0, 0);
	/* Other headers only. */
	memset(&r.c, 0xa5, sizeof(r.c));
	tc_headers_add(&r.h, tc_header_of("content-type", 12), "text/plain", 10);
	tc_decode(&r.h, &r.c, r.inv);
	cr_assert_arr_eq(&r.c, &zero, sizeof(zero), "not fully zeroed");
	req_free(&r);
}

Test(tc_decode, b3_single)
{
	struct req r;

	DECODE(&r, HV(TC_H_B3, T32 "-" S1 "-1-" P1));
	expect_ids(&r.c, TC_SRC_B3_SINGLE, t32_bytes, 16, s1_bytes, p1_bytes);
	expect_sampling(&r.c, TC_SAMPLED_ACCEPT, false);
	expect_no_slices(&r.c);
	expect_counts(&r, 0, 0, 0, 0, 0);
	req_free(&r);

	DECODE(&r, HV(TC_H_B3, T16 "-" S2 "-d"));
	expect_ids(&r.c, TC_SRC_B3_SINGLE, t16_bytes, 8, s2_bytes, NULL);
	expect_sampling(&r.c, TC_SAMPLED_ACCEPT, true);
	req_free(&r);

	DECODE(&r, HV(TC_H_B3, T16 "-" S2));
	expect_ids(&r.c, TC_SRC_B3_SINGLE, t16_bytes, 8, s2_bytes, NULL);
	expect_sampling(&r.c, TC_SAMPLED_DEFER, false);
	req_free(&r);
}

Test(tc_decode, sampling_only)
{
	static const struct {
		struct hv hv[2];
		size_t n;
		enum tc_sampled s;
		bool debug;
	} t[] = {
		{ { HV(TC_H_B3, "0") }, 1, TC_SAMPLED_DENY, false },
		{ { HV(TC_H_B3, "1") }, 1, TC_SAMPLED_ACCEPT, false },
		{ { HV(TC_H_B3, "d") }, 1, TC_SAMPLED_ACCEPT, true },
		{ { HV(TC_H_X_B3_SAMPLED, "1") }, 1, TC_SAMPLED_ACCEPT, false },
		{ { HV(TC_H_X_B3_SAMPLED, "0") }, 1, TC_SAMPLED_DENY, false },
		{ { HV(TC_H_X_B3_SAMPLED, "true") }, 1, TC_SAMPLED_ACCEPT, false },
		{ { HV(TC_H_X_B3_SAMPLED, "false") }, 1, TC_SAMPLED_DENY, false },
		{ { HV(TC_H_X_B3_FLAGS, "1") }, 1, TC_SAMPLED_ACCEPT, true },
		{ { HV(TC_H_X_B3_FLAGS, "0") }, 1, TC_SAMPLED_DEFER, false },
		/* Debug implies accept, whatever X-B3-Sampled says. */
		{ { HV(TC_H_X_B3_FLAGS, "1"), HV(TC_H_X_B3_SAMPLED, "0") }, 2, TC_SAMPLED_ACCEPT, true },
		{ { HV(TC_H_X_B3_FLAGS, "0"), HV(TC_H_X_B3_SAMPLED, "0") }, 2, TC_SAMPLED_DENY, false },
		/* A lone X-B3 id gives no ids, and is no error. */
		{ { HV(TC_H_X_B3_TRACEID, T32), HV(TC_H_X_B3_SAMPLED, "1") }, 2, TC_SAMPLED_ACCEPT, false },
		{ { HV(TC_H_X_B3_SPANID, S1), HV(TC_H_X_B3_PARENTSPANID, P1) }, 2, TC_SAMPLED_DEFER, false },
		/* A valid b3 decides alone: X-B3-Sampled is not read. */
		{ { HV(TC_H_B3, "0"), HV(TC_H_X_B3_SAMPLED, "1") }, 2, TC_SAMPLED_DENY, false },
		{ { HV(TC_H_B3, "1"), HV(TC_H_X_B3_FLAGS, "1") }, 2, TC_SAMPLED_ACCEPT, false },
	};

	for (size_t i = 0; i < N(t); i++) {
		struct req r;

		req_decode(&r, t[i].hv, t[i].n);
		expect_ids(&r.c, TC_SRC_NONE, NULL, 0, NULL, NULL);
		cr_assert_eq(r.c.sampled, t[i].s, "case %zu: sampled %d", i, r.c.sampled);
		cr_assert_eq(r.c.debug, t[i].debug, "case %zu: debug", i);
		expect_counts(&r, 0, 0, 0, 0, 0);
		expect_no_slices(&r.c);
		req_free(&r);
	}
}

Test(tc_decode, b3_multi)
{
	struct req r;

	/* B3 README's example, 128-bit. */
	DECODE(&r, HV(TC_H_X_B3_TRACEID, T32), HV(TC_H_X_B3_PARENTSPANID, P2), HV(TC_H_X_B3_SPANID, S1),
	       HV(TC_H_X_B3_SAMPLED, "1"));
	expect_ids(&r.c, TC_SRC_B3_MULTI, t32_bytes, 16, s1_bytes, p2_bytes);
	expect_sampling(&r.c, TC_SAMPLED_ACCEPT, false);
	expect_counts(&r, 0, 0, 0, 0, 0);
	expect_no_slices(&r.c);
	req_free(&r);

	/* 64-bit, no parent, no decision. */
	DECODE(&r, HV(TC_H_X_B3_TRACEID, T16), HV(TC_H_X_B3_SPANID, S2));
	expect_ids(&r.c, TC_SRC_B3_MULTI, t16_bytes, 8, s2_bytes, NULL);
	expect_sampling(&r.c, TC_SAMPLED_DEFER, false);
	expect_counts(&r, 0, 0, 0, 0, 0);
	req_free(&r);

	/* An invalid parent is dropped and counted; the ids stay. */
	DECODE(&r, HV(TC_H_X_B3_TRACEID, T16), HV(TC_H_X_B3_SPANID, S2), HV(TC_H_X_B3_PARENTSPANID, Z16),
	       HV(TC_H_X_B3_SAMPLED, "0"), HV(TC_H_X_B3_FLAGS, "1"));
	expect_ids(&r.c, TC_SRC_B3_MULTI, t16_bytes, 8, s2_bytes, NULL);
	expect_sampling(&r.c, TC_SAMPLED_ACCEPT, true);
	expect_counts(&r, 0, 0, 1, 0, 0);
	req_free(&r);

	DECODE(&r, HV(TC_H_X_B3_TRACEID, T16), HV(TC_H_X_B3_SPANID, S2), HV(TC_H_X_B3_PARENTSPANID, "05E3AC9A4F6E3B90"));
	expect_ids(&r.c, TC_SRC_B3_MULTI, t16_bytes, 8, s2_bytes, NULL);
	expect_counts(&r, 0, 1, 0, 0, 0);
	req_free(&r);

	/* An invalid span id leaves no ids but the decision stands. */
	DECODE(&r, HV(TC_H_X_B3_TRACEID, T32), HV(TC_H_X_B3_SPANID, T32), HV(TC_H_X_B3_SAMPLED, "1"));
	expect_ids(&r.c, TC_SRC_NONE, NULL, 0, NULL, NULL);
	expect_sampling(&r.c, TC_SAMPLED_ACCEPT, false);
	expect_counts(&r, 1, 0, 0, 0, 0);
	req_free(&r);
}

Test(tc_decode, traceparent_and_tracestate)
{
	static const char state[] = "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE";
	struct req r;

	DECODE(&r, HV(TC_H_TRACEPARENT, TP_SAMPLED), HV(TC_H_TRACESTATE, state));
	expect_ids(&r.c, TC_SRC_TRACEPARENT, w3t_bytes, 16, w3s_bytes, NULL);
	expect_sampling(&r.c, TC_SAMPLED_ACCEPT, false);
	cr_assert(slice_is(r.c.tracestate, &r.g[1], state), "tracestate");
	expect_counts(&r, 0, 0, 0, 0, 0);
	req_free(&r);

	DECODE(&r, HV(TC_H_TRACEPARENT, TP_DENIED));
	expect_ids(&r.c, TC_SRC_TRACEPARENT, w3t_bytes, 16, w3s_bytes, NULL);
	expect_sampling(&r.c, TC_SAMPLED_DENY, false);
	expect_no_slices(&r.c);
	req_free(&r);

	/* Spaces (OWS around list members) are printable; the bounds are inclusive. */
	{
		char big[TC_TRACESTATE_MAX + 1];

		memset(big, 'a', sizeof(big));
		memcpy(big, "k = v , ~", 9);
		big[TC_TRACESTATE_MAX] = '\0';
		DECODE(&r, HV(TC_H_TRACEPARENT, TP_SAMPLED), { TC_H_TRACESTATE, big, TC_TRACESTATE_MAX });
		cr_assert(slice_is(r.c.tracestate, &r.g[1], big), "tracestate of the maximum length");
		expect_counts(&r, 0, 0, 0, 0, 0);
		req_free(&r);
		DECODE(&r, HV(TC_H_TRACEPARENT, TP_SAMPLED), HV(TC_H_TRACESTATE, " "));
		cr_assert(slice_is(r.c.tracestate, &r.g[1], " "), "one space");
		req_free(&r);
	}

	/* Not kept without traceparent as the source, even when valid. */
	DECODE(&r, HV(TC_H_B3, T16 "-" S2), HV(TC_H_TRACEPARENT, TP_SAMPLED), HV(TC_H_TRACESTATE, state));
	expect_ids(&r.c, TC_SRC_B3_SINGLE, t16_bytes, 8, s2_bytes, NULL);
	expect_no_slices(&r.c);
	expect_counts(&r, 0, 0, 0, 0, 0);
	req_free(&r);
	DECODE(&r, HV(TC_H_TRACESTATE, state));
	expect_ids(&r.c, TC_SRC_NONE, NULL, 0, NULL, NULL);
	expect_no_slices(&r.c);
	expect_counts(&r, 0, 0, 0, 0, 0);
	req_free(&r);
	DECODE(&r, HV(TC_H_TRACEPARENT, "00-" Z32 "-" W3S "-01"), HV(TC_H_TRACESTATE, state));
	expect_ids(&r.c, TC_SRC_NONE, NULL, 0, NULL, NULL);
	expect_no_slices(&r.c);
	expect_counts(&r, 0, 0, 1, 0, 0);
	req_free(&r);
}

Test(tc_decode, ot_span_context)
{
	struct req r;

	DECODE(&r, HV(TC_H_OT_SPAN_CONTEXT, OT64 ";" S1 ";" P1 ";cs"));
	expect_ids(&r.c, TC_SRC_OT, ot64_bytes, 8, s1_bytes, p1_bytes);
	expect_sampling(&r.c, TC_SAMPLED_DEFER, false);
	expect_counts(&r, 0, 0, 0, 0, 0);
	req_free(&r);

	/* No decision of its own: Envoy sends X-B3-Sampled beside it. */
	DECODE(&r, HV(TC_H_OT_SPAN_CONTEXT, T32 ";" S2 ";" Z16), HV(TC_H_X_B3_SAMPLED, "1"));
	expect_ids(&r.c, TC_SRC_OT, t32_bytes, 16, s2_bytes, NULL);
	expect_sampling(&r.c, TC_SAMPLED_ACCEPT, false);
	req_free(&r);
}

Test(tc_decode, request_id)
{
	static const char uuid[] = "3f7b9c8e-2d4a-4f6b-9e1c-5a8d7b6c4e21";
	char big[TC_REQUEST_ID_MAX + 1];
	struct req r;

	DECODE(&r, HV(TC_H_REQUEST_ID, uuid));
	expect_ids(&r.c, TC_SRC_NONE, NULL, 0, NULL, NULL);
	cr_assert(slice_is(r.c.request_id, &r.g[0], uuid), "request id");
	cr_assert_eq(r.c.tracestate.len, 0);
	expect_counts(&r, 0, 0, 0, 0, 0);
	req_free(&r);

	/* Beside any trace context, and whatever it is. */
	DECODE(&r, HV(TC_H_B3, "0"), HV(TC_H_REQUEST_ID, uuid));
	cr_assert(slice_is(r.c.request_id, &r.g[1], uuid), "request id");
	expect_sampling(&r.c, TC_SAMPLED_DENY, false);
	req_free(&r);
	DECODE(&r, HV(TC_H_TRACEPARENT, "junk"), HV(TC_H_REQUEST_ID, uuid));
	cr_assert(slice_is(r.c.request_id, &r.g[1], uuid), "request id");
	expect_counts(&r, 0, 0, 0, 1, 0);
	req_free(&r);

	memset(big, '~', sizeof(big));
	big[0] = '!';
	big[TC_REQUEST_ID_MAX] = '\0';
	DECODE(&r, { TC_H_REQUEST_ID, big, TC_REQUEST_ID_MAX });
	cr_assert(slice_is(r.c.request_id, &r.g[0], big), "request id of the maximum length");
	req_free(&r);

	/* Every prefix but the empty one is an id too. */
	for (size_t k = 0; k < sizeof(uuid); k++) {
		DECODE(&r, { TC_H_REQUEST_ID, uuid, k });
		cr_assert_eq(r.c.request_id.len, k, "prefix %zu", k);
		expect_counts(&r, k == 0, 0, 0, 0, 0);
		req_free(&r);
	}
}

/* One invalid value alone: counted once with its reason, and nothing else set. */
Test(tc_decode, every_invalid_reason_of_every_header)
{
	static char long_state[TC_TRACESTATE_MAX + 2], long_id[TC_REQUEST_ID_MAX + 2];
	const struct {
		struct hv hv;
		enum tc_invalid why;
	} t[] = {
		{ HV(TC_H_B3, ""), TC_INVALID_LENGTH },
		{ HV(TC_H_B3, T32 "-" S1 "-1-05e3ac9a4f6e3b9"), TC_INVALID_LENGTH },
		{ HV(TC_H_B3, "80F198EE56343BA864FE8B2A57D3EFF7-" S1), TC_INVALID_HEX },
		{ HV(TC_H_B3, Z32 "-" S1), TC_INVALID_ZERO },
		{ HV(TC_H_B3, T32 "-" S1 "-1-" Z16), TC_INVALID_ZERO },
		{ HV(TC_H_B3, T32 "-" S1 "-1-"), TC_INVALID_FORMAT },
		{ HV(TC_H_B3, "true"), TC_INVALID_FORMAT },
		{ HV(TC_H_X_B3_TRACEID, ""), TC_INVALID_LENGTH },
		{ HV(TC_H_X_B3_TRACEID, T32 "0"), TC_INVALID_LENGTH },
		{ HV(TC_H_X_B3_TRACEID, "80F198EE56343BA864FE8B2A57D3EFF7"), TC_INVALID_HEX },
		{ HV(TC_H_X_B3_TRACEID, Z16), TC_INVALID_ZERO },
		{ HV(TC_H_X_B3_SPANID, ""), TC_INVALID_LENGTH },
		{ HV(TC_H_X_B3_SPANID, T32), TC_INVALID_LENGTH },
		{ HV(TC_H_X_B3_SPANID, "E457B5A2E4D86BD1"), TC_INVALID_HEX },
		{ HV(TC_H_X_B3_SPANID, Z16), TC_INVALID_ZERO },
		{ HV(TC_H_X_B3_PARENTSPANID, ""), TC_INVALID_LENGTH },
		{ HV(TC_H_X_B3_PARENTSPANID, "05e3ac9a4f6e3b9"), TC_INVALID_LENGTH },
		{ HV(TC_H_X_B3_PARENTSPANID, "05e3ac9a4f6e3b9G"), TC_INVALID_HEX },
		{ HV(TC_H_X_B3_PARENTSPANID, Z16), TC_INVALID_ZERO },
		{ HV(TC_H_X_B3_SAMPLED, ""), TC_INVALID_LENGTH },
		{ HV(TC_H_X_B3_SAMPLED, "yes"), TC_INVALID_FORMAT },
		{ HV(TC_H_X_B3_SAMPLED, "True"), TC_INVALID_FORMAT },
		{ HV(TC_H_X_B3_SAMPLED, "d"), TC_INVALID_FORMAT },
		{ HV(TC_H_X_B3_SAMPLED, "1 "), TC_INVALID_FORMAT },
		{ HV(TC_H_X_B3_FLAGS, ""), TC_INVALID_LENGTH },
		{ HV(TC_H_X_B3_FLAGS, "2"), TC_INVALID_FORMAT },
		{ HV(TC_H_X_B3_FLAGS, "01"), TC_INVALID_FORMAT },
		{ HV(TC_H_X_B3_FLAGS, "true"), TC_INVALID_FORMAT },
		{ HV(TC_H_TRACEPARENT, ""), TC_INVALID_LENGTH },
		{ HV(TC_H_TRACEPARENT, TP_SAMPLED "-01"), TC_INVALID_LENGTH },
		{ HV(TC_H_TRACEPARENT, "00-" W3T "-" W3S "-0F"), TC_INVALID_HEX },
		{ HV(TC_H_TRACEPARENT, "00-" W3T "-" Z16 "-01"), TC_INVALID_ZERO },
		{ HV(TC_H_TRACEPARENT, "ff-" W3T "-" W3S "-01"), TC_INVALID_FORMAT },
		{ HV(TC_H_TRACESTATE, ""), TC_INVALID_LENGTH },
		{ { TC_H_TRACESTATE, long_state, TC_TRACESTATE_MAX + 1 }, TC_INVALID_LENGTH },
		{ HV(TC_H_TRACESTATE, "rojo=00f067aa0ba902b7,\tcongo=t61rcWkgMzE"), TC_INVALID_FORMAT },
		{ HV(TC_H_TRACESTATE, "a=\x7f"), TC_INVALID_FORMAT },
		{ HV(TC_H_TRACESTATE, "a=\xc3\xa9"), TC_INVALID_FORMAT },
		{ HV(TC_H_OT_SPAN_CONTEXT, ""), TC_INVALID_LENGTH },
		{ HV(TC_H_OT_SPAN_CONTEXT, OT64 ";" S1 ";0"), TC_INVALID_LENGTH },
		{ HV(TC_H_OT_SPAN_CONTEXT, OT64 ";" S1 ";05E3AC9A4F6E3B90"), TC_INVALID_HEX },
		{ HV(TC_H_OT_SPAN_CONTEXT, OT64 ";" Z16 ";" P1), TC_INVALID_ZERO },
		{ HV(TC_H_OT_SPAN_CONTEXT, "EigJOjioEaYHBgcRNmifUO7/xlgYASISCgdzdWNjZXNzEgd0cnVlAA=="), TC_INVALID_FORMAT },
		{ HV(TC_H_REQUEST_ID, ""), TC_INVALID_LENGTH },
		{ { TC_H_REQUEST_ID, long_id, TC_REQUEST_ID_MAX + 1 }, TC_INVALID_LENGTH },
		{ HV(TC_H_REQUEST_ID, "3f7b9c8e 2d4a"), TC_INVALID_FORMAT },
		{ HV(TC_H_REQUEST_ID, "3f7b9c8e\x7f"), TC_INVALID_FORMAT },
		{ HV(TC_H_REQUEST_ID, "caf\xc3\xa9"), TC_INVALID_FORMAT },
		{ HV(TC_H_REQUEST_ID, "\x01"), TC_INVALID_FORMAT },
	};
	struct trace_context zero;

	memset(long_state, 'a', sizeof(long_state));
	memset(long_id, 'a', sizeof(long_id));
	memset(&zero, 0, sizeof(zero));
	for (size_t i = 0; i < N(t); i++) {
		struct req r;

		req_decode(&r, &t[i].hv, 1);
		cr_assert_eq(r.inv[t[i].why], 1, "case %zu (header %d \"%.*s\"): not counted as %d", i, t[i].hv.k,
			     (int)t[i].hv.len, t[i].hv.v, t[i].why);
		for (int w = 0; w < TC_INVALID__COUNT; w++)
			if (w != (int)t[i].why)
				cr_assert_eq(r.inv[w], 0, "case %zu: also counted as %d", i, w);
		cr_assert_arr_eq(&r.c, &zero, sizeof(zero), "case %zu: output set", i);
		req_free(&r);
	}
}

Test(tc_decode, precedence)
{
	static const struct hv b3 = HV(TC_H_B3, T16 "-" S2 "-1"),
			       tid = HV(TC_H_X_B3_TRACEID, T32), sid = HV(TC_H_X_B3_SPANID, S1),
			       tp = HV(TC_H_TRACEPARENT, TP_DENIED),
			       ot = HV(TC_H_OT_SPAN_CONTEXT, OT64 ";" S1 ";" P1 ";cs");
	struct req r;

	req_decode(&r, (const struct hv[]){ ot, tp, sid, tid, b3 }, 5);
	expect_ids(&r.c, TC_SRC_B3_SINGLE, t16_bytes, 8, s2_bytes, NULL);
	expect_sampling(&r.c, TC_SAMPLED_ACCEPT, false);
	req_free(&r);
	req_decode(&r, (const struct hv[]){ ot, tp, sid, tid }, 4);
	expect_ids(&r.c, TC_SRC_B3_MULTI, t32_bytes, 16, s1_bytes, NULL);
	expect_sampling(&r.c, TC_SAMPLED_DEFER, false);
	req_free(&r);
	/* X-B3 needs both ids: traceparent it is, with its own decision. */
	DECODE(&r, ot, tp, tid, HV(TC_H_X_B3_SAMPLED, "1"));
	expect_ids(&r.c, TC_SRC_TRACEPARENT, w3t_bytes, 16, w3s_bytes, NULL);
	expect_sampling(&r.c, TC_SAMPLED_DENY, false);
	req_free(&r);
	DECODE(&r, ot, tp, HV(TC_H_X_B3_FLAGS, "1"));
	expect_ids(&r.c, TC_SRC_TRACEPARENT, w3t_bytes, 16, w3s_bytes, NULL);
	expect_sampling(&r.c, TC_SAMPLED_DENY, false);
	req_free(&r);
	DECODE(&r, ot, sid);
	expect_ids(&r.c, TC_SRC_OT, ot64_bytes, 8, s1_bytes, p1_bytes);
	expect_counts(&r, 0, 0, 0, 0, 0);
	req_free(&r);

	/* A sampling-only b3 decides alone: no ids from the others. */
	DECODE(&r, HV(TC_H_B3, "1"), tid, sid, tp, ot);
	expect_ids(&r.c, TC_SRC_NONE, NULL, 0, NULL, NULL);
	expect_sampling(&r.c, TC_SAMPLED_ACCEPT, false);
	expect_counts(&r, 0, 0, 0, 0, 0);
	req_free(&r);

	/* An invalid higher format falls through, counted. */
	DECODE(&r, HV(TC_H_B3, T32 "-" Z16), tid, sid, tp);
	expect_ids(&r.c, TC_SRC_B3_MULTI, t32_bytes, 16, s1_bytes, NULL);
	expect_counts(&r, 0, 0, 1, 0, 0);
	req_free(&r);
	DECODE(&r, HV(TC_H_B3, "x"), HV(TC_H_X_B3_TRACEID, "80F198EE56343BA864FE8B2A57D3EFF7"), sid, tp, ot);
	expect_ids(&r.c, TC_SRC_TRACEPARENT, w3t_bytes, 16, w3s_bytes, NULL);
	expect_counts(&r, 0, 1, 0, 1, 0);
	req_free(&r);
	DECODE(&r, HV(TC_H_TRACEPARENT, "01-" W3T "-" W3S "-01"), ot);
	expect_ids(&r.c, TC_SRC_OT, ot64_bytes, 8, s1_bytes, p1_bytes);
	expect_counts(&r, 0, 0, 0, 1, 0);
	req_free(&r);

	/* Invalid values of formats not needed are still counted. */
	DECODE(&r, b3, HV(TC_H_X_B3_SPANID, ""), HV(TC_H_X_B3_SAMPLED, "yes"),
	       HV(TC_H_TRACEPARENT, "00-0AF7651916CD43DD8448EB211C80319C-" W3S "-01"),
	       HV(TC_H_TRACESTATE, "a\tb"), HV(TC_H_OT_SPAN_CONTEXT, OT64 ";" S1 ";" P1 ";zz"),
	       HV(TC_H_REQUEST_ID, ""));
	expect_ids(&r.c, TC_SRC_B3_SINGLE, t16_bytes, 8, s2_bytes, NULL);
	expect_sampling(&r.c, TC_SAMPLED_ACCEPT, false);
	expect_no_slices(&r.c);
	expect_counts(&r, 2, 1, 0, 3, 0);
	req_free(&r);
}

Test(tc_decode, conflicts)
{
	struct req r;

	/* The same value twice is one value. */
	DECODE(&r, HV(TC_H_B3, T16 "-" S2 "-1"), HV(TC_H_B3, T16 "-" S2 "-1"));
	expect_ids(&r.c, TC_SRC_B3_SINGLE, t16_bytes, 8, s2_bytes, NULL);
	expect_counts(&r, 0, 0, 0, 0, 0);
	req_free(&r);

	/* Different values: ignored, counted once however many, and the next format used. */
	DECODE(&r, HV(TC_H_B3, T16 "-" S2 "-1"), HV(TC_H_B3, T16 "-" S2 "-0"), HV(TC_H_B3, T16 "-" S2),
	       HV(TC_H_TRACEPARENT, TP_DENIED));
	expect_ids(&r.c, TC_SRC_TRACEPARENT, w3t_bytes, 16, w3s_bytes, NULL);
	expect_sampling(&r.c, TC_SAMPLED_DENY, false);
	expect_counts(&r, 0, 0, 0, 0, 1);
	req_free(&r);

	/* Only the conflict is counted, not the invalid values in it. */
	DECODE(&r, HV(TC_H_TRACEPARENT, "junk"), HV(TC_H_TRACEPARENT, ""), HV(TC_H_X_B3_SAMPLED, "1"),
	       HV(TC_H_X_B3_SAMPLED, "0"));
	expect_ids(&r.c, TC_SRC_NONE, NULL, 0, NULL, NULL);
	expect_sampling(&r.c, TC_SAMPLED_DEFER, false);
	expect_counts(&r, 0, 0, 0, 0, 2);
	req_free(&r);

	/* A conflicting X-B3 id leaves no X-B3 ids. */
	DECODE(&r, HV(TC_H_X_B3_TRACEID, T32), HV(TC_H_X_B3_SPANID, S1), HV(TC_H_X_B3_SPANID, S2),
	       HV(TC_H_OT_SPAN_CONTEXT, OT64 ";" S1 ";" Z16));
	expect_ids(&r.c, TC_SRC_OT, ot64_bytes, 8, s1_bytes, NULL);
	expect_counts(&r, 0, 0, 0, 0, 1);
	req_free(&r);

	/* A conflicting tracestate is not kept; a conflicting request id neither. */
	DECODE(&r, HV(TC_H_TRACEPARENT, TP_SAMPLED), HV(TC_H_TRACESTATE, "a=1"), HV(TC_H_TRACESTATE, "a=2"),
	       HV(TC_H_REQUEST_ID, "r1"), HV(TC_H_REQUEST_ID, "r2"));
	expect_ids(&r.c, TC_SRC_TRACEPARENT, w3t_bytes, 16, w3s_bytes, NULL);
	expect_no_slices(&r.c);
	expect_counts(&r, 0, 0, 0, 0, 2);
	req_free(&r);
}

Test(tc_decode, without_counters)
{
	struct trace_context c;
	struct tc_headers h;

	memset(&h, 0, sizeof(h));
	tc_headers_add(&h, TC_H_B3, "x", 1);
	tc_headers_add(&h, TC_H_B3, "y", 1);
	tc_headers_add(&h, TC_H_X_B3_SAMPLED, "maybe", 5);
	tc_headers_add(&h, TC_H_TRACEPARENT, TP_SAMPLED, 55);
	tc_decode(&h, &c, NULL);
	expect_ids(&c, TC_SRC_TRACEPARENT, w3t_bytes, 16, w3s_bytes, NULL);
	expect_sampling(&c, TC_SAMPLED_ACCEPT, false);
}

/* Every prefix of the X-B3 and x-request-id values, alone: invalid and counted
 * once, unless the prefix is itself a value ("true" has none, "false" none). */
Test(tc_decode, x_b3_prefixes)
{
	static const struct hv t[] = {
		HV(TC_H_X_B3_TRACEID, T32), HV(TC_H_X_B3_TRACEID, T16), HV(TC_H_X_B3_SPANID, S1),
		HV(TC_H_X_B3_PARENTSPANID, P2), HV(TC_H_X_B3_SAMPLED, "true"), HV(TC_H_X_B3_SAMPLED, "false"),
		HV(TC_H_X_B3_FLAGS, "1"), HV(TC_H_X_B3_SAMPLED, "1"),
	};

	for (size_t i = 0; i < N(t); i++) {
		for (size_t k = 0; k < t[i].len; k++) {
			struct hv p = { t[i].k, t[i].v, k };
			bool valid = t[i].k == TC_H_X_B3_TRACEID && k == 16;
			uint64_t total = 0;
			struct req r;

			req_decode(&r, &p, 1);
			for (int w = 0; w < TC_INVALID__COUNT; w++)
				total += r.inv[w];
			cr_assert_eq(total, valid ? 0 : 1, "header %d \"%.*s\"", t[i].k, (int)k, t[i].v);
			cr_assert_eq(r.c.sampled, TC_SAMPLED_DEFER);
			req_free(&r);
		}
	}
}
