/* HTTP/1.x exchanges on one connection: requests queued in order (keep-alive,
 * pipelining), each matched to the next final response, one span per pair.
 *
 * One direction carries requests and the other responses: the connection's
 * role says which, or, for a connection opened before capture started, the
 * first bytes that parse as a request do (whoever sends the request is the
 * client). After a gap the parser cannot absorb, a side looks for the next
 * message start at the beginning of later syscalls' bytes.
 *
 * Never a bogus pair: a response is only matched to a request seen before it
 * started, and when requests or responses are lost, a marker takes their place
 * in the queue. A response that meets the marker is dropped, and so is every
 * request queued behind it (pipelined: their answers cannot be told from those
 * of the lost ones), until a response leaves the queue empty. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conn/proto.h"
#include "parse/http1_parser.h"
#include "parse/trace_context.h"
#include "session/exchange.h"
#include "session/h2_session.h"
#include "session/request_queue.h"

/* Pipelined requests awaiting their responses: more means a broken or hostile peer. */
#define H1_MAX_PENDING 64
/* Longest method kept: the longest standard one is 17 bytes (VERSION-CONTROL). */
#define H1_METHOD_MAX 24
/* Longest request target kept: what a span tag holds. */
#define H1_TARGET_MAX 512
_Static_assert(H1_METHOD_MAX <= H2_METHOD_MAX && H1_TARGET_MAX <= H2_PATH_MAX,
	       "the request of an h2c upgrade fits in struct h2_upgrade_request");

struct h1_request_rec {
	bool lost;           /* first: request_queue's marker for lost exchanges */
	exchange_id xid;
	uint64_t n;          /* its rank among the connection's requests seen */
	uint64_t start_ns;
	uint8_t method_len;
	uint16_t target_len;
	char method[H1_METHOD_MAX];
	char target[H1_TARGET_MAX];
};

enum h1_phase {
	H1_PHASE_HEAD,   /* expecting a message head */
	H1_PHASE_BODY,   /* inside a body */
	H1_PHASE_PAUSED, /* request side, after CONNECT/Upgrade: wait for the answer */
	H1_PHASE_RESYNC, /* lost: looking for a message start */
	H1_PHASE_TUNNEL, /* no longer HTTP/1 (101, CONNECT 2xx): ignore */
};

struct h1_side {
	enum h1_phase phase;
	struct h1_body body;
	uint32_t head_seq;  /* where the head being awaited starts */
	size_t scanned;     /* bytes of it searched for its end */
};

struct h1_state {
	const struct session_env *env;
	int req_dir;                    /* enum ss_dir carrying requests, -1 until known */
	struct h1_side side[2];         /* by enum ss_dir */
	struct request_queue pending;   /* of struct h1_request_rec */
	/* The request whose response is being read, out of the queue: made with
	 * the first request queued, given back with the queue when idle. */
	struct h1_request_rec *answering;
	bool answering_matched;         /* false: the response being read answers nothing we saw */
	int status;
	bool pause_after_body;          /* the request being read offers CONNECT/Upgrade */
	bool pipelining;                /* a request was seen before the one ahead of it got its answer */
	uint64_t requests;              /* requests seen: the rank of the last one */
	bool h2c;                       /* a 101 switched to HTTP/2: the tracker hands the connection over */
	int h2c_dir;                    /* the direction of that 101 */
	/* The request that asked, for HTTP/2 to take over; made only then
	 * (rare, and 568 bytes every idle connection would hold). */
	struct h2_upgrade_request *upgrade;
};

static void drop_request(void *elem, void *ctx)
{
	const struct h1_state *st = ctx;

	exchange_drop(st->env, ((struct h1_request_rec *)elem)->xid);
}

/* The response being read no longer answers a request seen: its exchange ends without a span. */
static void answer_none(struct h1_state *st)
{
	if (st->answering_matched)
		exchange_drop(st->env, st->answering->xid);
	st->answering_matched = false;
}

