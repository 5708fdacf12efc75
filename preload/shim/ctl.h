/* The control channel: how `socktrace ctl` reaches a running process.
 *
 * At start-up each process makes its control file (preload/core/ctlfile.h)
 * in the user's private control directory, maps it, and maps its first
 * page over st_hot, the words every hook reads. No descriptor is kept,
 * nothing is allocated, and nothing happens per call: a request from the
 * tool sets every bit of st_hot.fault_fns, so the next hooked call goes to
 * st_fault_begin, which calls st_ctl_poll. */
#ifndef SOCKTRACE_CTL_H
#define SOCKTRACE_CTL_H

/* At the end of start-up (settings read, start-up rules loaded). Does
 * nothing with SOCKTRACE_CTL=off; says once why when the directory is not
 * safe to use, and the process then simply cannot be controlled. */
void st_ctl_init(void);
/* First thing in a fork child: it still shares its parent's control
 * page; it makes its own file (keeping its rules) or, failing that, a
 * private copy of the page. */
void st_ctl_after_fork(void);
/* At exit, _exit and _Exit: removes the file. */
void st_ctl_finish(void);
/* Before a seccomp filter: removes the file and stops listening, for
 * good (sandbox.h). */
void st_ctl_seal(void);
/* From st_fault_begin when a request may be waiting: applies it. */
void st_ctl_poll(void);

#endif
