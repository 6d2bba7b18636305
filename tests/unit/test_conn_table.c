/*
 * Unit tests for user/conn_table.c (keys, LRU eviction, idle expiry, growth,
 * release callback) and for how user/conn_tracker.c maps events to
 * connections (fd reuse, close, expiry).
 */
#include <criterion/criterion.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conn/conn_table.h"
#include "event_builder.h"

/* ---- conn_table ---- */

#define MAX_RELEASED 20000

static struct conn_key released[MAX_RELEASED];
static size_t nreleased;

static void record_release(struct conn *c, void *ctx)
{
	cr_assert_eq(ctx, (void *)&nreleased, "release got the wrong ctx");
	cr_assert_lt(nreleased, MAX_RELEASED);
	released[nreleased++] = c->key;
}

static void table_setup(void)
{
	memset(&stats, 0, sizeof(stats));
	nreleased = 0;
}

static struct ss_event ev_at(uint32_t tgid, int32_t fd, uint64_t ino, uint64_t ts)
{
	struct ss_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.tgid = tgid;
	ev.fd = fd;
	ev.sock_ino = ino;
	ev.ts_ns = ts;
	return ev;
}

static struct conn *upsert(struct conn_table *t, uint32_t tgid, int32_t fd, uint64_t ino, uint64_t ts,
			   bool want_created)
{
	struct ss_event ev = ev_at(tgid, fd, ino, ts);
	bool created = !want_created;
	struct conn *c = conn_table_upsert(t, &ev, &created);

	cr_assert_not_null(c);
	cr_assert_eq(created, want_created, "(%u, %d, %lu): created %d", tgid, fd, (unsigned long)ino, created);
	cr_assert_eq(c->key.tgid, tgid);
	cr_assert_eq(c->fd, fd);
	cr_assert_eq(c->key.sock_ino, ino);
	return c;
}

static struct conn *lookup(struct conn_table *t, uint32_t tgid, int32_t fd, uint64_t ino)
{
	struct conn_key k = { .tgid = tgid, .sock_ino = ino };

	(void)fd; /* not part of the key: the inode names the socket */

	return conn_table_lookup(t, &k);
}

static bool was_released(uint32_t tgid, int32_t fd, uint64_t ino)
{
	(void)fd; /* not part of the key */
	for (size_t i = 0; i < nreleased; i++)
		if (released[i].tgid == tgid && released[i].sock_ino == ino)
			return true;
	return false;
}

TestSuite(conn_table, .init = table_setup);

Test(conn_table, upsert_creates_once_and_copies_the_event)
{
	struct conn_table *t = conn_table_new(16, record_release, &nreleased, &stats);
	struct ss_event ev = ev_at(42, 7, 9001, 100);
	struct conn *c, *again;
	bool created = false;

	cr_assert_not_null(t);
	ev.role = SS_ROLE_SERVER;
	ev.family = AF_INET;
	ev.lport = 80;
	ev.rport = 51000;
	ev.laddr[0] = 127, ev.laddr[3] = 1;
	ev.raddr[0] = 10, ev.raddr[3] = 9;
	ev.cgroup_id = 77;
	memcpy(ev.comm, "0123456789abcdef", SS_COMM_LEN); /* no NUL in the event */
	c = conn_table_upsert(t, &ev, &created);
	cr_assert_not_null(c);
	cr_expect(created);
	cr_expect_eq(c->role, SS_ROLE_SERVER);
	cr_expect_eq(c->lport, 80);
	cr_expect_eq(c->rport, 51000);
	cr_expect_eq(c->laddr[0], 127);
	cr_expect_eq(c->raddr[3], 9);
	cr_expect_eq(c->cgroup_id, 77);
	cr_expect_eq(c->last_ns, 100);
	cr_expect_str_eq(c->comm, "0123456789abcdef");
	cr_expect_eq(conn_table_count(t), 1);
	cr_expect_eq(stats.conns_opened, 1);

	ev.ts_ns = 200;
	again = conn_table_upsert(t, &ev, &created);
	cr_expect_eq(again, c);
	cr_expect_not(created);
	cr_expect_eq(c->last_ns, 200);
	cr_expect_eq(conn_table_count(t), 1);
	cr_expect_eq(stats.conns_opened, 1);
	cr_expect_eq(lookup(t, 42, 7, 9001), c);
	cr_expect_null(lookup(t, 42, 7, 9002));
	cr_expect_eq(lookup(t, 42, 8, 9001), c, "the same socket under another fd (dup)");
	cr_expect_null(lookup(t, 43, 7, 9001));
	conn_table_free(t);
	cr_expect_eq(nreleased, 1);
}

