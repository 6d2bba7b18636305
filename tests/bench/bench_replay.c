/* The userspace pipeline alone, on recorded event streams (the .ssev.gz
 * files in tests/data, made by tests/bench/record.py from real peers): the
 * connection tracker, protocol sessions, tracer and span builder, and the
 * Zipkin JSON of every span (as -o writes it, without the write), no kernel.
 *
 *   bench_replay [-p PASSES] [-r ROUNDS] FILE...
 *
 * Each round replays a file PASSES times (each pass on fresh connections and
 * later timestamps, so nothing is mistaken for a retransmission) on one
 * thread. Prints one line per file, medians of the rounds: spans per second
 * of CPU, CPU per span, per event and per payload byte (ns, and TSC cycles
 * where there is one). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#if defined(__x86_64__)
#include <x86intrin.h>
#endif

#include "capture/clock.h"
#include "event_file.h"
#include "pipeline.h"
#include "span/span_format.h"

struct json_sink {
	char buf[SPAN_JSON_MAX];
	struct span_json_cache cache; /* as the agent's outputs keep one */
	uint64_t spans, bytes;
};

static void write_json(void *ctx, const struct span *s)
{
	struct json_sink *j = ctx;

	j->bytes += span_zipkin_json_cached(s, j->buf, sizeof(j->buf), &j->cache);
	j->spans++;
}

static uint64_t cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t cycles(void)
{
#if defined(__x86_64__)
	return __rdtsc();
#else
	return 0;
#endif
}

struct round {
	uint64_t ns, cycles, spans, errors;
};

/* Problems a well-formed recording must not show: any of them makes the
 * figures meaningless, so the benchmark fails. */
static uint64_t stream_errors(const struct sockspan_stats *st)
{
	return st->stream_gaps + st->stream_resyncs + st->http1_parse_errors + st->h2_frame_errors +
	       st->h2_hpack_errors + st->redis_parse_errors;
}

static int replay(const struct event_file *e, unsigned passes, struct round *out)
{
	static struct sockspan_stats stats;
	static struct json_sink sink;
	static struct pipeline p;
	struct pipeline_opts o = {};
	uint64_t t0 = e->recs[0]->ts_ns, span_ns = e->recs[e->n - 1]->ts_ns - t0 + 1000000000ull;
	uint64_t c0, n0;

	memset(&stats, 0, sizeof(stats));
	memset(&sink, 0, sizeof(sink));
	if (pipeline_init(&p, &o, &stats) || span_builder_add_sink(&p.builder, write_json, &sink))
		return -1;
	n0 = cpu_ns();
	c0 = cycles();
	for (unsigned k = 0; k < passes; k++) {
		for (size_t i = 0; i < e->n; i++) {
			struct ss_event ev = *e->recs[i];

			ev.sock_ino += (uint64_t)(k + 1) << 40;
			ev.ts_ns += k * span_ns;
			pipeline_event(&p, &ev, (const uint8_t *)(e->recs[i] + 1));
		}
		pipeline_tick(&p, t0 + (k + 1) * span_ns);
	}
	pipeline_flush(&p);
	out->cycles = cycles() - c0;
	out->ns = cpu_ns() - n0;
	out->spans = sink.spans;
	out->errors = stream_errors(&stats);
	pipeline_free(&p);
	return 0;
}

static int by_ns(const void *a, const void *b)
{
	const struct round *x = a, *y = b;

	return x->ns < y->ns ? -1 : x->ns > y->ns;
}

int main(int argc, char **argv)
{
	unsigned passes = 20, rounds = 5;
	int opt;

	while ((opt = getopt(argc, argv, "p:r:")) != -1) {
		if (opt == 'p')
			passes = (unsigned)atoi(optarg);
		else if (opt == 'r')
			rounds = (unsigned)atoi(optarg);
		else
			return 2;
	}
	if (optind >= argc || passes == 0 || rounds == 0 || rounds > 99) {
		fprintf(stderr, "usage: bench_replay [-p PASSES] [-r ROUNDS] FILE...\n");
		return 2;
	}
	clock_sync();
	printf("Userspace pipeline on recorded streams (tracker, sessions, tracer, spans, JSON), "
	       "%u passes x %u rounds, medians\n", passes, rounds);
	printf("%-26s %8s %9s %9s %12s %9s %9s %9s %9s\n", "stream", "events", "bytes/ev", "spans",
	       "spans/s", "ns/span", "ns/event", "ns/byte", "cyc/byte");
	for (int f = optind; f < argc; f++) {
		struct round r[99], *m;
		struct event_file e;
		char err[256];
		const char *name = strrchr(argv[f], '/') ? strrchr(argv[f], '/') + 1 : argv[f];

		if (event_file_load(&e, argv[f], err, sizeof(err)) || e.n == 0) {
			fprintf(stderr, "bench_replay: %s\n", e.n ? err : "no events");
			return 1;
		}
		for (unsigned i = 0; i < rounds; i++) {
			if (replay(&e, passes, &r[i])) {
				fprintf(stderr, "bench_replay: out of memory\n");
				return 1;
			}
			if (r[i].errors || r[i].spans == 0) {
				fprintf(stderr, "bench_replay: %s: %llu spans, %llu stream errors: not a clean recording\n",
					name, (unsigned long long)r[i].spans, (unsigned long long)r[i].errors);
				return 1;
			}
		}
		qsort(r, rounds, sizeof(r[0]), by_ns);
		m = &r[rounds / 2];
		double events = (double)e.n * passes, bytes = (double)e.payload_bytes * passes;
		printf("%-26s %8zu %9.0f %9llu %12.0f %9.0f %9.0f %9.2f %9.2f\n", name, e.n,
		       (double)e.payload_bytes / (double)e.n, (unsigned long long)(m->spans / passes),
		       m->spans / (m->ns / 1e9), (double)m->ns / (double)m->spans, m->ns / events, m->ns / bytes,
		       m->cycles / bytes);
		event_file_free(&e);
	}
	return 0;
}
