/*
 * The memory budget's tool (conn_tracker_shed): the connections holding the
 * most memory go first, their exchanges dropped, not leaked; the others are
 * left as they were; an idle connection holds its structs and nothing else.
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
