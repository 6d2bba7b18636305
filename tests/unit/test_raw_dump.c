/*
 * Unit tests for user/view/raw_dump.c: the exact text of --raw for known
 * events (header line, hex/ASCII dump, limits, gaps, closes), masking kept
 * per direction of a connection across its events and forgotten at close.
 * Payloads are exact-size heap copies.
 */
#include <criterion/criterion.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "conn/conn_tracker.h"
#include "view/raw_dump.h"

/* 2026-11-21T22:55:28.828553Z */
#define T0 1795301728828553ull

struct out {
	char *text;
	size_t len;
	FILE *f;
	struct raw_dump *d;
};

static void out_open(struct out *o, uint32_t max_bytes)
{
	o->f = open_memstream(&o->text, &o->len);
	cr_assert(o->f);
	o->d = raw_dump_new(o->f, max_bytes);
	cr_assert(o->d);
}

static void out_expect(struct out *o, const char *want)
{
	fflush(o->f);
	cr_assert_str_eq(o->text, want);
	fclose(o->f);
	free(o->text);
	raw_dump_free(o->d);
}

static struct ss_event ev_of(uint8_t type, uint8_t dir, uint32_t seq, uint32_t len, uint32_t cap)
{
	struct ss_event ev = {
		.tgid = 1234, .tid = 1235, .fd = 5, .sock_ino = 77, .seq = seq, .len = len, .cap_len = cap,
		.type = type, .dir = dir, .family = AF_INET, .lport = 8080, .rport = 41234,
		.laddr = { 127, 0, 0, 1 }, .raddr = { 10, 1, 2, 3 }, .comm = "python3",
	};

	return ev;
}

static void put(struct out *o, const struct ss_event *ev, const char *payload, unsigned proto)
{
	uint8_t *p = malloc(ev->cap_len ? ev->cap_len : 1);

	cr_assert(p);
	memcpy(p, payload, ev->cap_len);
	cr_assert_geq(raw_dump_event(o->d, ev, p, proto, T0), 0);
	free(p);
}

static void data(struct out *o, uint8_t dir, uint32_t seq, const char *payload, unsigned proto)
{
	struct ss_event ev = ev_of(SS_EV_DATA, dir, seq, strlen(payload), strlen(payload));

	put(o, &ev, payload, proto);
}

Test(raw_dump, request_dumped_with_its_authorization_masked)
{
	struct out o;

	out_open(&o, RAW_DUMP_BYTES_DEFAULT);
	data(&o, SS_DIR_INGRESS, 100, "GET / HTTP/1.1\r\nAuthorization: Basic eDp5\r\n\r\n", PROTO_HTTP1);
	out_expect(&o,
		   "2026-11-21T22:55:28.828553Z python3 pid 1234 fd 5 127.0.0.1:8080 < 10.1.2.3:41234 http1 len 45 captured 45\n"
		   "  0000  47 45 54 20 2f 20 48 54  54 50 2f 31 2e 31 0d 0a  |GET / HTTP/1.1..|\n"
		   "  0010  41 75 74 68 6f 72 69 7a  61 74 69 6f 6e 3a 20 2a  |Authorization: *|\n"
		   "  0020  2a 2a 2a 2a 2a 2a 2a 2a  2a 0d 0a 0d 0a           |*********....|\n");
}

Test(raw_dump, a_value_masked_across_events_of_one_direction_until_close)
{
	struct out o;
	struct ss_event close = ev_of(SS_EV_CLOSE, 0, 0, 0, 0);

	close.lport = 0; /* as the kernel may say it: the ports of the data are said */

	out_open(&o, RAW_DUMP_BYTES_DEFAULT);
	data(&o, SS_DIR_EGRESS, 1, "Cookie: a", CONN_PROTO_UNDETECTED);
	data(&o, SS_DIR_INGRESS, 1, "b\r\n", CONN_PROTO_UNDETECTED); /* the other direction */
	data(&o, SS_DIR_EGRESS, 10, "=1\r\n", PROTO_HTTP1);
	put(&o, &close, "", PROTO_HTTP1);
	data(&o, SS_DIR_EGRESS, 14, "=2\r\n", CONN_PROTO_UNDETECTED); /* a new socket, same inode */
	out_expect(&o,
		   "2026-11-21T22:55:28.828553Z python3 pid 1234 fd 5 127.0.0.1:8080 > 10.1.2.3:41234 len 9 captured 9\n"
		   "  0000  43 6f 6f 6b 69 65 3a 20  2a                       |Cookie: *|\n"
		   "2026-11-21T22:55:28.828553Z python3 pid 1234 fd 5 127.0.0.1:8080 < 10.1.2.3:41234 len 3 captured 3\n"
		   "  0000  62 0d 0a                                          |b..|\n"
		   "2026-11-21T22:55:28.828553Z python3 pid 1234 fd 5 127.0.0.1:8080 > 10.1.2.3:41234 http1 len 4 captured 4\n"
		   "  0000  2a 2a 0d 0a                                       |**..|\n"
		   "2026-11-21T22:55:28.828553Z python3 pid 1234 fd 5 127.0.0.1:8080 - 10.1.2.3:41234 http1 close\n"
		   "2026-11-21T22:55:28.828553Z python3 pid 1234 fd 5 127.0.0.1:8080 > 10.1.2.3:41234 len 4 captured 4\n"
		   "  0000  3d 32 0d 0a                                       |=2..|\n");
}

