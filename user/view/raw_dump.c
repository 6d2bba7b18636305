#include "view/raw_dump.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "conn/conn_tracker.h"
#include "span/span.h"
#include "view/raw_mask.h"

#define BYTES_PER_LINE 16

/* The masking state of one direction of one connection. */
struct raw_slot {
	uint64_t sock_ino;
	uint32_t tgid;
	uint8_t dir;
	bool used;
	bool seq_known;
	uint8_t proto;     /* enum raw_mask_proto the state walks */
	uint32_t next_seq; /* where the next event should start */
	uint16_t lport, rport; /* of its data: a close may come with a local port of 0 */
	struct raw_mask_state st;
};

struct raw_dump {
	FILE *out;
	uint32_t max_bytes;
	uint8_t *buf; /* max_bytes: the masked copy */
	struct raw_slot slots[1u << RAW_DUMP_STATES_BITS];
};

struct raw_dump *raw_dump_new(FILE *out, uint32_t max_bytes)
{
	struct raw_dump *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->out = out;
	d->max_bytes = max_bytes < RAW_DUMP_BYTES_MAX ? max_bytes : RAW_DUMP_BYTES_MAX;
	d->buf = malloc(d->max_bytes ? d->max_bytes : 1);
	if (!d->buf) {
		free(d);
		return NULL;
	}
	return d;
}

void raw_dump_free(struct raw_dump *d)
{
	if (!d)
		return;
	free(d->buf);
	free(d);
}

static struct raw_slot *slot_of(struct raw_dump *d, uint32_t tgid, uint64_t ino, uint8_t dir)
{
	/* Fibonacci hashing: the top bits of the product are well mixed. */
	uint64_t x = (ino ^ ((uint64_t)tgid << 32 | dir)) * 0x9e3779b97f4a7c15ull;

	return &d->slots[x >> (64 - RAW_DUMP_STATES_BITS)];
}

static bool slot_is(const struct raw_slot *s, uint32_t tgid, uint64_t ino, uint8_t dir)
{
	return s->used && s->tgid == tgid && s->sock_ino == ino && s->dir == dir;
}

/* The state for this event's direction, fresh when new or when the
 * protocol changed (an HTTP/1 connection upgraded to h2c). Events lost
 * before this one are skipped in it. */
static struct raw_slot *slot_for(struct raw_dump *d, const struct ss_event *ev, enum raw_mask_proto p)
{
	struct raw_slot *s = slot_of(d, ev->tgid, ev->sock_ino, ev->dir);

	if (!slot_is(s, ev->tgid, ev->sock_ino, ev->dir) || s->proto != p) {
		*s = (struct raw_slot){ .sock_ino = ev->sock_ino, .tgid = ev->tgid, .dir = ev->dir, .used = true,
					.proto = p };
	} else if (s->seq_known && ev->seq != s->next_seq) {
		uint32_t ahead = ev->seq - s->next_seq;

		raw_mask_skip(&s->st, p, ahead < (1u << 31) ? ahead : UINT64_MAX);
	}
	s->seq_known = true;
	s->next_seq = ev->seq + ev->len;
	s->lport = ev->lport;
	s->rport = ev->rport;
	return s;
}

static enum raw_mask_proto mask_proto(unsigned proto)
{
	switch (proto) {
	case PROTO_HTTP1:
	case CONN_PROTO_UNDETECTED:
		return RAW_MASK_HTTP1;
	case PROTO_HTTP2:
		return RAW_MASK_H2;
	case PROTO_REDIS:
		return RAW_MASK_REDIS;
	default:
		return RAW_MASK_NONE;
	}
}

/* "addr:port", IPv6 in brackets. */
static const char *endpoint(char *buf, size_t cap, uint8_t family, const uint8_t *addr, uint16_t port)
{
	char ip[INET6_ADDRSTRLEN] = "?";
	bool v6 = family == AF_INET6;

	inet_ntop(v6 ? AF_INET6 : AF_INET, addr, ip, sizeof(ip));
	snprintf(buf, cap, v6 ? "[%s]:%u" : "%s:%u", ip, port);
	return buf;
}

static void when(char *buf, size_t cap, uint64_t epoch_us)
{
	time_t secs = (time_t)(epoch_us / 1000000);
	struct tm tm;
	size_t n = gmtime_r(&secs, &tm) ? strftime(buf, cap, "%Y-%m-%dT%H:%M:%S", &tm) : 0;

	snprintf(buf + n, cap - n, ".%06uZ", (unsigned)(epoch_us % 1000000));
}

