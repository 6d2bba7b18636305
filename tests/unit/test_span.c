// SPDX-License-Identifier: MIT
/* Unit tests for span.c: ids, tags, UTF-8 copies. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "span/span.h"

enum { N_IDS = 100000 };

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static int cmp16(const void *a, const void *b)
{
	return memcmp(a, b, 16);
}

static int cmp8(const void *a, const void *b)
{
	return memcmp(a, b, 8);
}

static void expect_distinct(uint8_t *ids, size_t n, size_t size)
{
	qsort(ids, n, size, size == 16 ? cmp16 : cmp8);
	for (size_t i = 1; i < n; i++)
		cr_assert_neq(memcmp(ids + (i - 1) * size, ids + i * size, size), 0,
			      "duplicate id at sorted index %zu", i);
}

Test(span_init, zeroes_every_field_but_ids)
{
	struct span s, zero;

	memset(&s, 0xab, sizeof(s));
	span_init(&s);
	memset(&zero, 0, sizeof(zero));
	cr_assert(!all_zero(s.trace_id, 16));
	cr_assert(!all_zero(s.id, 8));
	cr_assert_eq(s.trace_id_len, 16);
	memcpy(zero.trace_id, s.trace_id, 16);
	zero.trace_id_len = 16;
	memcpy(zero.id, s.id, 8);
	/* The tags' storage is left as it was: only tags[0..num_tags) are read. */
	cr_assert_eq(memcmp(&s, &zero, offsetof(struct span, tags)), 0);
	cr_assert_eq(s.num_tags, 0);
	cr_assert_not(s.has_parent);
}

Test(span_init, ids_nonzero_and_distinct_over_100k)
{
	uint8_t *traces = malloc((size_t)N_IDS * 16), *ids = malloc((size_t)N_IDS * 8);
	struct span s;

	cr_assert(traces && ids);
	for (size_t i = 0; i < N_IDS; i++) {
		span_init(&s);
		cr_assert(!all_zero(s.trace_id, 16));
		cr_assert(!all_zero(s.id, 8));
		memcpy(traces + i * 16, s.trace_id, 16);
		memcpy(ids + i * 8, s.id, 8);
	}
	expect_distinct(traces, N_IDS, 16);
	expect_distinct(ids, N_IDS, 8);
	free(traces);
	free(ids);
}

/* Each bit of the ids is set about half the time (12 sigma margin: never flaky). */
Test(span_init, id_bits_balanced)
{
	static unsigned ones[192];
	struct span s;

	for (size_t i = 0; i < N_IDS; i++) {
		span_init(&s);
		for (unsigned b = 0; b < 128; b++)
			ones[b] += (s.trace_id[b / 8] >> (b % 8)) & 1;
		for (unsigned b = 0; b < 64; b++)
			ones[128 + b] += (s.id[b / 8] >> (b % 8)) & 1;
	}
	for (unsigned b = 0; b < 192; b++)
		cr_assert(ones[b] > N_IDS * 48 / 100 && ones[b] < N_IDS * 52 / 100,
			  "bit %u set %u times", b, ones[b]);
}

enum { N_THREAD_IDS = 1000 };

static void *thread_ids(void *arg)
{
	uint8_t *out = arg;
	struct span s;

	for (size_t i = 0; i < N_THREAD_IDS; i++) {
		span_init(&s);
		memcpy(out + i * 8, s.id, 8);
	}
	return NULL;
}

/* Threads are seeded separately: two fresh threads must not share a sequence. */
Test(span_init, threads_get_distinct_ids)
{
	static uint8_t ids[4 * N_THREAD_IDS * 8];
	pthread_t th[4];

	for (int i = 0; i < 4; i++)
		cr_assert_eq(pthread_create(&th[i], NULL, thread_ids, ids + i * N_THREAD_IDS * 8), 0);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	expect_distinct(ids, 4 * N_THREAD_IDS, 8);
}

