// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The socket hooks' programs (kernel >= 6.4): the bytes of socket sends and
 * receives, and each connection's role and close from TCP's state changes.
 * Included once, by sockspan.bpf.c, after capture.bpf.h. */
#ifndef SOCKSPAN_SOCK_HOOKS_BPF_H
#define SOCKSPAN_SOCK_HOOKS_BPF_H

/* ---- Socket hooks (kernel >= 6.4): fire on socket sends and receives only ----
 *
 * sock:sock_send_length and sock:sock_recv_length fire in sock_sendmsg and
 * sock_recvmsg, whatever syscall got there (write, sendmsg, sendfile...),
 * and nowhere else: processes pay nothing for their other syscalls, and an
 * untraced one pays the filter per socket operation. The loader uses them
 * instead of the data syscalls' tracepoints where the kernel has them. The
 * bytes have moved when they fire: the TCP counter is past them, and the
 * syscall's arguments (the user buffers) are in the task's saved registers. */

#define PF_IO_WORKER 0x00000010
#define PF_KTHREAD 0x00200000

#if defined(__TARGET_ARCH_x86)
#define SYSCALL_NR(regs) ((regs)->orig_ax)
enum { NR_read = 0, NR_write = 1, NR_close = 3, NR_readv = 19, NR_writev = 20, NR_sendfile = 40,
       NR_sendto = 44, NR_recvfrom = 45, NR_sendmsg = 46, NR_recvmsg = 47, NR_shutdown = 48,
       NR_splice = 275 };
#elif defined(__TARGET_ARCH_arm64)
#define SYSCALL_NR(regs) ((regs)->syscallno)
enum { NR_close = 57, NR_read = 63, NR_write = 64, NR_readv = 65, NR_writev = 66, NR_sendfile = 71,
       NR_splice = 76, NR_sendto = 206, NR_recvfrom = 207, NR_sendmsg = 211, NR_recvmsg = 212,
       NR_shutdown = 210 };
#else
#error "syscall numbers for this architecture are missing"
#endif

/* The kind and user pointers of the syscall that got to the socket. Kernel
 * and io_uring worker threads have no such syscall; sendmmsg/recvmmsg and
 * io_uring_enter give no way to tell which buffers one message used: their
 * bytes are reported, not copied. */
static __always_inline void syscall_args(struct call_args *a)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct pt_regs *regs;

	a->kind = CALL_UNCOPIED;
	a->fd = -1;
	if (task->flags & (PF_KTHREAD | PF_IO_WORKER))
		return;
	/* Typed (kernel >= 5.15): its fields are plain loads. */
	regs = (struct pt_regs *)bpf_task_pt_regs(task);
	switch (SYSCALL_NR(regs)) {
	case NR_read:
	case NR_write:
	case NR_sendto:
	case NR_recvfrom:
		a->kind = CALL_BUF;
		break;
	case NR_readv:
	case NR_writev:
		a->kind = CALL_IOV;
		a->cnt = PT_REGS_PARM3_SYSCALL(regs);
		break;
	case NR_sendmsg:
	case NR_recvmsg:
		a->kind = CALL_MSG;
		break;
	case NR_sendfile:
		a->kind = CALL_GAP;
		break;
	case NR_splice: /* the socket is one end or the other: no fd to report */
		a->kind = CALL_GAP;
		return;
	default:
		return;
	}
	a->fd = PT_REGS_PARM1_SYSCALL(regs);
	a->ptr = PT_REGS_PARM2_SYSCALL(regs);
}

/* index 0: sock_emit's fd, set by the loader after load in socket mode.
 * Plain sizes, no BTF types: the kernel refuses BTF on program arrays. */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} sock_emitter SEC(".maps");

#define RCV_SHUTDOWN 1

/* Sequence number of the first byte the call moved: the counter is past
 * them, and past a FIN a read consumed with them (a FIN counts one). */
