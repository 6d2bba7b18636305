/* Make sure tracefs is mounted: libbpf attaches tracepoint programs through
 * <tracefs>/events/.../id and fails with ENOENT when it is missing. */
#ifndef SOCKSPAN_TRACEFS_H
#define SOCKSPAN_TRACEFS_H

#include <stddef.h>

/* Returns 0 when tracefs is available (already mounted at /sys/kernel/tracing
 * or /sys/kernel/debug/tracing, or mounted now at /sys/kernel/tracing).
 * Returns -1 with an explanation for a person in err (cap bytes). */
int tracefs_ensure(char *err, size_t cap);

#endif
