/*
 * The kernel's "copy every byte" flag follows the connection table: asked on
 * once when a connection turns out to speak HTTP/2, and off whenever the
 * table forgets that connection (close, eviction, expiry, shedding), so the
 * kernel's map never holds flags of connections sockspan no longer tracks
 * (a flood of sockets dropped without close() would otherwise push out the
 * flags of other processes' connections).
 */
#include <criterion/criterion.h>

#include <stdint.h>
#include <string.h>

#include "event_builder.h"

TestSuite(full_payload, .init = eb_setup, .fini = eb_teardown);

#define MAX_FLAGS 64

/* The kernel's map as the tracker drives it: inodes flagged, and how often asked. */
static uint64_t flagged[MAX_FLAGS];
static size_t nflagged, asked;

static bool is_flagged(uint64_t ino)
{
	for (size_t i = 0; i < nflagged; i++)
		if (flagged[i] == ino)
			return true;
	return false;
}

static void on_flag(void *ctx, uint64_t ino, bool on)
{
	cr_assert_null(ctx);
	if (on) {
		cr_assert_not(is_flagged(ino), "inode %llu asked twice", (unsigned long long)ino);
		cr_assert_lt(nflagged, MAX_FLAGS);
		flagged[nflagged++] = ino;
		asked++;
		return;
	}
	for (size_t i = 0; i < nflagged; i++)
		if (flagged[i] == ino) {
			flagged[i] = flagged[--nflagged];
			return;
		}
	cr_assert_fail("inode %llu turned off but never on", (unsigned long long)ino);
}

static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
static const uint8_t settings[9] = { 0, 0, 0, 4, 0, 0, 0, 0, 0 };
static const char req[] = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n";

static struct conn_tracker *tracker(size_t max_conns)
{
	struct conn_tracker *t = eb_tracker(max_conns);

	nflagged = asked = 0;
	conn_tracker_on_full_payload(t, on_flag, NULL);
	return t;
}

static struct eb_conn h2(struct conn_tracker *t, uint32_t tgid, uint64_t ino)
{
	struct eb_conn c = eb_open(t, tgid, (int32_t)ino, ino, SS_ROLE_SERVER);

	eb_data(&c, SS_DIR_INGRESS, preface, strlen(preface));
	eb_data(&c, SS_DIR_INGRESS, settings, sizeof(settings));
	return c;
}

Test(full_payload, asked_once_for_http2_never_for_http1)
{
	struct conn_tracker *t = tracker(16);
	struct eb_conn c = h2(t, 1, 100);
	struct eb_conn h1 = eb_open(t, 1, 4, 101, SS_ROLE_SERVER);

	eb_str(&h1, SS_DIR_INGRESS, req);
	eb_data(&c, SS_DIR_INGRESS, settings, sizeof(settings));
	cr_expect_eq(asked, 1);
	cr_expect(is_flagged(100));
	cr_expect_not(is_flagged(101));
	conn_tracker_free(t);
}

Test(full_payload, off_when_closed_evicted_expired_or_shed)
{
	struct conn_tracker *t = tracker(3);
	struct eb_conn closed = h2(t, 1, 100);

	eb_close(&closed);
	cr_expect_not(is_flagged(100), "close");

	/* A full table: the oldest goes, with its flag. */
	h2(t, 1, 200);
	h2(t, 1, 201);
	h2(t, 1, 202);
	h2(t, 1, 203);
	cr_expect_eq(conn_tracker_count(t), 3);
	cr_expect_not(is_flagged(200), "eviction");
	cr_expect(is_flagged(201) && is_flagged(202) && is_flagged(203));

	conn_tracker_shed(t, 1);
	cr_expect_eq(nflagged, 2, "shedding");
	conn_tracker_expire(t, UINT64_MAX, 0);
	cr_expect_eq(conn_tracker_count(t), 0);
	cr_expect_eq(nflagged, 0, "expiry");
	cr_expect_eq(asked, 5);
	conn_tracker_free(t);
}

Test(full_payload, a_connection_found_mid_stream_is_flagged_too)
{
	struct conn_tracker *t = tracker(4);
	struct eb_conn c = eb_open(t, 1, 3, 300, SS_ROLE_SERVER);

	/* Joined mid-stream: frames, no preface. */
	eb_data(&c, SS_DIR_INGRESS, settings, sizeof(settings));
	cr_expect(is_flagged(300));
	conn_tracker_free(t);
	cr_expect_eq(nflagged, 0, "freeing the table forgets every connection");
}
