/* HTTP/2 sessions (session/h2_session.c): h2_proto for cleartext HTTP/2,
 * from a connection's start or after HTTP/1.1's "Upgrade: h2c". */
#ifndef SOCKSPAN_H2_SESSION_H
#define SOCKSPAN_H2_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "conn/proto.h"
#include "session/exchange.h"
#include "session/h2_block.h"

/* What HTTP/1 hands over with an h2c upgrade (proto_switch.handover): the
 * request that offered it, which becomes stream 1 (RFC 7540 section 3.2)
 * with its exchange. */
struct h2_upgrade_request {
	bool seen;        /* the request was seen: the rest is set */
	bool asked;       /* the switch was asked for */
	bool taken;       /* HTTP/2 took the exchange over: HTTP/1 must not drop it */
	exchange_id xid;
	uint64_t start_ns;
	uint8_t method_len;
	uint16_t target_len;
	char method[H2_METHOD_MAX];
	char target[H2_PATH_MAX];
};

extern const struct proto_ops h2_proto;

#endif
