/* HTTP/2 (cleartext) on one connection: frames of both directions, header
 * blocks through nghttp2's HPACK inflater (one per direction), one span per
 * stream from the request HEADERS to the response's END_STREAM or a
 * RST_STREAM; gRPC calls (content-type application/grpc*) get gRPC tags.
 *
 * Frames are parsed in place: DATA and header block fragments are streamed
 * as they arrive (a frame may be far larger than what is buffered), control
 * frames are read whole. A gap inside a frame of known length is skipped; any
 * other loss (a write cut at the capture limit across frame headers) makes
 * that direction hunt for a trusted frame boundary at a later syscall's first
 * bytes (h2_looks_like_frames), with a fresh HPACK inflater. Open streams go
 * on: what was lost can only deprive them of a status or an end (no span),
 * and gRPC message counts of that direction are dropped.
 *
 * HPACK after a loss or a mid-connection attach: a fresh inflater holds only
 * the entries inserted since it started, which are the newest ones of the
 * real dynamic table, at the same indexes (HPACK numbers entries from the
 * newest). Its size limit is raised to H2_HPACK_MAX_TABLE so it never evicts
 * before the real table does. So every reference it resolves is right, and a
 * reference to an older, unknown entry fails in nghttp2: that block is
 * counted as undecodable, and the next block starts with a fresh inflater
 * again. The fields decoded before the failure are right too: a response's
 * :status (static table) is kept, nothing else. Only an inflater that saw the connection
 * start follows SETTINGS_HEADER_TABLE_SIZE exactly (applied when the peer
 * acknowledges it, as nghttp2's own session does). */
#include "session/h2_session.h"

#include <nghttp2/nghttp2.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse/grpc.h"
#include "parse/h2_frame.h"
#include "conn/proto.h"
#include "span/span_name.h"
#include "stats.h"
#include "trace/trace.h"

/* Open streams tracked per connection: servers allow 100 (nghttpd, Go, h2o) to a few hundred. */
#define H2_MAX_STREAMS 512
/* Longest method kept, as HTTP/1 (VERSION-CONTROL is 17 bytes). */
#define H2_METHOD_MAX 24
/* Longest :path / :authority kept: what a span tag holds. */
#define H2_PATH_MAX SPAN_TAG_VALUE_MAX
/* Longest decoded grpc-message kept: what a span tag holds. */
#define H2_GRPC_MESSAGE_MAX SPAN_TAG_VALUE_MAX
/* Encoded bytes of one header block (HEADERS + CONTINUATION): bounds the work
 * a peer can demand; servers refuse far less (nghttpd 64 KiB, gRPC 8 KiB). */
#define H2_MAX_HEADER_BLOCK (256 * 1024)
/* Control frames are read whole: SETTINGS, GOAWAY with its debug data... a
 * peer must accept this much, so real ones never send more. */
#define H2_MAX_CONTROL_LEN H2_DEFAULT_MAX_FRAME_SIZE
/* Largest HPACK dynamic table kept per direction (peers use 4 KiB). */
#define H2_HPACK_MAX_TABLE 65536
/* SETTINGS frames of one side awaiting their ACK (peers send one or two). */
#define H2_MAX_PENDING_SETTINGS 8
/* A SETTINGS frame without SETTINGS_HEADER_TABLE_SIZE, in the pending list. */
#define H2_NO_TABLE_SIZE UINT32_MAX

struct h2_stream {
	uint32_t id;
	bool damaged;     /* bytes lost or headers undecodable: ends without a span */
	bool grpc;
	bool has_grpc_message;
	uint8_t ended;    /* END_STREAM seen, bit (1 << enum ss_dir) */
	uint8_t method_len;
	uint16_t path_len, grpc_message_len;
	int status;       /* final :status, 0 until the response headers */
	int grpc_status;  /* -1 until seen */
	uint64_t start_ns;
	struct grpc_msgs msgs[2]; /* by enum ss_dir */
	char method[H2_METHOD_MAX];
	char path[H2_PATH_MAX];   /* :path, or :authority for CONNECT */
	char grpc_message[H2_GRPC_MESSAGE_MAX];
};