static __always_inline __u32 seq_before(struct sock *sk, int ret, __u8 dir)
{
	struct tcp_sock *tp = bpf_skc_to_tcp_sock(sk);
	__u32 copied;

	if (!tp)
		return 0;
	if (dir == SS_DIR_EGRESS)
		return tp->write_seq - (__u32)ret;
	copied = tp->copied_seq;
	if ((sk->sk_shutdown & RCV_SHUTDOWN) && copied == tp->rcv_nxt)
		copied--;
	return copied - (__u32)ret;
}

/* What sockspan keeps on a socket, freed with it: no tracee can push it out
 * as it could an entry of an LRU map (by dropping tens of thousands of sockets
 * without close()). Made by the first traced event on the socket, or when
 * the connection opens. */
struct sock_info {
	__u64 ino;  /* the socket's inode, and */
	__u64 cgroup_id; /* the cgroup and */
	__u32 tgid; /* the process, that its first traced event had: its owner */
	__u8 role;  /* enum ss_role: set when the connection opened, so seen from its start */
	bool h2;    /* it began with the HTTP/2 preface: copy every byte */
	bool closed;/* its close event was sent */
};
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct sock_info);
} sock_infos SEC(".maps");

static __always_inline struct sock_info *sock_info_new(struct sock *sk)
{
	return bpf_sk_storage_get(&sock_infos, sk, NULL, BPF_SK_STORAGE_GET_F_CREATE);
}

/* Fill an event's header from the hook's socket: the kernel hands it over
 * typed, so its fields are plain loads, not helper calls. The cgroup is the
 * one the socket's first traced event had, as userspace keeps it: a helper
 * call less per event. */
static __always_inline void sock_header(struct ss_event *e, struct sock *sk, const struct call_args *a,
					__u8 type, const struct sock_info *si)
{
	struct task_struct *leader = bpf_get_current_task_btf()->group_leader;
	struct sock_common *skc = &sk->__sk_common;

	if (si && si->tgid)
		header_call(e, a, type, si->role, si->cgroup_id);
	else
		header_call(e, a, type, si ? si->role : SS_ROLE_UNKNOWN, bpf_get_current_cgroup_id());
	e->family = skc->skc_family;
	e->lport = skc->skc_num;
	e->rport = __builtin_bswap16(skc->skc_dport);
	if (e->family == AF_INET) {
		__builtin_memset(e->laddr, 0, sizeof(e->laddr));
		__builtin_memset(e->raddr, 0, sizeof(e->raddr));
		*(__u32 *)e->laddr = skc->skc_rcv_saddr;
		*(__u32 *)e->raddr = skc->skc_daddr;
	} else {
		for (int i = 0; i < 4; i++) {
			((__u32 *)e->laddr)[i] = skc->skc_v6_rcv_saddr.in6_u.u6_addr32[i];
			((__u32 *)e->raddr)[i] = skc->skc_v6_daddr.in6_u.u6_addr32[i];
		}
	}
	__builtin_memcpy(e->comm, leader->comm, sizeof(e->comm));
	e->comm[sizeof(e->comm) - 1] = 0;
}

static __always_inline void flag_h2(struct sock *sk)
{
	struct sock_info *si = sock_info_new(sk);

	if (si)
		si->h2 = true;
}

/* The inode userspace knows the socket by; false once it has none. */
static __always_inline bool sock_ino(struct sock *sk, __u64 *ino)
{
	struct socket *sock = sk->sk_socket;

	if (!sock || !sock->file)
		return false;
	*ino = sock->file->f_inode->i_ino;
	return true;
}

/* The user buffer that holds all ret bytes of a call, or 0: a read or write
 * of one buffer, or a vectored call (writev, sendmsg...) whose first iovec
 * holds them all, as most do (nginx writes its response heads so). */
