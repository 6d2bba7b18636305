/* The path of a cgroup v2 from its id (what bpf_get_current_cgroup_id()
 * puts in every event), with no capability: on cgroup2 the id is the
 * directory's inode number and the tree is world-readable, so the mount is
 * walked (cgroup_tree.h) into an index of id -> path, and lookups are
 * answered from it. A miss walks again, at most once per
 * CGROUP_PATH_REWALK_NS: an id no directory has (too deep, already gone)
 * costs a hash probe, not a walk per event. Cgroup ids are never reused, so
 * a removed directory's entry is only stale until the next walk drops it.
 * One thread at a time. */
#ifndef SOCKSPAN_CGROUP_PATH_H
#define SOCKSPAN_CGROUP_PATH_H

#include <stddef.h>
#include <stdint.h>

/* Directories indexed at most (a busy node has a few thousand cgroups);
 * those beyond are counted. With names of at most NAME_MAX bytes the index
 * holds 4.5 MiB at worst, ~100 bytes a cgroup as kubelet names them. */
#define CGROUP_PATH_MAX_ENTRIES 16384
/* The least time between two walks. */
#define CGROUP_PATH_REWALK_NS 1000000000ull

struct cgroup_path_stats {
	uint64_t walks;     /* of the whole mount */
	uint64_t walk_ns;   /* the time they took, summed */
	uint64_t indexed;   /* directories found by the last walk */
	uint64_t unindexed; /* directories the last walk left out: the index was full */
};

struct cgroup_node;

struct cgroup_path {
	int mount_fd;                  /* the cgroup2 mount's root; -1: none found */
	uint64_t (*now_ns)(void *ctx); /* a monotonic clock (tests pass their own) */
	void *now_ctx;
	/* The index, made by the first lookup: nodes in walk order (a parent
	 * before its children), their names in one buffer, and an open-addressed
	 * table of ids to node index + 1 (0: empty). */
	struct cgroup_node *nodes;
	size_t nnodes, nodes_cap;
	char *names;
	size_t names_len, names_cap;
	uint32_t *slots;
	uint64_t walked_ns; /* when the last walk started */
	struct cgroup_path_stats stats;
};

/* Finds the cgroup2 mount in /proc/self/mountinfo (/sys/fs/cgroup, or
 * /sys/fs/cgroup/unified on hybrid hosts). Returns 0, or -1 when there is
 * none (lookups then fail). The clock is CLOCK_MONOTONIC. */
int cgroup_path_open(struct cgroup_path *cp);
/* The same with the directory dir standing for the mount. */
int cgroup_path_open_at(struct cgroup_path *cp, const char *dir);
void cgroup_path_close(struct cgroup_path *cp);

/* The cgroup's path as /proc/PID/cgroup writes it ("/kubepods/..."; the
 * mount's root is "/"), into out. Returns its length, or -1 (no directory
 * with that id when last walked, no mount, out of memory, longer than cap). */
int cgroup_path_of(struct cgroup_path *cp, uint64_t id, char *out, size_t cap);

#endif
