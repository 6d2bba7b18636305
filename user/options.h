/* Command-line options: parsed and checked, with the messages a person needs
 * on stderr. */
#ifndef SOCKSPAN_OPTIONS_H
#define SOCKSPAN_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <stdio.h>

#include "capture/capture.h"
#include "capture/priority.h"
#include "export/zipkin_exporter.h"
#include "view/raw_dump.h"
#include "view/view_filter.h"
#include "view/view_term.h"
#include "meta/k8s_name.h"
#include "meta/k8s_select.h"

#define SOCKSPAN_VERSION "0.1.0"
/* --pid may be given this many times (the kernel filter map holds 1024). */
#define MAX_PIDS 1024
/* --cgroup may be given this many times. */
#define MAX_CGROUP_DIRS 64
/* Cgroups traced at once, the given ones and those under them (the kernel
 * filter map holds 4096). */
#define MAX_CGROUPS 4096
#define RINGBUF_DEFAULT_MB 32
/* --memory-limit: the heap's budget, well under the DaemonSet's 512 MiB limit
 * with the ring buffer and the binary beside it. */
#define MEMORY_LIMIT_DEFAULT_MB 256
/* --zipkin-header may be given this many times. */
#define MAX_ZIPKIN_HEADERS 32
/* --zipkin-header-file: its size at most. */
#define ZIPKIN_HEADER_FILE_MAX 8192
/* Zipkin's own reporters send at 500 KiB or after 1 s, whichever comes first. */
#define BATCH_BYTES_DEFAULT (500 * 1024)
#define BATCH_INTERVAL_DEFAULT_S 1.0
/* Both bounds meet at ~330 bytes a span; a packed HTTP span is ~180. */
#define QUEUE_SPANS_DEFAULT 100000
#define QUEUE_BYTES_DEFAULT (32u * 1024 * 1024)
#define FLUSH_TIMEOUT_DEFAULT_S 5.0
/* Long enough to ride out a collector restart of a minute or two. */
#define RETRY_TIMEOUT_DEFAULT_S 120.0

struct options {
	uint32_t pids[MAX_PIDS];
	size_t npids;
	const char *cgroup_dirs[MAX_CGROUP_DIRS]; /* checked to be cgroup v2 directories */
	size_t ncgroup_dirs;
	const char *output;
	const char *service_name;
	double duration_s;
	uint32_t max_payload;
	uint32_t ringbuf_mb;
	uint32_t memory_limit_mb;
	uint32_t nice;          /* the reader's while it keeps up (capture/priority.h) */
	bool nice_given;
	bool verbose;
	const char *zipkin_url;
	const char *zipkin_headers[MAX_ZIPKIN_HEADERS];
	size_t nzipkin_headers;
	char zipkin_header_text[ZIPKIN_HEADER_FILE_MAX + 1]; /* --zipkin-header-file's lines, NUL-split */
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
	enum capture_hooks hooks;
	/* The view (#10). replay: `sockspan view FILE`, FILE in replay_path. */
	bool replay;
	const char *replay_path;
	enum view_mode view;
	enum view_color color;
	double view_grace_s;
	struct view_filter filter;
	double stats_s;       /* --stats: a line of counters on stderr this often; 0: none */
	const char *kubeconfig;             /* --kubeconfig or $SOCKSPAN_KUBECONFIG; NULL: in-cluster if in a pod */
	const char *node_name;              /* --node-name or $NODE_NAME; NULL: the host name */
	struct k8s_template name_template;  /* --service-name-template, checked */
	bool raw;           /* --raw: captured chunks on stdout instead of spans */
	uint32_t raw_bytes; /* --raw-bytes: dumped per chunk */
	struct k8s_select select;           /* --namespace, --pod, --selector, --exclude-namespace */
};

/* Fills o from argv ("sockspan view FILE [OPTIONS]" sets replay). Returns 0
 * to go on, 1 to exit successfully (--help, --version: printed), -1 on a bad
 * option (said on stderr). */
int options_parse(int argc, char **argv, struct options *o);
/* The --help text. */
void options_usage(FILE *f);

#endif
