/* The clock of events: CLOCK_MONOTONIC in nanoseconds, read twice per
 * call.
 *
 * clock_gettime costs 20 to 40 ns through the vDSO on a VM, a good part of
 * what an event costs. Where the kernel's own clock source is the TSC
 * (and only there: the kernel has then checked that it is invariant and
 * the same on every CPU), the time is the TSC converted with an anchor (a
 * CLOCK_MONOTONIC reading and the TSC at that moment, taken again every
 * quarter of a millisecond) and a rate measured against CLOCK_MONOTONIC
 * since start-up: one rdtsc, a multiplication and a seqlock read. It stays
 * within a few tens of nanoseconds of clock_gettime; whenever it is not
 * sure (no rate measured yet, the first 50 ms of a process, an anchor
 * being replaced, a reading far from the anchor, a jump), it answers with
 * clock_gettime itself. */
#ifndef SOCKTRACE_CLOCK_H
#define SOCKTRACE_CLOCK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#if defined(__x86_64__)
#include <x86intrin.h>
#define ST_CLOCK_TSC 1
/* 64x64->128-bit products: one mul instruction. */
__extension__ typedef unsigned __int128 st_u128;
#endif

struct st_clock {
	_Atomic uint32_t seq;          /* odd while the anchor changes */
	_Atomic uint64_t anchor_tsc;
	_Atomic uint64_t anchor_ns;
	_Atomic uint64_t mult;         /* ns per tick, 32.32 fixed point; 0: not yet */
	_Atomic uint64_t max_ticks;    /* readings this far past the anchor only */
};

extern struct st_clock st_clock;

/* clock_gettime(CLOCK_MONOTONIC), and the upkeep of the anchor. */
uint64_t st_clock_slow(void);
/* Decides now whether the TSC is followed (it reads a file in /sys the
 * first time): for a process about to forbid itself new files. */
void st_clock_settle(void);

#define ST_CLOCK_LOAD(field) atomic_load_explicit(&st_clock.field, memory_order_relaxed)

static inline uint64_t st_clock_ns(void)
{
#ifdef ST_CLOCK_TSC
	uint32_t seq = atomic_load_explicit(&st_clock.seq, memory_order_acquire);
	uint64_t tsc = __rdtsc();
	uint64_t ticks = tsc - ST_CLOCK_LOAD(anchor_tsc);
	uint64_t anchor_ns = ST_CLOCK_LOAD(anchor_ns);
	uint64_t mult = ST_CLOCK_LOAD(mult);
	uint64_t max_ticks = ST_CLOCK_LOAD(max_ticks);

	atomic_thread_fence(memory_order_acquire);
	/* A reading before the anchor (taken meanwhile on another CPU) wraps
	 * around and fails the distance test too. */
	if (__builtin_expect(!(seq & 1) && ticks < max_ticks &&
			     atomic_load_explicit(&st_clock.seq, memory_order_relaxed) == seq, 1))
		return anchor_ns + (uint64_t)(((st_u128)ticks * mult) >> 32);
#endif
	return st_clock_slow();
}

#endif