static __always_inline __u64 one_buffer(const struct call_args *a, __u64 ret)
{
	__u64 iov_ptr = a->ptr;
	struct iovec v;

	if (a->kind == CALL_BUF)
		return a->ptr;
	if (a->kind == CALL_MSG) {
		struct user_msghdr m;

		if (bpf_probe_read_user(&m, sizeof(m), (void *)a->ptr) || m.msg_iovlen == 0)
			return 0;
		iov_ptr = (__u64)m.msg_iov;
	} else if (a->kind != CALL_IOV || a->cnt == 0) {
		return 0;
	}
	if (bpf_probe_read_user(&v, sizeof(v), (void *)iov_ptr) || v.iov_len < ret)
		return 0;
	return (__u64)v.iov_base;
}

/* Most calls are one event: bytes that fit max_payload in one user buffer,
 * or bytes not copied at all. They are built in place and sent from here,
 * which saves the two tail calls of the general path and a copy of the
 * header. False for the others. */
static __always_inline bool sock_one_event(struct call_walk *w, struct sock *sk, struct sock_info *si, __u64 ret)
{
	bool uncopied = w->a.kind == CALL_GAP || w->a.kind == CALL_UNCOPIED;
	struct event_buf *b;
	__u64 buf = 0;

	if (!uncopied && (ret > max_payload || !(buf = one_buffer(&w->a, ret))))
		return false;
	b = scratch_buf();
	if (!b)
		return true;
	sock_header(&b->ev, sk, &w->a, w->a.kind == CALL_GAP ? SS_EV_GAP : SS_EV_DATA, si);
	b->ev.len = ret;
	if (!uncopied) {
		append_user(b, buf, ret);
		if (si && starts_h2(b))
			si->h2 = true;
	}
	submit(b);
	return true;
}

/* The filter, in the hook: what an untraced process pays. */
static __always_inline int sock_op(void *ctx, struct sock *sk, int ret, int flags, __u8 dir)
{
	struct sock_info *si;
	struct call_walk *w;
	__u16 family;

	/* A peek leaves the bytes in the socket: they are captured when really read. */
	if (ret <= 0 || (flags & MSG_PEEK))
		return 0;
	if (!is_traced(bpf_get_current_pid_tgid() >> 32))
		return 0;
	family = sk->__sk_common.skc_family;
	if ((family != AF_INET && family != AF_INET6) || sk->sk_protocol != IPPROTO_TCP ||
	    sk->sk_type != SOCK_STREAM)
		return 0;
	w = walk_slot();
	if (!w)
		return 0;
	__builtin_memset(&w->a, 0, sizeof(w->a));
	if (!sock_ino(sk, &w->a.sock_ino))
		return 0;
	si = sock_info_new(sk);
	if (si && !si->tgid) {
		si->ino = w->a.sock_ino;
		si->cgroup_id = bpf_get_current_cgroup_id();
		si->tgid = bpf_get_current_pid_tgid() >> 32;
	}
	/* Bytes after a close sent early (see sock_state) start the connection
	 * again for userspace: it needs another close. */
	if (si && si->closed)
		si->closed = false;
	w->a.sk = sk;
	w->a.dir = dir;
	w->a.seq = seq_before(sk, ret, dir);
	/* Here, not in sock_emit: its branches would multiply the states the
	 * verifier walks through the copy path there. */
	syscall_args(&w->a);
	if (sock_one_event(w, sk, si, ret))
		return 0;
	sock_header(&w->hdr, sk, &w->a, SS_EV_DATA, si);
	/* The socket's flag matters only for calls longer than max_payload. */
	walk_begin(w, ret, ret >= max_payload && si && si->h2);
	bpf_tail_call(ctx, &sock_emitter, 0);
	return 0;
}

