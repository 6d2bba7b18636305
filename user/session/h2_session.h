/* HTTP/2 sessions (user/h2_session.c): h2_proto for connections that start
 * as HTTP/2, and the switch from HTTP/1.1 after "Upgrade: h2c". */
#ifndef SOCKSPAN_H2_SESSION_H
#define SOCKSPAN_H2_SESSION_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "conn/conn_table.h"
#include "sockspan_event.h"
#include "conn/stream.h"

/* The HTTP/1.1 request that offered h2c: it becomes stream 1 (RFC 7540 section 3.2). */
struct h2_upgrade_request {
	const char *method;
	size_t method_len;
	const char *target;
	size_t target_len;
	uint64_t start_ns; /* its first byte */
};

/*
 * A 101 answering "Upgrade: h2c" ended at offset off of s (direction dir,
 * the server's): from there the connection speaks HTTP/2. Frees c's HTTP/1
 * state and installs h2_proto with a new state in c; req (NULL if the
 * request was not seen) becomes stream 1, whose response comes as HTTP/2.
 * Parses what s holds after off. Returns the bytes of s consumed (>= off),
 * or -1 on ENOMEM, leaving c untouched.
 */
ssize_t h2_take_over(struct conn *c, enum ss_dir dir, const struct stream *s, size_t off,
		     const struct h2_upgrade_request *req);

#endif
