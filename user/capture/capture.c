#include "capture/capture.h"

#include <errno.h>
#include <linux/capability.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "sockspan.skel.h"
#include "capture/clock.h"
#include "capture/privilege.h"
#include "capture/self_probe.h"
#include "capture/tracefs.h"

#define BTF_PATH "/sys/kernel/btf/vmlinux"

struct capture {
	struct sockspan_bpf *skel;
	struct ring_buffer *rb;
	capture_event_fn fn;
	void *ctx;
	uint64_t malformed;
	uint64_t poll_bytes; /* ring buffer bytes this poll read, record headers included */
	uint64_t wake_bytes; /* the fill at which the kernel wakes the reader */
	bool behind;         /* this poll read wake_bytes: on_behind was called */
	capture_behind_fn on_behind;
	void *behind_ctx;
	enum capture_hooks hooks;
	uint64_t *cgroups;  /* in the kernel's filter map, sorted */
	size_t ncgroups;
	struct self_probe probe;
};

static bool kernel_has_sock_hooks(void)
{
	struct btf *btf = btf__load_vmlinux_btf();
	bool ok = btf && btf__find_by_name_kind(btf, "btf_trace_sock_send_length", BTF_KIND_TYPEDEF) >= 0 &&
		  btf__find_by_name_kind(btf, "btf_trace_sock_recv_length", BTF_KIND_TYPEDEF) >= 0;

	btf__free(btf);
	return ok;
}

/* The syscall tracepoints' programs: sys_enter_*, sys_exit_* and the
 * handlers they tail-call. The socket hooks' are sock_*. */
static bool is_syscall_prog(const char *name)
{
	return strncmp(name, "sys_", 4) == 0 || strcmp(name, "handle_exit") == 0 ||
	       strcmp(name, "exit_emit") == 0;
}

/* Loads only the programs of the chosen hooks. */
static int choose_hooks(struct capture *c, enum capture_hooks want, char *err, size_t cap)
{
	bool sock = kernel_has_sock_hooks();
	struct bpf_program *p;

	if (want == CAPTURE_HOOKS_SOCKET && !sock) {
		snprintf(err, cap, "--hooks socket: this kernel has no sock_send_length/sock_recv_length "
			 "tracepoints (they came with Linux 6.4)");
		return -1;
	}
	c->hooks = want == CAPTURE_HOOKS_SYSCALLS || !sock ? CAPTURE_HOOKS_SYSCALLS : CAPTURE_HOOKS_SOCKET;
	bpf_object__for_each_program(p, c->skel->obj) {
		const char *name = bpf_program__name(p);

		if (c->hooks == CAPTURE_HOOKS_SOCKET ? is_syscall_prog(name) : strncmp(name, "sock_", 5) == 0)
			bpf_program__set_autoload(p, false);
	}
	/* Only tail-called, and run by the loader (mark_listeners). */
	bpf_program__set_autoattach(c->skel->progs.sock_emit, false);
	bpf_program__set_autoattach(c->skel->progs.sock_listeners, false);
	/* The syscall tracepoints' per-thread and per-socket state: one entry
	 * is all a map the programs loaded never use can cost. */
	if (c->hooks == CAPTURE_HOOKS_SOCKET) {
		bpf_map__set_max_entries(c->skel->maps.calls, 1);
		bpf_map__set_max_entries(c->skel->maps.sock_roles, 1);
	}
	return 0;
}

/* Sets index i of a program array to prog (the tail call targets). */
static int set_tail(struct bpf_map *array, uint32_t i, struct bpf_program *prog, const char *what,
		    char *err, size_t cap)
{
	int fd = bpf_program__fd(prog);

	if (bpf_map__update_elem(array, &i, sizeof(i), &fd, sizeof(fd), BPF_ANY)) {
		snprintf(err, cap, "cannot set up the %s: %s", what, strerror(errno));
		return -1;
	}
	return 0;
}

