/* Requests awaiting their responses on one connection, oldest first (keep-
 * alive, pipelining), shared by the request/response protocols (HTTP/1,
 * Redis). A marker stands for an unknown number of exchanges lost in a
 * capture gap, so a response is never paired with the wrong request.
 *
 * Elements are the caller's type; its first member must be `bool lost`
 * (true for a marker). Storage grows on demand up to a bound. */
#ifndef SOCKSPAN_REQUEST_QUEUE_H
#define SOCKSPAN_REQUEST_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Called for every request dropped unanswered, before it is gone. */
typedef void (*request_queue_drop_fn)(void *elem, void *ctx);

struct request_queue {
	unsigned char *items;  /* ring of cap elements of elem_size bytes */
	size_t elem_size;
	unsigned head, count, cap, max;
	uint64_t *unanswered;  /* bumped for every request dropped unanswered */
	request_queue_drop_fn on_drop;
	void *drop_ctx;
};

/* max: requests kept at most (a bound against hostile peers). unanswered: the
 * caller's counter of requests dropped without an answer; on_drop (may be
 * NULL) sees each of them (to end its exchange). */
/* Heap bytes the queue's storage takes. */
static inline size_t request_queue_footprint(const struct request_queue *q)
{
	return (size_t)q->cap * q->elem_size;
}

void request_queue_init(struct request_queue *q, size_t elem_size, unsigned max, uint64_t *unanswered,
			request_queue_drop_fn on_drop, void *drop_ctx);
/* Drops (and counts) what is queued; frees the storage. */
void request_queue_free(struct request_queue *q);
/* An empty queue frees its storage (a push makes it again). */
void request_queue_trim(struct request_queue *q);
/* A zeroed element at the back, or NULL when max are queued or memory runs out. */
void *request_queue_push(struct request_queue *q);
/* Oldest / newest element, NULL when empty. */
void *request_queue_front(const struct request_queue *q);
void *request_queue_back(const struct request_queue *q);
/* Removes the oldest element (the queue must not be empty). */
void request_queue_pop(struct request_queue *q);
/* Drops every element, counting the requests (not the markers) as unanswered. */
void request_queue_drop_all(struct request_queue *q);
/* Queues a marker (one stands for any number). When the queue is full, the
 * newest request becomes the marker and is counted unanswered. */
void request_queue_push_marker(struct request_queue *q);
/* Is the element a marker? */
static inline bool request_queue_is_marker(const void *e)
{
	return *(const bool *)e;
}

#endif
