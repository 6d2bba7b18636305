#include "view/raw_mask.h"

#include <stdbool.h>
#include <string.h>

#include "parse/ascii.h"
#include "parse/h2_frame.h"

/* Where the HTTP/1 walker is in a line. LINE_START is 0: a fresh state. */
enum { H1_LINE_START, H1_NAME, H1_SKIP_LINE, H1_VALUE_OWS, H1_VALUE, H1_FOLD };
/* Where the HTTP/2 walker is. PREFACE is 0: a stream may start with it. */
enum { H2_PREFACE, H2_HEADER, H2_PAYLOAD, H2_LOST };
/* Where the RESP walker is in a command. START is 0: between commands. */
enum { R_START, R_ARRAY_LEN, R_BULK_TYPE, R_BULK_LEN, R_BULK, R_INLINE_NAME, R_INLINE_ARGS, R_SKIP_LINE };

/* Header names whose values are masked, lower case; bit i of h1_names is names[i]. */
static const char *const h1_names[] = { "authorization", "proxy-authorization", "cookie", "set-cookie" };
#define H1_ALL_NAMES ((1u << (sizeof(h1_names) / sizeof(h1_names[0]))) - 1)
/* RESP lengths beyond any Redis limit (proto-max-bulk-len is 512 MB): saturated, not overflowed. */
#define RESP_NUM_MAX (1ull << 40)

static void mask_byte(uint8_t *out, size_t out_len, size_t i)
{
	if (i < out_len)
		out[i] = '*';
}

static void mask_run(uint8_t *out, size_t out_len, size_t i, size_t n)
{
	if (i < out_len)
		memset(out + i, '*', n < out_len - i ? n : out_len - i);
}

/* One byte of a header name: the names it still spells stay candidates. */
static void h1_name_byte(struct raw_mask_state *st, uint8_t c)
{
	unsigned done = 0;

	if (c == '\n') {
		st->h1 = H1_LINE_START;
		return;
	}
	/* Blanks between name and colon: forbidden, yet a lenient server may
	 * take the header, so a complete name stays a candidate. */
	if ((c == ' ' || c == '\t') && st->h1_pos)
		c = '\0';
	for (unsigned i = 0; i < sizeof(h1_names) / sizeof(h1_names[0]); i++) {
		size_t n = strlen(h1_names[i]);

		if (!(st->h1_names & (1u << i)))
			continue;
		if ((c == ':' || c == '\0') && st->h1_pos == n)
			done = 1;
		else if (st->h1_pos >= n || h1_names[i][st->h1_pos] != ascii_lower((char)c))
			st->h1_names &= ~(1u << i);
	}
	if (c == ':')
		st->h1 = done ? H1_VALUE_OWS : H1_SKIP_LINE;
	else if (!st->h1_names)
		st->h1 = H1_SKIP_LINE;
	if (c != '\0')
		st->h1_pos++; /* no wrap: at 20 no name is left */
}

/* Is byte c (at i) masked? */
static bool h1_byte(struct raw_mask_state *st, uint8_t c)
{
	switch (st->h1) {
	case H1_FOLD: /* a line after a masked value: folded into it if it starts blank */
		if (c == ' ' || c == '\t') {
			st->h1 = H1_VALUE;
			return true;
		}
		/* fallthrough */
	case H1_LINE_START:
		st->h1 = H1_NAME;
		st->h1_pos = 0;
		st->h1_names = H1_ALL_NAMES;
		/* fallthrough */
	case H1_NAME:
		h1_name_byte(st, c);
		return false;
	case H1_VALUE_OWS:
		if (c == ' ' || c == '\t')
			return false;
		st->h1 = H1_VALUE;
		/* fallthrough */
	case H1_VALUE:
		if (c == '\n')
			st->h1 = H1_FOLD;
		return c != '\r' && c != '\n';
	default: /* H1_SKIP_LINE */
		if (c == '\n')
			st->h1 = H1_LINE_START;
		return false;
	}
}

static void h1_mask(struct raw_mask_state *st, const uint8_t *in, size_t len, uint8_t *out, size_t out_len)
{
	for (size_t i = 0; i < len; i++)
		if (h1_byte(st, in[i]))
			mask_byte(out, out_len, i);
}

/* A chunk where the walker has no place (a fresh stream, or lost): the
 * preface, frames, or nothing it can read. */
static void h2_place(struct raw_mask_state *st, const uint8_t *in, size_t len)
{
	if (h2_parse_preface(in, len) != H2_ERROR)
		st->h2 = H2_PREFACE;
	else if (h2_looks_like_frames(in, len, NULL) != 0)
		st->h2 = H2_HEADER;
	else
		st->h2 = H2_LOST;
	st->h2_hdr_len = 0;
}

