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

/* Set by the loader, before load and when it learns it (see self_probe.h):
 * sockspan's own tgid, never traced; 0 while unknown. */
__u32 self_tgid = 0;
const volatile bool filter_tgid = false;    /* only tgids in traced_tgids */
const volatile bool filter_cgroup = false;  /* only cgroups in traced_cgroups */
const volatile __u32 max_payload = SS_PAYLOAD_DEFAULT;
const volatile __u64 ring_bytes = 32 * 1024 * 1024; /* the size of events */

/* Events to userspace. Size set by the loader. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 32 * 1024 * 1024);
} events SEC(".maps");

/* key: tgid; value: unused. Inserted by the loader (--pid), deleted by
 * process_exit when that process exits. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u8);
} traced_tgids SEC(".maps");

/* The traced tgids again, when there are few (set by the loader before load,
 * with pids_inline): compared in line rather than looked up in the hash, a
 * helper call every socket operation of every process pays otherwise. A
 * slot whose process exited holds PID_NONE. */
#define PIDS_INLINE 8
#define PID_NONE 0xffffffffu
__u32 traced_pids[PIDS_INLINE] = { [0 ... PIDS_INLINE - 1] = PID_NONE };
const volatile bool pids_inline = false;

static __always_inline bool tgid_traced(__u32 tgid)
{
	bool hit = false;

	if (!pids_inline)
		return bpf_map_lookup_elem(&traced_tgids, &tgid) != NULL;
	for (int i = 0; i < PIDS_INLINE; i++)
		hit |= traced_pids[i] == tgid;
	return hit;
}

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
 * deleted at close. LRU: sockets closed by exit or dup2 age out. The syscall
 * tracepoints' only (the socket hooks keep the role on the socket, see
 * sock_infos): the loader shrinks it, and calls, to one entry otherwise. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 262144);
	__type(key, __u64);
	__type(value, __u8);
} sock_roles SEC(".maps");

/* key: socket inode; value: unused. Connections whose protocol cannot skip
 * bytes it did not see (HTTP/2: frame headers follow each other inside a long
 * write): every byte is copied, in events of max_payload bytes, up to
 * SS_MAX_CHUNKS per syscall. Inserted here when a connection starts with the
 * HTTP/2 preface (with the syscall tracepoints; the socket hooks keep that
 * flag on the socket itself, see sock_infos) and by userspace when it detects
 * such a protocol later; deleted at close, and by userspace when it forgets
 * the connection (eviction, expiry, shedding): sockets dropped without
 * close() leave no entry behind once userspace has seen them. Twice the
 * connections userspace tracks (PIPELINE_MAX_CONNS), for the flags set by
 * events still in the ring; LRU only as the last resort. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 131072);
	__type(key, __u64);
	__type(value, __u8);
} full_payload SEC(".maps");

/* A call whose bytes are being turned into events: one event per run of the
 * program that makes them, which tail-calls itself for the next, so that the
 * verifier walks one event's path rather than a loop of SS_MAX_CHUNKS of
 * them (the load stays fast and far from the verifier's limit). The iovec
 * walk carries from one event to the next: a call's events together reach
 * SS_MAX_CHUNKS x SS_MAX_IOV entries (grpcio writes up to 260 at once).
 * key: 0, one slot per CPU. */
struct call_walk {
	struct call_args a;
	struct ss_event hdr; /* the call's events' header, filled once per call */
	__u64 ret;     /* bytes (messages for CALL_MMSG) the call moved */
	__u64 limit;   /* bytes of them to copy */
	__u64 done;    /* bytes of them the events so far cover */
	__u64 start;   /* done when the event in the buffer began */
	__u64 iov_ptr;
	__u64 skip;    /* bytes of iovec idx walked */
	__u32 iovcnt;
	__u32 idx;
	__u32 events;  /* copied so far (messages for CALL_MMSG) */
	bool h2_start; /* the call began with the HTTP/2 preface: flag its socket */
};
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct call_walk);
} walks SEC(".maps");

static __always_inline struct call_walk *walk_slot(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&walks, &zero);
}

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
	if (filter_tgid && !tgid_traced(tgid))
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

/* The parts of an event's header that come from the call, not the socket. */
static __always_inline void header_call(struct ss_event *e, const struct call_args *a, __u8 type, __u8 role,
					__u64 cgroup_id)
{
	__u64 id = bpf_get_current_pid_tgid();

	e->ts_ns = bpf_ktime_get_ns();
	e->cgroup_id = cgroup_id;
	e->sock_ino = a->sock_ino;
	e->tgid = id >> 32;
	e->tid = (__u32)id;
	e->fd = a->fd;
	e->seq = a->seq;
	e->len = 0;
	e->cap_len = 0;
	e->type = type;
	e->dir = a->dir;
	e->role = role;
}

/* Fill an event's header from a socket known only by address (the syscall
 * tracepoints): every field read through bpf_probe_read_kernel. */
