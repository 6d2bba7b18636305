/* http1_text.h - what the HTTP/1 head parser and the body framing both use to
 * read field values: whitespace, case-insensitive comparison. Internal to
 * user/parse/http1_*.c. */
#ifndef SOCKSPAN_HTTP1_TEXT_H
#define SOCKSPAN_HTTP1_TEXT_H

#include <string.h>

#include "parse/ascii.h"
#include "parse/http1_parser.h"

static inline int is_ows(char c)
{
	return c == ' ' || c == '\t';
}

/* Case-insensitive equality of a slice and a NUL-terminated string. Inlined:
 * the strings are literals, whose length is then known without strlen. */
static inline __attribute__((always_inline)) int slice_ieq(struct h1_slice s, const char *str)
{
	size_t n = strlen(str);

	if (s.len != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (ascii_lower(s.p[i]) != ascii_lower(str[i]))
			return 0;
	return 1;
}

/* Case-sensitive equality, as for methods (RFC 9110 section 9.1). */
static inline __attribute__((always_inline)) int slice_eq(struct h1_slice s, const char *str)
{
	size_t n = strlen(str);

	return s.len == n && (n == 0 || memcmp(s.p, str, n) == 0);
}

#endif
