/* Kernel timestamps (CLOCK_MONOTONIC, from bpf_ktime_get_ns) to the epoch
 * microseconds Zipkin wants. */
#ifndef SOCKSPAN_CLOCK_H
#define SOCKSPAN_CLOCK_H

#include <stdint.h>

/* Samples the offset between CLOCK_REALTIME and CLOCK_MONOTONIC. Call at start
 * and now and then (the wall clock may be stepped). */
void clock_sync(void);
uint64_t clock_mono_to_epoch_us(uint64_t mono_ns);
uint64_t clock_mono_now_ns(void);

#endif
