#include "meta/k8s_cgroup.h"

#include <stdbool.h>
#include <string.h>

#include "parse/ascii.h"

/* One component of the path: p[0..n). */
struct comp {
	const char *p;
	size_t n;
};

static bool comp_eq(struct comp c, const char *s)
{
	return c.n == strlen(s) && memcmp(c.p, s, c.n) == 0;
}

/* Cuts the next component off *rest (components are between '/'). */
static bool next_comp(struct comp *rest, struct comp *out)
{
	while (rest->n && rest->p[0] == '/')
		rest->p++, rest->n--;
	if (!rest->n)
		return false;
	out->p = rest->p;
	out->n = 0;
	while (out->n < rest->n && rest->p[out->n] != '/')
		out->n++;
	rest->p += out->n;
	rest->n -= out->n;
	return true;
}

bool k8s_take_uid(const char *p, size_t n, char sep, char out[K8S_UID_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";

	if (n != K8S_UID_LEN)
		return false;
	for (size_t i = 0; i < n; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		int v = dash ? 0 : ascii_hex_value(p[i]);

		if (dash ? p[i] != sep : v < 0)
			return false;
		out[i] = dash ? '-' : hex[v];
	}
	out[n] = '\0';
	return true;
}

bool k8s_take_container_id(const char *p, size_t n, char out[K8S_CONTAINER_ID_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";

	if (n != K8S_CONTAINER_ID_LEN)
		return false;
	for (size_t i = 0; i < n; i++)
		if (ascii_hex_value(p[i]) < 0)
			return false;
	for (size_t i = 0; i < n; i++)
		out[i] = hex[ascii_hex_value(p[i])];
	out[n] = '\0';
	return true;
}

static const char *const qos_names[] = { [K8S_QOS_BURSTABLE] = "burstable", [K8S_QOS_BESTEFFORT] = "besteffort" };

/* "burstable" or "besteffort" as a whole component: its class; else guaranteed. */
static bool qos_of(struct comp c, enum k8s_qos *q)
{
	for (enum k8s_qos k = K8S_QOS_BURSTABLE; k <= K8S_QOS_BESTEFFORT; k++)
		if (comp_eq(c, qos_names[k])) {
			*q = k;
			return true;
		}
	return false;
}

/* cgroupfs: rest follows "kubepods". */
static int parse_cgroupfs(struct comp rest, struct k8s_cgroup *out)
{
	struct comp c;

	out->qos = K8S_QOS_GUARANTEED;
	out->runtime = K8S_RUNTIME_UNSAID;
	if (!next_comp(&rest, &c))
		return 0;
	if (qos_of(c, &out->qos) && !next_comp(&rest, &c))
		return 0;
	if (c.n < 3 || memcmp(c.p, "pod", 3) != 0 || !k8s_take_uid(c.p + 3, c.n - 3, '-', out->pod_uid))
		return 0;
	out->container_id[0] = '\0';
	if (next_comp(&rest, &c))
		k8s_take_container_id(c.p, c.n, out->container_id);
	return 1;
}

/* c is "<base>-<what>.slice": true with *tail set to what follows "<base>-". */
static bool slice_under(struct comp c, struct comp base, struct comp *tail)
{
	if (c.n < base.n + 1 + 6 || memcmp(c.p, base.p, base.n) != 0 || c.p[base.n] != '-' ||
	    memcmp(c.p + c.n - 6, ".slice", 6) != 0)
		return false;
	tail->p = c.p + base.n + 1;
	tail->n = c.n - base.n - 1 - 6;
	return true;
}

static const struct {
	const char *prefix;
	enum k8s_runtime runtime;
} scopes[] = {
	{ "cri-containerd-", K8S_RUNTIME_CONTAINERD },
	{ "crio-", K8S_RUNTIME_CRIO },
	{ "docker-", K8S_RUNTIME_DOCKER },
};

/* "<runtime>-<id>.scope": the container's id and runtime; crio's
 * "crio-conmon-<id>.scope" (its monitor) and others are no container. */
static void take_scope(struct comp c, struct k8s_cgroup *out)
{
	out->container_id[0] = '\0';
	if (c.n < 6 || memcmp(c.p + c.n - 6, ".scope", 6) != 0)
		return;
	for (size_t i = 0; i < sizeof(scopes) / sizeof(scopes[0]); i++) {
		size_t k = strlen(scopes[i].prefix);

		if (c.n - 6 > k && memcmp(c.p, scopes[i].prefix, k) == 0 &&
		    k8s_take_container_id(c.p + k, c.n - 6 - k, out->container_id)) {
			out->runtime = scopes[i].runtime;
			return;
		}
	}
}

/* systemd: kubepods is "<base>.slice", rest follows it. */
static int parse_systemd(struct comp base, struct comp rest, struct k8s_cgroup *out)
{
	struct comp c, tail, pod;
	size_t qn;

	out->qos = K8S_QOS_GUARANTEED;
	out->runtime = K8S_RUNTIME_UNSAID;
	if (!next_comp(&rest, &c) || !slice_under(c, base, &tail))
		return 0;
	/* "<base>-burstable.slice", then "<base>-burstable-pod<uid>.slice" under it. */
	if (qos_of(tail, &out->qos)) {
		if (!next_comp(&rest, &c) || !slice_under(c, base, &tail))
			return 0;
		qn = strlen(qos_names[out->qos]);
		if (tail.n < qn + 1 || memcmp(tail.p, qos_names[out->qos], qn) != 0 || tail.p[qn] != '-')
			return 0;
		tail.p += qn + 1;
		tail.n -= qn + 1;
	}
	pod = tail;
	if (pod.n < 3 || memcmp(pod.p, "pod", 3) != 0 || !k8s_take_uid(pod.p + 3, pod.n - 3, '_', out->pod_uid))
		return 0;
	out->container_id[0] = '\0';
	if (next_comp(&rest, &c))
		take_scope(c, out);
	return 1;
}

int k8s_cgroup_parse(const char *path, size_t len, struct k8s_cgroup *out)
{
	struct comp rest = { path, len }, c;

	if (!path || memchr(path, '\0', len))
		return 0;
	while (next_comp(&rest, &c)) {
		if (comp_eq(c, "kubepods"))
			return parse_cgroupfs(rest, out);
		/* "kubepods.slice", or "<prefix>-kubepods.slice" (kind's "kubelet-kubepods.slice"). */
		if (c.n >= 14 && memcmp(c.p + c.n - 14, "kubepods.slice", 14) == 0 &&
		    (c.n == 14 || c.p[c.n - 15] == '-'))
			return parse_systemd((struct comp){ c.p, c.n - 6 }, rest, out);
	}
	return 0;
}

const char *k8s_runtime_name(enum k8s_runtime r)
{
	switch (r) {
	case K8S_RUNTIME_CONTAINERD:
		return "containerd";
	case K8S_RUNTIME_CRIO:
		return "cri-o";
	case K8S_RUNTIME_DOCKER:
		return "docker";
	default:
		return NULL;
	}
}
