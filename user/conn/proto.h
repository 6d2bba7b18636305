/* The contract between the connection tracker and a protocol parser.
 *
 * The tracker owns the bytes (struct stream); a parser sees everything buffered
 * for one direction, parses what it can and says how much it consumed, exactly
 * like the pure parsers underneath it. Every protocol's reassembly loop looks
 * the same. */
#ifndef SOCKSPAN_PROTO_H
#define SOCKSPAN_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conn/conn_table.h"
#include "conn/proto_id.h"
#include "sockspan_event.h"

struct session_env; /* session/exchange.h: what sessions report to, passed through */

/* A session hands its connection over to another protocol (HTTP/1.1
 * "Upgrade: h2c" answered by 101): the tracker makes the new protocol's
 * state and lets it take over. */
struct proto_switch {
	enum proto_id to;
	enum ss_dir dir;   /* the direction whose buffered bytes are already the new protocol's */
	void *handover;    /* what the old session gives the new one (a type both know); it
			    * lives in the old state, freed only after take_over */
};

enum proto_verdict {
	PROTO_NO,        /* these bytes are not this protocol */
	PROTO_YES,       /* they are */
	PROTO_NEED_MORE, /* too few bytes to tell */
};

struct proto_ops {
	enum proto_id id;  /* its name is proto_id_name(id) */
	/* Its framing cannot skip bytes it did not see (HTTP/2: frame headers
	 * inside a long write): the kernel is asked to copy every byte. */
	bool full_payload;
	/* Looks at the first bytes c carried in one direction. */
	enum proto_verdict (*detect)(const struct conn *c, const uint8_t *buf, size_t len);
	/* Per-connection state, reporting exchanges to env (which outlives it); NULL on ENOMEM. */
	void *(*state_new)(struct conn *c, const struct session_env *env);
	/* Frees the state; whatever is still in flight is counted as dropped. */
	void (*state_free)(void *st);
	/* Parses the bytes buffered for dir (s->buf, s->len). Returns how many were
	 * consumed, <= s->len; the tracker drops them. now_ns: time of the event
	 * that delivered the newest bytes. */
	size_t (*data)(void *st, struct conn *c, enum ss_dir dir, const struct stream *s, uint64_t now_ns);
	/* n bytes went by in dir without being captured, after everything
	 * buffered so far. Returns 0 if the parser skipped them in step (inside a
	 * body of known length), -1 if it lost its place; it then resynchronises
	 * by itself on a later message start and the tracker drops the buffer.
	 * n is UINT64_MAX when the size is unknown (bytes seen out of order). */
	int (*gap)(void *st, struct conn *c, enum ss_dir dir, uint64_t n, uint64_t now_ns);
	/* The connection closed: finish what the close completes (a body delimited
	 * by it). Not called for evicted or expired connections: their end is unknown. */
	void (*close)(void *st, struct conn *c, uint64_t now_ns);
	/* Asked after every data(): true (once) when the connection is to
	 * change protocol, with *sw filled. NULL: never switches. */
	bool (*switch_to)(void *st, struct proto_switch *sw);
	/* A fresh state takes the connection over from another protocol: the
	 * bytes buffered in sw->dir are parsed next. NULL: cannot take over. */
	void (*take_over)(void *st, struct conn *c, struct proto_switch *sw);
	/* The connection is idle: give back storage that holds nothing now.
	 * NULL: nothing to give back. */
	void (*trim)(void *st);
	/* Heap bytes the state holds, about (the memory budget evicts the
	 * costliest connections first). */
	size_t (*footprint)(const void *st);
};

#endif