/* The header block being decoded in one direction, and the fields it gave. */
struct h2_block {
	bool open;        /* from its HEADERS/PUSH_PROMISE to END_HEADERS */
	bool push;        /* a PUSH_PROMISE's: decoded for the HPACK state only */
	bool end_stream;
	bool failed;      /* undecodable: its fields are not used */
	bool malformed;   /* repeated or invalid pseudo-header */
	bool has_method, has_path, has_authority, has_status, has_grpc_status, has_grpc_message, grpc;
	uint32_t stream_id;
	uint64_t start_ns; /* its first frame's first byte */
	size_t len;
	int status, grpc_status;
	uint8_t method_len;
	uint16_t path_len, authority_len, grpc_message_len;
	char method[H2_METHOD_MAX];
	char path[H2_PATH_MAX];
	char authority[H2_PATH_MAX];
	char grpc_message[H2_GRPC_MESSAGE_MAX];
};

enum h2_sync {
	H2_SYNC_HUNT,   /* looking for the preface or a trusted frame boundary */
	H2_SYNC_FRAMES, /* in step with the frames */
};

struct h2_side {
	enum h2_sync sync;
	bool started;        /* the direction's first bytes are behind us */
	bool exact;          /* the inflater saw the connection start: SETTINGS apply */
	bool hpack_reset;    /* the inflater failed: a fresh one at the next block */
	nghttp2_hd_inflater *inflater;
	uint32_t max_frame;  /* SETTINGS_MAX_FRAME_SIZE of the receiver, 0 until known */
	bool in_frame;       /* inside the payload of fh */
	struct h2_frame_header fh;
	uint32_t content_left, pad_left;
	uint32_t tables[H2_MAX_PENDING_SETTINGS]; /* table sizes this side asked for, awaiting ACK */
	unsigned ntables;
	struct h2_block block;
};

struct h2_state {
	int req_dir;         /* enum ss_dir carrying requests, -1 until known */
	bool conn_new;       /* connect/accept was seen: the connection started under capture */
	bool preface_seen;
	struct h2_side side[2]; /* by enum ss_dir */
	struct h2_stream *streams;
	unsigned nstreams, cap;
};

/* ---- HPACK ---- */

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

/* A new inflater for side: exact (connection start, RFC defaults) or primed. */
static void hpack_new(struct h2_side *side, bool exact)
{
	nghttp2_hd_inflater *inf = NULL;

	if (side->inflater)
		nghttp2_hd_inflate_del(side->inflater);
	side->inflater = NULL;
	side->exact = exact;
	side->hpack_reset = false;
	if (nghttp2_hd_inflate_new2(&inf, NULL) != 0)
		return;
	if (!exact && hpack_prime(inf) < 0) {
		nghttp2_hd_inflate_del(inf);
		return;
	}
	side->inflater = inf;
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

/* Keeps the fields a span needs from one decoded header field. */
static void collect(struct h2_block *b, const nghttp2_nv *nv)
{
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
	}
}

static void block_fail(struct h2_side *side)
{
	side->block.failed = true;
	side->hpack_reset = true;
}

/* Feeds a fragment (final: the block's last bytes) to the inflater. */
static void block_feed(struct h2_side *side, const uint8_t *in, size_t len, bool final)
{
	struct h2_block *b = &side->block;

	if (b->failed)
		return;
	b->len += len;
	if (b->len > H2_MAX_HEADER_BLOCK) {
		block_fail(side);
		return;
	}
	for (;;) {
		nghttp2_nv nv;
		int flags = 0;
		ssize_t r = nghttp2_hd_inflate_hd2(side->inflater, &nv, &flags, in, len, final);

		if (r < 0) {
			block_fail(side);
			return;
		}
		in += r;
		len -= (size_t)r;
		if (flags & NGHTTP2_HD_INFLATE_EMIT)
			collect(b, &nv);
		if (flags & NGHTTP2_HD_INFLATE_FINAL) {
			nghttp2_hd_inflate_end_headers(side->inflater);
			return;
		}
		if (!(flags & NGHTTP2_HD_INFLATE_EMIT) && len == 0)
			return;
	}
}

static void block_begin(struct h2_side *side, uint32_t stream_id, bool push, bool end_stream, uint64_t start_ns)
{
	struct h2_block *b = &side->block;

	/* Only the flags: the value buffers are read only when their flag is set. */
	memset(b, 0, offsetof(struct h2_block, method));
	b->open = true;
	b->push = push;
	b->end_stream = end_stream;
	b->stream_id = stream_id;
	b->start_ns = start_ns;
	if (side->hpack_reset || !side->inflater)
		hpack_new(side, false);
	b->failed = !side->inflater;
}

/* ---- streams ---- */

