#include "meta/k8s_meta.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meta/cgroup_path.h"
#include "meta/k8s_cgroup.h"

struct entry {
	uint64_t cgroup_id; /* 0: empty (no cgroup has id 0) */
	uint64_t gen;       /* the store's generation the answer is of */
	bool found;         /* the cgroup's path was: else asked again (a cgroup newer than the index) */
	bool in_pod;
	struct k8s_ident ident;
};

struct k8s_meta {
	struct k8s_store *store;
	const struct k8s_template *tmpl;
	struct cgroup_path cp;
	bool said_no_api;
	struct k8s_pod pod; /* lookups copy here: too large for the stack of every span */
	struct entry cache[K8S_META_CACHE];
};

struct k8s_meta *k8s_meta_new(struct k8s_store *store, const struct k8s_template *tmpl)
{
	struct k8s_meta *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->store = store;
	m->tmpl = tmpl;
	/* No cgroup2 mount: no pod is ever found, spans keep process names. */
	cgroup_path_open(&m->cp);
	return m;
}

void k8s_meta_free(struct k8s_meta *m)
{
	if (!m)
		return;
	cgroup_path_close(&m->cp);
	free(m);
}

/* e->ident's fields from the store (e's pod uid and container id set). */
static void name_from_store(struct k8s_meta *m, struct entry *e)
{
	struct k8s_ident *id = &e->ident;
	const struct k8s_pod *p = &m->pod;
	const struct k8s_container *k;

	id->known = false;
	if (!m->store || !k8s_store_pod(m->store, id->pod_uid, &m->pod))
		return;
	k = id->container_id[0] ? k8s_pod_container(p, id->container_id) : NULL;
	snprintf(id->container, sizeof(id->container), "%s", k ? k->name : "");
	k8s_service_name(m->tmpl, p, id->container, id->service, sizeof(id->service));
	memcpy(id->ns, p->ns, sizeof(id->ns));
	memcpy(id->pod, p->name, sizeof(id->pod));
	memcpy(id->node, p->node, sizeof(id->node));
	memcpy(id->workload, p->workload, sizeof(id->workload));
	id->workload_tag = k8s_workload_tag(p->workload_kind);
	id->known = true;
}

/* Whether cgroup id is a pod's, into e (a fresh answer). */
static void resolve(struct k8s_meta *m, struct entry *e, uint64_t cgroup_id)
{
	char path[4096];
	struct k8s_cgroup g;
	int n = cgroup_path_of(&m->cp, cgroup_id, path, sizeof(path));

	memset(&e->ident, 0, sizeof(e->ident));
	e->cgroup_id = cgroup_id;
	e->found = n > 0;
	e->in_pod = n > 0 && k8s_cgroup_parse(path, (size_t)n, &g);
	if (!e->in_pod)
		return;
	memcpy(e->ident.pod_uid, g.pod_uid, sizeof(g.pod_uid));
	memcpy(e->ident.container_id, g.container_id, sizeof(g.container_id));
	if (!m->store && !m->said_no_api) {
		fprintf(stderr,
			"sockspan: kubernetes: pod %s is traced but no API server is configured (no "
			"KUBERNETES_SERVICE_HOST, no --kubeconfig): its spans keep process names\n",
			g.pod_uid);
		m->said_no_api = true;
	}
}

const struct k8s_ident *k8s_meta_local(struct k8s_meta *m, uint64_t cgroup_id)
{
	struct entry *e = &m->cache[(cgroup_id * 0x9e3779b97f4a7c15ull) >> 54 & (K8S_META_CACHE - 1)];
	uint64_t gen = m->store ? k8s_store_generation(m->store) : 0;

	if (cgroup_id == 0)
		return NULL;
	if (e->cgroup_id != cgroup_id || !e->found) {
		resolve(m, e, cgroup_id);
		if (e->in_pod)
			name_from_store(m, e);
		e->gen = gen;
	} else if (e->in_pod && e->gen != gen) {
		name_from_store(m, e);
		e->gen = gen;
	}
	return e->in_pod ? &e->ident : NULL;
}

bool k8s_meta_remote(struct k8s_meta *m, uint8_t family, const uint8_t addr[16], char *out, size_t cap)
{
	struct k8s_service svc;

	if (!m->store)
		return false;
	switch (k8s_store_by_ip(m->store, family, addr, &m->pod, &svc)) {
	case K8S_PEER_POD:
		k8s_service_name(m->tmpl, &m->pod, NULL, out, cap);
		return true;
	case K8S_PEER_SERVICE:
		snprintf(out, cap, "%s.%s", svc.ns, svc.name);
		return true;
	default:
		return false;
	}
}

void k8s_meta_cgroup_stats(const struct k8s_meta *m, struct cgroup_path_stats *out)
{
	*out = m->cp.stats;
}
