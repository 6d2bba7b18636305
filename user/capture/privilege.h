/* Capabilities: which ones sockspan needs to start (saying which is
 * missing), and giving them up once the capture is attached (all of them,
 * but what an old kernel still asks for the maps already open). Capabilities belong to each thread: privilege_drop runs while
 * main is the only thread, so the threads started after it inherit the
 * reduced sets. */
#ifndef SOCKSPAN_PRIVILEGE_H
#define SOCKSPAN_PRIVILEGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PRIV_BIT(c) (1ull << (c))

/* Whether this thread has capability c (CAP_*) in its effective set. */
bool privilege_has(int c);

/* Loading and attaching the programs needs CAP_BPF and CAP_PERFMON, or
 * CAP_SYS_ADMIN (kernels before 5.8 know only that one). Returns 0, or -1
 * with the missing one(s) and the ones held named in err. */
int privilege_check_load(char *err, size_t cap);

/* Lowers the effective set to keep & permitted, the permitted set untouched:
 * what still works without the rest can be tried, and a capability raised
 * again. Returns 0, or -1 with errno. */
int privilege_lower(uint64_t keep);

/* Gives up every capability outside keep for good: effective, permitted,
 * inheritable and ambient sets, and the bounding set when CAP_SETPCAP allows
 * it; sets no_new_privs. *kept: the capabilities left (keep & permitted),
 * *bounding: the bounding set left. Returns 0, or -1 with why in err
 * (sockspan must then stop: it would run with more than it says). */
int privilege_drop(uint64_t keep, uint64_t *kept, uint64_t *bounding, char *err, size_t cap);

/* "CAP_BPF, CAP_PERFMON" into out (always terminated): "none" for 0. */
void privilege_names(uint64_t set, char *out, size_t cap);

#endif