static struct h2_stream *stream_find(struct h2_state *st, uint32_t id)
{
	for (unsigned i = 0; i < st->nstreams; i++)
		if (st->streams[i].id == id)
			return &st->streams[i];
	return NULL;
}

static void stream_remove(struct h2_state *st, struct h2_stream *h)
{
	unsigned i = (unsigned)(h - st->streams);

	if (i != st->nstreams - 1)
		st->streams[i] = st->streams[st->nstreams - 1];
	st->nstreams--;
}

static struct h2_stream *stream_new(struct h2_state *st, uint32_t id)
{
	struct h2_stream *h;

	if (st->nstreams == H2_MAX_STREAMS) {
		/* A stream damaged by a loss may never see its end: it goes first. */
		for (h = st->streams; h < st->streams + st->nstreams && !h->damaged; h++)
			;
		if (h == st->streams + st->nstreams) {
			stats.h2_streams_overflow++;
			return NULL;
		}
		stats.h2_streams_unspanned++;
		stream_remove(st, h);
	}
	if (st->nstreams == st->cap) {
		unsigned ncap = st->cap ? st->cap * 2 : 8;
		struct h2_stream *n;

		if (ncap > H2_MAX_STREAMS)
			ncap = H2_MAX_STREAMS;
		n = realloc(st->streams, ncap * sizeof(*n));
		if (!n) {
			stats.h2_streams_overflow++;
			return NULL;
		}
		st->streams = n;
		st->cap = ncap;
	}
	h = &st->streams[st->nstreams++];
	memset(h, 0, offsetof(struct h2_stream, method));
	h->id = id;
	h->grpc_status = -1;
	return h;
}

/* Streams forgotten without a span (close, free, loss of every stream). */
static void drop_streams(struct h2_state *st)
{
	stats.h2_streams_unspanned += st->nstreams;
	st->nstreams = 0;
}

/* ---- spans ---- */

static void add_count_tags(struct span *s, const struct grpc_msgs *m, const char *messages_key,
			   const char *bytes_key)
{
	char num[24];
	int n;

	if (m->broken)
		return;
	n = snprintf(num, sizeof(num), "%llu", (unsigned long long)m->messages);
	span_add_tag(s, messages_key, num, (size_t)n);
	n = snprintf(num, sizeof(num), "%llu", (unsigned long long)m->bytes);
	span_add_tag(s, bytes_key, num, (size_t)n);
}

static void grpc_tags(struct span *s, const struct h2_state *st, const struct h2_stream *h, bool reset)
{
	const char *svc, *meth, *name;
	size_t svc_len, meth_len;
	char num[16];
	int n;

	span_copy_utf8(s->name, sizeof(s->name), h->path, h->path_len);
	span_add_tag(s, "rpc.system", "grpc", 4);
	if (grpc_split_path(h->path, h->path_len, &svc, &svc_len, &meth, &meth_len) == 0) {
		span_add_tag(s, "rpc.service", svc, svc_len);
		span_add_tag(s, "rpc.method", meth, meth_len);
	}
	if (h->grpc_status >= 0) {
		n = snprintf(num, sizeof(num), "%d", h->grpc_status);
		span_add_tag(s, "grpc.status_code", num, (size_t)n);
		if (h->has_grpc_message)
			span_add_tag(s, "grpc.message", h->grpc_message, h->grpc_message_len);
		if (h->grpc_status != 0 && !reset) {
			name = grpc_status_name(h->grpc_status);
			span_add_tag(s, "error", name ? name : num, name ? strlen(name) : (size_t)n);
		}
	} else if (!reset) {
		/* Not a gRPC answer (a proxy's, say): what HTTP said. */
		n = snprintf(num, sizeof(num), "%d", h->status);
		span_add_tag(s, "http.status_code", num, (size_t)n);
		if (h->status != 200)
			span_add_tag(s, "error", num, (size_t)n);
		else
			span_add_tag(s, "error", "no grpc-status", 14);
	}
	add_count_tags(s, &h->msgs[st->req_dir], "rpc.request.messages", "rpc.request.bytes");
	add_count_tags(s, &h->msgs[!st->req_dir], "rpc.response.messages", "rpc.response.bytes");
}