/* The listeners the traced processes hold already: the iterator runs over
 * each one's files. After attaching, so that a listen() in between is marked
 * by the hook instead. */
static int mark_listeners(struct capture *c, const struct capture_opts *o, char *err, size_t cap)
{
	for (size_t i = 0; i < o->npids; i++) {
		union bpf_iter_link_info info = { .task.pid = o->pids[i] };
		LIBBPF_OPTS(bpf_iter_attach_opts, opts, .link_info = &info, .link_info_len = sizeof(info));
		struct bpf_link *link = bpf_program__attach_iter(c->skel->progs.sock_listeners, &opts);
		int fd = link ? bpf_iter_create(bpf_link__fd(link)) : -errno;
		ssize_t n = 0;
		char buf[8];
		int e;

		while (fd >= 0 && (n = read(fd, buf, sizeof(buf))) > 0)
			;
		e = fd < 0 ? -fd : n < 0 ? errno : 0;
		if (fd >= 0)
			close(fd);
		bpf_link__destroy(link);
		if (e) {
			snprintf(err, cap, "cannot look for the listening sockets of pid %u: %s", o->pids[i],
				 strerror(e));
			return -1;
		}
	}
	return 0;
}

static bool verbose_libbpf;

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level == LIBBPF_DEBUG && !verbose_libbpf)
		return 0;
	if (level == LIBBPF_INFO && !verbose_libbpf)
		return 0;
	return vfprintf(stderr, fmt, args);
}

static int on_sample(void *ctx, void *data, size_t size)
{
	struct capture *c = ctx;
	const struct ss_event *ev = data;
	uint32_t tgid;

	c->poll_bytes += (size + BPF_RINGBUF_HDR_SZ + 7) & ~(size_t)7;
	/* Told now, not after the poll: a reader at a low priority may take
	 * long to get through what it has to read. */
	if (!c->behind && c->poll_bytes >= c->wake_bytes) {
		c->behind = true;
		if (c->on_behind)
			c->on_behind(c->behind_ctx);
	}
	if (size < sizeof(*ev) || ev->cap_len > size - sizeof(*ev) || ev->cap_len > ev->len) {
		c->malformed++;
		return 0;
	}
	tgid = self_probe_match(&c->probe, ev, (const uint8_t *)(ev + 1));
	if (tgid)
		c->skel->bss->self_tgid = tgid;
	/* Its own events from before the kernel knew its tgid. */
	if (ev->tgid == c->skel->bss->self_tgid)
		return 0;
	c->fn(c->ctx, ev, (const uint8_t *)(ev + 1));
	return 0;
}

