/* The kernel half, seen from userspace: load the BPF programs, attach them
 * (socket hooks where the kernel has them, syscall tracepoints otherwise),
 * and hand every ring buffer event to a callback. */
#ifndef SOCKSPAN_CAPTURE_H
#define SOCKSPAN_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sockspan_event.h"

/* Where the bytes are caught. */
enum capture_hooks {
	CAPTURE_HOOKS_AUTO,     /* socket hooks if the kernel has them, else syscalls */
	CAPTURE_HOOKS_SOCKET,   /* sock:sock_send_length/sock_recv_length (kernel >= 6.4) */
	CAPTURE_HOOKS_SYSCALLS, /* the tracepoints of every syscall that moves socket bytes */
};

struct capture_opts {
	enum capture_hooks hooks;
	const uint32_t *pids;  /* only these processes; NULL/0: every process */
	size_t npids;
	const uint64_t *cgroups; /* only processes in these cgroup v2 ids (sorted), even
				  * none left; NULL: any */
	size_t ncgroups;
	uint32_t max_payload;  /* bytes copied per syscall, 1..SS_PAYLOAD_MAX */
	uint32_t ringbuf_bytes;/* power of two, multiple of the page size */
	bool verbose;          /* route libbpf's messages to stderr */
};

/* Called for each event; payload holds ev->cap_len bytes. Both are valid only
 * during the call. */
typedef void (*capture_event_fn)(void *ctx, const struct ss_event *ev, const uint8_t *payload);

struct capture;

/* Checks privileges and BTF, mounts tracefs if needed, opens, configures,
 * loads and attaches. Returns NULL with a message for a person in err. */
struct capture *capture_new(const struct capture_opts *opts, capture_event_fn fn, void *ctx,
			    char *err, size_t cap);
/* A poll round (capture_poll): what it waited and its timeout, and whether
 * it was behind (capture_behind_fn below). */
struct poll_round {
	uint64_t elapsed_ns, timeout_ns;
	bool behind;
};

/* Waits up to timeout_ms for events and delivers them; *round (if not NULL)
 * says how long it waited and how much it read. Returns the number of events
 * delivered, or a negative errno (-EINTR when a signal arrived). */
int capture_poll(struct capture *c, int timeout_ms, struct poll_round *round);
/* Called during a poll, at most once, when it has read as much as the fill at
 * which the kernel wakes the reader (a quarter of the buffer): the reader is
 * behind. */
typedef void (*capture_behind_fn)(void *ctx);
void capture_on_behind(struct capture *c, capture_behind_fn fn, void *ctx);
/* Delivers every event already in the ring buffer without waiting. */
int capture_drain(struct capture *c);
/* From now on, copy every byte the socket with this inode moves (in events
 * of max_payload bytes, up to SS_MAX_CHUNKS per syscall), or (off) only the
 * first max_payload bytes of each call again. */
void capture_full_payload(struct capture *c, uint64_t sock_ino, bool on);
/* From now on, trace processes in these cgroups only (ids sorted, at most
 * the 4096 the kernel map holds): the filter's cgroups become these. Only
 * with a capture made with cgroups. Returns 0, or -1 with errno. */
int capture_set_cgroups(struct capture *c, const uint64_t *ids, size_t n);
/* Kernel counters summed over CPUs (enum ss_counter), plus samples the ring
 * buffer held that were too short to be events. */
void capture_counters(const struct capture *c, uint64_t out[SS_CNT__MAX]);
uint64_t capture_malformed(const struct capture *c);
/* Whether the maps can be read through the fds already open with the
 * capabilities this thread has now: since Linux 6.5 they need none; before,
 * with unprivileged BPF disabled, every bpf() call needs CAP_BPF. */
bool capture_maps_usable(const struct capture *c);
/* The hooks in use: CAPTURE_HOOKS_SOCKET or CAPTURE_HOOKS_SYSCALLS. */
enum capture_hooks capture_hooks(const struct capture *c);
/* Detaches and frees; NULL is fine. */
void capture_free(struct capture *c);

#endif
