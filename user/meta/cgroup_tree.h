/* The cgroup v2 ids (directory inode numbers) of some directories and every
 * directory under them: a pod's containers are its cgroup's children, so
 * selecting a pod means selecting them too, including those made later. */
#ifndef SOCKSPAN_CGROUP_TREE_H
#define SOCKSPAN_CGROUP_TREE_H

#include <stddef.h>
#include <stdint.h>

/* Directories below a selected one that are walked at most. */
#define CGROUP_TREE_MAX_DEPTH 16

/* Ids gathered into ids[0..cap); n counts those that did not fit too. */
struct cgroup_ids {
	uint64_t *ids;
	size_t cap, n;
};

/* Adds the directory open as dfd (closed here) and every one under it. A
 * directory that vanishes while it is walked is skipped. */
void cgroup_ids_add_tree(struct cgroup_ids *w, int dfd);
/* The same for dirs[0..n), by path; one that cannot be opened is skipped. */
void cgroup_ids_add_dirs(struct cgroup_ids *w, const char *const *dirs, size_t n);

/* Calls fn for each directory in the directory open as dfd (closed here),
 * with an fd of that directory (valid during the call) and the name. */
void cgroup_each_subdir(int dfd, void (*fn)(int parent, const char *name, void *ctx), void *ctx);
/* openat of a directory, no symbolic link followed: an fd, or -1. */
int cgroup_open_subdir(int parent, const char *name);

/* Sorts the ids kept and drops duplicates. Returns how many there are,
 * which is more than cap when some did not fit. */
size_t cgroup_ids_finish(struct cgroup_ids *w);

#endif
