/* Redis exchanges on one connection: commands queued in order (pipelining,
 * MULTI/EXEC), each matched to the next reply, one span per pair.
 *
 * One direction carries commands and the other replies: the connection's role
 * says which, or, for a connection opened before capture started, the first
 * bytes do (a command names a Redis command; anything else is a reply).
 *
 * Not every reply answers a command: pub/sub messages (RESP2 arrays
 * ["message", ...] while subscribed) and RESP3 pushes are counted, never
 * matched. A (P|S)SUBSCRIBE or (P|S)UNSUBSCRIBE is answered by one
 * confirmation per channel (without channels, one per subscription of its
 * kind, known from the counts the confirmations carry); its span ends at the
 * last one. CLIENT REPLY OFF/SKIP silence commands: they are not queued.
 * After MONITOR, SYNC, PSYNC or REPLCONF the connection is a feed, no longer
 * request/reply: it is ignored.
 *
 * Losses follow http1_session.c: a marker takes the place of lost commands
 * in the queue, a reply that meets it is dropped with every command queued
 * behind it, and after a loss a side restarts only at a syscall whose bytes
 * are whole values (for commands, starting with a known command name).
 * Never a bogus pair. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "conn/proto.h"
#include "parse/resp_parser.h"
#include "session/exchange.h"
#include "session/redis_words.h"
#include "session/request_queue.h"

/* Pipelined commands awaiting replies: redis-benchmark -P 16 or a client
 * pipeline of hundreds is normal; beyond this a marker stands for the rest. */
#define REDIS_MAX_PENDING 1024
struct redis_request {
	bool lost;               /* first: request_queue's marker for lost exchanges */
	bool monitor;            /* MONITOR: its +OK starts a feed */
	bool reset;              /* RESET: its answer ends every subscription */
	uint8_t sub;             /* enum redis_sub */
	bool all;                /* an unsubscribe without channels: one confirmation per subscription */
	uint8_t words;           /* words of name naming the command (1, 2); 0: name is "unknown" */
	uint32_t confirms_left;  /* confirmations still expected (not for all) */
	uint32_t confirms_seen;
	uint64_t argc;
	exchange_id xid;
	uint64_t n;              /* its rank among the connection's commands seen */
	uint64_t start_ns;       /* its first byte */
	uint64_t last_ns;        /* its latest confirmation */
	char name[REDIS_NAME_MAX];
};

enum redis_phase {
	REDIS_PHASE_PARSE,
	REDIS_PHASE_RESYNC,  /* lost: waiting for a syscall that starts and ends at value boundaries */
	REDIS_PHASE_IGNORE,  /* a feed (MONITOR, replication): nothing to match */
};

struct redis_side {
	enum redis_phase phase;
	struct resp_parser p;
	uint64_t start_ns;   /* first byte of the value being parsed */
	uint32_t start_seq;  /* its TCP sequence number */
	uint32_t start_tid;  /* the thread that moved it */
};

struct redis_state {
	const struct session_env *env;
	int req_dir;                    /* enum ss_dir carrying commands, -1 until known */
	struct redis_side side[2];      /* by enum ss_dir */
	struct request_queue pending;   /* of struct redis_request: commands awaiting replies */
	bool pipelining;                /* a command was seen before the one ahead of it got its reply */
	uint64_t commands;              /* commands seen: the rank of the last one */
	bool reply_off;                 /* CLIENT REPLY OFF */
	bool skip_next;                 /* CLIENT REPLY SKIP: the next command gets no reply */
	/* Subscriptions by kind, from the counts in confirmations. */
	int64_t channels, patterns, shard_channels;
};

static void set_req_dir(struct redis_state *st, int req_dir)
{
	st->req_dir = req_dir;
	resp_parser_init(&st->side[req_dir].p, RESP_MODE_REQUEST);
	resp_parser_init(&st->side[!req_dir].p, RESP_MODE_REPLY);
}

static void drop_request(void *elem, void *ctx)
{
	const struct redis_state *st = ctx;

	exchange_drop(st->env, ((struct redis_request *)elem)->xid);
}

