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

#include "capture.h"
#include "clock.h"
#include "conn_tracker.h"
#include "span_output.h"
#include "stats.h"
#include "trace.h"

#define SOCKSPAN_VERSION "0.1.0"
/* --pid may be given this many times (the kernel filter map holds 1024). */
#define MAX_PIDS 1024
/* --cgroup may be given this many times (the kernel filter map holds 4096). */
#define MAX_CGROUPS 4096
/* Connections tracked at once; beyond it the least recently active is evicted. */
#define MAX_CONNS 65536
/* A connection with no traffic for this long is forgotten (its role stays in
 * the kernel's map, so it is picked up again if it wakes). */
#define CONN_IDLE_NS (300ull * 1000000000)
#define RINGBUF_DEFAULT_MB 32
#define POLL_MS 100


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
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: sockspan [OPTIONS]\n"
		"Trace HTTP/1.x requests of the processes on this node from their socket\n"
		"reads and writes (eBPF), and print one span per request/response.\n"
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
		"  -v, --verbose            show libbpf's messages (the verifier's log on failure)\n"
		"  -h, --help               this help\n"
		"  -V, --version            print the version\n"
		"\n"
		"Runs as root. Diagnostics go to stderr; a line containing 'ready' says capture started.\n"
		"\n"
		"Examples:\n"
		"  sockspan                          # every process on this node\n"
		"  sockspan --pid 1234 -o -          # one process, Zipkin JSON on stdout\n"
		"  sockspan -p 1234 -p 5678 -d 60 -o spans.json\n",
		SS_PAYLOAD_MAX, SS_PAYLOAD_DEFAULT, RINGBUF_DEFAULT_MB);
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
	enum { OPT_MAX_PAYLOAD = 256, OPT_RINGBUF_MB };
	static const struct option longopts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "cgroup", required_argument, NULL, 'c' },
		{ "output", required_argument, NULL, 'o' },
		{ "service-name", required_argument, NULL, 's' },
		{ "duration", required_argument, NULL, 'd' },
		{ "max-payload", required_argument, NULL, OPT_MAX_PAYLOAD },
		{ "ringbuf-mb", required_argument, NULL, OPT_RINGBUF_MB },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	int opt;
	char *end;

	o->max_payload = SS_PAYLOAD_DEFAULT;
	o->ringbuf_mb = RINGBUF_DEFAULT_MB;
	while ((opt = getopt_long(argc, argv, "p:c:o:s:d:vhV", longopts, NULL)) != -1) {
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

static void on_event(void *ctx, const struct ss_event *ev, const uint8_t *payload)
{
	conn_tracker_event(ctx, ev, payload);
}

static void report(const struct capture *cap, const struct conn_tracker *tracker)
{
	uint64_t k[SS_CNT__MAX];

	capture_counters(cap, k);
	fprintf(stderr,
		"sockspan: %llu spans; events: %llu captured, %llu lost (ring buffer full), %llu malformed; "
		"%llu payload bytes truncated; connections: %llu seen, %zu open, %llu evicted; "
		"streams: %llu bytes missing, %llu resyncs, %llu unknown protocol; "
		"http1: %llu parse errors, %llu unmatched\n",
		(unsigned long long)stats.spans, (unsigned long long)k[SS_CNT_EVENTS],
		(unsigned long long)k[SS_CNT_RINGBUF_LOST], (unsigned long long)capture_malformed(cap),
		(unsigned long long)k[SS_CNT_TRUNCATED_BYTES], (unsigned long long)stats.conns_opened,
		conn_tracker_count(tracker), (unsigned long long)stats.conns_evicted,
		(unsigned long long)stats.stream_gaps, (unsigned long long)stats.stream_resyncs,
		(unsigned long long)stats.proto_unknown, (unsigned long long)stats.http1_parse_errors,
		(unsigned long long)stats.http1_unmatched);
}

int main(int argc, char **argv)
{
	static struct options opts;
	struct capture_opts copts = {};
	struct span_output out = {};
	struct conn_tracker *tracker = NULL;
	struct capture *cap = NULL;
	struct sigaction sa = { .sa_handler = on_signal };
	uint64_t start_ns, last_housekeeping_ns;
	char err[512];
	int ret = 1, r;

	r = parse_options(argc, argv, &opts);
	if (r)
		return r > 0 ? 0 : 2;

	if (span_output_open(&out, opts.output, err, sizeof(err))) {
		fprintf(stderr, "sockspan: %s\n", err);
		return 1;
	}
	tracker = conn_tracker_new(MAX_CONNS);
	if (!tracker) {
		fprintf(stderr, "sockspan: out of memory\n");
		goto cleanup;
	}
	clock_sync();
	trace_set_sink(span_output_write, &out, opts.service_name);

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

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
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
		span_output_flush(&out);
		now = clock_mono_now_ns();
		if (opts.duration_s > 0 && now - start_ns >= (uint64_t)(opts.duration_s * 1e9))
			break;
		if (now - last_housekeeping_ns >= 1000000000ull) {
			conn_tracker_expire(tracker, now, CONN_IDLE_NS);
			clock_sync();
			last_housekeeping_ns = now;
		}
	}
	/* What the kernel captured before the stop still becomes spans. */
	capture_drain(cap);
	report(cap, tracker);
	ret = 0;
cleanup:
	capture_free(cap);
	conn_tracker_free(tracker);
	span_output_close(&out);
	return ret;
}
