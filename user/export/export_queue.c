#include "export/export_queue.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

/* Records start on 8-byte boundaries; a record that would cross the ring's
 * end leaves this marker and starts again at offset 0. */
#define REC_ALIGN 8
#define REC_WRAP UINT32_MAX
#define WAKE_NONE UINT64_MAX

/* The fixed part of a packed span; the strings follow: name, local and remote
 * service names, then per tag the key pointer (a string literal, see span.h),
 * a uint16_t length and the value's bytes. */
struct rec {
	uint32_t size; /* whole record, padded to REC_ALIGN; REC_WRAP: skip to the start */
	uint32_t pid;
	uint64_t timestamp_us, duration_us;
	uint8_t trace_id[16], id[8], parent_id[8];
	uint8_t laddr[16], raddr[16];
	uint16_t lport, rport;
	uint8_t lfamily, rfamily;
	uint8_t kind, has_parent, num_tags;
	uint8_t trace_id_len, shared, debug;
	uint8_t name_len, lservice_len, rservice_len;
};

_Static_assert(SPAN_NAME_MAX <= 256 && SPAN_SERVICE_MAX <= 256, "lengths are stored in a byte");
_Static_assert(SPAN_TAG_VALUE_MAX <= 65536, "tag lengths are stored in 16 bits");
_Static_assert(SPAN_MAX_TAGS <= 255, "the tag count is stored in a byte");

struct export_queue {
	uint8_t *ring;
	uint64_t cap;            /* ring bytes, a multiple of REC_ALIGN */
	uint64_t max_spans;
	int wake_fd;
	/* Positions are byte counts since creation; offset = position % cap. */
	_Atomic uint64_t head;   /* producer: end of the last record written */
	_Atomic uint64_t tail;   /* consumer: start of the oldest unreleased record */
	_Atomic uint64_t pushed; /* producer: spans written */
	_Atomic uint64_t released; /* consumer: spans released */
	_Atomic uint64_t dropped_full;
	_Atomic uint64_t wake_at; /* consumer: head position that deserves a wake-up */
	/* Consumer only. */
	uint64_t rd;             /* position of the next unread record */
	uint64_t rd_spans;       /* spans read */
	uint32_t peeked_size;    /* size of the record export_queue_peek returned */
};

struct export_queue *export_queue_new(size_t max_spans, size_t max_bytes)
{
	struct export_queue *q;

	if (max_spans < 1 || max_bytes < EXPORT_QUEUE_MIN_BYTES) {
		errno = EINVAL;
		return NULL;
	}
	q = calloc(1, sizeof(*q));
	if (!q)
		return NULL;
	q->cap = (max_bytes + REC_ALIGN - 1) / REC_ALIGN * REC_ALIGN;
	q->max_spans = max_spans;
	q->ring = malloc(q->cap);
	q->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (!q->ring || q->wake_fd < 0) {
		export_queue_free(q);
		return NULL;
	}
	atomic_init(&q->wake_at, WAKE_NONE);
	return q;
}

void export_queue_free(struct export_queue *q)
{
	if (!q)
		return;
	if (q->wake_fd >= 0)
		close(q->wake_fd);
	free(q->ring);
	free(q);
}

static size_t field_len(const char *field, size_t size)
{
	return strnlen(field, size);
}

static uint64_t align_up(uint64_t n)
{
	return (n + REC_ALIGN - 1) / REC_ALIGN * REC_ALIGN;
}

static unsigned tag_count(const struct span *s)
{
	return s->num_tags < SPAN_MAX_TAGS ? s->num_tags : SPAN_MAX_TAGS;
}

static uint64_t packed_size(const struct span *s)
{
	uint64_t n = sizeof(struct rec) + field_len(s->name, sizeof(s->name)) +
		     field_len(s->local.service_name, sizeof(s->local.service_name)) +
		     field_len(s->remote.service_name, sizeof(s->remote.service_name));

	for (unsigned i = 0; i < tag_count(s); i++)
		n += sizeof(const char *) + sizeof(uint16_t) +
		     field_len(s->tags[i].value, sizeof(s->tags[i].value));
	return align_up(n);
}