static void *redis_state_new(struct conn *c, const struct session_env *env)
{
	struct redis_state *st = calloc(1, sizeof(*st));

	if (!st)
		return NULL;
	st->env = env;
	request_queue_init(&st->pending, sizeof(struct redis_request), REDIS_MAX_PENDING,
			   &env->stats->redis_unmatched, drop_request, st);
	st->req_dir = -1;
	if (c->role == SS_ROLE_CLIENT)
		set_req_dir(st, SS_DIR_EGRESS);
	else if (c->role == SS_ROLE_SERVER)
		set_req_dir(st, SS_DIR_INGRESS);
	return st;
}

static void redis_state_free(void *p)
{
	struct redis_state *st = p;

	if (!st)
		return;
	request_queue_free(&st->pending);
	free(st);
}

static enum proto_verdict redis_detect(const struct conn *c, const uint8_t *buf, size_t len)
{
	int r;

	/* A Redis server never speaks first: POP3's "+OK" greeting or an FTP
	 * banner followed by "QUIT" is not Redis. */
	if (c->server_first)
		return PROTO_NO;
	r = resp_looks_like((const char *)buf, len);

	if (r == RESP_NEED_MORE)
		return PROTO_NEED_MORE;
	return r ? PROTO_YES : PROTO_NO;
}

/* ---- the queue (typed access to user/request_queue.h) ---- */

static struct redis_request *pending_front(const struct redis_state *st)
{
	return request_queue_front(&st->pending);
}

static struct redis_request *pending_push(struct redis_state *st)
{
	return request_queue_push(&st->pending);
}

static void pending_pop(struct redis_state *st)
{
	request_queue_pop(&st->pending);
}

static void push_marker(struct redis_state *st)
{
	request_queue_push_marker(&st->pending);
}

static void count_unanswered(struct redis_state *st)
{
	request_queue_drop_all(&st->pending);
}

static void lose_place(struct redis_state *st, enum ss_dir dir)
{
	st->env->stats->stream_resyncs++;
	st->side[dir].phase = REDIS_PHASE_RESYNC;
	if ((int)dir == st->req_dir) {
		/* Commands were lost after those queued: their replies will come. */
		push_marker(st);
		return;
	}
	/* Replies were lost: which queued commands they answered is unknown. */
	if (st->pending.count) {
		count_unanswered(st);
		push_marker(st);
	}
}

/* A feed from here on (MONITOR, replication): nothing more to match. */
static void ignore_connection(struct redis_state *st)
{
	st->side[0].phase = REDIS_PHASE_IGNORE;
	st->side[1].phase = REDIS_PHASE_IGNORE;
	count_unanswered(st);
}

/* ---- exchanges ---- */

static bool is_error(const struct resp_elem *e)
{
	return e->type == RESP_ERROR_LINE || e->type == RESP_BLOB_ERROR;
}

/* The error code: the first word of the message when it is one ("ERR",
 * "WRONGTYPE", "MOVED"), else "error": the rest of a message can hold user data. */
static void error_code(const struct resp_elem *e, const char **code, size_t *len)
{
	size_t n = 0;

	while (n < e->head_len && e->head[n] != ' ')
		n++;
	*code = "error";
	*len = 5;
	if (n == 0 || (n == e->head_len && n < e->len))
		return;
	for (size_t i = 0; i < n; i++) {
		char c = e->head[i];

		if (!((c >= 'A' && c <= 'Z') || (i > 0 && ((c >= '0' && c <= '9') || c == '_' || c == '-'))))
			return;
	}
	*code = e->head;
	*len = n;
}

/* The command's exchange ends with this reply (NULL: its last confirmation). */
static void emit(const struct redis_state *st, const struct conn *c, const struct redis_request *r,
		 const struct resp_elem *reply, uint64_t end_ns)
{
	struct exchange_end end = { .type = EXCHANGE_REDIS, .end_ns = end_ns, .rst = -1 };

	end.u.redis = (struct exchange_redis){
		.name = r->name, .name_len = strlen(r->name), .words = r->words, .argc = r->argc,
	};
	if (reply && is_error(reply))
		error_code(reply, &end.u.redis.error, &end.u.redis.error_len);
	exchange_end(st->env, r->xid, c, &end);
}

/* ---- commands ---- */

