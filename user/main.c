/* sockspan: distributed-tracing spans from socket traffic, captured in the
 * kernel with eBPF, without sidecars or code changes.
 *
 * Fixed order: parse options, load and attach the capture, poll the ring
 * buffer until told to stop, drain it, report, clean up. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <linux/magic.h>

#include "capture/capture.h"
#include "capture/clock.h"
#include "conn/conn_tracker.h"
#include "export/metrics_server.h"
#include "export/span_output.h"
#include "export/zipkin_exporter.h"
#include "session/exchange.h"
#include "session/protocols.h"
#include "stats.h"
#include "trace/tracer.h"

#define SOCKSPAN_VERSION "0.1.0"
/* --pid may be given this many times (the kernel filter map holds 1024). */
#define MAX_PIDS 1024
/* --cgroup may be given this many times (the kernel filter map holds 4096). */
#define MAX_CGROUPS 4096
/* Connections tracked at once; beyond it the least recently active is evicted. */
#define MAX_CONNS 65536
/* Exchanges in flight at once: H2_MAX_STREAMS or REDIS_MAX_PENDING per
 * connection at most, far fewer in practice. */
#define MAX_EXCHANGES (1u << 20)
/* A connection with no traffic for this long is forgotten (its role stays in
 * the kernel's map, so it is picked up again if it wakes). */
#define CONN_IDLE_NS (300ull * 1000000000)
#define RINGBUF_DEFAULT_MB 32
#define POLL_MS 100
/* --zipkin-header may be given this many times. */
#define MAX_ZIPKIN_HEADERS 32
/* Zipkin's own reporters send at 500 KiB or after 1 s, whichever comes first. */
#define BATCH_BYTES_DEFAULT (500 * 1024)
#define BATCH_INTERVAL_DEFAULT_S 1.0
/* Both bounds meet at ~330 bytes a span; a packed HTTP span is ~180. */
#define QUEUE_SPANS_DEFAULT 100000
#define QUEUE_BYTES_DEFAULT (32u * 1024 * 1024)
#define FLUSH_TIMEOUT_DEFAULT_S 5.0
/* Long enough to ride out a collector restart of a minute or two. */
#define RETRY_TIMEOUT_DEFAULT_S 120.0


static volatile sig_atomic_t stop;

