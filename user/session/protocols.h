/* The protocol sessions, one per enum proto_id (conn/proto_id.h names them). */
#ifndef SOCKSPAN_PROTOCOLS_H
#define SOCKSPAN_PROTOCOLS_H

#include "conn/proto.h"

extern const struct proto_ops http1_proto; /* session/http1_session.c */
extern const struct proto_ops h2_proto;    /* session/h2_session.c */
extern const struct proto_ops redis_proto; /* session/redis_session.c */

/* Indexed by enum proto_id, the order detection tries them. */
extern const struct proto_ops *const session_protocols[PROTO_COUNT];

#endif
