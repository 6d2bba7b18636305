// SPDX-License-Identifier: MIT
/* view_text.c - terminal-safe text, display columns, middle shortening, durations. */
#include "view/view_text.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>


#define ELLIPSIS "\xe2\x80\xa6" /* U+2026, one column */

/* One valid UTF-8 character at s: its code point, and its length in *len. */
static uint32_t decode(const char *s, size_t n, size_t *len)
{
	const unsigned char *p = (const unsigned char *)s;

	if (p[0] < 0x80 || n < 2) {
		*len = 1;
		return p[0];
	}
	if (p[0] < 0xe0) {
		*len = 2;
		return (uint32_t)(p[0] & 0x1f) << 6 | (p[1] & 0x3f);
	}
	if (p[0] < 0xf0 || n < 4) {
		*len = n < 3 ? n : 3;
		return *len < 3 ? '?' : (uint32_t)(p[0] & 0x0f) << 12 | (uint32_t)(p[1] & 0x3f) << 6 | (p[2] & 0x3f);
	}
	*len = 4;
	return (uint32_t)(p[0] & 0x07) << 18 | (uint32_t)(p[1] & 0x3f) << 12 | (uint32_t)(p[2] & 0x3f) << 6 |
	       (p[3] & 0x3f);
}

struct range {
	uint32_t lo, hi;
};

/* Zero-width: combining marks, variation selectors, zero-width joiners. */
static const struct range zero_width[] = {
	{ 0x0300, 0x036f }, { 0x0483, 0x0489 }, { 0x0591, 0x05bd }, { 0x0610, 0x061a }, { 0x064b, 0x065f },
	{ 0x200b, 0x200f }, { 0x20d0, 0x20ff }, { 0xfe00, 0xfe0f }, { 0xfe20, 0xfe2f }, { 0xe0100, 0xe01ef },
};

/* Two columns: East Asian wide and full-width characters, emoji. */
static const struct range wide[] = {
	{ 0x1100, 0x115f },   { 0x2e80, 0x303e },   { 0x3041, 0x33ff },   { 0x3400, 0x4dbf },
	{ 0x4e00, 0x9fff },   { 0xa000, 0xa4cf },   { 0xac00, 0xd7a3 },   { 0xf900, 0xfaff },
	{ 0xfe30, 0xfe4f },   { 0xff00, 0xff60 },   { 0xffe0, 0xffe6 },   { 0x1f300, 0x1f64f },
	{ 0x1f900, 0x1f9ff }, { 0x20000, 0x2fffd }, { 0x30000, 0x3fffd },
};

static bool in(const struct range *r, size_t n, uint32_t cp)
{
	for (size_t i = 0; i < n; i++)
		if (cp >= r[i].lo && cp <= r[i].hi)
			return true;
	return false;
}

static unsigned cp_cols(uint32_t cp)
{
	if (cp < 0x300)
		return 1;
	if (in(zero_width, sizeof(zero_width) / sizeof(zero_width[0]), cp))
		return 0;
	return in(wide, sizeof(wide) / sizeof(wide[0]), cp) ? 2 : 1;
}

unsigned view_text_cols(const char *s, size_t n)
{
	unsigned cols = 0;
	size_t k;

	for (size_t i = 0; i < n; i += k)
		cols += cp_cols(decode(s + i, n - i, &k));
	return cols;
}

/* Bytes of the longest start of s (n bytes) within cols columns; its
 * columns in *used. */
static size_t head_within(const char *s, size_t n, unsigned cols, unsigned *used)
{
	size_t i = 0, k;

	*used = 0;
	while (i < n) {
		unsigned c = cp_cols(decode(s + i, n - i, &k));

		if (*used + c > cols)
			break;
		*used += c;
		i += k;
	}
	return i;
}

/* Offset of the shortest end of s (n bytes) taking at most cols columns
 * and as many as fit: walks back over character starts. */
static size_t tail_within(const char *s, size_t n, unsigned cols, unsigned *used)
{
	size_t start = n;

	*used = 0;
	while (start > 0) {
		size_t p = start - 1, k;
		unsigned c;

		while (p > 0 && ((unsigned char)s[p] & 0xc0) == 0x80)
			p--;
		c = cp_cols(decode(s + p, n - p, &k));
		if (*used + c > cols)
			break;
		*used += c;
		start = p;
	}
	return start;
}

size_t view_text_fit(char *dst, size_t cap, const char *s, size_t n, unsigned cols, unsigned *used)
{
	unsigned total = view_text_cols(s, n), hc, tc;
	size_t head, tail, len;

	*used = 0;
	if (cap == 0)
		return 0;
	dst[0] = '\0';
	if (total <= cols) {
		if (n >= cap)
			return 0;
		memcpy(dst, s, n);
		dst[n] = '\0';
		*used = total;
		return n;
	}
	if (cols == 0)
		return 0;
	/* The start gets the larger half: it names the thing. */
	head = head_within(s, n, cols - (cols - 1) / 2 - 1, &hc);
	tail = tail_within(s + head, n - head, cols - 1 - hc, &tc) + head;
	len = head + sizeof(ELLIPSIS) - 1 + (n - tail);
	if (len >= cap)
		return 0;
	memcpy(dst, s, head);
	memcpy(dst + head, ELLIPSIS, sizeof(ELLIPSIS) - 1);
	memcpy(dst + head + sizeof(ELLIPSIS) - 1, s + tail, n - tail);
	dst[len] = '\0';
	*used = hc + 1 + tc;
	return len;
}

/* v / unit in three significant digits, truncated, with its suffix:
 * v / unit must be below 1000. */
static size_t three_digits(char *out, uint64_t v, uint64_t unit, const char *suffix)
{
	uint64_t whole = v / unit, frac = v % unit;
	int n;

	if (whole >= 100)
		n = snprintf(out, VIEW_DURATION_MAX, "%" PRIu64 "%s", whole, suffix);
	else if (whole >= 10)
		n = snprintf(out, VIEW_DURATION_MAX, "%" PRIu64 ".%" PRIu64 "%s", whole, frac * 10 / unit, suffix);
	else
		n = snprintf(out, VIEW_DURATION_MAX, "%" PRIu64 ".%02" PRIu64 "%s", whole, frac * 100 / unit,
			     suffix);
	return (size_t)n;
}

size_t view_text_duration(char out[VIEW_DURATION_MAX], uint64_t us)
{
	static const uint64_t ms = 1000, s = 1000 * 1000, h = 3600ull * 1000 * 1000;

	if (us < ms)
		return (size_t)snprintf(out, VIEW_DURATION_MAX, "%" PRIu64 "\xc2\xb5s", us);
	if (us < s)
		return three_digits(out, us, ms, "ms");
	if (us < 1000 * s)
		return three_digits(out, us, s, "s");
	if (us < 1000 * h)
		return three_digits(out, us, h, "h");
	return (size_t)snprintf(out, VIEW_DURATION_MAX, "999h+");
}