/* A forked child must not repeat the ids its parent goes on to make. */
Test(span_init, fork_reseeds)
{
	struct span s;
	uint8_t child_ids[16 * 8], parent_ids[16 * 8];
	int fds[2], status;
	pid_t pid;

	span_init(&s); /* seed the parent before forking */
	cr_assert_eq(pipe(fds), 0);
	pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		for (int i = 0; i < 16; i++) {
			span_init(&s);
			memcpy(child_ids + i * 8, s.id, 8);
		}
		_exit(write(fds[1], child_ids, sizeof(child_ids)) == (ssize_t)sizeof(child_ids) ? 0 : 1);
	}
	for (int i = 0; i < 16; i++) {
		span_init(&s);
		memcpy(parent_ids + i * 8, s.id, 8);
	}
	cr_assert_eq(read(fds[0], child_ids, sizeof(child_ids)), (ssize_t)sizeof(child_ids));
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	for (int i = 0; i < 16; i++)
		for (int j = 0; j < 16; j++)
			cr_assert_neq(memcmp(child_ids + i * 8, parent_ids + j * 8, 8), 0);
	close(fds[0]);
	close(fds[1]);
}

Test(span_tag, add_and_lookup)
{
	struct span s;
	char buf[] = "GETX";

	span_init(&s);
	cr_assert_eq(span_add_tag(&s, "http.method", buf, 3), 0);
	buf[0] = 'P'; /* the value was copied */
	cr_assert_eq(span_add_tag(&s, "http.path", "/a", 2), 0);
	cr_assert_eq(span_add_tag(&s, "empty", NULL, 0), 0);
	cr_assert_eq(s.num_tags, 3);
	cr_assert_str_eq(span_tag(&s, "http.method"), "GET");
	cr_assert_str_eq(span_tag(&s, "http.path"), "/a");
	cr_assert_str_eq(span_tag(&s, "empty"), "");
	cr_assert_null(span_tag(&s, "http.status_code"));
	cr_assert_null(span_tag(&s, "http"));
}

Test(span_tag, first_duplicate_wins)
{
	struct span s;

	span_init(&s);
	cr_assert_eq(span_add_tag(&s, "k", "1", 1), 0);
	cr_assert_eq(span_add_tag(&s, "k", "2", 1), 0);
	cr_assert_str_eq(span_tag(&s, "k"), "1");
	cr_assert_eq(s.num_tags, 2);
}

Test(span_tag, null_key_rejected)
{
	struct span s;

	span_init(&s);
	cr_assert_eq(span_add_tag(&s, NULL, "x", 1), -1);
	cr_assert_eq(s.num_tags, 0);
}

Test(span_tag, full_table)
{
	static char keys[SPAN_MAX_TAGS][16];
	struct span s;
	char v[16];

	for (int i = 0; i < SPAN_MAX_TAGS; i++)
		snprintf(keys[i], sizeof(keys[i]), "k%d", i);
	span_init(&s);
	for (int i = 0; i < SPAN_MAX_TAGS; i++) {
		int n = snprintf(v, sizeof(v), "v%d", i);

		cr_assert_eq(span_add_tag(&s, keys[i], v, (size_t)n), 0, "tag %d", i);
	}
	cr_assert_eq(span_add_tag(&s, "extra", "x", 1), -1);
	cr_assert_eq(span_add_tag(&s, "extra", "x", 1), -1);
	cr_assert_eq(s.num_tags, SPAN_MAX_TAGS);
	cr_assert_null(span_tag(&s, "extra"));
	for (int i = 0; i < SPAN_MAX_TAGS; i++) {
		snprintf(v, sizeof(v), "v%d", i);
		cr_assert_str_eq(span_tag(&s, keys[i]), v);
	}
}

static void add_repeated(struct span *s, size_t n, const char *suffix, size_t suffix_len)
{
	char *v = malloc(n + suffix_len);

	cr_assert_not_null(v);
	memset(v, 'a', n);
	memcpy(v + n, suffix, suffix_len);
	cr_assert_eq(span_add_tag(s, "v", v, n + suffix_len), 0);
	free(v);
}

Test(span_tag, value_cut_at_limit)
{
	struct span s;

	span_init(&s);
	add_repeated(&s, 100000, "", 0);
	add_repeated(&s, SPAN_TAG_VALUE_MAX - 1, "", 0);
	add_repeated(&s, SPAN_TAG_VALUE_MAX, "", 0);
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(strlen(s.tags[i].value), SPAN_TAG_VALUE_MAX - 1, "tag %d", i);
		cr_assert_eq(strspn(s.tags[i].value, "a"), SPAN_TAG_VALUE_MAX - 1);
	}
}