Test(conn_table, unknown_role_is_taken_from_a_later_event_but_a_known_one_is_kept)
{
	struct conn_table *t = conn_table_new(16, record_release, &nreleased, &stats);
	struct ss_event ev = ev_at(1, 3, 5, 10);
	struct conn *c;
	bool created;

	c = conn_table_upsert(t, &ev, &created);
	cr_assert_eq(c->role, SS_ROLE_UNKNOWN);
	ev.role = SS_ROLE_CLIENT;
	conn_table_upsert(t, &ev, &created);
	cr_expect_eq(c->role, SS_ROLE_CLIENT);
	ev.role = SS_ROLE_SERVER;
	conn_table_upsert(t, &ev, &created);
	cr_expect_eq(c->role, SS_ROLE_CLIENT);
	conn_table_free(t);
}

Test(conn_table, same_fd_different_inode_is_another_connection)
{
	struct conn_table *t = conn_table_new(16, record_release, &nreleased, &stats);
	struct conn *a = upsert(t, 10, 4, 1000, 1, true);
	struct conn *b = upsert(t, 10, 4, 1001, 2, true);
	struct conn *c = upsert(t, 11, 4, 1000, 3, true);

	cr_expect_neq(a, b);
	cr_expect_neq(a, c);
	cr_expect_eq(conn_table_count(t), 3);
	conn_table_remove(t, a);
	cr_expect_eq(nreleased, 1);
	cr_expect(was_released(10, 4, 1000));
	cr_expect_null(lookup(t, 10, 4, 1000));
	cr_expect_eq(lookup(t, 10, 4, 1001), b);
	cr_expect_eq(lookup(t, 11, 4, 1000), c);
	conn_table_free(t);
	cr_expect_eq(nreleased, 3);
}

Test(conn_table, full_table_evicts_the_least_recently_active)
{
	struct conn_table *t = conn_table_new(3, record_release, &nreleased, &stats);

	upsert(t, 1, 1, 1, 100, true);
	upsert(t, 1, 2, 2, 200, true);
	upsert(t, 1, 3, 3, 300, true);
	cr_expect_eq(nreleased, 0);
	/* activity on the oldest makes the second one the oldest */
	upsert(t, 1, 1, 1, 400, false);
	upsert(t, 1, 4, 4, 500, true);
	cr_expect_eq(conn_table_count(t), 3);
	cr_assert_eq(nreleased, 1);
	cr_expect(was_released(1, 2, 2));
	cr_expect_null(lookup(t, 1, 2, 2));
	cr_expect_not_null(lookup(t, 1, 1, 1));
	cr_expect_eq(stats.conns_evicted, 1);
	/* then the third, then the first */
	upsert(t, 1, 5, 5, 600, true);
	cr_expect(was_released(1, 3, 3));
	upsert(t, 1, 6, 6, 700, true);
	cr_expect(was_released(1, 1, 1));
	cr_expect_eq(nreleased, 3);
	cr_expect_eq(stats.conns_evicted, 3);
	cr_expect_not_null(lookup(t, 1, 4, 4));
	cr_expect_not_null(lookup(t, 1, 5, 5));
	cr_expect_not_null(lookup(t, 1, 6, 6));
	cr_expect_eq(conn_table_count(t), 3);
	conn_table_free(t);
	cr_expect_eq(nreleased, 6);
}

