// SPDX-License-Identifier: MIT
/* Unit tests for view_text.c (durations, display columns, middle shortening) and span_copy_safe. */
#include <criterion/criterion.h>
#include <string.h>

#include "span/span.h"
#include "view/view_text.h"

Test(view_text, durations_in_three_digits_truncated)
{
	static const struct {
		uint64_t us;
		const char *text;
	} cases[] = {
		{ 0, "0µs" },           { 999, "999µs" },          { 1000, "1.00ms" },  { 1999, "1.99ms" },
		{ 12345, "12.3ms" },     { 999999, "999ms" },       { 1000000, "1.00s" }, { 59999999, "59.9s" },
		{ 999999999, "999s" },   { 1000000000, "0.27h" },   { 3600000000ull, "1.00h" },
		{ 3599999999999ull, "999h" }, { 3600000000000ull, "999h+" }, { UINT64_MAX, "999h+" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char out[VIEW_DURATION_MAX];
		size_t n = view_text_duration(out, cases[i].us);

		cr_assert_str_eq(out, cases[i].text, "%llu us", (unsigned long long)cases[i].us);
		cr_assert_eq(n, strlen(cases[i].text));
	}
}

Test(view_text, columns_of_wide_and_combining_characters)
{
	cr_assert_eq(view_text_cols("abc", 3), 3);
	cr_assert_eq(view_text_cols("日本", 6), 4);
	cr_assert_eq(view_text_cols("e\xcc\x81", 3), 1); /* e + combining acute */
	cr_assert_eq(view_text_cols("µs…", 5), 3);
	cr_assert_eq(view_text_cols("\xf0\x9f\x98\x80", 4), 2); /* emoji */
}

static void fit(const char *s, unsigned cols, const char *want, unsigned want_used)
{
	char out[256];
	unsigned used;
	size_t n = view_text_fit(out, sizeof(out), s, strlen(s), cols, &used);

	cr_assert_str_eq(out, want, "%s in %u", s, cols);
	cr_assert_eq(n, strlen(want));
	cr_assert_eq(used, want_used, "%s in %u: %u columns", s, cols, used);
}

Test(view_text, fit_shortens_in_the_middle_by_columns)
{
	fit("get /api/users", 20, "get /api/users", 14);
	fit("get /api/users", 14, "get /api/users", 14);
	fit("get /api/users", 9, "get …sers", 9);
	fit("get /api/users", 10, "get /…sers", 10);
	fit("get /api/users", 1, "…", 1);
	fit("get /api/users", 0, "", 0);
	/* Never half a wide character: one column stays empty instead. */
	fit("日本語日本語", 7, "日…本語", 7);
	fit("日本語日本語", 6, "日…語", 5);
	fit("", 5, "", 0);
}

Test(view_text, fit_refuses_a_buffer_too_small)
{
	char out[4];
	unsigned used;

	cr_assert_eq(view_text_fit(out, sizeof(out), "abcdefgh", 8, 8, &used), 0);
	cr_assert_str_eq(out, "");
	cr_assert_eq(used, 0);
}

Test(view_text, clean_makes_controls_bidi_and_bad_utf8_harmless)
{
	char out[64];
	static const char in[] = "a\x1b[31mb\x07\xe2\x80\xae" "c\xff\xc2\x85" "d\te";

	/* ESC, BEL, U+202E, 0xff (not UTF-8), U+0085 (C1), TAB. */
	cr_assert_eq(span_copy_safe(out, sizeof(out), in, sizeof(in) - 1), 15);
	cr_assert_str_eq(out, "a?[31mb??c??d?e");
}
