// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* What every capture program shares: the configuration the loader sets, the
 * maps, the process filter, and events built from a socket and the bytes of
 * one call (payload copied from user memory, split into chunks for
 * full-payload connections). Included once, by sockspan.bpf.c. */
#ifndef SOCKSPAN_CAPTURE_BPF_H
#define SOCKSPAN_CAPTURE_BPF_H

#define AF_INET 2
#define AF_INET6 10
#define SOCK_STREAM 1
#define IPPROTO_TCP 6
#define S_IFMT 00170000
#define S_IFSOCK 0140000
#define MSG_PEEK 2
#define EINPROGRESS 115

/* Set by the loader before load. */
const volatile __u32 self_tgid = 0;         /* sockspan never traces itself */
const volatile bool filter_tgid = false;    /* only tgids in traced_tgids */
const volatile bool filter_cgroup = false;  /* only cgroups in traced_cgroups */
const volatile __u32 max_payload = SS_PAYLOAD_DEFAULT;

/* Events to userspace. Size set by the loader. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 32 * 1024 * 1024);
} events SEC(".maps");

/* key: tgid; value: unused. Inserted by the loader (--pid); never deleted. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u8);
} traced_tgids SEC(".maps");

/* key: cgroup v2 id; value: unused. Inserted and deleted by the loader. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, __u8);
} traced_cgroups SEC(".maps");

enum call_kind {
	CALL_BUF,     /* read/write/sendto/recvfrom: one user buffer */
	CALL_IOV,     /* readv/writev: an iovec array */
	CALL_MSG,     /* sendmsg/recvmsg: a user_msghdr */
	CALL_MMSG,    /* sendmmsg/recvmmsg: an mmsghdr array */
	CALL_GAP,     /* sendfile/splice: bytes that never reach user memory */
	CALL_UNCOPIED,/* bytes whose user buffers are not known here: reported, not copied */
	CALL_CONNECT,
	CALL_ACCEPT,
};

struct call_args {
	__u64 ptr;       /* buffer, iovec, msghdr or mmsghdr array */
	__u64 sock_ino;
	struct sock *sk;
	__u32 cnt;       /* iovcnt or vlen */
	__s32 fd;
	__u32 seq;
	__u8 kind;       /* enum call_kind */
	__u8 dir;        /* enum ss_dir */
};

/* key: pid_tgid; value: the arguments of the syscall in flight on that thread.
 * Inserted at sys_enter, deleted at sys_exit on every path. LRU so a thread
 * that dies inside a syscall cannot leak an entry forever. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct call_args);
} calls SEC(".maps");

/* key: socket inode; value: enum ss_role. Inserted at connect/accept exit,
 * deleted at close. LRU: sockets closed by exit or dup2 age out. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 262144);
	__type(key, __u64);
	__type(value, __u8);
} sock_roles SEC(".maps");

/* key: socket inode; value: unused. Connections whose protocol cannot skip
 * bytes it did not see (HTTP/2: frame headers follow each other inside a long
 * write): every byte is copied, in events of max_payload bytes, up to
 * SS_MAX_CHUNKS per syscall. Inserted by userspace when it detects such a
 * protocol, deleted at close (LRU for sockets closed otherwise). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, __u8);
} full_payload SEC(".maps");

/* The event under construction: header plus room for a payload copied at any
 * offset below SS_PAYLOAD_MAX (iovecs), hence twice the ceiling. One slot per
 * CPU (the loader sizes it); too big for a per-CPU map value. */
struct event_buf {
	struct ss_event ev;
	__u8 payload[2 * SS_PAYLOAD_MAX];
};
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct event_buf);
} scratch SEC(".maps");

