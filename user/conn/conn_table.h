/* Connections seen by the capture, keyed by (tgid, socket inode): the inode
 * names the socket whatever fd number it has (dup'ed, or reused by another
 * socket after a close; hooks on socket operations see no fd at all). Each
 * holds its endpoints, both reassembled streams and its protocol parser's state.
 * Bounded: when full, one of the least recently active connections is
 * evicted, of the process holding most of them. */
#ifndef SOCKSPAN_CONN_TABLE_H
#define SOCKSPAN_CONN_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conn/stream.h"
#include "sockspan_event.h"
#include "stats.h"

struct proto_ops;

struct conn_key {
	uint32_t tgid;
	uint64_t sock_ino;
};

struct conn {
	struct conn_key key;
	struct conn *hnext;            /* hash chain */
	struct conn *older, *newer;    /* activity list, oldest first */
	uint64_t last_ns;              /* time of the last event */
	uint64_t cgroup_id;
	int32_t fd;                    /* the fd of its last event that had one; -1: none yet */
	uint8_t role;                  /* enum ss_role; UNKNOWN until connect/accept or the protocol says */
	uint8_t family;
	uint16_t lport, rport;
	uint8_t laddr[16], raddr[16];
	char comm[SS_COMM_LEN + 1];
	struct stream streams[2];      /* indexed by enum ss_dir */
	bool proto_done;               /* detection is over (proto may still be NULL: unknown) */
	bool server_first;             /* seen from its start, and the server spoke first */
	uint8_t detect_tries;          /* events whose first bytes matched no protocol */
	bool full_payload_asked;       /* the kernel was asked to copy every byte */
	const struct proto_ops *proto;
	void *proto_state;
};

/* Called before a connection is freed (eviction, expiry, removal, table free). */
typedef void (*conn_release_fn)(struct conn *c, void *ctx);

struct conn_table;

/* max_conns: the bound on tracked connections; stats gets the opened,
 * evicted and expired counts. Returns NULL on ENOMEM. */
struct conn_table *conn_table_new(size_t max_conns, conn_release_fn release, void *ctx,
				  struct sockspan_stats *stats);
/* Frees every connection (calling release) and the table. */
void conn_table_free(struct conn_table *t);
/* The connection an event belongs to; created (endpoints and role taken from
 * the event) if new, evicting an old one when the table is full. Marks it
 * active at ev->ts_ns. NULL only on ENOMEM. */
struct conn *conn_table_upsert(struct conn_table *t, const struct ss_event *ev, bool *created);
struct conn *conn_table_lookup(struct conn_table *t, const struct conn_key *k);
/* Releases and frees one connection. */
void conn_table_remove(struct conn_table *t, struct conn *c);
/* Releases and frees connections with no event since before now_ns - idle_ns.
 * Returns how many. */
size_t conn_table_expire(struct conn_table *t, uint64_t now_ns, uint64_t idle_ns);
size_t conn_table_count(const struct conn_table *t);
/* The least recently active connection (the next ones by ->newer), or NULL. */
struct conn *conn_table_oldest(struct conn_table *t);

#endif
