/* A cgroup's path from its id through the index a walk builds (on a plain
 * temporary tree standing for the cgroup2 mount: a directory's id is its
 * inode number either way): existing, new and removed directories, one walk
 * a second at most whatever is asked (the clock is the test's), the bound on
 * entries and on a path's length. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "meta/cgroup_path.h"
#include "meta/cgroup_tree.h"

#define SECOND 1000000000ull
/* No directory has it. */
#define NO_SUCH_ID (1ull << 62)

static char root[64];
static struct cgroup_path cp;
static uint64_t clock_ns = 5 * SECOND;

static uint64_t test_now(void *ctx)
{
	return *(const uint64_t *)ctx;
}

static char *at(const char *rel)
{
	static char p[2][256];
	static int k;

	k ^= 1;
	snprintf(p[k], sizeof(p[k]), "%s%s", root, rel);
	return p[k];
}

static uint64_t id_of(const char *rel)
{
	struct stat st;

	cr_assert_eq(stat(at(rel), &st), 0, "%s", rel);
	return st.st_ino;
}

static void make_dir(const char *rel)
{
	cr_assert_eq(mkdir(at(rel), 0755), 0, "%s", rel);
}

/* An empty root (on tmpfs: the bound's test makes 16k directories), the
 * index open on it with the test's clock. */
static void setup_empty(void)
{
	snprintf(root, sizeof(root), "/dev/shm/sockspan-cgpath-XXXXXX");
	cr_assert_not_null(mkdtemp(root));
	cr_assert_eq(cgroup_path_open_at(&cp, root), 0);
	cp.now_ns = test_now;
	cp.now_ctx = &clock_ns;
}

static void setup(void)
{
	static const char *const tree[] = { "/a", "/a/b", "/a/b/c", "/d", "/kubepods" };

	setup_empty();
	for (size_t i = 0; i < sizeof(tree) / sizeof(tree[0]); i++)
		make_dir(tree[i]);
	/* A file is no cgroup. */
	fclose(fopen(at("/a/cgroup.procs"), "w"));
}

