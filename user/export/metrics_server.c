#include "export/metrics_server.h"

#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "capture/clock.h"
#include "export/metrics_guard.h"
#include "export/metrics_listen.h"

/* Scrapers and probes are few; more at once are refused, idle ones dropped,
 * slow ones cut (metrics_guard.h). One address holds a few at most: the
 * liveness probe comes from another one (the node's) than a pod flooding us. */
#define MAX_CLIENTS 16
#define MAX_CLIENTS_PER_IP 4
#define CLIENT_TIMEOUT_S 10
#define CONTENT_TYPE_METRICS "text/plain; version=0.0.4; charset=utf-8"

struct metrics_server {
	int listen_fd;              /* until the daemon takes it */
	struct MHD_Daemon *daemon;
	struct zipkin_exporter *exporter;
	pthread_mutex_t lock;       /* guards everything below */
	struct metrics_snapshot snap;
	const struct capture *cap;
	bool ready;                 /* probes attached, capture running */
	uint64_t kernel[SS_CNT__MAX]; /* last values read */
	struct metrics_guard guard;
};

static int conn_fd(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);

	return ci ? ci->connect_fd : -1;
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
			  enum MHD_ConnectionNotificationCode code)
{
	struct metrics_server *m = cls;
	int fd = conn_fd(c);

	(void)socket_context;
	if (fd < 0)
		return;
	if (code == MHD_CONNECTION_NOTIFY_STARTED)
		metrics_guard_open(&m->guard, fd, clock_mono_now_ns());
	else
		metrics_guard_close(&m->guard, fd);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct metrics_server *m = cls;
	int fd = conn_fd(c);

	(void)con_cls;
	(void)toe;
	if (fd >= 0)
		metrics_guard_done(&m->guard, fd, clock_mono_now_ns());
}

/* Counters that carry a protocol label (proto_id_name), by enum proto_id. */
static const struct {
	size_t parse_errors;  /* offsetof(struct sockspan_stats, ...) */
	size_t unmatched;
	size_t untracked;
} proto_counters[PROTO_COUNT] = {
	[PROTO_HTTP1] = { offsetof(struct sockspan_stats, http1_parse_errors),
			  offsetof(struct sockspan_stats, http1_unmatched),
			  offsetof(struct sockspan_stats, http1_pending_overflow) },
	[PROTO_HTTP2] = { offsetof(struct sockspan_stats, h2_frame_errors),
			  offsetof(struct sockspan_stats, h2_streams_unspanned),
			  offsetof(struct sockspan_stats, h2_streams_overflow) },
	[PROTO_REDIS] = { offsetof(struct sockspan_stats, redis_parse_errors),
			  offsetof(struct sockspan_stats, redis_unmatched),
			  offsetof(struct sockspan_stats, redis_pending_overflow) },
};

struct text {
	char *buf;
	size_t len, cap;
	bool oom;
};

__attribute__((format(printf, 2, 3))) static void put(struct text *t, const char *fmt, ...)
{
	va_list ap;
	char *p;
	int n;

	if (t->oom)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			t->oom = true;
			return;
		}
		if ((size_t)n < t->cap - t->len) {
			t->len += (size_t)n;
			return;
		}
		p = realloc(t->buf, t->cap * 2 + (size_t)n);
		if (!p) {
			t->oom = true;
			return;
		}
		t->buf = p;
		t->cap = t->cap * 2 + (size_t)n;
	}
}

