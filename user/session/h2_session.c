/* HTTP/2 (cleartext) on one connection: frames of both directions, header
 * blocks through nghttp2's HPACK inflater (one per direction), one exchange per
 * stream from the request HEADERS to the response's END_STREAM or a
 * RST_STREAM; gRPC calls (content-type application/grpc*) are reported as such.
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
 * acknowledges it, as nghttp2's own session does).
 *
 * Here: frames and SETTINGS; h2_exchange.c makes the exchanges of streams,
 * h2_block.c decodes header blocks, h2_streams.c keeps the open streams. */
#include "session/h2_session.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn/proto.h"
#include "parse/grpc.h"
#include "parse/h2_frame.h"
#include "session/exchange.h"
#include "session/h2_block.h"
#include "session/h2_state.h"
#include "session/h2_streams.h"

/* Control frames are read whole: SETTINGS, GOAWAY with its debug data... a
 * peer must accept this much, so real ones never send more. */
#define H2_MAX_CONTROL_LEN H2_DEFAULT_MAX_FRAME_SIZE
/* A SETTINGS frame without SETTINGS_HEADER_TABLE_SIZE, in the pending list. */
#define H2_NO_TABLE_SIZE UINT32_MAX

/* ---- frames ---- */

static void lose_place(struct h2_state *st, enum ss_dir dir)
{
	struct h2_side *side = &st->side[dir];

	st->env->stats->stream_resyncs++;
	side->sync = H2_SYNC_HUNT;
	side->in_frame = false;
	block_close(side);
	/* A stream whose headers or END_STREAM were lost ends without a span (no
	 * status, or no end): what is seen later is still right. But its gRPC
	 * messages in this direction can no longer be counted. */
	for (unsigned i = 0; i < st->streams.n; i++)
		st->streams.v[i].msgs[dir].broken = true;
}

