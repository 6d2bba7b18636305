/* listeners.h - mark the listening sockets the traced processes hold already. */
#ifndef SOCKSPAN_LISTENERS_H
#define SOCKSPAN_LISTENERS_H

#include <stddef.h>
#include <stdint.h>

/* Puts every listening TCP socket of the pids in map_fd (the socket hooks'
 * traced_listeners: a connection accepted from a marked listener is a traced
 * server's). Best effort: what it cannot mark it says on stderr, and the
 * connections of those listeners are traced without a role, found from
 * their first bytes. */
void listeners_mark(int map_fd, const uint32_t *pids, size_t n);

#endif
