/*
 * Unit tests for user/stream.c: byte positions from TCP sequence numbers
 * (in order, gap, rewind, across 2^32), the bounded buffer, and the arrival
 * time of buffered bytes through consumes and segment merges, events parsed
 * in place with only their rest kept, buffers freed when drained.
 */
#include <criterion/criterion.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conn/stream.h"

static enum stream_position advance(struct stream *s, uint32_t seq, uint32_t len, uint64_t *missing)
{
	*missing = 12345; /* must be overwritten */
	return stream_advance(s, seq, len, missing);
}

Test(stream_advance, first_event_is_in_order_whatever_its_seq)
{
	struct stream s = { 0 };
	uint64_t missing;

	cr_expect_eq(advance(&s, 0x80000000u, 10, &missing), STREAM_IN_ORDER);
	cr_expect_eq(missing, 0);
	cr_expect(s.seq_known);
	cr_expect_eq(s.next_seq, 0x8000000au);
	stream_free(&s);
}

Test(stream_advance, in_order_gap_rewind)
{
	struct stream s = { 0 };
	uint64_t missing;

	cr_assert_eq(advance(&s, 1000, 100, &missing), STREAM_IN_ORDER);
	cr_expect_eq(advance(&s, 1100, 50, &missing), STREAM_IN_ORDER);
	cr_expect_eq(missing, 0);
	/* an empty event changes nothing */
	cr_expect_eq(advance(&s, 1150, 0, &missing), STREAM_IN_ORDER);
	cr_expect_eq(advance(&s, 1150 + 7, 3, &missing), STREAM_GAP);
	cr_expect_eq(missing, 7);
	cr_expect_eq(s.next_seq, 1160);
	/* overlaps what was seen: rewind, and the stream follows the new position */
	cr_expect_eq(advance(&s, 1159, 10, &missing), STREAM_REWIND);
	cr_expect_eq(missing, 0);
	cr_expect_eq(s.next_seq, 1169);
	cr_expect_eq(advance(&s, 1169, 1, &missing), STREAM_IN_ORDER);
	stream_free(&s);
}

Test(stream_advance, wraparound_in_order)
{
	struct stream s = { 0 };
	uint64_t missing;

	cr_assert_eq(advance(&s, 0xfffffff0u, 0x10, &missing), STREAM_IN_ORDER);
	cr_expect_eq(s.next_seq, 0);
	cr_expect_eq(advance(&s, 0, 0x20, &missing), STREAM_IN_ORDER);
	/* an event that itself crosses 2^32 */
	cr_expect_eq(advance(&s, 0x20, 0xffffffe0u - 8, &missing), STREAM_IN_ORDER);
	cr_expect_eq(s.next_seq, 0xfffffff8u);
	cr_expect_eq(advance(&s, 0xfffffff8u, 0x10, &missing), STREAM_IN_ORDER);
	cr_expect_eq(missing, 0);
	cr_expect_eq(s.next_seq, 8);
	stream_free(&s);
}

Test(stream_advance, wraparound_gap_and_rewind)
{
	struct stream s = { 0 };
	uint64_t missing;

	cr_assert_eq(advance(&s, 0xffffff00u, 0xf0, &missing), STREAM_IN_ORDER);
	/* next_seq 0xfffffff0; the next event starts at 0x10: 0x20 bytes lost across 2^32 */
	cr_expect_eq(advance(&s, 0x10, 4, &missing), STREAM_GAP);
	cr_expect_eq(missing, 0x20);
	cr_expect_eq(s.next_seq, 0x14);
	/* back before 2^32: a rewind, not a gap of ~4 GiB */
	cr_expect_eq(advance(&s, 0xfffffffcu, 8, &missing), STREAM_REWIND);
	cr_expect_eq(missing, 0);
	cr_expect_eq(s.next_seq, 4);
	stream_free(&s);
}

