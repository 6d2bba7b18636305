// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Capture of TCP socket traffic, two ways; the loader picks one.
 *
 * Socket hooks (kernel >= 6.4, sock_hooks.bpf.h): the socket layer's own
 * tracepoints, which fire on socket sends and receives only.
 *
 * Syscall tracepoints (any kernel >= 5.8 with BTF): each syscall that can
 * move socket bytes is traced at entry and exit. At entry, the process filter
 * is applied, the fd is mapped to its struct sock through task->files (so
 * sockets opened before sockspan started are seen too), and the arguments are
 * stashed by thread. At exit, with the real return value, the bytes are
 * copied from user memory into a ring buffer event.
 *
 * With the syscall tracepoints, connect and accept tell which end of a
 * connection a process is, and close that the connection is over; the socket
 * hooks learn both from TCP's state changes instead, so that no syscall
 * tracepoint is left to slow every syscall of every process. kprobes and
 * fentry are deliberately not used: tracepoints work on kernels built without
 * CONFIG_KPROBES or with ftrace locked down. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "sockspan_event.h"

#include "capture.bpf.h"
#include "sock_hooks.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

static __always_inline void set_role(__u64 ino, __u8 role)
{
	bpf_map_update_elem(&sock_roles, &ino, &role, BPF_ANY);
}

/* The arguments stashed at entry for this thread, removed from the stash. */
static __always_inline bool unstash(struct call_args *a)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct call_args *p = bpf_map_lookup_elem(&calls, &id);

	if (!p)
		return false;
	*a = *p;
	bpf_map_delete_elem(&calls, &id);
	return true;
}

/* connect and accept tell which end of a connection a process is. Returns
 * false for another kind of call. */
static __always_inline bool note_role(struct call_args *a, long ret)
{
	switch (a->kind) {
	case CALL_CONNECT:
		if (ret == 0 || ret == -EINPROGRESS)
			set_role(a->sock_ino, SS_ROLE_CLIENT);
		return true;
	case CALL_ACCEPT:
		if (ret >= 0 && fd_to_tcp_sock(ret, &a->sock_ino))
			set_role(a->sock_ino, SS_ROLE_SERVER);
		return true;
	}
	return false;
}

#define ARG(ctx, i) ((ctx)->args[i])

/* index 0: the handler every sys_exit program tail-calls: handle_exit;
 * index 1: exit_emit. Set by the loader after load, never changed. Sharing one handler means the exit path
 * is verified once instead of once per syscall, which keeps load time low.
 * Plain sizes, no BTF types: the kernel refuses BTF on program arrays. */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 2);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} exit_handler SEC(".maps");

/* Makes one event of the call this CPU's walk holds, then the next ones by
 * tail-calling itself. Not attached by itself. */
SEC("tracepoint")
int exit_emit(struct trace_event_raw_sys_exit *ctx)
{
	struct call_walk *w = walk_slot();
	bool more;

	if (!w)
		return 0;
	more = walk_step(w);
	if (w->h2_start) {
		__u8 one = 1;

		bpf_map_update_elem(&full_payload, &w->a.sock_ino, &one, BPF_ANY);
		w->h2_start = false;
	}
	if (more)
		bpf_tail_call(ctx, &exit_handler, 1);
	return 0;
}

SEC("tracepoint")
int handle_exit(struct trace_event_raw_sys_exit *ctx)
{
	struct call_walk *w = walk_slot();

	if (!w || !unstash(&w->a) || note_role(&w->a, ctx->ret) || ctx->ret <= 0)
		return 0;
	fill_header(&w->hdr, &w->a, SS_EV_DATA);
	walk_begin(w, ctx->ret, false);
	bpf_tail_call(ctx, &exit_handler, 1);
	return 0;
}

