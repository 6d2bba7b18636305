/* word8.h - tests on 8 bytes at once (SWAR), for the loops that scan long
 * runs of ordinary bytes: each answer is exact for the word as a whole. */
#ifndef SOCKSPAN_WORD8_H
#define SOCKSPAN_WORD8_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define WORD8_OF(b) (0x0101010101010101ull * (uint8_t)(b))
#define WORD8_HIGH WORD8_OF(0x80)

static inline uint64_t word8_load(const char *p)
{
	uint64_t x;

	memcpy(&x, p, sizeof(x));
	return x;
}

/* High bit of each byte of x below n (n <= 0x80), at least of the lowest
 * such byte: nonzero if and only if there is one. */
static inline uint64_t word8_below(uint64_t x, uint8_t n)
{
	return (x - WORD8_OF(n)) & ~x & WORD8_HIGH;
}

/* Nonzero if and only if a byte of x is b. */
static inline uint64_t word8_has(uint64_t x, uint8_t b)
{
	return word8_below(x ^ WORD8_OF(b), 1);
}

#endif
