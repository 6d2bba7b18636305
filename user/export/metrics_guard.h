/* A deadline for each connection to the metrics server. libmicrohttpd's
 * timeout is for idle connections only: a client sending a header line every
 * few seconds would hold its slot forever, and enough of them would leave
 * none for the liveness probe. Each connection must complete a request within
 * the deadline of its start or of its previous request; past it, its socket
 * is shut down (the server then closes it). */
#ifndef SOCKSPAN_METRICS_GUARD_H
#define SOCKSPAN_METRICS_GUARD_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#define METRICS_GUARD_MAX 64 /* more than the server's connection limit */

struct metrics_guard {
	pthread_mutex_t lock; /* the server's thread and the sweeper's */
	struct {
		int fd;
		uint64_t since_ns; /* its start, or its last request's end */
	} conns[METRICS_GUARD_MAX];
	size_t n;
	uint64_t cut; /* connections shut down at their deadline */
};

void metrics_guard_init(struct metrics_guard *g);
void metrics_guard_destroy(struct metrics_guard *g);
/* A connection opened (the server's thread). */
void metrics_guard_open(struct metrics_guard *g, int fd, uint64_t now_ns);
/* One of its requests completed: its time starts again. */
void metrics_guard_done(struct metrics_guard *g, int fd, uint64_t now_ns);
/* Closed: forgotten before its fd can be reused. */
void metrics_guard_close(struct metrics_guard *g, int fd);
/* Shuts down the connections older than deadline_ns; returns how many. */
size_t metrics_guard_sweep(struct metrics_guard *g, uint64_t now_ns, uint64_t deadline_ns);

#endif
