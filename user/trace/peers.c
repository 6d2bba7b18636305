#include "trace/peers.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "trace/inflight.h"

int peers_init(struct peers *p)
{
	p->slots = calloc(PEERS_SLOTS, sizeof(*p->slots));
	return p->slots ? 0 : -1;
}

void peers_free(struct peers *p)
{
	free(p->slots);
	p->slots = NULL;
}

uint64_t peers_key(uint32_t tgid, uint8_t family, const uint8_t *addr)
{
	uint64_t a, b, k;

	memcpy(&a, addr, 8);
	memcpy(&b, addr + 8, 8);
	k = inflight_key(tgid, family, a ^ inflight_key(0, 0, b));
	return k ? k : 1; /* 0 marks an empty slot */
}

/* key's slot, emptied for it if another key had it. */
static struct peer_slot *slot(struct peers *p, uint64_t key)
{
	struct peer_slot *s = &p->slots[key & (PEERS_SLOTS - 1)];

	if (s->key != key)
		*s = (struct peer_slot){ .key = key };
	return s;
}

static bool joined_lately(const struct peer_slot *s, uint64_t now_ns)
{
	/* Event times of different CPUs can come slightly out of order. */
	return s->joined_ns && (now_ns < s->joined_ns || now_ns - s->joined_ns < PEERS_JOIN_MEMORY_NS);
}

uint64_t peers_wait_until(struct peers *p, uint64_t key, uint64_t now_ns, uint64_t wait_ns)
{
	struct peer_slot *s = slot(p, key);
	uint64_t until = now_ns + wait_ns;

	if (s->probe_ns && !joined_lately(s, now_ns)) {
		if (now_ns < s->deadline_ns)
			return s->deadline_ns; /* goes out with the waits in progress */
		if (now_ns < s->probe_ns)
			return 0;
		s->probe_ns = now_ns + PEERS_PROBE_NS; /* this one probes */
	}
	if (until > s->deadline_ns)
		s->deadline_ns = until;
	return until ? until : 1;
}

void peers_joined(struct peers *p, uint64_t key, uint64_t now_ns)
{
	struct peer_slot *s = slot(p, key);

	s->joined_ns = now_ns ? now_ns : 1;
	s->probe_ns = 0;
}

void peers_unjoined(struct peers *p, uint64_t key, uint64_t now_ns)
{
	/* A recent join still wins: see peers_wait_until. */
	slot(p, key)->probe_ns = now_ns + PEERS_PROBE_NS;
}
