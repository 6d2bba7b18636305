#include "export/metrics_listen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Scrapers and probes are few (the server takes 16 at once). */
#define LISTEN_BACKLOG 32

/* Splits "HOST:PORT", "[V6]:PORT", ":PORT" or "PORT". host is "" for any
 * address; a bare PORT is this host's only. */
static int split_addr(const char *addr, char *host, size_t cap, char *port, size_t pcap)
{
	const char *p, *h = addr;
	size_t hlen;

	if (addr[0] && strspn(addr, "0123456789") == strlen(addr)) {
		h = "127.0.0.1";
		hlen = strlen(h);
		p = addr;
	} else if (addr[0] == '[') {
		const char *end = strchr(addr, ']');

		if (!end || end[1] != ':')
			return -1;
		h = addr + 1;
		hlen = (size_t)(end - h);
		p = end + 2;
	} else {
		p = strrchr(addr, ':');
		if (!p)
			return -1;
		hlen = (size_t)(p - addr);
		p++;
	}
	if (hlen >= cap || strlen(p) >= pcap || !p[0] || strspn(p, "0123456789") != strlen(p))
		return -1;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	strcpy(port, p);
	return atoi(port) > 0 && atoi(port) < 65536 ? 0 : -1;
}

/* dual: an IPv6 socket that takes IPv4 too. Returns the fd, or -1 with errno. */
static int listen_on(const struct sockaddr *sa, socklen_t len, bool dual)
{
	int one = 1, zero = 0, e;
	int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	/* A restarted agent binds again while its old connections linger. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == 0 &&
	    (!dual || setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)) == 0) &&
	    bind(fd, sa, len) == 0 && listen(fd, LISTEN_BACKLOG) == 0)
		return fd;
	e = errno;
	close(fd);
	errno = e;
	return -1;
}

int metrics_listen(const char *addr, char *err, size_t cap)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV }, *ai = NULL;
	char host[256], port[8];
	int fd, r;

	if (split_addr(addr, host, sizeof(host), port, sizeof(port))) {
		snprintf(err, cap, "invalid --metrics address '%s' (expected PORT, :PORT, HOST:PORT or [IPV6]:PORT)",
			 addr);
		return -1;
	}
	if (!host[0]) {
		struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t)atoi(port)),
					   .sin6_addr = IN6ADDR_ANY_INIT };
		struct sockaddr_in a4 = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port)),
					  .sin_addr.s_addr = htonl(INADDR_ANY) };

		fd = listen_on((struct sockaddr *)&a6, sizeof(a6), true);
		/* IPv4 alone on hosts without IPv6. */
		if (fd < 0 && errno == EAFNOSUPPORT)
			fd = listen_on((struct sockaddr *)&a4, sizeof(a4), false);
	} else {
		r = getaddrinfo(host, port, &hints, &ai);
		if (r) {
			snprintf(err, cap, "--metrics address '%s': %s", addr, gai_strerror(r));
			return -1;
		}
		fd = listen_on(ai->ai_addr, ai->ai_addrlen, false);
		freeaddrinfo(ai);
	}
	if (fd < 0)
		snprintf(err, cap, "cannot serve metrics on '%s': %s", addr, strerror(errno));
	return fd;
}
