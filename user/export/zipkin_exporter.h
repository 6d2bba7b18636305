/* Zipkin export beside capture: the capture thread only copies each span
 * into a bounded queue (export_queue.h); one exporter thread batches spans by
 * size or time, encodes them (zipkin_proto.h) and POSTs each batch with
 * libcurl, one batch at a time, so they arrive in order. A batch that fails
 * for a reason that may pass (no connection, timeout, 5xx, 429) is retried
 * with exponential backoff and jitter for up to retry_timeout; any other
 * answer drops it. Every drop is counted by reason. */
#ifndef SOCKSPAN_ZIPKIN_EXPORTER_H
#define SOCKSPAN_ZIPKIN_EXPORTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "export/export_queue.h"
#include "span/span.h"
#include "export/zipkin_proto.h"

/* Upper bounds of the export latency histogram, in seconds (Prometheus'
 * default buckets); a last, implicit one is +Inf. */
#define ZIPKIN_LATENCY_BUCKETS { 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10 }
#define ZIPKIN_NUM_LATENCY_BUCKETS 11
/* HTTP statuses are counted one by one below this; others in slot 0. */
#define ZIPKIN_STATUS_MAX 600

/* Why a POST got no HTTP answer. */
enum zipkin_failure {
	ZIPKIN_FAIL_CONNECT,  /* no connection, or it broke */
	ZIPKIN_FAIL_TIMEOUT,  /* connect or total timeout */
	ZIPKIN_FAIL_TLS,      /* handshake or certificate verification */
	ZIPKIN_FAIL_OTHER,
	ZIPKIN_FAIL__MAX,
};

struct zipkin_exporter_opts {
	const char *url;              /* http:// or https://, e.g. .../api/v2/spans */
	const char *const *headers;   /* extra "Name: value" lines */
	size_t nheaders;
	const char *ca_file;          /* PEM CA bundle for https; NULL: the system's store */
	enum zipkin_encoding encoding;
	bool compress;                /* gzip bodies */
	size_t batch_bytes;           /* send when the encoded batch would exceed this */
	uint64_t batch_interval_ns;   /* or when its first span is this old */
	size_t queue_spans, queue_bytes;
	uint64_t retry_timeout_ns;    /* give up on a batch failing for this long */
};

struct zipkin_exporter_stats {
	struct export_queue_stats queue;
	uint64_t spans_sent;          /* delivered (2xx) */
	uint64_t batches_sent;
	uint64_t batches_dropped;
	uint64_t dropped_retries;     /* spans in batches that kept failing for retry_timeout */
	uint64_t dropped_rejected;    /* spans in batches answered by a non-retryable status */
	uint64_t dropped_shutdown;    /* spans still queued when the flush deadline passed */
	uint64_t dropped_encoding;    /* spans that could not be encoded (out of memory) */
	uint64_t requests_by_status[ZIPKIN_STATUS_MAX]; /* POSTs answered, by HTTP status */
	uint64_t requests_failed[ZIPKIN_FAIL__MAX];     /* POSTs without an answer, by cause */
	uint64_t latency_buckets[ZIPKIN_NUM_LATENCY_BUCKETS + 1]; /* per bucket, not cumulative */
	uint64_t latency_count;
	double latency_sum_s;
	uint64_t bytes_encoded;       /* body bytes before compression, every attempt */
	uint64_t bytes_sent;          /* request bytes on the wire: headers and body, every attempt */
	bool reachable;               /* no POST yet, or the last one got a 2xx */
};

struct zipkin_exporter;

/* Validates the options and sets up libcurl (call before starting other
 * threads: curl_global_init is not thread-safe); spans can be queued, and go
 * out once zipkin_exporter_start ran. Returns NULL with a message for a
 * person in err. */
struct zipkin_exporter *zipkin_exporter_new(const struct zipkin_exporter_opts *o, char *err, size_t cap);
/* Starts the exporter thread (it inherits this thread's capabilities).
 * Returns 0, or -1 with a message in err. */
int zipkin_exporter_start(struct zipkin_exporter *e, char *err, size_t cap);
/* A trace_span_fn for the capture thread (ctx: the exporter): copies s into
 * the queue, or counts it dropped when the queue is full. Never blocks. */
void zipkin_exporter_enqueue(void *ctx, const struct span *s);
/* Any thread. */
void zipkin_exporter_stats(struct zipkin_exporter *e, struct zipkin_exporter_stats *out);
/* Call once nothing enqueues any more: sends what is queued, retrying until
 * timeout_ns from now at most, then counts what is left as dropped and joins
 * the thread. */
void zipkin_exporter_stop(struct zipkin_exporter *e, uint64_t timeout_ns);
/* Stops without flushing if still running, and frees; NULL is fine. */
void zipkin_exporter_free(struct zipkin_exporter *e);

#endif