static void *h1_state_new(struct conn *c, const struct session_env *env)
{
	struct h1_state *st = calloc(1, sizeof(*st));

	if (!st)
		return NULL;
	st->env = env;
	request_queue_init(&st->pending, sizeof(struct h1_request_rec), H1_MAX_PENDING,
			   &env->stats->http1_unmatched, drop_request, st);
	st->req_dir = -1;
	if (c->role == SS_ROLE_CLIENT)
		st->req_dir = SS_DIR_EGRESS;
	else if (c->role == SS_ROLE_SERVER)
		st->req_dir = SS_DIR_INGRESS;
	return st;
}

static void h1_state_free(void *p)
{
	struct h1_state *st = p;

	if (!st)
		return;
	if (!(st->h2c && st->upgrade->taken))
		answer_none(st);
	request_queue_free(&st->pending);
	free(st->answering);
	free(st->upgrade);
	free(st);
}

static enum proto_verdict h1_detect(const struct conn *c, const uint8_t *buf, size_t len)
{
	(void)c;
	int rq = h1_looks_like_request((const char *)buf, len);
	int rs = h1_looks_like_response((const char *)buf, len);

	if (rq == 1 || rs == 1)
		return PROTO_YES;
	if (rq == H1_NEED_MORE || rs == H1_NEED_MORE)
		return PROTO_NEED_MORE;
	return PROTO_NO;
}

static void lose_place(struct h1_state *st, enum ss_dir dir)
{
	st->env->stats->stream_resyncs++;
	st->side[dir].phase = H1_PHASE_RESYNC;
	if ((int)dir == st->req_dir) {
		/* Requests were lost after those queued: their answers will come. */
		st->pause_after_body = false;
		request_queue_push_marker(&st->pending);
		return;
	}
	if (st->answering_matched) {
		/* The response being read is lost with its request. */
		answer_none(st);
		st->env->stats->http1_unmatched++;
	}
	/* Responses were lost: which queued requests they answered is unknown. */
	if (st->pending.count) {
		request_queue_drop_all(&st->pending);
		request_queue_push_marker(&st->pending);
	}
}

static void finish_exchange(struct h1_state *st, const struct conn *c, uint64_t end_ns)
{
	struct exchange_end end = { .type = EXCHANGE_HTTP, .end_ns = end_ns, .rst = -1 };

	if (!st->answering_matched)
		return;
	st->answering_matched = false;
	end.u.http = (struct exchange_http){
		.method = st->answering->method, .method_len = st->answering->method_len,
		.target = st->answering->target, .target_len = st->answering->target_len,
		.status = st->status,
	};
	exchange_end(st->env, st->answering->xid, c, &end);
}

/* A message's last byte was parsed (or skipped) in dir. */
static void message_done(struct h1_state *st, const struct conn *c, enum ss_dir dir, uint64_t now_ns)
{
	struct h1_side *side = &st->side[dir];

	if ((int)dir != st->req_dir)
		finish_exchange(st, c, now_ns);
	else if (st->pause_after_body) {
		side->phase = H1_PHASE_PAUSED;
		st->pause_after_body = false;
		return;
	}
	if (side->phase == H1_PHASE_BODY)
		side->phase = H1_PHASE_HEAD;
}

static void enter_tunnel(struct h1_state *st)
{
	st->side[0].phase = H1_PHASE_TUNNEL;
	st->side[1].phase = H1_PHASE_TUNNEL;
}

/* A request's head was parsed: its exchange starts. */
static exchange_id start_exchange(const struct h1_state *st, const struct conn *c, const struct stream *s,
				  size_t off, const struct h1_request *req)
{
	struct tc_headers th = { 0 };
	struct exchange_start x = {
		.role = exchange_role_of(st->req_dir), .proto = PROTO_HTTP1,
		.tid = stream_tid_at(s, off), .seq = stream_seq_at(s, off), .start_ns = stream_ts_at(s, off),
		.headers = &th,
		.ident = { { req->method.p, req->method.len }, { req->target.p, req->target.len } },
	};

	for (size_t i = 0; i < req->num_headers; i++) {
		const struct h1_header *h = &req->headers[i];
		enum tc_header k = tc_header_of(h->name.p, h->name.len);

		if (k != TC_H_NONE)
			tc_headers_add(&th, k, h->value.p, h->value.len);
	}
	return exchange_start(st->env, c, &x);
}

