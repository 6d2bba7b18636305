#include "meta/k8s_pod_cgroups.h"

#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "meta/k8s_cgroup.h"

struct walk {
	k8s_pod_want_fn want;
	void *ctx;
	struct cgroup_ids *ids;
	size_t found;
	int depth;           /* of the directories visited */
	size_t len;          /* of their parent's path */
	char path[PATH_MAX]; /* as /proc/PID/cgroup writes it */
};

static void visit(int parent, const char *name, void *ctx)
{
	struct walk *w = ctx;
	size_t len = w->len, n = strlen(name);
	struct k8s_cgroup g;
	bool pod;
	int sub;

	if (len + 1 + n >= sizeof(w->path))
		return;
	w->path[len] = '/';
	memcpy(w->path + len + 1, name, n + 1);
	pod = k8s_cgroup_parse(w->path, len + 1 + n, &g) == 1;
	if (pod ? !w->want(g.pod_uid, w->ctx) : w->depth >= CGROUP_TREE_MAX_DEPTH)
		return;
	sub = cgroup_open_subdir(parent, name);
	if (sub < 0)
		return;
	if (pod) {
		cgroup_ids_add_tree(w->ids, sub);
		w->found++;
		return;
	}
	w->len = len + 1 + n;
	w->depth++;
	cgroup_each_subdir(sub, visit, w);
	w->depth--;
	w->len = len;
}

size_t k8s_pod_cgroups(int root_fd, k8s_pod_want_fn want, void *ctx, struct cgroup_ids *ids)
{
	struct walk w = { .want = want, .ctx = ctx, .ids = ids, .depth = 1 };
	int dfd = openat(root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (dfd < 0)
		return 0;
	cgroup_each_subdir(dfd, visit, &w);
	return w.found;
}