Test(span_tag, value_cut_on_utf8_boundary)
{
	struct span s;
	const char *v;

	span_init(&s);
	/* 510 + 2-byte char = 512 > 511: the whole char goes */
	add_repeated(&s, SPAN_TAG_VALUE_MAX - 2, "\xc3\xa9", 2);
	/* 509 + 2 = 511: fits */
	add_repeated(&s, SPAN_TAG_VALUE_MAX - 3, "\xc3\xa9", 2);
	/* 508 + 4-byte char = 512 */
	add_repeated(&s, SPAN_TAG_VALUE_MAX - 4, "\xf0\x9f\x98\x80", 4);
	/* 509 + 3-byte char = 512 */
	add_repeated(&s, SPAN_TAG_VALUE_MAX - 3, "\xe2\x82\xac", 3);
	cr_assert_eq(strlen(s.tags[0].value), SPAN_TAG_VALUE_MAX - 2);
	v = s.tags[1].value;
	cr_assert_eq(strlen(v), SPAN_TAG_VALUE_MAX - 1);
	cr_assert_str_eq(v + SPAN_TAG_VALUE_MAX - 3, "\xc3\xa9");
	cr_assert_eq(strlen(s.tags[2].value), SPAN_TAG_VALUE_MAX - 4);
	cr_assert_eq(strlen(s.tags[3].value), SPAN_TAG_VALUE_MAX - 3);
}

static void check_utf8(const char *in, size_t len, const char *want)
{
	char out[64];
	size_t n = span_copy_utf8(out, sizeof(out), in, len);

	cr_expect_str_eq(out, want);
	cr_expect_eq(n, strlen(want));
}

Test(span_copy_utf8, valid_kept_invalid_replaced)
{
	check_utf8("plain", 5, "plain");
	check_utf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	check_utf8("\xef\xbf\xbf\xf4\x8f\xbf\xbf", 7, "\xef\xbf\xbf\xf4\x8f\xbf\xbf"); /* U+FFFF, U+10FFFF */
	check_utf8("a\0b", 3, "a?b");
	check_utf8("a\xff" "b", 3, "a?b");
	check_utf8("\x80", 1, "?");
	check_utf8("\xc3", 1, "?");                  /* truncated sequence */
	check_utf8("\xc3(", 2, "?(");                 /* bad continuation */
	check_utf8("\xc0\xaf", 2, "?" "?");          /* overlong '/' */
	check_utf8("\xe0\x80\xaf", 3, "?" "?" "?");   /* overlong, 3 bytes */
	check_utf8("\xed\xa0\x80", 3, "?" "?" "?");   /* surrogate U+D800 */
	check_utf8("\xf4\x90\x80\x80", 4, "?" "?" "?" "?"); /* U+110000 */
	check_utf8("\xf5\x80\x80\x80", 4, "?" "?" "?" "?");
	check_utf8("\xe2\x82", 2, "?" "?");          /* truncated at the end */
}

Test(span_copy_utf8, tiny_caps)
{
	char out[4] = "ZZZ";

	cr_assert_eq(span_copy_utf8(out, 0, "abc", 3), 0);
	cr_assert_eq(out[0], 'Z');
	cr_assert_eq(span_copy_utf8(out, 1, "abc", 3), 0);
	cr_assert_str_eq(out, "");
	cr_assert_eq(span_copy_utf8(out, 3, "a\xc3\xa9", 3), 1);
	cr_assert_str_eq(out, "a");
	cr_assert_eq(span_copy_utf8(out, 4, "a\xc3\xa9", 3), 3);
	cr_assert_str_eq(out, "a\xc3\xa9");
}

Test(span_kind, strings)
{
	cr_assert_str_eq(span_kind_str(SPAN_KIND_CLIENT), "CLIENT");
	cr_assert_str_eq(span_kind_str(SPAN_KIND_SERVER), "SERVER");
	cr_assert_str_eq(span_kind_str((enum span_kind)42), "");
}
