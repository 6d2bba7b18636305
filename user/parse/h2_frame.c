/*
 * HTTP/2 framing; see h2_frame.h. Every check reads only bytes the caller
 * said it has, so a split anywhere gives H2_NEED_MORE, never another verdict.
 */
#include "parse/h2_frame.h"

#include <stdint.h>
#include <string.h>

static const char preface[H2_PREFACE_LEN + 1] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/* Flags each known type defines (RFC 9113 section 6); strict checks refuse others. */
static const uint8_t defined_flags[] = {
	[H2_DATA] = H2_FLAG_END_STREAM | H2_FLAG_PADDED,
	[H2_HEADERS] = H2_FLAG_END_STREAM | H2_FLAG_END_HEADERS | H2_FLAG_PADDED | H2_FLAG_PRIORITY,
	[H2_PRIORITY] = 0,
	[H2_RST_STREAM] = 0,
	[H2_SETTINGS] = H2_FLAG_ACK,
	[H2_PUSH_PROMISE] = H2_FLAG_END_HEADERS | H2_FLAG_PADDED,
	[H2_PING] = H2_FLAG_ACK,
	[H2_GOAWAY] = 0,
	[H2_WINDOW_UPDATE] = 0,
	[H2_CONTINUATION] = H2_FLAG_END_HEADERS,
};

/* The highest error code RFC 9113 defines (HTTP_1_1_REQUIRED). */
#define H2_MAX_ERROR_CODE 0xd
/* SETTINGS_INITIAL_WINDOW_SIZE above this is a connection error (RFC 9113 6.5.2). */
#define H2_MAX_WINDOW 0x7fffffffu

static const char *const error_names[H2_MAX_ERROR_CODE + 1] = {
	"NO_ERROR", "PROTOCOL_ERROR", "INTERNAL_ERROR", "FLOW_CONTROL_ERROR", "SETTINGS_TIMEOUT",
	"STREAM_CLOSED", "FRAME_SIZE_ERROR", "REFUSED_STREAM", "CANCEL", "COMPRESSION_ERROR",
	"CONNECT_ERROR", "ENHANCE_YOUR_CALM", "INADEQUATE_SECURITY", "HTTP_1_1_REQUIRED",
};

uint32_t h2_get_u32(const uint8_t *buf)
{
	return (uint32_t)buf[0] << 24 | (uint32_t)buf[1] << 16 | (uint32_t)buf[2] << 8 | buf[3];
}

uint16_t h2_get_u16(const uint8_t *buf)
{
	return (uint16_t)(buf[0] << 8 | buf[1]);
}

const char *h2_error_name(uint32_t code)
{
	return code <= H2_MAX_ERROR_CODE ? error_names[code] : NULL;
}

/* Stream id and length rules of the known types. */
static bool header_valid(const struct h2_frame_header *h)
{
	bool on_stream = h->stream_id != 0;

	switch (h->type) {
	case H2_DATA:
	case H2_HEADERS:
	case H2_CONTINUATION:
		return on_stream;
	case H2_PRIORITY:
		return on_stream && h->length == 5;
	case H2_RST_STREAM:
		return on_stream && h->length == 4;
	case H2_SETTINGS:
		return !on_stream && h->length % H2_SETTING_LEN == 0 &&
		       (!(h->flags & H2_FLAG_ACK) || h->length == 0);
	case H2_PUSH_PROMISE:
		return on_stream && h->length >= 4;
	case H2_PING:
		return !on_stream && h->length == 8;
	case H2_GOAWAY:
		return !on_stream && h->length >= 8;
	case H2_WINDOW_UPDATE:
		return h->length == 4;
	default:
		return true; /* extension types are ignored, whatever they hold */
	}
}

ssize_t h2_parse_frame_header(const uint8_t *buf, size_t len, uint32_t max_frame_size,
			      struct h2_frame_header *h)
{
	if (len < H2_FRAME_HEADER_LEN)
		return H2_NEED_MORE;
	h->length = (uint32_t)buf[0] << 16 | (uint32_t)buf[1] << 8 | buf[2];
	h->type = buf[3];
	h->flags = buf[4];
	h->reserved = buf[5] & 0x80;
	h->stream_id = h2_get_u32(buf + 5) & 0x7fffffffu;
	if (h->length > max_frame_size || !header_valid(h))
		return H2_ERROR;
	return H2_FRAME_HEADER_LEN;
}

ssize_t h2_frame_layout(const struct h2_frame_header *h, const uint8_t *payload, size_t avail,
			struct h2_frame_layout *out)
{
	uint32_t prefix = 0, pad = 0;
	bool padded = h->flags & H2_FLAG_PADDED;

	memset(out, 0, sizeof(*out));
	switch (h->type) {
	case H2_DATA:
		prefix = padded;
		break;
	case H2_HEADERS:
		prefix = padded + (h->flags & H2_FLAG_PRIORITY ? 5 : 0);
		break;
	case H2_PUSH_PROMISE:
		prefix = padded + 4;
		break;
	default:
		out->content_len = h->length;
		return 0;
	}
	if (prefix > h->length)
		return H2_ERROR;
	if (avail < prefix)
		return H2_NEED_MORE;
	if (padded)
		pad = payload[0];
	/* The padding is part of the length: it must leave room for the prefix. */
	if (pad > h->length - prefix)
		return H2_ERROR;
	if (h->type == H2_PUSH_PROMISE)
		out->promised_id = h2_get_u32(payload + padded) & 0x7fffffffu;
	out->prefix_len = prefix;
	out->pad_len = pad;
	out->content_len = h->length - prefix - pad;
	return prefix;
}

