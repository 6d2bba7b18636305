#include "session/h2_block.h"

#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "parse/grpc.h"

/* Raises a fresh inflater's table limit to H2_HPACK_MAX_TABLE by feeding it
 * a block that holds only a dynamic table size update (RFC 7541 6.3). */
static int hpack_prime(nghttp2_hd_inflater *inf)
{
	uint8_t blk[8];
	size_t n = 0;
	uint32_t v = H2_HPACK_MAX_TABLE - 31;
	nghttp2_nv nv;
	int flags = 0;

	blk[n++] = 0x3f; /* 001 prefix, 5-bit integer saturated */
	while (v >= 128) {
		blk[n++] = (uint8_t)(0x80 | (v & 0x7f));
		v >>= 7;
	}
	blk[n++] = (uint8_t)v;
	if (nghttp2_hd_inflate_change_table_size(inf, H2_HPACK_MAX_TABLE) != 0 ||
	    nghttp2_hd_inflate_hd2(inf, &nv, &flags, blk, n, 1) != (ssize_t)n ||
	    !(flags & NGHTTP2_HD_INFLATE_FINAL))
		return -1;
	nghttp2_hd_inflate_end_headers(inf);
	return 0;
}

/* nghttp2_mem for a decoder: malloc's, counting usable sizes in d->bytes. */
static void *count_malloc(size_t n, void *ud)
{
	struct h2_decoder *d = ud;
	void *p = malloc(n);

	if (p)
		d->bytes += malloc_usable_size(p);
	return p;
}

static void count_free(void *p, void *ud)
{
	struct h2_decoder *d = ud;

	if (p)
		d->bytes -= malloc_usable_size(p);
	free(p);
}

static void *count_calloc(size_t n, size_t size, void *ud)
{
	struct h2_decoder *d = ud;
	void *p = calloc(n, size);

	if (p)
		d->bytes += malloc_usable_size(p);
	return p;
}

static void *count_realloc(void *p, size_t n, void *ud)
{
	struct h2_decoder *d = ud;
	size_t old = p ? malloc_usable_size(p) : 0;
	void *q = realloc(p, n);

	if (q || n == 0)
		d->bytes -= old;
	if (q)
		d->bytes += malloc_usable_size(q);
	return q;
}

void h2_decoder_new(struct h2_decoder *d, bool exact)
{
	nghttp2_hd_inflater *inf = NULL;

	h2_decoder_free(d);
	d->exact = exact;
	d->mem = (nghttp2_mem){ d, count_malloc, count_free, count_calloc, count_realloc };
	if (nghttp2_hd_inflate_new2(&inf, &d->mem) != 0)
		return;
	if (!exact && hpack_prime(inf) < 0) {
		nghttp2_hd_inflate_del(inf);
		return;
	}
	d->inflater = inf;
}

void h2_decoder_free(struct h2_decoder *d)
{
	if (d->inflater)
		nghttp2_hd_inflate_del(d->inflater);
	d->inflater = NULL;
	d->reset = false;
}

size_t h2_decoder_footprint(const struct h2_decoder *d)
{
	return d->bytes;
}

void h2_decoder_table_size(struct h2_decoder *d, uint32_t size)
{
	if (!d->exact || !d->inflater)
		return;
	if (nghttp2_hd_inflate_change_table_size(d->inflater, size < H2_HPACK_MAX_TABLE ? size
										    : H2_HPACK_MAX_TABLE) != 0)
		d->reset = true;
}

/* Case-sensitive: HTTP/2 field names are lowercase (RFC 9113 8.2.1). */
static bool name_is(const nghttp2_nv *nv, const char *name)
{
	size_t n = strlen(name);

	return nv->namelen == n && memcmp(nv->name, name, n) == 0;
}

/* Copies v into dst (cap bytes) cut to fit; returns the length kept. */
static uint16_t keep(char *dst, size_t cap, const uint8_t *v, size_t len)
{
	size_t n = len < cap ? len : cap;

	if (n)
		memcpy(dst, v, n);
	return (uint16_t)n;
}

static int parse_status(const uint8_t *v, size_t len)
{
	if (len != 3)
		return -1;
	for (size_t i = 0; i < 3; i++)
		if (v[i] < '0' || v[i] > '9')
			return -1;
	return (v[0] - '0') * 100 + (v[1] - '0') * 10 + (v[2] - '0');
}

