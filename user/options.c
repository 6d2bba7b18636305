#include "options.h"

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

#include "sockspan_event.h"
#include "view/view_store.h"

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

/* A cgroup v2 directory: main traces it and every cgroup under it. */
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
	if (o->ncgroup_dirs == MAX_CGROUP_DIRS) {
		fprintf(stderr, "sockspan: at most %d --cgroup options\n", MAX_CGROUP_DIRS);
		return -1;
	}
	o->cgroup_dirs[o->ncgroup_dirs++] = path;
	return 0;
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* arg as the index of its name in names (n entries, NULL ones not choices);
 * -1 with a message listing the choices otherwise. */
static int parse_choice(const char *arg, const char *what, const char *const *names, size_t n, int *out)
{
	size_t said = 0, left = 0;

	for (size_t i = 0; i < n; i++) {
		if (names[i] && strcmp(arg, names[i]) == 0) {
			*out = (int)i;
			return 0;
		}
		left += names[i] != NULL;
	}
	fprintf(stderr, "sockspan: invalid %s '%s' (expected", what, arg);
	for (size_t i = 0; i < n; i++) {
		if (!names[i])
			continue;
		said++;
		fprintf(stderr, "%s%s", said == 1 ? " " : said == left ? " or " : ", ", names[i]);
	}
	fprintf(stderr, ")\n");
	return -1;
}

/* "sockspan view FILE": one file, and none of the options that capture or export. */
static int check_replay(struct options *o, int argc, char **argv)
{
	if (optind + 1 != argc) {
		fprintf(stderr, "sockspan: view takes one FILE ('-': stdin)\n");
		return -1;
	}
	if (o->npids || o->ncgroup_dirs || k8s_select_active(&o->select) || o->output || o->zipkin_url ||
	    o->metrics_addr || o->duration_s || o->stats_s || o->view == VIEW_MODE_LINES || o->raw) {
		fprintf(stderr, "sockspan: view takes only --color, --view tree and filter options\n");
		return -1;
	}
	o->replay_path = argv[optind];
	return 0;
}

static int add_zipkin_header(struct options *o, const char *h)
{
	if (o->nzipkin_headers == MAX_ZIPKIN_HEADERS) {
		fprintf(stderr, "sockspan: at most %d collector headers\n", MAX_ZIPKIN_HEADERS);
		return -1;
	}
	o->zipkin_headers[o->nzipkin_headers++] = h;
	return 0;
}

/* The headers of a file, one per line, so that a credential is not in argv
 * for every process to read; the exporter checks each as it would an
 * option's. Once: its lines live in o. */
static int read_zipkin_headers(struct options *o, const char *path)
{
	char *text = o->zipkin_header_text, *line, *next;
	FILE *f = o->zipkin_header_text[0] ? NULL : fopen(path, "r");
	size_t n;

	if (!f) {
		fprintf(stderr, "sockspan: --zipkin-header-file %s: %s\n", path,
			o->zipkin_header_text[0] ? "given twice" : strerror(errno));
		return -1;
	}
	n = fread(text, 1, ZIPKIN_HEADER_FILE_MAX + 1, f);
	fclose(f);
	if (n > ZIPKIN_HEADER_FILE_MAX || memchr(text, '\0', n)) {
		fprintf(stderr, "sockspan: --zipkin-header-file %s: %s\n", path,
			n > ZIPKIN_HEADER_FILE_MAX ? "larger than 8 KiB" : "not text");
		return -1;
	}
	text[n] = '\0';
	for (line = text; line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		line[strcspn(line, "\r")] = '\0';
		if (line[0] && line[0] != '#' && add_zipkin_header(o, line))
			return -1;
	}
	return 0;
}

/* --raw has stdout to itself; --raw-bytes means nothing without it. */
static int check_raw(const struct options *o, bool raw_bytes_given)
{
	if (raw_bytes_given && !o->raw) {
		fprintf(stderr, "sockspan: --raw-bytes goes with --raw\n");
		return -1;
	}
	if (o->raw && (o->view != VIEW_MODE_AUTO || (o->output && strcmp(o->output, "-") == 0))) {
		fprintf(stderr, "sockspan: --raw has stdout to itself: no --view, no -o -\n");
		return -1;
	}
	return 0;
}

