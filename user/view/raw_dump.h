/* raw_dump.h - --raw: every captured chunk as a header line and an
 * offset/hex/ASCII dump, secrets masked (raw_mask.h), for a person debugging
 * a protocol on the node. A sink on the event stream, beside the pipeline:
 * what it masks is a copy, never the bytes the parsers see.
 *
 *   2026-11-21T22:55:08.388633Z python3 pid 1234 fd 5 127.0.0.1:8080 < 127.0.0.1:41234 http1 len 18 captured 18
 *     0000  47 45 54 20 2f 20 48 54  54 50 2f 31 2e 31 0d 0a  |GET / HTTP/1.1..|
 *     0010  0d 0a                                             |..|
 *
 * '<' the process read the bytes, '>' it wrote them, '-' a close; local
 * address first. The protocol is said once detected. `truncated` when fewer
 * bytes were captured than moved, `gap` for sendfile/splice (never in user
 * memory). */
#ifndef SOCKSPAN_RAW_DUMP_H
#define SOCKSPAN_RAW_DUMP_H

#include <stdint.h>
#include <stdio.h>

#include "sockspan_event.h"

/* --raw-bytes: bytes dumped per chunk by default, and at most (a chunk's). */
#define RAW_DUMP_BYTES_DEFAULT 256
#define RAW_DUMP_BYTES_MAX SS_PAYLOAD_MAX
/* Directions of connections whose masking state is kept (~64 bytes each);
 * one whose slot another took starts again from a fresh state. */
#define RAW_DUMP_STATES_BITS 14

struct raw_dump;

/* Writes to out (which outlives it) at most max_bytes of each chunk
 * (0: header lines only). NULL on ENOMEM. */
struct raw_dump *raw_dump_new(FILE *out, uint32_t max_bytes);
void raw_dump_free(struct raw_dump *d);

/*
 * One event and its ev->cap_len payload bytes; proto is what the connection
 * is known to speak (conn_tracker_proto); epoch_us is ev->ts_ns on the wall
 * clock. A close forgets the connection's masking state. Returns what
 * fprintf returns for the last line (negative on a write error).
 */
int raw_dump_event(struct raw_dump *d, const struct ss_event *ev, const uint8_t *payload, unsigned proto,
		   uint64_t epoch_us);

#endif