static void family(struct text *t, const char *name, const char *type, const char *help)
{
	put(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void metric(struct text *t, const char *name, const char *type, const char *help, uint64_t v)
{
	family(t, name, type, help);
	put(t, "%s %llu\n", name, (unsigned long long)v);
}

static uint64_t field(const struct sockspan_stats *s, size_t off)
{
	uint64_t v;

	memcpy(&v, (const char *)s + off, sizeof(v));
	return v;
}

static void render_capture(struct text *t, const struct metrics_snapshot *s, const uint64_t *k)
{
	static const char *const dirs[2] = { "egress", "ingress" }; /* enum ss_dir */
	static const char *const kinds[2] = { "CLIENT", "SERVER" }; /* enum span_kind */

	metric(t, "sockspan_kernel_events_total", "counter", "Events the kernel wrote to the ring buffer.",
	       k[SS_CNT_EVENTS]);
	metric(t, "sockspan_ringbuf_lost_events_total", "counter",
	       "Events lost in the kernel because the ring buffer was full.", k[SS_CNT_RINGBUF_LOST]);
	metric(t, "sockspan_reader_wakeups_total", "counter",
	       "Times the kernel woke the reader because the ring buffer was a quarter full "
	       "(at most once a millisecond per CPU).", k[SS_CNT_WAKEUPS]);
	metric(t, "sockspan_truncated_payload_bytes_total", "counter",
	       "Payload bytes moved by traced syscalls but not copied (per-syscall cap, iovec bound).",
	       k[SS_CNT_TRUNCATED_BYTES]);
	metric(t, "sockspan_payload_copy_failures_total", "counter",
	       "Payload reads from user memory that faulted.", k[SS_CNT_COPY_FAILED]);
	metric(t, "sockspan_malformed_events_total", "counter", "Ring buffer samples too short to be events.",
	       s->malformed);
	metric(t, "sockspan_reader_boosts_total", "counter",
	       "Times the reader went from its low priority (--nice) back to sockspan's own to catch up "
	       "with the ring buffer (a quarter full).", s->stats.reader_boosts);
	metric(t, "sockspan_traced_cgroups", "gauge",
	       "Cgroups in the kernel's filter (--cgroup, selected pods); 0 when every cgroup is traced.",
	       s->cgroups_traced);

	family(t, "sockspan_captured_events_total", "counter",
	       "Data events handled, by protocol (none: not recognised) and direction (ingress: the traced "
	       "process read the bytes).");
	for (unsigned p = 0; p <= PROTO_NONE; p++)
		for (int d = 0; d < 2; d++)
			put(t, "sockspan_captured_events_total{protocol=\"%s\",direction=\"%s\"} %llu\n",
			    proto_id_name(p), dirs[d], (unsigned long long)s->stats.proto_events[p][d]);
	family(t, "sockspan_captured_bytes_total", "counter",
	       "Bytes the traced syscalls moved, by protocol and direction.");
	for (unsigned p = 0; p <= PROTO_NONE; p++)
		for (int d = 0; d < 2; d++)
			put(t, "sockspan_captured_bytes_total{protocol=\"%s\",direction=\"%s\"} %llu\n",
			    proto_id_name(p), dirs[d], (unsigned long long)s->stats.proto_bytes[p][d]);

	metric(t, "sockspan_connections", "gauge", "Connections tracked now.", s->conns_tracked);
	metric(t, "sockspan_connections_opened_total", "counter", "Connections tracked since start.",
	       s->stats.conns_opened);
	metric(t, "sockspan_connections_evicted_total", "counter",
	       "Connections forgotten because the table was full.", s->stats.conns_evicted);
	metric(t, "sockspan_connections_expired_total", "counter", "Connections forgotten after being idle.",
	       s->stats.conns_expired);
	metric(t, "sockspan_connections_shed_total", "counter",
	       "Connections forgotten, those holding the most memory first, to stay within --memory-limit.",
	       s->stats.conns_shed);
	metric(t, "sockspan_heap_bytes", "gauge", "Heap memory in use (malloc's count), held to --memory-limit.",
	       s->heap_bytes);
	metric(t, "sockspan_stream_gap_bytes_total", "counter", "Stream bytes lost with events.",
	       s->stats.stream_gaps);
	metric(t, "sockspan_stream_resyncs_total", "counter",
	       "Times a parser lost its place and looked for the next message.", s->stats.stream_resyncs);
	metric(t, "sockspan_stream_overflows_total", "counter",
	       "Times a stream buffered too many bytes and dropped them.", s->stats.stream_overflows);
	metric(t, "sockspan_unknown_protocol_connections_total", "counter",
	       "Connections whose bytes matched no protocol.", s->stats.proto_unknown);

	family(t, "sockspan_parse_errors_total", "counter", "Malformed messages, by protocol.");
	for (unsigned i = 0; i < PROTO_COUNT; i++)
		put(t, "sockspan_parse_errors_total{protocol=\"%s\"} %llu\n", proto_id_name(i),
		    (unsigned long long)field(&s->stats, proto_counters[i].parse_errors));
	family(t, "sockspan_unmatched_messages_total", "counter",
	       "Requests never answered or responses with no request, by protocol.");
	for (unsigned i = 0; i < PROTO_COUNT; i++)
		put(t, "sockspan_unmatched_messages_total{protocol=\"%s\"} %llu\n", proto_id_name(i),
		    (unsigned long long)field(&s->stats, proto_counters[i].unmatched));
	family(t, "sockspan_requests_untracked_total", "counter",
	       "Requests given no exchange: too many outstanding on one connection (HTTP/1 pipelined, "
	       "HTTP/2 open streams, Redis pipelined), by protocol.");
	for (unsigned i = 0; i < PROTO_COUNT; i++)
		put(t, "sockspan_requests_untracked_total{protocol=\"%s\"} %llu\n", proto_id_name(i),
		    (unsigned long long)field(&s->stats, proto_counters[i].untracked));

	family(t, "sockspan_spans_total", "counter", "Spans produced, by protocol and kind.");
	for (unsigned p = 0; p <= PROTO_NONE; p++)
		for (int i = 0; i < 2; i++)
			put(t, "sockspan_spans_total{protocol=\"%s\",kind=\"%s\"} %llu\n", proto_id_name(p),
			    kinds[i], (unsigned long long)s->stats.proto_spans[p][i]);
}

/* Spans not made (correlation) or not delivered (export; e NULL without a collector). */
static void render_dropped(struct text *t, const struct sockspan_stats *s, const struct zipkin_exporter_stats *e)
{
	family(t, "sockspan_spans_dropped_total", "counter", "Spans not made or not delivered, by reason.");
	put(t, "sockspan_spans_dropped_total{reason=\"not_sampled\"} %llu\n",
	    (unsigned long long)s->spans_not_sampled);
	put(t, "sockspan_spans_dropped_total{reason=\"untracked\"} %llu\n",
	    (unsigned long long)s->exchanges_untracked);
	if (!e)
		return;
	put(t, "sockspan_spans_dropped_total{reason=\"queue_full\"} %llu\n",
	    (unsigned long long)e->queue.dropped_full);
	put(t, "sockspan_spans_dropped_total{reason=\"retries_exhausted\"} %llu\n",
	    (unsigned long long)e->dropped_retries);
	put(t, "sockspan_spans_dropped_total{reason=\"rejected\"} %llu\n", (unsigned long long)e->dropped_rejected);
	put(t, "sockspan_spans_dropped_total{reason=\"shutdown\"} %llu\n", (unsigned long long)e->dropped_shutdown);
	put(t, "sockspan_spans_dropped_total{reason=\"encoding\"} %llu\n", (unsigned long long)e->dropped_encoding);
}

static void render_k8s(struct text *t, const struct metrics_k8s *k)
{
	metric(t, "sockspan_k8s_pods", "gauge", "Pods of this node known from the Kubernetes API.", k->pods);
	metric(t, "sockspan_k8s_services", "gauge", "Services known from the Kubernetes API.", k->services);
	metric(t, "sockspan_k8s_watch_restarts_total", "counter",
	       "Kubernetes API watches started again after one ended or broke.", k->watch_restarts);
	metric(t, "sockspan_k8s_relists_total", "counter",
	       "Kubernetes API lists made again (410 Gone, overlong line, broken stream).", k->relists);
	metric(t, "sockspan_k8s_api_errors_total", "counter",
	       "Kubernetes API requests that failed (connection, TLS, HTTP status, undecodable answer).",
	       k->api_errors);
	family(t, "sockspan_k8s_objects_dropped_total", "counter", "Kubernetes objects not kept, by reason.");
	put(t, "sockspan_k8s_objects_dropped_total{reason=\"rejected\"} %llu\n", (unsigned long long)k->rejected);
	put(t, "sockspan_k8s_objects_dropped_total{reason=\"store_full\"} %llu\n", (unsigned long long)k->store_full);
	put(t, "sockspan_k8s_objects_dropped_total{reason=\"line_too_long\"} %llu\n",
	    (unsigned long long)k->line_too_long);
	metric(t, "sockspan_k8s_pods_selected", "gauge",
	       "Pods of this node that --namespace, --pod, --selector and --exclude-namespace select.",
	       k->pods_selected);
	metric(t, "sockspan_k8s_pods_traced", "gauge", "Selected pods whose cgroups are in the kernel's filter.",
	       k->pods_traced);
	family(t, "sockspan_cgroup_walks_seconds", "summary",
	       "Walks of the cgroup v2 tree to name cgroups (once, then on an unknown cgroup, at most once a second).");
	put(t, "sockspan_cgroup_walks_seconds_sum %.6f\n", (double)k->cgroup_walk_ns / 1e9);
	put(t, "sockspan_cgroup_walks_seconds_count %llu\n", (unsigned long long)k->cgroup_walks);
	metric(t, "sockspan_cgroups_indexed", "gauge", "Cgroups the last walk found and can name.",
	       k->cgroups_indexed);
	metric(t, "sockspan_cgroups_unindexed", "gauge",
	       "Cgroups the last walk left out (more than 16384, or a path longer than PATH_MAX): not named.",
	       k->cgroups_unindexed);
}

static void render_trace(struct text *t, const struct sockspan_stats *s)
{
	static const char *const reasons[TC_INVALID__COUNT] = {
		[TC_INVALID_LENGTH] = "length", [TC_INVALID_HEX] = "hex", [TC_INVALID_ZERO] = "zero",
		[TC_INVALID_FORMAT] = "format", [TC_INVALID_CONFLICT] = "conflict",
	};

	family(t, "sockspan_trace_context_invalid_total", "counter",
	       "Trace-context header values ignored, by reason.");
	for (int i = 0; i < TC_INVALID__COUNT; i++)
		put(t, "sockspan_trace_context_invalid_total{reason=\"%s\"} %llu\n", reasons[i],
		    (unsigned long long)s->trace_context_invalid[i]);
	metric(t, "sockspan_unattributed_spans_total", "counter",
	       "CLIENT spans that more than one request in flight in their process could have caused: "
	       "not attributed, they start their own trace.", s->spans_unattributed);
	metric(t, "sockspan_trace_joins_total", "counter",
	       "SERVER spans put in the trace of the CLIENT span this agent saw at the other end.",
	       s->trace_joins);
	metric(t, "sockspan_join_waits_cut_total", "counter",
	       "Traces whose spans stopped waiting for the CLIENT end early to make room in the table of "
	       "exchanges in flight: they went out in their own trace.",
	       s->join_waits_cut);
	metric(t, "sockspan_join_waits_skipped_total", "counter",
	       "SERVER spans without trace context sent without waiting for their CLIENT end: no CLIENT "
	       "end came from that address to that process lately.",
	       s->join_waits_skipped);
}

static void render_export(struct text *t, const struct zipkin_exporter_stats *e)
{
	static const double bounds[ZIPKIN_NUM_LATENCY_BUCKETS] = ZIPKIN_LATENCY_BUCKETS;
	static const char *const failures[ZIPKIN_FAIL__MAX] = { "connection_error", "timeout", "tls_error",
								"error" };
	uint64_t cumulative = 0;

	metric(t, "sockspan_export_spans_total", "counter", "Spans the collector accepted.", e->spans_sent);
	family(t, "sockspan_export_batches_total", "counter", "Batches delivered or given up.");
	put(t, "sockspan_export_batches_total{result=\"sent\"} %llu\n", (unsigned long long)e->batches_sent);
	put(t, "sockspan_export_batches_total{result=\"dropped\"} %llu\n", (unsigned long long)e->batches_dropped);

	family(t, "sockspan_export_requests_total", "counter",
	       "POSTs to the collector, by HTTP status or by why there was none.");
	for (int st = 1; st < ZIPKIN_STATUS_MAX; st++)
		if (e->requests_by_status[st])
			put(t, "sockspan_export_requests_total{status=\"%d\"} %llu\n", st,
			    (unsigned long long)e->requests_by_status[st]);
	if (e->requests_by_status[0])
		put(t, "sockspan_export_requests_total{status=\"other\"} %llu\n",
		    (unsigned long long)e->requests_by_status[0]);
	for (int f = 0; f < ZIPKIN_FAIL__MAX; f++)
		put(t, "sockspan_export_requests_total{status=\"%s\"} %llu\n", failures[f],
		    (unsigned long long)e->requests_failed[f]);

	family(t, "sockspan_export_request_duration_seconds", "histogram",
	       "Time of each POST to the collector, answered or not.");
	for (int i = 0; i < ZIPKIN_NUM_LATENCY_BUCKETS; i++) {
		cumulative += e->latency_buckets[i];
		put(t, "sockspan_export_request_duration_seconds_bucket{le=\"%g\"} %llu\n", bounds[i],
		    (unsigned long long)cumulative);
	}
	put(t, "sockspan_export_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n",
	    (unsigned long long)e->latency_count);
	put(t, "sockspan_export_request_duration_seconds_sum %.6f\n", e->latency_sum_s);
	put(t, "sockspan_export_request_duration_seconds_count %llu\n", (unsigned long long)e->latency_count);

	metric(t, "sockspan_export_queue_spans", "gauge", "Spans waiting in the export queue or in flight.",
	       e->queue.spans);
	metric(t, "sockspan_export_queue_bytes", "gauge", "Export queue bytes in use.", e->queue.bytes);
	metric(t, "sockspan_export_queue_capacity_spans", "gauge", "Spans the export queue holds at most.",
	       e->queue.max_spans);
	metric(t, "sockspan_export_queue_capacity_bytes", "gauge", "Bytes the export queue holds at most.",
	       e->queue.max_bytes);
	metric(t, "sockspan_export_encoded_bytes_total", "counter",
	       "Encoded batch bytes before compression, every attempt.", e->bytes_encoded);
	metric(t, "sockspan_export_sent_bytes_total", "counter",
	       "Request bytes sent to the collector (headers and body), every attempt.", e->bytes_sent);
}

/* The body of /metrics, malloc'd; NULL on ENOMEM. */
static char *render(struct metrics_server *m, size_t *len)
{
	struct text t = { .cap = 16384 };
	struct metrics_snapshot snap;
	struct zipkin_exporter_stats ex;
	uint64_t k[SS_CNT__MAX], cut;

	pthread_mutex_lock(&m->lock);
	if (m->cap)
		capture_counters(m->cap, m->kernel);
	memcpy(k, m->kernel, sizeof(k));
	snap = m->snap;
	pthread_mutex_unlock(&m->lock);
	pthread_mutex_lock(&m->guard.lock);
	cut = m->guard.cut;
	pthread_mutex_unlock(&m->guard.lock);

	t.buf = malloc(t.cap);
	if (!t.buf)
		return NULL;
	render_capture(&t, &snap, k);
	render_trace(&t, &snap.stats);
	render_k8s(&t, &snap.k8s);
	if (m->exporter)
		zipkin_exporter_stats(m->exporter, &ex);
	render_dropped(&t, &snap.stats, m->exporter ? &ex : NULL);
	if (m->exporter)
		render_export(&t, &ex);
	metric(&t, "sockspan_metrics_connections_cut_total", "counter",
	       "Connections to this server shut down for not completing a request in time.", cut);
	if (t.oom) {
		free(t.buf);
		return NULL;
	}
	*len = t.len;
	return t.buf;
}

/* Why the agent is not ready, or NULL when it is. */
static const char *not_ready(struct metrics_server *m)
{
	bool ready;

	pthread_mutex_lock(&m->lock);
	ready = m->ready;
	pthread_mutex_unlock(&m->lock);
	if (!ready)
		return "capture is not running\n";
	if (m->exporter) {
		struct zipkin_exporter_stats ex;

		zipkin_exporter_stats(m->exporter, &ex);
		if (!ex.reachable)
			return "the collector did not accept the last export\n";
	}
	return NULL;
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *type, char *body,
			     size_t len, enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, mode);
	enum MHD_Result ret;

	if (!r) {
		if (mode == MHD_RESPMEM_MUST_FREE)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result text_reply(struct MHD_Connection *conn, unsigned status, const char *msg)
{
	return reply(conn, status, "text/plain; charset=utf-8", (char *)msg, strlen(msg),
		     MHD_RESPMEM_PERSISTENT);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
			      const char *version, const char *upload_data, size_t *upload_data_size,
			      void **req_ctx)
{
	struct metrics_server *m = cls;
	const char *why;

	(void)version;
	(void)upload_data;
	(void)upload_data_size;
	(void)req_ctx;
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return text_reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET and HEAD\n");
	if (strcmp(url, "/metrics") == 0) {
		size_t len = 0;
		char *body = render(m, &len);

		if (!body)
			return text_reply(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
		return reply(conn, MHD_HTTP_OK, CONTENT_TYPE_METRICS, body, len, MHD_RESPMEM_MUST_FREE);
	}
	if (strcmp(url, "/healthz") == 0)
		return text_reply(conn, MHD_HTTP_OK, "ok\n");
	if (strcmp(url, "/readyz") == 0) {
		why = not_ready(m);
		return why ? text_reply(conn, MHD_HTTP_SERVICE_UNAVAILABLE, why) : text_reply(conn, MHD_HTTP_OK, "ready\n");
	}
	return text_reply(conn, MHD_HTTP_NOT_FOUND, "not found: try /metrics, /healthz or /readyz\n");
}

struct metrics_server *metrics_server_new(const char *addr, struct zipkin_exporter *exporter, char *err, size_t cap)
{
	struct metrics_server *m = calloc(1, sizeof(*m));

	if (!m) {
		snprintf(err, cap, "out of memory");
		return NULL;
	}
	m->listen_fd = metrics_listen(addr, err, cap);
	if (m->listen_fd < 0) {
		free(m);
		return NULL;
	}
	pthread_mutex_init(&m->lock, NULL);
	metrics_guard_init(&m->guard);
	m->exporter = exporter;
	return m;
}

int metrics_server_start(struct metrics_server *m, char *err, size_t cap)
{
	sigset_t all, old;

	/* Signals are for the main thread: it decides when to stop. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	m->daemon = MHD_start_daemon(MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL, handle, m,
				     MHD_OPTION_LISTEN_SOCKET, m->listen_fd,
				     MHD_OPTION_CONNECTION_LIMIT, (unsigned)MAX_CLIENTS,
				     MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)MAX_CLIENTS_PER_IP,
				     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CLIENT_TIMEOUT_S,
				     MHD_OPTION_NOTIFY_CONNECTION, on_connection, m,
				     MHD_OPTION_NOTIFY_COMPLETED, on_completed, m, MHD_OPTION_END);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!m->daemon) {
		snprintf(err, cap, "cannot start the metrics server");
		return -1;
	}
	/* The daemon closes it when it stops. */
	m->listen_fd = -1;
	return 0;
}

void metrics_server_publish(struct metrics_server *m, const struct metrics_snapshot *snap)
{
	pthread_mutex_lock(&m->lock);
	m->snap = *snap;
	pthread_mutex_unlock(&m->lock);
	metrics_guard_sweep(&m->guard, clock_mono_now_ns(), CLIENT_TIMEOUT_S * 1000000000ull);
}

void metrics_server_set_capture(struct metrics_server *m, const struct capture *c)
{
	pthread_mutex_lock(&m->lock);
	if (m->cap && !c)
		capture_counters(m->cap, m->kernel);
	m->cap = c;
	m->ready = c != NULL;
	pthread_mutex_unlock(&m->lock);
}

void metrics_server_stop(struct metrics_server *m)
{
	if (!m)
		return;
	if (m->daemon)
		MHD_stop_daemon(m->daemon);
	if (m->listen_fd >= 0)
		close(m->listen_fd);
	metrics_guard_destroy(&m->guard);
	pthread_mutex_destroy(&m->lock);
	free(m);
}
