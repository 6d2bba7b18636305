/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The events bpf/sockspan.bpf.c writes to the ring buffer and user/ reads.
 * Fixed-size types only: this header is compiled for both the BPF target and
 * userspace, so it must not include libc. */
#ifndef SOCKSPAN_EVENT_H
#define SOCKSPAN_EVENT_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Hard ceiling on payload bytes copied per syscall. --max-payload picks a
 * value up to this; it is a power of two so the BPF side can bound offsets. */
#define SS_PAYLOAD_MAX 65536
#define SS_PAYLOAD_DEFAULT 16384
/* iovec entries walked per event of a readv/writev/sendmsg/recvmsg: bounds verifier work;
 * bytes in later entries still count in len, so stream offsets stay right. */
#define SS_MAX_IOV 64
/* Events one read/write may give on a connection that asked for every byte
 * (HTTP/2), or that the iovec bound splits: at most SS_MAX_CHUNKS x --max-payload
 * bytes and SS_MAX_CHUNKS x SS_MAX_IOV entries; the rest is reported uncopied. */
#define SS_MAX_CHUNKS 16
/* messages walked per sendmmsg/recvmmsg (rare on TCP). */
#define SS_MAX_MMSG 8
#define SS_COMM_LEN 16

enum ss_event_type {
	SS_EV_DATA = 1,  /* bytes moved by a read/write-like syscall, cap_len of them copied */
	SS_EV_GAP = 2,   /* bytes moved by sendfile/splice: never in user memory */
	SS_EV_CLOSE = 3, /* the connection is over for its process: close() of a TCP socket (with
			  * the socket hooks, its last fd gone; when seen outside the process,
			  * tid and comm are 0 and fd -1) */
};

enum ss_dir {
	SS_DIR_EGRESS = 0,  /* the traced process wrote the bytes */
	SS_DIR_INGRESS = 1, /* the traced process read the bytes */
};

enum ss_role {
	SS_ROLE_UNKNOWN = 0, /* opened before capture started: inferred from the protocol */
	SS_ROLE_CLIENT = 1,  /* connect(), or the SYN sent */
	SS_ROLE_SERVER = 2,  /* accept(), or the handshake completed by a listener */
};

/* Kernel-side counters, a per-CPU array indexed by these; userspace sums. */
enum ss_counter {
	SS_CNT_EVENTS,          /* events written to the ring buffer */
	SS_CNT_RINGBUF_LOST,    /* events dropped because the ring buffer was full */
	SS_CNT_TRUNCATED_BYTES, /* payload bytes moved but not copied (cap or iov bound) */
	SS_CNT_COPY_FAILED,     /* payload reads from user memory that faulted */
	SS_CNT_WAKEUPS,         /* times the reader was woken, the ring buffer a quarter full */
	SS_CNT__MAX,
};

struct ss_event {
	__u64 ts_ns;      /* CLOCK_MONOTONIC at the syscall's exit */
	__u64 cgroup_id;  /* cgroup v2 id of the thread (with the socket hooks: of the thread
			   * that made the socket's first traced event) */
	__u64 sock_ino;   /* inode of the socket: tells apart connections that reuse an fd number */
	__u32 tgid;
	__u32 tid;
	__s32 fd;
	__u32 seq;        /* TCP sequence number of the first byte: write_seq (egress) or
			   * copied_seq (ingress) before the syscall; the byte position in the stream */
	__u32 len;        /* bytes the syscall really moved */
	__u32 cap_len;    /* payload bytes that follow this header (<= len) */
	__u8 type;        /* enum ss_event_type */
	__u8 dir;         /* enum ss_dir */
	__u8 role;        /* enum ss_role */
	__u8 family;      /* AF_INET or AF_INET6 */
	__u16 lport;      /* local port, host order */
	__u16 rport;      /* remote port, host order */
	__u8 laddr[16];   /* network order; IPv4 in the first 4 bytes */
	__u8 raddr[16];
	char comm[SS_COMM_LEN]; /* the process's (thread group leader's) name */
	/* followed by cap_len payload bytes */
};

#endif