SEC("tp_btf/sock_send_length")
int BPF_PROG(sock_send, struct sock *sk, int ret, int flags)
{
	return sock_op(ctx, sk, ret, 0, SS_DIR_EGRESS);
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(sock_recv, struct sock *sk, int ret, int flags)
{
	return sock_op(ctx, sk, ret, flags, SS_DIR_INGRESS);
}

/* Both hooks tail-call this one (their tracepoints share a prototype): it
 * makes one event of the call this CPU's walk holds, then the next ones by
 * tail-calling itself. Not attached by itself. */
SEC("tp_btf/sock_send_length")
int BPF_PROG(sock_emit, struct sock *sk)
{
	struct call_walk *w = walk_slot();
	bool more;

	if (!w)
		return 0;
	more = walk_step(w);
	if (w->h2_start) {
		flag_h2(sk);
		w->h2_start = false;
	}
	if (more)
		bpf_tail_call(ctx, &sock_emitter, 0);
	return 0;
}

/* ---- Roles and closes from TCP's state changes (with the socket hooks) ----
 *
 * These fire a few times per connection, not per syscall: they replace the
 * connect, accept and close syscall tracepoints, whose mere presence sends
 * every syscall of every process through the kernel's slow path. */

#define SHUTDOWN_MASK 3

/* With --pid, the listeners of the traced processes, so that the softirq
 * that completes a handshake, in no process's context, tells their
 * connections from the others' without storage on every socket of the node.
 * A listener made under capture is marked by its listen(): the socket each
 * accepted connection is cloned from passes its storage on to it
 * (BPF_F_CLONE). One a traced process held already is found by the loader's
 * run of sock_listeners over its files, whose socket pointers the storage
 * helpers refuse: it is known by its network namespace and port instead. */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC | BPF_F_CLONE);
	__type(key, int);
	__type(value, __u8);
} traced_listeners SEC(".maps");

struct port_key {
	__u32 netns; /* the namespace's inode number */
	__u32 port;
};
/* Only the traced processes' listeners at start fill it: not preallocated,
 * so it costs nothing where there are none (cgroups, the whole node). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 4096);
	__type(key, struct port_key);
	__type(value, __u8);
} traced_ports SEC(".maps");

static __always_inline struct port_key port_key_of(struct sock *sk)
{
	struct port_key k = { .netns = sk->__sk_common.skc_net.net->ns.inum, .port = sk->__sk_common.skc_num };

	return k;
}

static __always_inline bool from_traced_listener(struct sock *sk)
{
	struct port_key k;

	if (bpf_sk_storage_get(&traced_listeners, sk, NULL, 0))
		return true;
	k = port_key_of(sk);
	return bpf_map_lookup_elem(&traced_ports, &k) != NULL;
}

/* Run by the loader over each traced process's files (not attached). */
SEC("iter/task_file")
int sock_listeners(struct bpf_iter__task_file *ctx)
{
	struct file *file = ctx->file;
	struct socket *sock;
	struct port_key k;
	struct sock *sk;
	__u8 one = 1;

	if (!file)
		return 0;
	sock = bpf_sock_from_file(file);
	sk = sock ? sock->sk : NULL;
	if (!sk || sk->sk_protocol != IPPROTO_TCP || sk->__sk_common.skc_state != TCP_LISTEN)
		return 0;
	k = port_key_of(sk);
	bpf_map_update_elem(&traced_ports, &k, &one, BPF_ANY);
	return 0;
}

static __always_inline void set_sock_role(struct sock *sk, __u8 role)
{
	struct sock_info *si = sock_info_new(sk);

	if (si)
		si->role = role;
}

/* The cgroup the socket was made in (an accepted one inherits its
 * listener's): the filter for what happens outside the owner's context. */
static __always_inline bool sock_cgroup_traced(struct sock *sk)
{
	__u64 cg;

	if (!bpf_core_field_exists(sk->sk_cgrp_data))
		return true;
	cg = BPF_CORE_READ(sk, sk_cgrp_data.cgroup, kn, id);
	return bpf_map_lookup_elem(&traced_cgroups, &cg) != NULL;
}

