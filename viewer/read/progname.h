/* The name a process is shown by: its program, or for an interpreter the
 * script it runs (`python3 srv.py` is "srv.py", `python3 -m http.server`
 * is "http.server", `node app.js` is "app.js"), as people call it. */
#ifndef SOCKTRACE_PROGNAME_H
#define SOCKTRACE_PROGNAME_H

#include <stddef.h>

/* prog: the header's program name; argv, argc: its command line. Returns
 * a new string (NULL when out of memory). */
char *prog_display_name(const char *prog, const char *const *argv, size_t argc);

#endif