/* One byte of the preface or of a frame header (both shown). */
static void h2_header_byte(struct raw_mask_state *st, uint8_t c)
{
	struct h2_frame_header h;

	st->h2_hdr[st->h2_hdr_len++] = c;
	if (st->h2 == H2_PREFACE) {
		ssize_t r = h2_parse_preface(st->h2_hdr, st->h2_hdr_len);

		if (r == H2_ERROR)
			st->h2 = H2_LOST;
		else if (r == H2_PREFACE_LEN)
			st->h2 = H2_HEADER;
		if (r != H2_NEED_MORE)
			st->h2_hdr_len = 0;
		return;
	}
	if (st->h2_hdr_len < H2_FRAME_HEADER_LEN)
		return;
	st->h2_hdr_len = 0;
	if (h2_parse_frame_header(st->h2_hdr, H2_FRAME_HEADER_LEN, H2_MAX_FRAME_SIZE_CEILING, &h) < 0) {
		st->h2 = H2_LOST;
		return;
	}
	st->h2_masked = h.type == H2_HEADERS || h.type == H2_PUSH_PROMISE || h.type == H2_CONTINUATION;
	st->h2_left = h.length;
	st->h2 = h.length ? H2_PAYLOAD : H2_HEADER;
}

static void h2_mask(struct raw_mask_state *st, const uint8_t *in, size_t len, uint8_t *out, size_t out_len)
{
	size_t i = 0;

	if (st->h2 == H2_LOST || (st->h2 == H2_PREFACE && st->h2_hdr_len == 0))
		h2_place(st, in, len);
	while (i < len) {
		size_t n = len - i;

		switch (st->h2) {
		case H2_PAYLOAD:
			if (n > st->h2_left)
				n = st->h2_left;
			if (st->h2_masked)
				mask_run(out, out_len, i, n);
			st->h2_left -= n;
			if (!st->h2_left)
				st->h2 = H2_HEADER;
			break;
		case H2_LOST:
			mask_run(out, out_len, i, n);
			break;
		default: /* H2_PREFACE, H2_HEADER */
			h2_header_byte(st, in[i]);
			n = 1;
			break;
		}
		i += n;
	}
}

static void h2_skip(struct raw_mask_state *st, uint64_t n)
{
	if (st->h2 == H2_PAYLOAD && n < st->h2_left)
		st->h2_left -= n;
	else if (st->h2 == H2_PAYLOAD && n == st->h2_left)
		st->h2 = H2_HEADER;
	else
		st->h2 = H2_LOST;
}

/* A command name ended: is it one whose arguments are secret? */
static void resp_name_end(struct raw_mask_state *st)
{
	st->resp_secret = (st->resp_name_len == 4 && memcmp(st->resp_name, "auth", 4) == 0) ||
			  (st->resp_name_len == 5 && memcmp(st->resp_name, "hello", 5) == 0);
	st->resp_args = 1;
}

static void resp_name_byte(struct raw_mask_state *st, uint8_t c)
{
	if (st->resp_name_len < sizeof(st->resp_name))
		st->resp_name[st->resp_name_len] = ascii_lower((char)c);
	if (st->resp_name_len < UINT8_MAX)
		st->resp_name_len++;
}

static void resp_command_start(struct raw_mask_state *st, uint8_t state)
{
	st->resp = state;
	st->resp_num = 0;
	st->resp_neg = 0;
	st->resp_name_len = 0;
	st->resp_secret = 0;
	st->resp_args = 0;
}

/* A digit, '-', or the end of a length line; 1 when the line ended. */
static int resp_num_byte(struct raw_mask_state *st, uint8_t c)
{
	if (c >= '0' && c <= '9' && st->resp_num < RESP_NUM_MAX)
		st->resp_num = st->resp_num * 10 + (c - '0');
	else if (c == '-')
		st->resp_neg = 1;
	else if (c == '\n')
		return 1;
	else if (c != '\r' && !(c >= '0' && c <= '9'))
		st->resp = R_SKIP_LINE;
	return 0;
}

/* An array element ended: the next one, or the next command. */
static void resp_elem_end(struct raw_mask_state *st)
{
	if (!st->resp_args)
		resp_name_end(st);
	if (--st->resp_elems == 0)
		st->resp = R_START;
	else
		st->resp = R_BULK_TYPE;
}

