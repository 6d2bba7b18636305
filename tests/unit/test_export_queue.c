// SPDX-License-Identifier: MIT
/* Unit tests for export_queue.c: spans come out exactly as they went in, in
 * order, once; both bounds hold and every refusal is counted; the wake-up
 * fires; a producer and a consumer thread agree on everything. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "export/export_queue.h"
#include "span/span.h"

static const char *const keys[] = { "http.method", "http.path", "http.status_code", "error", "k4", "k5",
				    "k6", "k7", "k8", "k9", "k10", "k11", "k12", "k13", "k14", "k15",
				    "k16", "k17", "k18", "k19", "k20", "k21", "k22", "k23" };
_Static_assert(sizeof(keys) / sizeof(keys[0]) == SPAN_MAX_TAGS, "a key for every tag a span holds");

/* A span whose every field depends on seq, with ntags tags of vlen bytes. */
static void make_span(struct span *s, uint64_t seq, unsigned ntags, size_t vlen)
{
	char value[SPAN_TAG_VALUE_MAX];

	memset(s, 0, sizeof(*s));
	for (int i = 0; i < 16; i++)
		s->trace_id[i] = (uint8_t)(seq * 7 + i);
	for (int i = 0; i < 8; i++) {
		s->id[i] = (uint8_t)(seq * 13 + i);
		s->parent_id[i] = (uint8_t)(seq * 17 + i);
	}
	s->has_parent = seq & 1;
	s->trace_id_len = seq & 2 ? 8 : 16;
	s->shared = seq & 4;
	s->debug = seq & 8;
	s->kind = seq % 3 ? SPAN_KIND_SERVER : SPAN_KIND_CLIENT;
	snprintf(s->name, sizeof(s->name), "get /items/%llu", (unsigned long long)seq);
	s->timestamp_us = 1795301147123456ull + seq;
	s->duration_us = seq * 3;
	snprintf(s->local.service_name, sizeof(s->local.service_name), "svc-%llu", (unsigned long long)seq % 5);
	s->local.family = AF_INET;
	inet_pton(AF_INET, "10.1.2.3", s->local.addr);
	s->local.port = (uint16_t)(8000 + seq % 1000);
	s->remote.family = AF_INET6;
	inet_pton(AF_INET6, "2001:db8::77", s->remote.addr);
	s->remote.port = (uint16_t)(40000 + seq % 20000);
	memset(value, 'a' + (int)(seq % 26), vlen);
	for (unsigned i = 0; i < ntags; i++)
		span_add_tag(s, keys[i], value, vlen);
	s->pid = (uint32_t)seq;
}

/* Every field a consumer may look at is equal. */
static void expect_same(const struct span *a, const struct span *b)
{
	cr_assert_arr_eq(a->trace_id, b->trace_id, 16);
	cr_assert_eq(a->trace_id_len, b->trace_id_len);
	cr_assert_eq(a->shared, b->shared);
	cr_assert_eq(a->debug, b->debug);
	cr_assert_arr_eq(a->id, b->id, 8);
	cr_assert_eq(a->has_parent, b->has_parent);
	if (a->has_parent)
		cr_assert_arr_eq(a->parent_id, b->parent_id, 8);
	cr_assert_eq(a->kind, b->kind);
	cr_assert_eq(strnlen(a->name, sizeof(a->name)), strnlen(b->name, sizeof(b->name)));
	cr_assert_arr_eq(a->name, b->name, strnlen(a->name, sizeof(a->name)));
	cr_assert_eq(a->timestamp_us, b->timestamp_us);
	cr_assert_eq(a->duration_us, b->duration_us);
	cr_assert_eq(a->pid, b->pid);
	for (int e = 0; e < 2; e++) {
		const struct span_endpoint *x = e ? &a->remote : &a->local, *y = e ? &b->remote : &b->local;
		size_t n = strnlen(x->service_name, sizeof(x->service_name));

		cr_assert_eq(n, strnlen(y->service_name, sizeof(y->service_name)));
		cr_assert_arr_eq(x->service_name, y->service_name, n);
		cr_assert_eq(x->family, y->family);
		cr_assert_arr_eq(x->addr, y->addr, 16);
		cr_assert_eq(x->port, y->port);
	}
	cr_assert_eq(a->num_tags, b->num_tags);
	for (unsigned i = 0; i < a->num_tags; i++) {
		size_t n = strnlen(a->tags[i].value, SPAN_TAG_VALUE_MAX);

		cr_assert_eq(a->tags[i].key, b->tags[i].key);
		cr_assert_eq(n, strnlen(b->tags[i].value, SPAN_TAG_VALUE_MAX));
		cr_assert_arr_eq(a->tags[i].value, b->tags[i].value, n);
	}
}

Test(export_queue, bad_bounds_are_refused)
{
	cr_assert_null(export_queue_new(0, 1 << 20));
	cr_assert_null(export_queue_new(10, EXPORT_QUEUE_MIN_BYTES - 1));
}

