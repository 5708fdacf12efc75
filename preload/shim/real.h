/* The real libc functions behind our hooks: real_connect(fd, ...) calls
 * libc's connect, never our hook. */
#ifndef SOCKTRACE_REAL_H
#define SOCKTRACE_REAL_H

#include <netdb.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>

#define REAL(ret, name, params) extern ret(*real_##name) params;
#include "real.def"
#undef REAL

/* Binds every pointer; aborts with a message naming the symbol if one
 * resolves into the shim itself (an infinite loop otherwise). Safe to call
 * more than once and from several threads: each pointer is written with
 * the same value. */
void st_real_bind_all(void);

#endif
