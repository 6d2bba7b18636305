#include "meta/cgroup_tree.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct walk {
	uint64_t *ids;
	size_t cap, n;
};

static void add(struct walk *w, uint64_t id)
{
	if (w->n < w->cap)
		w->ids[w->n] = id;
	w->n++;
}

/* dfd: an open directory (closed here); its id is already added. */
static void walk_dir(struct walk *w, int dfd, int depth)
{
	DIR *d = fdopendir(dfd);
	struct dirent *e;

	if (!d) {
		close(dfd);
		return;
	}
	while ((e = readdir(d))) {
		struct stat st;
		int sub;

		if (e->d_type != DT_DIR || !strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		sub = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub < 0)
			continue;
		if (fstat(sub, &st) != 0) {
			close(sub);
			continue;
		}
		add(w, st.st_ino);
		if (depth < CGROUP_TREE_MAX_DEPTH)
			walk_dir(w, sub, depth + 1);
		else
			close(sub);
	}
	closedir(d);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

size_t cgroup_tree_ids(const char *const *dirs, size_t n, uint64_t *ids, size_t cap)
{
	struct walk w = { ids, cap, 0 };
	size_t kept, out = 0;

	for (size_t i = 0; i < n; i++) {
		int dfd = open(dirs[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		struct stat st;

		if (dfd < 0)
			continue;
		if (fstat(dfd, &st) != 0) {
			close(dfd);
			continue;
		}
		add(&w, st.st_ino);
		walk_dir(&w, dfd, 1);
	}
	kept = w.n < cap ? w.n : cap;
	qsort(ids, kept, sizeof(ids[0]), cmp_u64);
	for (size_t i = 0; i < kept; i++)
		if (out == 0 || ids[out - 1] != ids[i])
			ids[out++] = ids[i];
	return w.n - (kept - out);
}
