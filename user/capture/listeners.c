// SPDX-License-Identifier: MIT
/* listeners.c - the listeners a traced process held before sockspan started.
 *
 * The socket hooks mark a traced process's listener when it listens; one it
 * listened on before (nginx's, opened by its master before the worker sockspan
 * traces was forked) is found here. The kernel's iterators over a task's files
 * cannot hand a socket to the storage helpers (its pointer is not trusted), so
 * each socket fd is copied with pidfd_getfd (CAP_SYS_PTRACE, which root has
 * before sockspan drops its capabilities) and marked from userspace: a socket
 * storage map takes a socket fd as its key. */
#include "capture/listeners.h"

#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bpf/bpf.h>

static bool sockopt_is(int fd, int opt, int want)
{
	int v = 0;
	socklen_t len = sizeof(v);

	return getsockopt(fd, SOL_SOCKET, opt, &v, &len) == 0 && v == want;
}

static bool is_tcp_listener(int fd)
{
	return sockopt_is(fd, SO_ACCEPTCONN, 1) && sockopt_is(fd, SO_PROTOCOL, IPPROTO_TCP) &&
	       (sockopt_is(fd, SO_DOMAIN, AF_INET) || sockopt_is(fd, SO_DOMAIN, AF_INET6));
}

/* The fd an entry of /proc/PID/fd names if it is a socket, -1 if not, or
 * -2 with errno set if the link cannot be read (and it is not just gone). */
static int socket_fd(int dir, const char *name)
{
	char link[32];
	ssize_t n = readlinkat(dir, name, link, sizeof(link) - 1);
	char *end;
	long fd;

	if (n < 0)
		return errno == ENOENT ? -1 : -2;
	link[n] = 0;
	if (strncmp(link, "socket:", 7) != 0)
		return -1;
	fd = strtol(name, &end, 10);
	return *end || fd < 0 || fd > INT32_MAX ? -1 : (int)fd;
}

/* 0, or the errno of what failed (a process gone meanwhile is not a failure). */
static int mark_pid(int map_fd, uint32_t pid)
{
	char path[32];
	struct dirent *de;
	int pidfd, e = 0;
	DIR *d;
	uint8_t one = 1;

	pidfd = pidfd_open((pid_t)pid, 0);
	if (pidfd < 0)
		return errno == ESRCH ? 0 : errno;
	snprintf(path, sizeof(path), "/proc/%u/fd", pid);
	d = opendir(path);
	if (!d) {
		e = errno == ENOENT ? 0 : errno;
		close(pidfd);
		return e;
	}
	while (!e && (de = readdir(d))) {
		int target = de->d_name[0] == '.' ? -1 : socket_fd(dirfd(d), de->d_name);
		int fd = target < 0 ? -1 : pidfd_getfd(pidfd, target, 0);

		/* EBADF: closed since the directory was read. */
		if (target == -2 || (target >= 0 && fd < 0 && errno != EBADF))
			e = errno;
		if (fd >= 0 && is_tcp_listener(fd) && bpf_map_update_elem(map_fd, &fd, &one, BPF_ANY))
			e = errno;
		if (fd >= 0)
			close(fd);
	}
	closedir(d);
	close(pidfd);
	return e;
}

void listeners_mark(int map_fd, const uint32_t *pids, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int e = mark_pid(map_fd, pids[i]);

		if (e)
			fprintf(stderr, "sockspan: cannot mark the listening sockets pid %u held at start (%s%s): "
				"connections accepted on them are traced without a role, found from their first bytes\n",
				pids[i], strerror(e), e == EPERM || e == EACCES ? ": copying them needs CAP_SYS_PTRACE" : "");
	}
}
