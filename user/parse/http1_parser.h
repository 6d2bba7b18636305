/*
 * HTTP/1.x head parser and body framing decoder.
 *
 * Pure functions over the caller's bytes, in the manner of picohttpparser:
 * nothing is allocated or copied, parsed fields are slices pointing into the
 * caller's buffer, and no state outlives a call except what the caller keeps
 * in a struct h1_body. Functions that can be incomplete return a byte count,
 * H1_NEED_MORE or H1_ERROR, so every reassembly loop looks the same.
 */
#ifndef SOCKSPAN_HTTP1_PARSER_H
#define SOCKSPAN_HTTP1_PARSER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* More header fields than this in one head: H1_ERROR (a hostile peer, not a real client). */
#define H1_MAX_HEADERS 64
/* A head (start line + headers) longer than this without CRLFCRLF: H1_ERROR (bounds buffering per stream). */
#define H1_MAX_HEAD_LEN (64 * 1024)
/* Bytes after the chunk size on its line (BWS and extensions); real peers send few, so anything long is an attack. */
#define H1_MAX_CHUNK_EXT_LEN 4096
/* Total bytes of a chunked trailer section; it is a header section, so the same bound as a head. */
#define H1_MAX_TRAILER_LEN H1_MAX_HEAD_LEN
/* Hex digits of a chunk size: 16 fill a uint64_t, more could overflow. */
#define H1_MAX_CHUNK_SIZE_DIGITS 16
/* Longest method h1_looks_like_request accepts ("UPDATEREDIRECTREF" is 17): keeps detection cheap and strict. */
#define H1_DETECT_METHOD_MAX 20
/* Empty-line bytes detection skips before a start line: a stream of nothing
 * else is not HTTP (the parsers themselves allow up to the head's bound). */
#define H1_DETECT_EMPTY_MAX 16
/* Shortest method h1_looks_like_request accepts ("GET", "PUT"): fewer false positives on random bytes. */
#define H1_DETECT_METHOD_MIN 3

enum { H1_ERROR = -1, H1_NEED_MORE = -2 };

/* A byte range inside the caller's buffer; not NUL-terminated. */
struct h1_slice {
	const char *p;
	size_t len;
};

/* One header field; value has its leading and trailing OWS (SP, HTAB) trimmed. */
struct h1_header {
	struct h1_slice name, value;
};

struct h1_request {
	struct h1_slice method, target;
	int minor_version; /* HTTP/1.<minor>, 0 or 1 */
	struct h1_header headers[H1_MAX_HEADERS];
	size_t num_headers;
};

struct h1_response {
	int minor_version; /* HTTP/1.<minor>, 0 or 1 */
	int status;        /* 100..999 */
	struct h1_slice reason;
	struct h1_header headers[H1_MAX_HEADERS];
	size_t num_headers;
};

/*
 * Parse a request head at buf[0]. Line endings may be CRLF or bare LF (as
 * picohttpparser accepts), and empty lines before the request line are
 * skipped (RFC 9112 section 2.2) and counted in the result.
 *
 * Returns the head length in bytes (> 0, including the final empty line) and
 * fills *req, whose slices point into buf and are valid as long as buf is;
 * H1_NEED_MORE if buf[0..len) is a valid prefix of a head; H1_ERROR if it can
 * never be one: non-token method, control byte in the target or a field,
 * version other than HTTP/1.0 or HTTP/1.1, obs-fold, more than H1_MAX_HEADERS
 * fields, or no complete head within H1_MAX_HEAD_LEN bytes. *req is
 * unspecified unless the result is > 0. Never reads past buf[len - 1].
 */
ssize_t h1_parse_request(const char *buf, size_t len, struct h1_request *req);

/*
 * Parse a response head at buf[0]: "HTTP/1.x NNN reason" (the reason may be
 * absent, with or without its SP), then fields, after any empty lines. Same
 * returns, ownership and limits as h1_parse_request; the status must be three
 * digits, 100..999.
 */
ssize_t h1_parse_response(const char *buf, size_t len, struct h1_response *resp);

/*
 * Cheap checks for protocol detection and for resynchronising a stream after
 * a gap. h1_looks_like_request: does buf start with a method of
 * H1_DETECT_METHOD_MIN..H1_DETECT_METHOD_MAX bytes of A-Z, '-' or '_' (every
 * registered method; stricter than RFC 9110's token on purpose), SP and a
 * visible byte? "PRI " is rejected: it starts the HTTP/2 connection preface.
 * h1_looks_like_response: does buf start with "HTTP/1.0 " or "HTTP/1.1 "?
 * Up to H1_DETECT_EMPTY_MAX bytes of empty lines before either are skipped,
 * as the parsers skip them.
 * Both return 1 for yes, 0 for no (TLS records, HTTP/2, RESP, binary), and
 * H1_NEED_MORE when buf is a prefix too short to tell.
 */
/* Bytes of CR and LF at buf: the empty lines that may precede a start line
 * (the parsers count them in the head; a message starts after them). */
size_t h1_empty_lines_len(const char *buf, size_t len);
int h1_looks_like_request(const char *buf, size_t len);
int h1_looks_like_response(const char *buf, size_t len);

