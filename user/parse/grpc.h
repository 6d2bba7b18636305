/*
 * gRPC over HTTP/2 (PROTOCOL-HTTP2.md of grpc/grpc): what a span needs from a
 * call. Pure functions, no allocation: length-prefixed message counting fed
 * with DATA payload bytes in pieces of any size, and the fields of the
 * request and trailers (content-type, :path, grpc-status, grpc-message).
 */
#ifndef SOCKSPAN_GRPC_H
#define SOCKSPAN_GRPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Each message: compressed flag (1 byte), length (4 bytes, big-endian), then the message. */
#define GRPC_PREFIX_LEN 5
/* Digits of a grpc-status value: codes are 0..16, anything longer is not a status. */
#define GRPC_STATUS_MAX_DIGITS 9

/* Messages of one direction of a call, counted as DATA payload goes by. */
struct grpc_msgs {
	uint64_t messages;  /* complete messages */
	uint64_t bytes;     /* their lengths, prefixes excluded (compressed size if compressed) */
	uint32_t left;      /* bytes of the current message still to come */
	uint8_t prefix_len; /* bytes of the current prefix seen, 0..4 between calls */
	uint8_t prefix[GRPC_PREFIX_LEN];
	bool broken;        /* a prefix was lost or malformed: counts unknown */
};

/* Feeds len payload bytes (a DATA frame's data, any piece of it). */
void grpc_msgs_feed(struct grpc_msgs *m, const uint8_t *buf, size_t len);
/* n payload bytes went by uncaptured: absorbed inside a message, else the
 * counts are broken. */
void grpc_msgs_skip(struct grpc_msgs *m, uint64_t n);
/* True when the counts are known and no message is cut (the direction may end here). */
bool grpc_msgs_complete(const struct grpc_msgs *m);

/* Is this content-type gRPC: "application/grpc", optionally followed by
 * "+codec" or ";params" (case-insensitive)? */
bool grpc_is_content_type(const char *v, size_t len);

/* grpc-status value: 1..GRPC_STATUS_MAX_DIGITS decimal digits. Returns the
 * code, or -1 if malformed. */
int grpc_parse_status(const char *v, size_t len);

/* Canonical name of a status code ("OK", "NOT_FOUND"...), or NULL if unknown. */
const char *grpc_status_name(int code);

/*
 * Splits a method path "/package.Service/Method" into service and method
 * (slices of path), ignoring a query or fragment, which gRPC never sends but a
 * peer may. Returns the length of the method path (path up to any '?' or
 * '#'), or -1 if it is not of that form: a dotted proto name, then a proto
 * identifier (each starts with a letter or '_').
 */
int grpc_split_path(const char *path, size_t len, const char **service, size_t *service_len,
		    const char **method, size_t *method_len);

/*
 * Decodes a grpc-message value (percent-encoded, RFC 3986 style) into dst
 * (cap bytes, always NUL-terminated when cap > 0). A '%' not followed by two
 * hex digits is kept as is. Returns the length written.
 */
size_t grpc_message_decode(char *dst, size_t cap, const char *src, size_t len);

#endif /* SOCKSPAN_GRPC_H */
