/* What exporting costs per span, measured in-process on the exporter's real
 * code path: the capture thread's copy into the queue, then the exporter's
 * read, batch encoding (500 KiB batches) and gzip, for JSON and proto3.
 *
 *   bench_export [SPANS]   (default 10000, at least 64)
 *
 * Prints one line per mode: "mode bytes_per_span cpu_ms_per_10k push_ns_per_span":
 * body bytes on the wire (after gzip when compressed), the exporter thread's
 * CPU time for 10k spans (read, encode, gzip), and the capture thread's CPU
 * time per span (the queue push), both CLOCK_THREAD_CPUTIME_ID. tests/bench/bench_export.py
 * runs it several times and prints the medians as a table. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "export/export_queue.h"
#include "span/span.h"
#include "export/zipkin_proto.h"

#define BATCH_BYTES (500 * 1024)

static uint64_t cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* An HTTP server span like the ones nginx traffic gives: random ids, a few
 * routes, statuses and client ports. */
static void http_span(struct span *s, unsigned i)
{
	static const char *const routes[][2] = {
		{ "get /api/users/{id}", "/api/users/" },
		{ "get /static/app.js", "/static/app.js" },
		{ "post /api/orders", "/api/orders" },
		{ "get /healthz", "/healthz" },
	};
	static const char *const statuses[] = { "200", "200", "200", "404", "503" };
	const char *const *r = routes[i % 4];
	const char *st = statuses[i % 5];
	char path[64];
	int n;

	span_init(s);
	s->kind = SPAN_KIND_SERVER;
	strcpy(s->name, r[0]);
	s->timestamp_us = 1795301147123456ull + i * 137ull;
	s->duration_us = 200 + (i * 7919) % 5000;
	strcpy(s->local.service_name, "nginx");
	s->local.family = AF_INET;
	inet_pton(AF_INET, "10.42.0.17", s->local.addr);
	s->local.port = 8080;
	s->remote.family = AF_INET;
	inet_pton(AF_INET, "10.42.3.5", s->remote.addr);
	s->remote.port = (uint16_t)(32768 + (i * 31) % 28000);
	if (i % 4 == 0)
		n = snprintf(path, sizeof(path), "%s%u", r[1], 1000 + i % 9000);
	else
		n = snprintf(path, sizeof(path), "%s", r[1]);
	span_add_tag(s, "http.method", r[0][0] == 'p' ? "POST" : "GET", r[0][0] == 'p' ? 4 : 3);
	span_add_tag(s, "http.path", path, (size_t)n);
	span_add_tag(s, "http.status_code", st, 3);
	if (st[0] == '5')
		span_add_tag(s, "error", st, 3);
	s->pid = 31337;
}

struct result {
	double bytes_per_span, cpu_ms_per_10k, push_ns;
};

/* Spans go through the queue in chunks, as they would between two wake-ups
 * of the exporter; a queue of 1 MiB is reused, so its memory is warm. */
#define CHUNK 1000
#define QUEUE_BYTES (1 << 20)

struct bench {
	struct export_queue *q;
	struct zipkin_batch b;
	struct zipkin_buf gz;
	int compress;
	uint64_t wire, total_ns;
};

static int send_batch(struct bench *k)
{
	size_t len;
	const uint8_t *body = zipkin_batch_finish(&k->b, &len);

	if (k->compress) {
		if (zipkin_gzip(body, len, &k->gz))
			return -1;
		len = k->gz.len;
	}
	k->wire += len;
	export_queue_release(k->q);
	zipkin_batch_clear(&k->b);
	return 0;
}

/* The exporter thread's loop, without the network: every queued span into
 * batches, each batch "sent" when the next span would not fit. */
static int drain(struct bench *k)
{
	static struct span s;

	while (export_queue_peek(k->q, &s)) {
		int r = zipkin_batch_add(&k->b, &s, BATCH_BYTES);

		if (r < 0 || (r == 0 && send_batch(k)))
			return -1;
		if (r == 1)
			export_queue_advance(k->q);
	}
	return 0;
}