Test(stream_advance, largest_gap)
{
	struct stream s = { 0 };
	uint64_t missing;

	cr_assert_eq(advance(&s, 0xfffffff0u, 0x10, &missing), STREAM_IN_ORDER);
	cr_expect_eq(advance(&s, 0x7fffffffu, 1, &missing), STREAM_GAP);
	cr_expect_eq(missing, 0x7fffffffu);
	stream_free(&s);
}

/* Bytes that follow those buffered (seq 0x1000 when the buffer is empty), moved by thread ts. */
static void append_str(struct stream *s, const char *p, uint64_t ts)
{
	uint32_t seq = s->len ? s->buf_seq + (uint32_t)s->len : 0x1000;

	cr_assert_eq(stream_append(s, (const uint8_t *)p, strlen(p), ts, seq, (uint32_t)ts), 0);
}

Test(stream_buffer, append_consume_keeps_bytes_and_times)
{
	struct stream s = { 0 };

	append_str(&s, "0123456789", 100);
	append_str(&s, "abcdefghij", 200);
	append_str(&s, "ABCDEFGHIJ", 300);
	cr_assert_eq(s.len, 30);
	cr_expect_eq(memcmp(s.buf, "0123456789abcdefghijABCDEFGHIJ", 30), 0);
	cr_expect_eq(stream_ts_at(&s, 0), 100);
	cr_expect_eq(stream_ts_at(&s, 9), 100);
	cr_expect_eq(stream_ts_at(&s, 10), 200);
	cr_expect_eq(stream_ts_at(&s, 19), 200);
	cr_expect_eq(stream_ts_at(&s, 20), 300);
	cr_expect_eq(stream_ts_at(&s, 29), 300);

	/* consume into the middle of the second segment */
	stream_consume(&s, 15);
	cr_assert_eq(s.len, 15);
	cr_expect_eq(memcmp(s.buf, "fghijABCDEFGHIJ", 15), 0);
	cr_expect_eq(stream_ts_at(&s, 0), 200);
	cr_expect_eq(stream_ts_at(&s, 4), 200);
	cr_expect_eq(stream_ts_at(&s, 5), 300);
	cr_expect_eq(stream_ts_at(&s, 14), 300);

	/* consume exactly to a segment boundary */
	stream_consume(&s, 5);
	cr_assert_eq(s.len, 10);
	cr_expect_eq(stream_segments(&s), 1);
	cr_expect_eq(stream_ts_at(&s, 0), 300);

	/* new bytes after a consume get their own time */
	append_str(&s, "xyz", 400);
	cr_expect_eq(stream_ts_at(&s, 9), 300);
	cr_expect_eq(stream_ts_at(&s, 10), 400);
	cr_expect_eq(memcmp(s.buf, "ABCDEFGHIJxyz", 13), 0);

	stream_consume(&s, 0);
	cr_expect_eq(s.len, 13);
	cr_expect_eq(stream_ts_at(&s, 0), 300);

	stream_consume(&s, 13);
	cr_expect_eq(s.len, 0);
	cr_expect_eq(stream_segments(&s), 0);
	append_str(&s, "q", 500);
	cr_expect_eq(stream_ts_at(&s, 0), 500);
	cr_expect_eq(s.buf[0], 'q');
	stream_free(&s);
}