/*
 * Whether the head at off is worth parsing again: a line ended in the bytes
 * not searched yet (each line is where the parser may finish, or refuse what
 * it read), or its bound is reached. picohttpparser's last_len idea: a head
 * trickled in small writes is parsed once per line, at most H1_MAX_HEADERS
 * + 1 times, not once per write.
 */
static bool head_may_end(struct h1_side *side, const struct stream *s, size_t off)
{
	const char *buf = (const char *)s->buf + off;
	size_t len = s->len - off, from;
	uint32_t seq = stream_seq_at(s, off);

	if (side->head_seq != seq || side->scanned > len) {
		side->head_seq = seq;
		side->scanned = 0;
	}
	from = side->scanned;
	side->scanned = len;
	return len >= H1_MAX_HEAD_LEN || memchr(buf + from, '\n', len - from);
}

/* Parses one request head at buf. Returns bytes consumed, 0 for need-more, -1 on error. */
static ssize_t request_head(struct h1_state *st, const struct conn *c, const struct stream *s, size_t off)
{
	struct h1_side *side = &st->side[st->req_dir];
	struct h1_request_rec *rec, *front;
	struct h1_request req;
	ssize_t r;

	if (!head_may_end(side, s, off))
		return 0;
	r = h1_parse_request((const char *)s->buf + off, s->len - off, &req);
	if (r == H1_NEED_MORE)
		return 0;
	if (r < 0 || h1_request_body(&req, &side->body) < 0)
		return -1;
	if (req.method.len >= H1_METHOD_MAX)
		return -1;
	/* The request starts at its request line, after any empty lines. */
	off += h1_empty_lines_len((const char *)s->buf + off, s->len - off);
	front = request_queue_front(&st->pending);
	if (front && front->lost && !st->pipelining) {
		/* A client that waits for each answer before asking again has had
		 * every earlier request answered: the lost exchanges are over. */
		request_queue_drop_all(&st->pending);
	}
	st->requests++;
	/* Its answer will need room out of the queue: made now, so that a
	 * response never finds none. */
	if (!st->answering)
		st->answering = malloc(sizeof(*st->answering));
	rec = st->answering ? request_queue_push(&st->pending) : NULL;
	if (rec) {
		rec->n = st->requests;
		rec->start_ns = stream_ts_at(s, off);
		rec->method_len = req.method.len;
		memcpy(rec->method, req.method.p, req.method.len);
		rec->target_len = req.target.len < H1_TARGET_MAX ? req.target.len : H1_TARGET_MAX;
		memcpy(rec->target, req.target.p, rec->target_len);
		rec->xid = start_exchange(st, c, s, off, &req);
	} else {
		/* Its answer will come: a marker keeps the answers behind it from
		 * pairing with the wrong requests (it takes the last one's place). */
		st->env->stats->http1_pending_overflow++;
		request_queue_push_marker(&st->pending);
	}
	side->phase = H1_PHASE_BODY;
	/* After CONNECT or an Upgrade offer, what follows the request depends on the answer. */
	st->pause_after_body = (req.method.len == 7 && memcmp(req.method.p, "CONNECT", 7) == 0) ||
			       h1_find_header(req.headers, req.num_headers, "upgrade");
	return r;
}

/* The request that offered h2c becomes HTTP/2 stream 1, its exchange with it
 * (RFC 7540 section 3.2): HTTP/2 takes over after the 101 sent in dir.
 * Returns false without memory for the handover. */
static bool hand_over(struct h1_state *st, int dir)
{
	struct h2_upgrade_request *up = calloc(1, sizeof(*up));

	if (!up)
		return false;
	st->upgrade = up;
	st->h2c_dir = dir;
	up->seen = st->answering_matched;
	if (!st->answering_matched)
		return true;
	up->xid = st->answering->xid;
	up->start_ns = st->answering->start_ns;
	up->method_len = st->answering->method_len;
	memcpy(up->method, st->answering->method, st->answering->method_len);
	up->target_len = st->answering->target_len;
	memcpy(up->target, st->answering->target, st->answering->target_len);
	return true;
}