static void teardown(void)
{
	char cmd[160];

	cgroup_path_close(&cp);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(cgroup_path, .init = setup, .fini = teardown);
/* Directories all under the root: which ones the bound leaves out depends on
 * readdir's order, how many does not. */
TestSuite(cgroup_path_flat, .init = setup_empty, .fini = teardown);

/* The path of id, "" when it is not found. */
static const char *lookup(uint64_t id)
{
	static char out[PATH_MAX];
	int n = cgroup_path_of(&cp, id, out, sizeof(out));

	cr_assert(n == -1 || (n > 0 && (size_t)n == strlen(out)), "length %d of %s", n, out);
	return n < 0 ? "" : out;
}

Test(cgroup_path, every_directory_by_its_id_from_one_walk)
{
	cr_expect_str_eq(lookup(id_of("/a/b/c")), "/a/b/c");
	cr_expect_str_eq(lookup(id_of("/a/b")), "/a/b");
	cr_expect_str_eq(lookup(id_of("/a")), "/a");
	cr_expect_str_eq(lookup(id_of("/d")), "/d");
	cr_expect_str_eq(lookup(id_of("/kubepods")), "/kubepods");
	cr_expect_str_eq(lookup(id_of("")), "/", "the mount's root");
	cr_expect_str_eq(lookup(id_of("/a/cgroup.procs")), "", "a file");
	cr_expect_eq(cp.stats.walks, 1);
	cr_expect_eq(cp.stats.indexed, 6);
	cr_expect_eq(cp.stats.unindexed, 0);
}

Test(cgroup_path, an_unknown_id_walks_again_once_a_second_at_most)
{
	cr_expect_str_eq(lookup(NO_SUCH_ID), "");
	cr_expect_eq(cp.stats.walks, 1, "the first lookup builds the index");
	for (int i = 0; i < 1000; i++) {
		clock_ns += SECOND / 1000 - 1;
		cr_expect_str_eq(lookup(NO_SUCH_ID), "");
	}
	cr_expect_eq(cp.stats.walks, 1, "a miss within a second of the walk does not walk");
	clock_ns += 1000;
	cr_expect_str_eq(lookup(NO_SUCH_ID), "");
	cr_expect_eq(cp.stats.walks, 2, "a second after it, a miss walks again");
	cr_expect_str_eq(lookup(id_of("/d")), "/d");
	cr_expect_eq(cp.stats.walks, 2, "a hit never walks");
}

Test(cgroup_path, a_new_directory_is_found_by_the_next_walk)
{
	cr_expect_str_eq(lookup(id_of("/a")), "/a");
	make_dir("/kubepods/pod1");
	make_dir("/kubepods/pod1/ctr");
	clock_ns += SECOND / 2;
	cr_expect_str_eq(lookup(id_of("/kubepods/pod1/ctr")), "", "made after the walk, within a second of it");
	clock_ns += SECOND / 2;
	cr_expect_str_eq(lookup(id_of("/kubepods/pod1/ctr")), "/kubepods/pod1/ctr");
	cr_expect_str_eq(lookup(id_of("/kubepods/pod1")), "/kubepods/pod1");
	cr_expect_eq(cp.stats.walks, 2);
	cr_expect_eq(cp.stats.indexed, 8);
}

Test(cgroup_path, a_removed_directory_stays_until_a_walk_drops_it)
{
	uint64_t d = id_of("/d");

	cr_expect_str_eq(lookup(d), "/d");
	cr_assert_eq(rmdir(at("/d")), 0);
	clock_ns += 2 * SECOND;
	cr_expect_str_eq(lookup(d), "/d", "a hit: no walk, the stale path (cgroup ids are not reused)");
	cr_expect_str_eq(lookup(NO_SUCH_ID), "");
	cr_expect_eq(cp.stats.walks, 2, "the miss walked");
	cr_expect_str_eq(lookup(d), "");
	cr_expect_str_eq(lookup(id_of("/a/b")), "/a/b");
	cr_expect_eq(cp.stats.walks, 2);
	cr_expect_eq(cp.stats.indexed, 5);
}

Test(cgroup_path, a_path_longer_than_the_buffer_is_refused)
{
	char out[6];

	cr_expect_eq(cgroup_path_of(&cp, id_of("/a/b"), out, sizeof(out)), 4);
	cr_expect_str_eq(out, "/a/b");
	cr_expect_eq(cgroup_path_of(&cp, id_of("/a/b/c"), out, sizeof(out)), -1, "6 bytes with its NUL");
	cr_expect_eq(cgroup_path_of(&cp, id_of(""), out, 1), -1);
	cr_expect_eq(cgroup_path_of(&cp, id_of(""), out, 2), 1);
	cr_expect_str_eq(out, "/");
}

Test(cgroup_path, no_mount_no_path_and_no_walk)
{
	struct cgroup_path none;
	char out[64];

	cr_assert_eq(cgroup_path_open_at(&none, "/nonexistent/sockspan"), -1);
	cr_expect_eq(cgroup_path_of(&none, id_of("/a"), out, sizeof(out)), -1);
	cr_expect_eq(none.stats.walks, 0);
	cgroup_path_close(&none);
}

/* A chain of directories with names of NAME_MAX bytes ('a' + depth), made
 * through fds: their paths are longer than mkdir takes. Returns the last's id. */
static uint64_t make_chain(int depth)
{
	char name[NAME_MAX + 1];
	int fd = open(root, O_RDONLY | O_DIRECTORY), sub;
	struct stat st;

	cr_assert_geq(fd, 0);
	for (int i = 1; i <= depth; i++) {
		memset(name, 'a' + i, NAME_MAX);
		name[NAME_MAX] = '\0';
		cr_assert_eq(mkdirat(fd, name, 0755), 0);
		sub = openat(fd, name, O_RDONLY | O_DIRECTORY);
		cr_assert_geq(sub, 0);
		close(fd);
		fd = sub;
	}
	cr_assert_eq(fstat(fd, &st), 0);
	close(fd);
	return st.st_ino;
}

Test(cgroup_path, paths_stay_under_path_max)
{
	/* 15 names of NAME_MAX and their slashes: 3840 bytes; a 16th makes 4096. */
	uint64_t last = make_chain(16);
	struct stat st;
	const char *p;
	int fd = open(root, O_RDONLY | O_DIRECTORY);
	char name[NAME_MAX + 1] = "";

	cr_assert_lt(16, CGROUP_TREE_MAX_DEPTH + 1, "the walk's depth is not what stops it");
	cr_expect_str_eq(lookup(last), "");
	cr_expect_eq(cp.stats.unindexed, 1);
	cr_expect_eq(cp.stats.indexed, 6 + 15);
	/* The 15th: the whole path rebuilt from its names. */
	for (int i = 1; i <= 15; i++) {
		memset(name, 'a' + i, NAME_MAX);
		int sub = openat(fd, name, O_RDONLY | O_DIRECTORY);
		cr_assert_geq(sub, 0);
		close(fd);
		fd = sub;
	}
	cr_assert_eq(fstat(fd, &st), 0);
	close(fd);
	p = lookup(st.st_ino);
	cr_assert_eq(strlen(p), 15 * (NAME_MAX + 1));
	for (int i = 0; i < 15; i++) {
		cr_expect_eq(p[i * (NAME_MAX + 1)], '/');
		cr_expect_eq(p[i * (NAME_MAX + 1) + 1], 'a' + i + 1);
		cr_expect_eq(p[(i + 1) * (NAME_MAX + 1) - 1], 'a' + i + 1);
	}
}

Test(cgroup_path_flat, the_index_holds_a_bounded_number_of_directories, .timeout = 120)
{
	/* With the root, 5 more than fit. */
	enum { MADE = CGROUP_PATH_MAX_ENTRIES - 1 + 5 };
	static uint64_t ids[MADE];
	char rel[32];
	int found = 0;

	for (int i = 0; i < MADE; i++) {
		snprintf(rel, sizeof(rel), "/%d", i);
		make_dir(rel);
		ids[i] = id_of(rel);
	}
	cr_expect_str_eq(lookup(id_of("")), "/");
	cr_expect_eq(cp.stats.indexed, CGROUP_PATH_MAX_ENTRIES);
	cr_expect_eq(cp.stats.unindexed, 5);
	for (int i = 0; i < MADE; i++)
		found += lookup(ids[i])[0] != '\0';
	cr_expect_eq(found, MADE - 5);
	cr_expect_eq(cp.stats.walks, 1, "the misses came within a second of the walk");
}
