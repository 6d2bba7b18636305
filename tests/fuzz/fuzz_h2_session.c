/*
 * libFuzzer target for user/h2_session.c through user/conn_tracker.c (so
 * detection, the HTTP/1 switch to h2c and every parser behind it are in).
 *
 * Input: one byte of role (enum ss_role, modulo 3), then events, each a
 * control byte and a 16-bit big-endian length, then that many bytes:
 *   bit 0: direction (enum ss_dir)
 *   bit 1: the bytes are lost (the next event shows a gap)
 *   bit 2: only the first half is captured (a truncated payload)
 *   bit 3: a close event follows
 * The seed corpus holds the recorded conversations of tests/data/h2 in this
 * format (record.py's chunks, client bytes as ingress, role server).
 *
 *   ./build/fuzz/fuzz_h2_session tests/fuzz/corpus/h2_session
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_pipeline.h"
#include "sockspan_event.h"
#include "span/span.h"

static void sink(void *ctx, const struct span *s)
{
	(void)ctx;
	/* A span is well formed whatever came in. */
	if (strlen(s->name) >= SPAN_NAME_MAX || s->num_tags > SPAN_MAX_TAGS)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_pipeline pl;
	struct conn_tracker *t;
	uint32_t seq[2] = { 0xfffff000u, 0x7ffff000u };
	uint64_t ts = 1000000000ull;
	size_t off = 1;
	uint8_t role;

	if (size < 1)
		return 0;
	role = data[0] % 3;
	if (fuzz_pipeline_new(&pl, sink, false, 16) < 0)
		return 0;
	t = pl.tracker;
	while (off + 3 <= size) {
		uint8_t ctl = data[off];
		size_t len = (size_t)data[off + 1] << 8 | data[off + 2];
		enum ss_dir dir = ctl & 1 ? SS_DIR_INGRESS : SS_DIR_EGRESS;
		struct ss_event ev;

		off += 3;
		if (len > size - off)
			len = size - off;
		ts += 1000;
		if (ctl & 2) {
			seq[dir] += (uint32_t)len;
			off += len;
			continue;
		}
		memset(&ev, 0, sizeof(ev));
		ev.ts_ns = ts;
		ev.sock_ino = 42;
		ev.tgid = 1;
		ev.tid = 1;
		ev.fd = 3;
		ev.seq = seq[dir];
		ev.dir = dir;
		ev.role = role;
		ev.family = 2;
		ev.lport = 80;
		ev.rport = 40000;
		fuzz_pipeline_data(t, &ev, data + off, len, ctl & 4, ctl & 8);
		seq[dir] += (uint32_t)len;
		off += len;
	}
	fuzz_pipeline_free(&pl);
	return 0;
}
