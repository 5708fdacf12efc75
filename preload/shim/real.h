/* The real libc functions behind our hooks: real_connect(fd, ...) calls
 * libc's connect, never our hook. */
#ifndef SOCKTRACE_REAL_H
#define SOCKTRACE_REAL_H

#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>

#define REAL(ret, name, params) extern ret(*real_##name) params;
#include "real.def"
#undef REAL

/* The shim's own raw system calls go to libc's syscall() itself: the
 * exported syscall() is our hook, which traces the program's socket calls
 * made through it. Bound on first use, so that start-up code may call it
 * before st_real_bind_all. */
typedef long (*st_syscall_fn)(long, ...);
st_syscall_fn st_real_syscall(void);
#define st_syscall(...) (st_real_syscall()(__VA_ARGS__))

/* Binds every pointer; aborts with a message naming the symbol if one
 * resolves into the shim itself (an infinite loop otherwise). Safe to call
 * more than once and from several threads: each pointer is written with
 * the same value. */
void st_real_bind_all(void);

#endif
