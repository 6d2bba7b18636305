/* One direction of a TCP connection, reassembled from syscall events.
 *
 * Events carry the TCP sequence number of their first byte, so a missing
 * event (ring buffer full) shows as a jump and is reported as a gap of known
 * length instead of silently gluing unrelated bytes together. Bytes the
 * protocol parser has not consumed yet (a head split across reads) are kept;
 * the rest is dropped as soon as it is parsed. */
#ifndef SOCKSPAN_STREAM_H
#define SOCKSPAN_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Unparsed bytes kept per direction: above the largest head a parser accepts
 * (H1_MAX_HEAD_LEN), so only a hostile or desynchronised stream reaches it. */
#define STREAM_MAX_BUFFERED (128 * 1024)
/* Arrival times remembered for buffered bytes; older ones are merged. */
#define STREAM_MAX_SEGMENTS 16

struct stream_segment {
	size_t end;     /* offset in buf just past this event's bytes */
	uint64_t ts_ns; /* when they arrived */
	uint32_t tid;   /* the thread that moved them */
};

struct stream {
	uint8_t *buf;
	size_t len, cap;
	struct stream_segment seg[STREAM_MAX_SEGMENTS];
	unsigned nseg;
	uint32_t buf_seq;  /* TCP sequence number of buf[0]: buffered bytes are contiguous */
	uint32_t next_seq; /* TCP sequence number expected next */
	bool seq_known;
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
 * tracker clears the buffer at every gap it cannot skip). Returns 0, or -1
 * when the buffer would exceed STREAM_MAX_BUFFERED or memory runs out (the
 * caller resets the stream and resynchronises). */
int stream_append(struct stream *s, const uint8_t *data, size_t len, uint64_t ts_ns, uint32_t seq, uint32_t tid);
/* Drops the first n buffered bytes (n <= len). */
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
/* Drops every buffered byte (keeps the sequence tracking). */
void stream_clear(struct stream *s);
/* An empty stream gives its buffer back: an idle connection holds none. */
void stream_trim(struct stream *s);
void stream_free(struct stream *s);

#endif