static uint8_t *put(uint8_t *p, const void *src, size_t n)
{
	memcpy(p, src, n);
	return p + n;
}

static void pack(uint8_t *p, const struct span *s, uint32_t size)
{
	struct rec r = {
		.size = size,
		.pid = s->pid,
		.timestamp_us = s->timestamp_us,
		.duration_us = s->duration_us,
		.lport = s->local.port,
		.rport = s->remote.port,
		.lfamily = s->local.family,
		.rfamily = s->remote.family,
		.kind = (uint8_t)s->kind,
		.has_parent = s->has_parent,
		.trace_id_len = s->trace_id_len,
		.shared = s->shared,
		.debug = s->debug,
		.num_tags = (uint8_t)tag_count(s),
		.name_len = (uint8_t)field_len(s->name, sizeof(s->name)),
		.lservice_len = (uint8_t)field_len(s->local.service_name, sizeof(s->local.service_name)),
		.rservice_len = (uint8_t)field_len(s->remote.service_name, sizeof(s->remote.service_name)),
	};

	memcpy(r.trace_id, s->trace_id, sizeof(r.trace_id));
	memcpy(r.id, s->id, sizeof(r.id));
	memcpy(r.parent_id, s->parent_id, sizeof(r.parent_id));
	memcpy(r.laddr, s->local.addr, sizeof(r.laddr));
	memcpy(r.raddr, s->remote.addr, sizeof(r.raddr));
	p = put(p, &r, sizeof(r));
	p = put(p, s->name, r.name_len);
	p = put(p, s->local.service_name, r.lservice_len);
	p = put(p, s->remote.service_name, r.rservice_len);
	for (unsigned i = 0; i < r.num_tags; i++) {
		uint16_t n = (uint16_t)field_len(s->tags[i].value, sizeof(s->tags[i].value));

		p = put(p, &s->tags[i].key, sizeof(s->tags[i].key));
		p = put(p, &n, sizeof(n));
		p = put(p, s->tags[i].value, n);
	}
}

/* Copies n bytes into a fixed string field, NUL-terminated when there is room
 * (a field packed full had no NUL either). */
static const uint8_t *get_str(char *dst, size_t size, const uint8_t *p, size_t n)
{
	memcpy(dst, p, n);
	if (n < size)
		dst[n] = '\0';
	return p + n;
}

static void unpack(const uint8_t *p, struct span *s)
{
	struct rec r;

	memcpy(&r, p, sizeof(r));
	p += sizeof(r);
	memcpy(s->trace_id, r.trace_id, sizeof(r.trace_id));
	memcpy(s->id, r.id, sizeof(r.id));
	memcpy(s->parent_id, r.parent_id, sizeof(r.parent_id));
	s->has_parent = r.has_parent;
	s->trace_id_len = r.trace_id_len;
	s->shared = r.shared;
	s->debug = r.debug;
	s->kind = (enum span_kind)r.kind;
	s->timestamp_us = r.timestamp_us;
	s->duration_us = r.duration_us;
	s->pid = r.pid;
	memcpy(s->local.addr, r.laddr, sizeof(r.laddr));
	memcpy(s->remote.addr, r.raddr, sizeof(r.raddr));
	s->local.port = r.lport;
	s->remote.port = r.rport;
	s->local.family = r.lfamily;
	s->remote.family = r.rfamily;
	p = get_str(s->name, sizeof(s->name), p, r.name_len);
	p = get_str(s->local.service_name, sizeof(s->local.service_name), p, r.lservice_len);
	p = get_str(s->remote.service_name, sizeof(s->remote.service_name), p, r.rservice_len);
	s->num_tags = r.num_tags;
	for (unsigned i = 0; i < r.num_tags; i++) {
		uint16_t n;

		memcpy(&s->tags[i].key, p, sizeof(s->tags[i].key));
		p += sizeof(s->tags[i].key);
		memcpy(&n, p, sizeof(n));
		p += sizeof(n);
		p = get_str(s->tags[i].value, sizeof(s->tags[i].value), p, n);
	}
}

