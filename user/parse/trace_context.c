/*
 * Trace-context header values; see trace_context.h.
 *
 * Each value is split on its separator first, so a wrong field count or an
 * empty field is TC_INVALID_FORMAT before any field is looked at; then every
 * field is checked in order, and the first bad one gives the reason.
 */
#include "parse/trace_context.h"

#include <string.h>

#include "parse/ascii.h"

/* Header names, lower case, in enum tc_header order. */
static const struct {
	const char *name;
	size_t len;
} names[TC_H__COUNT] = {
	[TC_H_B3] = { "b3", 2 },
	[TC_H_X_B3_TRACEID] = { "x-b3-traceid", 12 },
	[TC_H_X_B3_SPANID] = { "x-b3-spanid", 11 },
	[TC_H_X_B3_PARENTSPANID] = { "x-b3-parentspanid", 17 },
	[TC_H_X_B3_SAMPLED] = { "x-b3-sampled", 12 },
	[TC_H_X_B3_FLAGS] = { "x-b3-flags", 10 },
	[TC_H_TRACEPARENT] = { "traceparent", 11 },
	[TC_H_TRACESTATE] = { "tracestate", 10 },
	[TC_H_OT_SPAN_CONTEXT] = { "x-ot-span-context", 17 },
	[TC_H_REQUEST_ID] = { "x-request-id", 12 },
};

/* Most fields in any value: b3 has 4, x-ot-span-context 4. */
#define TC_MAX_FIELDS 4
/* Length of a version-00 traceparent: 2 + 1 + 32 + 1 + 16 + 1 + 2. */
#define TC_TRACEPARENT_LEN 55

static ssize_t fail(enum tc_invalid *why, enum tc_invalid reason)
{
	if (why)
		*why = reason;
	return TC_ERROR;
}

/* Only lower case: B3 and W3C both specify it, and Brave rejects upper case. */
static int hex_val(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static int all_in(const char *p, size_t len, unsigned char lo, unsigned char hi)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)p[i] < lo || (unsigned char)p[i] > hi)
			return 0;
	return 1;
}

static int slice_eq(const char *p, size_t len, const char *word)
{
	size_t n = strlen(word);

	return len == n && memcmp(p, word, n) == 0;
}

/* Splits buf on sep into at most TC_MAX_FIELDS non-empty fields; returns
 * their count, or 0 when there are more or one is empty. */
static size_t split(const char *buf, size_t len, char sep, struct tc_slice f[TC_MAX_FIELDS])
{
	size_t n = 0, start = 0;

	for (size_t i = 0; i <= len; i++) {
		if (i < len && buf[i] != sep)
			continue;
		if (i == start || n == TC_MAX_FIELDS)
			return 0;
		f[n].p = buf + start;
		f[n].len = i - start;
		n++;
		start = i + 1;
	}
	return n;
}

/* Resets the fields a value parser fills; tracestate and request_id are not its. */
static void clear_ids(struct trace_context *out)
{
	out->source = TC_SRC_NONE;
	out->trace_id_len = 0;
	memset(out->trace_id, 0, sizeof(out->trace_id));
	memset(out->span_id, 0, sizeof(out->span_id));
	out->has_parent = false;
	memset(out->parent_id, 0, sizeof(out->parent_id));
	out->sampled = TC_SAMPLED_DEFER;
	out->debug = false;
}

