/* The agent's own HTTP endpoints, served by libmicrohttpd from its own thread:
 *   /metrics  Prometheus text format (capture, parsing, spans, export)
 *   /healthz  200 while the process runs
 *   /readyz   200 once the probes are attached and while the exporter (if
 *             any) reached the collector on its last attempt; 503 otherwise.
 * It never touches capture state directly: the capture loop publishes a copy
 * of its counters (metrics_server_publish), kernel counters are read from
 * the BPF map, exporter counters through zipkin_exporter_stats. */
#ifndef SOCKSPAN_METRICS_SERVER_H
#define SOCKSPAN_METRICS_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "capture/capture.h"
#include "stats.h"
#include "export/zipkin_exporter.h"

/* Kubernetes metadata: what the API client holds and went through (zeros without an API server). */
struct metrics_k8s {
	uint64_t pods, services;          /* in the store now */
	uint64_t watch_restarts, relists; /* watches started again; lists made again */
	uint64_t api_errors;              /* failed requests */
	uint64_t rejected, store_full, line_too_long; /* objects dropped, by reason */
	uint64_t pods_selected, pods_traced; /* by --namespace...; of them, with cgroups found */
	uint64_t cgroup_walks, cgroup_walk_ns; /* walks naming cgroups, their time summed */
	uint64_t cgroups_indexed, cgroups_unindexed; /* by the last one; left out (index full) */
};

/* What the capture thread publishes. */
struct metrics_snapshot {
	struct sockspan_stats stats;
	uint64_t conns_tracked;   /* connections in the table now */
	uint64_t heap_bytes;      /* malloc's bytes in use */
	uint64_t malformed;       /* capture_malformed() */
	uint64_t cgroups_traced;  /* in the kernel's cgroup filter (0: no filter) */
	struct metrics_k8s k8s;
};

struct metrics_server;

/* Listens on addr (as metrics_listen says); connections wait until
 * metrics_server_start. exporter may be NULL (no --zipkin); it must outlive
 * the server. Returns NULL with a message for a person in err. */
struct metrics_server *metrics_server_new(const char *addr, struct zipkin_exporter *exporter, char *err, size_t cap);
/* Serves from libmicrohttpd's thread (which inherits this thread's
 * capabilities). Returns 0, or -1 with a message in err. */
int metrics_server_start(struct metrics_server *m, char *err, size_t cap);
/* Capture thread: replaces the published counters. */
void metrics_server_publish(struct metrics_server *m, const struct metrics_snapshot *snap);
/* The attached capture (ready), or NULL when capture stops (not ready; the
 * kernel counters' last values keep being served). c must stay valid until
 * it is replaced or the server stops. */
void metrics_server_set_capture(struct metrics_server *m, const struct capture *c);
/* Stops the thread and frees; NULL is fine. */
void metrics_server_stop(struct metrics_server *m);

#endif
