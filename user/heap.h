/* heap.h - the bytes of heap sockspan holds, known at any moment. */
#ifndef SOCKSPAN_HEAP_H
#define SOCKSPAN_HEAP_H

#include <stddef.h>

/* Bytes of every block malloc and its kin handed out and that are not freed
 * yet, each with its size word: what mallinfo2's uordblks + hblkhd say,
 * without its walk. */
size_t heap_in_use(void);
/* The most heap_in_use() has been since the last heap_peak_reset() (which
 * starts it again from the heap in use). */
size_t heap_peak(void);
void heap_peak_reset(void);

#endif
