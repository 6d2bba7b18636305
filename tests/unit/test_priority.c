/* Unit tests for priority.c: when the reader goes back to sockspan's own
 * priority and when it lowers it again. */
#include <criterion/criterion.h>
#include <errno.h>
#include <sys/resource.h>

#include "capture/priority.h"

#define MS 1000000ull

/* behind: the poll read a quarter of the buffer (capture_behind_fn). */
static struct poll_round round_of(uint64_t elapsed_ms, bool behind)
{
	return (struct poll_round){ .elapsed_ns = elapsed_ms * MS, .timeout_ns = 100 * MS, .behind = behind };
}

Test(priority_boosted_next, a_poll_that_read_a_quarter_of_the_buffer_boosts)
{
	struct poll_round r = round_of(3, true);

	cr_expect(priority_boosted_next(false, &r));
	cr_expect(priority_boosted_next(true, &r));
}

Test(priority_boosted_next, by_bytes_even_when_the_wakeup_ran_late)
{
	/* A starved reader woken at a quarter full may run after its timeout. */
	struct poll_round r = round_of(450, true);

	cr_expect(priority_boosted_next(false, &r));
}

Test(priority_boosted_next, a_whole_wait_with_less_lowers_it_again)
{
	struct poll_round idle = round_of(100, false), busy = round_of(180, false);

	cr_expect_not(priority_boosted_next(true, &idle));
	cr_expect_not(priority_boosted_next(true, &busy));
	cr_expect_not(priority_boosted_next(false, &busy));
}

Test(priority_boosted_next, a_round_cut_short_with_less_changes_nothing)
{
	/* A signal, or the self-probe's event: neither says the buffer filled. */
	struct poll_round r = round_of(20, false);

	cr_expect(priority_boosted_next(true, &r));
	cr_expect_not(priority_boosted_next(false, &r));
}

Test(priority_after_poll, off_it_never_boosts)
{
	struct priority p = { .base = 0, .low = 0 };
	struct poll_round r = round_of(1, true);

	priority_after_poll(&p, &r);
	cr_expect_not(p.boosted);
	cr_expect_eq(p.boosts, 0);
}

Test(priority_setup, a_low_not_below_the_start_is_off)
{
	struct priority p;
	char err[128] = "";
	int base;

	errno = 0;
	base = getpriority(PRIO_PROCESS, 0);
	cr_assert_eq(priority_setup(&p, base, true, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(p.low, p.base);
	cr_expect_not(p.keep_cap);
}
