/* What a stdio function moved through a socket. glibc's stdio reads and
 * writes its descriptor with internal system calls that no interposer
 * sees (git's upload-pack writes its ref advertisement with fwrite on a
 * socket), so the hooks in hook_stdio.c wrap the stdio functions instead,
 * and the bytes that went to or came from the kernel are told by the
 * stream's buffer, before and after, and by what the call took from or
 * gave to the program:
 *
 *   sent     = pending before + bytes the call took - pending after
 *   received = bytes the call gave + buffered after - buffered before
 *
 * Each is a stream of bytes in order (stdio is first in, first out): the
 * bytes sent are the ones pending before, then the start of the call's
 * own; the bytes received are the end of what the call gave, then what it
 * left in the buffer. So the records say exactly what moved, payload
 * included where the program's bytes are at hand. The stream is locked
 * around the call (the lock is recursive, and the call takes it again),
 * so that another thread's call on the same stream cannot come between
 * the two looks at the buffer. */
#ifndef SOCKTRACE_STDIO_ACCT_H
#define SOCKTRACE_STDIO_ACCT_H

#include "config.h"

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum st_stdio_dir {
	ST_STDIO_OUT, /* the call may write the descriptor */
	ST_STDIO_IN,  /* the call may read it */
};

struct st_stdio_call {
	FILE *fp;
	const char *name; /* the stdio function: "stdio" in the record */
	enum st_stdio_dir dir;
	bool locked;      /* by st_stdio_begin, for st_stdio_end to release */
	int fd;
	int flags0;       /* the stream's EOF and error bits before */
	size_t before;    /* bytes pending (out) or buffered (in) before */
	uint64_t t0;
	size_t head_len;  /* out: the first pending bytes, for the preview */
	unsigned char head[ST_PAYLOAD_MAX];
};

/* Whether the call on fp is to be accounted: a byte stream on a socket
 * the table knows, with tracing on. If so, locks the stream (unless the
 * caller holds it: the _unlocked forms) and takes the first look. */
bool st_stdio_begin(struct st_stdio_call *c, FILE *fp, const char *name,
		    enum st_stdio_dir dir, bool lock);

/* The second look, the records, the unlock; preserves errno. moved is
 * what the call took from the program (out) or gave to it (in); the
 * first data_len of those bytes are at data (for the payload preview),
 * the rest not at hand (printf's formatted text, puts's newline). */
void st_stdio_end(struct st_stdio_call *c, size_t moved, const void *data, size_t data_len);

/* The cleanup handler of ST_STDIO_CALL: a thread cancelled inside the
 * call (a blocking read is a cancellation point) must not leave the
 * stream locked at our level; glibc releases its own. */
void st_stdio_cancelled(void *call);

/* Makes the real call between begin and end, cancellation-safe. */
#define ST_STDIO_CALL(c, call) \
	do { \
		pthread_cleanup_push(st_stdio_cancelled, (c)); \
		call; \
		pthread_cleanup_pop(0); \
	} while (0)

/* Flushes, with accounting, every socket stream that has output pending:
 * fflush(NULL) (each stream locked, as glibc does) and exit (at_exit: a
 * stream another thread holds is left to glibc's own flush, which takes
 * no locks). Returns false if a flush failed, with its errno in *err. */
bool st_stdio_flush_sockets(bool at_exit, int *err);

#endif
