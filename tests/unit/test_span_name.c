// SPDX-License-Identifier: MIT
/* Unit tests for span_name.c: span names and http.path slices. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "span/span_name.h"

/*
 * Inputs are copied to heap buffers of exactly their length, so a read one
 * byte past the end is caught by AddressSanitizer.
 */
static char *exact_copy(const char *p, size_t n)
{
	char *c = malloc(n ? n : 1);

	cr_assert_not_null(c);
	memcpy(c, p, n);
	return c;
}

static void check_name_n(const char *method, size_t method_len, const char *target,
			 size_t target_len, const char *want)
{
	char out[128];
	char *m = exact_copy(method, method_len), *t = exact_copy(target, target_len);
	size_t n = span_name_http(out, sizeof(out), m, method_len, t, target_len);

	cr_expect_str_eq(out, want, "target \"%.*s\"", (int)target_len, target);
	cr_expect_eq(n, strlen(out));
	free(m);
	free(t);
}

static void check_name(const char *method, const char *target, const char *want)
{
	check_name_n(method, strlen(method), target, strlen(target), want);
}

Test(span_name, contract_examples)
{
	check_name("GET", "/users/123/orders?x=1", "get /users/{id}/orders");
	check_name("POST", "/api/v1/items/550e8400-e29b-41d4-a716-446655440000",
		   "post /api/v1/items/{id}");
	check_name("OPTIONS", "*", "options *");
	check_name("GET", "http://example.com:8080/a/0123456789abcdef0123", "get /a/{id}");
}

Test(span_name, decimal_segments)
{
	check_name("GET", "/123", "get /{id}");
	check_name("GET", "/00", "get /{id}");
	check_name("GET", "/a/1/b/22/c/333", "get /a/{id}/b/{id}/c/{id}");
	check_name("GET", "/a/1.5", "get /a/1.5");
	check_name("GET", "/a/-1", "get /a/-1");
	check_name("GET", "/v1/items", "get /v1/items");
	check_name("GET", "/a/12b", "get /a/12b");
}

Test(span_name, uuid_segments)
{
	check_name("GET", "/x/550E8400-E29B-41D4-A716-446655440000", "get /x/{id}");
	check_name("GET", "/x/550e8400-e29b-41d4-a716-446655440000/y", "get /x/{id}/y");
	/* UUID shape without hex digits, and hex with a misplaced dash (no digit: no token) */
	check_name("GET", "/x/zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz",
		   "get /x/zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz");
	check_name("GET", "/x/aaaaaaaa-aaaa-aaaa-aaaaa-aaaaaaaaaaa",
		   "get /x/aaaaaaaa-aaaa-aaaa-aaaaa-aaaaaaaaaaa");
	/* shorter than a UUID and than a token */
	check_name("GET", "/x/550e8400-e29b", "get /x/550e8400-e29b");
}

Test(span_name, hex_segments)
{
	check_name("GET", "/blob/0123456789abcdef", "get /blob/{id}");
	check_name("GET", "/blob/0123456789ABCDEF0123", "get /blob/{id}");
	check_name("GET", "/blob/deadbeefcafebabe", "get /blob/{id}");
	/* 15 hex digits: below the hex rule and the token rule */
	check_name("GET", "/blob/0123456789abcde", "get /blob/0123456789abcde");
	check_name("GET", "/blob/cafe", "get /blob/cafe");
}

Test(span_name, token_segments)
{
	check_name("GET", "/t/AbCdEfGhIj0123456789", "get /t/{id}");
	check_name("GET", "/t/dGhpcyBpcyBh_dG9rZW4-1", "get /t/{id}");
	/* 20 bytes exactly */
	check_name("GET", "/t/abcdefghijklmnopqrs1", "get /t/{id}");
	/* 19 bytes */
	check_name("GET", "/t/abcdefghijklmnopqr1", "get /t/abcdefghijklmnopqr1");
	/* long but no digit, or no letter */
	check_name("GET", "/t/abcdefghijklmnopqrstuvwxyz", "get /t/abcdefghijklmnopqrstuvwxyz");
	check_name("GET", "/t/1234-5678-1234-5678-90", "get /t/1234-5678-1234-5678-90");
	/* a character outside base64url keeps it a name */
	check_name("GET", "/t/report-2024-summary.pdf1234", "get /t/report-2024-summary.pdf1234");
}

