/* Records what the kernel hands to userspace, for the replay benchmark and
 * tests (the .ssev.gz files in tests/data, made by tests/bench/record.py). A test tool,
 * not part of the agent: the file holds raw payload bytes, secrets included,
 * so only the project's own test traffic is recorded with it.
 *
 *   record_events [--hooks socket|syscalls] [--cgroup ID] OUT [PID]...
 *
 * No PID and no --cgroup (a cgroup v2 id, its directory's inode number):
 * every process.
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

static int usage(void)
{
	fprintf(stderr, "usage: record_events [--hooks socket|syscalls] [--cgroup ID] OUT [PID]... (at most 64)\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct capture_opts o = { .max_payload = SS_PAYLOAD_DEFAULT, .ringbuf_bytes = 64u << 20 };
	struct sigaction sa = { .sa_handler = on_signal };
	struct recorder rec = {};
	uint32_t pids[64];
	uint64_t cgroup;
	struct capture *c;
	char err[512];
	int i = 1;

	for (; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
		if (strcmp(argv[i], "--hooks") == 0 && strcmp(argv[i + 1], "socket") == 0)
			o.hooks = CAPTURE_HOOKS_SOCKET;
		else if (strcmp(argv[i], "--hooks") == 0 && strcmp(argv[i + 1], "syscalls") == 0)
			o.hooks = CAPTURE_HOOKS_SYSCALLS;
		else if (strcmp(argv[i], "--cgroup") == 0) {
			cgroup = strtoull(argv[i + 1], NULL, 10);
			o.cgroups = &cgroup;
			o.ncgroups = 1;
		} else
			return usage();
	}
	if (i >= argc || argc - i - 1 > 64)
		return usage();
	for (int k = i + 1; k < argc; k++)
		pids[k - i - 1] = (uint32_t)strtoul(argv[k], NULL, 10);
	o.pids = pids;
	o.npids = (size_t)(argc - i - 1);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	rec.f = gzopen(argv[i], "wb9");
	if (!rec.f || event_file_write_header(rec.f)) {
		fprintf(stderr, "record_events: cannot write %s\n", argv[i]);
		return 1;
	}
	c = capture_new(&o, on_event, &rec, err, sizeof(err));
	if (!c) {
		fprintf(stderr, "record_events: %s\n", err);
		return 1;
	}
	fprintf(stderr, "ready\n");
	while (!stop) {
		int r = capture_poll(c, 100, NULL);

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
		fprintf(stderr, "record_events: writing %s failed\n", argv[i]);
		return 1;
	}
	fprintf(stderr, "%llu events, %llu lost, %llu payload bytes truncated\n", rec.events,
		(unsigned long long)k[SS_CNT_RINGBUF_LOST], (unsigned long long)k[SS_CNT_TRUNCATED_BYTES]);
	return k[SS_CNT_RINGBUF_LOST] ? 1 : 0;
}
