/*
 * libFuzzer target for the connection tracker with several connections at
 * once in a table of two (user/conn/: eviction, fd and inode reuse, sequence
 * rewinds and overlaps, idle expiry and trimming), with every protocol
 * session and the tracer behind it: the HTTP/1 session is reached by its
 * seeds, as are Redis and HTTP/2.
 *
 * Input: events, each 4 bytes then the payload:
 *   ctl   bit 0: direction (enum ss_dir); bit 1: the bytes are lost (a gap
 *         follows); bit 2: only half captured; bit 3: a close follows;
 *         bits 4-5: role (enum ss_role, 3 = unknown)
 *   conn  bits 0-1: which of 4 connections; bit 2: its fd now names a new
 *         socket (inode reuse); bit 3: the stream rewinds by the length
 *         (replayed bytes); bit 4: a second passes first (expiry, trimming)
 *   len   16-bit big endian, then that many payload bytes
 *
 *   ./build/fuzz/fuzz_tracker tests/fuzz/corpus/tracker
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_pipeline.h"
#include "sockspan_event.h"
#include "span/span.h"

#define CONNS 4
#define TABLE 2

static void sink(void *ctx, const struct span *s)
{
	(void)ctx;
	if (strlen(s->name) >= SPAN_NAME_MAX || s->num_tags > SPAN_MAX_TAGS)
		abort();
}

struct fconn {
	uint64_t ino;
	uint32_t seq[2];
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_pipeline pl;
	struct fconn conns[CONNS];
	uint64_t ts = 1000000000ull;
	size_t off = 0;

	if (fuzz_pipeline_new(&pl, sink, true, TABLE) < 0)
		return 0;
	for (int i = 0; i < CONNS; i++)
		conns[i] = (struct fconn){ .ino = 100 + (uint64_t)i, .seq = { 0xfffff000u, 0x7ffff000u } };
	while (off + 4 <= size) {
		uint8_t ctl = data[off], which = data[off + 1];
		size_t len = (size_t)data[off + 2] << 8 | data[off + 3];
		struct fconn *c = &conns[which & 3];
		enum ss_dir dir = ctl & 1 ? SS_DIR_INGRESS : SS_DIR_EGRESS;
		struct ss_event ev;

		off += 4;
		if (len > size - off)
			len = size - off;
		ts += which & 16 ? 1100000000ull : 1000;
		if (which & 16) {
			conn_tracker_trim(pl.tracker, ts, 1000000000ull);
			conn_tracker_expire(pl.tracker, ts, 3000000000ull);
			tracer_tick(pl.tracer, ts);
		}
		if (which & 4)
			c->ino += CONNS;
		if (which & 8)
			c->seq[dir] -= (uint32_t)len;
		if (ctl & 2) {
			c->seq[dir] += (uint32_t)len;
			off += len;
			continue;
		}
		memset(&ev, 0, sizeof(ev));
		ev.ts_ns = ts;
		ev.sock_ino = c->ino;
		ev.tgid = 1 + (which & 1);
		ev.tid = ev.tgid;
		ev.fd = 3 + (which & 3);
		ev.seq = c->seq[dir];
		ev.dir = dir;
		ev.role = (ctl >> 4) & 3;
		if (ev.role > SS_ROLE_SERVER)
			ev.role = SS_ROLE_UNKNOWN;
		ev.family = 2;
		ev.lport = 80;
		ev.rport = (uint16_t)(40000 + (which & 3));
		fuzz_pipeline_data(pl.tracker, &ev, data + off, len, ctl & 4, ctl & 8);
		c->seq[dir] += (uint32_t)len;
		off += len;
	}
	fuzz_pipeline_free(&pl);
	return 0;
}
