/* Recorded event streams (the .ssev.gz files in tests/data): what the kernel handed to
 * userspace, replayed without a kernel by the replay benchmark and tests.
 * gzip of: "SSEV" and a u32 version, then per event a u32 length (header
 * plus payload), a u32 zero, the struct ss_event and its cap_len payload
 * bytes, zero-padded to 8 bytes so that every event is aligned in memory;
 * host layout (recorded and replayed on the same ABI). */
#ifndef SOCKSPAN_EVENT_FILE_H
#define SOCKSPAN_EVENT_FILE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "sockspan_event.h"

#define EVENT_FILE_MAGIC "SSEV"
#define EVENT_FILE_VERSION 1u

/* Events of a file in memory: recs[i] points at an event and its payload. */
struct event_file {
	uint8_t *data;
	const struct ss_event **recs;
	size_t n;
	uint64_t payload_bytes; /* cap_len summed */
};

static inline int event_file_write_header(gzFile f)
{
	uint32_t v = EVENT_FILE_VERSION;

	return gzwrite(f, EVENT_FILE_MAGIC, 4) == 4 && gzwrite(f, &v, 4) == 4 ? 0 : -1;
}

#define EVENT_FILE_PAD(n) (((n) + 7u) & ~(size_t)7u)

static inline int event_file_write(gzFile f, const struct ss_event *ev, const uint8_t *payload)
{
	uint32_t head[2] = { (uint32_t)sizeof(*ev) + ev->cap_len, 0 };
	static const uint8_t zeros[8];
	unsigned pad = (unsigned)(EVENT_FILE_PAD(head[0]) - head[0]);

	_Static_assert(sizeof(struct ss_event) % 8 == 0, "events stay aligned");
	return gzwrite(f, head, 8) == 8 && gzwrite(f, ev, sizeof(*ev)) == (int)sizeof(*ev) &&
			       (ev->cap_len == 0 || gzwrite(f, payload, ev->cap_len) == (int)ev->cap_len) &&
			       (pad == 0 || gzwrite(f, zeros, pad) == (int)pad)
		       ? 0
		       : -1;
}

static inline void event_file_free(struct event_file *e)
{
	free(e->data);
	free(e->recs);
	memset(e, 0, sizeof(*e));
}

/* Reads a whole file; every record is checked (length, cap_len). Returns 0,
 * or -1 with a message in err. */
static inline int event_file_load(struct event_file *e, const char *path, char *err, size_t cap)
{
	gzFile f = gzopen(path, "rb");
	size_t len = 0, room = 1 << 20, off, n = 0;
	int r;

	memset(e, 0, sizeof(*e));
	if (!f) {
		snprintf(err, cap, "%s: cannot open", path);
		return -1;
	}
	e->data = malloc(room);
	while (e->data && (r = gzread(f, e->data + len, (unsigned)(room - len))) > 0) {
		len += (size_t)r;
		if (len == room) {
			uint8_t *d = realloc(e->data, room *= 2);
			if (!d) {
				free(e->data);
				e->data = NULL;
			}
			e->data = d;
		}
	}
	gzclose(f);
	if (!e->data || len < 8 || memcmp(e->data, EVENT_FILE_MAGIC, 4) != 0 ||
	    *(uint32_t *)(e->data + 4) != EVENT_FILE_VERSION) {
		snprintf(err, cap, "%s: not a version %u event file", path, EVENT_FILE_VERSION);
		event_file_free(e);
		return -1;
	}
	for (int pass = 0; pass < 2; pass++) {
		for (off = 8, n = 0; off < len; n++) {
			uint32_t rec;
			const struct ss_event *ev;

			if (len - off < 8 || (memcpy(&rec, e->data + off, 4), rec < sizeof(*ev)) ||
			    EVENT_FILE_PAD(rec) > len - off - 8) {
				snprintf(err, cap, "%s: record %zu is cut or malformed", path, n);
				event_file_free(e);
				return -1;
			}
			ev = (const struct ss_event *)(e->data + off + 8);
			if (ev->cap_len != rec - sizeof(*ev) || ev->cap_len > ev->len) {
				snprintf(err, cap, "%s: record %zu has a bad payload length", path, n);
				event_file_free(e);
				return -1;
			}
			if (pass == 1) {
				e->recs[n] = ev;
				e->payload_bytes += ev->cap_len;
			}
			off += 8 + EVENT_FILE_PAD(rec);
		}
		if (pass == 0 && !(e->recs = calloc(n ? n : 1, sizeof(*e->recs)))) {
			snprintf(err, cap, "out of memory");
			event_file_free(e);
			return -1;
		}
	}
	e->n = n;
	return 0;
}

#endif
