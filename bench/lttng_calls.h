/* The socket calls of the workloads, each recorded as an LTTng-UST event
 * (bench/lttng_tp.h) the way a tracer would record it: CLOCK_MONOTONIC read
 * before and after the real call, errno saved, the event emitted with the
 * call's descriptor, result, errno, duration, length, flags and peer, errno
 * restored. Included by bench_util.h when BENCH_LTTNG is defined (the
 * *_lttng executables); without it, BENCH_SEND and the others are the
 * plain calls and the workloads are unchanged.
 *
 * The peer string comes from a table indexed by descriptor, filled when
 * socketpair makes the descriptors ("unix:", what socktrace records for
 * the unnamed ends of a socketpair), as a tracer's descriptor table would;
 * each thread of bench/threads.c touches only its own entries. */
#ifndef SOCKTRACE_BENCH_LTTNG_CALLS_H
#define SOCKTRACE_BENCH_LTTNG_CALLS_H

#include <errno.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "lttng_tp.h"

#define BENCH_LTTNG_MAX_FD 4096

static const char *bench_lttng_peer[BENCH_LTTNG_MAX_FD];

static inline uint64_t bench_lttng_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline const char *bench_lttng_peer_of(int fd)
{
	const char *p = (fd >= 0 && fd < BENCH_LTTNG_MAX_FD) ? bench_lttng_peer[fd] : NULL;
	return p ? p : "";
}

/* One traced call of a function with (fd, ..., len[, flags]) returning
 * ssize_t or int: EVENT names the tracepoint, CALL is the real call. */
#define BENCH_LTTNG_TRACED(event, fd, len, flags, call)				\
	__extension__({								\
		uint64_t t0_ = bench_lttng_now();				\
		ssize_t r_ = (call);						\
		uint64_t t1_ = bench_lttng_now();				\
		int e_ = r_ < 0 ? errno : 0;					\
		lttng_ust_tracepoint(socktrace_bench, event, (fd), (int64_t)r_, \
				     e_, t1_ - t0_, (uint64_t)(len), (flags),	\
				     bench_lttng_peer_of(fd));			\
		if (r_ < 0)							\
			errno = e_;						\
		r_;								\
	})

#define BENCH_SEND(fd, buf, len, flags)						\
	BENCH_LTTNG_TRACED(send, fd, len, flags, send(fd, buf, len, flags))
#define BENCH_RECV(fd, buf, len, flags)						\
	BENCH_LTTNG_TRACED(recv, fd, len, flags, recv(fd, buf, len, flags))
#define BENCH_WRITE(fd, buf, len)						\
	BENCH_LTTNG_TRACED(write, fd, len, 0, write(fd, buf, len))
#define BENCH_READ(fd, buf, len)						\
	BENCH_LTTNG_TRACED(read, fd, len, 0, read(fd, buf, len))

static inline int bench_lttng_close(int fd)
{
	int r = (int)BENCH_LTTNG_TRACED(close, fd, 0, 0, close(fd));
	if (fd >= 0 && fd < BENCH_LTTNG_MAX_FD)
		bench_lttng_peer[fd] = NULL;
	return r;
}
#define BENCH_CLOSE(fd) bench_lttng_close(fd)

static inline int bench_lttng_socketpair(int domain, int type, int protocol, int sv[2])
{
	uint64_t t0 = bench_lttng_now();
	int r = socketpair(domain, type, protocol, sv);
	uint64_t t1 = bench_lttng_now();
	int e = r < 0 ? errno : 0;
	if (r == 0) {
		for (int i = 0; i < 2; i++)
			if (sv[i] < BENCH_LTTNG_MAX_FD)
				bench_lttng_peer[sv[i]] = domain == AF_UNIX ? "unix:" : "?";
	}
	lttng_ust_tracepoint(socktrace_bench, socketpair, r == 0 ? sv[0] : -1,
			     r == 0 ? sv[1] : -1, (int64_t)r, e, t1 - t0);
	if (r < 0)
		errno = e;
	return r;
}
#define BENCH_SOCKETPAIR(domain, type, protocol, sv)				\
	bench_lttng_socketpair(domain, type, protocol, sv)

#endif
