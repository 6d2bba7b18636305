/* Which tgid sockspan has in the kernel's eyes. The kernel side leaves out
 * sockspan's own sockets by host tgid; getpid() is that tgid only in the
 * host's pid namespace. In another one (a container without hostPID), sockspan
 * talks to itself over loopback with a random cookie and reads its host tgid
 * off the event that carries the cookie. */
#ifndef SOCKSPAN_SELF_PROBE_H
#define SOCKSPAN_SELF_PROBE_H

#include <stdbool.h>
#include <stdint.h>

#include "sockspan_event.h"

#define SELF_PROBE_COOKIE_LEN 16

struct self_probe {
	bool pending;                            /* sent, its event not seen yet */
	uint8_t cookie[SELF_PROBE_COOKIE_LEN];
};

/* sockspan's host tgid when it runs in the host's pid namespace, else 0
 * (unknown until a probe says). */
uint32_t self_probe_host_tgid(void);
/* Sends the cookie through a loopback TCP connection sockspan makes to itself
 * (call it once the probes are attached). Returns 0, or -1 with errno. */
int self_probe_send(struct self_probe *p);
/* The host tgid of the event if it carries the pending probe's cookie (the
 * probe is then done), else 0. */
uint32_t self_probe_match(struct self_probe *p, const struct ss_event *ev, const uint8_t *payload);

#endif