/* Parses one response head at buf. Returns bytes consumed, 0 for need-more, -1 on error. */
static ssize_t response_head(struct h1_state *st, const struct conn *c, const struct stream *s,
			     size_t off, uint64_t now_ns)
{
	struct h1_side *side = &st->side[!st->req_dir];
	struct h1_side *req_side = &st->side[st->req_dir];
	const struct h1_request_rec *front = request_queue_front(&st->pending);
	struct h1_slice method = { NULL, 0 };
	struct h1_response resp;
	ssize_t r;

	if (!head_may_end(side, s, off))
		return 0;
	r = h1_parse_response((const char *)s->buf + off, s->len - off, &resp);
	if (r == H1_NEED_MORE)
		return 0;
	if (r < 0)
		return -1;
	/* Interim responses (100 Continue, 103 Early Hints) precede the real one. */
	if (resp.status >= 100 && resp.status < 200 && resp.status != 101)
		return r;
	answer_none(st);
	if (front && front->lost) {
		/* It answers a lost request, or one queued behind the loss. */
		st->env->stats->http1_unmatched++;
		if (st->pending.count > 1) {
			request_queue_drop_all(&st->pending);
			request_queue_push_marker(&st->pending);
		} else {
			request_queue_pop(&st->pending);
		}
	} else if (front && front->start_ns <= stream_ts_at(s, off + h1_empty_lines_len((const char *)s->buf + off,
											 s->len - off))) {
		*st->answering = *front;
		st->answering_matched = true;
		request_queue_pop(&st->pending);
		/* Pipelining only once an answer shows it: a request queued behind
		 * an unanswered one may have followed an answer lost in a gap,
		 * and taking that client for one that pipelines would keep its
		 * connection behind a marker after the next loss. */
		st->pipelining |= st->requests != st->answering->n;
		method.p = st->answering->method;
		method.len = st->answering->method_len;
	} else {
		st->env->stats->http1_unmatched++;
	}
	st->status = resp.status;
	if (h1_response_body(&resp, method, &side->body) < 0)
		return -1;
	side->phase = H1_PHASE_BODY;
	if (h1_is_tunnel_response(&resp, method)) {
		const struct h1_slice *up = h1_find_header(resp.headers, resp.num_headers, "upgrade");

		/* After h2c, the answer to this request is HTTP/2 stream 1: its span comes from there. */
		st->h2c = resp.status == 101 && up && up->len == 3 && strncasecmp(up->p, "h2c", 3) == 0 &&
			  hand_over(st, !st->req_dir);
		if (!st->h2c)
			finish_exchange(st, c, now_ns);
		enter_tunnel(st);
	} else {
		/* An offer to switch was declined: HTTP/1 goes on. */
		st->pause_after_body = false;
		if (req_side->phase == H1_PHASE_PAUSED)
			req_side->phase = H1_PHASE_HEAD;
	}
	return r;
}