static int header(FILE *f, const struct ss_event *ev, unsigned proto, uint64_t epoch_us)
{
	char t[64], comm[SS_COMM_LEN * 3 + 1], local[64], remote[64], fd[16] = "-";
	static const char dirs[] = { [SS_DIR_EGRESS] = '>', [SS_DIR_INGRESS] = '<' };

	when(t, sizeof(t), epoch_us);
	span_copy_safe(comm, sizeof(comm), ev->comm, strnlen(ev->comm, SS_COMM_LEN));
	if (ev->fd >= 0)
		snprintf(fd, sizeof(fd), "%d", ev->fd);
	fprintf(f, "%s %s pid %" PRIu32 " fd %s %s %c %s", t, comm, ev->tgid, fd,
		endpoint(local, sizeof(local), ev->family, ev->laddr, ev->lport),
		ev->type == SS_EV_CLOSE ? '-' : dirs[ev->dir & 1],
		endpoint(remote, sizeof(remote), ev->family, ev->raddr, ev->rport));
	if (proto < PROTO_COUNT)
		fprintf(f, " %s", proto_id_name(proto));
	if (ev->type == SS_EV_CLOSE)
		return fprintf(f, " close\n");
	return fprintf(f, " len %" PRIu32 " captured %" PRIu32 "%s\n", ev->len, ev->cap_len,
		       ev->type == SS_EV_GAP ? " gap" : ev->cap_len < ev->len ? " truncated" : "");
}

/* Offset, 16 bytes in hex (a gap after 8), the same as ASCII ('.' unless printable). */
static int dump(FILE *f, const uint8_t *b, size_t n)
{
	int r = 0;

	for (size_t off = 0; off < n && r >= 0; off += BYTES_PER_LINE) {
		char hex[BYTES_PER_LINE * 3 + 2], ascii[BYTES_PER_LINE + 1];
		size_t h = 0, k;

		for (k = 0; k < BYTES_PER_LINE; k++) {
			if (k == BYTES_PER_LINE / 2)
				hex[h++] = ' ';
			if (off + k < n)
				h += (size_t)snprintf(hex + h, sizeof(hex) - h, "%02x ", b[off + k]);
			else
				h += (size_t)snprintf(hex + h, sizeof(hex) - h, "   ");
		}
		hex[h - 1] = '\0';
		for (k = 0; k < BYTES_PER_LINE && off + k < n; k++)
			ascii[k] = b[off + k] >= 0x20 && b[off + k] < 0x7f ? (char)b[off + k] : '.';
		ascii[k] = '\0';
		r = fprintf(f, "  %04zx  %s  |%s|\n", off, hex, ascii);
	}
	return r;
}

/* A close: its connection's states are forgotten, their ports said. */
static int closed(struct raw_dump *d, const struct ss_event *ev, unsigned proto, uint64_t epoch_us)
{
	struct ss_event c = *ev;

	for (uint8_t dir = SS_DIR_EGRESS; dir <= SS_DIR_INGRESS; dir++) {
		struct raw_slot *s = slot_of(d, ev->tgid, ev->sock_ino, dir);

		if (slot_is(s, ev->tgid, ev->sock_ino, dir)) {
			c.lport = s->lport;
			c.rport = s->rport;
			s->used = false;
		}
	}
	return header(d->out, &c, proto, epoch_us);
}

int raw_dump_event(struct raw_dump *d, const struct ss_event *ev, const uint8_t *payload, unsigned proto,
		   uint64_t epoch_us)
{
	enum raw_mask_proto p = mask_proto(proto);
	struct raw_slot *s;
	size_t shown;
	int r;

	if (ev->type == SS_EV_CLOSE)
		return closed(d, ev, proto, epoch_us);
	r = header(d->out, ev, proto, epoch_us);
	s = slot_for(d, ev, p);
	if (ev->type == SS_EV_GAP) {
		raw_mask_skip(&s->st, p, ev->len);
		return r;
	}
	shown = ev->cap_len < d->max_bytes ? ev->cap_len : d->max_bytes;
	raw_mask(&s->st, p, payload, ev->cap_len, d->buf, shown);
	if (ev->len > ev->cap_len)
		raw_mask_skip(&s->st, p, ev->len - ev->cap_len);
	if (r >= 0)
		r = dump(d->out, d->buf, shown);
	if (r >= 0 && d->max_bytes && shown < ev->cap_len)
		r = fprintf(d->out, "  +%zu bytes not shown (--raw-bytes %" PRIu32 ")\n", ev->cap_len - shown,
			    d->max_bytes);
	return r;
}