/*
 * Case-insensitive lookup of the NUL-terminated field name among h[0..n).
 * Returns the value of the first match (pointing into h), or NULL if absent.
 */
const struct h1_slice *h1_find_header(const struct h1_header *h, size_t n, const char *name);

/* Body framing (RFC 9112 section 6). */
enum h1_body_kind {
	H1_BODY_NONE,
	H1_BODY_LENGTH,
	H1_BODY_CHUNKED,
	H1_BODY_UNTIL_CLOSE,
};

/* Where the chunked decoder stands; only meaningful for H1_BODY_CHUNKED. */
enum h1_chunk_state {
	H1_CHUNK_SIZE,                /* reading hex digits of a chunk size */
	H1_CHUNK_SIZE_BWS,            /* whitespace after the size: only ';' or the line end may follow */
	H1_CHUNK_EXT,                 /* skipping chunk extensions to the end of the size line */
	H1_CHUNK_SIZE_LF,             /* CR seen after the size line, expecting LF */
	H1_CHUNK_DATA,                /* inside chunk data, remaining bytes left */
	H1_CHUNK_DATA_CR,             /* chunk data done, expecting CR (or a bare LF) */
	H1_CHUNK_DATA_LF,             /* CR seen after chunk data, expecting LF */
	H1_CHUNK_TRAILER_LINE_START,  /* after the last chunk: a trailer field or the final empty line */
	H1_CHUNK_TRAILER_LINE,        /* inside a trailer field line */
	H1_CHUNK_TRAILER_LINE_LF,     /* CR seen ending a trailer field line, expecting LF */
	H1_CHUNK_END_LF,              /* CR of the final empty line seen, expecting LF */
	H1_CHUNK_DONE,                /* body complete */
	H1_CHUNK_ERROR,               /* malformed; sticky until the caller starts a new body */
};

/*
 * State of one message body, owned by the caller and filled by
 * h1_request_body or h1_response_body; h1_body_consume and h1_body_skip keep
 * all their state here, so a body can be fed in pieces of any size.
 */
struct h1_body {
	enum h1_body_kind kind;
	/* LENGTH: bytes left; CHUNKED: bytes left in the current chunk (the size so far in H1_CHUNK_SIZE) */
	uint64_t remaining;
	enum h1_chunk_state chunk_state;
	unsigned size_digits;  /* hex digits read of the current chunk size */
	size_t line_len;       /* bytes of the current chunk extension, or of the trailer section so far */
};

/*
 * Framing of a request's body: chunked if the last Transfer-Encoding coding
 * is chunked; else Content-Length (digits only; repeated fields or list
 * members must be identical); else none. Returns 0 and fills *body, or
 * H1_ERROR for a Transfer-Encoding whose last coding is not chunked, or an
 * invalid or conflicting Content-Length.
 */
int h1_request_body(const struct h1_request *req, struct h1_body *body);

/*
 * Framing of a response's body, given the method of the request it answers
 * (req_method may be {NULL, 0} if unknown): none for 1xx, 204, 304, answers
 * to HEAD and 2xx answers to CONNECT; chunked if the last Transfer-Encoding
 * coding is chunked; until close for any other Transfer-Encoding; else
 * Content-Length; else until close. Returns 0 and fills *body, or H1_ERROR
 * for an invalid or conflicting Content-Length.
 */
int h1_response_body(const struct h1_response *resp, struct h1_slice req_method, struct h1_body *body);

/*
 * Feed body bytes buf[0..len). Returns the bytes consumed: all of len unless
 * the body ended inside buf, in which case the rest belongs to the next
 * message. Always writes *done: 1 once the body is complete (for
 * H1_BODY_NONE at once, consuming 0; never for H1_BODY_UNTIL_CLOSE), else 0.
 * Returns H1_ERROR on malformed chunked framing (bad or over-long size,
 * over-long extension or trailer section, missing CRLF), and keeps returning
 * it until *body is filled anew. Chunk extensions and trailers are skipped.
 */
ssize_t h1_body_consume(struct h1_body *body, const char *buf, size_t len, int *done);

/*
 * Account for n body bytes that the kernel moved but did not copy (sendfile,
 * truncated capture). Returns 0 if the gap lies inside data of known length:
 * LENGTH with remaining >= n, chunk data with remaining >= n, or UNTIL_CLOSE
 * (and n == 0 anywhere); *body is advanced and *done written as for
 * h1_body_consume. Returns H1_ERROR otherwise, leaving *body unchanged: the
 * framing is lost and the caller must resynchronise.
 */
int h1_body_skip(struct h1_body *body, uint64_t n, int *done);

/*
 * Does this response end HTTP/1 on the connection? 1 for 101 Switching
 * Protocols and for a 2xx answer to CONNECT (req_method as in
 * h1_response_body), else 0.
 */
int h1_is_tunnel_response(const struct h1_response *resp, struct h1_slice req_method);

/*
 * Will the connection close after this message? 1 if a Connection field
 * lists "close", or for HTTP/1.0 without "keep-alive"; else 0.
 */
int h1_request_wants_close(const struct h1_request *req);
int h1_response_wants_close(const struct h1_response *resp);

#endif /* SOCKSPAN_HTTP1_PARSER_H */