Test(stream_buffer, sequence_numbers_and_threads_follow_consumption)
{
	struct stream s = { 0 };

	append_str(&s, "0123456789", 100);
	append_str(&s, "abcdefghij", 200);
	cr_expect_eq(stream_seq_at(&s, 0), 0x1000);
	cr_expect_eq(stream_seq_at(&s, 12), 0x100c);
	cr_expect_eq(stream_tid_at(&s, 9), 100);
	cr_expect_eq(stream_tid_at(&s, 10), 200);
	stream_consume(&s, 12);
	cr_expect_eq(stream_seq_at(&s, 0), 0x100c);
	cr_expect_eq(stream_tid_at(&s, 0), 200);
	/* Emptied, the next bytes bring their own sequence number (after a gap, say). */
	stream_consume(&s, s.len);
	cr_assert_eq(stream_append(&s, (const uint8_t *)"xy", 2, 300, 0xfffffffeu, 7), 0);
	cr_expect_eq(stream_seq_at(&s, 0), 0xfffffffeu);
	cr_expect_eq(stream_seq_at(&s, 1), 0xffffffffu);
	cr_assert_eq(stream_append(&s, (const uint8_t *)"z", 1, 301, 0, 8), 0);
	/* wraps at 2^32 like TCP's */
	cr_expect_eq(stream_seq_at(&s, 2), 0);
	cr_expect_eq(stream_tid_at(&s, 2), 8);
	stream_free(&s);
}

Test(stream_buffer, empty_append_records_nothing)
{
	struct stream s = { 0 };

	append_str(&s, "ab", 10);
	cr_assert_eq(stream_append(&s, (const uint8_t *)"", 0, 20, 0, 0), 0);
	cr_expect_eq(s.len, 2);
	cr_expect_eq(stream_segments(&s), 1);
	cr_expect_eq(stream_ts_at(&s, 1), 10);
	stream_free(&s);
}

Test(stream_buffer, segments_merge_oldest_first)
{
	struct stream s = { 0 };
	const unsigned n = STREAM_MAX_SEGMENTS + 5;

	/* byte i arrives at time 1000 + i */
	for (unsigned i = 0; i < n; i++) {
		uint8_t b = (uint8_t)i;

		cr_assert_eq(stream_append(&s, &b, 1, 1000 + i, 0, 0), 0);
		cr_assert_eq(stream_keep(&s), 0); /* b changes: as the tracker after each event */
		cr_assert_leq(stream_segments(&s), STREAM_MAX_SEGMENTS);
	}
	cr_assert_eq(s.len, n);
	cr_expect_eq(stream_segments(&s), STREAM_MAX_SEGMENTS);
	/* The 6 oldest bytes merged into one segment that keeps the earliest time;
	 * the newest STREAM_MAX_SEGMENTS - 1 keep their own. */
	for (unsigned i = 0; i < n; i++) {
		uint64_t want = i <= n - STREAM_MAX_SEGMENTS ? 1000 : 1000 + i;

		cr_expect_eq(stream_ts_at(&s, i), want, "byte %u: %lu, want %lu", i,
			     (unsigned long)stream_ts_at(&s, i), (unsigned long)want);
		cr_expect_eq(s.buf[i], (uint8_t)i);
	}
	/* consuming past the merged segment exposes exact times again */
	stream_consume(&s, n - STREAM_MAX_SEGMENTS + 1);
	cr_expect_eq(stream_segments(&s), STREAM_MAX_SEGMENTS - 1);
	cr_expect_eq(stream_ts_at(&s, 0), 1000 + n - STREAM_MAX_SEGMENTS + 1);
	/* and the merged count never hides the newest byte's time */
	cr_expect_eq(stream_ts_at(&s, s.len - 1), 1000 + n - 1);
	stream_free(&s);
}

Test(stream_buffer, merged_segments_after_consume_in_the_middle)
{
	struct stream s = { 0 };

	for (unsigned i = 0; i < 3 * STREAM_MAX_SEGMENTS; i++)
		append_str(&s, "0123456789", 100 * (i + 1));
	/* 48 events of 10 bytes: the first 33 share the time of the first */
	cr_expect_eq(stream_ts_at(&s, 0), 100);
	cr_expect_eq(stream_ts_at(&s, 329), 100);
	cr_expect_eq(stream_ts_at(&s, 330), 3400);
	stream_consume(&s, 335);
	cr_expect_eq(stream_ts_at(&s, 0), 3400);
	cr_expect_eq(stream_ts_at(&s, 4), 3400);
	cr_expect_eq(stream_ts_at(&s, 5), 3500);
	cr_expect_eq(stream_ts_at(&s, s.len - 1), 4800);
	stream_free(&s);
}