/* Exporter CPU for n distinct spans (random ids, as gzip sees them for real).
 * Pushing is not counted here: see push_cost. */
static int encode_pass(struct bench *k, const struct span *spans, unsigned n)
{
	k->wire = k->total_ns = 0;
	for (unsigned i = 0; i < n; i += CHUNK) {
		uint64_t t;

		for (unsigned j = i; j < n && j < i + CHUNK; j++)
			if (!export_queue_push(k->q, &spans[j]))
				return -1;
		t = cpu_ns();
		if (drain(k))
			return -1;
		k->total_ns += cpu_ns() - t;
		/* Unlike the exporter, free the batch's queue room at once: the
		 * bench's queue holds one chunk, and this costs the same. */
		export_queue_release(k->q);
	}
	if (k->b.nspans) {
		uint64_t t = cpu_ns();

		if (send_batch(k))
			return -1;
		k->total_ns += cpu_ns() - t;
	}
	return 0;
}

/* The capture thread's share: one push per span, with the span hot in cache
 * as it is right after the parser built it. */
static double push_cost(struct export_queue *q, const struct span *spans, unsigned n)
{
	static struct span s;
	uint64_t ns = 0;

	for (unsigned i = 0; i < n; i += CHUNK) {
		uint64_t t = cpu_ns();

		for (unsigned j = 0; j < CHUNK; j++)
			if (!export_queue_push(q, &spans[j % 64]))
				return -1;
		ns += cpu_ns() - t;
		while (export_queue_peek(q, &s))
			export_queue_advance(q);
		export_queue_release(q);
	}
	return (double)ns / n;
}

static int run(enum zipkin_encoding enc, int compress, const struct span *spans, unsigned n, struct result *out)
{
	struct bench k = { .compress = compress };

	k.q = export_queue_new(CHUNK, QUEUE_BYTES);
	if (!k.q || zipkin_batch_init(&k.b, enc))
		return -1;
	/* The first pass warms memory and allocator; the second is measured. */
	if (encode_pass(&k, spans, n) || encode_pass(&k, spans, n))
		return -1;
	out->bytes_per_span = (double)k.wire / n;
	out->cpu_ms_per_10k = (double)k.total_ns / 1e6 * 10000.0 / n;
	push_cost(k.q, spans, n);
	out->push_ns = push_cost(k.q, spans, n);
	zipkin_batch_free(&k.b);
	zipkin_buf_free(&k.gz);
	export_queue_free(k.q);
	return out->push_ns < 0 ? -1 : 0;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		enum zipkin_encoding enc;
		int compress;
	} modes[] = {
		{ "json", ZIPKIN_JSON, 0 },
		{ "json+gzip", ZIPKIN_JSON, 1 },
		{ "proto3", ZIPKIN_PROTO3, 0 },
		{ "proto3+gzip", ZIPKIN_PROTO3, 1 },
	};
	unsigned n = argc > 1 ? (unsigned)atoi(argv[1]) : 10000;
	struct span *spans = calloc(n ? n : 1, sizeof(*spans));

	/* push_cost cycles through the first 64 spans. */
	if (!spans || n < 64) {
		fprintf(stderr, "usage: bench_export [SPANS >= 64]\n");
		return 2;
	}
	for (unsigned i = 0; i < n; i++)
		http_span(&spans[i], i);
	for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
		struct result r;

		if (run(modes[m].enc, modes[m].compress, spans, n, &r)) {
			fprintf(stderr, "bench_export: %s failed\n", modes[m].name);
			return 1;
		}
		printf("%s %.1f %.2f %.1f\n", modes[m].name, r.bytes_per_span, r.cpu_ms_per_10k, r.push_ns);
	}
	free(spans);
	return 0;
}
