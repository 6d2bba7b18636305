/*
 * The memory budget's tool (conn_tracker_shed): the costliest connections of
 * the process holding the most memory go first, their exchanges dropped, not
 * leaked; the others are left as they were; an idle connection holds its
 * structs and nothing else.
 */
#include <criterion/criterion.h>

#include <stdint.h>
#include <string.h>

#include "event_builder.h"

TestSuite(shed, .init = eb_setup, .fini = eb_teardown);

static const char req[] = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n";
static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";

Test(shed, the_costliest_connection_goes_first)
{
	struct conn_tracker *t = eb_tracker(16);
	struct eb_conn big = eb_open(t, 1, 3, 100, SS_ROLE_SERVER);
	struct eb_conn small = eb_open(t, 1, 4, 101, SS_ROLE_SERVER);
	struct eb_conn idle = eb_open(t, 1, 5, 102, SS_ROLE_SERVER);
	static char head[60000];

	/* A head that never ends: 60 kB buffered, its request not yet started. */
	memcpy(head, "GET /big HTTP/1.1\r\nX-Pad: ", 26);
	memset(head + 26, 'a', sizeof(head) - 26);
	eb_data(&big, SS_DIR_INGRESS, head, sizeof(head));
	eb_str(&small, SS_DIR_INGRESS, req); /* in flight */
	eb_str(&idle, SS_DIR_INGRESS, req);
	eb_str(&idle, SS_DIR_EGRESS, resp);
	cr_assert_eq(eb_nspans, 1);
	cr_assert_eq(conn_tracker_count(t), 3);

	cr_expect_geq(conn_tracker_shed(t, 1), sizeof(head));
	cr_expect_eq(stats.conns_shed, 1);
	cr_expect_eq(conn_tracker_count(t), 2);
	/* The others go on as if nothing happened. */
	eb_str(&small, SS_DIR_EGRESS, resp);
	cr_expect_eq(eb_nspans, 2);

	/* Asked for more than all of it: all of them, their exchanges dropped. */
	eb_str(&small, SS_DIR_INGRESS, req);
	conn_tracker_shed(t, SIZE_MAX);
	cr_expect_eq(stats.conns_shed, 3);
	cr_expect_eq(conn_tracker_count(t), 0);
	cr_expect_eq(conn_tracker_shed(t, 1), 0, "nothing left to shed");
	conn_tracker_free(t);
	cr_expect_eq(eb_nspans, 2);
}

Test(shed, the_process_holding_the_most_gives_first)
{
	struct conn_tracker *t = eb_tracker(64);
	struct eb_conn big = eb_open(t, 1, 3, 100, SS_ROLE_SERVER);
	static char head[20000];

	/* Process 1: one connection with a 20 kB head in progress. Process 2:
	 * 40 connections of 2 kB heads each, 80 kB in all. */
	memcpy(head, "GET /big HTTP/1.1\r\nX-Pad: ", 26);
	memset(head + 26, 'a', sizeof(head) - 26);
	eb_data(&big, SS_DIR_INGRESS, head, sizeof(head));
	for (int i = 0; i < 40; i++) {
		struct eb_conn c = eb_open(t, 2, 10 + i, 200 + (uint64_t)i, SS_ROLE_SERVER);

		eb_data(&c, SS_DIR_INGRESS, head, 2000);
	}
	cr_assert_eq(conn_tracker_count(t), 41);
	/* 40 kB back: process 2's connections only, although process 1's is the single costliest. */
	cr_expect_geq(conn_tracker_shed(t, 40000), 40000);
	cr_expect_neq(conn_tracker_proto(t, 1, 100), CONN_PROTO_UNDETECTED, "process 1's connection stays");
	cr_expect_lt(conn_tracker_count(t), 41);
	cr_expect_gt(conn_tracker_count(t), 1);
	conn_tracker_free(t);
}

Test(shed, a_half_sent_http2_header_field_counts_what_nghttp2_holds)
{
	struct conn_tracker *t = eb_tracker(16);
	struct eb_conn h2 = eb_open(t, 1, 3, 100, SS_ROLE_SERVER);
	struct eb_conn h1 = eb_open(t, 1, 4, 101, SS_ROLE_SERVER);
	static const uint8_t preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
	/* HEADERS on stream 1 without END_HEADERS: :method GET, then a literal
	 * whose value announces 65535 bytes, none of them sent. */
	static const uint8_t headers[] = { 0, 0, 12, 1, 0, 0, 0, 0, 1,
					   0x82, 0x40, 5, 'x', '-', 'p', 'a', 'd', 0x7f, 0x80, 0xff, 0x03 };
	static char head[20000];

	eb_data(&h2, SS_DIR_INGRESS, preface, sizeof(preface) - 1);
	eb_data(&h2, SS_DIR_INGRESS, headers, sizeof(headers));
	memcpy(head, "GET /big HTTP/1.1\r\nX-Pad: ", 26);
	memset(head + 26, 'a', sizeof(head) - 26);
	eb_data(&h1, SS_DIR_INGRESS, head, sizeof(head));

	/* nghttp2 holds the whole 64 KiB value (the buffers here were given back
	 * after parsing), far more than the HTTP/1 head's 32 KiB buffer. */
	cr_expect_geq(conn_tracker_shed(t, 1), 65535);
	cr_expect_eq(conn_tracker_count(t), 1);
	eb_str(&h1, SS_DIR_INGRESS, "\r\n\r\n");
	cr_expect_eq(stats.http1_parse_errors, 0, "the HTTP/1 connection was kept");
	conn_tracker_free(t);
}

/* What an idle keep-alive connection costs: after its exchange it still holds
 * the request queue and the room for an answer; idle, only its two structs
 * (472 bytes on x86-64: struct conn and the HTTP/1 state), no stream buffer. */
Test(shed, an_idle_http1_connection_holds_only_its_structs)
{
	struct conn_tracker *t = eb_tracker(16);
	struct eb_conn busy = eb_open(t, 1, 3, 100, SS_ROLE_SERVER);
	struct eb_conn idle;
	size_t busy_bytes, idle_bytes;

	eb_str(&busy, SS_DIR_INGRESS, req);
	eb_str(&busy, SS_DIR_EGRESS, resp);
	busy_bytes = conn_tracker_shed(t, 1);
	idle = eb_open(t, 1, 4, 101, SS_ROLE_SERVER);
	eb_str(&idle, SS_DIR_INGRESS, req);
	eb_str(&idle, SS_DIR_EGRESS, resp);
	conn_tracker_trim(t, eb_clock_ns + 2000000000ull, 1000000000ull);
	idle_bytes = conn_tracker_shed(t, 1);
	cr_expect_eq(eb_nspans, 2);
	cr_expect_leq(idle_bytes, 512, "an idle connection holds %zu bytes", idle_bytes);
	cr_expect_gt(busy_bytes, idle_bytes + 1024, "busy %zu, idle %zu", busy_bytes, idle_bytes);
	conn_tracker_free(t);
}