static size_t h1_data(void *p, struct conn *c, enum ss_dir dir, const struct stream *s, uint64_t now_ns)
{
	struct h1_state *st = p;
	struct h1_side *side = &st->side[dir];
	const char *buf = (const char *)s->buf;
	size_t off = 0;

	if (st->req_dir < 0) {
		int rq = h1_looks_like_request(buf, s->len);

		if (rq == 1)
			st->req_dir = dir;
		else if (h1_looks_like_response(buf, s->len) == 1)
			st->req_dir = !dir;
		else
			return rq == H1_NEED_MORE ? 0 : s->len;
		if (c->role == SS_ROLE_UNKNOWN)
			c->role = st->req_dir == SS_DIR_EGRESS ? SS_ROLE_CLIENT : SS_ROLE_SERVER;
	}
	bool is_req = (int)dir == st->req_dir;

	while (off < s->len) {
		ssize_t r;
		int done = 0;

		switch (side->phase) {
		case H1_PHASE_TUNNEL:
			return s->len;
		case H1_PHASE_PAUSED:
			return off;
		case H1_PHASE_RESYNC:
			/* Only a syscall's first bytes can start a message after a loss. */
			r = is_req ? h1_looks_like_request(buf + off, s->len - off)
				   : h1_looks_like_response(buf + off, s->len - off);
			if (r == H1_NEED_MORE)
				return off;
			if (r != 1)
				return s->len;
			side->phase = H1_PHASE_HEAD;
			break;
		case H1_PHASE_HEAD:
			r = is_req ? request_head(st, c, s, off) : response_head(st, c, s, off, now_ns);
			if (r == 0)
				return off;
			if (r < 0) {
				st->env->stats->http1_parse_errors++;
				lose_place(st, dir);
				return s->len;
			}
			off += r;
			if (st->h2c)
				return off; /* the rest is HTTP/2's: the tracker switches */
			break;
		case H1_PHASE_BODY:
			r = h1_body_consume(&side->body, buf + off, s->len - off, &done);
			if (r < 0) {
				st->env->stats->http1_parse_errors++;
				lose_place(st, dir);
				return s->len;
			}
			off += r;
			if (done)
				message_done(st, c, dir, now_ns);
			break;
		}
	}
	/* A body that ends with its head (no body, or empty) completes here too. */
	if (side->phase == H1_PHASE_BODY) {
		int done = 0;

		h1_body_consume(&side->body, buf + off, 0, &done);
		if (done)
			message_done(st, c, dir, now_ns);
	}
	return off;
}

static int h1_gap(void *p, struct conn *c, enum ss_dir dir, uint64_t n, uint64_t now_ns)
{
	struct h1_state *st = p;
	struct h1_side *side = &st->side[dir];
	int done = 0;

	if (side->phase == H1_PHASE_TUNNEL || side->phase == H1_PHASE_RESYNC)
		return -1;
	/* Bytes buffered but unparsed mean a head is cut in two: no recovery. */
	if (side->phase != H1_PHASE_BODY || c->streams[dir].len != 0 ||
	    h1_body_skip(&side->body, n, &done) < 0) {
		lose_place(st, dir);
		return -1;
	}
	if (done)
		message_done(st, c, dir, now_ns);
	return 0;
}

static void h1_close(void *p, struct conn *c, uint64_t now_ns)
{
	struct h1_state *st = p;

	/* A body delimited by the connection's end is complete now. */
	if (st->req_dir >= 0) {
		struct h1_side *side = &st->side[!st->req_dir];

		if (side->phase == H1_PHASE_BODY && side->body.kind == H1_BODY_UNTIL_CLOSE)
			finish_exchange(st, c, now_ns);
	}
	request_queue_drop_all(&st->pending);
}

static bool h1_switch_to(void *p, struct proto_switch *sw)
{
	struct h1_state *st = p;

	if (!st->h2c || st->upgrade->asked)
		return false;
	st->upgrade->asked = true;
	sw->to = PROTO_HTTP2;
	sw->dir = (enum ss_dir)st->h2c_dir;
	sw->handover = st->upgrade;
	return true;
}

static void h1_trim(void *p)
{
	struct h1_state *st = p;

	request_queue_trim(&st->pending);
	if (!st->answering_matched && !st->pending.count) {
		free(st->answering);
		st->answering = NULL;
	}
}

static size_t h1_footprint(const void *p)
{
	const struct h1_state *st = p;

	return sizeof(*st) + request_queue_footprint(&st->pending) + (st->answering ? sizeof(*st->answering) : 0) +
	       (st->upgrade ? sizeof(*st->upgrade) : 0);
}

const struct proto_ops http1_proto = {
	.id = PROTO_HTTP1,
	.detect = h1_detect,
	.state_new = h1_state_new,
	.state_free = h1_state_free,
	.data = h1_data,
	.gap = h1_gap,
	.close = h1_close,
	.switch_to = h1_switch_to,
	.trim = h1_trim,
	.footprint = h1_footprint,
};