struct capture *capture_new(const struct capture_opts *o, capture_event_fn fn, void *ctx,
			    char *err, size_t cap)
{
	struct capture *c;
	int ncpu, e;
	uint8_t one = 1;

	verbose_libbpf = o->verbose;
	libbpf_set_print(libbpf_print);
	if (privilege_check_load(err, cap))
		return NULL;
	if (access(BTF_PATH, R_OK) != 0) {
		snprintf(err, cap, "this kernel exposes no BTF (" BTF_PATH " is missing): "
			 "sockspan needs a kernel built with CONFIG_DEBUG_INFO_BTF (>= 5.8)");
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(err, cap, "out of memory");
		return NULL;
	}
	c->fn = fn;
	c->ctx = ctx;
	c->skel = sockspan_bpf__open();
	if (!c->skel) {
		snprintf(err, cap, "cannot open the BPF object: %s", strerror(errno));
		goto fail;
	}
	c->skel->bss->self_tgid = self_probe_host_tgid();
	c->skel->rodata->filter_tgid = o->npids > 0;
	/* Few pids: compared in line by the kernel side (also in traced_tgids). */
	c->skel->rodata->pids_inline = o->npids <= sizeof(c->skel->data->traced_pids) / sizeof(uint32_t);
	for (size_t i = 0; c->skel->rodata->pids_inline && i < o->npids; i++)
		c->skel->data->traced_pids[i] = o->pids[i];
	c->skel->rodata->filter_cgroup = o->cgroups != NULL;
	c->skel->rodata->max_payload = o->max_payload;
	c->skel->rodata->ring_bytes = o->ringbuf_bytes;
	c->wake_bytes = o->ringbuf_bytes / 4; /* as wakeup_flags() in the BPF code */
	if (choose_hooks(c, o->hooks, err, cap))
		goto fail;
	/* The socket hooks are BTF tracepoints, attached without tracefs. */
	if (c->hooks == CAPTURE_HOOKS_SYSCALLS && tracefs_ensure(err, cap))
		goto fail;
	/* Forgetting the pids that exit, and finding their listeners, matter only when there are pids. */
	bpf_program__set_autoload(c->skel->progs.process_exit, o->npids > 0);
	if (!o->npids)
		bpf_program__set_autoload(c->skel->progs.sock_listeners, false);
	ncpu = libbpf_num_possible_cpus();
	if (ncpu <= 0) {
		snprintf(err, cap, "cannot count CPUs: %s", strerror(-ncpu));
		goto fail;
	}
	bpf_map__set_max_entries(c->skel->maps.scratch, ncpu);
	bpf_map__set_max_entries(c->skel->maps.events, o->ringbuf_bytes);
	e = sockspan_bpf__load(c->skel);
	if (e) {
		/* Kernels before 5.11 charge maps to RLIMIT_MEMLOCK, which libbpf raises. */
		snprintf(err, cap, "cannot load the BPF programs: %s%s", strerror(-e),
			 e == -EPERM && !privilege_has(CAP_SYS_RESOURCE)
				 ? " (missing CAP_SYS_RESOURCE: kernels before 5.11 need it to raise RLIMIT_MEMLOCK)"
			 : o->verbose ? "" : " (run with -v to see the verifier's log)");
		goto fail;
	}
	/* The programs that tail-call one shared handler (see the BPF side). */
	if (c->hooks == CAPTURE_HOOKS_SOCKET
		    ? set_tail(c->skel->maps.sock_emitter, 0, c->skel->progs.sock_emit, "socket hooks' handler", err, cap)
		    : set_tail(c->skel->maps.exit_handler, 0, c->skel->progs.handle_exit, "exit handler", err, cap) ||
		      set_tail(c->skel->maps.exit_handler, 1, c->skel->progs.exit_emit, "exit events", err, cap))
		goto fail;
	for (size_t i = 0; i < o->npids; i++) {
		if (bpf_map__update_elem(c->skel->maps.traced_tgids, &o->pids[i], sizeof(o->pids[i]),
					 &one, sizeof(one), BPF_ANY)) {
			snprintf(err, cap, "cannot add pid %u to the filter: %s", o->pids[i], strerror(errno));
			goto fail;
		}
	}
	if (o->ncgroups && capture_set_cgroups(c, o->cgroups, o->ncgroups)) {
		snprintf(err, cap, "cannot add cgroups to the filter: %s", strerror(errno));
		goto fail;
	}
	e = sockspan_bpf__attach(c->skel);
	if (e) {
		snprintf(err, cap, "cannot attach the BPF programs: %s", strerror(-e));
		goto fail;
	}
	if (c->hooks == CAPTURE_HOOKS_SOCKET && mark_listeners(c, o, err, cap))
		goto fail;
	c->rb = ring_buffer__new(bpf_map__fd(c->skel->maps.events), on_sample, c, NULL);
	if (!c->rb) {
		snprintf(err, cap, "cannot set up the ring buffer: %s", strerror(errno));
		goto fail;
	}
	/* Outside the host's pid namespace: sockspan's traffic is traced until
	 * the probe's event gives its tgid (on failure, for good: it costs CPU
	 * but makes no span, since its exports are marked not sampled). */
	if (!c->skel->bss->self_tgid)
		self_probe_send(&c->probe);
	return c;
fail:
	capture_free(c);
	return NULL;
}

