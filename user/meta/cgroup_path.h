/* The path of a cgroup v2 from its id (what bpf_get_current_cgroup_id()
 * puts in every event): the id is a file handle of the cgroup2 mount
 * (kernfs: the directory's inode number), opened by open_by_handle_at()
 * (root, CAP_DAC_READ_SEARCH) and read back as /proc/self/fd/N. Two
 * syscalls and a readlink per cgroup, whatever the tree's size. */
#ifndef SOCKSPAN_CGROUP_PATH_H
#define SOCKSPAN_CGROUP_PATH_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

struct cgroup_path {
	int mount_fd;         /* the cgroup2 mount's root; -1: none found */
	char mount[PATH_MAX]; /* where it is mounted */
	size_t mount_len;
};

/* Finds the cgroup2 mount in /proc/self/mountinfo (/sys/fs/cgroup, or
 * /sys/fs/cgroup/unified on hybrid hosts). Returns 0, or -1 when there is none. */
int cgroup_path_open(struct cgroup_path *cp);
void cgroup_path_close(struct cgroup_path *cp);

/* The cgroup's path as /proc/PID/cgroup writes it ("/kubepods/..."), into
 * out. Returns its length, or -1 (no such cgroup any more, no mount, no
 * right, or longer than cap). */
int cgroup_path_of(const struct cgroup_path *cp, uint64_t id, char *out, size_t cap);

#endif