/* rst: the RST_STREAM error code, or -1 for a normal end. */
static void emit(const struct h2_state *st, const struct conn *c, const struct h2_stream *h, uint64_t end_ns,
		 int64_t rst)
{
	enum span_kind kind = st->req_dir == SS_DIR_EGRESS ? SPAN_KIND_CLIENT : SPAN_KIND_SERVER;
	struct span s;
	char err[48];
	int n;

	if (!h->grpc && rst < 0) {
		struct http_exchange ex = {
			.method = h->method, .method_len = h->method_len,
			.target = h->path, .target_len = h->path_len,
			.status = h->status, .start_ns = h->start_ns, .end_ns = end_ns, .kind = kind,
		};

		trace_http_exchange(c, &ex);
		return;
	}
	trace_span_begin(&s, c, kind, h->start_ns, end_ns);
	if (h->grpc) {
		grpc_tags(&s, st, h, rst >= 0);
	} else {
		const char *path;
		size_t path_len;

		span_name_http(s.name, sizeof(s.name), h->method, h->method_len, h->path, h->path_len);
		span_http_path(h->path, h->path_len, &path, &path_len);
		span_add_tag(&s, "http.method", h->method, h->method_len);
		span_add_tag(&s, "http.path", path, path_len);
		if (h->status) {
			n = snprintf(err, sizeof(err), "%d", h->status);
			span_add_tag(&s, "http.status_code", err, (size_t)n);
		}
	}
	if (rst >= 0) {
		const char *name = h2_error_name((uint32_t)rst);

		n = name ? snprintf(err, sizeof(err), "RST_STREAM %s", name)
			 : snprintf(err, sizeof(err), "RST_STREAM 0x%x", (unsigned)rst);
		span_add_tag(&s, "error", err, (size_t)n);
	}
	trace_emit(&s);
}

/* The stream ends (response END_STREAM, or a reset: rst >= 0). */
static void stream_finish(struct h2_state *st, const struct conn *c, struct h2_stream *h, uint64_t end_ns,
			  int64_t rst)
{
	if (h->damaged || (!h->status && rst < 0))
		stats.h2_streams_unspanned++;
	else
		emit(st, c, h, end_ns, rst);
	stream_remove(st, h);
}

/* END_STREAM in dir on stream id. */
static void stream_end(struct h2_state *st, const struct conn *c, enum ss_dir dir, uint32_t id, uint64_t end_ns)
{
	struct h2_stream *h = stream_find(st, id);

	if (h)
		h->ended |= (uint8_t)(1u << dir);
	if (st->req_dir < 0) {
		/* Sides unknown: a stream is over when both have ended it. */
		if (h && h->ended == 3)
			stream_finish(st, c, h, end_ns, -1);
		return;
	}
	if ((int)dir == st->req_dir)
		return;
	if (h)
		stream_finish(st, c, h, end_ns, -1);
	else if (id % 2)
		stats.h2_streams_unspanned++; /* its request was never seen or never decoded */
}

/* The side that asks is known from now on; streams kept while it was not
 * (damaged: their requests were not decoded) whose answer already ended are over. */
static void set_req_dir(struct h2_state *st, struct conn *c, enum ss_dir dir)
{
	st->req_dir = dir;
	if (c->role == SS_ROLE_UNKNOWN)
		c->role = dir == SS_DIR_EGRESS ? SS_ROLE_CLIENT : SS_ROLE_SERVER;
	for (unsigned i = 0; i < st->nstreams;) {
		struct h2_stream *h = &st->streams[i];

		if (h->ended & (1u << !dir))
			stream_finish(st, c, h, 0, -1);
		else
			i++;
	}
}

/* A request's header block is complete: the stream begins. */
static void request_block(struct h2_state *st, struct h2_block *b)
{
	struct h2_stream *h = stream_find(st, b->stream_id);
	bool connect = b->has_method && b->method_len == 7 && memcmp(b->method, "CONNECT", 7) == 0;

	if (h)
		return; /* trailers of the request: nothing a span needs */
	/* Without method and path there is nothing to name a span with: the
	 * response's end counts the stream. */
	if (b->failed || b->malformed || !b->has_method || b->stream_id % 2 == 0 ||
	    !(b->has_path || (connect && b->has_authority)))
		return;
	h = stream_new(st, b->stream_id);
	if (!h)
		return;
	h->start_ns = b->start_ns;
	h->grpc = b->grpc;
	h->method_len = b->method_len;
	memcpy(h->method, b->method, b->method_len);
	if (b->has_path) {
		h->path_len = b->path_len;
		memcpy(h->path, b->path, b->path_len);
	} else {
		h->path_len = b->authority_len;
		memcpy(h->path, b->authority, b->authority_len);
	}
}