/* index: enum ss_counter; value: count. Read and summed by userspace. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SS_CNT__MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

static __always_inline void count(__u32 idx, __u64 n)
{
	__u64 *v = bpf_map_lookup_elem(&counters, &idx);

	if (v)
		*v += n;
}

static __always_inline bool is_traced(__u32 tgid)
{
	if (tgid == self_tgid)
		return false;
	if (filter_tgid && !bpf_map_lookup_elem(&traced_tgids, &tgid))
		return false;
	if (filter_cgroup) {
		__u64 cg = bpf_get_current_cgroup_id();

		if (!bpf_map_lookup_elem(&traced_cgroups, &cg))
			return false;
	}
	return true;
}

/* fd -> struct sock of a TCP socket (IPv4 or IPv6), or NULL. */
static __always_inline struct sock *fd_to_tcp_sock(int fd, __u64 *ino)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct files_struct *files = BPF_CORE_READ(task, files);
	struct fdtable *fdt;
	struct file **fds, *file = NULL;
	struct inode *inode;
	struct socket *sock;
	struct sock *sk;

	if (fd < 0 || !files)
		return NULL;
	fdt = BPF_CORE_READ(files, fdt);
	if ((unsigned int)fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	fds = BPF_CORE_READ(fdt, fd);
	bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]);
	if (!file)
		return NULL;
	inode = BPF_CORE_READ(file, f_inode);
	if ((BPF_CORE_READ(inode, i_mode) & S_IFMT) != S_IFSOCK)
		return NULL;
	sock = BPF_CORE_READ(file, private_data);
	if (!sock || BPF_CORE_READ(sock, type) != SOCK_STREAM)
		return NULL;
	sk = BPF_CORE_READ(sock, sk);
	if (!sk)
		return NULL;
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
	if (family != AF_INET && family != AF_INET6)
		return NULL;
	if (BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP)
		return NULL;
	*ino = BPF_CORE_READ(inode, i_ino);
	return sk;
}

static __always_inline __u32 tcp_seq(struct sock *sk, __u8 dir)
{
	struct tcp_sock *tp = (struct tcp_sock *)sk;

	return dir == SS_DIR_EGRESS ? BPF_CORE_READ(tp, write_seq) : BPF_CORE_READ(tp, copied_seq);
}

static __always_inline int enter(int fd, __u64 ptr, __u32 cnt, __u8 kind, __u8 dir)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct call_args a = {};

	if (!is_traced(id >> 32))
		return 0;
	a.sk = fd_to_tcp_sock(fd, &a.sock_ino);
	if (!a.sk)
		return 0;
	a.ptr = ptr;
	a.cnt = cnt;
	a.fd = fd;
	a.kind = kind;
	a.dir = dir;
	a.seq = tcp_seq(a.sk, dir);
	bpf_map_update_elem(&calls, &id, &a, BPF_ANY);
	return 0;
}

/* Fill the fixed part of an event from the socket. */
static __always_inline void fill_header(struct ss_event *e, const struct call_args *a, __u8 type)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct sock_common *skc = &a->sk->__sk_common;
	__u64 id = bpf_get_current_pid_tgid();
	__u8 *role = bpf_map_lookup_elem(&sock_roles, &a->sock_ino);

	e->ts_ns = bpf_ktime_get_ns();
	e->cgroup_id = bpf_get_current_cgroup_id();
	e->sock_ino = a->sock_ino;
	e->tgid = id >> 32;
	e->tid = (__u32)id;
	e->fd = a->fd;
	e->seq = a->seq;
	e->len = 0;
	e->cap_len = 0;
	e->type = type;
	e->dir = a->dir;
	e->role = role ? *role : SS_ROLE_UNKNOWN;
	e->family = BPF_CORE_READ(skc, skc_family);
	e->lport = BPF_CORE_READ(skc, skc_num);
	e->rport = __builtin_bswap16(BPF_CORE_READ(skc, skc_dport));
	if (e->family == AF_INET) {
		__builtin_memset(e->laddr, 0, sizeof(e->laddr));
		__builtin_memset(e->raddr, 0, sizeof(e->raddr));
		BPF_CORE_READ_INTO((__u32 *)e->laddr, skc, skc_rcv_saddr);
		BPF_CORE_READ_INTO((__u32 *)e->raddr, skc, skc_daddr);
	} else {
		/* Whole 16-byte arrays: BPF_CORE_READ_INTO would copy one element. */
		bpf_core_read(e->laddr, sizeof(e->laddr), &skc->skc_v6_rcv_saddr);
		bpf_core_read(e->raddr, sizeof(e->raddr), &skc->skc_v6_daddr);
	}
	BPF_CORE_READ_STR_INTO(&e->comm, task, group_leader, comm);
}