Test(conn_table, full_table_evicts_from_the_process_holding_most_of_the_oldest)
{
	struct conn_table *t = conn_table_new(40, record_release, &nreleased, &stats);

	/* Process 7's idle connection is the oldest; process 9 then opens 39
	 * more and keeps opening: it gives up its own, not process 7's. */
	upsert(t, 7, 3, 1, 100, true);
	for (uint64_t i = 0; i < 39; i++)
		upsert(t, 9, 4, 100 + i, 200 + i, true);
	for (uint64_t i = 0; i < 100; i++)
		upsert(t, 9, 4, 1000 + i, 1000 + i, true);
	cr_expect_eq(stats.conns_evicted, 100);
	cr_expect_not_null(lookup(t, 7, 3, 1), "the other process's idle connection stays");
	cr_expect(was_released(9, 4, 100), "the flooding process's oldest went first");
	cr_expect_null(lookup(t, 9, 4, 100));
	cr_expect_not_null(lookup(t, 9, 4, 1099));
	/* A full table of process 7's own: its least recently active goes. */
	conn_table_free(t);
	nreleased = 0;
	t = conn_table_new(2, record_release, &nreleased, &stats);
	upsert(t, 7, 3, 1, 100, true);
	upsert(t, 8, 3, 2, 200, true);
	upsert(t, 9, 3, 3, 300, true);
	cr_expect(was_released(7, 3, 1), "no process holds more: the oldest goes");
	conn_table_free(t);
}

Test(conn_table, expire_frees_only_idle_connections)
{
	struct conn_table *t = conn_table_new(16, record_release, &nreleased, &stats);

	upsert(t, 1, 1, 1, 1000, true);
	upsert(t, 1, 2, 2, 2000, true);
	upsert(t, 1, 3, 3, 3000, true);
	upsert(t, 1, 1, 1, 4000, false); /* active again */
	/* idle since before 4500 - 1000 = 3500: fd 2 and fd 3 */
	cr_expect_eq(conn_table_expire(t, 4500, 1000), 2);
	cr_expect_eq(nreleased, 2);
	cr_expect(was_released(1, 2, 2));
	cr_expect(was_released(1, 3, 3));
	cr_expect_not_null(lookup(t, 1, 1, 1));
	cr_expect_eq(conn_table_count(t), 1);
	cr_expect_eq(stats.conns_expired, 2);
	/* idle exactly idle_ns: kept */
	cr_expect_eq(conn_table_expire(t, 5000, 1000), 0);
	cr_expect_eq(conn_table_expire(t, 5001, 1000), 1);
	cr_expect_eq(conn_table_count(t), 0);
	cr_expect_eq(conn_table_expire(t, 99999, 1), 0);
	/* the table works after being emptied */
	upsert(t, 1, 1, 1, 6000, true);
	cr_expect_eq(conn_table_count(t), 1);
	conn_table_free(t);
}

Test(conn_table, many_connections_grow_the_table)
{
	const unsigned n = 10000;
	struct conn_table *t = conn_table_new(n, record_release, &nreleased, &stats);

	for (unsigned i = 0; i < n; i++)
		upsert(t, 100 + i % 7, (int32_t)(i % 1000), 5000000 + i, i, true);
	cr_expect_eq(conn_table_count(t), n);
	cr_expect_eq(nreleased, 0);
	for (unsigned i = 0; i < n; i++) {
		struct conn *c = lookup(t, 100 + i % 7, (int32_t)(i % 1000), 5000000 + i);

		cr_assert_not_null(c, "connection %u lost", i);
		cr_assert_eq(c->last_ns, i);
	}
	/* remove every other one, after growth */
	for (unsigned i = 0; i < n; i += 2)
		conn_table_remove(t, lookup(t, 100 + i % 7, (int32_t)(i % 1000), 5000000 + i));
	cr_expect_eq(conn_table_count(t), n / 2);
	for (unsigned i = 0; i < n; i++) {
		struct conn *c = lookup(t, 100 + i % 7, (int32_t)(i % 1000), 5000000 + i);

		if (i % 2)
			cr_assert_not_null(c, "connection %u lost", i);
		else
			cr_assert_null(c, "connection %u not removed", i);
	}
	/* the activity list survived: expiry frees the oldest remaining first */
	cr_expect_eq(conn_table_expire(t, 2000, 1000), 500);
	cr_expect_null(lookup(t, 100 + 999 % 7, 999, 5000000 + 999));
	cr_expect_not_null(lookup(t, 100 + 1001 % 7, 1001 % 1000, 5000000 + 1001));
	conn_table_free(t);
	cr_expect_eq(nreleased, n);
}

