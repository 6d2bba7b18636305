/* The stream table of an HTTP/2 connection: every open stream is found by
 * its id, through adds in any id order, removals from anywhere (the last
 * stream moves into the freed slot) and a full table. */
#include <criterion/criterion.h>
#include <string.h>

#include "session/h2_streams.h"
#include "stats.h"

static struct sockspan_stats stats;
static const struct session_env env = { .stats = &stats };

/* Every id of want[0..n) is found, with its own stream, and no other id. */
static void check_table(struct h2_streams *ss, const uint32_t *want, unsigned n)
{
	cr_assert_eq(ss->n, n);
	for (unsigned i = 0; i < n; i++) {
		struct h2_stream *h = h2_streams_find(ss, want[i]);

		cr_assert_not_null(h, "stream %u lost", want[i]);
		cr_assert_eq(h->id, want[i]);
	}
	for (unsigned k = 1; k < ss->n; k++)
		cr_assert_leq(ss->by_id[k - 1].id, ss->by_id[k].id);
}

Test(h2_streams, found_by_id_through_random_adds_and_removes)
{
	struct h2_streams ss = { .env = &env };
	static uint32_t open[H2_MAX_STREAMS];
	unsigned n = 0;
	uint64_t x = 0x2545f4914f6cdd1dull;

	for (int step = 0; step < 20000; step++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		if (n < H2_MAX_STREAMS && (x % 3 || n == 0)) {
			/* Mostly increasing odd ids, sometimes any id a peer makes up. */
			uint32_t id = x % 5 ? (uint32_t)(2 * step + 1) : (uint32_t)(x >> 33);

			if (h2_streams_find(&ss, id))
				continue;
			cr_assert_not_null(h2_streams_add(&ss, id));
			open[n++] = id;
		} else {
			unsigned i = (unsigned)(x >> 20) % n;

			h2_streams_remove(&ss, h2_streams_find(&ss, open[i]));
			open[i] = open[--n];
		}
		cr_assert_null(h2_streams_find(&ss, 0xfffffffeu));
		if (step % 97 == 0)
			check_table(&ss, open, n);
	}
	check_table(&ss, open, n);
	h2_streams_free(&ss);
}

Test(h2_streams, a_full_table_refuses_then_makes_room_for_a_damaged_stream)
{
	struct h2_streams ss = { .env = &env };

	for (uint32_t id = 1; id < 2 * H2_MAX_STREAMS; id += 2)
		cr_assert_not_null(h2_streams_add(&ss, id));
	cr_assert_null(h2_streams_add(&ss, 5000));
	h2_streams_find(&ss, 77)->damaged = true;
	cr_assert_not_null(h2_streams_add(&ss, 5000));
	cr_assert_null(h2_streams_find(&ss, 77));
	cr_assert_not_null(h2_streams_find(&ss, 5000));
	cr_assert_not_null(h2_streams_find(&ss, 79));
	cr_assert_eq(ss.n, H2_MAX_STREAMS);
	h2_streams_free(&ss);
}
