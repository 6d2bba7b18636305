/* Test buffers that end right before an unmapped page, so a parser that reads
 * one byte too far crashes instead of passing by luck (STYLE.md, Tests). */
#ifndef SOCKSPAN_TEST_GUARD_PAGE_H
#define SOCKSPAN_TEST_GUARD_PAGE_H

#include <criterion/criterion.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct guard {
	char *map;
	size_t map_len;
	char *end; /* first byte of the PROT_NONE page */
	size_t cap;
};

static inline struct guard guard_new(size_t cap)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t data = (cap + page - 1) / page * page;
	struct guard g;

	if (data == 0)
		data = page;
	g.map_len = data + page;
	g.map = mmap(NULL, g.map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	cr_assert_neq(g.map, MAP_FAILED, "mmap");
	cr_assert_eq(mprotect(g.map + data, page, PROT_NONE), 0, "mprotect");
	g.end = g.map + data;
	g.cap = data;
	return g;
}

/* Copy len bytes so that the last one is the last readable byte. */
static inline const char *guard_put(struct guard *g, const void *src, size_t len)
{
	char *p = g->end - len;

	cr_assert_leq(len, g->cap, "guard too small");
	if (len)
		memcpy(p, src, len);
	return p;
}

static inline void guard_free(struct guard *g)
{
	munmap(g->map, g->map_len);
}

#endif