Test(span_name, query_and_fragment_removed)
{
	check_name("GET", "/a/1#frag", "get /a/{id}");
	check_name("GET", "/a?b=/1/2", "get /a");
	check_name("GET", "/a#x?y", "get /a");
	check_name("GET", "?x=1", "get /");
	check_name("GET", "/?", "get /");
}

Test(span_name, empty_and_slashes)
{
	check_name("GET", "", "get /");
	check_name("GET", "/", "get /");
	check_name("GET", "//", "get //");
	check_name("GET", "/users/", "get /users/");
	check_name("GET", "/users//1/", "get /users//{id}/");
	check_name("GET", "///1", "get ///{id}");
}

Test(span_name, lowercase_method_and_path)
{
	check_name("DELETE", "/Users/ABC", "delete /users/abc");
	check_name("get", "/x", "get /x");
	check_name("M-SEARCH", "*", "m-search *");
}

Test(span_name, percent_encodings_left_alone)
{
	check_name("GET", "/a%20b/%2F", "get /a%20b/%2f");
	check_name("GET", "/files/%31%32", "get /files/%31%32");
	check_name("GET", "/%", "get /%");
}

Test(span_name, absolute_form)
{
	check_name("GET", "http://example.com", "get /");
	check_name("GET", "http://example.com?x=/1", "get /");
	check_name("GET", "HTTPS://Example.com/A/b", "get /a/b");
	check_name("GET", "http://user@h:1/x/42", "get /x/{id}");
	check_name("GET", "svn+ssh://h/r/7", "get /r/{id}");
	/* origin-form that merely contains "://" */
	check_name("GET", "/http://x/y", "get /http://x/y");
	/* not a scheme: starts with a digit, or no "//" */
	check_name("GET", "1http://x/y", "get 1http://x/y");
	check_name("GET", "mailto:x", "get mailto:x");
	check_name("GET", "http:/", "get http:/");
}

Test(span_name, authority_form)
{
	check_name("CONNECT", "example.com:443", "connect example.com:443");
}

Test(span_name, non_ascii_and_control_bytes)
{
	check_name("GET", "/caf\xc3\xa9", "get /caf??");
	check_name("GET", "/a\tb\x7f", "get /a?b?");
	check_name("GET", "/\x80\xff/1", "get /?" "?/{id}");  /* split: "??/" is a trigraph */
	check_name("G\xc3\x89T", "/", "g??t /");
}

Test(span_name, nul_bytes_inside)
{
	check_name_n("GE\0T", 4, "/a\0b/12", 7, "ge?t /a?b/{id}");
	/* a NUL inside a digit run makes it a name, not an id */
	check_name_n("GET", 3, "/1\0" "2", 4, "get /1?2");
	check_name_n("GET", 3, "\0", 1, "get ?");
}

Test(span_name, empty_method_and_null_slices)
{
	char out[16];

	check_name("", "/x", " /x");
	cr_assert_eq(span_name_http(out, sizeof(out), NULL, 0, NULL, 0), 2);
	cr_assert_str_eq(out, " /");
}

Test(span_name, small_caps)
{
	char out[8];

	memset(out, 'Z', sizeof(out));
	cr_assert_eq(span_name_http(out, 0, "GET", 3, "/x", 2), 0);
	cr_assert_eq(out[0], 'Z', "cap 0 must not write");
	cr_assert_eq(span_name_http(out, 1, "GET", 3, "/x", 2), 0);
	cr_assert_str_eq(out, "");
	cr_assert_eq(span_name_http(out, 5, "GET", 3, "/x", 2), 4);
	cr_assert_str_eq(out, "get ");
	/* the placeholder is cut like any other bytes */
	cr_assert_eq(span_name_http(out, 7, "GET", 3, "/1", 2), 6);
	cr_assert_str_eq(out, "get /{");
	cr_assert_eq(span_name_http(out, 3, "DELETE", 6, "/1", 2), 2);
	cr_assert_str_eq(out, "de");
}