#define TRACE_EXIT(name)                                                   \
	SEC("tracepoint/syscalls/sys_exit_" #name)                         \
	int sys_exit_##name(struct trace_event_raw_sys_exit *ctx)          \
	{                                                                  \
		bpf_tail_call(ctx, &exit_handler, 0);                      \
		return 0;                                                  \
	}

/* Syscalls with (fd, pointer, count) arguments. */
#define TRACE_FD_CALL(name, kind, dir)                                     \
	SEC("tracepoint/syscalls/sys_enter_" #name)                        \
	int sys_enter_##name(struct trace_event_raw_sys_enter *ctx)        \
	{                                                                  \
		return enter(ARG(ctx, 0), ARG(ctx, 1), ARG(ctx, 2), kind, dir); \
	}                                                                  \
	TRACE_EXIT(name)

TRACE_FD_CALL(read, CALL_BUF, SS_DIR_INGRESS)
TRACE_FD_CALL(write, CALL_BUF, SS_DIR_EGRESS)
TRACE_FD_CALL(readv, CALL_IOV, SS_DIR_INGRESS)
TRACE_FD_CALL(writev, CALL_IOV, SS_DIR_EGRESS)
TRACE_FD_CALL(sendto, CALL_BUF, SS_DIR_EGRESS)
TRACE_FD_CALL(sendmsg, CALL_MSG, SS_DIR_EGRESS)
TRACE_FD_CALL(sendmmsg, CALL_MMSG, SS_DIR_EGRESS)

/* A peek leaves the bytes in the socket: they are captured when really read. */
#define TRACE_RECV_CALL(name, kind, flags_arg)                             \
	SEC("tracepoint/syscalls/sys_enter_" #name)                        \
	int sys_enter_##name(struct trace_event_raw_sys_enter *ctx)        \
	{                                                                  \
		if (ARG(ctx, flags_arg) & MSG_PEEK)                        \
			return 0;                                          \
		return enter(ARG(ctx, 0), ARG(ctx, 1), ARG(ctx, 2), kind, SS_DIR_INGRESS); \
	}                                                                  \
	TRACE_EXIT(name)

TRACE_RECV_CALL(recvfrom, CALL_BUF, 3)
TRACE_RECV_CALL(recvmsg, CALL_MSG, 2)
TRACE_RECV_CALL(recvmmsg, CALL_MMSG, 3)

/* sendfile64(out_fd, in_fd, offset, count): the socket is the destination. */
SEC("tracepoint/syscalls/sys_enter_sendfile64")
int sys_enter_sendfile64(struct trace_event_raw_sys_enter *ctx)
{
	return enter(ARG(ctx, 0), 0, 0, CALL_GAP, SS_DIR_EGRESS);
}
TRACE_EXIT(sendfile64)

/* splice(fd_in, off_in, fd_out, off_out, len, flags): a socket on either end.
 * The filter first: an untraced process pays no fd walk. */
SEC("tracepoint/syscalls/sys_enter_splice")
int sys_enter_splice(struct trace_event_raw_sys_enter *ctx)
{
	__u64 ino;

	if (!is_traced(bpf_get_current_pid_tgid() >> 32))
		return 0;
	if (fd_to_tcp_sock(ARG(ctx, 2), &ino))
		return enter(ARG(ctx, 2), 0, 0, CALL_GAP, SS_DIR_EGRESS);
	return enter(ARG(ctx, 0), 0, 0, CALL_GAP, SS_DIR_INGRESS);
}
TRACE_EXIT(splice)

SEC("tracepoint/syscalls/sys_enter_connect")
int sys_enter_connect(struct trace_event_raw_sys_enter *ctx)
{
	return enter(ARG(ctx, 0), 0, 0, CALL_CONNECT, SS_DIR_EGRESS);
}
TRACE_EXIT(connect)

/* The listening socket is not what matters: the accepted fd is the return
 * value, looked up at exit. Only the filter and the stash happen here. */
static __always_inline int enter_accept(void)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct call_args a = { .kind = CALL_ACCEPT, .fd = -1 };

	if (!is_traced(id >> 32))
		return 0;
	bpf_map_update_elem(&calls, &id, &a, BPF_ANY);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_accept")
int sys_enter_accept(struct trace_event_raw_sys_enter *ctx)
{
	return enter_accept();
}
TRACE_EXIT(accept)

SEC("tracepoint/syscalls/sys_enter_accept4")
int sys_enter_accept4(struct trace_event_raw_sys_enter *ctx)
{
	return enter_accept();
}
TRACE_EXIT(accept4)

/* close: tell userspace the connection is over, at entry while the fd still
 * names the socket. */
SEC("tracepoint/syscalls/sys_enter_close")
int sys_enter_close(struct trace_event_raw_sys_enter *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct call_args a = { .fd = ARG(ctx, 0), .dir = SS_DIR_EGRESS };
	struct event_buf *b;

	if (!is_traced(id >> 32))
		return 0;
	a.sk = fd_to_tcp_sock(a.fd, &a.sock_ino);
	if (!a.sk)
		return 0;
	b = begin_event(&a, SS_EV_CLOSE, 0);
	if (b)
		submit(b);
	bpf_map_delete_elem(&sock_roles, &a.sock_ino);
	bpf_map_delete_elem(&full_payload, &a.sock_ino);
	return 0;
}

/* A traced process that exits is forgotten: its pid, once reused by another
 * process, is not traced. It has exited when its last thread does, which
 * need not be its leader (a main thread may end first, pthread_exit): do_exit
 * counts the thread out of signal->live before this tracepoint. tp_btf needs
 * kernel >= 5.5; the loader attaches it only with --pid. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(process_exit, struct task_struct *p)
{
	__u32 tgid = p->tgid;

	if (p->signal->live.counter != 0)
		return 0;
	bpf_map_delete_elem(&traced_tgids, &tgid);
	for (int i = 0; i < PIDS_INLINE; i++)
		if (traced_pids[i] == tgid)
			traced_pids[i] = PID_NONE;
	return 0;
}