/* A response's header block (headers, interim, or trailers) is complete. */
static void response_block(struct h2_state *st, struct h2_block *b)
{
	struct h2_stream *h = stream_find(st, b->stream_id);

	if (!h)
		return;
	if (b->failed && !b->malformed && !h->grpc) {
		/* What decoded before the failure is right (see the top): a :status
		 * (static table, first in every block) is kept. A gRPC answer's
		 * status may be what could not be decoded. */
		if (b->has_status && b->status >= 200 && !h->status)
			h->status = b->status;
		return;
	}
	if (b->failed || b->malformed) {
		h->damaged = true;
		return;
	}
	if (b->has_status && b->status >= 200) {
		h->damaged |= h->status != 0; /* a second final response */
		h->status = b->status;
	} else if (!b->has_status && !h->status) {
		h->damaged = true; /* trailers before any headers */
	}
	if (b->has_grpc_status)
		h->grpc_status = b->grpc_status;
	if (b->has_grpc_message) {
		h->has_grpc_message = true;
		h->grpc_message_len = b->grpc_message_len;
		memcpy(h->grpc_message, b->grpc_message, b->grpc_message_len);
	}
}

static void block_end(struct h2_state *st, struct conn *c, enum ss_dir dir, uint64_t end_ns)
{
	static const uint8_t none[1];
	struct h2_side *side = &st->side[dir];
	struct h2_block *b = &side->block;

	block_feed(side, none, 0, true);
	b->open = false;
	if (b->failed)
		stats.h2_hpack_errors++;
	if (b->push)
		return;
	if (st->req_dir < 0 && !b->failed && !b->malformed) {
		if (b->has_method)
			set_req_dir(st, c, dir);
		else if (b->has_status)
			set_req_dir(st, c, !dir);
	}
	if (st->req_dir < 0) {
		/* Which side asks is unknown: the stream is kept to be counted once, at its end. */
		if (b->stream_id % 2 && !stream_find(st, b->stream_id)) {
			struct h2_stream *h = stream_new(st, b->stream_id);

			if (h)
				h->damaged = true;
		}
	} else if ((int)dir == st->req_dir) {
		request_block(st, b);
	} else {
		response_block(st, b);
	}
	if (b->end_stream)
		stream_end(st, c, dir, b->stream_id, end_ns);
}

/* ---- frames ---- */

static void lose_place(struct h2_state *st, enum ss_dir dir)
{
	struct h2_side *side = &st->side[dir];

	stats.stream_resyncs++;
	side->sync = H2_SYNC_HUNT;
	side->in_frame = false;
	side->block.open = false;
	/* A stream whose headers or END_STREAM were lost ends without a span (no
	 * status, or no end): what is seen later is still right. But its gRPC
	 * messages in this direction can no longer be counted. */
	for (unsigned i = 0; i < st->nstreams; i++)
		st->streams[i].msgs[dir].broken = true;
}

/* The direction is in step with the frames from here on. */
static void start_frames(struct h2_side *side, bool exact)
{
	side->sync = H2_SYNC_FRAMES;
	side->started = true;
	side->in_frame = false;
	side->block.open = false;
	side->ntables = 0;
	/* Unless the receiver's SETTINGS already said (it may come first). */
	if (!side->max_frame)
		side->max_frame = exact ? H2_DEFAULT_MAX_FRAME_SIZE : H2_MAX_FRAME_SIZE_CEILING;
	hpack_new(side, exact);
}

/* Frames start at p, the first bytes of a syscall. */
static void sync_at(struct h2_state *st, enum ss_dir dir, const uint8_t *p)
{
	struct h2_side *side = &st->side[dir];
	/* The server's preface is a SETTINGS frame: its first bytes on a new connection. */
	bool exact = !side->started && (st->conn_new || st->preface_seen) && st->req_dir >= 0 &&
		     (int)dir != st->req_dir && p[3] == H2_SETTINGS && !(p[4] & H2_FLAG_ACK);

	start_frames(side, exact);
}

/* Looks for where frames start in p. Returns bytes to skip before them (the
 * preface, or 0), H2_NEED_MORE, or H2_ERROR (not here: drop these bytes). */
