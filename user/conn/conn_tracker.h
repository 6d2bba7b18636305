/* Events in, protocol parsers driven: routes each capture event to its
 * connection, keeps both directions' byte positions right across lost events,
 * truncated payloads and sendfile, detects the protocol and feeds its parser. */
#ifndef SOCKSPAN_CONN_TRACKER_H
#define SOCKSPAN_CONN_TRACKER_H

#include <stddef.h>
#include <stdint.h>

#include "conn/proto.h"
#include "sockspan_event.h"
#include "stats.h"

/* Events whose first bytes are tried for a protocol before a connection is
 * declared unknown: a connection opened before capture may first show the
 * middle of a body. */
#define TRACKER_DETECT_TRIES 8

struct conn_tracker;

struct conn_tracker_opts {
	size_t max_conns;  /* connections tracked at most */
	/* The protocols parsed, indexed by enum proto_id, which is the order
	 * detection tries them (session/protocols.h) */
	const struct proto_ops *const *protocols;
	const struct session_env *env; /* what sessions report to; outlives the tracker */
	struct sockspan_stats *stats;  /* counters, also env's; outlives the tracker */
};

/* NULL on ENOMEM. */
struct conn_tracker *conn_tracker_new(const struct conn_tracker_opts *o);
/* Frees every connection without finishing what is in flight. */
void conn_tracker_free(struct conn_tracker *t);
/* Asks the kernel to copy every byte of the socket with this inode (on), or
 * no longer (off). */
typedef void (*conn_tracker_full_payload_fn)(void *ctx, uint64_t sock_ino, bool on);
/* fn(on = true) once per connection whose protocol needs every byte
 * (proto_ops.full_payload); fn(on = false) when that connection leaves the
 * table for any reason: the kernel's flags then never outnumber the connections tracked,
 * and the table's fair eviction protects them from a flood of connections
 * dropped without close(). NULL fn: none. */
void conn_tracker_on_full_payload(struct conn_tracker *t, conn_tracker_full_payload_fn fn, void *ctx);
/* Handles one capture event; payload holds ev->cap_len bytes. */
void conn_tracker_event(struct conn_tracker *t, const struct ss_event *ev, const uint8_t *payload);
/* Forgets connections idle since before now_ns - idle_ns. */
size_t conn_tracker_expire(struct conn_tracker *t, uint64_t now_ns, uint64_t idle_ns);
/* Connections idle since before now_ns - idle_ns fit the bytes they keep to
 * their buffers and give back their protocol's empty storage (request queues). */
void conn_tracker_trim(struct conn_tracker *t, uint64_t now_ns, uint64_t idle_ns);
size_t conn_tracker_count(const struct conn_tracker *t);
/* Forgets connections until about bytes (buffers and protocol state, about)
 * are given back: each time the costliest one of the process holding the
 * most; each is counted as shed. Returns the bytes given back. */
size_t conn_tracker_shed(struct conn_tracker *t, size_t bytes);
/* What the connection (tgid, sock_ino) is known to speak: an enum proto_id,
 * PROTO_NONE when detection gave up, CONN_PROTO_UNDETECTED while it goes on
 * or for a connection not tracked. For --raw, which masks by protocol. */
#define CONN_PROTO_UNDETECTED (PROTO_NONE + 1)
unsigned conn_tracker_proto(const struct conn_tracker *t, uint32_t tgid, uint64_t sock_ino);

#endif
