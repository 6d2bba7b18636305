/* The metrics server's listening socket, made on its own so that it exists
 * before sockspan gives up its capabilities (a port below 1024 needs
 * CAP_NET_BIND_SERVICE) and before any thread starts. */
#ifndef SOCKSPAN_METRICS_LISTEN_H
#define SOCKSPAN_METRICS_LISTEN_H

#include <stddef.h>

/* addr: "PORT" (127.0.0.1 only: by hand, nothing asks for more), ":PORT"
 * (every address: IPv6 and IPv4, or IPv4 alone on hosts without IPv6),
 * "HOST:PORT" or "[IPV6]:PORT". Returns a bound, listening, non-blocking
 * socket (the caller closes it), or -1 with a message for a person in err. */
int metrics_listen(const char *addr, char *err, size_t cap);

#endif