struct options {
	uint32_t pids[MAX_PIDS];
	size_t npids;
	uint64_t cgroups[MAX_CGROUPS];
	size_t ncgroups;
	const char *output;
	const char *service_name;
	double duration_s;
	uint32_t max_payload;
	uint32_t ringbuf_mb;
	bool verbose;
	const char *zipkin_url;
	const char *zipkin_headers[MAX_ZIPKIN_HEADERS];
	size_t nzipkin_headers;
	const char *zipkin_ca;
	enum zipkin_encoding encoding;
	bool no_compress;
	uint32_t batch_bytes;
	double batch_interval_s;
	uint32_t queue_spans;
	uint32_t queue_bytes;
	double flush_timeout_s;
	double retry_timeout_s;
	const char *metrics_addr;
	bool redis_statement;
	bool ignore_sampling;
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: sockspan [OPTIONS]\n"
		"Trace HTTP/1.x, HTTP/2, gRPC and Redis requests of the processes on this node\n"
		"from their socket reads and writes (eBPF), and print one span per\n"
		"request/response, or send them to a Zipkin collector.\n"
		"\n"
		"  -p, --pid PID            trace only this process (repeatable)\n"
		"  -c, --cgroup DIR         trace only processes in this cgroup v2 directory,\n"
		"                           e.g. a pod's (repeatable; combines with --pid)\n"
		"  -o, --output FILE        write Zipkin v2 JSON, one span per line ('-': stdout);\n"
		"                           default: one readable line per span on stdout\n"
		"  -s, --service-name NAME  serviceName of every span (default: the process name)\n"
		"  -d, --duration SECONDS   stop after that long\n"
		"      --max-payload BYTES  payload bytes captured per syscall (1-%d, default %d)\n"
		"      --ringbuf-mb MB      kernel ring buffer size, a power of two (default %d)\n"
		"      --redis-statement    tag Redis spans with db.statement: the command, arguments as '?'\n"
		"      --ignore-sampling    also make the spans of requests marked not sampled\n"
		"                           (x-b3-sampled: 0, b3: 0, traceparent flags 00)\n"
		"  -v, --verbose            show libbpf's messages (the verifier's log on failure)\n"
		"  -h, --help               this help\n"
		"  -V, --version            print the version\n"
		"\n"
		"Export to Zipkin (spans then go only there, unless -o is given too):\n"
		"  -z, --zipkin URL         POST spans to this Zipkin v2 endpoint, e.g.\n"
		"                           http://zipkin:9411/api/v2/spans (env: SOCKSPAN_ZIPKIN_URL)\n"
		"      --zipkin-header 'NAME: VALUE'  extra request header, e.g. auth (repeatable)\n"
		"      --zipkin-ca FILE     trust the CAs in this PEM file for https (default: the system's)\n"
		"      --zipkin-encoding json|proto3  body format (default json)\n"
		"      --no-compress        send bodies without gzip\n"
		"      --batch-bytes BYTES  send a batch before it grows past this (default %d)\n"
		"      --batch-interval SECONDS  or once its first span is this old (default %g)\n"
		"      --queue-spans N      spans waiting for export at most (default %d);\n"
		"      --queue-bytes BYTES  and bytes (default %u); beyond them new spans are dropped\n"
		"      --retry-timeout SECONDS  retry a failing batch this long, then drop it (default %g)\n"
		"      --flush-timeout SECONDS  time to send what is queued on exit (default %g)\n"
		"\n"
		"      --metrics ADDR       serve /metrics (Prometheus), /healthz and /readyz on ADDR:\n"
		"                           :PORT, HOST:PORT or [IPV6]:PORT, e.g. :9464\n"
		"\n"
		"Runs as root. Diagnostics go to stderr; a line containing 'ready' says capture started.\n"
		"\n"
		"Examples:\n"
		"  sockspan                          # every process on this node\n"
		"  sockspan --pid 1234 -o -          # one process, Zipkin JSON on stdout\n"
		"  sockspan -p 1234 -p 5678 -d 60 -o spans.json\n"
		"  sockspan --zipkin http://127.0.0.1:9411/api/v2/spans --metrics :9464\n",
		SS_PAYLOAD_MAX, SS_PAYLOAD_DEFAULT, RINGBUF_DEFAULT_MB, BATCH_BYTES_DEFAULT,
		BATCH_INTERVAL_DEFAULT_S, QUEUE_SPANS_DEFAULT, QUEUE_BYTES_DEFAULT, RETRY_TIMEOUT_DEFAULT_S,
		FLUSH_TIMEOUT_DEFAULT_S);
}

