// SPDX-License-Identifier: MIT
/* heap.c - count the heap in use as it changes, so that the memory budget
 * can be checked at every poll round.
 *
 * mallinfo2() walks every free chunk of every arena: on a heap fragmented by
 * connection churn that takes milliseconds (47 ms with 100k free chunks on
 * the development machine), and a tracee that churns connections chooses
 * how fragmented the heap gets. So sockspan replaces malloc and its kin, as
 * glibc's manual allows ("Replacing malloc"), with glibc's own functions plus
 * one atomic add of the block's footprint. Linked into the agent only:
 * the sanitizer builds (unit tests, fuzzers) have their own malloc. */
#include "heap.h"

#include <errno.h>
#include <malloc.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

extern void *__libc_malloc(size_t n);
extern void __libc_free(void *p);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t n);
extern void *__libc_memalign(size_t align, size_t n);
extern void *__libc_valloc(size_t n);
extern void *__libc_pvalloc(size_t n);

/* Process-wide like the allocator it counts; every thread allocates. */
static _Atomic size_t in_use, peak;

/* What a live block takes from the arena: its usable size plus the size word
 * before it (what mallinfo2 counts). Blocks of a few tens of bytes, as HPACK
 * entries are, would otherwise be undercounted by a fifth. */
static size_t footprint(void *p)
{
	return malloc_usable_size(p) + sizeof(size_t);
}

static void *counted(void *p)
{
	size_t n, high;

	if (!p)
		return p;
	n = footprint(p);
	n += atomic_fetch_add_explicit(&in_use, n, memory_order_relaxed);
	/* A new high is rare: one load in the common case. */
	high = atomic_load_explicit(&peak, memory_order_relaxed);
	while (n > high && !atomic_compare_exchange_weak_explicit(&peak, &high, n, memory_order_relaxed,
								   memory_order_relaxed))
		;
	return p;
}

static void uncount(void *p)
{
	if (p)
		atomic_fetch_sub_explicit(&in_use, footprint(p), memory_order_relaxed);
}

size_t heap_in_use(void)
{
	return atomic_load_explicit(&in_use, memory_order_relaxed);
}

size_t heap_peak(void)
{
	return atomic_load_explicit(&peak, memory_order_relaxed);
}

void heap_peak_reset(void)
{
	atomic_store_explicit(&peak, heap_in_use(), memory_order_relaxed);
}

void *malloc(size_t n)
{
	return counted(__libc_malloc(n));
}

void free(void *p)
{
	uncount(p);
	__libc_free(p);
}

void *calloc(size_t n, size_t size)
{
	return counted(__libc_calloc(n, size));
}

void *realloc(void *p, size_t n)
{
	size_t old = p ? footprint(p) : 0;
	void *q = __libc_realloc(p, n);

	/* NULL with n > 0: p is untouched; with n == 0, glibc freed it. */
	if (!q && n > 0)
		return NULL;
	atomic_fetch_sub_explicit(&in_use, old, memory_order_relaxed);
	return counted(q);
}

void *memalign(size_t align, size_t n)
{
	return counted(__libc_memalign(align, n));
}

void *aligned_alloc(size_t align, size_t n)
{
	return memalign(align, n);
}

int posix_memalign(void **out, size_t align, size_t n)
{
	void *p;

	if (align % sizeof(void *) || (align & (align - 1)))
		return EINVAL;
	p = memalign(align, n);
	if (!p)
		return ENOMEM;
	*out = p;
	return 0;
}

void *valloc(size_t n)
{
	return counted(__libc_valloc(n));
}

void *pvalloc(size_t n)
{
	return counted(__libc_pvalloc(n));
}
