/* SPDX-License-Identifier: MIT */
/*
 * span_format.h - a span as one human-readable line or as Zipkin v2 JSON
 * (the Span definition of zipkin2-api.yaml).  The Zipkin HTTP exporter
 * builds its POST body from span_zipkin_json(), so there is one mapping.
 */
#ifndef SOCKSPAN_SPAN_FORMAT_H
#define SOCKSPAN_SPAN_FORMAT_H

#include <stdio.h>

#include <stddef.h>
#include <stdint.h>

#include "span/span.h"

/*
 * Write one readable line, newline-terminated:
 *   "2026-11-21T22:45:47.123456Z python3 SERVER get /users/{id} 200 1.234ms 4bf92f3577b34da6a3ce929d0e0e4736
 *      00f067aa0ba902b7 53995c3f42cd8ad8"
 * UTC time of timestamp_us with microseconds, local service name, kind,
 * name, status (the http.status_code tag, else grpc.status_code, else the
 * error tag: a Redis error code), duration in ms with 3 decimals (truncated,
 * 0 stays "0.000ms"), trace id in 32 hex (16 for a 64-bit one), span id,
 * parent span id ("-" for none).  An empty service name, name or a
 * missing status is written "-"; control bytes and invalid UTF-8 in any
 * field are written '?' so one span is always exactly one line.
 * Returns what fprintf returns (negative on error).
 */
int span_format_text(FILE *out, const struct span *s);

/*
 * The Zipkin v2 JSON object of s, written directly (no tree: this is on the
 * path of every span).  Fields, in this order:
 *   traceId (32 or 16 lowercase hex), id (16 hex), parentId (only if
 *   has_parent), kind (omitted for an unknown value), name (omitted if ""),
 *   timestamp (omitted if 0), duration (>= 1), debug and shared (only when
 *   true), localEndpoint, remoteEndpoint, tags.
 * timestamp and duration are written as exact integers, clamped to INT64_MAX.
 * An endpoint has serviceName (omitted if ""), ipv4 or ipv6 (omitted for no
 * family or an unspecified address; an IPv4-mapped IPv6 address is written
 * as ipv4, as the spec asks) and port (omitted if 0); an endpoint with none
 * of these is omitted.  tags holds every tag in order (the first of
 * duplicate keys wins) and then "process.pid" (decimal string, omitted when
 * pid is 0; it replaces a tag of the same name); it is omitted when empty.
 * Strings are made valid UTF-8 with span_copy_utf8() and escaped as cJSON
 * escapes them, and also the characters span_unsafe_char names (\uXXXX);
 * otherwise the bytes are those cJSON_PrintUnformatted gives (no spaces).
 * Written into out (cap bytes, NUL-terminated). Returns the length without
 * the NUL, or 0 when cap is too small (SPAN_JSON_MAX always fits).
 */
/* Room for any span's JSON: 16 tags of 511 bytes, each escaped as \u00xx,
 * and the rest, with the NUL. */
#define SPAN_JSON_MAX (SPAN_MAX_TAGS * (6 * SPAN_TAG_VALUE_MAX + 64) + 6 * (SPAN_NAME_MAX + 2 * SPAN_SERVICE_MAX) + 512)

size_t span_zipkin_json(const struct span *s, char *out, size_t cap);

/*
 * The JSON of endpoints a writer wrote: the spans of a connection repeat
 * theirs, and writing an endpoint is an eighth of a span's encoding. Slots
 * chosen by address and port, an endpoint replacing the one there; longer
 * fragments (escaped names) are not kept. Zeroed to start; one per writer,
 * not shared between threads.
 */
#define SPAN_JSON_CACHE_SLOTS 64
#define SPAN_JSON_CACHED_MAX 160
struct span_json_cache {
	struct span_json_endpoint {
		struct span_endpoint e;
		uint8_t len; /* of json; 0: nothing kept */
		char json[SPAN_JSON_CACHED_MAX];
	} slot[SPAN_JSON_CACHE_SLOTS];
};

/* span_zipkin_json, with the endpoints taken from the cache when they are
 * the ones it holds, else written and kept there. Same bytes. */
size_t span_zipkin_json_cached(const struct span *s, char *out, size_t cap, struct span_json_cache *cache);

/*
 * Write s as one line of JSON (cJSON_PrintUnformatted of the above) and '\n'.
 * cache: as for span_zipkin_json_cached, NULL for none.
 * Returns 0, or -1 on allocation or write failure.
 */
int span_format_zipkin_line(FILE *out, const struct span *s, struct span_json_cache *cache);

#endif /* SOCKSPAN_SPAN_FORMAT_H */
