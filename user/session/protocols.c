#include "session/protocols.h"

const struct proto_ops *const session_protocols[PROTO_COUNT] = {
	[PROTO_HTTP2] = &h2_proto,
	[PROTO_HTTP1] = &http1_proto,
	[PROTO_REDIS] = &redis_proto,
};
