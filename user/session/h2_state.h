/* h2_state.h - one HTTP/2 connection's state, shared by its frames
 * (h2_session.c) and its exchanges (h2_exchange.c). Internal to session/h2_*.c. */
#ifndef SOCKSPAN_H2_STATE_H
#define SOCKSPAN_H2_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include "conn/proto.h"
#include "parse/h2_frame.h"
#include "session/h2_block.h"
#include "session/h2_streams.h"

/* SETTINGS frames of one side awaiting their ACK (peers send one or two). */
#define H2_MAX_PENDING_SETTINGS 8

enum h2_sync {
	H2_SYNC_HUNT,   /* looking for the preface or a trusted frame boundary */
	H2_SYNC_FRAMES, /* in step with the frames */
};

struct h2_side {
	enum h2_sync sync;
	bool started;        /* the direction's first bytes are behind us */
	struct h2_decoder dec;
	uint32_t max_frame;  /* SETTINGS_MAX_FRAME_SIZE of the receiver, 0 until known */
	bool in_frame;       /* inside the payload of fh */
	struct h2_frame_header fh;
	uint32_t content_left, pad_left;
	uint32_t tables[H2_MAX_PENDING_SETTINGS]; /* table sizes this side asked for, awaiting ACK */
	unsigned ntables;
	/* The header block being decoded (3.3 KiB): made at the first HEADERS,
	 * given back when the connection idles between blocks. */
	struct h2_block *block;
};

struct h2_state {
	const struct session_env *env;
	int req_dir;         /* enum ss_dir carrying requests, -1 until known */
	bool conn_new;       /* connect/accept was seen: the connection started under capture */
	bool preface_seen;
	struct h2_side side[2]; /* by enum ss_dir */
	struct h2_streams streams;
};

static inline bool block_open(const struct h2_side *side)
{
	return side->block && side->block->open;
}

static inline void block_close(struct h2_side *side)
{
	if (side->block)
		side->block->open = false;
}

/* A side's header block is complete: a request starts its stream's exchange,
 * a response gives it its status; END_STREAM on it ends the stream. */
void h2_block_end(struct h2_state *st, struct conn *c, enum ss_dir dir, uint64_t end_ns);
/* END_STREAM in dir on stream id. */
void h2_stream_end(struct h2_state *st, const struct conn *c, enum ss_dir dir, uint32_t id, uint64_t end_ns);
/* The stream ends (response END_STREAM, or a reset: rst >= 0). */
void h2_stream_finish(struct h2_state *st, const struct conn *c, struct h2_stream *h, uint64_t end_ns, int64_t rst);
/* The side that asks is known from now on. */
void h2_set_req_dir(struct h2_state *st, struct conn *c, enum ss_dir dir);

#endif
