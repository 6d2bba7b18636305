/* Random ids: xoshiro256** per thread, seeded from getrandom(). */
#include "trace/random.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

/*
 * xoshiro256** per thread: ids are made on the hot path, so no lock and no
 * syscall per span.  Ids only need to be unique, not secret; the seed comes
 * from getrandom() once per thread (and again in a forked child, which would
 * otherwise repeat its parent's ids).
 */
static __thread uint64_t rng_state[4];
static __thread bool rng_seeded;
static pthread_once_t rng_atfork_once = PTHREAD_ONCE_INIT;

static void rng_atfork_child(void)
{
	rng_seeded = false;
}

static void rng_atfork_register(void)
{
	pthread_atfork(NULL, NULL, rng_atfork_child);
}

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void rng_seed(void)
{
	uint64_t buf[4] = { 0 };
	size_t got = 0;
	struct timespec ts;
	uint64_t x;

	while (got < sizeof(buf)) {
		ssize_t r = getrandom((char *)buf + got, sizeof(buf) - got, 0);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		got += (size_t)r;
	}
	/*
	 * Always mix in clock, pid and a per-thread address through splitmix64:
	 * harmless when getrandom() worked, and it keeps the state distinct per
	 * thread and never all zero (xoshiro's one bad state) when it did not.
	 */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	x = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
	x ^= (uint64_t)getpid() << 32;
	x ^= (uint64_t)(uintptr_t)&rng_state;
	for (int i = 0; i < 4; i++)
		rng_state[i] = buf[i] ^ splitmix64(&x);
	rng_seeded = true;
}

static inline uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t random64(void)
{
	uint64_t *s = rng_state;
	uint64_t result, t;

	if (!rng_seeded) {
		pthread_once(&rng_atfork_once, rng_atfork_register);
		rng_seed();
	}
	result = rotl(s[1] * 5, 7) * 9;
	t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}


void random_trace_id(uint8_t out[16])
{
	uint64_t hi, lo;

	do {
		hi = random64();
		lo = random64();
	} while (hi == 0 && lo == 0);
	memcpy(out, &hi, 8);
	memcpy(out + 8, &lo, 8);
}
