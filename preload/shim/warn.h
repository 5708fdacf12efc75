/* Warnings in the trace: things the shim cannot see, said where the user
 * looks ({"rec":"warning",...}) instead of leaving a trace that is quietly
 * incomplete. */
#ifndef SOCKTRACE_WARN_H
#define SOCKTRACE_WARN_H

/* io_uring in use (how: "io_uring_setup", or "fd" when found open at
 * exit). Written once per process. */
void st_warn_io_uring(const char *how);
/* At exit: io_uring instances set up by raw system calls (liburing 2.2+
 * makes them itself, without syscall(2)) are still open: warn then. */
void st_warn_scan_fds(void);

#endif
