/* One direction of a TCP connection, reassembled from syscall events.
 *
 * Events carry the TCP sequence number of their first byte, so a missing
 * event (ring buffer full) shows as a jump and is reported as a gap of known
 * length instead of silently gluing unrelated bytes together.
 *
 * An event's bytes are parsed where they are, not copied: only what the
 * protocol parser leaves (a head split across reads) is kept, in a buffer
 * made for it and freed as soon as it is drained. An idle connection
 * between messages holds no buffer at all. */
#ifndef SOCKSPAN_STREAM_H
#define SOCKSPAN_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Unparsed bytes kept per direction: above the largest head a parser accepts
 * (H1_MAX_HEAD_LEN), so only a hostile or desynchronised stream reaches it. */
#define STREAM_MAX_BUFFERED (128 * 1024)
/* Arrival times remembered for kept bytes; older ones are merged. */
#define STREAM_MAX_SEGMENTS 16

struct stream_segment {
	uint32_t end;   /* offset in buf just past this event's bytes (<= STREAM_MAX_BUFFERED) */
	uint32_t tid;   /* the thread that moved them */
	uint64_t ts_ns; /* when they arrived */
};

struct stream_kept; /* stream.c: kept bytes and their segments, one allocation */

struct stream {
	const uint8_t *buf;        /* the bytes not parsed yet: the last event's own, or kept's */
	size_t len;
	struct stream_kept *kept;  /* NULL: nothing kept */
	struct stream_segment lent;/* while buf is the event's own: its one segment */
	uint32_t buf_seq;  /* TCP sequence number of buf[0]: buffered bytes are contiguous */
	uint32_t next_seq; /* TCP sequence number expected next */
	bool seq_known;
	bool lent_buf;     /* buf is the caller's: stream_keep before it goes away */
};

/* What an event means for the stream's byte positions. */
enum stream_position {
	STREAM_IN_ORDER, /* starts where the previous event ended (or is the first) */
	STREAM_GAP,      /* starts after missing bytes; *missing says how many */
	STREAM_REWIND,   /* overlaps bytes already seen (concurrent writers): resynchronise */
};

/* Records that an event moved len bytes starting at TCP sequence seq and
 * says how it relates to what came before. */
enum stream_position stream_advance(struct stream *s, uint32_t seq, uint32_t len, uint64_t *missing);
/* Appends captured bytes that thread tid moved at ts_ns, starting at TCP
 * sequence number seq; they must follow the buffered bytes, if any (the
 * tracker clears the buffer at every gap it cannot skip). On an empty stream
 * the bytes are not copied: buf points at data, which must stay valid until
 * stream_keep (or a consume of all of them). Returns 0, or -1 when the
 * buffer would exceed STREAM_MAX_BUFFERED or memory runs out (the caller
 * resets the stream and resynchronises). */
int stream_append(struct stream *s, const uint8_t *data, size_t len, uint64_t ts_ns, uint32_t seq, uint32_t tid);
/* Copies what is left of the caller's bytes (stream_append) into a buffer of
 * the stream's own, sized to them. Returns 0, or -1 when memory runs out:
 * the bytes are then dropped (the caller resynchronises). */
int stream_keep(struct stream *s);
/* Drops the first n buffered bytes (n <= len); drained, the buffer is freed. */
void stream_consume(struct stream *s, size_t n);
/* Arrival time of the buffered byte at offset off (off < len). */
uint64_t stream_ts_at(const struct stream *s, size_t off);
/* The thread that moved the buffered byte at offset off (off < len). */
uint32_t stream_tid_at(const struct stream *s, size_t off);
/* TCP sequence number of the buffered byte at offset off: the same number
 * at both ends of the connection. */
static inline uint32_t stream_seq_at(const struct stream *s, size_t off)
{
	return s->buf_seq + (uint32_t)off;
}
/* Arrival times remembered for the buffered bytes (<= STREAM_MAX_SEGMENTS). */
unsigned stream_segments(const struct stream *s);
/* Drops every buffered byte and frees the buffer (keeps the sequence tracking). */
void stream_clear(struct stream *s);
/* Kept bytes of an idle stream (a head that never ends) fit their buffer. */
void stream_trim(struct stream *s);
/* Heap bytes the stream holds. */
size_t stream_footprint(const struct stream *s);
void stream_free(struct stream *s);

#endif
