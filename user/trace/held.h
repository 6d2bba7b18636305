/* An ended exchange whose span waits for its trace: a copy of what the span
 * is made of (the connection's endpoints and name, the protocol's fields),
 * since the session's buffers are gone by the time it is released. */
#ifndef SOCKSPAN_HELD_H
#define SOCKSPAN_HELD_H

#include "parse/grpc.h"
#include "session/exchange.h"

/* Room for the longest strings an exchange_end holds (a method and a target,
 * a gRPC path and message, a Redis command and error code). */
#define HELD_STRINGS_MAX 1280

struct held {
	struct conn conn;          /* key, endpoints, comm; no streams or protocol state */
	struct exchange_end end;   /* its pointers point into this struct */
	struct grpc_msgs msgs[2];
	char strings[];            /* as long as x's strings (at most HELD_STRINGS_MAX) */
};

/* A copy of c's naming fields and of x, strings cut to HELD_STRINGS_MAX
 * bytes in all; NULL without memory. Freed with free(). */
struct held *held_new(const struct conn *c, const struct exchange_end *x);

#endif