/* One fd number reused by thousands of sockets: only the inode tells them apart. */
Test(conn_table, thousands_of_inodes_on_one_fd)
{
	const unsigned n = 3000;
	struct conn_table *t = conn_table_new(n, record_release, &nreleased, &stats);

	for (unsigned i = 0; i < n; i++)
		upsert(t, 100, 3, 900000 + i, i, true);
	for (unsigned i = 0; i < n; i++) {
		struct conn *c = lookup(t, 100, 3, 900000 + i);

		cr_assert_not_null(c, "inode %u lost", 900000 + i);
		cr_assert_eq(c->key.sock_ino, 900000 + i);
		cr_assert_eq(c->last_ns, i);
	}
	cr_expect_eq(conn_table_count(t), n);
	conn_table_free(t);
	cr_expect_eq(nreleased, n);
}

Test(conn_table, free_null_is_harmless)
{
	conn_table_free(NULL);
}

/* ---- conn_tracker: events to connections ---- */

TestSuite(conn_tracker, .init = eb_setup, .fini = eb_teardown);

static const char get_a[] = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n";
static const char get_b[] = "GET /b HTTP/1.1\r\nHost: x\r\n\r\n";
static const char ok_200[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
static const char nf_404[] = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";

Test(conn_tracker, fd_reuse_is_a_new_connection_and_close_frees)
{
	struct conn_tracker *t = eb_tracker(64);
	struct eb_conn a = eb_open(t, 100, 5, 7000, SS_ROLE_SERVER);
	struct eb_conn b = eb_open(t, 100, 5, 7001, SS_ROLE_SERVER);
	uint64_t ta, tb, tb_end, ta_end;

	cr_assert_not_null(t);
	ta = eb_str(&a, SS_DIR_INGRESS, get_a);
	cr_expect_eq(conn_tracker_count(t), 1);
	/* the fd number reused by another socket while a's answer is pending */
	tb = eb_str(&b, SS_DIR_INGRESS, get_b);
	cr_expect_eq(conn_tracker_count(t), 2);
	tb_end = eb_str(&b, SS_DIR_EGRESS, nf_404);
	ta_end = eb_str(&a, SS_DIR_EGRESS, ok_200);
	{
		const struct eb_want want[] = {
			{ SPAN_KIND_SERVER, "get /b", "GET", "/b", 404, tb, tb_end },
			{ SPAN_KIND_SERVER, "get /a", "GET", "/a", 200, ta, ta_end },
		};

		eb_check_spans(want, 2);
	}
	eb_close(&a);
	cr_expect_eq(conn_tracker_count(t), 1);
	/* b still works after a's close */
	tb = eb_str(&b, SS_DIR_INGRESS, get_a);
	tb_end = eb_str(&b, SS_DIR_EGRESS, ok_200);
	cr_assert_eq(eb_nspans, 3);
	eb_check_span(2, &(struct eb_want){ SPAN_KIND_SERVER, "get /a", "GET", "/a", 200, tb, tb_end });
	eb_close(&b);
	cr_expect_eq(conn_tracker_count(t), 0);
	/* a close for a connection never seen changes nothing */
	eb_close(&b);
	cr_expect_eq(conn_tracker_count(t), 0);
	eb_check_clean();
	conn_tracker_free(t);
}

Test(conn_tracker, close_counts_unanswered_requests)
{
	struct conn_tracker *t = eb_tracker(64);
	struct eb_conn a = eb_open(t, 100, 5, 7000, SS_ROLE_CLIENT);

	eb_str(&a, SS_DIR_EGRESS, get_a);
	eb_str(&a, SS_DIR_EGRESS, get_b);
	eb_close(&a);
	cr_expect_eq(eb_nspans, 0);
	cr_expect_eq(stats.http1_unmatched, 2);
	cr_expect_eq(conn_tracker_count(t), 0);
	conn_tracker_free(t);
}

Test(conn_tracker, same_fd_in_another_process_is_another_connection)
{
	struct conn_tracker *t = eb_tracker(64);
	struct eb_conn a = eb_open(t, 100, 5, 7000, SS_ROLE_SERVER);
	struct eb_conn b = eb_open(t, 200, 5, 7000, SS_ROLE_CLIENT);
	uint64_t t0, t1;

	eb_str(&a, SS_DIR_INGRESS, get_a);
	t0 = eb_str(&b, SS_DIR_EGRESS, get_b);
	cr_expect_eq(conn_tracker_count(t), 2);
	t1 = eb_str(&b, SS_DIR_INGRESS, nf_404);
	eb_check_spans(&(struct eb_want){ SPAN_KIND_CLIENT, "get /b", "GET", "/b", 404, t0, t1 }, 1);
	cr_expect_eq(eb_spans[0].pid, 200);
	conn_tracker_free(t);
}

Test(conn_tracker, expire_forgets_idle_connections)
{
	struct conn_tracker *t = eb_tracker(64);
	struct eb_conn a = eb_open(t, 100, 5, 7000, SS_ROLE_SERVER);
	struct eb_conn b = eb_open(t, 100, 6, 7001, SS_ROLE_SERVER);
	uint64_t tb, te;

	eb_str(&a, SS_DIR_INGRESS, get_a);
	tb = eb_str(&b, SS_DIR_INGRESS, get_b);
	cr_expect_eq(conn_tracker_expire(t, tb + 10, 500), 1);
	cr_expect_eq(conn_tracker_count(t), 1);
	/* a is gone: its answer starts a new connection that matches nothing */
	eb_str(&a, SS_DIR_EGRESS, ok_200);
	te = eb_str(&b, SS_DIR_EGRESS, ok_200);
	eb_check_spans(&(struct eb_want){ SPAN_KIND_SERVER, "get /b", "GET", "/b", 200, tb, te }, 1);
	/* a's request, forgotten unanswered at expiry, and its orphaned answer */
	cr_expect_eq(stats.http1_unmatched, 2);
	conn_tracker_free(t);
}

Test(conn_tracker, full_tracker_evicts_and_keeps_working)
{
	struct conn_tracker *t = eb_tracker(4);
	struct eb_conn c[10];
	uint64_t start[10], end[10];

	for (int i = 0; i < 10; i++) {
		c[i] = eb_open(t, 100, 10 + i, 8000 + (uint64_t)i, SS_ROLE_SERVER);
		start[i] = eb_str(&c[i], SS_DIR_INGRESS, get_a);
		cr_expect_leq(conn_tracker_count(t), 4);
	}
	cr_expect_eq(stats.conns_evicted, 6);
	/* the 4 most recent still answer */
	for (int i = 6; i < 10; i++)
		end[i] = eb_str(&c[i], SS_DIR_EGRESS, ok_200);
	cr_assert_eq(eb_nspans, 4);
	for (int i = 6; i < 10; i++)
		eb_check_span((size_t)i - 6, &(struct eb_want){ SPAN_KIND_SERVER, "get /a", "GET", "/a", 200,
							     start[i], end[i] });
	conn_tracker_free(t);
}

/*
 * proto.h: "close: The connection closed (or was evicted): finish what the
 * close completes." An evicted connection with a request in flight should be
 * accounted like a closed one.
 */
Test(conn_tracker, eviction_counts_unanswered_requests)
{
	struct conn_tracker *t = eb_tracker(1);
	struct eb_conn a = eb_open(t, 100, 5, 7000, SS_ROLE_SERVER);
	struct eb_conn b = eb_open(t, 100, 6, 7001, SS_ROLE_SERVER);

	eb_str(&a, SS_DIR_INGRESS, get_a);
	eb_str(&b, SS_DIR_INGRESS, get_b); /* evicts a */
	cr_expect_eq(stats.conns_evicted, 1);
	cr_expect_eq(stats.http1_unmatched, 1, "the evicted connection's unanswered request is not counted");
	conn_tracker_free(t);
}