/* The variable's value, or NULL when unset or empty. */
static const char *env_or_null(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

int options_parse(int argc, char **argv, struct options *o)
{
	enum {
		OPT_MAX_PAYLOAD = 256, OPT_RINGBUF_MB, OPT_MEMORY_LIMIT, OPT_NICE, OPT_ZIPKIN_HEADER, OPT_ZIPKIN_HEADER_FILE, OPT_ZIPKIN_ENCODING, OPT_NO_COMPRESS,
		OPT_BATCH_BYTES, OPT_BATCH_INTERVAL, OPT_QUEUE_SPANS, OPT_QUEUE_BYTES, OPT_RETRY_TIMEOUT,
		OPT_FLUSH_TIMEOUT, OPT_METRICS, OPT_REDIS_STATEMENT, OPT_ZIPKIN_CA, OPT_IGNORE_SAMPLING, OPT_HOOKS,
		OPT_VIEW, OPT_VIEW_GRACE, OPT_COLOR, OPT_NOT, OPT_SAMPLE_RATE, OPT_STATS,
		OPT_KUBECONFIG, OPT_NODE_NAME, OPT_NAME_TEMPLATE, OPT_RAW, OPT_RAW_BYTES,
		/* One per enum k8s_select_kind, in its order. */
		OPT_SELECT, OPT_SELECT_LAST = OPT_SELECT + K8S_SELECT_EXCLUDE_NAMESPACE,
		/* One per enum view_filter_kind, in its order: last. */
		OPT_FILTER,
	};
	static const struct option longopts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "cgroup", required_argument, NULL, 'c' },
		{ "output", required_argument, NULL, 'o' },
		{ "service-name", required_argument, NULL, 's' },
		{ "duration", required_argument, NULL, 'd' },
		{ "max-payload", required_argument, NULL, OPT_MAX_PAYLOAD },
		{ "ringbuf-mb", required_argument, NULL, OPT_RINGBUF_MB },
		{ "nice", required_argument, NULL, OPT_NICE },
		{ "memory-limit", required_argument, NULL, OPT_MEMORY_LIMIT },
		{ "verbose", no_argument, NULL, 'v' },
		{ "zipkin", required_argument, NULL, 'z' },
		{ "zipkin-header", required_argument, NULL, OPT_ZIPKIN_HEADER },
		{ "zipkin-header-file", required_argument, NULL, OPT_ZIPKIN_HEADER_FILE },
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
		{ "hooks", required_argument, NULL, OPT_HOOKS },
		{ "view", required_argument, NULL, OPT_VIEW },
		{ "view-grace", required_argument, NULL, OPT_VIEW_GRACE },
		{ "color", required_argument, NULL, OPT_COLOR },
		{ "not", no_argument, NULL, OPT_NOT },
		{ "sample-rate", required_argument, NULL, OPT_SAMPLE_RATE },
		{ "stats", required_argument, NULL, OPT_STATS },
		{ "protocol", required_argument, NULL, OPT_FILTER + VIEW_FILTER_PROTOCOL },
		{ "min-duration", required_argument, NULL, OPT_FILTER + VIEW_FILTER_MIN_DURATION },
		{ "errors", no_argument, NULL, OPT_FILTER + VIEW_FILTER_ERRORS },
		{ "status", required_argument, NULL, OPT_FILTER + VIEW_FILTER_STATUS },
		{ "service", required_argument, NULL, OPT_FILTER + VIEW_FILTER_SERVICE },
		{ "path-prefix", required_argument, NULL, OPT_FILTER + VIEW_FILTER_PATH_PREFIX },
		{ "trace-id", required_argument, NULL, OPT_FILTER + VIEW_FILTER_TRACE_ID },
		{ "kubeconfig", required_argument, NULL, OPT_KUBECONFIG },
		{ "node-name", required_argument, NULL, OPT_NODE_NAME },
		{ "service-name-template", required_argument, NULL, OPT_NAME_TEMPLATE },
		{ "raw", no_argument, NULL, OPT_RAW },
		{ "raw-bytes", required_argument, NULL, OPT_RAW_BYTES },
		{ "namespace", required_argument, NULL, OPT_SELECT + K8S_SELECT_NAMESPACE },
		{ "pod", required_argument, NULL, OPT_SELECT + K8S_SELECT_POD },
		{ "selector", required_argument, NULL, OPT_SELECT + K8S_SELECT_LABELS },
		{ "exclude-namespace", required_argument, NULL, OPT_SELECT + K8S_SELECT_EXCLUDE_NAMESPACE },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	static const char *const encodings[] = { [ZIPKIN_JSON] = "json", [ZIPKIN_PROTO3] = "proto3" };
	static const char *const hooks[] = {
		[CAPTURE_HOOKS_AUTO] = "auto", [CAPTURE_HOOKS_SOCKET] = "socket", [CAPTURE_HOOKS_SYSCALLS] = "syscalls",
	};
	static const char *const views[] = { [VIEW_MODE_TREE] = "tree", [VIEW_MODE_LINES] = "lines" };
	static const char *const colors[] = {
		[VIEW_COLOR_AUTO] = "auto", [VIEW_COLOR_ALWAYS] = "always", [VIEW_COLOR_NEVER] = "never",
	};
	int opt, choice;
	char *end, err[256];
	bool negate = false, raw_bytes_given = false;

	/* "sockspan view FILE": the options after "view" are parsed alike. */
	o->replay = argc > 1 && strcmp(argv[1], "view") == 0;
	if (o->replay) {
		argc--;
		argv++;
	}
	o->max_payload = SS_PAYLOAD_DEFAULT;
	o->raw_bytes = RAW_DUMP_BYTES_DEFAULT;
	o->ringbuf_mb = RINGBUF_DEFAULT_MB;
	o->memory_limit_mb = MEMORY_LIMIT_DEFAULT_MB;
	o->nice = PRIORITY_LOW_DEFAULT;
	o->zipkin_url = o->replay ? NULL : env_or_null("SOCKSPAN_ZIPKIN_URL");
	o->view_grace_s = VIEW_GRACE_DEFAULT_US / 1e6;
	o->batch_bytes = BATCH_BYTES_DEFAULT;
	o->batch_interval_s = BATCH_INTERVAL_DEFAULT_S;
	o->queue_spans = QUEUE_SPANS_DEFAULT;
	o->queue_bytes = QUEUE_BYTES_DEFAULT;
	o->retry_timeout_s = RETRY_TIMEOUT_DEFAULT_S;
	o->flush_timeout_s = FLUSH_TIMEOUT_DEFAULT_S;
	o->kubeconfig = env_or_null("SOCKSPAN_KUBECONFIG");
	o->node_name = env_or_null("NODE_NAME");
	k8s_template_parse(K8S_TEMPLATE_DEFAULT, &o->name_template, err, sizeof(err));
	while ((opt = getopt_long(argc, argv, "p:c:o:s:d:z:vhV", longopts, NULL)) != -1) {
		if (negate && (opt < OPT_FILTER || opt >= OPT_FILTER + VIEW_FILTER__COUNT)) {
			fprintf(stderr, "sockspan: --not goes right before a filter option\n");
			return -1;
		}
		if (opt >= OPT_SELECT && opt <= OPT_SELECT_LAST) {
			if (k8s_select_add(&o->select, opt - OPT_SELECT, optarg, err, sizeof(err))) {
				fprintf(stderr, "sockspan: %s\n", err);
				return -1;
			}
			continue;
		}
		if (opt >= OPT_FILTER && opt < OPT_FILTER + VIEW_FILTER__COUNT) {
			if (view_filter_add(&o->filter, opt - OPT_FILTER, optarg, negate, err, sizeof(err))) {
				fprintf(stderr, "sockspan: %s\n", err);
				return -1;
			}
			negate = false;
			continue;
		}
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
		case OPT_MEMORY_LIMIT:
			if (parse_u32(optarg, "--memory-limit", 16, 1u << 20, &o->memory_limit_mb))
				return -1;
			break;
		case OPT_NICE:
			if (parse_u32(optarg, "--nice", 0, 19, &o->nice))
				return -1;
			o->nice_given = true;
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
			if (add_zipkin_header(o, optarg))
				return -1;
			break;
		case OPT_ZIPKIN_HEADER_FILE:
			if (read_zipkin_headers(o, optarg))
				return -1;
			break;
		case OPT_ZIPKIN_CA:
			if (access(optarg, R_OK) != 0) {
				fprintf(stderr, "sockspan: --zipkin-ca %s: %s\n", optarg, strerror(errno));
				return -1;
			}
			o->zipkin_ca = optarg;
			break;
		case OPT_ZIPKIN_ENCODING:
			if (parse_choice(optarg, "--zipkin-encoding", encodings, N(encodings), &choice))
				return -1;
			o->encoding = choice;
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
		case OPT_HOOKS:
			if (parse_choice(optarg, "--hooks", hooks, N(hooks), &choice))
				return -1;
			o->hooks = choice;
			break;
		case OPT_VIEW:
			if (parse_choice(optarg, "--view", views, N(views), &choice))
				return -1;
			o->view = choice;
			break;
		case OPT_VIEW_GRACE:
			if (parse_seconds(optarg, "--view-grace", 0, &o->view_grace_s))
				return -1;
			break;
		case OPT_COLOR:
			if (parse_choice(optarg, "--color", colors, N(colors), &choice))
				return -1;
			o->color = choice;
			break;
		case OPT_NOT:
			negate = true;
			break;
		case OPT_STATS:
			if (parse_seconds(optarg, "--stats", 0.1, &o->stats_s))
				return -1;
			break;
		case OPT_SAMPLE_RATE:
			if (view_filter_set_sample_rate(&o->filter, optarg, err, sizeof(err))) {
				fprintf(stderr, "sockspan: %s\n", err);
				return -1;
			}
			break;
		case OPT_KUBECONFIG:
			if (access(optarg, R_OK) != 0) {
				fprintf(stderr, "sockspan: --kubeconfig %s: %s\n", optarg, strerror(errno));
				return -1;
			}
			o->kubeconfig = optarg;
			break;
		case OPT_NODE_NAME:
			if (!k8s_check(K8S_CHECK_SUBDOMAIN, optarg)) {
				fprintf(stderr, "sockspan: invalid --node-name '%s' (expected a DNS-1123 subdomain)\n",
					optarg);
				return -1;
			}
			o->node_name = optarg;
			break;
		case OPT_NAME_TEMPLATE:
			if (k8s_template_parse(optarg, &o->name_template, err, sizeof(err))) {
				fprintf(stderr, "sockspan: invalid --service-name-template '%s': %s\n", optarg, err);
				return -1;
			}
			break;
		case OPT_RAW:
			o->raw = true;
			break;
		case OPT_RAW_BYTES:
			if (parse_u32(optarg, "--raw-bytes", 0, RAW_DUMP_BYTES_MAX, &o->raw_bytes))
				return -1;
			raw_bytes_given = true;
			break;
		case 'h':
			options_usage(stdout);
			return 1;
		case 'V':
			printf("sockspan %s\n", SOCKSPAN_VERSION);
			return 1;
		default:
			options_usage(stderr);
			return -1;
		}
	}
	if (negate) {
		fprintf(stderr, "sockspan: --not goes right before a filter option\n");
		return -1;
	}
	if (o->replay)
		return check_replay(o, argc, argv);
	if (optind < argc) {
		fprintf(stderr, "sockspan: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	if (o->view != VIEW_MODE_AUTO && o->output && strcmp(o->output, "-") == 0) {
		fprintf(stderr, "sockspan: --view and -o - both want stdout\n");
		return -1;
	}
	return check_raw(o, raw_bytes_given);
}
