/* SPDX-License-Identifier: MIT */
/*
 * span_name.h - low-cardinality span names for HTTP requests.
 *
 * Pure functions over (pointer, length) slices: no allocation, no NUL
 * needed in the input, NUL bytes inside it are just bytes.
 */
#ifndef SOCKSPAN_SPAN_NAME_H
#define SOCKSPAN_SPAN_NAME_H

#include <stddef.h>

/*
 * Build the span name for an HTTP request into out (cap bytes): the method
 * lowercased, a space, then the path of the request target (see
 * span_http_path) lowercased, with every id-like path segment replaced by
 * "{id}".  Segments are the runs between '/' bytes; empty segments and a
 * trailing slash are kept ("//" stays "//", "/a/" stays "/a/").
 *
 * A segment is id-like when it is:
 *   - all decimal digits ("123");
 *   - a UUID, 8-4-4-4-12 hex digits in any case;
 *   - 16 or more hex digits (hashes, 64/128-bit ids);
 *   - 20 or more bytes from the base64url alphabet [A-Za-z0-9_-] containing
 *     at least one digit and one letter (opaque tokens).  A long slug with a
 *     digit ("intro-to-http-2-and-more") is therefore an id too: for span
 *     names a false id only loses detail, a missed one floods the UI.
 * Percent-encodings are not decoded ("%2F" is written "%2f").
 *
 * Bytes outside printable ASCII (0x20..0x7e), NUL included, are written as
 * '?', so the name is always ASCII, valid UTF-8 and safe in JSON.  The
 * output is cut to cap-1 bytes and NUL-terminated when cap > 0.
 *
 * Returns the output length (strlen(out)); 0 when cap is 0.
 * Examples:
 *   ("GET", "/users/123/orders?x=1")                        -> "get /users/{id}/orders"
 *   ("POST", "/api/v1/items/550e8400-e29b-41d4-a716-446655440000")
 *                                                           -> "post /api/v1/items/{id}"
 *   ("OPTIONS", "*")                                        -> "options *"
 *   ("GET", "http://example.com:8080/a/0123456789abcdef0123") -> "get /a/{id}"
 */
size_t span_name_http(char *out, size_t cap, const char *method, size_t method_len,
		      const char *target, size_t target_len);

/*
 * The path of a request target, un-normalised (for the http.path tag): the
 * target up to the first '?' or '#'; for an absolute-form target
 * ("scheme://authority/p?q") only "/p".  The result is a slice of target,
 * except that an empty path (target "", "?q", "http://host") is returned as
 * the static string "/" with length 1.  Asterisk-form ("*") and
 * authority-form ("host:443") targets are returned as they are.
 */
void span_http_path(const char *target, size_t target_len, const char **path, size_t *path_len);

#endif /* SOCKSPAN_SPAN_NAME_H */
