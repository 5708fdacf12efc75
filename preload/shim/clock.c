/* The shim's clock (clock.h): the TSC converted with an anchor and a
 * rate measured against CLOCK_MONOTONIC, where the kernel keeps time with
 * it; clock_gettime otherwise. docs/design.md, "Per call". */
#include "clock.h"

#include "real.h"
#include "shim.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>

struct st_clock st_clock;

#define MS ((uint64_t)1000000)
/* The rate is measured over this much time at least before it is used:
 * the error of one CLOCK_MONOTONIC/TSC pair (tens of ns) over 50 ms is
 * below 1e-6, a few hundred picoseconds per anchor period. */
#define RATE_BASELINE (50 * MS)
#define ANCHOR_PERIOD (MS / 4)
/* A pair whose two TSC readings are further apart was interrupted (or
 * preempted): its midpoint could be off by more than 100 ns. */
#define PAIR_WINDOW_MAX 600
/* Further off than this from the kernel's clock, the TSC is not followed
 * (a clock source changed, a VM migrated): clock_gettime from then on. */
#define DRIFT_MAX 10000

enum { CLOCK_UNKNOWN, CLOCK_TSC, CLOCK_SYSCALL };

static struct {
	_Atomic int mode;
	_Atomic bool busy;       /* one thread keeps the anchor at a time */
	_Atomic uint64_t tried;  /* when it last tried */
	uint64_t base_tsc;       /* the first pair: the rate is measured from it */
	uint64_t base_ns;
} clk;

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#ifdef ST_CLOCK_TSC
/* Whether the kernel itself keeps time with the TSC: it has then found it
 * invariant and synchronised across CPUs. Raw system calls: this runs
 * inside a hook, and our own open hook must not see it. */
static int clock_mode(void)
{
	static const char path[] = "/sys/devices/system/clocksource/clocksource0/current_clocksource";
	char buf[16] = "";
	int fd = (int)st_syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
	long n = -1;

	if (fd >= 0) {
		n = st_syscall(SYS_read, fd, buf, sizeof(buf) - 1);
		st_syscall(SYS_close, fd);
	}
	return n == 4 && memcmp(buf, "tsc\n", 4) == 0 ? CLOCK_TSC : CLOCK_SYSCALL;
}

/* CLOCK_MONOTONIC and the TSC at one moment, the best of three tries;
 * false when every try was interrupted. */
static bool clock_pair(uint64_t *tsc, uint64_t *ns)
{
	uint64_t best = PAIR_WINDOW_MAX;

	*tsc = *ns = 0;
	for (int i = 0; i < 3; i++) {
		uint64_t before = __rdtsc();
		uint64_t t = mono_ns();
		uint64_t after = __rdtsc();

		if (after - before < best) {
			best = after - before;
			*tsc = before + best / 2;
			*ns = t;
		}
	}
	return best < PAIR_WINDOW_MAX;
}

static void clock_publish(uint64_t tsc, uint64_t ns, uint64_t mult, uint64_t max_ticks)
{
	atomic_fetch_add_explicit(&st_clock.seq, 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	atomic_store_explicit(&st_clock.anchor_tsc, tsc, memory_order_relaxed);
	atomic_store_explicit(&st_clock.anchor_ns, ns, memory_order_relaxed);
	atomic_store_explicit(&st_clock.mult, mult, memory_order_relaxed);
	atomic_store_explicit(&st_clock.max_ticks, max_ticks, memory_order_relaxed);
	atomic_fetch_add_explicit(&st_clock.seq, 1, memory_order_release);
}

/* True when the current anchor and rate still agree with the kernel. */
static bool clock_agrees(uint64_t tsc, uint64_t ns)
{
	uint64_t mult = atomic_load_explicit(&st_clock.mult, memory_order_relaxed);
	uint64_t ticks = tsc - atomic_load_explicit(&st_clock.anchor_tsc, memory_order_relaxed);
	uint64_t guess;

	if (!mult || ticks > 64 * atomic_load_explicit(&st_clock.max_ticks, memory_order_relaxed))
		return true; /* nothing to compare, or too long ago to tell */
	guess = atomic_load_explicit(&st_clock.anchor_ns, memory_order_relaxed) +
		(uint64_t)(((st_u128)ticks * mult) >> 32);
	return guess < ns + DRIFT_MAX && ns < guess + DRIFT_MAX;
}

/* A new anchor, and the rate measured from the first pair to this one. */
static void clock_renew(void)
{
	uint64_t tsc, ns, mult;

	if (atomic_load(&clk.mode) == CLOCK_UNKNOWN)
		atomic_store(&clk.mode, clock_mode());
	if (atomic_load(&clk.mode) != CLOCK_TSC || !clock_pair(&tsc, &ns))
		return;
	if (!clk.base_ns) {
		clk.base_tsc = tsc;
		clk.base_ns = ns;
		return;
	}
	if (ns - clk.base_ns < RATE_BASELINE || tsc <= clk.base_tsc)
		return;
	if (!clock_agrees(tsc, ns)) {
		atomic_store(&clk.mode, CLOCK_SYSCALL);
		clock_publish(0, 0, 0, 0);
		return;
	}
	mult = (uint64_t)(((st_u128)(ns - clk.base_ns) << 32) / (tsc - clk.base_tsc));
	if (mult)
		clock_publish(tsc, ns, mult, ((st_u128)ANCHOR_PERIOD << 32) / mult);
}
#endif

uint64_t st_clock_slow(void)
{
	uint64_t now = mono_ns();

#ifdef ST_CLOCK_TSC
	/* One thread renews; the others (and a signal handler that
	 * interrupted it) have the kernel's time meanwhile. */
	if (atomic_load_explicit(&clk.mode, memory_order_relaxed) != CLOCK_SYSCALL &&
	    now - atomic_load_explicit(&clk.tried, memory_order_relaxed) >= ANCHOR_PERIOD &&
	    !atomic_exchange_explicit(&clk.busy, true, memory_order_acquire)) {
		atomic_store_explicit(&clk.tried, now, memory_order_relaxed);
		clock_renew();
		atomic_store_explicit(&clk.busy, false, memory_order_release);
	}
#endif
	return now;
}

void st_clock_settle(void)
{
#ifdef ST_CLOCK_TSC
	if (atomic_load(&clk.mode) == CLOCK_UNKNOWN)
		atomic_store(&clk.mode, clock_mode());
#endif
}

/* A fork child has only the forking thread: a flag another thread held
 * is nobody's now. */
static void clock_after_fork(void)
{
	atomic_store(&clk.busy, false);
}

__attribute__((constructor)) static void clock_init(void)
{
	pthread_atfork(NULL, NULL, clock_after_fork);
}
