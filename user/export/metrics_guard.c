#include "export/metrics_guard.h"

#include <sys/socket.h>

void metrics_guard_init(struct metrics_guard *g)
{
	pthread_mutex_init(&g->lock, NULL);
	g->n = 0;
	g->cut = 0;
}

void metrics_guard_destroy(struct metrics_guard *g)
{
	pthread_mutex_destroy(&g->lock);
}

/* Index of fd, or g->n. Called with the lock held. */
static size_t find(const struct metrics_guard *g, int fd)
{
	size_t i = 0;

	while (i < g->n && g->conns[i].fd != fd)
		i++;
	return i;
}

void metrics_guard_open(struct metrics_guard *g, int fd, uint64_t now_ns)
{
	pthread_mutex_lock(&g->lock);
	/* Full cannot happen below the server's own limit; if it did, that
	 * connection would only lack a deadline. */
	if (g->n < METRICS_GUARD_MAX) {
		g->conns[g->n].fd = fd;
		g->conns[g->n].since_ns = now_ns;
		g->n++;
	}
	pthread_mutex_unlock(&g->lock);
}

void metrics_guard_done(struct metrics_guard *g, int fd, uint64_t now_ns)
{
	size_t i;

	pthread_mutex_lock(&g->lock);
	i = find(g, fd);
	if (i < g->n)
		g->conns[i].since_ns = now_ns;
	pthread_mutex_unlock(&g->lock);
}

void metrics_guard_close(struct metrics_guard *g, int fd)
{
	size_t i;

	pthread_mutex_lock(&g->lock);
	i = find(g, fd);
	if (i < g->n)
		g->conns[i] = g->conns[--g->n];
	pthread_mutex_unlock(&g->lock);
}

size_t metrics_guard_sweep(struct metrics_guard *g, uint64_t now_ns, uint64_t deadline_ns)
{
	size_t cut = 0;

	pthread_mutex_lock(&g->lock);
	for (size_t i = 0; i < g->n; i++) {
		/* Under the lock: the fd is still the connection's (forgotten
		 * before it is closed). Shut down once: it stays in the table
		 * until the server closes it. */
		if (g->conns[i].since_ns != UINT64_MAX && now_ns - g->conns[i].since_ns > deadline_ns) {
			shutdown(g->conns[i].fd, SHUT_RDWR);
			g->conns[i].since_ns = UINT64_MAX;
			cut++;
		}
	}
	g->cut += cut;
	pthread_mutex_unlock(&g->lock);
	return cut;
}