/* Does this command get a reply? Follows CLIENT REPLY ON/OFF/SKIP and RESET as Redis does. */
static bool gets_reply(struct redis_state *st, const struct resp_value *v)
{
	bool skipped = st->skip_next;

	st->skip_next = false;
	if (redis_elem_is(&v->elems[0], "reset")) {
		st->reply_off = false;
		return true;
	}
	if (v->top.len >= 3 && redis_elem_is(&v->elems[0], "client") && redis_elem_is(&v->elems[1], "reply")) {
		if (redis_elem_is(&v->elems[2], "on")) {
			st->reply_off = false;
			return true;
		}
		if (redis_elem_is(&v->elems[2], "off")) {
			st->reply_off = true;
			return false;
		}
		if (redis_elem_is(&v->elems[2], "skip")) {
			st->skip_next = !st->reply_off;
			return false;
		}
	}
	return !st->reply_off && !skipped;
}

/* A command was read. Returns 0, or -1 for an inline line that names no
 * Redis command: people type those into nc; other text protocols send lines too. */
static int on_command(struct redis_state *st, const struct conn *c, const struct redis_side *side)
{
	struct exchange_start x = {
		.role = exchange_role_of(st->req_dir), .proto = PROTO_REDIS,
		.tid = side->start_tid, .seq = side->start_seq, .start_ns = side->start_ns,
	};
	const struct resp_value *v = &side->p.value;
	const struct resp_elem *cmd = &v->elems[0];
	struct redis_request r = { 0 }, *rec;

	if (v->top.type == RESP_INLINE &&
	    (cmd->head_len != cmd->len || !(resp_command_flags(cmd->head, cmd->len) & RESP_CMD_KNOWN)))
		return -1;
	if (redis_elem_is(cmd, "sync") || redis_elem_is(cmd, "psync") || redis_elem_is(cmd, "replconf")) {
		ignore_connection(st);
		return 0;
	}
	if (!gets_reply(st, v))
		return 0;
	r.argc = v->top.len;
	r.words = (uint8_t)redis_name_command(v, r.name);
	r.start_ns = side->start_ns;
	r.monitor = redis_elem_is(cmd, "monitor");
	r.reset = redis_elem_is(cmd, "reset");
	r.sub = (uint8_t)redis_sub_of(cmd);
	if (r.sub) {
		r.all = r.sub >= SUB_UNSUBSCRIBE && r.argc == 1;
		/* A subscribe without channels is answered by an error. */
		r.confirms_left = r.argc > UINT32_MAX ? UINT32_MAX : (uint32_t)(r.argc - 1);
		if (!r.all && !r.confirms_left)
			r.sub = SUB_NONE;
	}
	if (st->pending.count && pending_front(st)->lost && !st->pipelining) {
		/* A client that waits for each reply before sending again has had
		 * every earlier command answered: the lost exchanges are over. */
		count_unanswered(st);
	}
	r.n = ++st->commands;
	rec = pending_push(st);
	if (!rec) {
		st->env->stats->redis_pending_overflow++;
		push_marker(st);
		return 0;
	}
	*rec = r;
	x.ident[0] = (struct tc_slice){ rec->name, strlen(rec->name) };
	rec->xid = exchange_start(st->env, c, &x);
	return 0;
}

/* ---- replies ---- */

/* A reply met the marker: it answers a lost command, or one queued behind the loss. */
static void reply_to_marker(struct redis_state *st)
{
	st->env->stats->redis_unmatched++;
	if (st->pending.count > 1) {
		count_unanswered(st);
		push_marker(st);
	} else {
		pending_pop(st);
	}
}

/* The front command's confirmations are over: its span ends at the last one. */
static void finish_front(struct redis_state *st, const struct conn *c)
{
	struct redis_request *front = pending_front(st);

	emit(st, c, front, NULL, front->last_ns);
	pending_pop(st);
}

static int64_t *sub_counter(struct redis_state *st, enum redis_sub k)
{
	if (k == SUB_PSUBSCRIBE || k == SUB_PUNSUBSCRIBE)
		return &st->patterns;
	if (k == SUB_SSUBSCRIBE || k == SUB_SUNSUBSCRIBE)
		return &st->shard_channels;
	return &st->channels;
}

/* Confirmations carry the client's subscriptions after them: channels and
 * patterns together, shard channels apart. */
static void count_subscriptions(struct redis_state *st, enum redis_sub k, int64_t count)
{
	int64_t *n = sub_counter(st, k);

	if (count < 0)
		count = 0;
	if (n == &st->shard_channels)
		*n = count;
	else
		*n = count - (n == &st->channels ? st->patterns : st->channels);
	if (*n < 0)
		*n = 0;
}