/* Cutting to cap-1 must give exactly a prefix of the uncut name, for every cap. */
Test(span_name, every_cap_is_a_prefix)
{
	static const char target[] = "http://h/Users/123/x%41/550e8400-e29b-41d4-a716-446655440000//?q";
	char full[256], out[256];
	size_t full_len = span_name_http(full, sizeof(full), "GET", 3, target, strlen(target));

	cr_assert_str_eq(full, "get /users/{id}/x%41/{id}//");
	for (size_t cap = 1; cap < sizeof(out); cap++) {
		size_t want = full_len < cap - 1 ? full_len : cap - 1;
		size_t n = span_name_http(out, cap, "GET", 3, target, strlen(target));

		cr_assert_eq(n, want, "cap %zu", cap);
		cr_assert_eq(memcmp(out, full, n), 0, "cap %zu", cap);
		cr_assert_eq(out[n], '\0');
	}
}

Test(span_name, very_long_paths)
{
	enum { LEN = 100000 };
	char *t = malloc(LEN), want[128], out[128];
	size_t n;

	cr_assert_not_null(t);
	/* one huge segment (not hex: 'X') */
	t[0] = '/';
	memset(t + 1, 'X', LEN - 1);
	n = span_name_http(out, sizeof(out), "GET", 3, t, LEN);
	memcpy(want, "get /", 5);
	memset(want + 5, 'x', sizeof(want) - 6);
	want[sizeof(want) - 1] = '\0';
	cr_assert_eq(n, sizeof(out) - 1);
	cr_assert_str_eq(out, want);

	/* one huge digit segment is still a single id */
	memset(t + 1, '7', LEN - 1);
	n = span_name_http(out, sizeof(out), "GET", 3, t, LEN);
	cr_assert_str_eq(out, "get /{id}");
	cr_assert_eq(n, 9);

	/* many id segments: "/1/1/1..." */
	for (size_t i = 0; i < LEN; i += 2) {
		t[i] = '/';
		t[i + 1] = '1';
	}
	n = span_name_http(out, sizeof(out), "GET", 3, t, LEN);
	cr_assert_eq(n, sizeof(out) - 1);
	cr_assert_eq(memcmp(out, "get /{id}/{id}/{id}/", 20), 0);
	for (size_t i = 4; i < n; i++)
		cr_assert_eq(out[i], "/{id}"[(i - 4) % 5], "byte %zu", i);
	free(t);
}

/* Every prefix of a target (as a reassembly loop would see it) gives a clean name. */
Test(span_name, every_prefix_is_clean)
{
	static const char target[] = "http://Ex.com:80/a/\xc3\xa9/123/550e8400-e29b-41d4-a716-446655440000?x#y";
	char out[128];

	for (size_t len = 0; len <= sizeof(target) - 1; len++) {
		char *t = exact_copy(target, len);
		size_t n = span_name_http(out, sizeof(out), "GET", 3, t, len);

		cr_assert_eq(n, strlen(out));
		for (size_t i = 0; i < n; i++)
			cr_assert(out[i] >= 0x20 && out[i] <= 0x7e, "len %zu byte %zu", len, i);
		free(t);
	}
}

static void check_path(const char *target, const char *want, long want_offset)
{
	size_t len = strlen(target);
	char *t = exact_copy(target, len);
	const char *p;
	size_t n;

	span_http_path(t, len, &p, &n);
	cr_expect_eq(n, strlen(want), "target \"%s\"", target);
	cr_expect_eq(memcmp(p, want, n < strlen(want) ? n : strlen(want)), 0, "target \"%s\"", target);
	if (want_offset >= 0)
		cr_expect_eq(p, t + want_offset, "target \"%s\" is not a slice", target);
	free(t);
}

Test(span_http_path, slices)
{
	check_path("/users/123?x", "/users/123", 0);
	check_path("/Users/123", "/Users/123", 0);
	check_path("http://h:80/p/Q?x", "/p/Q", 11);
	check_path("/a#f", "/a", 0);
	check_path("//x", "//x", 0);
	check_path("*", "*", 0);
	check_path("example.com:443", "example.com:443", 0);
	check_path("mailto:x", "mailto:x", 0);
	check_path("/a%2Fb", "/a%2Fb", 0);
}

Test(span_http_path, empty_is_slash)
{
	check_path("", "/", -1);
	check_path("?q=1", "/", -1);
	check_path("http://h", "/", -1);
	check_path("http://h?x=/y", "/", -1);
}
