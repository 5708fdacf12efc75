/* What the shim cannot see, said before the program runs instead of
 * leaving the user with an empty trace. */
#ifndef SOCKTRACE_EXECCHECK_H
#define SOCKTRACE_EXECCHECK_H

/* Prints a warning on stderr when cmd (looked up in PATH like execvp) is
 * statically linked or set-user/group-ID (the dynamic loader will not
 * preload the shim into it), or a Go program (whose runtime bypasses the
 * C library). Silent when all is well or cmd is not found
 * (exec reports that). Returns 1 when a warning was printed. */
int st_warn_untraceable(const char *cmd);

#endif
