#include "conn/stream.h"

#include <stdlib.h>
#include <string.h>

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

int stream_append(struct stream *s, const uint8_t *data, size_t len, uint64_t ts_ns, uint32_t seq, uint32_t tid)
{
	if (len == 0)
		return 0;
	if (s->len == 0)
		s->buf_seq = seq;
	if (s->len + len > STREAM_MAX_BUFFERED)
		return -1;
	if (s->len + len > s->cap) {
		size_t cap = s->cap ? s->cap : 4096;
		uint8_t *nb;

		while (cap < s->len + len)
			cap *= 2;
		nb = realloc(s->buf, cap);
		if (!nb)
			return -1;
		s->buf = nb;
		s->cap = cap;
	}
	memcpy(s->buf + s->len, data, len);
	s->len += len;
	if (s->nseg == STREAM_MAX_SEGMENTS) {
		/* Merge the two oldest: the merged bytes keep the earlier time and thread. */
		s->seg[1].ts_ns = s->seg[0].ts_ns;
		s->seg[1].tid = s->seg[0].tid;
		memmove(&s->seg[0], &s->seg[1], (STREAM_MAX_SEGMENTS - 1) * sizeof(s->seg[0]));
		s->nseg--;
	}
	s->seg[s->nseg].end = s->len;
	s->seg[s->nseg].ts_ns = ts_ns;
	s->seg[s->nseg].tid = tid;
	s->nseg++;
	return 0;
}

void stream_consume(struct stream *s, size_t n)
{
	unsigned drop = 0;

	if (n >= s->len) {
		stream_clear(s);
		return;
	}
	memmove(s->buf, s->buf + n, s->len - n);
	s->len -= n;
	s->buf_seq += (uint32_t)n;
	while (drop < s->nseg && s->seg[drop].end <= n)
		drop++;
	memmove(&s->seg[0], &s->seg[drop], (s->nseg - drop) * sizeof(s->seg[0]));
	s->nseg -= drop;
	for (unsigned i = 0; i < s->nseg; i++)
		s->seg[i].end -= n;
}

static const struct stream_segment *segment_at(const struct stream *s, size_t off)
{
	for (unsigned i = 0; i < s->nseg; i++)
		if (off < s->seg[i].end)
			return &s->seg[i];
	return s->nseg ? &s->seg[s->nseg - 1] : NULL;
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
	s->len = 0;
	s->nseg = 0;
}

void stream_trim(struct stream *s)
{
	if (s->len == 0 && s->buf) {
		free(s->buf);
		s->buf = NULL;
		s->cap = 0;
	}
}

void stream_free(struct stream *s)
{
	free(s->buf);
	memset(s, 0, sizeof(*s));
}
