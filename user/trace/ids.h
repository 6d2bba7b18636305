/* Ids both ends of a request derive alone, from what both see of it: the
 * TCP sequence number of its first byte, its trace-context headers and the
 * bytes that name it. SipHash-2-4 under a fixed key, so every sockspan, on
 * every node and in every version, derives the same ids: changing the key or
 * the inputs breaks agreement between versions. */
#ifndef SOCKSPAN_IDS_H
#define SOCKSPAN_IDS_H

#include <stddef.h>
#include <stdint.h>

#include "parse/trace_context.h"
#include "session/exchange.h"

/* SipHash-2-4 of in under key (16 bytes). */
uint64_t ids_siphash(const uint8_t key[16], const void *in, size_t len);

/*
 * The span id of a request, shared by its CLIENT and SERVER spans: a hash of
 * seq, of the trace context's ids (trace id and span id, when it carries
 * ids; else the x-request-id, when there is one) and of ident. Never 0.
 */
uint64_t ids_hop(uint32_t seq, const struct trace_context *ctx, const struct tc_slice ident[EXCHANGE_IDENT_PARTS]);

/* A 128-bit trace id derived from an x-request-id, never all zero: every
 * sockspan that sees the same request id puts its spans in the same trace. */
void ids_trace_from_request_id(const char *rid, size_t len, uint8_t out[16]);

/* id as the 8 bytes of a Zipkin span id (big-endian). */
void ids_put64(uint8_t out[8], uint64_t id);
uint64_t ids_get64(const uint8_t in[8]);

#endif