static ssize_t hunt(struct h2_state *st, struct conn *c, enum ss_dir dir, const uint8_t *p, size_t n)
{
	struct h2_side *side = &st->side[dir];
	ssize_t r = h2_parse_preface(p, n);
	int v;

	if (r == H2_NEED_MORE)
		return r;
	if (r > 0 && !side->started && (st->req_dir < 0 || (int)dir == st->req_dir)) {
		if (st->req_dir < 0)
			set_req_dir(st, c, dir);
		st->preface_seen = true;
		start_frames(side, true);
		return r;
	}
	v = h2_looks_like_frames(p, n, NULL);
	if (v == H2_NEED_MORE)
		return v;
	if (v != 1) {
		side->started = true;
		return H2_ERROR;
	}
	sync_at(st, dir, p);
	return 0;
}

static void settings(struct h2_state *st, enum ss_dir dir, const struct h2_frame_header *fh, const uint8_t *p)
{
	struct h2_side *side = &st->side[dir], *peer = &st->side[!dir];
	uint32_t table = H2_NO_TABLE_SIZE;

	if (fh->flags & H2_FLAG_ACK) {
		/* The peer's decoder of this direction now uses the size it asked for. */
		if (!peer->ntables)
			return;
		table = peer->tables[0];
		memmove(peer->tables, peer->tables + 1, --peer->ntables * sizeof(peer->tables[0]));
		if (table == H2_NO_TABLE_SIZE || !side->exact || !side->inflater)
			return;
		if (nghttp2_hd_inflate_change_table_size(side->inflater, table < H2_HPACK_MAX_TABLE ?
							 table : H2_HPACK_MAX_TABLE) != 0)
			side->hpack_reset = true;
		return;
	}
	for (uint32_t i = 0; i + H2_SETTING_LEN <= fh->length; i += H2_SETTING_LEN) {
		uint16_t id = h2_get_u16(p + i);
		uint32_t v = h2_get_u32(p + i + 2);

		if (id == H2_SETTINGS_HEADER_TABLE_SIZE)
			table = v;
		else if (id == H2_SETTINGS_MAX_FRAME_SIZE && v >= H2_DEFAULT_MAX_FRAME_SIZE &&
			 v <= H2_MAX_FRAME_SIZE_CEILING)
			peer->max_frame = v;
	}
	if (side->ntables == H2_MAX_PENDING_SETTINGS) {
		/* ACKs can no longer be matched: stop following the sizes. */
		side->ntables = 0;
		peer->exact = false;
		return;
	}
	side->tables[side->ntables++] = table;
}

/* A control frame, whole. */
static void control(struct h2_state *st, struct conn *c, enum ss_dir dir, const struct h2_frame_header *fh,
		    const uint8_t *p, uint64_t ts)
{
	struct h2_stream *h;

	switch (fh->type) {
	case H2_SETTINGS:
		settings(st, dir, fh, p);
		break;
	case H2_RST_STREAM:
		h = stream_find(st, fh->stream_id);
		if (h)
			stream_finish(st, c, h, ts, h2_get_u32(p));
		break;
	case H2_GOAWAY:
		/* Requests above the last stream the server took were never processed. */
		if (st->req_dir >= 0 && (int)dir != st->req_dir) {
			uint32_t last = h2_get_u32(p) & 0x7fffffffu;

			for (unsigned i = 0; i < st->nstreams;) {
				if (st->streams[i].id > last) {
					stats.h2_streams_unspanned++;
					stream_remove(st, &st->streams[i]);
				} else {
					i++;
				}
			}
		}
		break;
	default: /* PING, PRIORITY, WINDOW_UPDATE: nothing for spans */
		break;
	}
}

static bool is_control(uint8_t type)
{
	return type == H2_PRIORITY || type == H2_RST_STREAM || type == H2_SETTINGS || type == H2_PING ||
	       type == H2_GOAWAY || type == H2_WINDOW_UPDATE;
}

/* Reads a frame header (and the payload prefix, or a whole control frame)
 * at off. Returns bytes consumed, H2_NEED_MORE or H2_ERROR. */
