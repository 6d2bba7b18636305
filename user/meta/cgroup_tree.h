/* The cgroup v2 ids (directory inode numbers) of some directories and every
 * directory under them: a pod's containers are its cgroup's children, so
 * selecting a pod means selecting them too, including those made later. */
#ifndef SOCKSPAN_CGROUP_TREE_H
#define SOCKSPAN_CGROUP_TREE_H

#include <stddef.h>
#include <stdint.h>

/* Directories below a selected one that are walked at most. */
#define CGROUP_TREE_MAX_DEPTH 16

/* Fills ids (cap of them, sorted, no duplicate) with the ids of dirs[0..n)
 * and of every directory under them. Returns how many there are, which is
 * more than cap when some did not fit. A directory that vanishes while it is
 * walked is skipped. */
size_t cgroup_tree_ids(const char *const *dirs, size_t n, uint64_t *ids, size_t cap);

#endif
