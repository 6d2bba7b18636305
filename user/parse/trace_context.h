/*
 * Trace-context headers: B3 (multi and single), W3C traceparent/tracestate,
 * x-ot-span-context and x-request-id, as HTTP/1 headers or HTTP/2 and gRPC
 * metadata (names in any letter case).
 *
 * Pure functions over the caller's bytes, like the other parsers: nothing
 * is allocated, results point into the caller's buffer. A value is whole (a
 * header field's value), so a value parser returns its length or TC_ERROR
 * with the reason; TC_NEED_MORE is never returned. An invalid value is
 * ignored as if absent, and its reason counted by the caller.
 */
#ifndef SOCKSPAN_TRACE_CONTEXT_H
#define SOCKSPAN_TRACE_CONTEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum { TC_ERROR = -1, TC_NEED_MORE = -2 };

/* Longest x-request-id taken (Envoy's are 36-byte UUIDs): longer is invalid, not cut. */
#define TC_REQUEST_ID_MAX 256
/* Longest tracestate kept (W3C: 32 members of at most 256 bytes; 512 is what a span tag holds). */
#define TC_TRACESTATE_MAX 512

/* Why a value was ignored. */
enum tc_invalid {
	TC_INVALID_LENGTH,   /* an id of the wrong length, a value too long or empty */
	TC_INVALID_HEX,      /* a character other than 0-9a-f where an id belongs */
	TC_INVALID_ZERO,     /* an all-zero trace id or span id */
	TC_INVALID_FORMAT,   /* separators, field count, version, sampling or flags value */
	TC_INVALID_CONFLICT, /* the header twice with different values */
	TC_INVALID__COUNT,
};

/* The header names read. */
enum tc_header {
	TC_H_B3,
	TC_H_X_B3_TRACEID,
	TC_H_X_B3_SPANID,
	TC_H_X_B3_PARENTSPANID,
	TC_H_X_B3_SAMPLED,
	TC_H_X_B3_FLAGS,
	TC_H_TRACEPARENT,
	TC_H_TRACESTATE,
	TC_H_OT_SPAN_CONTEXT,
	TC_H_REQUEST_ID,
	TC_H__COUNT,
	TC_H_NONE = TC_H__COUNT,
};

struct tc_slice {
	const char *p;
	size_t len;
};

/* One request's trace-context header values, as received. The caller keeps
 * the bytes alive while the struct is used. Zero it before the first add. */
struct tc_headers {
	struct tc_slice v[TC_H__COUNT];
	uint16_t seen;     /* bit (1 << enum tc_header): present */
	uint16_t conflict; /* present twice with different values: ignored */
};

enum tc_sampled { TC_SAMPLED_DEFER, TC_SAMPLED_DENY, TC_SAMPLED_ACCEPT };

/* Where the ids came from, in the order tc_decode tries them. */
enum tc_source { TC_SRC_NONE, TC_SRC_B3_SINGLE, TC_SRC_B3_MULTI, TC_SRC_TRACEPARENT, TC_SRC_OT };

struct trace_context {
	enum tc_source source;    /* TC_SRC_NONE: no ids (a sampling decision may still be there) */
	uint8_t trace_id_len;     /* 8 or 16 bytes; 0 without ids */
	uint8_t trace_id[16];     /* as on the wire, big-endian: a 64-bit id fills the first 8 bytes */
	uint8_t span_id[8];
	bool has_parent;
	uint8_t parent_id[8];
	enum tc_sampled sampled;
	bool debug;               /* B3 debug (b3: ...-d, X-B3-Flags: 1): implies accept */
	struct tc_slice tracestate; /* with TC_SRC_TRACEPARENT only; len 0 otherwise */
	struct tc_slice request_id; /* x-request-id when valid (printable ASCII, no spaces); len 0 otherwise */
};

/* Which header a field name is (case-insensitive), or TC_H_NONE. */
enum tc_header tc_header_of(const char *name, size_t len);

/* Records the value of header k; the first value is kept and a different
 * later one marks k as conflicting. k must be < TC_H__COUNT. */
void tc_headers_add(struct tc_headers *h, enum tc_header k, const char *value, size_t len);

/* A lower-hex id of exactly 2 * nbytes characters into out (nbytes 8 or 16).
 * Returns len, or TC_ERROR with *why (LENGTH, HEX, ZERO). */
ssize_t tc_parse_hex_id(const char *buf, size_t len, uint8_t *out, size_t nbytes, enum tc_invalid *why);

/* b3: "{trace}-{span}[-{sampling}[-{parent}]]" or a lone "0", "1", "d".
 * Fills ids, sampled and debug of *out (source TC_SRC_B3_SINGLE when ids are
 * there). Returns len or TC_ERROR with *why; *out is unspecified then. */
ssize_t tc_parse_b3(const char *buf, size_t len, struct trace_context *out, enum tc_invalid *why);

/* traceparent version 00: "00-{32 hex trace}-{16 hex span}-{2 hex flags}",
 * sampled from bit 0 of flags. Returns len or TC_ERROR with *why. */
ssize_t tc_parse_traceparent(const char *buf, size_t len, struct trace_context *out, enum tc_invalid *why);

/* x-ot-span-context as Envoy's Zipkin tracer wrote it:
 * "{16 or 32 hex trace};{16 hex span};{16 hex parent}[;{annotation}]", a
 * parent of all zeros meaning none, the annotation (cs, sr...) ignored.
 * (LightStep's base64 binary form is not read: TC_INVALID_FORMAT.)
 * Returns len or TC_ERROR with *why. */
ssize_t tc_parse_ot_span_context(const char *buf, size_t len, struct trace_context *out,
				 enum tc_invalid *why);

/*
 * The context a request carried. Ids come from the first valid format of:
 * b3, X-B3-* (TraceId and SpanId both needed), traceparent,
 * x-ot-span-context. A valid b3 alone decides, even without ids ("b3: 0"),
 * as the B3 spec says the single header takes precedence. Without ids, a lone
 * sampling decision (b3: 0/1/d, X-B3-Sampled, X-B3-Flags) still counts.
 * request_id is set from a valid x-request-id whatever else is there.
 * invalid[reason] is incremented once for every header value ignored (a
 * conflict counts once per header). Never fails: *out is always defined.
 */
void tc_decode(const struct tc_headers *h, struct trace_context *out, uint64_t invalid[TC_INVALID__COUNT]);

#endif