static __always_inline void fill_header(struct ss_event *e, const struct call_args *a, __u8 type)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct sock_common *skc = &a->sk->__sk_common;
	__u8 *role = bpf_map_lookup_elem(&sock_roles, &a->sock_ino);

	header_call(e, a, type, role ? *role : SS_ROLE_UNKNOWN, bpf_get_current_cgroup_id());
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

/* The last time this CPU woke the reader. key: 0. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} wakes SEC(".maps");

#define WAKE_EVERY_NS 1000000

/* Waking the reader on every event costs an inter-processor interrupt (and a
 * VM exit under virtualisation): several microseconds per event. The reader
 * polls with a short timeout instead, and is woken once the buffer is a
 * quarter full: by each CPU at most once a millisecond until it has read, not
 * by every event of a reader that is slow to get a CPU (which would slow the
 * traced processes, and so the reader, further). */
static __always_inline __u64 wakeup_flags(void)
{
	__u64 now, *last;
	__u32 zero = 0;

	if (bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) <= ring_bytes / 4)
		return BPF_RB_NO_WAKEUP;
	last = bpf_map_lookup_elem(&wakes, &zero);
	if (!last)
		return BPF_RB_FORCE_WAKEUP;
	now = bpf_ktime_get_ns();
	if (now - *last < WAKE_EVERY_NS)
		return BPF_RB_NO_WAKEUP;
	*last = now;
	return BPF_RB_FORCE_WAKEUP;
}

/* An event of size bytes into the ring buffer, counted sent or lost. */
static __always_inline void output(void *ev, __u64 size)
{
	__u64 flags = wakeup_flags();

	if (bpf_ringbuf_output(&events, ev, size, flags)) {
		count(SS_CNT_RINGBUF_LOST, 1);
		return;
	}
	count(SS_CNT_EVENTS, 1);
	if (flags == BPF_RB_FORCE_WAKEUP)
		count(SS_CNT_WAKEUPS, 1);
}

static __always_inline void submit(struct event_buf *b)
{
	/* Loaded again, not taken from the register that built it: the bound
	 * below must be on the value the verifier sees reach the output. */
	__u64 cap = *(volatile __u32 *)&b->ev.cap_len;

	if (cap > SS_PAYLOAD_MAX)
		cap = SS_PAYLOAD_MAX;
	output(b, sizeof(b->ev) + cap);
	if (b->ev.type == SS_EV_DATA && b->ev.len > cap)
		count(SS_CNT_TRUNCATED_BYTES, b->ev.len - cap);
}

/* Append up to n bytes from user memory at the current payload end, within
 * the event's cap. False if the read faulted (nothing appended). */
static __always_inline bool append_user(struct event_buf *b, __u64 src, __u64 n)
{
	__u32 off = b->ev.cap_len;
	__u32 room;

	if (off >= max_payload || off >= SS_PAYLOAD_MAX)
		return true;
	room = max_payload - off;
	if (n > room)
		n = room;
	if (n > SS_PAYLOAD_MAX)
		n = SS_PAYLOAD_MAX;
	off &= SS_PAYLOAD_MAX - 1;
	if (bpf_probe_read_user(&b->payload[off], n, (const void *)src)) {
		count(SS_CNT_COPY_FAILED, 1);
		return false;
	}
	b->ev.cap_len = off + n;
	return true;
}

/* Copy into b the iovec bytes from where w stands, up to end (a byte count
 * of the call), walking at most SS_MAX_IOV entries. Advances w; after a
 * fault the rest of the walked bytes are reported uncopied. */