static ssize_t frame_start(struct h2_state *st, struct conn *c, enum ss_dir dir, const struct stream *s,
			   size_t off)
{
	struct h2_side *side = &st->side[dir];
	const uint8_t *p = s->buf + off;
	size_t n = s->len - off;
	struct h2_frame_header fh;
	struct h2_frame_layout lay;
	ssize_t r = h2_parse_frame_header(p, n, side->max_frame, &fh);

	if (r < 0)
		return r;
	/* A header block holds the direction until its END_HEADERS. */
	if (side->block.open ? fh.type != H2_CONTINUATION || fh.stream_id != side->block.stream_id
			     : fh.type == H2_CONTINUATION)
		return H2_ERROR;
	if (is_control(fh.type)) {
		if (fh.length > H2_MAX_CONTROL_LEN)
			return H2_ERROR;
		if (n - H2_FRAME_HEADER_LEN < fh.length)
			return H2_NEED_MORE;
		control(st, c, dir, &fh, p + H2_FRAME_HEADER_LEN, stream_ts_at(s, off + H2_FRAME_HEADER_LEN + fh.length - 1));
		return H2_FRAME_HEADER_LEN + (ssize_t)fh.length;
	}
	r = h2_frame_layout(&fh, p + H2_FRAME_HEADER_LEN, n - H2_FRAME_HEADER_LEN, &lay);
	if (r < 0)
		return r;
	side->fh = fh;
	side->in_frame = true;
	side->content_left = lay.content_len;
	side->pad_left = lay.pad_len;
	if (fh.type == H2_HEADERS || fh.type == H2_PUSH_PROMISE) {
		stats.h2_pushed_streams += fh.type == H2_PUSH_PROMISE;
		block_begin(side, fh.stream_id, fh.type == H2_PUSH_PROMISE, fh.flags & H2_FLAG_END_STREAM,
			    stream_ts_at(s, off));
	}
	return H2_FRAME_HEADER_LEN + r;
}

static bool is_block_frame(uint8_t type)
{
	return type == H2_HEADERS || type == H2_PUSH_PROMISE || type == H2_CONTINUATION;
}

static void frame_content(struct h2_state *st, enum ss_dir dir, const uint8_t *p, size_t n)
{
	struct h2_side *side = &st->side[dir];
	struct h2_stream *h;

	if (side->fh.type == H2_DATA) {
		h = stream_find(st, side->fh.stream_id);
		if (h && h->grpc)
			grpc_msgs_feed(&h->msgs[dir], p, n);
	} else if (is_block_frame(side->fh.type)) {
		block_feed(side, p, n, false);
	}
}

/* The current frame's last byte went by at end_ns. */
static void frame_end(struct h2_state *st, struct conn *c, enum ss_dir dir, uint64_t end_ns)
{
	struct h2_side *side = &st->side[dir];
	const struct h2_frame_header *fh = &side->fh;

	side->in_frame = false;
	if (fh->type == H2_DATA && (fh->flags & H2_FLAG_END_STREAM))
		stream_end(st, c, dir, fh->stream_id, end_ns);
	else if (is_block_frame(fh->type) && (fh->flags & H2_FLAG_END_HEADERS))
		block_end(st, c, dir, end_ns);
}

static size_t parse(struct h2_state *st, struct conn *c, enum ss_dir dir, const struct stream *s, size_t off)
{
	struct h2_side *side = &st->side[dir];

	while (off < s->len) {
		ssize_t r;
		size_t n;

		if (side->sync == H2_SYNC_HUNT) {
			r = hunt(st, c, dir, s->buf + off, s->len - off);
			if (r == H2_NEED_MORE)
				return off;
			if (r < 0)
				return s->len; /* a later syscall may start with frames */
			off += (size_t)r;
			continue;
		}
		if (!side->in_frame) {
			r = frame_start(st, c, dir, s, off);
			if (r == H2_NEED_MORE)
				return off;
			if (r < 0) {
				stats.h2_frame_errors++;
				lose_place(st, dir);
				return s->len;
			}
			off += (size_t)r;
			if (!side->in_frame)
				continue;
		}
		n = s->len - off < side->content_left ? s->len - off : side->content_left;
		if (n) {
			frame_content(st, dir, s->buf + off, n);
			side->content_left -= (uint32_t)n;
			off += n;
		}
		n = s->len - off < side->pad_left ? s->len - off : side->pad_left;
		side->pad_left -= (uint32_t)n;
		off += n;
		if (!side->content_left && !side->pad_left)
			frame_end(st, c, dir, stream_ts_at(s, off - 1));
	}
	return off;
}

/* ---- proto_ops ---- */

static struct h2_state *state_new(const struct conn *c)
{
	struct h2_state *st = calloc(1, sizeof(*st));

	if (!st)
		return NULL;
	st->req_dir = -1;
	if (c->role == SS_ROLE_CLIENT)
		st->req_dir = SS_DIR_EGRESS;
	else if (c->role == SS_ROLE_SERVER)
		st->req_dir = SS_DIR_INGRESS;
	st->conn_new = c->role != SS_ROLE_UNKNOWN;
	return st;
}

static void *h2_state_new(struct conn *c)
{
	return state_new(c);
}