static __always_inline struct event_buf *scratch_buf(void)
{
	__u32 cpu = bpf_get_smp_processor_id();

	return bpf_map_lookup_elem(&scratch, &cpu);
}

/* Waking the reader on every event costs an inter-processor interrupt (and a
 * VM exit under virtualisation): several microseconds per event. The reader
 * polls with a short timeout instead, and is woken only once the buffer is
 * filling up. */
static __always_inline __u64 wakeup_flags(void)
{
	__u64 avail = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
	__u64 size = bpf_ringbuf_query(&events, BPF_RB_RING_SIZE);

	return avail > size / 4 ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
}

static __always_inline void submit(struct event_buf *b)
{
	__u32 cap = b->ev.cap_len;

	if (cap > SS_PAYLOAD_MAX)
		cap = SS_PAYLOAD_MAX;
	if (bpf_ringbuf_output(&events, b, sizeof(b->ev) + cap, wakeup_flags()))
		count(SS_CNT_RINGBUF_LOST, 1);
	else
		count(SS_CNT_EVENTS, 1);
	if (b->ev.type == SS_EV_DATA && b->ev.len > cap)
		count(SS_CNT_TRUNCATED_BYTES, b->ev.len - cap);
}

/* Append up to n bytes from user memory at the current payload end, within
 * the configured cap. */
static __always_inline void append_user(struct event_buf *b, __u64 src, __u64 n)
{
	__u32 off = b->ev.cap_len;
	__u32 room;

	if (off >= max_payload || off >= SS_PAYLOAD_MAX)
		return;
	room = max_payload - off;
	if (n > room)
		n = room;
	if (n > SS_PAYLOAD_MAX)
		n = SS_PAYLOAD_MAX;
	off &= SS_PAYLOAD_MAX - 1;
	if (bpf_probe_read_user(&b->payload[off], n, (const void *)src)) {
		count(SS_CNT_COPY_FAILED, 1);
		return;
	}
	b->ev.cap_len = off + n;
}

/* Copy bytes skip.. of the first total bytes an iovec array describes, as
 * many as the event's cap allows. */
static __noinline void append_iov(struct event_buf *b, __u64 iov_ptr, __u32 iovcnt, __u64 skip, __u64 total)
{
	const struct iovec *iov = (const struct iovec *)iov_ptr;

	for (int i = 0; i < SS_MAX_IOV; i++) {
		struct iovec v;

		if (i >= iovcnt || total == 0 || b->ev.cap_len >= max_payload)
			break;
		if (bpf_probe_read_user(&v, sizeof(v), &iov[i]))
			break;
		__u64 n = v.iov_len < total ? v.iov_len : total;
		total -= n;
		if (skip >= n) {
			skip -= n;
			continue;
		}
		append_user(b, (__u64)v.iov_base + skip, n - skip);
		skip = 0;
	}
}

/* This CPU's event buffer with its header filled, or NULL. */
static __always_inline struct event_buf *begin_event(const struct call_args *a, __u8 type, __u32 len)
{
	struct event_buf *b = scratch_buf();

	if (b) {
		fill_header(&b->ev, a, type);
		b->ev.len = len;
	}
	return b;
}

