/* Userspace counters of what was seen, dropped or refused: printed at exit
 * (and, later, served as metrics). Single-threaded: the capture loop owns them. */
#ifndef SOCKSPAN_STATS_H
#define SOCKSPAN_STATS_H

#include <stdint.h>

struct sockspan_stats {
	uint64_t events;              /* ring buffer events handled */
	uint64_t bytes;               /* payload bytes the traced syscalls moved */
	uint64_t conns_opened;        /* connections tracked */
	uint64_t conns_evicted;       /* dropped because the table was full */
	uint64_t conns_expired;       /* freed after being idle */
	uint64_t stream_gaps;         /* bytes of lost events (truncation is counted in the kernel) */
	uint64_t stream_resyncs;      /* parsers that lost their place and looked for the next message */
	uint64_t stream_overflows;    /* buffered bytes over STREAM_MAX_BUFFERED, dropped */
	uint64_t proto_unknown;       /* connections whose bytes matched no protocol */
	uint64_t http1_parse_errors;  /* malformed HTTP/1 heads or bodies */
	uint64_t http1_unmatched;     /* responses with no request to answer, or requests never answered */
	uint64_t http1_pending_overflow; /* pipelined requests beyond H1_MAX_PENDING */
	uint64_t spans;               /* spans written */
};

extern struct sockspan_stats stats;

#endif
