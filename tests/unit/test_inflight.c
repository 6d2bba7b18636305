/* Unit tests for inflight.c: records found by key while the array and its
 * buckets grow under them, in the order they were linked. */
#include <criterion/criterion.h>

#include "trace/inflight.h"

#define RECORDS 5000
#define SHARED_KEYS 7

static uint64_t shared_key(uint32_t i)
{
	return inflight_key(1000 + i % SHARED_KEYS, XI_PROC, 0);
}

/* Records under key, newest first, as slots; the count. */
static size_t chain(const struct inflight *f, enum xindex x, uint64_t key, uint32_t *out, size_t cap)
{
	size_t n = 0;

	for (struct xrec *r = inflight_first(f, x, key); r; r = inflight_next(f, r, x)) {
		cr_assert_lt(n, cap);
		out[n++] = r->tgid;
	}
	return n;
}

/* Every key's chain holds exactly its records, newest first: linking order survives each rehash. */
static void expect_chains(const struct inflight *f, uint32_t added, const bool *removed)
{
	static uint32_t got[RECORDS];

	for (uint32_t k = 0; k < SHARED_KEYS; k++) {
		size_t n = chain(f, XI_PROC, shared_key(k), got, RECORDS), at = 0;

		for (uint32_t i = added; i-- > 0;)
			if (i % SHARED_KEYS == k && !removed[i]) {
				cr_assert_lt(at, n);
				cr_assert_eq(got[at], i, "key %u: record %u where %u was expected", k, got[at], i);
				at++;
			}
		cr_assert_eq(at, n);
	}
	for (uint32_t i = 0; i < added; i++) {
		size_t n = chain(f, XI_HOP, inflight_key(0, XI_HOP, i), got, RECORDS);

		cr_assert_eq(n, removed[i] ? 0 : 1);
		if (n)
			cr_assert_eq(got[0], i);
	}
}

Test(inflight, keys_find_their_records_in_order_across_growth)
{
	static bool removed[RECORDS];
	struct inflight f;
	exchange_id id;

	cr_assert_eq(inflight_init(&f, RECORDS), 0);
	for (uint32_t i = 0; i < RECORDS; i++) {
		struct xrec *r = inflight_add(&f, &id);

		cr_assert_not_null(r);
		r->tgid = i;
		inflight_link(&f, r, XI_PROC, shared_key(i));
		inflight_link(&f, r, XI_HOP, inflight_key(0, XI_HOP, i));
		if (i == 200 || i == 1500 || i == RECORDS - 1)
			expect_chains(&f, i + 1, removed);
	}
	cr_expect_geq(f.nbuckets, f.cap);
	cr_expect_null(inflight_add(&f, &id), "the bound holds");
	/* Every third record goes: chains mend around them. */
	for (uint32_t i = 0; i < RECORDS; i += 3) {
		struct xrec *r = inflight_first(&f, XI_HOP, inflight_key(0, XI_HOP, i));

		cr_assert_not_null(r);
		inflight_remove(&f, r);
		removed[i] = true;
	}
	expect_chains(&f, RECORDS, removed);
	inflight_free(&f);
}

Test(inflight, buckets_start_small_and_follow_the_records)
{
	struct inflight f;
	exchange_id id;

	cr_assert_eq(inflight_init(&f, 1u << 20), 0);
	cr_expect_eq(f.nbuckets, INFLIGHT_MIN_BUCKETS);
	for (int i = 0; i < 1000; i++)
		cr_assert_not_null(inflight_add(&f, &id));
	cr_expect_eq(f.cap, 1024);
	cr_expect_eq(f.nbuckets, 1024);
	inflight_free(&f);
}
