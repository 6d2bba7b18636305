#include "conn/stream.h"

#include <stdlib.h>
#include <string.h>

/* Smallest buffer made for kept bytes: a head trickled in small writes grows
 * it by doubling, not one realloc per write. */
#define KEPT_MIN 256

struct stream_kept {
	uint32_t cap;   /* bytes data holds */
	uint32_t nseg;
	struct stream_segment seg[STREAM_MAX_SEGMENTS];
	uint8_t data[];
};

_Static_assert(STREAM_MAX_BUFFERED <= UINT32_MAX, "segment ends are 32-bit offsets");

enum stream_position stream_advance(struct stream *s, uint32_t seq, uint32_t len, uint64_t *missing)
{
	enum stream_position pos = STREAM_IN_ORDER;
	/* Sequence numbers wrap at 2^32: the signed difference orders them. */
	int32_t d = (int32_t)(seq - s->next_seq);

	*missing = 0;
	if (s->seq_known && d > 0) {
		pos = STREAM_GAP;
		*missing = (uint32_t)d;
	} else if (s->seq_known && d < 0) {
		pos = STREAM_REWIND;
	}
	s->next_seq = seq + len;
	s->seq_known = true;
	return pos;
}

static struct stream_kept *kept_resize(struct stream_kept *k, size_t cap)
{
	struct stream_kept *nk = realloc(k, sizeof(*k) + cap);

	if (nk)
		nk->cap = (uint32_t)cap;
	return nk;
}

int stream_keep(struct stream *s)
{
	struct stream_kept *k;

	if (!s->lent_buf)
		return 0;
	s->lent_buf = false;
	if (s->len == 0) {
		s->buf = NULL;
		return 0;
	}
	k = kept_resize(NULL, s->len);
	if (!k) {
		s->buf = NULL;
		s->len = 0;
		return -1;
	}
	memcpy(k->data, s->buf, s->len);
	k->seg[0] = s->lent;
	k->nseg = 1;
	s->kept = k;
	s->buf = k->data;
	return 0;
}

int stream_append(struct stream *s, const uint8_t *data, size_t len, uint64_t ts_ns, uint32_t seq, uint32_t tid)
{
	struct stream_kept *k;

	if (len == 0)
		return 0;
	if (s->len + len > STREAM_MAX_BUFFERED)
		return -1;
	if (s->len == 0) {
		s->buf = data;
		s->len = len;
		s->buf_seq = seq;
		s->lent = (struct stream_segment){ .end = (uint32_t)len, .tid = tid, .ts_ns = ts_ns };
		s->lent_buf = true;
		return 0;
	}
	if (stream_keep(s) < 0)
		return -1;
	k = s->kept;
	if (s->len + len > k->cap) {
		size_t cap = k->cap * 2;

		if (cap < s->len + len)
			cap = s->len + len;
		if (cap < KEPT_MIN)
			cap = KEPT_MIN;
		if (cap > STREAM_MAX_BUFFERED)
			cap = STREAM_MAX_BUFFERED;
		k = kept_resize(k, cap);
		if (!k)
			return -1;
		s->kept = k;
	}
	memcpy(k->data + s->len, data, len);
	s->len += len;
	s->buf = k->data;
	if (k->nseg == STREAM_MAX_SEGMENTS) {
		/* Merge the two oldest: the merged bytes keep the earlier time and thread. */
		k->seg[1].ts_ns = k->seg[0].ts_ns;
		k->seg[1].tid = k->seg[0].tid;
		memmove(&k->seg[0], &k->seg[1], (STREAM_MAX_SEGMENTS - 1) * sizeof(k->seg[0]));
		k->nseg--;
	}
	k->seg[k->nseg++] = (struct stream_segment){ .end = (uint32_t)s->len, .tid = tid, .ts_ns = ts_ns };
	return 0;
}

void stream_consume(struct stream *s, size_t n)
{
	struct stream_kept *k = s->kept;
	unsigned drop = 0;

	if (n == 0)
		return;
	if (n >= s->len) {
		stream_clear(s);
		return;
	}
	s->len -= n;
	s->buf_seq += (uint32_t)n;
	if (s->lent_buf) {
		s->buf += n;
		s->lent.end -= (uint32_t)n;
		return;
	}
	memmove(k->data, k->data + n, s->len);
	while (drop < k->nseg && k->seg[drop].end <= n)
		drop++;
	memmove(&k->seg[0], &k->seg[drop], (k->nseg - drop) * sizeof(k->seg[0]));
	k->nseg -= drop;
	for (unsigned i = 0; i < k->nseg; i++)
		k->seg[i].end -= (uint32_t)n;
}

unsigned stream_segments(const struct stream *s)
{
	if (s->lent_buf)
		return s->len ? 1 : 0;
	return s->kept ? s->kept->nseg : 0;
}

static const struct stream_segment *segment_at(const struct stream *s, size_t off)
{
	const struct stream_segment *seg = s->lent_buf ? &s->lent : s->kept ? s->kept->seg : NULL;
	unsigned n = stream_segments(s);

	for (unsigned i = 0; i < n; i++)
		if (off < seg[i].end)
			return &seg[i];
	return n ? &seg[n - 1] : NULL;
}

uint64_t stream_ts_at(const struct stream *s, size_t off)
{
	const struct stream_segment *g = segment_at(s, off);

	return g ? g->ts_ns : 0;
}

uint32_t stream_tid_at(const struct stream *s, size_t off)
{
	const struct stream_segment *g = segment_at(s, off);

	return g ? g->tid : 0;
}

void stream_clear(struct stream *s)
{
	free(s->kept);
	s->kept = NULL;
	s->buf = NULL;
	s->len = 0;
	s->lent_buf = false;
}

void stream_trim(struct stream *s)
{
	struct stream_kept *k;

	if (!s->kept || s->kept->cap == s->len)
		return;
	k = kept_resize(s->kept, s->len);
	if (!k)
		return; /* kept as it was */
	s->kept = k;
	s->buf = k->data;
}

size_t stream_footprint(const struct stream *s)
{
	return s->kept ? sizeof(*s->kept) + s->kept->cap : 0;
}

void stream_free(struct stream *s)
{
	stream_clear(s);
	memset(s, 0, sizeof(*s));
}
