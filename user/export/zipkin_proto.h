/* The bodies the Zipkin exporter posts to /api/v2/spans: a JSON list of
 * spans (each object from span_zipkin_json, so there is one JSON mapping)
 * or the proto3 ListOfSpans message of zipkin.proto (protobuf-c code
 * generated at build time), optionally gzip-compressed.
 *
 * A batch is built span by span under a size limit. ListOfSpans has one
 * field, `repeated Span spans = 1`, so its encoding is just the spans' field
 * entries one after the other: appending one is appending its bytes. */
#ifndef SOCKSPAN_ZIPKIN_PROTO_H
#define SOCKSPAN_ZIPKIN_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "span/span_format.h"

enum zipkin_encoding { ZIPKIN_JSON, ZIPKIN_PROTO3 };

struct zipkin_buf {
	uint8_t *data;
	size_t len, cap;
};

struct zipkin_batch {
	enum zipkin_encoding enc;
	struct zipkin_buf body;   /* JSON: '[' and the spans, ']' added by _finish */
	size_t nspans;
	struct span_json_cache json; /* JSON: endpoints' JSON already written */
};

/* Returns 0, or -1 on ENOMEM. */
int zipkin_batch_init(struct zipkin_batch *b, enum zipkin_encoding enc);
void zipkin_batch_free(struct zipkin_batch *b);
/* Empties the batch, keeping its memory. */
void zipkin_batch_clear(struct zipkin_batch *b);
/* Appends s unless the finished body would then exceed limit bytes; an empty
 * batch takes its first span whatever its size, so every span can be sent.
 * Returns 1 when added, 0 when it would not fit (batch unchanged), -1 on
 * ENOMEM (batch unchanged). */
int zipkin_batch_add(struct zipkin_batch *b, const struct span *s, size_t limit);
/* Size of the finished body. */
size_t zipkin_batch_size(const struct zipkin_batch *b);
/* The finished body, valid until the next call on b. NULL on ENOMEM. */
const uint8_t *zipkin_batch_finish(struct zipkin_batch *b, size_t *len);

/* The Content-Type of an encoding. */
const char *zipkin_content_type(enum zipkin_encoding enc);

/* Encodes one span as a proto3 Span message (no field key or length) into
 * out, replacing its contents. Same rules as span_zipkin_json: valid UTF-8
 * strings, duration >= 1, IPv4-mapped addresses as ipv4, unspecified
 * addresses omitted, first of duplicate tag keys, process.pid last.
 * Returns 0, or -1 on ENOMEM. */
int zipkin_proto_span(const struct span *s, struct zipkin_buf *out);

/* gzip (RFC 1952) of in into out, replacing its contents. Returns 0, or -1 on
 * ENOMEM or a zlib error. */
int zipkin_gzip(const uint8_t *in, size_t len, struct zipkin_buf *out);

void zipkin_buf_free(struct zipkin_buf *b);

#endif