/* The fd a close() or shutdown() in progress names, or -1. */
static __always_inline int closing_fd(void)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct pt_regs *regs;
	long nr;

	if (task->flags & (PF_KTHREAD | PF_IO_WORKER))
		return -1;
	regs = (struct pt_regs *)bpf_task_pt_regs(task);
	nr = SYSCALL_NR(regs);
	return nr == NR_close || nr == NR_shutdown ? PT_REGS_PARM1_SYSCALL(regs) : -1;
}

/* The connection is over for the socket's owner, once. This may run in any
 * task (a softirq's): what is not the owner's is left out. Built on the
 * stack, not in the CPU's scratch buffer, which a socket hook this
 * interrupted may be filling. */
static __always_inline void emit_close(struct sock *sk)
{
	struct sock_info *si = bpf_sk_storage_get(&sock_infos, sk, NULL, 0);
	struct call_args a = { .dir = SS_DIR_EGRESS, .fd = -1 };
	struct ss_event e;

	if (!si || !si->tgid || si->closed)
		return;
	si->closed = true;
	a.sock_ino = si->ino;
	if (bpf_get_current_pid_tgid() >> 32 == si->tgid)
		a.fd = closing_fd();
	sock_header(&e, sk, &a, SS_EV_CLOSE, si);
	if (e.tgid != si->tgid) {
		e.tgid = si->tgid;
		e.tid = 0;
		__builtin_memset(e.comm, 0, sizeof(e.comm));
	}
	output(&e, sizeof(e));
}

static __always_inline bool nothing_to_read(struct sock *sk)
{
	struct tcp_sock *tp = bpf_skc_to_tcp_sock(sk);

	return tp && tp->rcv_nxt - tp->copied_seq <= 1;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(sock_state, struct sock *sk, int oldstate, int newstate)
{
	if (sk->sk_protocol != IPPROTO_TCP)
		return 0;
	/* connect(), in the connecting task. */
	if (newstate == TCP_SYN_SENT) {
		if (is_traced(bpf_get_current_pid_tgid() >> 32))
			set_sock_role(sk, SS_ROLE_CLIENT);
		return 0;
	}
	/* listen(), in the listening task. */
	if (newstate == TCP_LISTEN) {
		if (filter_tgid && is_traced(bpf_get_current_pid_tgid() >> 32))
			bpf_sk_storage_get(&traced_listeners, sk, NULL, BPF_SK_STORAGE_GET_F_CREATE);
		return 0;
	}
	/* The handshake's last ACK, in a softirq before accept(): the task it
	 * interrupted is no one's, so the filters apply through what the socket
	 * carries: its cgroup and its listener's mark. */
	if (oldstate == TCP_SYN_RECV && newstate == TCP_ESTABLISHED) {
		if ((!filter_cgroup || sock_cgroup_traced(sk)) &&
		    (!filter_tgid || from_traced_listener(sk)))
			set_sock_role(sk, SS_ROLE_SERVER);
		return 0;
	}
	/* The last close() of the socket, or its last fd dropped by dup2() or
	 * exit, or a shutdown() that leaves both directions shut: tcp_close
	 * shuts both, then moves the state on from an open one, or stores the
	 * state it is in again. Not if bytes are left to read (a FIN counts
	 * one), nor the moves a softirq makes once both directions are shut
	 * while the owner still holds the socket: sock_destroy has those. */
	if (sk->sk_shutdown == SHUTDOWN_MASK &&
	    ((oldstate == newstate && oldstate != TCP_CLOSE) || oldstate == TCP_ESTABLISHED ||
	     oldstate == TCP_CLOSE_WAIT || oldstate == TCP_SYN_SENT || oldstate == TCP_SYN_RECV) &&
	    nothing_to_read(sk))
		emit_close(sk);
	return 0;
}

/* The socket is gone: the close of connections whose close() changed no
 * state (reset by the peer before, or both directions already shut), late
 * but not missed. */
SEC("tp_btf/tcp_destroy_sock")
int BPF_PROG(sock_destroy, struct sock *sk)
{
	emit_close(sk);
	return 0;
}

#endif
