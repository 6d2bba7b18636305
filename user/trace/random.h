/* Random ids for what starts a trace of its own. Ids only need to be
 * unique, not secret: a generator per thread, no lock and no syscall per id,
 * seeded once per thread from getrandom() and again in a forked child. */
#ifndef SOCKSPAN_RANDOM_H
#define SOCKSPAN_RANDOM_H

#include <stdint.h>

uint64_t random64(void);
/* 128 random bits, never all zero. */
void random_trace_id(uint8_t out[16]);

#endif