/* A trace-context field: its value is copied (nghttp2 reuses its buffers).
 * Values that no longer fit are not kept: only a hostile peer sends that much. */
static void keep_trace(struct h2_block *b, enum tc_header k, const nghttp2_nv *nv)
{
	char *dst = b->trace_buf + b->trace_len;

	if (nv->valuelen > sizeof(b->trace_buf) - b->trace_len)
		return;
	memcpy(dst, nv->value, nv->valuelen);
	b->trace_len += nv->valuelen;
	tc_headers_add(&b->trace, k, dst, nv->valuelen);
}

/* Keeps the fields a span needs from one decoded header field. */
static void collect(struct h2_block *b, const nghttp2_nv *nv)
{
	enum tc_header k;

	if (name_is(nv, ":method")) {
		if (b->has_method || nv->valuelen >= H2_METHOD_MAX || nv->valuelen == 0) {
			b->malformed = true;
			return;
		}
		b->has_method = true;
		b->method_len = (uint8_t)keep(b->method, sizeof(b->method), nv->value, nv->valuelen);
	} else if (name_is(nv, ":path")) {
		b->malformed |= b->has_path || nv->valuelen == 0;
		b->has_path = true;
		b->path_len = keep(b->path, sizeof(b->path), nv->value, nv->valuelen);
	} else if (name_is(nv, ":authority")) {
		b->malformed |= b->has_authority;
		b->has_authority = true;
		b->authority_len = keep(b->authority, sizeof(b->authority), nv->value, nv->valuelen);
	} else if (name_is(nv, ":status")) {
		b->status = parse_status(nv->value, nv->valuelen);
		b->malformed |= b->has_status || b->status < 100;
		b->has_status = true;
	} else if (name_is(nv, "content-type")) {
		b->grpc = grpc_is_content_type((const char *)nv->value, nv->valuelen);
	} else if (name_is(nv, "grpc-status")) {
		b->grpc_status = grpc_parse_status((const char *)nv->value, nv->valuelen);
		b->has_grpc_status = b->grpc_status >= 0;
	} else if (name_is(nv, "grpc-message")) {
		b->has_grpc_message = true;
		b->grpc_message_len = (uint16_t)grpc_message_decode(b->grpc_message, sizeof(b->grpc_message),
								    (const char *)nv->value, nv->valuelen);
	} else if ((k = tc_header_of((const char *)nv->name, nv->namelen)) != TC_H_NONE) {
		keep_trace(b, k, nv);
	}
}

void h2_block_fail(struct h2_block *b, struct h2_decoder *d)
{
	b->failed = true;
	d->reset = true;
}

void h2_block_feed(struct h2_block *b, struct h2_decoder *d, const uint8_t *in, size_t len, bool final)
{
	if (b->failed)
		return;
	b->len += len;
	if (b->len > H2_MAX_HEADER_BLOCK) {
		h2_block_fail(b, d);
		return;
	}
	for (;;) {
		nghttp2_nv nv;
		int flags = 0;
		ssize_t r = nghttp2_hd_inflate_hd2(d->inflater, &nv, &flags, in, len, final);

		if (r < 0) {
			h2_block_fail(b, d);
			return;
		}
		in += r;
		len -= (size_t)r;
		if (flags & NGHTTP2_HD_INFLATE_EMIT)
			collect(b, &nv);
		if (flags & NGHTTP2_HD_INFLATE_FINAL) {
			nghttp2_hd_inflate_end_headers(d->inflater);
			return;
		}
		if (!(flags & NGHTTP2_HD_INFLATE_EMIT) && len == 0)
			return;
	}
}

void h2_block_begin(struct h2_block *b, struct h2_decoder *d, uint32_t stream_id, bool push, bool end_stream,
		    uint64_t start_ns, uint32_t seq, uint32_t tid)
{
	/* Only the flags and counts: the value buffers are read only when their flag is set. */
	memset(b, 0, offsetof(struct h2_block, method));
	b->open = true;
	b->push = push;
	b->end_stream = end_stream;
	b->stream_id = stream_id;
	b->start_ns = start_ns;
	b->seq = seq;
	b->tid = tid;
	if (d->reset || !d->inflater)
		h2_decoder_new(d, false);
	b->failed = !d->inflater;
}