Test(raw_dump, lost_events_keep_a_value_masked)
{
	struct out o;

	out_open(&o, RAW_DUMP_BYTES_DEFAULT);
	data(&o, SS_DIR_EGRESS, 1, "Cookie: a", PROTO_HTTP1);
	data(&o, SS_DIR_EGRESS, 50, "b\r\nX: y\r\n", PROTO_HTTP1); /* 40 bytes lost before */
	out_expect(&o,
		   "2026-11-21T22:55:28.828553Z python3 pid 1234 fd 5 127.0.0.1:8080 > 10.1.2.3:41234 http1 len 9 captured 9\n"
		   "  0000  43 6f 6f 6b 69 65 3a 20  2a                       |Cookie: *|\n"
		   "2026-11-21T22:55:28.828553Z python3 pid 1234 fd 5 127.0.0.1:8080 > 10.1.2.3:41234 http1 len 9 captured 9\n"
		   "  0000  2a 0d 0a 58 3a 20 79 0d  0a                       |*..X: y..|\n");
}

Test(raw_dump, limits_truncation_gap_and_unknown_protocol)
{
	struct out o;
	struct ss_event cut = ev_of(SS_EV_DATA, SS_DIR_INGRESS, 0, 100, 20);
	struct ss_event gap = ev_of(SS_EV_GAP, SS_DIR_EGRESS, 0, 1048576, 0);

	out_open(&o, 4);
	put(&o, &cut, "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 rest of a TLS", PROTO_NONE);
	put(&o, &gap, "", PROTO_HTTP1);
	out_expect(&o,
		   "2026-11-21T22:55:28.828553Z python3 pid 1234 fd 5 127.0.0.1:8080 < 10.1.2.3:41234 len 100 captured 20 truncated\n"
		   "  0000  16 03 01 02                                       |....|\n"
		   "  +16 bytes not shown (--raw-bytes 4)\n"
		   "2026-11-21T22:55:28.828553Z python3 pid 1234 fd 5 127.0.0.1:8080 > 10.1.2.3:41234 http1 len 1048576 captured 0 gap\n");
}

Test(raw_dump, headers_only_ipv6_no_fd_and_an_unsafe_comm)
{
	struct out o;
	struct ss_event ev = ev_of(SS_EV_DATA, SS_DIR_EGRESS, 0, 6, 6);

	ev.family = AF_INET6;
	memset(ev.laddr, 0, sizeof(ev.laddr));
	ev.laddr[15] = 1;
	memcpy(ev.raddr, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x02", 16);
	ev.fd = -1;
	memcpy(ev.comm, "evil\x1b[2Jname\x7f!!!!", SS_COMM_LEN);
	out_open(&o, 0);
	put(&o, &ev, "PING\r\n", PROTO_REDIS);
	out_expect(&o, "2026-11-21T22:55:28.828553Z evil?[2Jname?!!! pid 1234 fd - [::1]:8080 > [2001:db8::2]:41234 redis "
		       "len 6 captured 6\n");
}

Test(raw_dump, h2_header_block_masked_data_shown)
{
	struct out o;
	/* HEADERS (3 bytes) then DATA "hi", stream 1. */
	static const char frames[] = "\x00\x00\x03\x01\x04\x00\x00\x00\x01" "\x82\x84\x86"
				     "\x00\x00\x02\x00\x01\x00\x00\x00\x01" "hi";
	struct ss_event ev = ev_of(SS_EV_DATA, SS_DIR_INGRESS, 0, sizeof(frames) - 1, sizeof(frames) - 1);

	out_open(&o, RAW_DUMP_BYTES_DEFAULT);
	put(&o, &ev, frames, PROTO_HTTP2);
	out_expect(&o,
		   "2026-11-21T22:55:28.828553Z python3 pid 1234 fd 5 127.0.0.1:8080 < 10.1.2.3:41234 http2 len 23 captured 23\n"
		   "  0000  00 00 03 01 04 00 00 00  01 2a 2a 2a 00 00 02 00  |.........***....|\n"
		   "  0010  01 00 00 00 01 68 69                              |.....hi|\n");
}
