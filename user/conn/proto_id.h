/* The protocols sockspan parses, in the order detection tries them (the
 * HTTP/2 preface must not reach HTTP/1). Counters indexed by protocol have one
 * more slot, PROTO_NONE, for bytes of connections with no known protocol. */
#ifndef SOCKSPAN_PROTO_ID_H
#define SOCKSPAN_PROTO_ID_H

enum proto_id { PROTO_HTTP2, PROTO_HTTP1, PROTO_REDIS, PROTO_COUNT };
#define PROTO_NONE PROTO_COUNT

/* Label of a protocol in metrics: "http2", "http1", "redis" or "none". */
static inline const char *proto_id_name(unsigned id)
{
	static const char *const names[PROTO_COUNT + 1] = { "http2", "http1", "redis", "none" };

	return names[id < PROTO_COUNT ? id : PROTO_NONE];
}

#endif
