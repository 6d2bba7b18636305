/* The cgroups of chosen pods, found by walking the cgroup v2 tree: a pod's
 * cgroup is the first directory down a path that k8s_cgroup_parse reads as
 * a pod's (either kubelet layout, wherever its kubepods sits); the
 * directories under it are its containers'. Other directories are walked
 * down to CGROUP_TREE_MAX_DEPTH; a pod's are entered only when it is chosen. */
#ifndef SOCKSPAN_K8S_POD_CGROUPS_H
#define SOCKSPAN_K8S_POD_CGROUPS_H

#include <stdbool.h>
#include <stddef.h>

#include "meta/cgroup_tree.h"

/* Is the pod with this uid (lowercase, as k8s_cgroup_parse gives it) chosen? */
typedef bool (*k8s_pod_want_fn)(const char *uid, void *ctx);

/* root_fd: the cgroup2 mount's root directory (left open). Adds the cgroup
 * of every chosen pod, and every cgroup under it, to w. Returns how many
 * chosen pods' cgroups were found. */
size_t k8s_pod_cgroups(int root_fd, k8s_pod_want_fn want, void *ctx, struct cgroup_ids *w);

#endif
