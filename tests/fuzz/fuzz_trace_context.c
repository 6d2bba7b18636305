/*
 * libFuzzer target for user/parse/trace_context.c.
 *
 *   clang -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude -Iuser \
 *     tests/fuzz/fuzz_trace_context.c user/parse/trace_context.c -o fuzz_trace_context
 *   ./fuzz_trace_context tests/fuzz/corpus/trace_context
 *
 * Input: a list of header fields, each
 *   tag (1 byte), [name (tag & 0x7f bytes) when tag & 0x80], value length
 *   (2 bytes, big-endian, cut to what is left), value.
 * A tag without 0x80 names a known header, (tag & 0x3f) % TC_H__COUNT, in
 * lower case or, with bit 0x40, upper case. Names and values are exact-size
 * heap copies, so ASan sees any over-read. Every value also goes through
 * each value parser. Besides memory errors it checks the contracts: a
 * parser returns the length or TC_ERROR with a parse reason; a valid value
 * written back in canonical form gives the input again; a context has
 * consistent ids; slices point at the caller's bytes; tc_header_of agrees
 * with a plain comparison; counters match the headers seen.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse/trace_context.h"

/* More fields than any request sends; the rest of the input is ignored. */
#define FUZZ_MAX_FIELDS 32

#define CHECK(cond) \
	do { \
		if (!(cond)) \
			abort(); \
	} while (0)

static const char *const names[TC_H__COUNT] = {
	"b3", "x-b3-traceid", "x-b3-spanid", "x-b3-parentspanid", "x-b3-sampled", "x-b3-flags",
	"traceparent", "tracestate", "x-ot-span-context", "x-request-id",
};

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static int is_lower_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static int is_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

static size_t put_hex(char *out, const uint8_t *id, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", id[i]);
	return 2 * n;
}

static void check_context(const struct trace_context *c)
{
	CHECK(c->trace_id_len == 0 || c->trace_id_len == 8 || c->trace_id_len == 16);
	CHECK((c->source == TC_SRC_NONE) == (c->trace_id_len == 0));
	CHECK(c->source <= TC_SRC_OT);
	CHECK(c->sampled <= TC_SAMPLED_ACCEPT);
	CHECK(!c->debug || c->sampled == TC_SAMPLED_ACCEPT);
	CHECK(is_zero(c->trace_id + c->trace_id_len, 16 - c->trace_id_len));
	if (c->trace_id_len) {
		CHECK(!is_zero(c->trace_id, c->trace_id_len));
		CHECK(!is_zero(c->span_id, 8));
	} else {
		CHECK(is_zero(c->span_id, 8) && !c->has_parent);
	}
	if (c->has_parent)
		CHECK(!is_zero(c->parent_id, 8));
	else
		CHECK(is_zero(c->parent_id, 8));
}

static void check_error(ssize_t r, size_t len, enum tc_invalid why)
{
	CHECK(r == (ssize_t)len || r == TC_ERROR);
	if (r == TC_ERROR)
		CHECK(why < TC_INVALID_CONFLICT);
}

/* Each value parser on v, and the value written back from what it parsed. */
static void parse_value(const char *v, size_t len)
{
	struct trace_context c;
	enum tc_invalid why;
	char canon[128];
	uint8_t id[16];
	ssize_t r;
	size_t n;

	for (size_t nbytes = 8; nbytes <= 16; nbytes += 8) {
		why = TC_INVALID__COUNT;
		r = tc_parse_hex_id(v, len, id, nbytes, &why);
		check_error(r, len, why);
		if (r >= 0) {
			CHECK(!is_zero(id, nbytes));
			CHECK(put_hex(canon, id, nbytes) == len && memcmp(canon, v, len) == 0);
		}
	}

	why = TC_INVALID__COUNT;
	r = tc_parse_b3(v, len, &c, &why);
	check_error(r, len, why);
	if (r >= 0) {
		check_context(&c);
		CHECK(c.source == TC_SRC_NONE || c.source == TC_SRC_B3_SINGLE);
		n = 0;
		if (c.trace_id_len) {
			n += put_hex(canon + n, c.trace_id, c.trace_id_len);
			canon[n++] = '-';
			n += put_hex(canon + n, c.span_id, 8);
			if (c.sampled != TC_SAMPLED_DEFER)
				canon[n++] = '-';
		}
		if (c.sampled != TC_SAMPLED_DEFER)
			canon[n++] = c.debug ? 'd' : c.sampled == TC_SAMPLED_ACCEPT ? '1' : '0';
		if (c.has_parent) {
			CHECK(c.sampled != TC_SAMPLED_DEFER);
			canon[n++] = '-';
			n += put_hex(canon + n, c.parent_id, 8);
		}
		CHECK(n == len && memcmp(canon, v, len) == 0);
	}

	why = TC_INVALID__COUNT;
	r = tc_parse_traceparent(v, len, &c, &why);
	check_error(r, len, why);
	if (r >= 0) {
		check_context(&c);
		CHECK(c.source == TC_SRC_TRACEPARENT && c.trace_id_len == 16 && !c.has_parent && !c.debug);
		n = 0;
		memcpy(canon, "00-", 3);
		n = 3 + put_hex(canon + 3, c.trace_id, 16);
		canon[n++] = '-';
		n += put_hex(canon + n, c.span_id, 8);
		canon[n++] = '-';
		CHECK(n == 53 && len == 55 && memcmp(canon, v, n) == 0);
		CHECK(is_lower_hex(v[53]) && is_lower_hex(v[54]));
		/* Sampled is bit 0 of the flags, the low bit of their last digit. */
		CHECK((c.sampled == TC_SAMPLED_ACCEPT) == ((v[54] <= '9' ? v[54] - '0' : v[54] - 'a' + 10) & 1));
	}

	why = TC_INVALID__COUNT;
	r = tc_parse_ot_span_context(v, len, &c, &why);
	check_error(r, len, why);
	if (r >= 0) {
		check_context(&c);
		CHECK(c.source == TC_SRC_OT && c.sampled == TC_SAMPLED_DEFER && !c.debug);
		n = put_hex(canon, c.trace_id, c.trace_id_len);
		canon[n++] = ';';
		n += put_hex(canon + n, c.span_id, 8);
		canon[n++] = ';';
		n += put_hex(canon + n, c.parent_id, 8);
		CHECK(len == n || (len == n + 3 && v[n] == ';'));
		CHECK(memcmp(canon, v, n) == 0);
	}
}