static void on_confirmation(struct redis_state *st, const struct conn *c, enum redis_sub k, int64_t count,
			    uint64_t start_ns, uint64_t now_ns)
{
	struct redis_request *front;

	count_subscriptions(st, k, count);
	for (;;) {
		front = pending_front(st);
		if (!front) {
			st->env->stats->redis_pushes++; /* unsolicited: a cluster's sunsubscribe, or a missed command */
			return;
		}
		if (front->lost) {
			reply_to_marker(st);
			return;
		}
		if (front->sub == k)
			break;
		if (!front->sub || !front->confirms_seen) {
			st->env->stats->redis_pushes++;
			return;
		}
		finish_front(st, c);
	}
	if (!front->confirms_seen && front->start_ns > start_ns) {
		st->env->stats->redis_unmatched++;
		return;
	}
	front->confirms_seen++;
	front->last_ns = now_ns;
	if (front->all ? *sub_counter(st, k) == 0 : --front->confirms_left == 0)
		finish_front(st, c);
}

static void on_answer(struct redis_state *st, const struct conn *c, const struct resp_value *v,
		      uint64_t start_ns, uint64_t now_ns)
{
	struct redis_request *front = pending_front(st);

	/* Confirmations come together: whatever follows them ends their command. */
	while (front && !front->lost && front->sub && front->confirms_seen) {
		finish_front(st, c);
		front = pending_front(st);
	}
	if (front && front->lost) {
		reply_to_marker(st);
	} else if (front && front->start_ns <= start_ns) {
		bool monitor = front->monitor && !is_error(&v->top);

		if (front->reset)
			st->channels = st->patterns = st->shard_channels = 0;
		/* Pipelining only once a reply shows it, as in http1_session.c. */
		st->pipelining |= st->commands != front->n;
		emit(st, c, front, &v->top, now_ns);
		pending_pop(st);
		if (monitor)
			ignore_connection(st);
	} else {
		st->env->stats->redis_unmatched++;
	}
}

/* A pub/sub message delivered as a RESP2 array. */
static bool is_message(const struct resp_value *v)
{
	const struct resp_elem *kind = &v->elems[0];

	return v->top.type == RESP_ARRAY &&
	       (((redis_elem_is(kind, "message") || redis_elem_is(kind, "smessage")) && v->top.len == 3) ||
		(redis_elem_is(kind, "pmessage") && v->top.len == 4));
}

static void on_reply(struct redis_state *st, const struct conn *c, const struct redis_side *side,
		     uint64_t now_ns)
{
	const struct resp_value *v = &side->p.value;
	const struct resp_elem *t = &v->top;
	const struct redis_request *front = pending_front(st);
	bool subscribed = st->channels || st->patterns || st->shard_channels;
	enum redis_sub k = SUB_NONE;

	if (t->type == RESP_ARRAY || t->type == RESP_PUSH) {
		/* In RESP2 a confirmation is an array like any other: only one
		 * that can be expected is taken for one. */
		if (t->len == 3 && v->elems[2].type == RESP_INTEGER &&
		    (t->type == RESP_PUSH || subscribed || !front || front->lost || front->sub))
			k = redis_sub_of(&v->elems[0]);
		/* A replica's acknowledgements: a replication link seen from its far end. */
		if (t->len == 3 && redis_elem_is(&v->elems[0], "replconf") && redis_elem_is(&v->elems[1], "ack")) {
			ignore_connection(st);
			return;
		}
	}
	if (k) {
		on_confirmation(st, c, k, v->elems[2].integer, side->start_ns, now_ns);
		return;
	}
	if (t->type == RESP_PUSH || (is_message(v) && (subscribed || !st->pending.count))) {
		st->env->stats->redis_pushes++;
		return;
	}
	on_answer(st, c, v, side->start_ns, now_ns);
}

/* ---- the stream ---- */

/* The parser of dir finished a value. Returns 0 to go on, -1 when the rest
 * of the bytes is not to be parsed (a loss, or a feed). */
static int value_done(struct redis_state *st, const struct conn *c, enum ss_dir dir, uint64_t now_ns)
{
	struct redis_side *side = &st->side[dir];

	if ((int)dir != st->req_dir) {
		on_reply(st, c, side, now_ns);
	} else if (on_command(st, c, side) < 0) {
		st->env->stats->redis_parse_errors++;
		lose_place(st, dir);
		return -1;
	}
	return side->phase == REDIS_PHASE_IGNORE ? -1 : 0;
}

