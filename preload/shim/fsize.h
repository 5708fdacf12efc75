/* The file size limit (RLIMIT_FSIZE, `ulimit -f`).
 *
 * A write, fallocate or ftruncate that would make a file longer than the
 * limit gets SIGXFSZ, whose default action kills the process: the
 * program, for a file that is ours. So every file the shim grows (trace,
 * control file, log) is checked against the limit first, and what does
 * not fit is not written. */
#ifndef SOCKTRACE_FSIZE_H
#define SOCKTRACE_FSIZE_H

#include <stdbool.h>
#include <stdint.h>

/* True when a file may reach end bytes (true when the limit is unknown). */
bool st_fsize_allows(uint64_t end);
/* The limit in bytes, UINT64_MAX when there is none. */
uint64_t st_fsize_limit(void);

#endif
