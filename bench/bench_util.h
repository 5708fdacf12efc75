/* Helpers shared by the benchmark workloads: argument parsing, failure
 * reporting and whole-buffer transfers. Header-only (static inline) so each
 * workload is a single translation unit. */
#ifndef SOCKTRACE_BENCH_UTIL_H
#define SOCKTRACE_BENCH_UTIL_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

/* The socket calls the workloads make. In the LTTng variants (built with
 * -DBENCH_LTTNG, see bench/meson.build) each is recorded as an LTTng-UST
 * event (bench/lttng_calls.h); otherwise they are the plain calls. */
#ifdef BENCH_LTTNG
#include "lttng_calls.h"
#else
#define BENCH_SEND(fd, buf, len, flags) send(fd, buf, len, flags)
#define BENCH_RECV(fd, buf, len, flags) recv(fd, buf, len, flags)
#define BENCH_WRITE(fd, buf, len) write(fd, buf, len)
#define BENCH_READ(fd, buf, len) read(fd, buf, len)
#define BENCH_CLOSE(fd) close(fd)
#define BENCH_SOCKETPAIR(domain, type, protocol, sv) socketpair(domain, type, protocol, sv)
#endif

/* Report a failed call (with errno) and exit non-zero. */
static inline void bench_die(const char *prog, const char *what)
{
	fprintf(stderr, "%s: %s: %s\n", prog, what, strerror(errno));
	exit(1);
}

/* Report a failure that errno does not describe and exit non-zero. */
static inline void bench_fail(const char *prog, const char *what)
{
	fprintf(stderr, "%s: %s\n", prog, what);
	exit(1);
}

/* argv[idx] as a count in [1, max], or dflt when absent; exits on junk. */
static inline long bench_count(int argc, char **argv, int idx, long dflt, long max)
{
	if (argc <= idx)
		return dflt;
	char *end = NULL;
	errno = 0;
	long v = strtol(argv[idx], &end, 10);
	if (errno != 0 || end == argv[idx] || *end != '\0' || v < 1 || v > max) {
		fprintf(stderr, "%s: bad count '%s' (1..%ld)\n", argv[0], argv[idx], max);
		exit(2);
	}
	return v;
}

/* send() all len bytes; 0 on success, -1 on error (errno set). */
static inline int bench_send_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t n = BENCH_SEND(fd, p, len, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* recv() exactly len bytes; 0 on success, -1 on error or early end of
 * stream (errno is 0 for the latter). */
static inline int bench_recv_all(int fd, void *buf, size_t len)
{
	char *p = buf;
	while (len > 0) {
		ssize_t n = BENCH_RECV(fd, p, len, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {
			errno = 0;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

#endif