/* "PRI * HT", the start of the HTTP/2 client preface (RFC 9113 3.4), as a
 * little-endian u64. Seeing it in either direction means every byte of the
 * connection is needed; the kernel decides it at once because userspace
 * reads events in batches and a large write may follow within microseconds. */
#define H2_PREFACE_HEAD 0x5448202a20495250ULL

static __always_inline bool starts_h2(const struct event_buf *b)
{
	return b->ev.cap_len >= 8 && *(const __u64 *)b->payload == H2_PREFACE_HEAD;
}

/* One event per max_payload bytes on full-payload connections, else one event
 * whose payload is cut at max_payload. The last event's len covers the rest. */
static __always_inline void emit_data(struct call_args *a, __u64 ret)
{
	__u32 chunks = bpf_map_lookup_elem(&full_payload, &a->sock_ino) ? SS_MAX_CHUNKS : 1;
	__u64 iov_ptr = a->ptr;
	__u32 iovcnt = a->cnt;

	if (a->kind == CALL_MSG) {
		struct user_msghdr m;

		if (bpf_probe_read_user(&m, sizeof(m), (void *)a->ptr))
			m.msg_iovlen = 0; /* still report the bytes moved, uncopied */
		iov_ptr = (__u64)m.msg_iov;
		iovcnt = m.msg_iovlen;
	}
	for (__u32 k = 0; k < SS_MAX_CHUNKS; k++) {
		__u64 off = (__u64)k * max_payload;

		if (k >= chunks || off >= ret)
			break;
		struct event_buf *b = begin_event(a, SS_EV_DATA, 0);
		if (!b)
			return;
		b->ev.seq = a->seq + off;
		if (a->kind == CALL_BUF)
			append_user(b, a->ptr + off, ret - off);
		else
			append_iov(b, iov_ptr, iovcnt, off, ret);
		if (k == 0 && chunks == 1 && starts_h2(b)) {
			__u8 one = 1;

			bpf_map_update_elem(&full_payload, &a->sock_ino, &one, BPF_ANY);
			chunks = SS_MAX_CHUNKS;
		}
		b->ev.len = k + 1 == chunks || ret - off < max_payload ? ret - off : max_payload;
		submit(b);
	}
}

/* sendmmsg/recvmmsg: one event per message, at consecutive stream offsets. */
static __always_inline void emit_mmsg(struct call_args *a, __u32 nmsg)
{
	const struct mmsghdr *mm = (const struct mmsghdr *)a->ptr;

	for (int i = 0; i < SS_MAX_MMSG; i++) {
		struct mmsghdr h;

		if (i >= nmsg)
			break;
		if (bpf_probe_read_user(&h, sizeof(h), &mm[i]))
			break;
		if (h.msg_len == 0)
			continue;
		struct event_buf *b = begin_event(a, SS_EV_DATA, h.msg_len);
		if (!b)
			return;
		append_iov(b, (__u64)h.msg_hdr.msg_iov, h.msg_hdr.msg_iovlen, 0, h.msg_len);
		submit(b);
		a->seq += h.msg_len;
	}
}

static __always_inline void emit_gap(struct call_args *a, __u64 ret)
{
	struct event_buf *b = begin_event(a, SS_EV_GAP, ret);

	if (b)
		submit(b);
}


/* Bytes moved that cannot be copied: a data event with no payload, which
 * userspace skips as a gap of known length (counted as truncated). */
static __always_inline void emit_uncopied(struct call_args *a, __u64 ret)
{
	struct event_buf *b = begin_event(a, SS_EV_DATA, ret);

	if (b)
		submit(b);
}

/* The bytes of one call went by: the events they make. */
static __always_inline void emit_call(struct call_args *a, __u64 ret)
{
	if (a->kind == CALL_GAP)
		emit_gap(a, ret);
	else if (a->kind == CALL_MMSG)
		emit_mmsg(a, ret);
	else if (a->kind == CALL_UNCOPIED)
		emit_uncopied(a, ret);
	else
		emit_data(a, ret);
}

#endif