bool export_queue_push(struct export_queue *q, const struct span *s)
{
	uint64_t size = packed_size(s);
	uint64_t head = atomic_load_explicit(&q->head, memory_order_relaxed);
	uint64_t tail = atomic_load_explicit(&q->tail, memory_order_acquire);
	uint64_t pushed = atomic_load_explicit(&q->pushed, memory_order_relaxed);
	uint64_t off = head % q->cap, pad = q->cap - off < size ? q->cap - off : 0;
	uint64_t wake;

	if (pushed - atomic_load_explicit(&q->released, memory_order_acquire) >= q->max_spans ||
	    head + pad + size - tail > q->cap) {
		atomic_fetch_add_explicit(&q->dropped_full, 1, memory_order_relaxed);
		return false;
	}
	if (pad) {
		uint32_t wrap = REC_WRAP;

		memcpy(q->ring + off, &wrap, sizeof(wrap));
		off = 0;
	}
	pack(q->ring + off, s, (uint32_t)size);
	head += pad + size;
	/* seq_cst pairs with export_queue_arm: either the consumer sees this
	 * record after arming, or this thread sees the arming and wakes it. */
	atomic_store(&q->head, head);
	atomic_store_explicit(&q->pushed, pushed + 1, memory_order_release);
	wake = atomic_load(&q->wake_at);
	if (head >= wake && atomic_exchange(&q->wake_at, WAKE_NONE) != WAKE_NONE)
		eventfd_write(q->wake_fd, 1);
	return true;
}

bool export_queue_peek(struct export_queue *q, struct span *out)
{
	uint64_t head = atomic_load_explicit(&q->head, memory_order_acquire);

	while (q->rd != head) {
		uint64_t off = q->rd % q->cap;
		uint32_t size;

		memcpy(&size, q->ring + off, sizeof(size));
		if (size == REC_WRAP) {
			q->rd += q->cap - off;
			continue;
		}
		unpack(q->ring + off, out);
		q->peeked_size = size;
		return true;
	}
	return false;
}

void export_queue_advance(struct export_queue *q)
{
	q->rd += q->peeked_size;
	q->rd_spans++;
	q->peeked_size = 0;
}

void export_queue_release(struct export_queue *q)
{
	atomic_store_explicit(&q->tail, q->rd, memory_order_release);
	atomic_store_explicit(&q->released, q->rd_spans, memory_order_release);
}

uint64_t export_queue_unread_bytes(const struct export_queue *q)
{
	return atomic_load_explicit(&q->head, memory_order_acquire) - q->rd;
}

bool export_queue_arm(struct export_queue *q, uint64_t bytes)
{
	uint64_t target = q->rd + (bytes ? bytes : 1);

	atomic_store(&q->wake_at, target);
	if (atomic_load(&q->head) >= target) {
		atomic_store(&q->wake_at, WAKE_NONE);
		return true;
	}
	return false;
}

int export_queue_wake_fd(const struct export_queue *q)
{
	return q->wake_fd;
}

void export_queue_clear_wake(struct export_queue *q)
{
	eventfd_t v;

	eventfd_read(q->wake_fd, &v);
}

void export_queue_stats(const struct export_queue *q, struct export_queue_stats *out)
{
	uint64_t released = atomic_load_explicit(&q->released, memory_order_acquire);
	uint64_t tail = atomic_load_explicit(&q->tail, memory_order_acquire);

	out->pushed = atomic_load_explicit(&q->pushed, memory_order_acquire);
	out->dropped_full = atomic_load_explicit(&q->dropped_full, memory_order_relaxed);
	out->spans = out->pushed - released;
	out->bytes = atomic_load_explicit(&q->head, memory_order_acquire) - tail;
	out->max_spans = q->max_spans;
	out->max_bytes = q->cap;
}