ssize_t tc_parse_hex_id(const char *buf, size_t len, uint8_t *out, size_t nbytes, enum tc_invalid *why)
{
	uint8_t id[16], any = 0;

	if ((nbytes != 8 && nbytes != 16) || len != 2 * nbytes)
		return fail(why, TC_INVALID_LENGTH);
	for (size_t i = 0; i < nbytes; i++) {
		int hi = hex_val(buf[2 * i]), lo = hex_val(buf[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return fail(why, TC_INVALID_HEX);
		id[i] = (uint8_t)(hi << 4 | lo);
		any |= id[i];
	}
	if (!any)
		return fail(why, TC_INVALID_ZERO);
	/* out is left alone on error, so a caller's ids never hold half an id. */
	memcpy(out, id, nbytes);
	return (ssize_t)len;
}

/* A trace id of 16 or 32 characters; any other length is TC_INVALID_LENGTH. */
static ssize_t parse_trace_id(struct tc_slice f, struct trace_context *out, enum tc_invalid *why)
{
	size_t nbytes = f.len == 32 ? 16 : 8;

	if (tc_parse_hex_id(f.p, f.len, out->trace_id, nbytes, why) < 0)
		return TC_ERROR;
	out->trace_id_len = (uint8_t)nbytes;
	return (ssize_t)f.len;
}

/* B3 single's sampling state: 0, 1 or d (debug, which implies accept). */
static int b3_sampling(char c, struct trace_context *out)
{
	if (c != '0' && c != '1' && c != 'd')
		return 0;
	out->sampled = c == '0' ? TC_SAMPLED_DENY : TC_SAMPLED_ACCEPT;
	out->debug = c == 'd';
	return 1;
}

ssize_t tc_parse_b3(const char *buf, size_t len, struct trace_context *out, enum tc_invalid *why)
{
	struct tc_slice f[TC_MAX_FIELDS];
	size_t n;

	if (len == 0)
		return fail(why, TC_INVALID_LENGTH);
	clear_ids(out);
	if (len == 1)
		return b3_sampling(buf[0], out) ? 1 : fail(why, TC_INVALID_FORMAT);
	n = split(buf, len, '-', f);
	if (n < 2)
		return fail(why, TC_INVALID_FORMAT);
	if (parse_trace_id(f[0], out, why) < 0 || tc_parse_hex_id(f[1].p, f[1].len, out->span_id, 8, why) < 0)
		return TC_ERROR;
	/* The third field is the sampling state: a parent needs one before it. */
	if (n >= 3 && (f[2].len != 1 || !b3_sampling(f[2].p[0], out)))
		return fail(why, TC_INVALID_FORMAT);
	if (n == 4) {
		if (tc_parse_hex_id(f[3].p, f[3].len, out->parent_id, 8, why) < 0)
			return TC_ERROR;
		out->has_parent = true;
	}
	out->source = TC_SRC_B3_SINGLE;
	return (ssize_t)len;
}

ssize_t tc_parse_traceparent(const char *buf, size_t len, struct trace_context *out, enum tc_invalid *why)
{
	int hi, lo;

	if (len == 0)
		return fail(why, TC_INVALID_LENGTH);
	clear_ids(out);
	/* Version first: a later version may be longer, and "ff" is forbidden. */
	if (len < 2 || buf[0] != '0' || buf[1] != '0')
		return fail(why, TC_INVALID_FORMAT);
	if (len != TC_TRACEPARENT_LEN)
		return fail(why, TC_INVALID_LENGTH);
	if (buf[2] != '-' || buf[35] != '-' || buf[52] != '-')
		return fail(why, TC_INVALID_FORMAT);
	if (tc_parse_hex_id(buf + 3, 32, out->trace_id, 16, why) < 0 ||
	    tc_parse_hex_id(buf + 36, 16, out->span_id, 8, why) < 0)
		return TC_ERROR;
	hi = hex_val(buf[53]);
	lo = hex_val(buf[54]);
	if (hi < 0 || lo < 0)
		return fail(why, TC_INVALID_HEX);
	out->trace_id_len = 16;
	out->sampled = (lo & 1) ? TC_SAMPLED_ACCEPT : TC_SAMPLED_DENY;
	out->source = TC_SRC_TRACEPARENT;
	return (ssize_t)len;
}

ssize_t tc_parse_ot_span_context(const char *buf, size_t len, struct trace_context *out,
				 enum tc_invalid *why)
{
	struct tc_slice f[TC_MAX_FIELDS];
	enum tc_invalid parent_why;
	size_t n;

	if (len == 0)
		return fail(why, TC_INVALID_LENGTH);
	clear_ids(out);
	n = split(buf, len, ';', f);
	if (n < 3)
		return fail(why, TC_INVALID_FORMAT);
	if (parse_trace_id(f[0], out, why) < 0 || tc_parse_hex_id(f[1].p, f[1].len, out->span_id, 8, why) < 0)
		return TC_ERROR;
	/* Envoy writes a zero parent for a root span. */
	if (tc_parse_hex_id(f[2].p, f[2].len, out->parent_id, 8, &parent_why) >= 0)
		out->has_parent = true;
	else if (parent_why != TC_INVALID_ZERO)
		return fail(why, parent_why);
	/* The annotations Envoy's own regex allows. */
	if (n == 4 && !slice_eq(f[3].p, f[3].len, "cs") && !slice_eq(f[3].p, f[3].len, "sr") &&
	    !slice_eq(f[3].p, f[3].len, "cr") && !slice_eq(f[3].p, f[3].len, "ss"))
		return fail(why, TC_INVALID_FORMAT);
	out->source = TC_SRC_OT;
	return (ssize_t)len;
}

enum tc_header tc_header_of(const char *name, size_t len)
{
	char c;

	/* Called for every header of every request: reject on length and first
	 * letter before comparing anything. */
	if (len != 2 && len != 10 && len != 11 && len != 12 && len != 17)
		return TC_H_NONE;
	c = ascii_lower(name[0]);
	if (c != 'x' && c != 't' && c != 'b')
		return TC_H_NONE;
	for (size_t k = 0; k < TC_H__COUNT; k++) {
		size_t i;

		if (names[k].len != len || names[k].name[0] != c)
			continue;
		for (i = 1; i < len && ascii_lower(name[i]) == names[k].name[i]; i++)
			;
		if (i == len)
			return (enum tc_header)k;
	}
	return TC_H_NONE;
}

void tc_headers_add(struct tc_headers *h, enum tc_header k, const char *value, size_t len)
{
	uint16_t bit;

	if ((unsigned)k >= TC_H__COUNT)
		return;
	bit = (uint16_t)(1u << k);
	if (!(h->seen & bit)) {
		h->seen |= bit;
		h->v[k].p = value;
		h->v[k].len = len;
		return;
	}
	/* Repeating the same value is harmless; a different one leaves no way to choose. */
	if (h->v[k].len != len || (len && memcmp(h->v[k].p, value, len) != 0))
		h->conflict |= bit;
}

/* The value of k when present once (or repeated identically). */
static const struct tc_slice *value_of(const struct tc_headers *h, enum tc_header k)
{
	uint16_t bit = (uint16_t)(1u << k);

	return (h->seen & bit) && !(h->conflict & bit) ? &h->v[k] : NULL;
}

/* Counts a failed parse (r < 0); returns whether the value is valid. why is
 * passed by address: the parse setting it is an argument of the same call. */
static bool valid(ssize_t r, const enum tc_invalid *why, uint64_t *invalid)
{
	if (r >= 0)
		return true;
	if (invalid)
		invalid[*why]++;
	return false;
}

/* A run of bytes in lo..hi, 1..max long. */
static ssize_t parse_text(const struct tc_slice *v, size_t max, unsigned char lo, enum tc_invalid *why)
{
	if (v->len == 0 || v->len > max)
		return fail(why, TC_INVALID_LENGTH);
	if (!all_in(v->p, v->len, lo, 0x7e))
		return fail(why, TC_INVALID_FORMAT);
	return (ssize_t)v->len;
}

/* X-B3-Sampled: 1 or 0, and true or false as some old clients sent. */
static ssize_t parse_x_b3_sampled(const struct tc_slice *v, enum tc_sampled *s, enum tc_invalid *why)
{
	if (v->len == 0)
		return fail(why, TC_INVALID_LENGTH);
	if (slice_eq(v->p, v->len, "1") || slice_eq(v->p, v->len, "true"))
		*s = TC_SAMPLED_ACCEPT;
	else if (slice_eq(v->p, v->len, "0") || slice_eq(v->p, v->len, "false"))
		*s = TC_SAMPLED_DENY;
	else
		return fail(why, TC_INVALID_FORMAT);
	return (ssize_t)v->len;
}

/* X-B3-Flags: 1 is debug, 0 says nothing. */
static ssize_t parse_x_b3_flags(const struct tc_slice *v, bool *debug, enum tc_invalid *why)
{
	if (v->len == 0)
		return fail(why, TC_INVALID_LENGTH);
	if (!slice_eq(v->p, v->len, "1") && !slice_eq(v->p, v->len, "0"))
		return fail(why, TC_INVALID_FORMAT);
	*debug = v->p[0] == '1';
	return 1;
}

/* Copies the ids (not the sampling decision) of a parsed value. */
static void take_ids(struct trace_context *out, const struct trace_context *from)
{
	out->source = from->source;
	out->trace_id_len = from->trace_id_len;
	memcpy(out->trace_id, from->trace_id, sizeof(out->trace_id));
	memcpy(out->span_id, from->span_id, sizeof(out->span_id));
	out->has_parent = from->has_parent;
	memcpy(out->parent_id, from->parent_id, sizeof(out->parent_id));
}

void tc_decode(const struct tc_headers *h, struct trace_context *out, uint64_t invalid[TC_INVALID__COUNT])
{
	struct trace_context b3, multi, tp, ot;
	const struct tc_slice *v;
	enum tc_invalid why = TC_INVALID_FORMAT;
	bool b3_ok = false, trace_ok = false, span_ok = false, tp_ok = false, ot_ok = false;
	bool parent_ok = false, state_ok = false;

	memset(out, 0, sizeof(*out));
	for (size_t k = 0; k < TC_H__COUNT; k++)
		if (invalid && (h->conflict & (1u << k)))
			invalid[TC_INVALID_CONFLICT]++;

	/* Every present value is checked, even of a format not needed, so each
	 * invalid one is counted. */
	if ((v = value_of(h, TC_H_B3)))
		b3_ok = valid(tc_parse_b3(v->p, v->len, &b3, &why), &why, invalid);

	memset(&multi, 0, sizeof(multi));
	multi.source = TC_SRC_B3_MULTI;
	if ((v = value_of(h, TC_H_X_B3_TRACEID)))
		trace_ok = valid(parse_trace_id(*v, &multi, &why), &why, invalid);
	if ((v = value_of(h, TC_H_X_B3_SPANID)))
		span_ok = valid(tc_parse_hex_id(v->p, v->len, multi.span_id, 8, &why), &why, invalid);
	if ((v = value_of(h, TC_H_X_B3_PARENTSPANID)))
		parent_ok = valid(tc_parse_hex_id(v->p, v->len, multi.parent_id, 8, &why), &why, invalid);
	multi.has_parent = parent_ok;
	if ((v = value_of(h, TC_H_X_B3_SAMPLED)))
		valid(parse_x_b3_sampled(v, &multi.sampled, &why), &why, invalid);
	if ((v = value_of(h, TC_H_X_B3_FLAGS)))
		valid(parse_x_b3_flags(v, &multi.debug, &why), &why, invalid);
	if (multi.debug)
		multi.sampled = TC_SAMPLED_ACCEPT;

	if ((v = value_of(h, TC_H_TRACEPARENT)))
		tp_ok = valid(tc_parse_traceparent(v->p, v->len, &tp, &why), &why, invalid);
	if ((v = value_of(h, TC_H_TRACESTATE)))
		state_ok = valid(parse_text(v, TC_TRACESTATE_MAX, 0x20, &why), &why, invalid);
	if ((v = value_of(h, TC_H_OT_SPAN_CONTEXT)))
		ot_ok = valid(tc_parse_ot_span_context(v->p, v->len, &ot, &why), &why, invalid);
	if ((v = value_of(h, TC_H_REQUEST_ID)) &&
	    valid(parse_text(v, TC_REQUEST_ID_MAX, 0x21, &why), &why, invalid))
		out->request_id = *v;

	/* b3 decides alone when valid, even with no ids. Otherwise the ids'
	 * format decides sampling, and the X-B3 decision stands where it has
	 * none: with X-B3 or x-ot-span-context ids, or without ids. */
	if (b3_ok) {
		take_ids(out, &b3);
		out->sampled = b3.sampled;
		out->debug = b3.debug;
		return;
	}
	out->sampled = multi.sampled;
	out->debug = multi.debug;
	if (trace_ok && span_ok) {
		take_ids(out, &multi);
	} else if (tp_ok) {
		take_ids(out, &tp);
		out->sampled = tp.sampled;
		out->debug = false;
		if (state_ok)
			out->tracestate = h->v[TC_H_TRACESTATE];
	} else if (ot_ok) {
		take_ids(out, &ot);
	}
}
