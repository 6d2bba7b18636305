/* HTTP/2 header blocks (HEADERS or PUSH_PROMISE, then CONTINUATION frames)
 * of one direction: decoded through nghttp2's HPACK inflater, keeping only
 * the fields a span and correlation need. See h2_session.c for why a fresh
 * inflater after a loss still decodes right or fails, never decodes wrong. */
#ifndef SOCKSPAN_H2_BLOCK_H
#define SOCKSPAN_H2_BLOCK_H

#include <nghttp2/nghttp2.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parse/trace_context.h"

/* Longest method kept, as HTTP/1 (VERSION-CONTROL is 17 bytes). */
#define H2_METHOD_MAX 24
/* Longest :path / :authority kept: what a span tag holds. */
#define H2_PATH_MAX 512
/* Longest decoded grpc-message kept: what a span tag holds. */
#define H2_GRPC_MESSAGE_MAX 512
/* Encoded bytes of one header block (HEADERS + CONTINUATION): bounds the work
 * a peer can demand; servers refuse far less (nghttpd 64 KiB, gRPC 8 KiB). */
#define H2_MAX_HEADER_BLOCK (256 * 1024)
/* Largest HPACK dynamic table kept per direction (peers use 4 KiB). */
#define H2_HPACK_MAX_TABLE 65536
/* Trace-context values kept per block: all of them at their longest valid
 * sizes (tracestate 512, x-request-id 256, the rest under 70) fit. */
#define H2_TRACE_HEADERS_MAX 1536

/* The HPACK decoder of one direction. Its inflater allocates through mem,
 * which counts what it holds: a table of tiny entries costs nghttp2 ~6 times
 * its HPACK size, and a field is allocated whole as soon as its length is
 * read (3 bytes can make it hold 64 KiB). Lives where it was made (the
 * inflater keeps a pointer to mem). */
struct h2_decoder {
	nghttp2_hd_inflater *inflater; /* NULL: none yet, or no memory */
	bool exact;                    /* saw the connection start: SETTINGS table sizes apply */
	bool reset;                    /* failed: a fresh one at the next block */
	nghttp2_mem mem;               /* counting allocator, user data: this decoder */
	size_t bytes;                  /* heap the inflater holds now */
};

/* The header block being decoded in one direction, and the fields it gave. */
struct h2_block {
	bool open;        /* from its HEADERS/PUSH_PROMISE to END_HEADERS */
	bool push;        /* a PUSH_PROMISE's: decoded for the HPACK state only */
	bool end_stream;
	bool failed;      /* undecodable: its fields are not used */
	bool malformed;   /* repeated or invalid pseudo-header */
	bool has_method, has_path, has_authority, has_status, has_grpc_status, has_grpc_message, grpc;
	uint32_t stream_id;
	uint64_t start_ns; /* its first frame's first byte */
	uint32_t seq;      /* TCP sequence number of that byte */
	uint32_t tid;      /* the thread that moved it */
	size_t len;
	int status, grpc_status;
	uint8_t method_len;
	uint16_t path_len, authority_len, grpc_message_len;
	size_t trace_len;  /* bytes of trace_buf used */
	struct tc_headers trace; /* slices into trace_buf */
	char method[H2_METHOD_MAX];
	char path[H2_PATH_MAX];
	char authority[H2_PATH_MAX];
	char grpc_message[H2_GRPC_MESSAGE_MAX];
	char trace_buf[H2_TRACE_HEADERS_MAX];
};

/* A new inflater for d: exact (the connection's start, RFC defaults) or with
 * its table limit raised to H2_HPACK_MAX_TABLE (joined mid-connection). */
void h2_decoder_new(struct h2_decoder *d, bool exact);
void h2_decoder_free(struct h2_decoder *d);
/* Heap bytes the decoder holds (malloc's usable sizes). */
size_t h2_decoder_footprint(const struct h2_decoder *d);
/* The peer acknowledged SETTINGS_HEADER_TABLE_SIZE = size: the exact
 * decoder follows it (capped at H2_HPACK_MAX_TABLE). */
void h2_decoder_table_size(struct h2_decoder *d, uint32_t size);

/* A block starts with a frame whose first byte is at start_ns / seq / tid. */
void h2_block_begin(struct h2_block *b, struct h2_decoder *d, uint32_t stream_id, bool push, bool end_stream,
		    uint64_t start_ns, uint32_t seq, uint32_t tid);
/* Feeds a fragment of the block (final: its last bytes; len may be 0). */
void h2_block_feed(struct h2_block *b, struct h2_decoder *d, const uint8_t *in, size_t len, bool final);
/* Bytes of the block were lost: it is undecodable, and so is d's state. */
void h2_block_fail(struct h2_block *b, struct h2_decoder *d);

#endif
