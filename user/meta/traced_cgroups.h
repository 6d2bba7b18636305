/* The cgroups the kernel's filter traces: those under the --cgroup
 * directories, and those of the pods the selection picks (k8s_select.h)
 * from the API's pods, found under the cgroup v2 mount (k8s_pod_cgroups.h).
 * Both sets are ORed; --pid still restricts by process on top. Recomputed
 * every second (new containers, new pods' cgroups) and soon after the
 * API's pods change; deleted pods and removed cgroups drop out of it. */
#ifndef SOCKSPAN_TRACED_CGROUPS_H
#define SOCKSPAN_TRACED_CGROUPS_H

#include <stddef.h>
#include <stdint.h>

#include "meta/k8s_select.h"
#include "meta/k8s_store.h"

/* A full recount every second; an API change waits at least this long
 * after the last one, so a re-list's burst costs one walk, not hundreds. */
#define TRACED_CGROUPS_PERIOD_NS 1000000000ull
#define TRACED_CGROUPS_CHANGE_NS 100000000ull

struct traced_cgroups_opts {
	const char *const *dirs;         /* --cgroup directories */
	size_t ndirs;
	const struct k8s_select *select; /* NULL: no pods selected */
	size_t label_base;               /* where select's label keys start in a pod's labels */
	struct k8s_store *store;         /* the API's pods; required with select */
	size_t max_ids;                  /* the kernel filter's size */
};

struct traced_cgroups_stats {
	uint64_t cgroups;       /* in the filter after the last count */
	uint64_t pods_selected; /* the API's pods the selection picks */
	uint64_t pods_found;    /* of them, with a cgroup on this node */
};

struct traced_cgroups;

/* Returns NULL with a reason in err (out of memory; pods to select and no
 * cgroup v2 mount). o is copied; what it points to must outlive the result. */
struct traced_cgroups *traced_cgroups_new(const struct traced_cgroups_opts *o, char *err, size_t errcap);
void traced_cgroups_free(struct traced_cgroups *t);

/* Is a new count due at now_ns (a monotonic clock)? */
bool traced_cgroups_due(const struct traced_cgroups *t, uint64_t now_ns);

/* Counts the cgroups into ids (max_ids of them, sorted, no duplicate) and
 * returns how many there are; more than max_ids are said once on stderr and
 * cut. now_ns: as traced_cgroups_due. */
size_t traced_cgroups_count(struct traced_cgroups *t, uint64_t now_ns, uint64_t *ids);

void traced_cgroups_stats(const struct traced_cgroups *t, struct traced_cgroups_stats *out);

#endif