/* The bytes of a bulk string from in[i]: returns how many were walked. */
static size_t resp_bulk(struct raw_mask_state *st, const uint8_t *in, size_t i, size_t len, uint8_t *out,
			size_t out_len)
{
	size_t n = len - i < st->resp_left ? len - i : (size_t)st->resp_left;
	/* The data, not its CRLF. */
	size_t data = st->resp_left > 2 ? (size_t)(st->resp_left - 2 < n ? st->resp_left - 2 : n) : 0;

	if (st->resp_secret)
		mask_run(out, out_len, i, data);
	else if (!st->resp_args)
		for (size_t k = 0; k < data && st->resp_name_len <= sizeof(st->resp_name); k++)
			resp_name_byte(st, in[i + k]);
	st->resp_left -= n;
	if (!st->resp_left)
		resp_elem_end(st);
	return n;
}

/* Is byte c (of a line-based state) masked? */
static bool resp_byte(struct raw_mask_state *st, uint8_t c)
{
	switch (st->resp) {
	case R_START:
		if (c == '*')
			resp_command_start(st, R_ARRAY_LEN);
		else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
			resp_command_start(st, R_INLINE_NAME);
		else if (c != '\r' && c != '\n')
			resp_command_start(st, R_SKIP_LINE); /* a reply, or nothing we know */
		if (st->resp == R_INLINE_NAME)
			resp_name_byte(st, c);
		return false;
	case R_ARRAY_LEN:
		if (resp_num_byte(st, c)) {
			st->resp_elems = st->resp_neg ? 0 : st->resp_num > UINT32_MAX ? UINT32_MAX : (uint32_t)st->resp_num;
			st->resp = st->resp_elems ? R_BULK_TYPE : R_START;
		}
		return false;
	case R_BULK_TYPE:
		st->resp_num = 0;
		st->resp_neg = 0;
		st->resp = c == '$' ? R_BULK_LEN : R_SKIP_LINE;
		return false;
	case R_BULK_LEN:
		if (resp_num_byte(st, c)) {
			st->resp_left = st->resp_num + 2;
			st->resp = R_BULK;
			if (st->resp_neg) /* a null bulk string: no data */
				resp_elem_end(st);
		}
		return false;
	case R_INLINE_NAME:
		if (c == ' ' || c == '\t' || c == '\n') {
			resp_name_end(st);
			st->resp = c == '\n' ? R_START : R_INLINE_ARGS;
		} else if (c != '\r') {
			resp_name_byte(st, c);
		}
		return false;
	default: /* R_INLINE_ARGS, R_SKIP_LINE: to the end of the line */
		if (c == '\n') {
			st->resp = R_START;
			return false;
		}
		return st->resp_secret && c != '\r';
	}
}

static void resp_mask(struct raw_mask_state *st, const uint8_t *in, size_t len, uint8_t *out, size_t out_len)
{
	size_t i = 0;

	while (i < len) {
		if (st->resp == R_BULK) {
			i += resp_bulk(st, in, i, len, out, out_len);
			continue;
		}
		if (resp_byte(st, in[i]))
			mask_byte(out, out_len, i);
		i++;
	}
}

/* Past n uncaptured bytes: in step inside a bulk string, else to the end
 * of a line, masked if the command was secret. */
static void resp_skip(struct raw_mask_state *st, uint64_t n)
{
	if (st->resp == R_BULK && n < st->resp_left)
		st->resp_left -= n;
	else
		st->resp = R_SKIP_LINE;
}

/* Past n uncaptured bytes: a masked value stays masked to the end of its
 * line; anything else waits for the next line. */
static void h1_skip(struct raw_mask_state *st)
{
	if (st->h1 == H1_VALUE || st->h1 == H1_VALUE_OWS || st->h1 == H1_FOLD)
		st->h1 = H1_VALUE;
	else
		st->h1 = H1_SKIP_LINE;
}

void raw_mask(struct raw_mask_state *st, enum raw_mask_proto p, const uint8_t *in, size_t len, uint8_t *out,
	      size_t out_len)
{
	if (out_len > len)
		out_len = len;
	if (out_len)
		memcpy(out, in, out_len);
	if (!len)
		return;
	switch (p) {
	case RAW_MASK_HTTP1:
		h1_mask(st, in, len, out, out_len);
		break;
	case RAW_MASK_H2:
		h2_mask(st, in, len, out, out_len);
		break;
	case RAW_MASK_REDIS:
		resp_mask(st, in, len, out, out_len);
		break;
	default:
		break;
	}
}

void raw_mask_skip(struct raw_mask_state *st, enum raw_mask_proto p, uint64_t n)
{
	if (!n)
		return;
	switch (p) {
	case RAW_MASK_HTTP1:
		h1_skip(st);
		break;
	case RAW_MASK_H2:
		h2_skip(st, n);
		break;
	case RAW_MASK_REDIS:
		resp_skip(st, n);
		break;
	default:
		break;
	}
}
