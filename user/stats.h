/* Userspace counters of what was seen, dropped or refused: printed at exit
 * and served as metrics. One struct per pipeline, owned by main and passed to
 * every stage that counts (the capture thread alone writes it). */
#ifndef SOCKSPAN_STATS_H
#define SOCKSPAN_STATS_H

#include <stdint.h>

#include "conn/proto_id.h"
#include "parse/trace_context.h"

struct sockspan_stats {
	uint64_t events;              /* ring buffer events handled */
	uint64_t bytes;               /* bytes the traced syscalls moved on TCP connections */
	uint64_t conns_opened;        /* connections tracked */
	uint64_t conns_evicted;       /* dropped because the table was full */
	uint64_t conns_shed;          /* dropped, costliest first, to stay within --memory-limit */
	uint64_t conns_expired;       /* freed after being idle */
	uint64_t stream_gaps;         /* bytes of lost events (truncation is counted in the kernel) */
	uint64_t stream_resyncs;      /* parsers that lost their place and looked for the next message */
	uint64_t stream_overflows;    /* buffered bytes over STREAM_MAX_BUFFERED (or no memory for them), dropped */
	uint64_t proto_unknown;       /* connections whose bytes matched no protocol */
	uint64_t http1_parse_errors;  /* malformed HTTP/1 heads or bodies */
	uint64_t http1_unmatched;     /* responses with no request to answer, or requests never answered */
	uint64_t http1_pending_overflow; /* pipelined requests beyond H1_MAX_PENDING */
	uint64_t h2_frame_errors;     /* HTTP/2 frames that broke the framing: that direction hunted for frames again */
	uint64_t h2_hpack_errors;     /* HTTP/2 header blocks not decodable (unknown dynamic-table entries after an attach or a loss) */
	uint64_t h2_streams_unspanned; /* HTTP/2 streams ended without a span: request not seen or not decodable, bytes lost, connection gone */
	uint64_t h2_streams_overflow; /* HTTP/2 streams not tracked: H2_MAX_STREAMS already open on the connection */
	uint64_t h2_pushed_streams;   /* HTTP/2 server pushes (PUSH_PROMISE): counted, no span */
	uint64_t redis_parse_errors;  /* malformed RESP: that direction waited for whole values again */
	uint64_t redis_unmatched;     /* Redis replies with no command to answer, or commands never answered */
	uint64_t redis_pending_overflow; /* pipelined Redis commands beyond REDIS_MAX_PENDING */
	uint64_t redis_pushes;        /* pub/sub messages and RESP3 pushes: counted, no span */
	uint64_t trace_context_invalid[TC_INVALID__COUNT]; /* trace-context header values ignored, by enum tc_invalid */
	uint64_t exchanges_untracked; /* exchanges that got no span: the table of exchanges in flight was full */
	uint64_t spans_not_sampled;   /* spans not made: the request said not sampled (B3 0, traceparent flags 00) */
	uint64_t spans_unattributed;  /* CLIENT spans made while several requests were in flight on the thread: own trace */
	uint64_t trace_joins;         /* SERVER spans put in the trace of a CLIENT span seen at the other end of the connection */
	uint64_t join_waits_cut;      /* traces that stopped waiting for a CLIENT end early: the table of exchanges was full */
	uint64_t join_waits_skipped;  /* SERVER spans sent without waiting for a CLIENT end: none came from there lately */
	uint64_t spans;               /* spans written */
	uint64_t reader_boosts;       /* times the reader, at its --nice, went back to sockspan's own priority to catch up */
	uint64_t proto_spans[PROTO_COUNT + 1][2];  /* spans written, by protocol and enum span_kind */
	uint64_t proto_events[PROTO_COUNT + 1][2]; /* data and sendfile events, by protocol and enum ss_dir */
	uint64_t proto_bytes[PROTO_COUNT + 1][2];  /* bytes those events moved, by protocol and enum ss_dir */
};

#endif
