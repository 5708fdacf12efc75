/* Process-wide state of the shim and the entry check every hook makes. */
#ifndef SOCKTRACE_SHIM_H
#define SOCKTRACE_SHIM_H

#include "clock.h"
#include "config.h"
#include "ctlfile.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#define ST_EXPORT __attribute__((visibility("default")))
#define ST_TLS __thread __attribute__((tls_model("initial-exec")))
/* Under _GNU_SOURCE glibc declares socket address parameters as
 * transparent unions; our definitions must use the same types. */
#define ST_SA(arg) ((arg).__sockaddr__)
#define st_likely(x) __builtin_expect(!!(x), 1)
#define st_unlikely(x) __builtin_expect(!!(x), 0)

enum st_init_state {
	ST_UNINIT,
	ST_INITIALIZING,
	ST_READY,
};

#define ST_ARGV_MAX 4096

struct st_shim {
	struct st_config cfg;   /* immutable once config_loaded */
	bool config_loaded;
	int pid;                /* refreshed in the fork child */
	int ppid;
	uint64_t start_mono;    /* when the shim started in this image */
	uint64_t fork_mono;     /* a fork child: when it was forked; else 0 */
	char prog[64];
	char exe[512];
	char argv[ST_ARGV_MAX]; /* NUL-separated copy, taken before the
				 * program can rewrite its own argv */
	size_t argv_len;
	int argc;
};

extern struct st_shim st_shim;
extern _Atomic int st_init_state;
/* True when events are recorded: initialised, SOCKTRACE_OUT not off and
 * the trace still writable. */
extern _Atomic bool st_tracing;
/* The words every hook reads first (st_active here, st_fault_fns in
 * fault.h), in a page of their own that the process's control file is
 * mapped over (ctl.c), so that `socktrace ctl` can reach the hooks. */
extern struct st_ctl_hot st_hot;
/* True when hooks have work: tracing, fault rules in force, or a
 * `socktrace ctl` request waiting. */
#define st_active (st_hot.active)
/* True when any fault rule is in force: set at start-up, or by the first
 * `socktrace ctl` change that brings rules. */
extern bool st_faults_any;
/* Non-zero while this thread runs the shim's own code that may call into
 * libc functions we interpose: such nested calls go straight through. */
extern ST_TLS int st_busy;

void st_init_slow(void);

static inline uint64_t st_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline void st_ensure_init(void)
{
	if (st_unlikely(atomic_load_explicit(&st_init_state, memory_order_acquire) != ST_READY))
		st_init_slow();
}

/* The check at the top of every hook: false means "call the real function
 * and do nothing else". */
static inline bool st_enter(void)
{
	st_ensure_init();
	return st_active && !st_busy;
}

/* After the real call: whether to format an event at all. */
static inline bool st_tracing_on(void)
{
	return atomic_load_explicit(&st_tracing, memory_order_relaxed);
}

/* For calls that never change the fd table (data, options): with tracing
 * off, only a rule naming the call gives the hook anything to do. */
static inline bool st_enter_call(bool fault_may)
{
	return st_enter() && (fault_may || st_tracing_on());
}

/* Clock readings cost tens of nanoseconds: taken only when an event will
 * be written or a rule may need the time, and from the TSC where the
 * kernel's clock is the TSC (clock.h). */
static inline uint64_t st_time_start(void)
{
	return st_faults_any || st_tracing_on() ? st_clock_ns() : 0;
}

static inline uint64_t st_time_end(void)
{
	return st_tracing_on() ? st_clock_ns() : 0;
}

/* The calling thread's id, cached per thread (reset in the fork child). */
int st_tid(void);

/* True in a child made by vfork (or a raw clone) that still shares our
 * memory: it must not finish the parent's trace or rewrite its fd table.
 * Costs a system call: only for exec, _exit and dup2/dup3. */
bool st_in_borrowed_memory(void);

#endif
