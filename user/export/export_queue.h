/* The bounded queue between the capture thread (one producer) and the
 * exporter thread (one consumer).
 *
 * Spans are stored packed (fixed fields plus only the bytes their strings
 * use, a few hundred bytes instead of sizeof(struct span)) in one ring of
 * max_bytes allocated up front, so memory stays bounded whatever the
 * collector does. A push never blocks and never allocates: when the ring
 * holds max_spans spans or has no room, the new span is dropped and counted.
 *
 * The consumer reads without freeing: it peeks spans into a batch, and
 * releases them only once the batch is delivered or given up, so the queue
 * bounds cover the batch in flight too and a retry resends the same spans. */
#ifndef SOCKSPAN_EXPORT_QUEUE_H
#define SOCKSPAN_EXPORT_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "span/span.h"

/* The ring must hold at least a few of the largest spans (16 tags of 511
 * bytes: about 9 KiB packed). */
#define EXPORT_QUEUE_MIN_BYTES (64 * 1024)

struct export_queue;

struct export_queue_stats {
	uint64_t pushed;        /* spans accepted */
	uint64_t dropped_full;  /* spans refused because the queue was full */
	uint64_t spans;         /* spans in the queue now (read or not, until released) */
	uint64_t bytes;         /* ring bytes they use */
	uint64_t max_spans, max_bytes;
};

/* max_spans >= 1, max_bytes >= EXPORT_QUEUE_MIN_BYTES (rounded up to 8).
 * Returns NULL on ENOMEM or bad bounds (errno says which). */
struct export_queue *export_queue_new(size_t max_spans, size_t max_bytes);
void export_queue_free(struct export_queue *q);

/* Producer. Copies s into the queue. Returns true, or false when the queue is
 * full (the span is dropped and counted in dropped_full). Lock-free. */
bool export_queue_push(struct export_queue *q, const struct span *s);

/* Consumer. Copies the next unread span into out without moving on. Returns
 * false when every queued span has been read. Tag keys point at the
 * producer's string literals (span.h's contract). */
bool export_queue_peek(struct export_queue *q, struct span *out);
/* Marks the span export_queue_peek returned as read. */
void export_queue_advance(struct export_queue *q);
/* Frees every span read so far; their room goes back to the producer. */
void export_queue_release(struct export_queue *q);
/* Ring bytes not read yet: what the producer added since the last read. */
uint64_t export_queue_unread_bytes(const struct export_queue *q);

/* Consumer wake-up: an eventfd that becomes readable once at least `bytes`
 * unread ring bytes are queued. Returns true if they already are (then do not
 * wait). The producer writes the eventfd at most once per arming. */
bool export_queue_arm(struct export_queue *q, uint64_t bytes);
int export_queue_wake_fd(const struct export_queue *q);
/* Empties the eventfd after a wake-up. */
void export_queue_clear_wake(struct export_queue *q);

/* Any thread. */
void export_queue_stats(const struct export_queue *q, struct export_queue_stats *out);

#endif
