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

struct tree_walk {
	struct cgroup_ids *w;
	int depth; /* of the directories visited, below the selected one */
};

static void visit(int parent, const char *name, void *ctx)
{
	struct tree_walk *t = ctx;
	int sub = cgroup_open_subdir(parent, name);
	struct stat st;

	if (sub < 0)
		return;
	if (fstat(sub, &st) != 0) {
		close(sub);
		return;
	}
	add(t->w, st.st_ino);
	if (t->depth >= CGROUP_TREE_MAX_DEPTH) {
		close(sub);
		return;
	}
	t->depth++;
	cgroup_each_subdir(sub, visit, t);
	t->depth--;
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
	cgroup_each_subdir(dfd, visit, &(struct tree_walk){ w, 1 });
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
