/* raw_mask.h - secrets hidden from the --raw dump, one direction of one
 * connection at a time, chunk after chunk as the capture delivers them.
 *
 * Masked bytes become '*' (so offsets and lengths stay right), in a copy:
 * the bytes the parsers see are never touched.
 *   HTTP/1 (also a connection whose protocol is not known yet): the values of
 *     Authorization, Proxy-Authorization, Cookie and Set-Cookie header lines,
 *     also when a line goes on into the next chunk or folds (obs-fold).
 *   HTTP/2: the payloads of HEADERS, PUSH_PROMISE and CONTINUATION frames
 *     (HPACK literals cannot be told apart byte by byte); frame headers, the
 *     client preface and DATA stay visible. Bytes whose framing is lost
 *     (a capture gap inside a header, a malformed header) are all masked
 *     until a chunk starts with what looks like frames again.
 *   Redis: the arguments of AUTH and HELLO (every bulk string after the
 *     command name, of arrays and of inline commands).
 *   Anything else: shown as it is.
 * Pure functions over (state, bytes): memory is the caller's, time O(bytes). */
#ifndef SOCKSPAN_RAW_MASK_H
#define SOCKSPAN_RAW_MASK_H

#include <stddef.h>
#include <stdint.h>

enum raw_mask_proto {
	RAW_MASK_NONE,  /* a protocol we do not parse: nothing masked */
	RAW_MASK_HTTP1, /* HTTP/1, or not detected yet */
	RAW_MASK_H2,
	RAW_MASK_REDIS,
};

/* One direction of one connection; all zeros is the start of a stream.
 * Whoever keeps it resets it (raw_mask_reset) when the protocol changes. */
struct raw_mask_state {
	uint8_t h1;         /* enum in raw_mask.c */
	uint8_t h1_pos;     /* bytes of the header name matched so far */
	uint8_t h1_names;   /* bit per masked header name still possible */
	uint8_t h2;         /* enum in raw_mask.c */
	uint8_t h2_hdr_len; /* bytes of the preface, or of a frame header, seen */
	uint8_t h2_masked;  /* the current frame's payload is masked */
	uint8_t h2_hdr[24];     /* the preface (24 bytes), or a frame header (9) */
	uint32_t h2_left;   /* payload bytes left in the current frame */
	uint8_t resp;          /* enum in raw_mask.c */
	uint8_t resp_secret;   /* the current command is AUTH or HELLO */
	uint8_t resp_args;     /* past the command name */
	uint8_t resp_neg;      /* the length being read is negative (null) */
	uint8_t resp_name_len; /* bytes of the command name seen (saturates) */
	char resp_name[5];     /* its first bytes, lower case */
	uint32_t resp_elems;   /* array elements left, the one being read included */
	uint64_t resp_num;     /* a length being read */
	uint64_t resp_left;    /* bulk bytes left, CRLF included */
};

static inline void raw_mask_reset(struct raw_mask_state *st)
{
	*st = (struct raw_mask_state){ 0 };
}

/*
 * The next len bytes of the stream (in): walks all of them, and writes the
 * first out_len of them (at most len) to out, secrets as '*'.
 */
void raw_mask(struct raw_mask_state *st, enum raw_mask_proto p, const uint8_t *in, size_t len, uint8_t *out,
	      size_t out_len);

/*
 * n bytes of the stream went by uncaptured (a truncated payload, sendfile,
 * lost events). Where the walker is no longer sure, it masks more, never less.
 */
void raw_mask_skip(struct raw_mask_state *st, enum raw_mask_proto p, uint64_t n);

#endif
