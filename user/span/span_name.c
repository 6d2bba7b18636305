// SPDX-License-Identifier: MIT
/* span_name.c - "get /users/{id}" from a method and a request target. */
#include "span/span_name.h"

#include <stdbool.h>
#include <string.h>

/* Below this length a digit-and-letter segment is more likely a word ("v2", "utf8"). */
#define SPAN_NAME_TOKEN_MIN 20
/* 64-bit ids in hex are 16 digits; shorter hex runs are often words ("cafe", "add"). */
#define SPAN_NAME_HEX_MIN 16
#define SPAN_NAME_UUID_LEN 36

static const char id_placeholder[] = "{id}";

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_hex(unsigned char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool is_uuid(const unsigned char *p, size_t n)
{
	if (n != SPAN_NAME_UUID_LEN)
		return false;
	for (size_t i = 0; i < n; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? p[i] != '-' : !is_hex(p[i]))
			return false;
	}
	return true;
}

static bool is_id_segment(const unsigned char *p, size_t n)
{
	size_t digits = 0, hex = 0, alpha = 0, b64 = 0;

	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = p[i];

		digits += is_digit(c);
		hex += is_hex(c);
		alpha += is_alpha(c);
		b64 += is_digit(c) || is_alpha(c) || c == '-' || c == '_';
	}
	if (digits == n)
		return true;
	if (hex == n && n >= SPAN_NAME_HEX_MIN)
		return true;
	if (b64 == n && n >= SPAN_NAME_TOKEN_MIN && digits > 0 && alpha > 0)
		return true;
	return is_uuid(p, n);
}

/* Length of an RFC 3986 scheme followed by "://" at the start of p, or 0. */
static size_t absolute_form_prefix(const char *p, size_t n)
{
	size_t i;

	if (n == 0 || !is_alpha((unsigned char)p[0]))
		return 0;
	for (i = 1; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (!(is_alpha(c) || is_digit(c) || c == '+' || c == '-' || c == '.'))
			break;
	}
	if (n - i >= 3 && memcmp(p + i, "://", 3) == 0)
		return i + 3;
	return 0;
}

void span_http_path(const char *target, size_t target_len, const char **path, size_t *path_len)
{
	size_t start = 0, end, skip;

	for (end = 0; end < target_len; end++)
		if (target[end] == '?' || target[end] == '#')
			break;
	skip = absolute_form_prefix(target, end);
	if (skip) {
		/* The authority ends at the first '/' (query and fragment are already cut). */
		const char *slash = memchr(target + skip, '/', end - skip);

		start = slash ? (size_t)(slash - target) : end;
	}
	if (start == end) {
		*path = "/";
		*path_len = 1;
		return;
	}
	*path = target + start;
	*path_len = end - start;
}

/* Output cursor: bytes that do not fit before the final NUL are dropped. */
struct name_buf {
	char *out;
	size_t cap, len;
};

static void put_byte(struct name_buf *b, unsigned char c)
{
	if (b->len + 1 >= b->cap)
		return;
	if (c < 0x20 || c > 0x7e)
		c = '?';
	else if (c >= 'A' && c <= 'Z')
		c = (unsigned char)(c - 'A' + 'a');
	b->out[b->len++] = (char)c;
}

static void put_bytes(struct name_buf *b, const char *p, size_t n)
{
	for (size_t i = 0; i < n && b->len + 1 < b->cap; i++)
		put_byte(b, (unsigned char)p[i]);
}

size_t span_name_http(char *out, size_t cap, const char *method, size_t method_len,
		      const char *target, size_t target_len)
{
	struct name_buf b = { .out = out, .cap = cap, .len = 0 };
	const char *path;
	size_t path_len, i = 0;

	if (cap == 0)
		return 0;
	put_bytes(&b, method, method_len);
	put_byte(&b, ' ');
	span_http_path(target, target_len, &path, &path_len);
	while (i < path_len && b.len + 1 < b.cap) {
		const char *slash = memchr(path + i, '/', path_len - i);
		size_t seg_end = slash ? (size_t)(slash - path) : path_len;
		size_t seg_len = seg_end - i;

		if (is_id_segment((const unsigned char *)path + i, seg_len))
			put_bytes(&b, id_placeholder, sizeof(id_placeholder) - 1);
		else
			put_bytes(&b, path + i, seg_len);
		if (slash)
			put_byte(&b, '/');
		i = seg_end + 1;
	}
	out[b.len] = '\0';
	return b.len;
}
