/* The reading thread's priority: low while it keeps up with the ring buffer,
 * so that on a busy node sockspan's parsing runs when the traced processes
 * leave a core idle rather than in front of them (their latency); the one
 * sockspan started with from a poll that read a quarter of the buffer or
 * more (the kernel wakes the reader early at that fill) until a poll waits
 * its whole timeout and reads less. */
#ifndef SOCKSPAN_PRIORITY_H
#define SOCKSPAN_PRIORITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "capture/capture.h"

#define PRIORITY_LOW_DEFAULT 19

struct priority {
	int base;        /* the nice value sockspan started with */
	int low;         /* the reader's while it keeps up; base: off */
	bool keep_cap;   /* raising it again takes CAP_SYS_NICE: keep it */
	bool boosted;    /* at base now, catching up */
	uint64_t boosts; /* times it went back to base */
};

/* Before privileges are dropped. An unprivileged thread may lower its
 * priority but raise it again only within RLIMIT_NICE: this raises the limit
 * to base (CAP_SYS_RESOURCE, if it is below), or, when that fails and the
 * user asked for it (asked) and CAP_SYS_NICE is held, sets keep_cap.
 * Returns 0 (p off if low is not below base), or -1 with why in err, p off. */
int priority_setup(struct priority *p, int low, bool asked, char *err, size_t cap);

/* The calling thread, the reader, to the low priority; threads started
 * before keep theirs. */
void priority_start(struct priority *p);

/* At sockspan's own priority now, until a quiet poll (capture_behind_fn). */
void priority_boost(void *p);

/* After a poll of the ring buffer. */
void priority_after_poll(struct priority *p, const struct poll_round *r);

/* The decision. By what the poll read (behind), not by how early it
 * returned: a starved thread may be woken early but run late. */
bool priority_boosted_next(bool boosted, const struct poll_round *r);

#endif