Test(stream_buffer, bounded_by_max_buffered)
{
	struct stream s = { 0 };
	uint8_t *big = calloc(1, STREAM_MAX_BUFFERED + 1);

	cr_assert_not_null(big);
	big[0] = 'a';
	big[STREAM_MAX_BUFFERED - 1] = 'z';
	/* one byte over the bound at once: refused, nothing kept */
	cr_expect_eq(stream_append(&s, big, STREAM_MAX_BUFFERED + 1, 1, 0, 0), -1);
	cr_expect_eq(s.len, 0);
	cr_expect_eq(stream_segments(&s), 0);
	/* exactly the bound: accepted */
	cr_assert_eq(stream_append(&s, big, STREAM_MAX_BUFFERED - 1, 2, 0, 0), 0);
	cr_assert_eq(stream_append(&s, big + STREAM_MAX_BUFFERED - 1, 1, 3, 0, 0), 0);
	cr_expect_eq(s.len, STREAM_MAX_BUFFERED);
	/* one more byte: refused, and what was buffered is untouched */
	cr_expect_eq(stream_append(&s, big, 1, 4, 0, 0), -1);
	cr_expect_eq(s.len, STREAM_MAX_BUFFERED);
	cr_expect_eq(stream_segments(&s), 2);
	cr_expect_eq(s.buf[0], 'a');
	cr_expect_eq(s.buf[STREAM_MAX_BUFFERED - 1], 'z');
	cr_expect_eq(stream_ts_at(&s, STREAM_MAX_BUFFERED - 1), 3);
	/* after a consume there is room again */
	stream_consume(&s, 10);
	cr_expect_eq(stream_append(&s, big, 10, 5, 0, 0), 0);
	cr_expect_eq(stream_append(&s, big, 1, 6, 0, 0), -1);
	free(big);
	stream_free(&s);
}

Test(stream_buffer, clear_keeps_sequence_tracking)
{
	struct stream s = { 0 };
	uint64_t missing;

	cr_assert_eq(advance(&s, 500, 5, &missing), STREAM_IN_ORDER);
	append_str(&s, "hello", 7);
	stream_clear(&s);
	cr_expect_eq(s.len, 0);
	cr_expect_eq(stream_segments(&s), 0);
	cr_expect_eq(advance(&s, 505, 1, &missing), STREAM_IN_ORDER);
	append_str(&s, "x", 8);
	cr_expect_eq(s.buf[0], 'x');
	cr_expect_eq(stream_ts_at(&s, 0), 8);
	stream_free(&s);
	cr_expect_null(s.buf);
	cr_expect_eq(s.len, 0);
	cr_expect_not(s.seq_known);
	/* a freed stream starts over */
	cr_expect_eq(advance(&s, 7, 1, &missing), STREAM_IN_ORDER);
	stream_free(&s);
}

Test(stream_buffer, large_appends_grow_and_keep_content)
{
	struct stream s = { 0 };
	uint8_t chunk[3000];

	for (unsigned i = 0; i < 40; i++) {
		memset(chunk, 'a' + (int)(i % 26), sizeof(chunk));
		cr_assert_eq(stream_append(&s, chunk, sizeof(chunk), i, 0, 0), 0);
		cr_assert_eq(stream_keep(&s), 0);
	}
	cr_assert_eq(s.len, 40 * sizeof(chunk));
	for (unsigned i = 0; i < 40; i++)
		cr_expect_eq(s.buf[i * sizeof(chunk) + 1234], 'a' + (int)(i % 26), "chunk %u", i);
	stream_free(&s);
}

/* An event's bytes are parsed where they are; only what is left of them is
 * copied, into a buffer of their size, with their time, thread and sequence. */
