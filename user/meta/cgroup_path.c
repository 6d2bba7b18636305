#include "meta/cgroup_path.h"

#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capture/clock.h"
#include "meta/cgroup_tree.h"

/* Twice the entries: probes stay short when the index is full. */
#define SLOTS (2 * CGROUP_PATH_MAX_ENTRIES)
#define SLOT_BITS 15
_Static_assert(SLOTS == 1 << SLOT_BITS, "SLOT_BITS");
/* The first allocations; each doubles when full, up to the bound. */
#define NODES_FIRST 256
#define NAMES_FIRST (16 * 1024)

struct cgroup_node {
	uint64_t id;
	uint32_t parent;   /* its parent's index; the root's is its own (0) */
	uint32_t name;     /* where its name starts in names */
	uint16_t name_len;
	uint16_t path_len; /* of "/a/b", < PATH_MAX; the root's is 0 ("/") */
};

static uint64_t mono_now(void *ctx)
{
	(void)ctx;
	return clock_mono_now_ns();
}

int cgroup_path_open_at(struct cgroup_path *cp, const char *dir)
{
	*cp = (struct cgroup_path){ .now_ns = mono_now };
	cp->mount_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return cp->mount_fd < 0 ? -1 : 0;
}

int cgroup_path_open(struct cgroup_path *cp)
{
	FILE *f = fopen("/proc/self/mountinfo", "r");
	char line[4096], mount[PATH_MAX];

	*cp = (struct cgroup_path){ .mount_fd = -1, .now_ns = mono_now };
	if (!f)
		return -1;
	/* "id parent maj:min root mountpoint options [optional...] - fstype source superopts" */
	while (cp->mount_fd < 0 && fgets(line, sizeof(line), f)) {
		if (strstr(line, " - cgroup2 ") && sscanf(line, "%*s %*s %*s %*s %4095s", mount) == 1)
			cgroup_path_open_at(cp, mount);
	}
	fclose(f);
	return cp->mount_fd < 0 ? -1 : 0;
}

void cgroup_path_close(struct cgroup_path *cp)
{
	if (cp->mount_fd >= 0)
		close(cp->mount_fd);
	cp->mount_fd = -1;
	free(cp->nodes);
	free(cp->names);
	free(cp->slots);
	cp->nodes = NULL, cp->names = NULL, cp->slots = NULL;
	cp->nnodes = cp->nodes_cap = cp->names_len = cp->names_cap = 0;
}

static uint32_t *slot_of(const struct cgroup_path *cp, uint64_t id)
{
	size_t i = (size_t)((id * 0x9e3779b97f4a7c15ull) >> (64 - SLOT_BITS));

	/* Never full (half the slots at most), so an empty one ends the probe. */
	while (cp->slots[i] && cp->nodes[cp->slots[i] - 1].id != id)
		i = (i + 1) & (SLOTS - 1);
	return &cp->slots[i];
}

/* Room for need elements of size in *buf, doubling from first up to max. */
static bool reserve(void **buf, size_t *cap, size_t need, size_t size, size_t first, size_t max)
{
	size_t n = *cap ? *cap : first;
	void *p;

	if (*buf && need <= *cap)
		return true;
	while (n < need)
		n *= 2;
	n = n < max ? n : max;
	if (need > n || !(p = realloc(*buf, n * size)))
		return false;
	*buf = p;
	*cap = n;
	return true;
}

/* Adds a directory under node parent. Returns its index, or -1 (left out:
 * the index is full, its path too long, no memory, or an id seen already). */
