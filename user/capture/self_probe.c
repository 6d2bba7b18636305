#define _GNU_SOURCE /* accept4 */
#include "capture/self_probe.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/* The inode of the initial pid namespace, fixed by the kernel (PROC_PID_INIT_INO). */
#define PID_NS_INIT_INO 0xEFFFFFFCu

uint32_t self_probe_host_tgid(void)
{
	struct stat st;

	if (stat("/proc/self/ns/pid", &st) == 0 && st.st_ino == PID_NS_INIT_INO)
		return (uint32_t)getpid();
	return 0;
}

/* Writes the cookie on a connection from one new socket to another, and
 * reads it at the other end, so that both a write and a read carry it. */
static int talk_to_self(const uint8_t *cookie, size_t len)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), c = -1, s = -1, ret = -1;
	uint8_t buf[SELF_PROBE_COOKIE_LEN];
	size_t got = 0;

	if (l < 0)
		return -1;
	if (bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, 1) ||
	    getsockname(l, (struct sockaddr *)&a, &alen))
		goto out;
	c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c < 0 || connect(c, (struct sockaddr *)&a, sizeof(a)))
		goto out;
	s = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	if (s < 0 || write(c, cookie, len) != (ssize_t)len)
		goto out;
	while (got < len) {
		ssize_t n = read(s, buf + got, len - got);

		if (n <= 0)
			goto out;
		got += (size_t)n;
	}
	ret = 0;
out:
	if (s >= 0)
		close(s);
	if (c >= 0)
		close(c);
	close(l);
	return ret;
}

int self_probe_send(struct self_probe *p)
{
	if (getrandom(p->cookie, sizeof(p->cookie), 0) != (ssize_t)sizeof(p->cookie))
		return -1;
	p->pending = true;
	if (talk_to_self(p->cookie, sizeof(p->cookie))) {
		int e = errno;

		p->pending = false;
		errno = e;
		return -1;
	}
	return 0;
}

uint32_t self_probe_match(struct self_probe *p, const struct ss_event *ev, const uint8_t *payload)
{
	if (!p->pending || ev->type != SS_EV_DATA || ev->cap_len != sizeof(p->cookie) ||
	    memcmp(payload, p->cookie, sizeof(p->cookie)) != 0)
		return 0;
	p->pending = false;
	return ev->tgid;
}