ssize_t h2_parse_frame(const uint8_t *buf, size_t len, uint32_t max_frame_size, struct h2_frame *f)
{
	ssize_t r = h2_parse_frame_header(buf, len, max_frame_size, &f->hdr);
	ssize_t p;

	if (r < 0)
		return r;
	if (len - H2_FRAME_HEADER_LEN < f->hdr.length)
		return H2_NEED_MORE;
	f->payload = buf + H2_FRAME_HEADER_LEN;
	p = h2_frame_layout(&f->hdr, f->payload, f->hdr.length, &f->layout);
	if (p < 0)
		return H2_ERROR; /* the whole payload is there: need-more is impossible */
	f->content = f->payload + p;
	return H2_FRAME_HEADER_LEN + (ssize_t)f->hdr.length;
}

ssize_t h2_parse_preface(const uint8_t *buf, size_t len)
{
	size_t n = len < H2_PREFACE_LEN ? len : H2_PREFACE_LEN;

	if (n && memcmp(buf, preface, n) != 0)
		return H2_ERROR;
	return n == H2_PREFACE_LEN ? H2_PREFACE_LEN : H2_NEED_MORE;
}

/* Values a real peer sends (RFC 9113 6.5.2); unknown identifiers are allowed. */
static bool settings_sane(const uint8_t *p, uint32_t len)
{
	for (uint32_t i = 0; i < len; i += H2_SETTING_LEN) {
		uint16_t id = h2_get_u16(p + i);
		uint32_t v = h2_get_u32(p + i + 2);

		if ((id == H2_SETTINGS_ENABLE_PUSH && v > 1) ||
		    (id == H2_SETTINGS_INITIAL_WINDOW_SIZE && v > H2_MAX_WINDOW) ||
		    (id == H2_SETTINGS_MAX_FRAME_SIZE &&
		     (v < H2_DEFAULT_MAX_FRAME_SIZE || v > H2_MAX_FRAME_SIZE_CEILING)))
			return false;
	}
	return true;
}

/* The payload checks of the strict test; p holds the whole payload. */
static bool payload_sane(const struct h2_frame *f)
{
	const uint8_t *p = f->payload;

	switch (f->hdr.type) {
	case H2_SETTINGS:
		return settings_sane(p, f->hdr.length);
	case H2_WINDOW_UPDATE:
		return (h2_get_u32(p) & 0x7fffffffu) != 0 && !(p[0] & 0x80);
	case H2_RST_STREAM:
		return h2_get_u32(p) <= H2_MAX_ERROR_CODE;
	case H2_GOAWAY:
		return h2_get_u32(p + 4) <= H2_MAX_ERROR_CODE && !(p[0] & 0x80);
	case H2_PRIORITY:
		return (h2_get_u32(p) & 0x7fffffffu) != f->hdr.stream_id;
	case H2_PUSH_PROMISE:
		return f->layout.promised_id != 0 && f->layout.promised_id % 2 == 0;
	default:
		return true;
	}
}

int h2_looks_like_frames(const uint8_t *buf, size_t len, size_t *missing)
{
	size_t off = 0, need = SIZE_MAX;
	unsigned complete = 0;
	uint32_t continuation = 0; /* stream whose header block is open, 0 if none */

	while (off < len) {
		struct h2_frame f;
		ssize_t r = h2_parse_frame_header(buf + off, len - off, H2_DEFAULT_MAX_FRAME_SIZE, &f.hdr);

		if (r == H2_NEED_MORE) {
			/* A length that cannot fit the default maximum: no need to wait. */
			if (buf[off] != 0 || (len - off >= 2 && buf[off + 1] > 0x40))
				return 0;
			break;
		}
		if (r < 0 || f.hdr.type > H2_CONTINUATION || f.hdr.reserved ||
		    (f.hdr.flags & ~defined_flags[f.hdr.type]))
			return 0;
		if ((f.hdr.type == H2_CONTINUATION) != (continuation != 0) ||
		    (continuation && f.hdr.stream_id != continuation))
			return 0;
		r = h2_parse_frame(buf + off, len - off, H2_DEFAULT_MAX_FRAME_SIZE, &f);
		if (r == H2_NEED_MORE) {
			/* The prefix may already be wrong. */
			struct h2_frame_layout l;

			if (h2_frame_layout(&f.hdr, buf + off + H2_FRAME_HEADER_LEN,
					    len - off - H2_FRAME_HEADER_LEN, &l) == H2_ERROR)
				return 0;
			need = off + H2_FRAME_HEADER_LEN + f.hdr.length - len;
			break;
		}
		if (r < 0 || !payload_sane(&f))
			return 0;
		if ((f.hdr.type == H2_HEADERS || f.hdr.type == H2_PUSH_PROMISE) &&
		    !(f.hdr.flags & H2_FLAG_END_HEADERS))
			continuation = f.hdr.stream_id;
		else if (f.hdr.type == H2_CONTINUATION && (f.hdr.flags & H2_FLAG_END_HEADERS))
			continuation = 0;
		off += (size_t)r;
		complete++;
	}
	if (complete >= H2_DETECT_FRAMES || (off == len && complete > 0))
		return 1;
	if (missing)
		*missing = need;
	return H2_NEED_MORE;
}