Test(export_queue, spans_come_out_as_they_went_in)
{
	struct export_queue *q = export_queue_new(100, 1 << 20);
	struct span in[4], out;

	cr_assert_not_null(q);
	make_span(&in[0], 1, 0, 0);
	make_span(&in[1], 2, 3, 10);
	make_span(&in[2], 3, SPAN_MAX_TAGS, SPAN_TAG_VALUE_MAX - 1);
	/* Strings filling their arrays without a NUL, as span_format.c allows. */
	make_span(&in[3], 4, 1, 5);
	memset(in[3].name, 'n', sizeof(in[3].name));
	memset(in[3].local.service_name, 's', sizeof(in[3].local.service_name));
	memset(in[3].tags[0].value, 'v', sizeof(in[3].tags[0].value));
	for (int i = 0; i < 4; i++)
		cr_assert(export_queue_push(q, &in[i]));
	for (int i = 0; i < 4; i++) {
		cr_assert(export_queue_peek(q, &out));
		expect_same(&in[i], &out);
		export_queue_advance(q);
	}
	cr_assert_not(export_queue_peek(q, &out));
	export_queue_free(q);
}

Test(export_queue, read_spans_stay_queued_until_released)
{
	struct export_queue *q = export_queue_new(100, 1 << 20);
	struct export_queue_stats st;
	struct span in, a, b;

	make_span(&in, 7, 2, 4);
	cr_assert(export_queue_push(q, &in));
	make_span(&in, 8, 2, 4);
	cr_assert(export_queue_push(q, &in));
	/* peek without advance: the same span again */
	cr_assert(export_queue_peek(q, &a));
	cr_assert(export_queue_peek(q, &b));
	cr_assert_eq(a.pid, 7);
	cr_assert_eq(b.pid, 7);
	export_queue_advance(q);
	export_queue_stats(q, &st);
	cr_assert_eq(st.spans, 2);
	export_queue_release(q);
	export_queue_stats(q, &st);
	cr_assert_eq(st.spans, 1);
	cr_assert_eq(st.pushed, 2);
	cr_assert(export_queue_peek(q, &a));
	cr_assert_eq(a.pid, 8);
	export_queue_advance(q);
	export_queue_release(q);
	export_queue_stats(q, &st);
	cr_assert_eq(st.spans, 0);
	cr_assert_eq(st.bytes, 0);
	cr_assert_eq(export_queue_unread_bytes(q), 0);
	export_queue_free(q);
}

Test(export_queue, span_bound_drops_newest_and_counts)
{
	struct export_queue *q = export_queue_new(3, 1 << 20);
	struct export_queue_stats st;
	struct span s;

	for (uint64_t i = 0; i < 5; i++) {
		make_span(&s, i, 1, 3);
		cr_assert_eq(export_queue_push(q, &s), i < 3, "push %llu", (unsigned long long)i);
	}
	export_queue_stats(q, &st);
	cr_assert_eq(st.pushed, 3);
	cr_assert_eq(st.dropped_full, 2);
	cr_assert_eq(st.spans, 3);
	/* Reading is not freeing: still full. */
	cr_assert(export_queue_peek(q, &s));
	export_queue_advance(q);
	make_span(&s, 9, 1, 3);
	cr_assert_not(export_queue_push(q, &s));
	export_queue_release(q);
	cr_assert(export_queue_push(q, &s));
	/* The oldest kept spans come out, in order: 1, 2, then 9. */
	for (uint32_t want = 1; want <= 3; want++) {
		cr_assert(export_queue_peek(q, &s));
		cr_assert_eq(s.pid, want == 3 ? 9 : want);
		export_queue_advance(q);
	}
	export_queue_stats(q, &st);
	cr_assert_eq(st.dropped_full, 3);
	export_queue_free(q);
}

Test(export_queue, byte_bound_holds)
{
	struct export_queue *q = export_queue_new(1000000, EXPORT_QUEUE_MIN_BYTES);
	struct export_queue_stats st;
	struct span s;
	uint64_t accepted = 0;

	for (uint64_t i = 0; i < 100; i++) {
		make_span(&s, i, SPAN_MAX_TAGS, SPAN_TAG_VALUE_MAX - 1);
		accepted += export_queue_push(q, &s);
	}
	export_queue_stats(q, &st);
	cr_assert_gt(accepted, 0);
	cr_assert_lt(accepted, 100);
	cr_assert_eq(st.pushed, accepted);
	cr_assert_eq(st.dropped_full, 100 - accepted);
	cr_assert_leq(st.bytes, st.max_bytes);
	cr_assert_eq(st.max_bytes, EXPORT_QUEUE_MIN_BYTES);
	/* A small span still fits in what the big ones left, if anything. */
	for (uint64_t i = 0; i < accepted; i++) {
		cr_assert(export_queue_peek(q, &s));
		cr_assert_eq(s.pid, i);
		export_queue_advance(q);
	}
	cr_assert_not(export_queue_peek(q, &s));
	export_queue_free(q);
}