static __always_inline void append_iov(struct event_buf *b, struct call_walk *w, __u64 end)
{
	const struct iovec *iov = (const struct iovec *)w->iov_ptr;

	for (int i = 0; i < SS_MAX_IOV; i++) {
		/* Read back from the map each time (volatile, or the compiler
		 * keeps them in registers): the verifier then sees unknown
		 * values at every entry instead of tracking their ranges
		 * through the iterations, and prunes. */
		__u64 done = *(volatile __u64 *)&w->done, skip = *(volatile __u64 *)&w->skip;
		__u32 idx = *(volatile __u32 *)&w->idx;
		struct iovec v;

		if (idx >= w->iovcnt || done >= end)
			break;
		if (bpf_probe_read_user(&v, sizeof(v), &iov[idx]))
			break;
		__u64 n = v.iov_len > skip ? v.iov_len - skip : 0;
		if (n > end - done)
			n = end - done;
		bool copied = append_user(b, (__u64)v.iov_base + skip, n);
		w->done = done + n;
		if (skip + n >= v.iov_len) {
			w->idx = idx + 1;
			w->skip = 0;
		} else {
			w->skip = skip + n;
		}
		if (!copied)
			break; /* the event ends here, its bytes after cap_len uncopied */
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

/* This CPU's event buffer with the header of w's call, or NULL. */
static __always_inline struct event_buf *walk_event(const struct call_walk *w, __u8 type, __u32 len)
{
	struct event_buf *b = scratch_buf();

	if (b) {
		b->ev = w->hdr;
		b->ev.type = type;
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

/* Start turning a call's bytes into events; w->a is filled. The bytes are
 * all copied on full-payload connections (full: the caller knows it already),
 * else the first max_payload. */
static __always_inline void walk_begin(struct call_walk *w, __u64 ret, bool full)
{
	w->ret = ret;
	w->limit = ret < max_payload || full || bpf_map_lookup_elem(&full_payload, &w->a.sock_ino) ? ret
												 : max_payload;
	w->h2_start = false;
	w->done = 0;
	w->skip = 0;
	w->idx = 0;
	w->events = 0;
	w->iov_ptr = w->a.ptr;
	w->iovcnt = w->a.cnt;
	if (w->a.kind == CALL_MSG) {
		struct user_msghdr m;

		if (bpf_probe_read_user(&m, sizeof(m), (void *)w->a.ptr))
			m.msg_iovlen = 0; /* still report the bytes moved, uncopied */
		w->iov_ptr = (__u64)m.msg_iov;
		w->iovcnt = m.msg_iovlen;
	}
}

/* Copy the next event of a data call: up to max_payload bytes, fewer when
 * the iovec bound stops it. */
static __always_inline void copy_next(struct call_walk *w, struct event_buf *b)
{
	__u64 done = w->done;
	__u64 end = w->limit - done < max_payload ? w->limit : done + max_payload;

	w->start = done;
	b->ev.seq = w->a.seq + done;
	if (w->a.kind == CALL_BUF) {
		append_user(b, w->a.ptr + done, end - done);
		w->done = end;
	} else {
		append_iov(b, w, end);
	}
	w->events++;
}

/* sendmmsg/recvmmsg: copy the next message (capped at max_payload), at the
 * next stream offset. False if there is none to read. */
static __always_inline bool copy_next_msg(struct call_walk *w, struct event_buf *b)
{
	const struct mmsghdr *mm = (const struct mmsghdr *)w->a.ptr;
	__u32 i = w->events;
	struct mmsghdr h;

	if (i >= SS_MAX_MMSG || bpf_probe_read_user(&h, sizeof(h), &mm[i]))
		return false;
	b->ev.len = h.msg_len;
	b->ev.seq = w->a.seq;
	w->a.seq += h.msg_len;
	w->iov_ptr = (__u64)h.msg_hdr.msg_iov;
	w->iovcnt = h.msg_hdr.msg_iovlen;
	w->done = w->skip = w->idx = 0;
	append_iov(b, w, h.msg_len < max_payload ? h.msg_len : max_payload);
	w->events = i + 1;
	return true;
}

/* Send the event the previous run copied. True if it was the call's last:
 * the last one's len covers whatever is left uncopied, so stream offsets
 * stay right. */
static __always_inline bool send_copied(struct call_walk *w, struct event_buf *b)
{
	__u64 walked = w->done - w->start;
	bool last;

	if (w->a.kind == CALL_MMSG) {
		if (b->ev.len > 0)
			submit(b);
		return w->events >= w->ret || w->events >= SS_MAX_MMSG;
	}
	if (w->events == 1 && starts_h2(b)) {
		w->h2_start = true; /* the program sending it flags the socket */
		w->limit = w->ret;
	}
	last = w->events >= SS_MAX_CHUNKS || walked == 0 || w->done >= w->limit;
	b->ev.len = last ? w->ret - w->start : walked;
	submit(b);
	return last;
}

/* Bytes moved that are not copied: sendfile/splice (a gap), or bytes whose
 * user buffers are not known here (a data event with no payload, which
 * userspace skips as a gap of known length, counted as truncated). */
static __always_inline void emit_uncopied(struct call_walk *w, __u8 type)
{
	struct event_buf *b = walk_event(w, type, w->ret);

	if (b)
		submit(b);
}

/* One step of turning the call w holds into events, one step per program
 * run: a run sends the event the previous run copied, then copies the next,
 * which the next run sends. Copying last keeps the verifier's work small:
 * the many paths out of the iovec loop do not each walk the sending code.
 * True while another run is needed. */
static __always_inline bool walk_step(struct call_walk *w)
{
	struct event_buf *b;

	switch (w->a.kind) {
	case CALL_GAP:
		emit_uncopied(w, SS_EV_GAP);
		return false;
	case CALL_UNCOPIED:
		emit_uncopied(w, SS_EV_DATA);
		return false;
	}
	b = scratch_buf();
	if (!b || (w->events > 0 && send_copied(w, b)))
		return false;
	b->ev = w->hdr;
	if (w->a.kind == CALL_MMSG)
		return copy_next_msg(w, b);
	copy_next(w, b);
	return true;
}

#endif
