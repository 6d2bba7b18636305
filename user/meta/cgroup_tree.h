/* Walking cgroup v2 directories, whose ids are their inode numbers: the ids
 * of some directories and every directory under them (a pod's containers
 * are its cgroup's children, so selecting a pod means selecting them too,
 * including those made later), and the walk itself (cgroup_path.h indexes
 * the whole tree with it). Nothing here needs a capability: cgroupfs
 * directories are world-readable. */
#ifndef SOCKSPAN_CGROUP_TREE_H
#define SOCKSPAN_CGROUP_TREE_H

#include <stdbool.h>
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
/* Called for each directory walked, with its name (valid during the call),
 * its id (inode number) and its depth (1: in the directory walked); returns
 * whether to go into it. */
typedef bool (*cgroup_walk_fn)(const char *name, uint64_t id, int depth, void *ctx);
/* Walks the directories under the one open as dfd (closed here), each one
 * before those under it, down to max_depth below dfd. A directory that
 * vanishes while it is walked is skipped. */
void cgroup_walk(int dfd, int max_depth, cgroup_walk_fn fn, void *ctx);
/* openat of a directory, no symbolic link followed: an fd, or -1. */
int cgroup_open_subdir(int parent, const char *name);

/* Sorts the ids kept and drops duplicates. Returns how many there are,
 * which is more than cap when some did not fit. */
size_t cgroup_ids_finish(struct cgroup_ids *w);

#endif
