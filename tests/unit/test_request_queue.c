/* The request queue shared by HTTP/1 and Redis: order, bounds, markers. */
#include <criterion/criterion.h>

#include "session/request_queue.h"

struct item {
	bool lost;
	int n;
};

static uint64_t unanswered;
/* What on_drop saw: the n of every request dropped, in order. */
static int dropped[256];
static unsigned ndropped;

static void on_drop(void *elem, void *ctx)
{
	cr_assert_eq(ctx, &unanswered);
	cr_assert(!((struct item *)elem)->lost, "markers are not requests");
	cr_assert_lt(ndropped, 256);
	dropped[ndropped++] = ((struct item *)elem)->n;
}

static struct request_queue fresh(unsigned max)
{
	struct request_queue q;

	unanswered = 0;
	ndropped = 0;
	request_queue_init(&q, sizeof(struct item), max, &unanswered, on_drop, &unanswered);
	return q;
}

static void push(struct request_queue *q, int n)
{
	struct item *it = request_queue_push(q);

	cr_assert_not_null(it);
	cr_assert(!it->lost && it->n == 0, "pushed elements start zeroed");
	it->n = n;
}

Test(request_queue, fifo_across_growth_and_wraparound)
{
	struct request_queue q = fresh(64);
	int next = 0;

	/* Interleave pushes and pops so the ring wraps while it grows. */
	for (int i = 0; i < 50; i++) {
		push(&q, i);
		if (i % 3 == 2) {
			cr_assert_eq(((struct item *)request_queue_front(&q))->n, next++);
			request_queue_pop(&q);
		}
	}
	cr_assert_eq(((struct item *)request_queue_back(&q))->n, 49);
	while (q.count) {
		cr_assert_eq(((struct item *)request_queue_front(&q))->n, next++);
		request_queue_pop(&q);
	}
	cr_assert_eq(next, 50);
	cr_assert_null(request_queue_front(&q));
	request_queue_free(&q);
	cr_assert_eq(unanswered, 0);
}

Test(request_queue, bounded)
{
	struct request_queue q = fresh(5);

	for (int i = 0; i < 5; i++)
		push(&q, i);
	cr_assert_null(request_queue_push(&q));
	cr_assert_eq(q.count, 5);
	request_queue_free(&q);
	cr_assert_eq(unanswered, 5, "freeing counts what was never answered");
}

Test(request_queue, one_marker_stands_for_any_number)
{
	struct request_queue q = fresh(8);

	push(&q, 1);
	request_queue_push_marker(&q);
	request_queue_push_marker(&q);
	cr_assert_eq(q.count, 2);
	cr_assert(request_queue_is_marker(request_queue_back(&q)));
	request_queue_drop_all(&q);
	cr_assert_eq(unanswered, 1, "markers are not requests");
	cr_assert_eq(q.count, 0);
	request_queue_free(&q);
}

Test(request_queue, marker_on_a_full_queue_replaces_the_newest)
{
	struct request_queue q = fresh(3);

	push(&q, 1);
	push(&q, 2);
	push(&q, 3);
	request_queue_push_marker(&q);
	cr_assert_eq(q.count, 3);
	cr_assert_eq(unanswered, 1);
	cr_assert(request_queue_is_marker(request_queue_back(&q)));
	cr_assert_eq(((struct item *)request_queue_front(&q))->n, 1);
	request_queue_free(&q);
	cr_assert_eq(unanswered, 3);
}

Test(request_queue, every_request_dropped_unanswered_is_seen_once)
{
	struct request_queue q = fresh(3);

	push(&q, 1);
	push(&q, 2);
	request_queue_push_marker(&q);
	cr_assert_null(request_queue_push(&q)); /* full: 1, 2, marker */
	request_queue_pop(&q); /* answered: not dropped */
	push(&q, 4);
	request_queue_push_marker(&q); /* full: 4 becomes the marker */
	cr_expect_eq(ndropped, 1);
	cr_expect_eq(dropped[0], 4);
	request_queue_free(&q); /* 2 left (and two markers) */
	cr_expect_eq(ndropped, 2);
	cr_expect_eq(dropped[1], 2);
	cr_expect_eq(unanswered, 2);
}

/* An idle connection's empty queue gives its storage back; one still waiting
 * for answers keeps it, and a trimmed queue works as a new one. */
Test(request_queue, trim_frees_only_an_empty_queue)
{
	struct request_queue q = fresh(64);

	push(&q, 1);
	push(&q, 2);
	request_queue_trim(&q);
	cr_assert_not_null(q.items);
	cr_assert_eq(((struct item *)request_queue_front(&q))->n, 1);
	request_queue_pop(&q);
	request_queue_pop(&q);
	request_queue_trim(&q);
	cr_assert_null(q.items);
	cr_assert_eq(q.cap, 0);
	cr_assert_null(request_queue_front(&q));
	push(&q, 3);
	cr_assert_eq(((struct item *)request_queue_back(&q))->n, 3);
	request_queue_pop(&q);
	request_queue_free(&q);
	cr_assert_eq(unanswered, 0);
}
