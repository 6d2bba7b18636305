#include "session/request_queue.h"

#include <stdlib.h>
#include <string.h>

void request_queue_init(struct request_queue *q, size_t elem_size, unsigned max, uint64_t *unanswered,
			request_queue_drop_fn on_drop, void *drop_ctx)
{
	memset(q, 0, sizeof(*q));
	q->elem_size = elem_size;
	q->max = max;
	q->unanswered = unanswered;
	q->on_drop = on_drop;
	q->drop_ctx = drop_ctx;
}

static void drop(struct request_queue *q, void *e)
{
	if (request_queue_is_marker(e))
		return;
	(*q->unanswered)++;
	if (q->on_drop)
		q->on_drop(e, q->drop_ctx);
}

static void *at(const struct request_queue *q, unsigned i)
{
	return q->items + (size_t)((q->head + i) % q->cap) * q->elem_size;
}

void request_queue_free(struct request_queue *q)
{
	request_queue_drop_all(q);
	free(q->items);
	q->items = NULL;
	q->cap = 0;
}

void request_queue_trim(struct request_queue *q)
{
	if (q->count == 0) {
		free(q->items);
		q->items = NULL;
		q->cap = 0;
		q->head = 0;
	}
}

void *request_queue_push(struct request_queue *q)
{
	void *e;

	if (q->count == q->cap) {
		unsigned ncap = q->cap ? q->cap * 2 : 1;
		unsigned char *ni;

		if (q->count >= q->max)
			return NULL;
		if (ncap > q->max)
			ncap = q->max;
		ni = malloc((size_t)ncap * q->elem_size);
		if (!ni)
			return NULL;
		for (unsigned i = 0; i < q->count; i++)
			memcpy(ni + (size_t)i * q->elem_size, at(q, i), q->elem_size);
		free(q->items);
		q->items = ni;
		q->cap = ncap;
		q->head = 0;
	}
	e = at(q, q->count++);
	memset(e, 0, q->elem_size);
	return e;
}

void *request_queue_front(const struct request_queue *q)
{
	return q->count ? at(q, 0) : NULL;
}

void *request_queue_back(const struct request_queue *q)
{
	return q->count ? at(q, q->count - 1) : NULL;
}

void request_queue_pop(struct request_queue *q)
{
	q->head = (q->head + 1) % q->cap;
	q->count--;
}

void request_queue_drop_all(struct request_queue *q)
{
	for (unsigned i = 0; i < q->count; i++)
		drop(q, at(q, i));
	q->count = 0;
}

void request_queue_push_marker(struct request_queue *q)
{
	void *m;

	if (q->count && request_queue_is_marker(request_queue_back(q)))
		return;
	m = request_queue_push(q);
	if (!m) {
		m = request_queue_back(q);
		if (!m)
			return;
		drop(q, m);
		memset(m, 0, q->elem_size);
	}
	*(bool *)m = true;
}
