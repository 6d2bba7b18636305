/* sockspan: distributed-tracing spans from socket traffic, captured in the
 * kernel with eBPF, without sidecars or code changes.
 *
 * Fixed order: parse options, load and attach the capture, poll the ring
 * buffer until told to stop, drain it, report, clean up. */
#include <errno.h>
#include <linux/capability.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture/capture.h"
#include "capture/clock.h"
#include "capture/priority.h"
#include "capture/privilege.h"
#include "export/metrics_server.h"
#include "export/span_output.h"
#include "export/zipkin_exporter.h"
#include "heap.h"
#include "meta/k8s_client.h"
#include "meta/k8s_meta.h"
#include "meta/traced_cgroups.h"
#include "options.h"
#include "pipeline.h"
#include "report.h"
#include "stats.h"
#include "view/raw_dump.h"
#include "view/view_out.h"
#include "view/view_replay.h"

#define POLL_MS 100
/* Heap freed since its peak that the allocator may keep before it is given
 * back to the system. */
#define TRIM_SLACK_BYTES (4u << 20)

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void on_full_payload(void *ctx, uint64_t sock_ino, bool on)
{
	capture_full_payload(ctx, sock_ino, on);
}

static void export_span(void *ctx, const struct span *s)
{
	zipkin_exporter_enqueue(ctx, s);
}

static void raw_event(void *ctx, const struct ss_event *ev, const uint8_t *payload, unsigned proto)
{
	raw_dump_event(ctx, ev, payload, proto, clock_mono_to_epoch_us(ev->ts_ns));
}

static struct zipkin_exporter *new_exporter(const struct options *o)
{
	struct zipkin_exporter_opts zo = {
		.url = o->zipkin_url,
		.headers = o->zipkin_headers,
		.nheaders = o->nzipkin_headers,
		.ca_file = o->zipkin_ca,
		.encoding = o->encoding,
		.compress = !o->no_compress,
		.batch_bytes = o->batch_bytes,
		.batch_interval_ns = (uint64_t)(o->batch_interval_s * 1e9),
		.queue_spans = o->queue_spans,
		.queue_bytes = o->queue_bytes,
		.retry_timeout_ns = (uint64_t)(o->retry_timeout_s * 1e9),
	};
	struct zipkin_exporter *e;
	char err[512];

	e = zipkin_exporter_new(&zo, err, sizeof(err));
	if (!e)
		fprintf(stderr, "sockspan: %s\n", err);
	return e;
}

/* Kubernetes metadata: the API server when one is configured (--kubeconfig,
 * or in a pod), and who the traced pods and peers are. */
struct kube {
	struct k8s_pod_opts pod_opts; /* the client reads it: lives as long */
	const char *labels[K8S_POD_MAX_LABELS]; /* pod_opts's */
	struct k8s_store *store;      /* NULL: no API server */
	struct k8s_client *client;
	struct k8s_meta *meta;
};

/* Before any other thread (libcurl's set-up); the API client's threads start
 * in start_threads. Returns 0, or -1 (said). A pod without its service
 * account's files, or an API server that does not answer, is no reason to
 * stop: spans keep process names. */
static int kube_start(struct kube *k, const struct options *o)
{
	struct k8s_config cfg;
	char err[512], host[K8S_NAME_MAX + 1] = "";
	const char *node = o->node_name;
	int r = o->kubeconfig ? k8s_config_kubeconfig(&cfg, o->kubeconfig, err, sizeof(err))
			      : k8s_config_in_cluster(&cfg, err, sizeof(err));

	k->pod_opts = k8s_select_pod_opts(&o->select, &o->name_template, k->labels);
	if (r < 0 && o->kubeconfig) {
		fprintf(stderr, "sockspan: --kubeconfig %s\n", err);
		return -1;
	}
	/* 1: not in a pod. */
	if (r != 0 && k8s_select_active(&o->select)) {
		fprintf(stderr, "sockspan: --namespace, --pod, --selector and --exclude-namespace need the "
				"Kubernetes API server (in a pod, or --kubeconfig)%s%s\n", r < 0 ? ": " : "",
			r < 0 ? err : "");
		return -1;
	}
	if (r < 0)
		fprintf(stderr, "sockspan: kubernetes: %s: spans keep process names\n", err);
	if (r == 0) {
		if (!node) {
			gethostname(host, sizeof(host) - 1);
			node = host;
		}
		k->store = k8s_store_new(K8S_STORE_MAX_PODS, K8S_STORE_MAX_SERVICES);
		if (!k->store) {
			k8s_config_free(&cfg);
			fprintf(stderr, "sockspan: out of memory\n");
			return -1;
		}
		k->client = k8s_client_new(&cfg, node, k->store, &k->pod_opts, err, sizeof(err));
		if (!k->client) {
			fprintf(stderr, "sockspan: %s\n", err);
			return -1;
		}
	}
	k->meta = k8s_meta_new(k->store, &o->name_template);
	if (!k->meta) {
		fprintf(stderr, "sockspan: out of memory\n");
		return -1;
	}
	return 0;
}