static void h2_state_free(void *p)
{
	struct h2_state *st = p;

	if (!st)
		return;
	drop_streams(st);
	for (int d = 0; d < 2; d++)
		if (st->side[d].inflater)
			nghttp2_hd_inflate_del(st->side[d].inflater);
	free(st->streams);
	free(st);
}

static enum proto_verdict h2_detect(const uint8_t *buf, size_t len)
{
	ssize_t r = h2_parse_preface(buf, len);
	int v;

	if (r > 0)
		return PROTO_YES;
	if (r == H2_NEED_MORE)
		return PROTO_NEED_MORE;
	v = h2_looks_like_frames(buf, len, NULL);
	if (v == 1)
		return PROTO_YES;
	return v == H2_NEED_MORE ? PROTO_NEED_MORE : PROTO_NO;
}

static size_t h2_data(void *p, struct conn *c, enum ss_dir dir, const struct stream *s, uint64_t now_ns)
{
	(void)now_ns;
	return parse(p, c, dir, s, 0);
}

static int h2_gap(void *p, struct conn *c, enum ss_dir dir, uint64_t n, uint64_t now_ns)
{
	struct h2_state *st = p;
	struct h2_side *side = &st->side[dir];
	uint64_t in_content;

	if (side->sync == H2_SYNC_HUNT) {
		struct stream *s = &c->streams[dir];
		size_t missing;

		/* A syscall cut at the capture limit exactly where the frame it ends
		 * with ends: it started on a frame boundary too. Parse it, then skip. */
		if (!s->len || h2_looks_like_frames(s->buf, s->len, &missing) != H2_NEED_MORE ||
		    missing == SIZE_MAX || missing != n)
			return -1;
		sync_at(st, dir, s->buf);
		stream_consume(s, parse(st, c, dir, s, 0));
		if (s->len || side->sync != H2_SYNC_FRAMES)
			return -1;
	}
	/* Only the rest of a frame of known length can be skipped, and only if
	 * nothing is waiting in front of the gap. */
	if (!side->in_frame || c->streams[dir].len != 0 ||
	    n > (uint64_t)side->content_left + side->pad_left) {
		lose_place(st, dir);
		return -1;
	}
	in_content = n < side->content_left ? n : side->content_left;
	if (in_content) {
		if (side->fh.type == H2_DATA) {
			struct h2_stream *h = stream_find(st, side->fh.stream_id);

			if (h && h->grpc)
				grpc_msgs_skip(&h->msgs[dir], in_content);
		} else if (is_block_frame(side->fh.type)) {
			block_fail(side); /* HPACK cannot skip */
		}
		side->content_left -= (uint32_t)in_content;
	}
	side->pad_left -= (uint32_t)(n - in_content);
	if (!side->content_left && !side->pad_left)
		frame_end(st, c, dir, now_ns);
	return 0;
}

static void h2_close(void *p, struct conn *c, uint64_t now_ns)
{
	(void)c;
	(void)now_ns;
	drop_streams(p);
}

const struct proto_ops h2_proto = {
	.name = "http2",
	.id = PROTO_HTTP2,
	.full_payload = true,
	.detect = h2_detect,
	.state_new = h2_state_new,
	.state_free = h2_state_free,
	.data = h2_data,
	.gap = h2_gap,
	.close = h2_close,
};

ssize_t h2_take_over(struct conn *c, enum ss_dir dir, const struct stream *s, size_t off,
		     const struct h2_upgrade_request *req)
{
	struct h2_state *st = state_new(c);
	struct h2_stream *h;

	if (!st)
		return -1;
	st->req_dir = !dir;
	st->conn_new = true;
	if (req) {
		h = stream_new(st, 1);
		if (h) {
			h->start_ns = req->start_ns;
			h->method_len = (uint8_t)(req->method_len < H2_METHOD_MAX ? req->method_len : H2_METHOD_MAX - 1);
			memcpy(h->method, req->method, h->method_len);
			h->path_len = keep(h->path, sizeof(h->path), (const uint8_t *)req->target, req->target_len);
		}
	}
	/* The client's HTTP2-Settings may allow larger frames: no frame size limit but the ceiling. */
	start_frames(&st->side[dir], true);
	st->side[dir].max_frame = H2_MAX_FRAME_SIZE_CEILING;
	if (c->proto)
		c->proto->state_free(c->proto_state);
	c->proto = &h2_proto;
	c->proto_state = st;
	return (ssize_t)parse(st, c, dir, s, off);
}