static void check_header_of(const char *name, size_t len)
{
	enum tc_header k = tc_header_of(name, len), want = TC_H_NONE;

	for (size_t i = 0; i < TC_H__COUNT; i++) {
		size_t j;

		if (strlen(names[i]) != len)
			continue;
		for (j = 0; j < len && lower(name[j]) == names[i][j]; j++)
			;
		if (j == len)
			want = (enum tc_header)i;
	}
	CHECK(k == want);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *bufs[2 * FUZZ_MAX_FIELDS];
	size_t nbufs = 0, pos = 0, nfields = 0;
	struct tc_headers h;
	struct trace_context c, c2;
	uint64_t invalid[TC_INVALID__COUNT] = { 0 }, total = 0;
	unsigned seen_count = 0, conflict_count = 0;

	memset(&h, 0, sizeof(h));
	while (pos < size && nfields < FUZZ_MAX_FIELDS) {
		uint8_t tag = data[pos++];
		size_t name_len, len;
		char *name, *value;
		enum tc_header k;

		if (tag & 0x80) {
			name_len = tag & 0x7f;
			if (name_len > size - pos)
				name_len = size - pos;
			name = malloc(name_len);
			CHECK(name || !name_len);
			if (name_len)
				memcpy(name, data + pos, name_len);
			pos += name_len;
		} else {
			const char *known = names[(tag & 0x3f) % TC_H__COUNT];

			name_len = strlen(known);
			name = malloc(name_len);
			CHECK(name);
			for (size_t i = 0; i < name_len; i++)
				name[i] = (tag & 0x40) && known[i] >= 'a' && known[i] <= 'z' ?
					(char)(known[i] - 'a' + 'A') : known[i];
		}
		bufs[nbufs++] = name;
		len = 0;
		if (size - pos >= 2) {
			len = (size_t)data[pos] << 8 | data[pos + 1];
			pos += 2;
		} else {
			pos = size;
		}
		if (len > size - pos)
			len = size - pos;
		value = malloc(len);
		CHECK(value || !len);
		if (len)
			memcpy(value, data + pos, len);
		pos += len;
		bufs[nbufs++] = value;
		nfields++;

		check_header_of(name, name_len);
		parse_value(value, len);
		k = tc_header_of(name, name_len);
		if (k != TC_H_NONE)
			tc_headers_add(&h, k, value, len);
	}

	memset(&c, 0xa5, sizeof(c));
	tc_decode(&h, &c, invalid);
	check_context(&c);
	for (size_t k = 0; k < TC_H__COUNT; k++) {
		seen_count += (h.seen >> k) & 1;
		conflict_count += (h.conflict >> k) & 1;
	}
	CHECK((h.conflict & ~h.seen) == 0);
	CHECK(invalid[TC_INVALID_CONFLICT] == conflict_count);
	for (size_t w = 0; w < TC_INVALID__COUNT; w++)
		total += invalid[w];
	CHECK(total <= seen_count);
	/* Slices are the values recorded, untouched. */
	if (c.tracestate.len) {
		CHECK(c.source == TC_SRC_TRACEPARENT);
		CHECK(c.tracestate.p == h.v[TC_H_TRACESTATE].p && c.tracestate.len == h.v[TC_H_TRACESTATE].len);
		CHECK(c.tracestate.len <= TC_TRACESTATE_MAX);
	} else {
		CHECK(c.tracestate.p == NULL);
	}
	if (c.request_id.len) {
		CHECK(c.request_id.p == h.v[TC_H_REQUEST_ID].p && c.request_id.len == h.v[TC_H_REQUEST_ID].len);
		CHECK(c.request_id.len <= TC_REQUEST_ID_MAX);
		for (size_t i = 0; i < c.request_id.len; i++)
			CHECK(c.request_id.p[i] > 0x20 && c.request_id.p[i] < 0x7f);
	} else {
		CHECK(c.request_id.p == NULL);
	}
	/* A valid b3 decides alone. */
	if ((h.seen & ~h.conflict) & (1u << TC_H_B3)) {
		enum tc_invalid why;

		memset(&c2, 0, sizeof(c2));
		if (tc_parse_b3(h.v[TC_H_B3].p, h.v[TC_H_B3].len, &c2, &why) >= 0) {
			CHECK(c.source == c2.source && c.trace_id_len == c2.trace_id_len);
			CHECK(memcmp(c.trace_id, c2.trace_id, 16) == 0 && memcmp(c.span_id, c2.span_id, 8) == 0);
			CHECK(c.has_parent == c2.has_parent && memcmp(c.parent_id, c2.parent_id, 8) == 0);
			CHECK(c.sampled == c2.sampled && c.debug == c2.debug);
		}
	}
	/* Counting changes nothing else. */
	memset(&c2, 0x5a, sizeof(c2));
	tc_decode(&h, &c2, NULL);
	CHECK(memcmp(&c, &c2, sizeof(c)) == 0);

	for (size_t i = 0; i < nbufs; i++)
		free(bufs[i]);
	return 0;
}