static void kube_stop(struct kube *k)
{
	k8s_client_stop(k->client);
	k8s_meta_free(k->meta);
	k8s_store_free(k->store);
}

static void kube_counters(const struct kube *k, struct metrics_k8s *out)
{
	struct k8s_store_stats st = {};
	struct k8s_client_counters c = {};
	struct cgroup_path_stats cg;

	k8s_meta_cgroup_stats(k->meta, &cg);
	if (k->client) {
		k8s_store_stats(k->store, &st);
		k8s_client_counters(k->client, &c);
	}
	*out = (struct metrics_k8s){
		.pods = st.pods, .services = st.services, .watch_restarts = c.watch_restarts, .relists = c.relists,
		.api_errors = c.api_errors, .rejected = c.objects_rejected, .store_full = st.dropped_full,
		.line_too_long = c.lines_too_long, .cgroup_walks = cg.walks, .cgroup_walk_ns = cg.walk_ns,
		.cgroups_indexed = cg.indexed, .cgroups_unindexed = cg.unindexed,
	};
}

static void publish(struct metrics_server *m, const struct capture *cap, const struct conn_tracker *tracker,
		    const struct sockspan_stats *stats, const struct kube *k, const struct traced_cgroups *traced, size_t heap)
{
	struct traced_cgroups_stats ts = {};

	struct metrics_snapshot snap = {
		.stats = *stats,
		.conns_tracked = conn_tracker_count(tracker),
		.heap_bytes = heap,
		.malformed = capture_malformed(cap),
	};

	kube_counters(k, &snap.k8s);
	if (traced)
		traced_cgroups_stats(traced, &ts);
	snap.k8s.pods_selected = ts.pods_selected;
	snap.k8s.pods_traced = ts.pods_found;
	snap.cgroups_traced = ts.cgroups;
	metrics_server_publish(m, &snap);
}

/* The cgroups to trace, when --cgroup or pod selection restricts capture;
 * *out stays NULL otherwise. Returns 0, or -1 (said). */
static int start_traced(struct traced_cgroups **out, const struct options *o, const struct kube *k)
{
	bool pods = k8s_select_active(&o->select);
	struct traced_cgroups_opts to = {
		.dirs = o->cgroup_dirs, .ndirs = o->ncgroup_dirs, .select = pods ? &o->select : NULL,
		.label_base = o->name_template.nlabels, .store = k->store, .max_ids = MAX_CGROUPS,
	};
	char err[256];

	if (!o->ncgroup_dirs && !pods)
		return 0;
	*out = traced_cgroups_new(&to, err, sizeof(err));
	if (!*out)
		fprintf(stderr, "sockspan: %s\n", err);
	return *out ? 0 : -1;
}

/* Attached, sockspan needs no capability: cgroups are named by walking the
 * world-readable cgroup v2 tree (meta/cgroup_path.h). Only where the kernel
 * asks CAP_BPF for the maps already open (before 6.5, unprivileged BPF
 * disabled) does it keep that: every map use then fails without it.
 * Loading, attaching, mounting tracefs and binding the metrics port are
 * done; files are opened as root's uid. keep: what the caller still needs
 * (CAP_SYS_NICE for --nice, see capture/priority.h). Call while main is the
 * only thread. Returns 0, or -1 (said). */