Test(stream_buffer, event_bytes_lent_and_only_the_rest_kept)
{
	struct stream s = { 0 };
	uint8_t *ev = malloc(12);

	cr_assert_not_null(ev);
	memcpy(ev, "GET / HTTP/1", 12);
	cr_assert_eq(stream_append(&s, ev, 12, 100, 0x1000, 7), 0);
	cr_expect_eq(s.buf, ev, "an empty stream parses the event in place");
	cr_expect_eq(stream_footprint(&s), 0);
	stream_consume(&s, 4);
	cr_expect_eq(s.buf, ev + 4);
	cr_assert_eq(stream_keep(&s), 0);
	memset(ev, 'x', 12);
	free(ev);
	cr_assert_eq(s.len, 8);
	cr_expect_eq(memcmp(s.buf, "/ HTTP/1", 8), 0);
	cr_expect_gt(stream_footprint(&s), 8);
	cr_expect_eq(stream_ts_at(&s, 0), 100);
	cr_expect_eq(stream_tid_at(&s, 7), 7);
	cr_expect_eq(stream_seq_at(&s, 0), 0x1004);
	/* the next event follows the kept bytes */
	cr_assert_eq(stream_append(&s, (const uint8_t *)".1\r\n", 4, 200, 0x100c, 8), 0);
	cr_expect_eq(memcmp(s.buf, "/ HTTP/1.1\r\n", 12), 0);
	cr_expect_eq(stream_ts_at(&s, 7), 100);
	cr_expect_eq(stream_ts_at(&s, 8), 200);
	cr_expect_eq(stream_segments(&s), 2);
	stream_free(&s);
}

/* Drained, a stream holds no buffer: nothing kept, and an event parsed whole is never copied. */
Test(stream_buffer, drained_stream_holds_no_buffer)
{
	struct stream s = { 0 };

	append_str(&s, "PING\r\n", 1);
	stream_consume(&s, 6);
	cr_assert_eq(stream_keep(&s), 0);
	cr_expect_null(s.buf);
	cr_expect_eq(stream_footprint(&s), 0);
	append_str(&s, "GET ", 2);
	cr_assert_eq(stream_keep(&s), 0);
	append_str(&s, "/ HTTP/1.1\r\n\r\n", 3);
	cr_assert_gt(stream_footprint(&s), 0);
	stream_consume(&s, s.len);
	cr_expect_null(s.buf);
	cr_expect_eq(s.len, 0);
	cr_expect_eq(stream_footprint(&s), 0);
	cr_expect_eq(stream_segments(&s), 0);
	stream_free(&s);
}

/* Kept bytes of an idle stream fit their buffer after a trim; their content and times stay. */
Test(stream_buffer, trim_fits_the_buffer_to_the_kept_bytes)
{
	struct stream s = { 0 }, ref = { 0 };
	uint8_t chunk[1000];

	memset(chunk, 'h', sizeof(chunk));
	for (unsigned i = 0; i < 20; i++) {
		chunk[0] = (uint8_t)('a' + i);
		cr_assert_eq(stream_append(&s, chunk, sizeof(chunk), i, 0, 0), 0);
		cr_assert_eq(stream_keep(&s), 0);
	}
	stream_consume(&s, 19 * sizeof(chunk));
	cr_assert_eq(stream_keep(&s), 0);
	cr_assert_eq(stream_append(&ref, chunk, sizeof(chunk), 19, 0, 0), 0);
	cr_assert_eq(stream_keep(&ref), 0);
	cr_expect_gt(stream_footprint(&s), stream_footprint(&ref) + 10000);
	stream_trim(&s);
	cr_expect_eq(stream_footprint(&s), stream_footprint(&ref));
	cr_assert_eq(s.len, sizeof(chunk));
	cr_expect_eq(s.buf[0], 't');
	cr_expect_eq(stream_ts_at(&s, 999), 19);
	/* and grows again after */
	append_str(&s, "next", 200);
	cr_expect_eq(memcmp(s.buf + sizeof(chunk), "next", 4), 0);
	stream_free(&s);
	stream_free(&ref);
}
