/* The cgroups of chosen pods found in a tree laid out as kubelet does (on a
 * plain temporary tree: a directory's id is its inode number either way):
 * both layouts, wherever kubepods sits, pods not chosen never entered. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "meta/k8s_pod_cgroups.h"

#define UID_A "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
#define UID_B "11111111-2222-3333-4444-555555555555"
#define UID_C "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
#define CID "3f5c0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7"

static char root[64];

/* Relative to root; parents first. */
static const char *const tree[] = {
	"/kubepods",
	"/kubepods/burstable",
	"/kubepods/burstable/pod" UID_A,
	"/kubepods/burstable/pod" UID_A "/" CID,
	"/kubepods/burstable/pod" UID_A "/" CID "/nested",
	"/kubepods/pod" UID_B, /* guaranteed */
	"/kubepods/pod" UID_B "/" CID,
	"/system.slice",
	"/system.slice/kubelet.service",
	"/node",
	"/node/kubelet-kubepods.slice",
	"/node/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice",
	"/node/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/"
	"kubelet-kubepods-besteffort-podaaaaaaaa_bbbb_cccc_dddd_eeeeeeeeeeee.slice",
	"/node/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/"
	"kubelet-kubepods-besteffort-podaaaaaaaa_bbbb_cccc_dddd_eeeeeeeeeeee.slice/cri-containerd-" CID ".scope",
};
#define NTREE (sizeof(tree) / sizeof(tree[0]))

static void make_tree(void)
{
	char p[512];

	snprintf(root, sizeof(root), "/tmp/sockspan-podcg-XXXXXX");
	cr_assert_not_null(mkdtemp(root));
	for (size_t i = 0; i < NTREE; i++) {
		snprintf(p, sizeof(p), "%s%s", root, tree[i]);
		cr_assert_eq(mkdir(p, 0755), 0, "%s", p);
	}
}

static void remove_tree(void)
{
	char cmd[160];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(k8s_pod_cgroups, .init = make_tree, .fini = remove_tree);

static uint64_t ino(const char *rel)
{
	char p[512];
	struct stat st;

	snprintf(p, sizeof(p), "%s%s", root, rel);
	cr_assert_eq(stat(p, &st), 0, "%s", p);
	return st.st_ino;
}

struct chosen {
	const char *uids[3];
	int asked; /* how many times want was called */
};

static bool want(const char *uid, void *ctx)
{
	struct chosen *c = ctx;

	c->asked++;
	for (int i = 0; i < 3; i++)
		if (c->uids[i] && strcmp(c->uids[i], uid) == 0)
			return true;
	return false;
}

/* The ids found for c, sorted; returns how many (and pods found in *pods). */
static size_t found(struct chosen *c, uint64_t *ids, size_t cap, size_t *pods)
{
	int fd = open(root, O_RDONLY | O_DIRECTORY);
	struct cgroup_ids w = { ids, cap, 0 };

	cr_assert_geq(fd, 0);
	*pods = k8s_pod_cgroups(fd, want, c, &w);
	close(fd);
	return cgroup_ids_finish(&w);
}

static bool has(const uint64_t *ids, size_t n, uint64_t id)
{
	for (size_t i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

Test(k8s_pod_cgroups, a_chosen_pod_with_everything_under_it)
{
	struct chosen c = { .uids = { UID_A } };
	uint64_t ids[16];
	size_t pods, n = found(&c, ids, 16, &pods);

	cr_expect_eq(pods, 1);
	cr_expect_eq(n, 3);
	cr_expect(has(ids, n, ino(tree[2])) && has(ids, n, ino(tree[3])) && has(ids, n, ino(tree[4])));
	cr_expect_eq(c.asked, 3, "each pod asked about once, its children never");
}

Test(k8s_pod_cgroups, both_layouts_wherever_kubepods_sits)
{
	struct chosen c = { .uids = { UID_B, UID_C } };
	uint64_t ids[16];
	size_t pods, n = found(&c, ids, 16, &pods);

	cr_expect_eq(pods, 2);
	cr_expect_eq(n, 4);
	for (size_t i = 5; i < NTREE; i++)
		cr_expect_eq(has(ids, n, ino(tree[i])), i == 5 || i == 6 || i >= 12, "%s", tree[i]);
}

Test(k8s_pod_cgroups, none_chosen_none_found)
{
	struct chosen c = { .uids = { "99999999-9999-9999-9999-999999999999" } };
	uint64_t ids[16];
	size_t pods;

	cr_expect_eq(found(&c, ids, 16, &pods), 0);
	cr_expect_eq(pods, 0);
}

Test(k8s_pod_cgroups, more_than_fit_are_counted)
{
	struct chosen c = { .uids = { UID_A, UID_B, UID_C } };
	uint64_t ids[2];
	size_t pods;

	cr_expect_eq(found(&c, ids, 2, &pods), 7);
	cr_expect_eq(pods, 3);
}