static int drop_privileges(const struct capture *cap, uint64_t keep)
{
	uint64_t kept, bounding;
	char err[256], names[512];

	if (privilege_lower(keep) || !capture_maps_usable(cap)) {
		keep |= PRIV_BIT(CAP_BPF);
		/* Kernels before 5.8 know only CAP_SYS_ADMIN. */
		if (privilege_lower(keep) || !capture_maps_usable(cap))
			keep |= PRIV_BIT(CAP_SYS_ADMIN);
	}
	if (privilege_drop(keep, &kept, &bounding, err, sizeof(err))) {
		fprintf(stderr, "sockspan: %s\n", err);
		return -1;
	}
	privilege_names(kept, names, sizeof(names));
	fprintf(stderr, "sockspan: capabilities after attach: %s; no_new_privs set\n", names);
	if (bounding & ~kept) {
		privilege_names(bounding & ~kept, names, sizeof(names));
		fprintf(stderr, "sockspan: without CAP_SETPCAP the bounding set keeps %s (out of reach: no_new_privs)\n",
			names);
	}
	return 0;
}

/* Every thread sockspan has, started once capabilities are dropped: threads
 * inherit their creator's. Returns 0, or -1 (said). */
static int start_threads(struct zipkin_exporter *exporter, struct kube *k, struct metrics_server *metrics)
{
	char err[512];

	if ((exporter && zipkin_exporter_start(exporter, err, sizeof(err))) ||
	    (k->client && k8s_client_start(k->client, err, sizeof(err))) ||
	    (metrics && metrics_server_start(metrics, err, sizeof(err)))) {
		fprintf(stderr, "sockspan: %s\n", err);
		return -1;
	}
	return 0;
}

static void say_ready(const struct options *o, enum capture_hooks h)
{
	const char *hooks = h == CAPTURE_HOOKS_SOCKET ? "socket hooks" : "syscall tracepoints";

	if (k8s_select_active(&o->select))
		fprintf(stderr, "sockspan: ready: tracing the selected pods, %zu cgroup%s, %zu process%s (%s)\n",
			o->ncgroup_dirs, o->ncgroup_dirs == 1 ? "" : "s", o->npids, o->npids == 1 ? "" : "es", hooks);
	else if (o->npids || o->ncgroup_dirs)
		fprintf(stderr, "sockspan: ready: tracing %zu process%s, %zu cgroup%s (%s)\n", o->npids,
			o->npids == 1 ? "" : "es", o->ncgroup_dirs, o->ncgroup_dirs == 1 ? "" : "s", hooks);
	else
		fprintf(stderr, "sockspan: ready: tracing every process on this node (%s)\n", hooks);
}

/* What stdout shows (view_term.h): the tree on a terminal, lines elsewhere,
 * nothing when the spans go to a file or a collector, unless asked; no
 * spans under --raw's chunks. */
static enum view_mode stdout_view(const struct options *o)
{
	if (o->raw)
		return VIEW_MODE_OFF;
	if (o->view != VIEW_MODE_AUTO)
		return o->view;
	if (o->output || o->zipkin_url)
		return VIEW_MODE_OFF;
	return isatty(STDOUT_FILENO) ? VIEW_MODE_TREE : VIEW_MODE_LINES;
}

/* fn as a sink of the builder, behind the filters when there are any. */
static void add_sink(struct pipeline *p, const struct options *o, struct view_filter_sink *fs, span_sink_fn fn,
		     void *ctx)
{
	if (view_filter_active(&o->filter)) {
		*fs = (struct view_filter_sink){ &o->filter, fn, ctx };
		fn = view_filter_sink_write;
		ctx = fs;
	}
	span_builder_add_sink(&p->builder, fn, ctx);
}

/* An output (path: as span_output_open says) as a sink. */
static int start_output(struct span_output *out, const char *path, struct pipeline *p, const struct options *o,
			struct view_filter_sink *fs)
{
	char err[512];

	if (span_output_open(out, path, err, sizeof(err))) {
		fprintf(stderr, "sockspan: %s\n", err);
		return -1;
	}
	add_sink(p, o, fs, span_output_write, out);
	return 0;
}

/* The tree view on stdout, following the terminal's width. */
static int start_view(struct view_out *v, const struct options *o, struct pipeline *p)
{
	struct view_style style = { view_term_width(STDOUT_FILENO), view_term_color(o->color, STDOUT_FILENO) };
	struct view_store_opts so = { .grace_us = (uint64_t)(o->view_grace_s * 1e6) };

	if (view_out_init(v, stdout, &o->filter, &style, &so, clock_mono_now_ns() / 1000))
		return -1;
	v->width_fd = STDOUT_FILENO;
	span_builder_add_sink(&p->builder, view_out_span, v);
	return 0;
}