static int parse_u32(const char *s, const char *what, uint32_t min, uint32_t max, uint32_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v < min || v > max) {
		fprintf(stderr, "sockspan: invalid %s '%s' (expected %u..%u)\n", what, s, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

static int parse_seconds(const char *s, const char *what, double min, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	if (errno || end == s || *end || !(*out >= min) || *out > 86400) {
		fprintf(stderr, "sockspan: invalid %s '%s' (expected seconds, %g..86400)\n", what, s, min);
		return -1;
	}
	return 0;
}

static int add_pid(struct options *o, const char *arg)
{
	uint32_t pid;

	if (parse_u32(arg, "pid", 1, 0x7fffffff, &pid))
		return -1;
	if (kill(pid, 0) != 0 && errno == ESRCH) {
		fprintf(stderr, "sockspan: no process with pid %u\n", pid);
		return -1;
	}
	if (o->npids == MAX_PIDS) {
		fprintf(stderr, "sockspan: at most %d --pid options\n", MAX_PIDS);
		return -1;
	}
	o->pids[o->npids++] = pid;
	return 0;
}

/* A cgroup v2 directory's id is its inode number: what bpf_get_current_cgroup_id() returns. */
static int add_cgroup(struct options *o, const char *path)
{
	struct statfs fs;
	struct stat st;

	if (statfs(path, &fs) != 0 || stat(path, &st) != 0) {
		fprintf(stderr, "sockspan: cgroup %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (fs.f_type != CGROUP2_SUPER_MAGIC || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "sockspan: %s is not a cgroup v2 directory\n", path);
		return -1;
	}
	if (o->ncgroups == MAX_CGROUPS) {
		fprintf(stderr, "sockspan: at most %d --cgroup options\n", MAX_CGROUPS);
		return -1;
	}
	o->cgroups[o->ncgroups++] = st.st_ino;
	return 0;
}

/* Returns 0 to go on, 1 to exit successfully (--help), -1 on a bad option. */
static int parse_options(int argc, char **argv, struct options *o)
{
	enum {
		OPT_MAX_PAYLOAD = 256, OPT_RINGBUF_MB, OPT_ZIPKIN_HEADER, OPT_ZIPKIN_ENCODING, OPT_NO_COMPRESS,
		OPT_BATCH_BYTES, OPT_BATCH_INTERVAL, OPT_QUEUE_SPANS, OPT_QUEUE_BYTES, OPT_RETRY_TIMEOUT,
		OPT_FLUSH_TIMEOUT, OPT_METRICS, OPT_REDIS_STATEMENT, OPT_ZIPKIN_CA, OPT_IGNORE_SAMPLING,
	};
	static const struct option longopts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "cgroup", required_argument, NULL, 'c' },
		{ "output", required_argument, NULL, 'o' },
		{ "service-name", required_argument, NULL, 's' },
		{ "duration", required_argument, NULL, 'd' },
		{ "max-payload", required_argument, NULL, OPT_MAX_PAYLOAD },
		{ "ringbuf-mb", required_argument, NULL, OPT_RINGBUF_MB },
		{ "verbose", no_argument, NULL, 'v' },
		{ "zipkin", required_argument, NULL, 'z' },
		{ "zipkin-header", required_argument, NULL, OPT_ZIPKIN_HEADER },
		{ "zipkin-ca", required_argument, NULL, OPT_ZIPKIN_CA },
		{ "zipkin-encoding", required_argument, NULL, OPT_ZIPKIN_ENCODING },
		{ "no-compress", no_argument, NULL, OPT_NO_COMPRESS },
		{ "batch-bytes", required_argument, NULL, OPT_BATCH_BYTES },
		{ "batch-interval", required_argument, NULL, OPT_BATCH_INTERVAL },
		{ "queue-spans", required_argument, NULL, OPT_QUEUE_SPANS },
		{ "queue-bytes", required_argument, NULL, OPT_QUEUE_BYTES },
		{ "retry-timeout", required_argument, NULL, OPT_RETRY_TIMEOUT },
		{ "flush-timeout", required_argument, NULL, OPT_FLUSH_TIMEOUT },
		{ "metrics", required_argument, NULL, OPT_METRICS },
		{ "redis-statement", no_argument, NULL, OPT_REDIS_STATEMENT },
		{ "ignore-sampling", no_argument, NULL, OPT_IGNORE_SAMPLING },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	int opt;
	char *end;

	o->max_payload = SS_PAYLOAD_DEFAULT;
	o->ringbuf_mb = RINGBUF_DEFAULT_MB;
	o->zipkin_url = getenv("SOCKSPAN_ZIPKIN_URL");
	if (o->zipkin_url && !*o->zipkin_url)
		o->zipkin_url = NULL;
	o->batch_bytes = BATCH_BYTES_DEFAULT;
	o->batch_interval_s = BATCH_INTERVAL_DEFAULT_S;
	o->queue_spans = QUEUE_SPANS_DEFAULT;
	o->queue_bytes = QUEUE_BYTES_DEFAULT;
	o->retry_timeout_s = RETRY_TIMEOUT_DEFAULT_S;
	o->flush_timeout_s = FLUSH_TIMEOUT_DEFAULT_S;
	while ((opt = getopt_long(argc, argv, "p:c:o:s:d:z:vhV", longopts, NULL)) != -1) {
		switch (opt) {
		case 'p':
			if (add_pid(o, optarg))
				return -1;
			break;
		case 'c':
			if (add_cgroup(o, optarg))
				return -1;
			break;
		case 'o':
			o->output = optarg;
			break;
		case 's':
			if (!*optarg) {
				fprintf(stderr, "sockspan: empty --service-name\n");
				return -1;
			}
			o->service_name = optarg;
			break;
		case 'd':
			errno = 0;
			o->duration_s = strtod(optarg, &end);
			if (errno || end == optarg || *end || !(o->duration_s > 0)) {
				fprintf(stderr, "sockspan: invalid duration '%s' (expected seconds > 0)\n", optarg);
				return -1;
			}
			break;
		case OPT_MAX_PAYLOAD:
			if (parse_u32(optarg, "--max-payload", 1, SS_PAYLOAD_MAX, &o->max_payload))
				return -1;
			break;
		case OPT_RINGBUF_MB:
			if (parse_u32(optarg, "--ringbuf-mb", 1, 4096, &o->ringbuf_mb))
				return -1;
			if (o->ringbuf_mb & (o->ringbuf_mb - 1)) {
				fprintf(stderr, "sockspan: --ringbuf-mb must be a power of two\n");
				return -1;
			}
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'z':
			o->zipkin_url = optarg;
			break;
		case OPT_ZIPKIN_HEADER:
			if (o->nzipkin_headers == MAX_ZIPKIN_HEADERS) {
				fprintf(stderr, "sockspan: at most %d --zipkin-header options\n", MAX_ZIPKIN_HEADERS);
				return -1;
			}
			o->zipkin_headers[o->nzipkin_headers++] = optarg;
			break;
		case OPT_ZIPKIN_CA:
			if (access(optarg, R_OK) != 0) {
				fprintf(stderr, "sockspan: --zipkin-ca %s: %s\n", optarg, strerror(errno));
				return -1;
			}
			o->zipkin_ca = optarg;
			break;
		case OPT_ZIPKIN_ENCODING:
			if (strcmp(optarg, "json") == 0) {
				o->encoding = ZIPKIN_JSON;
			} else if (strcmp(optarg, "proto3") == 0) {
				o->encoding = ZIPKIN_PROTO3;
			} else {
				fprintf(stderr, "sockspan: invalid --zipkin-encoding '%s' (expected json or proto3)\n",
					optarg);
				return -1;
			}
			break;
		case OPT_NO_COMPRESS:
			o->no_compress = true;
			break;
		case OPT_BATCH_BYTES:
			if (parse_u32(optarg, "--batch-bytes", 1024, 64u << 20, &o->batch_bytes))
				return -1;
			break;
		case OPT_BATCH_INTERVAL:
			if (parse_seconds(optarg, "--batch-interval", 0.001, &o->batch_interval_s))
				return -1;
			break;
		case OPT_QUEUE_SPANS:
			if (parse_u32(optarg, "--queue-spans", 1, 10000000, &o->queue_spans))
				return -1;
			break;
		case OPT_QUEUE_BYTES:
			if (parse_u32(optarg, "--queue-bytes", EXPORT_QUEUE_MIN_BYTES, 1u << 31, &o->queue_bytes))
				return -1;
			break;
		case OPT_RETRY_TIMEOUT:
			if (parse_seconds(optarg, "--retry-timeout", 0, &o->retry_timeout_s))
				return -1;
			break;
		case OPT_FLUSH_TIMEOUT:
			if (parse_seconds(optarg, "--flush-timeout", 0, &o->flush_timeout_s))
				return -1;
			break;
		case OPT_METRICS:
			o->metrics_addr = optarg;
			break;
		case OPT_REDIS_STATEMENT:
			o->redis_statement = true;
			break;
		case OPT_IGNORE_SAMPLING:
			o->ignore_sampling = true;
			break;
		case 'h':
			usage(stdout);
			return 1;
		case 'V':
			printf("sockspan %s\n", SOCKSPAN_VERSION);
			return 1;
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "sockspan: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	return 0;
}

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void on_full_payload(void *ctx, uint64_t sock_ino)
{
	capture_full_payload(ctx, sock_ino);
}

static void on_event(void *ctx, const struct ss_event *ev, const uint8_t *payload)
{
	conn_tracker_event(ctx, ev, payload);
}

static void export_span(void *ctx, const struct span *s)
{
	zipkin_exporter_enqueue(ctx, s);
}

static struct zipkin_exporter *start_exporter(const struct options *o)
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

static void publish(struct metrics_server *m, const struct capture *cap, const struct conn_tracker *tracker,
		    const struct sockspan_stats *stats)
{
	struct metrics_snapshot snap = {
		.stats = *stats,
		.conns_tracked = conn_tracker_count(tracker),
		.malformed = capture_malformed(cap),
	};

	metrics_server_publish(m, &snap);
}

static void report_export(struct zipkin_exporter *e)
{
	struct zipkin_exporter_stats st;

	zipkin_exporter_stats(e, &st);
	fprintf(stderr,
		"sockspan: export: %llu spans sent in %llu batches; dropped: %llu queue full, "
		"%llu retries exhausted, %llu rejected, %llu at shutdown, %llu unencodable\n",
		(unsigned long long)st.spans_sent, (unsigned long long)st.batches_sent,
		(unsigned long long)st.queue.dropped_full, (unsigned long long)st.dropped_retries,
		(unsigned long long)st.dropped_rejected, (unsigned long long)st.dropped_shutdown,
		(unsigned long long)st.dropped_encoding);
}

static void report(const struct capture *cap, const struct conn_tracker *tracker,
		   const struct sockspan_stats *stats)
{
	uint64_t k[SS_CNT__MAX], invalid = 0;

	for (int i = 0; i < TC_INVALID__COUNT; i++)
		invalid += stats->trace_context_invalid[i];
	capture_counters(cap, k);
	fprintf(stderr,
		"sockspan: %llu spans; events: %llu captured, %llu lost (ring buffer full), %llu malformed; "
		"%llu payload bytes truncated; connections: %llu seen, %zu open, %llu evicted; "
		"streams: %llu bytes missing, %llu resyncs, %llu unknown protocol; "
		"http1: %llu parse errors, %llu unmatched; "
		"h2: %llu frame errors, %llu hpack errors, %llu streams unspanned, %llu streams untracked; "
		"redis: %llu parse errors, %llu unmatched, %llu pushes; "
		"traces: %llu joined, %llu unattributed, %llu not sampled, %llu untracked, "
		"%llu invalid trace headers\n",
		(unsigned long long)stats->spans, (unsigned long long)k[SS_CNT_EVENTS],
		(unsigned long long)k[SS_CNT_RINGBUF_LOST], (unsigned long long)capture_malformed(cap),
		(unsigned long long)k[SS_CNT_TRUNCATED_BYTES], (unsigned long long)stats->conns_opened,
		conn_tracker_count(tracker), (unsigned long long)stats->conns_evicted,
		(unsigned long long)stats->stream_gaps, (unsigned long long)stats->stream_resyncs,
		(unsigned long long)stats->proto_unknown, (unsigned long long)stats->http1_parse_errors,
		(unsigned long long)stats->http1_unmatched, (unsigned long long)stats->h2_frame_errors,
		(unsigned long long)stats->h2_hpack_errors, (unsigned long long)stats->h2_streams_unspanned,
		(unsigned long long)stats->h2_streams_overflow, (unsigned long long)stats->redis_parse_errors,
		(unsigned long long)stats->redis_unmatched, (unsigned long long)stats->redis_pushes,
		(unsigned long long)stats->trace_joins, (unsigned long long)stats->spans_unattributed,
		(unsigned long long)stats->spans_not_sampled, (unsigned long long)stats->exchanges_untracked,
		(unsigned long long)invalid);
}

int main(int argc, char **argv)
{
	static struct options opts;
	static struct sockspan_stats stats;
	struct capture_opts copts = {};
	struct span_output out = {};
	struct span_opts span_opts = {};
	struct tracer_opts topts = { .span = &span_opts, .max_exchanges = MAX_EXCHANGES };
	struct session_env env = { .stats = &stats };
	struct conn_tracker_opts kopts = {
		.max_conns = MAX_CONNS, .protocols = session_protocols, .env = &env, .stats = &stats,
	};
	struct tracer *tracer = NULL;
	struct conn_tracker *tracker = NULL;
	struct capture *cap = NULL;
	struct zipkin_exporter *exporter = NULL;
	struct metrics_server *metrics = NULL;
	struct sigaction sa = { .sa_handler = on_signal };
	uint64_t start_ns, last_housekeeping_ns;
	char err[512];
	int ret = 1, r;

	r = parse_options(argc, argv, &opts);
	if (r)
		return r > 0 ? 0 : 2;

	topts.service_name = opts.service_name;
	span_opts.redis_statement = opts.redis_statement;
	topts.ignore_sampling = opts.ignore_sampling;
	tracer = tracer_new(&topts, &stats);
	if (!tracer) {
		fprintf(stderr, "sockspan: out of memory\n");
		goto cleanup;
	}
	env.sink = tracer_exchange_sink(tracer);
	tracker = conn_tracker_new(&kopts);
	if (!tracker) {
		fprintf(stderr, "sockspan: out of memory\n");
		goto cleanup;
	}
	/* With a collector, stdout stays quiet unless -o asks for a copy. */
	if (!opts.zipkin_url || opts.output) {
		if (span_output_open(&out, opts.output, err, sizeof(err))) {
			fprintf(stderr, "sockspan: %s\n", err);
			goto cleanup;
		}
		tracer_add_sink(tracer, span_output_write, &out);
	}
	/* Before any other thread: libcurl's global set-up is not thread-safe. */
	if (opts.zipkin_url) {
		exporter = start_exporter(&opts);
		if (!exporter)
			goto cleanup;
		tracer_add_sink(tracer, export_span, exporter);
	}
	if (opts.metrics_addr) {
		metrics = metrics_server_start(opts.metrics_addr, exporter, err, sizeof(err));
		if (!metrics) {
			fprintf(stderr, "sockspan: %s\n", err);
			goto cleanup;
		}
	}
	clock_sync();

	copts.pids = opts.pids;
	copts.npids = opts.npids;
	copts.cgroups = opts.cgroups;
	copts.ncgroups = opts.ncgroups;
	copts.max_payload = opts.max_payload;
	copts.ringbuf_bytes = opts.ringbuf_mb * 1024u * 1024u;
	copts.verbose = opts.verbose;
	cap = capture_new(&copts, on_event, tracker, err, sizeof(err));
	if (!cap) {
		fprintf(stderr, "sockspan: %s\n", err);
		goto cleanup;
	}
	conn_tracker_on_full_payload(tracker, on_full_payload, cap);

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (metrics)
		metrics_server_set_capture(metrics, cap);
	if (opts.npids || opts.ncgroups)
		fprintf(stderr, "sockspan: ready: tracing %zu process%s, %zu cgroup%s\n", opts.npids,
			opts.npids == 1 ? "" : "es", opts.ncgroups, opts.ncgroups == 1 ? "" : "s");
	else
		fprintf(stderr, "sockspan: ready: tracing every process on this node\n");

	start_ns = last_housekeeping_ns = clock_mono_now_ns();
	while (!stop) {
		uint64_t now;

		r = capture_poll(cap, POLL_MS);
		if (r < 0 && r != -EINTR) {
			fprintf(stderr, "sockspan: ring buffer: %s\n", strerror(-r));
			goto cleanup;
		}
		if (out.f)
			span_output_flush(&out);
		if (metrics)
			publish(metrics, cap, tracker, &stats);
		now = clock_mono_now_ns();
		if (opts.duration_s > 0 && now - start_ns >= (uint64_t)(opts.duration_s * 1e9))
			break;
		if (now - last_housekeeping_ns >= 1000000000ull) {
			conn_tracker_expire(tracker, now, CONN_IDLE_NS);
			clock_sync();
			last_housekeeping_ns = now;
		}
	}
	/* What the kernel captured before the stop still becomes spans, and
	 * those queued for the collector get until the flush deadline. */
	capture_drain(cap);
	if (metrics) {
		publish(metrics, cap, tracker, &stats);
		metrics_server_set_capture(metrics, NULL);
	}
	if (exporter)
		zipkin_exporter_stop(exporter, (uint64_t)(opts.flush_timeout_s * 1e9));
	report(cap, tracker, &stats);
	if (exporter)
		report_export(exporter);
	ret = 0;
cleanup:
	metrics_server_stop(metrics);
	capture_free(cap);
	zipkin_exporter_free(exporter);
	conn_tracker_free(tracker);
	tracer_free(tracer);
	span_output_close(&out);
	return ret;
}
