#include "capture/priority.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <linux/capability.h>

#include "capture/privilege.h"

/* RLIMIT_NICE's unit: a limit of n lets a thread go down to nice 20 - n. */
#define NICE_CEILING 20

/* who 0 with PRIO_PROCESS: on Linux, the calling thread only. */
static int set_nice(int nice)
{
	return setpriority(PRIO_PROCESS, 0, nice);
}

int priority_setup(struct priority *p, int low, bool asked, char *err, size_t cap)
{
	struct rlimit rl;
	rlim_t need;

	*p = (struct priority){ 0 };
	errno = 0;
	p->base = getpriority(PRIO_PROCESS, 0);
	if (p->base == -1 && errno)
		p->base = 0;
	p->low = p->base;
	if (low <= p->base)
		return 0;
	need = (rlim_t)(NICE_CEILING - p->base);
	if (getrlimit(RLIMIT_NICE, &rl)) {
		snprintf(err, cap, "getrlimit(RLIMIT_NICE): %s", strerror(errno));
		return -1;
	}
	if (rl.rlim_cur < need) {
		if (rl.rlim_max < need)
			rl.rlim_max = need;
		rl.rlim_cur = need;
		if (setrlimit(RLIMIT_NICE, &rl)) {
			if (!asked || !privilege_has(CAP_SYS_NICE)) {
				snprintf(err, cap, "raising RLIMIT_NICE needs CAP_SYS_RESOURCE%s",
					 asked ? " or CAP_SYS_NICE" : " (or --nice, to keep CAP_SYS_NICE)");
				return -1;
			}
			p->keep_cap = true;
		}
	}
	p->low = low;
	return 0;
}

void priority_start(struct priority *p)
{
	if (p->low != p->base && set_nice(p->low))
		p->low = p->base;
}

bool priority_boosted_next(bool boosted, const struct poll_round *r)
{
	if (r->behind)
		return true;
	if (r->elapsed_ns >= r->timeout_ns)
		return false;
	return boosted;
}

static void set_boosted(struct priority *p, bool boosted)
{
	if (p->low == p->base || boosted == p->boosted || set_nice(boosted ? p->base : p->low))
		return;
	p->boosted = boosted;
	p->boosts += boosted;
}

void priority_boost(void *p)
{
	set_boosted(p, true);
}

void priority_after_poll(struct priority *p, const struct poll_round *r)
{
	set_boosted(p, priority_boosted_next(p->boosted, r));
}