int main(int argc, char **argv)
{
	static struct options opts;
	static struct sockspan_stats stats;
	struct capture_opts copts = {};
	struct span_output out = {}, lines = {};
	struct view_out view = {};
	struct view_filter_sink filtered[SPAN_BUILDER_MAX_SINKS];
	enum view_mode mode;
	static struct pipeline pipe;
	struct pipeline_opts popts = {};
	static struct kube kube;
	struct capture *cap = NULL;
	struct traced_cgroups *traced = NULL;
	static uint64_t cgroup_ids[MAX_CGROUPS];
	struct zipkin_exporter *exporter = NULL;
	struct metrics_server *metrics = NULL;
	struct raw_dump *raw = NULL;
	struct sigaction sa = { .sa_handler = on_signal };
	uint64_t start_ns, last_sync_ns;
	size_t heap;
	struct report_mark mark = {};
	struct priority prio = {};
	struct poll_round round;
	char err[512];
	int ret = 1, r;

	r = options_parse(argc, argv, &opts);
	if (r)
		return r > 0 ? 0 : 2;
	/* Spans to a pipe or a file (see SPAN_OUTPUT_BUFFER_BYTES). Static:
	 * stdout is flushed once more after main returns. */
	static char stdout_buf[SPAN_OUTPUT_BUFFER_BYTES];
	if (!isatty(STDOUT_FILENO))
		setvbuf(stdout, stdout_buf, _IOFBF, sizeof(stdout_buf));
	/* No BPF, no privilege: a file of spans shown as trees. */
	if (opts.replay) {
		struct view_style style = { view_term_width(STDOUT_FILENO),
					    view_term_color(opts.color, STDOUT_FILENO) };

		return view_replay(opts.replay_path, &opts.filter, &style, stdout, stderr);
	}
	/* From the start: a stop asked for during the attach still ends with
	 * the report and exit 0. SA_RESTART: it must not fail the load. */
	sa.sa_flags = SA_RESTART;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (kube_start(&kube, &opts))
		goto cleanup;
	popts.service_name = opts.service_name;
	popts.meta = kube.meta;
	popts.redis_statement = opts.redis_statement;
	popts.ignore_sampling = opts.ignore_sampling;
	popts.memory_limit = (size_t)opts.memory_limit_mb << 20;
	popts.heap_now = heap_in_use;
	if (pipeline_init(&pipe, &popts, &stats)) {
		fprintf(stderr, "sockspan: out of memory\n");
		goto cleanup;
	}
	if (opts.raw) {
		raw = raw_dump_new(stdout, opts.raw_bytes);
		if (!raw) {
			fprintf(stderr, "sockspan: out of memory\n");
			goto cleanup;
		}
		pipe.raw = raw_event;
		pipe.raw_ctx = raw;
	}
	/* -o: JSON; stdout: a view, unless -o or a collector took the spans. */
	mode = stdout_view(&opts);
	if (opts.output && start_output(&out, opts.output, &pipe, &opts, &filtered[0]))
		goto cleanup;
	if (mode == VIEW_MODE_LINES && start_output(&lines, NULL, &pipe, &opts, &filtered[1]))
		goto cleanup;
	if (mode == VIEW_MODE_TREE && start_view(&view, &opts, &pipe)) {
		fprintf(stderr, "sockspan: out of memory\n");
		goto cleanup;
	}
	/* Before any other thread: libcurl's global set-up is not thread-safe. */
	if (opts.zipkin_url) {
		exporter = new_exporter(&opts);
		if (!exporter)
			goto cleanup;
		add_sink(&pipe, &opts, &filtered[2], export_span, exporter);
	}
	/* Bound now: a port below 1024 needs CAP_NET_BIND_SERVICE. */
	if (opts.metrics_addr) {
		metrics = metrics_server_new(opts.metrics_addr, exporter, err, sizeof(err));
		if (!metrics) {
			fprintf(stderr, "sockspan: %s\n", err);
			goto cleanup;
		}
	}
	clock_sync();

	if (start_traced(&traced, &opts, &kube))
		goto cleanup;
	copts.pids = opts.pids;
	copts.npids = opts.npids;
	if (traced) {
		copts.cgroups = cgroup_ids;
		copts.ncgroups = traced_cgroups_count(traced, clock_mono_now_ns(), cgroup_ids);
	}
	copts.max_payload = opts.max_payload;
	copts.ringbuf_bytes = opts.ringbuf_mb * 1024u * 1024u;
	copts.verbose = opts.verbose;
	copts.hooks = opts.hooks;
	cap = capture_new(&copts, pipeline_event, &pipe, err, sizeof(err));
	if (!cap) {
		fprintf(stderr, "sockspan: %s\n", err);
		goto cleanup;
	}
	conn_tracker_on_full_payload(pipe.tracker, on_full_payload, cap);
	/* Before the drop: raising RLIMIT_NICE may need CAP_SYS_RESOURCE. */
	if (priority_setup(&prio, (int)opts.nice, opts.nice_given, err, sizeof(err)))
		fprintf(stderr, "sockspan: parsing at normal priority: %s\n", err);
	if (drop_privileges(cap, prio.keep_cap ? PRIV_BIT(CAP_SYS_NICE) : 0) ||
	    start_threads(exporter, &kube, metrics))
		goto cleanup;
	priority_start(&prio);
	capture_on_behind(cap, priority_boost, &prio);
	if (metrics)
		metrics_server_set_capture(metrics, cap);
	/* Stopped during the attach: straight to the report. */
	if (!stop)
		say_ready(&opts, capture_hooks(cap));

	start_ns = last_sync_ns = mark.ns = clock_mono_now_ns();
	while (!stop) {
		uint64_t now;

		r = capture_poll(cap, POLL_MS, &round);
		priority_after_poll(&prio, &round);
		stats.reader_boosts = prio.boosts;
		if (r < 0 && r != -EINTR) {
			fprintf(stderr, "sockspan: ring buffer: %s\n", strerror(-r));
			goto cleanup;
		}
		/* Spans the tick releases (held for a join) are written and
		 * counted in this round, before the exporter can send them. */
		now = clock_mono_now_ns();
		pipeline_tick(&pipe, now);
		heap = heap_in_use();
		if (out.f)
			span_output_flush(&out);
		if (lines.f)
			span_output_flush(&lines);
		if (raw)
			fflush(stdout);
		if (view.store)
			view_out_tick(&view, now / 1000);
		/* New containers and pods' cgroups, pods the API added or deleted. */
		if (traced && traced_cgroups_due(traced, now))
			capture_set_cgroups(cap, cgroup_ids, traced_cgroups_count(traced, now, cgroup_ids));
		if (metrics)
			publish(metrics, cap, pipe.tracker, &stats, &kube, traced, heap);
		if (opts.stats_s > 0 && now - mark.ns >= (uint64_t)(opts.stats_s * 1e9))
			report_stats_line(&mark, now, cap, &stats, &view, exporter);
		if (opts.duration_s > 0 && now - start_ns >= (uint64_t)(opts.duration_s * 1e9))
			break;
		/* Each second: the clock. */
		if (now - last_sync_ns >= 1000000000ull) {
			clock_sync();
			/* What connections and exchanges freed goes back to the
			 * system after a burst, not kept by the allocator; not
			 * under steady load, whose freed memory is reused at once
			 * (trimming it would cost a page fault per page again). */
			if (heap_peak() > heap + TRIM_SLACK_BYTES) {
				malloc_trim(0);
				heap_peak_reset();
			}
			last_sync_ns = now;
		}
	}
	/* What the kernel captured before the stop still becomes spans, and
	 * those queued for the collector get until the flush deadline. */
	capture_drain(cap);
	pipeline_flush(&pipe);
	if (view.store)
		view_out_flush(&view);
	if (metrics) {
		publish(metrics, cap, pipe.tracker, &stats, &kube, traced, heap_in_use());
		metrics_server_set_capture(metrics, NULL);
	}
	if (exporter)
		zipkin_exporter_stop(exporter, (uint64_t)(opts.flush_timeout_s * 1e9));
	report_exit(cap, pipe.tracker, &stats);
	if (exporter)
		report_export(exporter);
	if (view.store)
		view_out_report(&view, stderr);
	ret = 0;
cleanup:
	metrics_server_stop(metrics);
	if (pipe.tracker)
		conn_tracker_on_full_payload(pipe.tracker, NULL, NULL);
	capture_free(cap);
	traced_cgroups_free(traced);
	zipkin_exporter_free(exporter);
	pipeline_free(&pipe);
	raw_dump_free(raw);
	kube_stop(&kube);
	span_output_close(&out);
	span_output_close(&lines);
	view_out_free(&view);
	return ret;
}