static long add(struct cgroup_path *cp, uint64_t id, uint32_t parent, const char *name)
{
	/* The root first, with no name: its path is "/". */
	size_t n = strlen(name), path_len = cp->nnodes ? cp->nodes[parent].path_len + 1 + n : 0;
	uint32_t *slot;

	if (cp->nnodes >= CGROUP_PATH_MAX_ENTRIES || path_len >= PATH_MAX || n > NAME_MAX ||
	    !reserve((void **)&cp->nodes, &cp->nodes_cap, cp->nnodes + 1, sizeof(cp->nodes[0]), NODES_FIRST,
		     CGROUP_PATH_MAX_ENTRIES) ||
	    !reserve((void **)&cp->names, &cp->names_cap, cp->names_len + n, 1, NAMES_FIRST,
		     (size_t)CGROUP_PATH_MAX_ENTRIES * NAME_MAX))
		return -1;
	slot = slot_of(cp, id);
	if (*slot)
		return -1;
	cp->nodes[cp->nnodes] = (struct cgroup_node){
		.id = id, .parent = parent, .name = (uint32_t)cp->names_len, .name_len = (uint16_t)n,
		.path_len = (uint16_t)path_len,
	};
	memcpy(cp->names + cp->names_len, name, n);
	cp->names_len += n;
	*slot = (uint32_t)++cp->nnodes;
	return (long)cp->nnodes - 1;
}

struct walk {
	struct cgroup_path *cp;
	uint32_t at[CGROUP_TREE_MAX_DEPTH + 1]; /* the node last added at each depth: the parents */
};

static bool visit(const char *name, uint64_t id, int depth, void *ctx)
{
	struct walk *w = ctx;
	long i = add(w->cp, id, w->at[depth - 1], name);

	if (i < 0) {
		w->cp->stats.unindexed++;
		return false;
	}
	w->at[depth] = (uint32_t)i;
	return true;
}

static void walk(struct cgroup_path *cp, uint64_t now)
{
	struct walk w = { .cp = cp };
	struct stat st;
	int dfd;

	cp->walked_ns = now;
	cp->stats.walks++;
	if (!cp->slots && !(cp->slots = malloc(SLOTS * sizeof(cp->slots[0]))))
		return;
	memset(cp->slots, 0, SLOTS * sizeof(cp->slots[0]));
	cp->nnodes = cp->names_len = 0;
	cp->stats.unindexed = 0;
	/* cgroup_walk closes the fd it is given. */
	dfd = openat(cp->mount_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0 && fstat(dfd, &st) == 0 && add(cp, st.st_ino, 0, "") == 0)
		cgroup_walk(dfd, CGROUP_TREE_MAX_DEPTH, visit, &w);
	else if (dfd >= 0)
		close(dfd);
	cp->stats.indexed = cp->nnodes;
	cp->stats.walk_ns += cp->now_ns(cp->now_ctx) - now;
}

/* Node i's path, written from its end up to the root. */
static int path_of(const struct cgroup_path *cp, uint32_t i, char *out, size_t cap)
{
	const struct cgroup_node *n = &cp->nodes[i];
	size_t end = n->path_len;

	if (end == 0) {
		if (cap < 2)
			return -1;
		memcpy(out, "/", 2);
		return 1;
	}
	if (end >= cap)
		return -1;
	out[end] = '\0';
	for (; end > 0; n = &cp->nodes[n->parent]) {
		end -= n->name_len;
		memcpy(out + end, cp->names + n->name, n->name_len);
		out[--end] = '/';
	}
	return (int)cp->nodes[i].path_len;
}

int cgroup_path_of(struct cgroup_path *cp, uint64_t id, char *out, size_t cap)
{
	uint64_t now;
	uint32_t i;

	if (cp->mount_fd < 0 || cap == 0)
		return -1;
	i = cp->slots ? *slot_of(cp, id) : 0;
	if (!i) {
		now = cp->now_ns(cp->now_ctx);
		if (cp->stats.walks && now - cp->walked_ns < CGROUP_PATH_REWALK_NS)
			return -1;
		walk(cp, now);
		i = cp->slots ? *slot_of(cp, id) : 0;
	}
	return i ? path_of(cp, i - 1, out, cap) : -1;
}
