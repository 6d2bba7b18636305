#include "meta/traced_cgroups.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meta/cgroup_path.h"
#include "meta/k8s_pod_cgroups.h"

typedef char pod_uid[K8S_UID_LEN + 1];

struct traced_cgroups {
	struct traced_cgroups_opts o;
	struct cgroup_path cp;     /* the cgroup2 mount, walked for pods */
	pod_uid *uids;             /* the selected pods' uids, sorted; K8S_STORE_MAX_PODS */
	size_t nuids;
	uint64_t last_ns, gen;     /* the last count, and the store's generation then */
	bool counted, said_full;
	struct traced_cgroups_stats stats;
};

struct traced_cgroups *traced_cgroups_new(const struct traced_cgroups_opts *o, char *err, size_t errcap)
{
	struct traced_cgroups *t = calloc(1, sizeof(*t));

	if (!t || (o->select && !(t->uids = calloc(K8S_STORE_MAX_PODS, sizeof(t->uids[0]))))) {
		free(t);
		snprintf(err, errcap, "out of memory");
		return NULL;
	}
	t->o = *o;
	t->cp.mount_fd = -1;
	if (o->select && !o->store) {
		traced_cgroups_free(t);
		snprintf(err, errcap, "pods are selected among the API server's, and there is none");
		return NULL;
	}
	if (o->select && cgroup_path_open(&t->cp)) {
		traced_cgroups_free(t);
		snprintf(err, errcap, "pods are selected by their cgroups, and there is no cgroup v2 mount");
		return NULL;
	}
	return t;
}

void traced_cgroups_free(struct traced_cgroups *t)
{
	if (!t)
		return;
	cgroup_path_close(&t->cp);
	free(t->uids);
	free(t);
}

bool traced_cgroups_due(const struct traced_cgroups *t, uint64_t now_ns)
{
	uint64_t since = now_ns - t->last_ns;

	if (!t->counted || since >= TRACED_CGROUPS_PERIOD_NS)
		return true;
	return t->o.select && since >= TRACED_CGROUPS_CHANGE_NS && k8s_store_generation(t->o.store) != t->gen;
}

/* Store callback, under its lock: the uid of a selected pod. */
static void pick(const struct k8s_pod *p, void *ctx)
{
	struct traced_cgroups *t = ctx;

	if (t->nuids < K8S_STORE_MAX_PODS && k8s_select_match(t->o.select, p, t->o.label_base))
		memcpy(t->uids[t->nuids++], p->uid, sizeof(p->uid));
}

static int cmp_uid(const void *a, const void *b)
{
	return strcmp(a, b);
}

static bool wanted(const char *uid, void *ctx)
{
	const struct traced_cgroups *t = ctx;

	return bsearch(uid, t->uids, t->nuids, sizeof(t->uids[0]), cmp_uid) != NULL;
}

size_t traced_cgroups_count(struct traced_cgroups *t, uint64_t now_ns, uint64_t *ids)
{
	struct cgroup_ids w = { ids, t->o.max_ids, 0 };
	size_t n;

	cgroup_ids_add_dirs(&w, t->o.dirs, t->o.ndirs);
	if (t->o.select) {
		/* The generation first: a change during the walk is seen next time. */
		t->gen = k8s_store_generation(t->o.store);
		t->nuids = 0;
		k8s_store_each_pod(t->o.store, pick, t);
		qsort(t->uids, t->nuids, sizeof(t->uids[0]), cmp_uid);
		t->stats.pods_selected = t->nuids;
		t->stats.pods_found = k8s_pod_cgroups(t->cp.mount_fd, wanted, t, &w);
	}
	n = cgroup_ids_finish(&w);
	if (n > t->o.max_ids && !t->said_full) {
		fprintf(stderr, "sockspan: %zu cgroups to trace: only %zu fit in the kernel's filter\n", n,
			t->o.max_ids);
		t->said_full = true;
	}
	n = n < t->o.max_ids ? n : t->o.max_ids;
	t->stats.cgroups = n;
	t->last_ns = now_ns;
	t->counted = true;
	return n;
}

void traced_cgroups_stats(const struct traced_cgroups *t, struct traced_cgroups_stats *out)
{
	*out = t->stats;
}
