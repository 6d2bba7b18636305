/*
 * HTTP/2 framing (RFC 9113 section 4 and 6): frame headers, payload layout
 * (padding, priority, promised stream id), the client connection preface and
 * a strict check that bytes start a sequence of frames.
 *
 * Pure functions over the caller's bytes, in the manner of http1_parser.h:
 * nothing is allocated or copied, results are slices into the caller's buffer,
 * and every function that can be incomplete returns a byte count,
 * H2_NEED_MORE or H2_ERROR. HPACK is not here: header block fragments are
 * handed out as bytes, for nghttp2's inflater.
 */
#ifndef SOCKSPAN_H2_FRAME_H
#define SOCKSPAN_H2_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define H2_FRAME_HEADER_LEN 9
/* "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n": what a client sends first. */
#define H2_PREFACE_LEN 24
/* SETTINGS_MAX_FRAME_SIZE until the receiver advertises more (RFC 9113 section 6.5.2). */
#define H2_DEFAULT_MAX_FRAME_SIZE 16384
/* The largest SETTINGS_MAX_FRAME_SIZE a peer may advertise: 2^24-1, all a length field holds. */
#define H2_MAX_FRAME_SIZE_CEILING 16777215u
/* Complete valid frames that prove HTTP/2 even when the bytes end inside a later frame. */
#define H2_DETECT_FRAMES 3
/* SETTINGS entries are 6 bytes: identifier (16 bits), value (32 bits). */
#define H2_SETTING_LEN 6

enum { H2_ERROR = -1, H2_NEED_MORE = -2 };

enum h2_frame_type {
	H2_DATA = 0x0,
	H2_HEADERS = 0x1,
	H2_PRIORITY = 0x2,
	H2_RST_STREAM = 0x3,
	H2_SETTINGS = 0x4,
	H2_PUSH_PROMISE = 0x5,
	H2_PING = 0x6,
	H2_GOAWAY = 0x7,
	H2_WINDOW_UPDATE = 0x8,
	H2_CONTINUATION = 0x9,
};

enum h2_flag {
	H2_FLAG_END_STREAM = 0x01,  /* DATA, HEADERS */
	H2_FLAG_ACK = 0x01,         /* SETTINGS, PING */
	H2_FLAG_END_HEADERS = 0x04, /* HEADERS, PUSH_PROMISE, CONTINUATION */
	H2_FLAG_PADDED = 0x08,      /* DATA, HEADERS, PUSH_PROMISE */
	H2_FLAG_PRIORITY = 0x20,    /* HEADERS */
};

enum h2_setting_id {
	H2_SETTINGS_HEADER_TABLE_SIZE = 0x1,
	H2_SETTINGS_ENABLE_PUSH = 0x2,
	H2_SETTINGS_MAX_CONCURRENT_STREAMS = 0x3,
	H2_SETTINGS_INITIAL_WINDOW_SIZE = 0x4,
	H2_SETTINGS_MAX_FRAME_SIZE = 0x5,
	H2_SETTINGS_MAX_HEADER_LIST_SIZE = 0x6,
};

struct h2_frame_header {
	uint32_t length;    /* payload bytes that follow the 9-byte header */
	uint8_t type;       /* enum h2_frame_type, or an extension type */
	uint8_t flags;
	bool reserved;      /* the R bit before the stream id (ignored on receipt, RFC 9113 4.1) */
	uint32_t stream_id; /* 31 bits */
};

/* Where the content of a DATA, HEADERS or PUSH_PROMISE payload lies; any
 * other type has no prefix and no padding. */
struct h2_frame_layout {
	uint32_t prefix_len;  /* pad length byte, priority fields, promised stream id */
	uint32_t content_len; /* data, or header block fragment */
	uint32_t pad_len;     /* padding after the content */
	uint32_t promised_id; /* PUSH_PROMISE only */
};

/* One complete frame: the header and slices of the caller's buffer. */
struct h2_frame {
	struct h2_frame_header hdr;
	struct h2_frame_layout layout;
	const uint8_t *payload; /* hdr.length bytes */
	const uint8_t *content; /* layout.content_len bytes inside payload */
};

/*
 * Parse a frame header at buf[0]. Returns H2_FRAME_HEADER_LEN and fills *h;
 * H2_NEED_MORE if len < 9; H2_ERROR if the frame can never be valid: length
 * above max_frame_size (callers pass the receiver's SETTINGS_MAX_FRAME_SIZE,
 * at most H2_MAX_FRAME_SIZE_CEILING), or a known type with the wrong stream
 * id (zero where a stream is needed, non-zero on a connection frame) or a
 * length its type forbids (RFC 9113 section 6). Extension types pass.
 */
ssize_t h2_parse_frame_header(const uint8_t *buf, size_t len, uint32_t max_frame_size,
			      struct h2_frame_header *h);

/*
 * Layout of h's payload given its first avail bytes (payload[0..avail)).
 * Returns the prefix length (0..6: what must be read before the content) and
 * fills *out; H2_NEED_MORE if avail is shorter than the prefix; H2_ERROR if
 * the padding or the prefix does not fit in the payload.
 */
ssize_t h2_frame_layout(const struct h2_frame_header *h, const uint8_t *payload, size_t avail,
			struct h2_frame_layout *out);

/*
 * Parse one complete frame at buf[0]: header, then layout. Returns its total
 * length (9 + payload) and fills *f with slices of buf; H2_NEED_MORE until
 * all of it is in buf; H2_ERROR as h2_parse_frame_header and h2_frame_layout.
 */
ssize_t h2_parse_frame(const uint8_t *buf, size_t len, uint32_t max_frame_size, struct h2_frame *f);

/*
 * Does buf start with the client connection preface? Returns H2_PREFACE_LEN,
 * H2_NEED_MORE for a shorter prefix of it, H2_ERROR otherwise.
 */
ssize_t h2_parse_preface(const uint8_t *buf, size_t len);

/*
 * Strict check, for protocol detection and for finding a frame boundary at a
 * syscall's first bytes after a loss: do buf's bytes start a sequence of
 * frames a real peer would send? Every frame must have a known type (0..9),
 * no undefined flag, the reserved bit clear, at most H2_DEFAULT_MAX_FRAME_SIZE
 * bytes, the stream id and length its type requires, valid padding, sane
 * SETTINGS values and known error codes; a CONTINUATION only right after a
 * HEADERS or PUSH_PROMISE of the same stream without END_HEADERS. Returns 1
 * when buf ends exactly after at least one such frame, or holds
 * H2_DETECT_FRAMES of them; H2_NEED_MORE when every byte so far fits and a
 * frame is incomplete; 0 otherwise (HTTP/1, TLS, RESP, the preface, random).
 * With H2_NEED_MORE, *missing (if not NULL) gets the bytes that would end
 * the incomplete frame, or SIZE_MAX if its header is not all there.
 */
int h2_looks_like_frames(const uint8_t *buf, size_t len, size_t *missing);

/* Big-endian reads for payload fields; buf must hold the bytes. */
uint32_t h2_get_u32(const uint8_t *buf);
uint16_t h2_get_u16(const uint8_t *buf);

/* Name of an error code (RFC 9113 section 7), or NULL if unknown. */
const char *h2_error_name(uint32_t code);

#endif /* SOCKSPAN_H2_FRAME_H */
