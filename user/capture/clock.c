#include "capture/clock.h"

#include <time.h>

static int64_t offset_ns; /* realtime - monotonic */

static int64_t ts_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void clock_sync(void)
{
	/* Bracket the realtime read with two monotonic reads and take the midpoint. */
	int64_t m1 = ts_ns(CLOCK_MONOTONIC);
	int64_t r = ts_ns(CLOCK_REALTIME);
	int64_t m2 = ts_ns(CLOCK_MONOTONIC);

	offset_ns = r - (m1 + (m2 - m1) / 2);
}

uint64_t clock_mono_to_epoch_us(uint64_t mono_ns)
{
	return (uint64_t)((int64_t)mono_ns + offset_ns) / 1000;
}

uint64_t clock_mono_now_ns(void)
{
	return (uint64_t)ts_ns(CLOCK_MONOTONIC);
}
