/* Fault injection: the rules in force in this process, and what a hook
 * asks of them around its real call. */
#ifndef SOCKTRACE_FAULT_H
#define SOCKTRACE_FAULT_H

#include "calls.h"
#include "jsonw.h"
#include "rules.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <netdb.h>
#include <errno.h>

#define ST_RULES_MAX 128
/* corrupt= on a send flips a copy of at most this many bytes: the call
 * becomes a short write when the program sent more. */
#define ST_CORRUPT_SEND_MAX 4096

struct st_fault {
	const struct st_rule *rule; /* NULL: no fault on this call */
	unsigned index;
	uint64_t nth;
	const char *action;   /* "error", "delay", "short", ... */
	bool replaced;        /* the real call was not made */
	int64_t ret;          /* result of a replaced call */
	int err;
	uint64_t delayed_ns;
	uint64_t waited_ns;   /* hang, bandwidth */
	size_t asked;         /* length before short= or bandwidth= */
	size_t allowed;
	uint32_t flipped;
};

/* A bit per enum st_fn that some rule selects: the hot-path test. */
extern uint64_t st_fault_fns;

static inline bool st_fault_may(enum st_fn fn)
{
	return (st_fault_fns >> fn) & 1;
}

/* Reads SOCKTRACE_SCENARIO and SOCKTRACE_FAULTS. A bad rule is reported
 * with FILE:LINE:COL and the program does not start (exit status 125). */
void st_faults_init(void);
void st_faults_after_fork(void);
size_t st_faults_count(void);
const struct st_rule *st_fault_rule(size_t i);
uint64_t st_faults_seed(void);
bool st_faults_use_host(void);

/* Picks the rule acting on this call, if any, and does what comes before
 * the real call: the delay, and the actions that replace the call. Returns
 * true when the call must not be made (its result is in f->ret, f->err). */
bool st_fault_begin(struct st_fault *f, enum st_fn fn, int fd,
		    const struct sockaddr *addr, socklen_t addrlen, bool addr_is_local,
		    const char *host, int msg_flags, uint64_t t0);
/* Whether the rule acting on the call changes the data it moves. */
static inline bool st_fault_shapes_data(const struct st_fault *f)
{
	return f->rule && (f->rule->short_bytes > 0 || f->rule->bandwidth ||
			   f->rule->corrupt_count || f->rule->corrupt_rate > 0);
}

/* Data calls: the length to hand to the real call (short=, bandwidth=). */
size_t st_fault_len(struct st_fault *f, size_t len);
/* The same for a vector: fills out[] with a shortened copy of iov. */
size_t st_fault_iov(struct st_fault *f, const struct iovec *iov, size_t cnt,
		    struct iovec *out, size_t out_cap);
/* Bytes received: corrupt= flips some of them. */
void st_fault_received(struct st_fault *f, void *buf, ssize_t n);
void st_fault_received_iov(struct st_fault *f, const struct iovec *iov, size_t cnt, ssize_t n);
/* Bytes to send: corrupt= sends a flipped copy held in scratch. */
const void *st_fault_sending(struct st_fault *f, const void *buf, size_t *len, void *scratch);
/* After a data call moved bytes: bandwidth= accounts for them. */
void st_fault_end(struct st_fault *f, int fd, ssize_t bytes);
/* getaddrinfo results, remembered so host= can select later connects. */
void st_fault_note_resolved(const char *host, const struct addrinfo *res);
/* The "fault" object of the call's event. */
void st_fault_json(struct jw *w, const struct st_fault *f);

/* Runs `call` unless a fault replaces it; either way ret and err hold the
 * result and its errno. Hooks use it around their real call. */
#define ST_CALL_OR_FAULT(f_, fn_, fd_, addr_, addrlen_, addr_is_local_, flags_, t0_, \
			 ret_, err_, call_) \
	do { \
		(f_).rule = NULL; \
		if (st_fault_may(fn_) && st_fault_begin(&(f_), fn_, fd_, addr_, addrlen_, \
							addr_is_local_, NULL, flags_, t0_)) { \
			ret_ = (f_).ret; \
			err_ = (f_).err; \
		} else { \
			ret_ = call_; \
			err_ = errno; \
		} \
	} while (0)

#endif
