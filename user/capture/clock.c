#include "capture/clock.h"

#include <time.h>

static int64_t offset_ns; /* realtime - monotonic */
static bool synced;

static int64_t ts_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t clock_offset_next(int64_t cur, bool have_cur, int64_t measured, int64_t err)
{
	int64_t diff = measured > cur ? measured - cur : cur - measured;

	return !have_cur || diff > err + CLOCK_STEP_MIN_NS ? measured : cur;
}

void clock_sync(void)
{
	int64_t best = 0, width = INT64_MAX;

	/* Bracket the realtime read with two monotonic reads and take the
	 * midpoint, from the tightest of a few tries (a preemption widens one). */
	for (int i = 0; i < 3; i++) {
		int64_t m1 = ts_ns(CLOCK_MONOTONIC);
		int64_t r = ts_ns(CLOCK_REALTIME);
		int64_t m2 = ts_ns(CLOCK_MONOTONIC);

		if (m2 - m1 < width) {
			width = m2 - m1;
			best = r - (m1 + (m2 - m1) / 2);
		}
	}
	offset_ns = clock_offset_next(offset_ns, synced, best, width);
	synced = true;
}

uint64_t clock_mono_to_epoch_us(uint64_t mono_ns)
{
	return (uint64_t)((int64_t)mono_ns + offset_ns) / 1000;
}

uint64_t clock_mono_now_ns(void)
{
	return (uint64_t)ts_ns(CLOCK_MONOTONIC);
}
