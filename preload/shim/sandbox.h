/* Seccomp sandboxes. OpenSSH's pre-authentication child, browsers and
 * services with SystemCallFilter= install a filter that kills the process
 * for any system call it did not expect: the shim's own calls (unlinking
 * its control file at exit, trimming its trace, mapping more of it,
 * asking the kernel for an address) would kill the program it traces.
 *
 * So the hooks that install a filter (prctl(PR_SET_SECCOMP), and
 * seccomp(2) or prctl through syscall(), as libseccomp makes them) first
 * prepare, while system calls are still allowed: the trace file is made
 * and a few MiB of it mapped, the clock and the thread id are settled,
 * the control file is removed (`socktrace ctl` cannot reach a process
 * that may not open it). Then the shim is sealed: from the filter on it
 * makes no system call of its own, and a warning record (written into the
 * room mapped for it once the filter is in force) says what follows.
 * Records go into what is mapped, and what does not fit is counted as
 * dropped (as on a full disk); addresses the kernel was not asked for stay
 * unknown; no stacks; no new descriptor is learnt by asking the kernel;
 * a fork child of a sealed process is not traced. A rule's delay or hang
 * still sleeps: the rule asked for it. */
#ifndef SOCKTRACE_SANDBOX_H
#define SOCKTRACE_SANDBOX_H

#include <stdatomic.h>
#include <stdbool.h>

extern _Atomic bool st_sealed_flag;

/* True once a filter is (about to be) in force: every path of the shim
 * that would make a system call of its own checks this first. */
static inline bool st_sealed(void)
{
	return atomic_load_explicit(&st_sealed_flag, memory_order_relaxed);
}

/* True when this process started under a filter its parent installed
 * (a systemd service with SystemCallFilter=, a container runtime's
 * profile): its rules are unknown, so the shim makes only the system calls
 * it needs to trace (its file, its mapping) and none it could do without,
 * such as making a read on a socket as the equivalent recv. Read from
 * /proc/self/status once, the first time it is asked. */
bool st_sandbox_inherited(void);

/* Right before the real call that installs a filter (how: "prctl",
 * "seccomp"): prepares and seals. */
void st_sandbox_enter(const char *how);
/* Right after it: a call that failed installed nothing, and the shim
 * goes back to its usual ways (the control file stays removed). Keeps
 * errno. */
void st_sandbox_entered(bool installed);

#endif
