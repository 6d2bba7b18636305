#include "meta/cgroup_tree.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void add(struct cgroup_ids *w, uint64_t id)
{
	if (w->n < w->cap)
		w->ids[w->n] = id;
	w->n++;
}

void cgroup_each_subdir(int dfd, void (*fn)(int parent, const char *name, void *ctx), void *ctx)
{
	DIR *d = fdopendir(dfd);
	struct dirent *e;

	if (!d) {
		close(dfd);
		return;
	}
	while ((e = readdir(d)))
		if (e->d_type == DT_DIR && strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			fn(dirfd(d), e->d_name, ctx);
	closedir(d);
}

int cgroup_open_subdir(int parent, const char *name)
{
	return openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

struct walk {
	cgroup_walk_fn fn;
	void *ctx;
	int depth, max_depth; /* of the directories visited, below dfd */
};

static void visit(int parent, const char *name, void *ctx)
{
	struct walk *w = ctx;
	struct stat st;
	int sub;

	/* A directory's links are its subdirectories' plus 2 (cgroupfs, tmpfs,
	 * ext4; 1 where a filesystem does not count them): a leaf, most cgroups,
	 * is neither opened nor read (its entries are its cgroup's files). */
	if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(st.st_mode) ||
	    !w->fn(name, st.st_ino, w->depth, w->ctx) || w->depth >= w->max_depth || st.st_nlink == 2)
		return;
	sub = cgroup_open_subdir(parent, name);
	if (sub < 0)
		return;
	w->depth++;
	cgroup_each_subdir(sub, visit, w);
	w->depth--;
}

void cgroup_walk(int dfd, int max_depth, cgroup_walk_fn fn, void *ctx)
{
	cgroup_each_subdir(dfd, visit, &(struct walk){ fn, ctx, 1, max_depth });
}

static bool add_walked(const char *name, uint64_t id, int depth, void *ctx)
{
	(void)name, (void)depth;
	add(ctx, id);
	return true;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

void cgroup_ids_add_tree(struct cgroup_ids *w, int dfd)
{
	struct stat st;

	if (fstat(dfd, &st) != 0) {
		close(dfd);
		return;
	}
	add(w, st.st_ino);
	cgroup_walk(dfd, CGROUP_TREE_MAX_DEPTH, add_walked, w);
}

size_t cgroup_ids_finish(struct cgroup_ids *w)
{
	size_t kept = w->n < w->cap ? w->n : w->cap, out = 0;

	qsort(w->ids, kept, sizeof(w->ids[0]), cmp_u64);
	for (size_t i = 0; i < kept; i++)
		if (out == 0 || w->ids[out - 1] != w->ids[i])
			w->ids[out++] = w->ids[i];
	return w->n - (kept - out);
}

void cgroup_ids_add_dirs(struct cgroup_ids *w, const char *const *dirs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int dfd = open(dirs[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		if (dfd >= 0)
			cgroup_ids_add_tree(w, dfd);
	}
}
