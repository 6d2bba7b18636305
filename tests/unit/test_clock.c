/* Unit tests for clock.c: the epoch offset moves only when the wall clock is stepped. */
#include <criterion/criterion.h>

#include "capture/clock.h"

Test(clock_offset_next, first_sample_is_taken)
{
	cr_expect_eq(clock_offset_next(0, false, 1234567, 50000), 1234567);
}

Test(clock_offset_next, jitter_within_the_error_and_small_steps_are_ignored)
{
	int64_t cur = 1700000000000000000;

	cr_expect_eq(clock_offset_next(cur, true, cur + 40000, 50000), cur);
	cr_expect_eq(clock_offset_next(cur, true, cur - 50000 - CLOCK_STEP_MIN_NS, 50000), cur);
	cr_expect_eq(clock_offset_next(cur, true, cur + 3000, 0), cur);
}

Test(clock_offset_next, a_step_is_followed)
{
	int64_t cur = 1700000000000000000;

	cr_expect_eq(clock_offset_next(cur, true, cur + 50001 + CLOCK_STEP_MIN_NS, 50000),
		     cur + 50001 + CLOCK_STEP_MIN_NS);
	cr_expect_eq(clock_offset_next(cur, true, cur - 2000000000, 800), cur - 2000000000);
}

Test(clock_sync, one_instant_keeps_its_epoch_time_across_syncs)
{
	uint64_t mono = clock_mono_now_ns();
	uint64_t first;

	clock_sync();
	first = clock_mono_to_epoch_us(mono);
	for (int i = 0; i < 200; i++) {
		clock_sync();
		cr_assert_eq(clock_mono_to_epoch_us(mono), first, "sync %d moved it", i);
	}
}
