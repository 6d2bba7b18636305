/* SPDX-License-Identifier: MIT */
/*
 * span.h - the one span model of sockspan.
 *
 * Correlation fills a struct span; span_format.h turns it into a text line or
 * a Zipkin v2 JSON object (the Zipkin exporter posts the same JSON).  Every
 * string in the struct is a fixed array, so a span is one flat value that can
 * be copied, queued and freed without any ownership rules.
 */
#ifndef SOCKSPAN_SPAN_H
#define SOCKSPAN_SPAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SPAN_MAX_TAGS 24          /* gRPC's 10 and w3c.tracestate, plus 7 k8s.* and container.id */
#define SPAN_NAME_MAX 128         /* Zipkin UIs truncate long names anyway */
#define SPAN_SERVICE_MAX 64       /* process comm is 16; room for configured names */
#define SPAN_TAG_VALUE_MAX 512    /* longer values (e.g. huge URLs) are cut, never overflow */

enum span_kind { SPAN_KIND_CLIENT, SPAN_KIND_SERVER };

struct span_endpoint {
	char service_name[SPAN_SERVICE_MAX]; /* "" = omit */
	uint8_t family;                      /* AF_INET, AF_INET6, or 0 = no address */
	uint8_t addr[16];                    /* network order; IPv4 in the first 4 bytes */
	uint16_t port;                       /* host order, 0 = omit */
};

struct span_tag {
	const char *key;                 /* static string, not owned */
	char value[SPAN_TAG_VALUE_MAX];  /* NUL-terminated, valid UTF-8 when set by span_add_tag */
};

struct span {
	uint8_t trace_id[16];  /* 128-bit trace id, or a 64-bit one in the first 8 bytes */
	uint8_t trace_id_len;  /* 16 or 8: the width the trace's ids came with (B3 allows both) */
	uint8_t id[8];
	uint8_t parent_id[8];
	bool has_parent;
	bool shared;           /* a SERVER span sharing its id with the CLIENT span of the same RPC (B3) */
	bool debug;            /* the request asked for debug (B3 flags): Zipkin keeps it whatever its sampling */
	enum span_kind kind;
	char name[SPAN_NAME_MAX];
	uint64_t timestamp_us;  /* epoch microseconds */
	uint64_t duration_us;   /* exported as at least 1 (Zipkin: duration >= 1) */
	struct span_endpoint local, remote;
	unsigned num_tags;
	uint32_t pid;           /* exported as tag "process.pid" (omitted when 0) */
	uint8_t proto;          /* enum proto_id of the parser that made it: per-protocol counts */
	/* Last: span_clear leaves the ~8 KiB of their values as they are, and
	 * only tags[0..num_tags) are ever read. */
	struct span_tag tags[SPAN_MAX_TAGS];
};

/* Zero every field but the tags' storage: a span with no tag, at the cost of
 * its ~200 bytes of fields instead of the whole struct. */
void span_clear(struct span *s);

/*
 * Zero the span and give it a fresh random 128-bit trace id (trace_id_len
 * 16) and 64-bit span id, neither ever all zero (trace/random.h: safe from
 * any thread without locking).
 */
void span_init(struct span *s);

/*
 * The code point at p (n bytes, well-formed UTF-8 as span_copy_utf8 makes
 * it) when a terminal or a person reading a log could be fooled by it: C0
 * and C1 controls, DEL, line and paragraph separators, and the bidirectional
 * controls (U+061C, U+200E/F, U+202A-E, U+2066-9). Returns its length in
 * bytes with *cp set, or 0 for any other character.
 */
size_t span_unsafe_char(const char *p, size_t n, uint32_t *cp);

/*
 * Append a tag.  key must outlive the span (a string literal).  value is
 * len bytes, not necessarily NUL-terminated; it is copied with
 * span_copy_utf8(), so it is cut to SPAN_TAG_VALUE_MAX-1 bytes on a UTF-8
 * character boundary and NUL or invalid UTF-8 bytes are stored as '?'.
 * Duplicate keys are not merged: span_tag() and the exporters use the first.
 * Returns 0, or -1 when the span already has SPAN_MAX_TAGS tags or key is NULL.
 */
int span_add_tag(struct span *s, const char *key, const char *value, size_t len);

/* Value of the first tag named key, or NULL.  The pointer is into s. */
const char *span_tag(const struct span *s, const char *key);

/* Bytes of the trace id to report: 8 or 16 (16 for any other value). */
static inline size_t span_trace_id_len(const struct span *s)
{
	return s->trace_id_len == 8 ? 8 : 16;
}

/* "CLIENT" / "SERVER" (the Zipkin kind strings); "" for an unknown value. */
const char *span_kind_str(enum span_kind k);

/* The address an endpoint reports, the same for every encoding: 4 bytes for
 * AF_INET and IPv4-mapped IPv6 (returns AF_INET), 16 bytes otherwise (returns
 * AF_INET6), or 0 (no address) for no or an unknown family and for the
 * unspecified 0.0.0.0 / ::, which says nothing about the peer. */
int span_endpoint_ip(const struct span_endpoint *e, const uint8_t **addr);

/*
 * Copy len bytes of src into dst (cap bytes) as valid UTF-8: every NUL byte
 * and every byte that is not part of a well-formed UTF-8 sequence (RFC 3629:
 * no overlongs, surrogates or code points above U+10FFFF) becomes '?'.  The
 * copy is cut to cap-1 bytes without splitting a character and is always
 * NUL-terminated when cap > 0.  Returns the length written (without NUL).
 * Use it to fill span names or service names from untrusted bytes.
 */
size_t span_copy_utf8(char *dst, size_t cap, const char *src, size_t len);

/*
 * span_copy_utf8, then every character span_unsafe_char names made '?':
 * text that cannot fool a terminal (text lines, the tree view). Returns the
 * length written (without NUL).
 */
size_t span_copy_safe(char *dst, size_t cap, const char *src, size_t len);

/* v in decimal into out, not NUL-terminated; returns the digits written.
 * (snprintf would be a tenth of a span's encoding.) */
size_t span_fmt_uint(char out[20], uint64_t v);

#endif /* SOCKSPAN_SPAN_H */