int capture_poll(struct capture *c, int timeout_ms, struct poll_round *round)
{
	uint64_t t0 = clock_mono_now_ns();
	/* The kernel side wakes us only when the buffer fills (see wakeup_flags in
	 * the BPF code), so after the wait, read whatever arrived meanwhile. */
	int n, m;

	c->poll_bytes = 0;
	c->behind = false;
	n = ring_buffer__poll(c->rb, timeout_ms);
	m = n < 0 ? 0 : ring_buffer__consume(c->rb);

	if (round)
		*round = (struct poll_round){ .elapsed_ns = clock_mono_now_ns() - t0,
					      .timeout_ns = (uint64_t)timeout_ms * 1000000,
					      .behind = c->behind };
	if (n < 0)
		return n;
	return m < 0 ? m : n + m;
}

void capture_on_behind(struct capture *c, capture_behind_fn fn, void *ctx)
{
	c->on_behind = fn;
	c->behind_ctx = ctx;
}

int capture_drain(struct capture *c)
{
	return ring_buffer__consume(c->rb);
}

void capture_full_payload(struct capture *c, uint64_t sock_ino, bool on)
{
	uint8_t one = 1;

	/* Best effort: on failure the connection keeps its per-syscall cap. */
	if (on)
		bpf_map__update_elem(c->skel->maps.full_payload, &sock_ino, sizeof(sock_ino), &one, sizeof(one),
				     BPF_ANY);
	else
		bpf_map__delete_elem(c->skel->maps.full_payload, &sock_ino, sizeof(sock_ino), 0);
}

int capture_set_cgroups(struct capture *c, const uint64_t *ids, size_t n)
{
	struct bpf_map *m = c->skel->maps.traced_cgroups;
	uint64_t *keep = malloc((n ? n : 1) * sizeof(*keep));
	size_t i = 0, j = 0, k = 0;
	uint8_t one = 1;

	if (!keep)
		return -1;
	/* Both sorted: one pass adds the new ones and deletes the gone ones. */
	while (i < c->ncgroups || j < n) {
		if (j == n || (i < c->ncgroups && c->cgroups[i] < ids[j])) {
			bpf_map__delete_elem(m, &c->cgroups[i], sizeof(c->cgroups[i]), 0);
			i++;
			continue;
		}
		if (i == c->ncgroups || ids[j] < c->cgroups[i]) {
			if (bpf_map__update_elem(m, &ids[j], sizeof(ids[j]), &one, sizeof(one), BPF_ANY)) {
				j++;
				continue; /* the map is full: that one is not traced */
			}
		} else {
			i++;
		}
		keep[k++] = ids[j++];
	}
	free(c->cgroups);
	c->cgroups = keep;
	c->ncgroups = k;
	return 0;
}

void capture_counters(const struct capture *c, uint64_t out[SS_CNT__MAX])
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t vals[ncpu > 0 ? ncpu : 1];

	for (uint32_t i = 0; i < SS_CNT__MAX; i++) {
		out[i] = 0;
		if (ncpu <= 0 || bpf_map__lookup_elem(c->skel->maps.counters, &i, sizeof(i), vals,
						       sizeof(vals), 0))
			continue;
		for (int cpu = 0; cpu < ncpu; cpu++)
			out[i] += vals[cpu];
	}
}

bool capture_maps_usable(const struct capture *c)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t vals[ncpu > 0 ? ncpu : 1];
	uint32_t i = 0;

	return ncpu > 0 && bpf_map__lookup_elem(c->skel->maps.counters, &i, sizeof(i), vals, sizeof(vals), 0) == 0;
}

enum capture_hooks capture_hooks(const struct capture *c)
{
	return c->hooks;
}

uint64_t capture_malformed(const struct capture *c)
{
	return c->malformed;
}

void capture_free(struct capture *c)
{
	if (!c)
		return;
	ring_buffer__free(c->rb);
	sockspan_bpf__destroy(c->skel);
	free(c->cgroups);
	free(c);
}
