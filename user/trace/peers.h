/* Where the CLIENT ends of a process's requests come from: per (process,
 * remote address), whether this tracer sees them. A SERVER exchange without
 * trace context waits for its CLIENT end only where one may come: its span
 * is held (a copy, for the join wait) by the thousand per second otherwise,
 * for clients that are not traced here at all (another node, an untraced
 * process), which is most of a server's traffic.
 *
 * The memory is a bounded cache: an address it has forgotten, or never saw,
 * waits, as does one a CLIENT end joined from lately. An address whose waits
 * ended unjoined stops waiting: its exchanges that start while earlier ones
 * from it still wait go out with them (same deadline: one client's spans stay
 * in order), later ones at once, but for a probe every PEERS_PROBE_NS that
 * waits again (with those that follow it closely) so that a client traced
 * later is found. Usually a traced client's event comes first and is joined
 * at once without any wait, which makes its address wait again: waiting only
 * covers the events that come late. */
#ifndef SOCKSPAN_PEERS_H
#define SOCKSPAN_PEERS_H

#include <stdint.h>

/* Addresses remembered at most (a power of two; collisions replace). */
#define PEERS_SLOTS 4096u
/* A join this recent keeps the address's exchanges waiting. */
#define PEERS_JOIN_MEMORY_NS (10ull * 1000000000)
/* An address that stopped waiting lets an exchange wait again this often. */
#define PEERS_PROBE_NS (10ull * 1000000000)

struct peer_slot {
	uint64_t key;          /* peers_key(); 0: empty */
	uint64_t joined_ns;    /* last join from there; 0: none */
	uint64_t probe_ns;     /* quiet: the next wait is a probe, not before this; 0: not quiet */
	uint64_t deadline_ns;  /* the latest deadline of its exchanges that waited */
};

struct peers {
	struct peer_slot *slots; /* PEERS_SLOTS */
};

/* Returns 0, or -1 without memory. */
int peers_init(struct peers *p);
void peers_free(struct peers *p);
/* The key of SERVER exchanges of tgid whose peer is addr (16 bytes, IPv4 in the first 4). */
uint64_t peers_key(uint32_t tgid, uint8_t family, const uint8_t *addr);
/* Until when a SERVER exchange from key that starts at now_ns waits for its
 * CLIENT end (CLOCK_MONOTONIC ns): now_ns + wait_ns, the deadline of the ones
 * from key still waiting, or 0: it does not wait. */
uint64_t peers_wait_until(struct peers *p, uint64_t key, uint64_t now_ns, uint64_t wait_ns);
/* A CLIENT end from key was seen (joined) at now_ns. */
void peers_joined(struct peers *p, uint64_t key, uint64_t now_ns);
/* A wait from key ended at now_ns without its CLIENT end. */
void peers_unjoined(struct peers *p, uint64_t key, uint64_t now_ns);

#endif
