/* Records what the kernel hands to userspace, for the replay benchmark and
 * tests (the .ssev.gz files in tests/data, made by tests/bench/record.py). A test tool,
 * not part of the agent: the file holds raw payload bytes, secrets included,
 * so only the project's own test traffic is recorded with it.
 *
 *   record_events OUT [PID]...   (no PID: every process)
 *
 * Prints "ready" on stderr once attached, records until SIGINT or SIGTERM,
 * then drains the ring buffer and prints the number of events. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/capture.h"
#include "event_file.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

struct recorder {
	gzFile f;
	unsigned long long events;
	int failed;
};

static void on_event(void *ctx, const struct ss_event *ev, const uint8_t *payload)
{
	struct recorder *r = ctx;

	if (event_file_write(r->f, ev, payload))
		r->failed = 1;
	r->events++;
}

int main(int argc, char **argv)
{
	struct capture_opts o = { .max_payload = SS_PAYLOAD_DEFAULT, .ringbuf_bytes = 64u << 20 };
	struct sigaction sa = { .sa_handler = on_signal };
	struct recorder rec = {};
	uint32_t pids[64];
	struct capture *c;
	char err[512];

	if (argc < 2 || argc - 2 > 64) {
		fprintf(stderr, "usage: record_events OUT [PID]... (at most 64)\n");
		return 2;
	}
	for (int i = 2; i < argc; i++)
		pids[i - 2] = (uint32_t)strtoul(argv[i], NULL, 10);
	o.pids = pids;
	o.npids = (size_t)argc - 2;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	rec.f = gzopen(argv[1], "wb9");
	if (!rec.f || event_file_write_header(rec.f)) {
		fprintf(stderr, "record_events: cannot write %s\n", argv[1]);
		return 1;
	}
	c = capture_new(&o, on_event, &rec, err, sizeof(err));
	if (!c) {
		fprintf(stderr, "record_events: %s\n", err);
		return 1;
	}
	fprintf(stderr, "ready\n");
	while (!stop) {
		int r = capture_poll(c, 100);

		if (r < 0 && r != -EINTR) {
			fprintf(stderr, "record_events: ring buffer: %s\n", strerror(-r));
			break;
		}
	}
	capture_drain(c);
	uint64_t k[SS_CNT__MAX];
	capture_counters(c, k);
	capture_free(c);
	if (gzclose(rec.f) != Z_OK || rec.failed) {
		fprintf(stderr, "record_events: writing %s failed\n", argv[1]);
		return 1;
	}
	fprintf(stderr, "%llu events, %llu lost, %llu payload bytes truncated\n", rec.events,
		(unsigned long long)k[SS_CNT_RINGBUF_LOST], (unsigned long long)k[SS_CNT_TRUNCATED_BYTES]);
	return k[SS_CNT_RINGBUF_LOST] ? 1 : 0;
}
