#include "capture/tracefs.h"

#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "capture/privilege.h"

#define TRACEFS_DIR "/sys/kernel/tracing"
#define DEBUGFS_TRACING_DIR "/sys/kernel/debug/tracing"

static int has_syscall_events(const char *dir)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/events/syscalls", dir);
	return access(path, F_OK) == 0;
}

int tracefs_ensure(char *err, size_t cap)
{
	if (has_syscall_events(TRACEFS_DIR) || has_syscall_events(DEBUGFS_TRACING_DIR))
		return 0;
	if (!privilege_has(CAP_SYS_ADMIN)) {
		snprintf(err, cap,
			 "tracefs is not mounted at " TRACEFS_DIR " and mounting it needs CAP_SYS_ADMIN, which sockspan "
			 "does not have: mount it first (mount -t tracefs tracefs " TRACEFS_DIR "; in a container, "
			 "mount the host's " TRACEFS_DIR ")");
		return -1;
	}
	if (mount("tracefs", TRACEFS_DIR, "tracefs", 0, NULL) != 0) {
		int e = errno;

		if (e == EPERM || e == EACCES)
			snprintf(err, cap,
				 "tracefs is not mounted at " TRACEFS_DIR " and mounting it failed: %s. "
				 "Run as root with CAP_SYS_ADMIN, or mount it first: mount -t tracefs tracefs " TRACEFS_DIR
				 " (in a container: mount the host's /sys/kernel/tracing, or run privileged)",
				 strerror(e));
		else
			snprintf(err, cap,
				 "tracefs is not mounted at " TRACEFS_DIR " and mounting it failed: %s "
				 "(kernel without CONFIG_TRACING?)", strerror(e));
		return -1;
	}
	if (!has_syscall_events(TRACEFS_DIR)) {
		snprintf(err, cap,
			 "tracefs mounted at " TRACEFS_DIR " has no events/syscalls: "
			 "the kernel lacks CONFIG_FTRACE_SYSCALLS, which sockspan needs");
		return -1;
	}
	return 0;
}
