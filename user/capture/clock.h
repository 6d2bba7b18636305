/* Kernel timestamps (CLOCK_MONOTONIC, from bpf_ktime_get_ns) to the epoch
 * microseconds Zipkin wants. */
#ifndef SOCKSPAN_CLOCK_H
#define SOCKSPAN_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

/* Samples the offset between CLOCK_REALTIME and CLOCK_MONOTONIC. Call at start
 * and now and then (the wall clock may be stepped). */
void clock_sync(void);

/* A wall clock step smaller than this (beyond a sample's error) is ignored. */
#define CLOCK_STEP_MIN_NS 100000

/* The offset to use after a sample (measured, within err ns) when cur is in
 * use (have_cur): cur unless the wall clock was stepped. Each sample's
 * estimate moves by up to its bracket's width, more under load: taking each
 * would give one kernel instant different epoch times a second apart, and
 * reorder spans that started together. */
int64_t clock_offset_next(int64_t cur, bool have_cur, int64_t measured, int64_t err);
uint64_t clock_mono_to_epoch_us(uint64_t mono_ns);
uint64_t clock_mono_now_ns(void);

#endif