/* The direction is in step with the frames from here on. */
static void start_frames(struct h2_side *side, bool exact)
{
	side->sync = H2_SYNC_FRAMES;
	side->started = true;
	side->in_frame = false;
	block_close(side);
	side->ntables = 0;
	/* Unless the receiver's SETTINGS already said (it may come first). */
	if (!side->max_frame)
		side->max_frame = exact ? H2_DEFAULT_MAX_FRAME_SIZE : H2_MAX_FRAME_SIZE_CEILING;
	h2_decoder_new(&side->dec, exact);
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
			h2_set_req_dir(st, c, dir);
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
		if (table != H2_NO_TABLE_SIZE)
			h2_decoder_table_size(&side->dec, table);
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
		peer->dec.exact = false;
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
		h = h2_streams_find(&st->streams, fh->stream_id);
		if (h)
			h2_stream_finish(st, c, h, ts, h2_get_u32(p));
		break;
	case H2_GOAWAY:
		/* Requests above the last stream the server took were never processed. */
		if (st->req_dir >= 0 && (int)dir != st->req_dir) {
			uint32_t last = h2_get_u32(p) & 0x7fffffffu;

			for (unsigned i = 0; i < st->streams.n;) {
				if (st->streams.v[i].id > last) {
					h2_streams_drop(&st->streams, &st->streams.v[i]);
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
	if (block_open(side) ? fh.type != H2_CONTINUATION || fh.stream_id != side->block->stream_id
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
	/* Without memory for the block, its HPACK state is lost: resynchronise. */
	if ((fh.type == H2_HEADERS || fh.type == H2_PUSH_PROMISE) && !side->block &&
	    !(side->block = malloc(sizeof(*side->block))))
		return H2_ERROR;
	side->fh = fh;
	side->in_frame = true;
	side->content_left = lay.content_len;
	side->pad_left = lay.pad_len;
	if (fh.type == H2_HEADERS || fh.type == H2_PUSH_PROMISE) {
		st->env->stats->h2_pushed_streams += fh.type == H2_PUSH_PROMISE;
		h2_block_begin(side->block, &side->dec, fh.stream_id, fh.type == H2_PUSH_PROMISE,
			       fh.flags & H2_FLAG_END_STREAM, stream_ts_at(s, off), stream_seq_at(s, off),
			       stream_tid_at(s, off));
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
		h = h2_streams_find(&st->streams, side->fh.stream_id);
		if (h && h->grpc)
			grpc_msgs_feed(&h->msgs[dir], p, n);
	} else if (is_block_frame(side->fh.type)) {
		h2_block_feed(side->block, &side->dec, p, n, false);
	}
}

/* The current frame's last byte went by at end_ns. */
static void frame_end(struct h2_state *st, struct conn *c, enum ss_dir dir, uint64_t end_ns)
{
	struct h2_side *side = &st->side[dir];
	const struct h2_frame_header *fh = &side->fh;

	side->in_frame = false;
	if (fh->type == H2_DATA && (fh->flags & H2_FLAG_END_STREAM))
		h2_stream_end(st, c, dir, fh->stream_id, end_ns);
	else if (is_block_frame(fh->type) && (fh->flags & H2_FLAG_END_HEADERS))
		h2_block_end(st, c, dir, end_ns);
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
				st->env->stats->h2_frame_errors++;
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

static void *h2_state_new(struct conn *c, const struct session_env *env)
{
	struct h2_state *st = calloc(1, sizeof(*st));

	if (!st)
		return NULL;
	st->env = env;
	st->streams.env = env;
	st->req_dir = -1;
	if (c->role == SS_ROLE_CLIENT)
		st->req_dir = SS_DIR_EGRESS;
	else if (c->role == SS_ROLE_SERVER)
		st->req_dir = SS_DIR_INGRESS;
	st->conn_new = c->role != SS_ROLE_UNKNOWN;
	return st;
}

static void h2_state_free(void *p)
{
	struct h2_state *st = p;

	if (!st)
		return;
	h2_streams_free(&st->streams);
	for (int d = 0; d < 2; d++) {
		h2_decoder_free(&st->side[d].dec);
		free(st->side[d].block);
	}
	free(st);
}

static enum proto_verdict h2_detect(const struct conn *c, const uint8_t *buf, size_t len)
{
	(void)c;
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
			struct h2_stream *h = h2_streams_find(&st->streams, side->fh.stream_id);

			if (h && h->grpc)
				grpc_msgs_skip(&h->msgs[dir], in_content);
		} else if (is_block_frame(side->fh.type)) {
			h2_block_fail(side->block, &side->dec); /* HPACK cannot skip */
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
	struct h2_state *st = p;

	(void)c;
	(void)now_ns;
	h2_streams_drop_all(&st->streams);
}

/* After an HTTP/1.1 "Upgrade: h2c" answered by a 101 in dir: the request
 * that asked becomes stream 1, its exchange with it. */
static void h2_take_over(void *p, struct conn *c, struct proto_switch *sw)
{
	struct h2_state *st = p;
	struct h2_upgrade_request *req = sw->handover;
	struct h2_stream *h;

	(void)c;
	st->req_dir = !sw->dir;
	st->conn_new = true;
	if (req->seen && (h = h2_streams_add(&st->streams, 1))) {
		h->xid = req->xid;
		req->taken = true;
		h->method_len = req->method_len;
		memcpy(h->method, req->method, req->method_len);
		h->path_len = req->target_len;
		memcpy(h->path, req->target, req->target_len);
	}
	/* The client's HTTP2-Settings may allow larger frames: no frame size limit but the ceiling. */
	start_frames(&st->side[sw->dir], true);
	st->side[sw->dir].max_frame = H2_MAX_FRAME_SIZE_CEILING;
}

static void h2_trim(void *p)
{
	struct h2_state *st = p;

	h2_streams_trim(&st->streams);
	for (int d = 0; d < 2; d++) {
		if (!block_open(&st->side[d])) {
			free(st->side[d].block);
			st->side[d].block = NULL;
		}
	}
}

static size_t h2_footprint(const void *p)
{
	const struct h2_state *st = p;
	size_t n = sizeof(*st) + st->streams.cap * (sizeof(struct h2_stream) + sizeof(struct h2_stream_ref));

	for (int d = 0; d < 2; d++)
		n += h2_decoder_footprint(&st->side[d].dec) + (st->side[d].block ? sizeof(struct h2_block) : 0);
	return n;
}

const struct proto_ops h2_proto = {
	.id = PROTO_HTTP2,
	.full_payload = true,
	.detect = h2_detect,
	.state_new = h2_state_new,
	.state_free = h2_state_free,
	.data = h2_data,
	.gap = h2_gap,
	.close = h2_close,
	.take_over = h2_take_over,
	.trim = h2_trim,
	.footprint = h2_footprint,
};
