/* The ids of selected cgroup directories and of every directory under them
 * (on a plain temporary tree: a directory's id is its inode number either way). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "meta/cgroup_tree.h"

static char root[64];
static char dirs[5][128];

static uint64_t ino(const char *p)
{
	struct stat st;

	cr_assert_eq(stat(p, &st), 0, "%s", p);
	return st.st_ino;
}

static void make_tree(void)
{
	static const char *const rel[] = { "", "/a", "/a/b", "/a/c", "/d" };

	snprintf(root, sizeof(root), "/tmp/sockspan-cgtree-XXXXXX");
	cr_assert_not_null(mkdtemp(root));
	for (int i = 0; i < 5; i++) {
		snprintf(dirs[i], sizeof(dirs[i]), "%s%s", root, rel[i]);
		if (i)
			cr_assert_eq(mkdir(dirs[i], 0755), 0);
	}
	/* a file is no cgroup */
	char f[160];
	snprintf(f, sizeof(f), "%s/a/file", root);
	fclose(fopen(f, "w"));
}

static void remove_tree(void)
{
	char cmd[160];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	cr_assert_eq(system(cmd), 0);
}

static size_t cgroup_tree_ids(const char *const *dirs, size_t n, uint64_t *ids, size_t cap)
{
	struct cgroup_ids w = { ids, cap, 0 };

	cgroup_ids_add_dirs(&w, dirs, n);
	return cgroup_ids_finish(&w);
}

TestSuite(cgroup_tree, .init = make_tree, .fini = remove_tree);

static int cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

Test(cgroup_tree, a_directory_and_everything_under_it_sorted_once)
{
	uint64_t want[5], got[8];
	const char *sel[] = { dirs[0], dirs[1] }; /* a is under root: counted once */

	for (int i = 0; i < 5; i++)
		want[i] = ino(dirs[i]);
	qsort(want, 5, sizeof(want[0]), cmp);
	cr_assert_eq(cgroup_tree_ids(sel, 2, got, 8), 5);
	for (int i = 0; i < 5; i++)
		cr_expect_eq(got[i], want[i]);
}

Test(cgroup_tree, a_subtree_only)
{
	uint64_t got[8];
	const char *sel[] = { dirs[1] };

	cr_assert_eq(cgroup_tree_ids(sel, 1, got, 8), 3);
	cr_expect(got[0] < got[1] && got[1] < got[2]);
}

Test(cgroup_tree, more_than_fit_and_missing_directories)
{
	uint64_t got[2];
	const char *sel[] = { "/nonexistent/sockspan", dirs[0] };

	cr_assert_gt(cgroup_tree_ids(sel, 2, got, 2), 2);
	cr_assert_eq(cgroup_tree_ids(sel, 1, got, 2), 0);
}