/* Sizes that do not divide the ring: records wrap at every possible offset. */
Test(export_queue, fifo_across_many_wraps)
{
	struct export_queue *q = export_queue_new(50, EXPORT_QUEUE_MIN_BYTES + 8);
	uint64_t next_in = 0, next_out = 0;
	struct span s;

	for (int round = 0; round < 2000; round++) {
		unsigned burst = 1 + round % 7;

		for (unsigned i = 0; i < burst; i++) {
			make_span(&s, next_in, (unsigned)(next_in % (SPAN_MAX_TAGS + 1)), next_in % 500);
			if (export_queue_push(q, &s))
				next_in++;
		}
		for (int i = 0; i < 1 + round % 5 && export_queue_peek(q, &s); i++) {
			struct span want;

			make_span(&want, next_out, (unsigned)(next_out % (SPAN_MAX_TAGS + 1)), next_out % 500);
			expect_same(&want, &s);
			export_queue_advance(q);
			next_out++;
		}
		export_queue_release(q);
	}
	cr_assert_gt(next_out, 1000);
	export_queue_free(q);
}

static bool fd_readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) == 1;
}

Test(export_queue, wakes_the_consumer_once_enough_is_queued)
{
	struct export_queue *q = export_queue_new(100, 1 << 20);
	int fd = export_queue_wake_fd(q);
	struct span s;
	uint64_t one;

	make_span(&s, 1, 2, 20);
	cr_assert_not(export_queue_arm(q, 1));
	cr_assert_not(fd_readable(fd));
	cr_assert(export_queue_push(q, &s));
	cr_assert(fd_readable(fd));
	export_queue_clear_wake(q);
	cr_assert_not(fd_readable(fd));
	one = export_queue_unread_bytes(q);
	cr_assert_gt(one, 0);
	/* Already there: no need to sleep. */
	cr_assert(export_queue_arm(q, one));
	/* Not armed: pushes do not write the eventfd. */
	cr_assert(export_queue_push(q, &s));
	cr_assert_not(fd_readable(fd));
	/* Armed for more than is queued: woken only when it is. */
	cr_assert_not(export_queue_arm(q, 4 * one));
	cr_assert(export_queue_push(q, &s));
	cr_assert_not(fd_readable(fd));
	cr_assert(export_queue_push(q, &s));
	cr_assert(fd_readable(fd));
	export_queue_free(q);
}

#define THREAD_SPANS 200000

struct producer_ctx {
	struct export_queue *q;
	uint64_t accepted[THREAD_SPANS / 64 + 1]; /* bitmap of sequence numbers pushed */
};

static void *producer(void *arg)
{
	struct producer_ctx *p = arg;
	struct span s;

	for (uint64_t i = 0; i < THREAD_SPANS; i++) {
		make_span(&s, i, (unsigned)(i % 4), i % 50);
		if (export_queue_push(p->q, &s))
			p->accepted[i / 64] |= 1ull << (i % 64);
	}
	return NULL;
}

/* Real threads, a small queue so both full and empty happen often: the
 * consumer sees exactly the accepted spans, in order, intact. */
Test(export_queue, one_producer_one_consumer_threads)
{
	static struct producer_ctx p;
	static uint64_t seen_bits[THREAD_SPANS / 64 + 1];
	struct export_queue_stats st;
	pthread_t t;
	struct span s, want;
	uint64_t seen = 0, last = 0, drops = 0, next_wait = 0;
	bool done = false;
	unsigned batch = 0;

	memset(&p, 0, sizeof(p));
	p.q = export_queue_new(64, EXPORT_QUEUE_MIN_BYTES);
	cr_assert_eq(pthread_create(&t, NULL, producer, &p), 0);
	while (!done) {
		export_queue_stats(p.q, &st);
		done = st.pushed + st.dropped_full == THREAD_SPANS;
		/* Every 5,000 spans, wait for the producer to find the queue full:
		 * how fast each thread runs is the scheduler's choice, not ours. */
		if (!done && seen >= next_wait) {
			if (st.dropped_full == drops) {
				sched_yield();
				continue;
			}
			drops = st.dropped_full;
			next_wait = seen + 5000;
		}
		while (export_queue_peek(p.q, &s)) {
			cr_assert(seen == 0 || s.pid > last, "out of order: %u after %llu", s.pid,
				  (unsigned long long)last);
			make_span(&want, s.pid, s.pid % 4, s.pid % 50);
			expect_same(&want, &s);
			seen_bits[s.pid / 64] |= 1ull << (s.pid % 64);
			last = s.pid;
			seen++;
			export_queue_advance(p.q);
			if (++batch % 7 == 0)
				export_queue_release(p.q);
		}
		export_queue_release(p.q);
	}
	pthread_join(t, NULL);
	export_queue_stats(p.q, &st);
	cr_assert_eq(seen, st.pushed);
	cr_assert_eq(st.pushed + st.dropped_full, THREAD_SPANS);
	cr_assert_gt(st.dropped_full, 0, "the queue never filled: the test proves less than it says");
	/* Exactly the spans the producer was told were accepted. */
	cr_assert_arr_eq(seen_bits, p.accepted, sizeof(seen_bits));
	cr_assert_eq(st.spans, 0);
	export_queue_free(p.q);
}
