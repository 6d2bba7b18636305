#define _GNU_SOURCE
#include "meta/cgroup_path.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* FILEID_KERNFS: kernfs handles are the node's 64-bit id. */
#define HANDLE_KERNFS 0xfe

int cgroup_path_open(struct cgroup_path *cp)
{
	FILE *f = fopen("/proc/self/mountinfo", "r");
	char line[4096];

	cp->mount_fd = -1;
	if (!f)
		return -1;
	/* "id parent maj:min root mountpoint options [optional...] - fstype source superopts" */
	while (cp->mount_fd < 0 && fgets(line, sizeof(line), f)) {
		const char *dash = strstr(line, " - cgroup2 ");

		if (dash && sscanf(line, "%*s %*s %*s %*s %4095s", cp->mount) == 1)
			cp->mount_fd = open(cp->mount, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	fclose(f);
	cp->mount_len = strlen(cp->mount);
	return cp->mount_fd < 0 ? -1 : 0;
}

void cgroup_path_close(struct cgroup_path *cp)
{
	if (cp->mount_fd >= 0)
		close(cp->mount_fd);
	cp->mount_fd = -1;
}

int cgroup_path_of(const struct cgroup_path *cp, uint64_t id, char *out, size_t cap)
{
	struct {
		struct file_handle fh;
		uint64_t id;
	} h = { .fh = { .handle_bytes = sizeof(uint64_t), .handle_type = HANDLE_KERNFS }, .id = id };
	char link[64], full[PATH_MAX];
	size_t m = cp->mount_len;
	ssize_t n;
	int fd;

	if (cp->mount_fd < 0 || cap == 0)
		return -1;
	fd = open_by_handle_at(cp->mount_fd, &h.fh, O_RDONLY | O_PATH | O_CLOEXEC);
	if (fd < 0)
		return -1;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, full, sizeof(full) - 1);
	close(fd);
	if (n < 0 || (size_t)n < m || memcmp(full, cp->mount, m) != 0 || ((size_t)n > m && full[m] != '/'))
		return -1;
	/* The path below the mount; the mount's root itself is "/". */
	n -= (ssize_t)m;
	if (n == 0)
		full[m + (size_t)n++] = '/';
	if ((size_t)n >= cap)
		return -1;
	memcpy(out, full + m, (size_t)n);
	out[n] = '\0';
	return (int)n;
}