/* After a loss, a syscall restarts parsing only if its bytes are whole values
 * from its first byte to its last, and for commands, if the first names one. */
static bool resync_ok(const struct redis_state *st, enum ss_dir dir, const char *buf, size_t len)
{
	bool is_req = (int)dir == st->req_dir;
	struct resp_parser p;
	size_t off = 0;

	if (is_req && resp_looks_like(buf, len) != RESP_LOOKS_REQUEST)
		return false;
	resp_parser_init(&p, is_req ? RESP_MODE_REQUEST : RESP_MODE_REPLY);
	while (off < len) {
		ssize_t r = resp_parse(&p, buf + off, len - off);

		if (r < 0)
			return false;
		off += (size_t)r;
	}
	return len > 0;
}

static size_t redis_data(void *p, struct conn *c, enum ss_dir dir, const struct stream *s, uint64_t now_ns)
{
	struct redis_state *st = p;
	struct redis_side *side = &st->side[dir];
	const char *buf = (const char *)s->buf;
	size_t off = 0;

	if (st->req_dir < 0) {
		int k = resp_looks_like(buf, s->len);

		if (k == RESP_NEED_MORE)
			return 0;
		if (k == 0)
			return s->len; /* not a value's start: wait for a later syscall */
		set_req_dir(st, k == RESP_LOOKS_REQUEST ? (int)dir : !dir);
		if (c->role == SS_ROLE_UNKNOWN)
			c->role = st->req_dir == SS_DIR_EGRESS ? SS_ROLE_CLIENT : SS_ROLE_SERVER;
	}
	if (side->phase == REDIS_PHASE_IGNORE)
		return s->len;
	if (side->phase == REDIS_PHASE_RESYNC) {
		if (!resync_ok(st, dir, buf, s->len))
			return s->len;
		resp_parser_init(&side->p, (int)dir == st->req_dir ? RESP_MODE_REQUEST : RESP_MODE_REPLY);
		side->phase = REDIS_PHASE_PARSE;
	}
	while (off < s->len) {
		ssize_t r;

		if (resp_parser_between(&side->p)) {
			side->start_ns = stream_ts_at(s, off);
			side->start_seq = stream_seq_at(s, off);
			side->start_tid = stream_tid_at(s, off);
		}
		r = resp_parse(&side->p, buf + off, s->len - off);
		if (r == RESP_NEED_MORE)
			break;
		if (r == RESP_ERROR) {
			st->env->stats->redis_parse_errors++;
			lose_place(st, dir);
			break;
		}
		off += (size_t)r;
		if (value_done(st, c, dir, now_ns) < 0)
			break;
	}
	/* The parser keeps what it needs of a value still open. */
	return s->len;
}

static int redis_gap(void *p, struct conn *c, enum ss_dir dir, uint64_t n, uint64_t now_ns)
{
	struct redis_state *st = p;
	struct redis_side *side = &st->side[dir];
	int r;

	if (st->req_dir < 0 || side->phase != REDIS_PHASE_PARSE)
		return -1;
	/* Inside a bulk string of known length: skipped in step. */
	r = c->streams[dir].len == 0 && n != UINT64_MAX ? resp_skip(&side->p, n) : RESP_ERROR;
	if (r < 0) {
		lose_place(st, dir);
		return -1;
	}
	if (r > 0)
		value_done(st, c, dir, now_ns);
	return 0;
}

static void redis_close(void *p, struct conn *c, uint64_t now_ns)
{
	struct redis_state *st = p;
	struct redis_request *front = pending_front(st);

	(void)now_ns;
	/* An unsubscribe whose confirmations all came, as far as anyone can tell. */
	if (front && !front->lost && front->sub && front->confirms_seen)
		finish_front(st, c);
	count_unanswered(st);
}

static void redis_trim(void *p)
{
	struct redis_state *st = p;

	request_queue_trim(&st->pending);
}

static size_t redis_footprint(const void *p)
{
	const struct redis_state *st = p;

	return sizeof(*st) + request_queue_footprint(&st->pending);
}

const struct proto_ops redis_proto = {
	.id = PROTO_REDIS,
	.detect = redis_detect,
	.state_new = redis_state_new,
	.state_free = redis_state_free,
	.data = redis_data,
	.gap = redis_gap,
	.close = redis_close,
	.trim = redis_trim,
	.footprint = redis_footprint,
};
