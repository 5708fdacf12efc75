/* Fault injection: the rules in force in this process, and what a hook
 * asks of them around its real call. */
#ifndef SOCKTRACE_FAULT_H
#define SOCKTRACE_FAULT_H

#include "calls.h"
#include "ctlfile.h"
#include "recbuf.h"
#include "rules.h"
#include "shim.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <netdb.h>
#include <errno.h>

#define ST_RULES_MAX ST_CTL_RULES_MAX
/* corrupt= on a send flips a copy of at most this many bytes: the call
 * becomes a short write when the program sent more. */
#define ST_CORRUPT_SEND_MAX 4096

struct st_fault {
	const struct st_rule *rule; /* NULL: no fault on this call */
	unsigned index;
	unsigned set;         /* the rule set it came from, and its version: */
	uint32_t set_gen;     /* the file writes a rule's texts once per version */
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
	/* A rule set by `socktrace ctl` may be rewritten by a later change
	 * while this call still runs (blocked in recv for an hour): rule then
	 * points at a copy of the acting rule in the thread's own ring
	 * (fault.c), not into the set. Not here: a rule is over 2 KiB, and
	 * every hook keeps a struct st_fault on the program's stack. */
};

/* A bit per enum st_fn that some enabled rule selects: the hot-path test.
 * It is st_hot.fault_fns (shim.h), the first word of the control page,
 * under a name of its own (an alias, ctl.c): hooks then address it and
 * st_active separately, as two globals, and the compiler keeps no base
 * register for the pair (measured: 3 instructions less per call).
 * `socktrace ctl` sets every bit to send the next call of any kind to
 * st_fault_begin, which applies its request. */
extern uint64_t st_fault_fns;
/* Its top bit is `socktrace ctl`'s (ctlfile.h), never a call's. */
_Static_assert(ST_FN_COUNT <= 63, "a call's bit would be ST_CTL_PENDING_BIT");

static inline bool st_fault_may(enum st_fn fn)
{
	return (st_fault_fns >> fn) & 1;
}

/* Reads SOCKTRACE_SCENARIO and SOCKTRACE_FAULTS. A bad rule is reported
 * with FILE:LINE:COL and the program does not start (exit status 125). */
void st_faults_init(void);
/* In the fork child, after st_ctl_after_fork: counts restart. */
void st_faults_after_fork(void);
/* The rules in force at start-up (the trace header lists them). */
size_t st_faults_count(void);
const struct st_rule *st_fault_rule(size_t i);
uint64_t st_faults_seed(void);
bool st_faults_use_host(void);

/* For ctl.c. Rules live in three sets: 0, the start-up rules, never
 * rewritten; 1 and 2, made by `socktrace ctl` changes, in turn. */
unsigned st_faults_active(void);
size_t st_faults_set_count(unsigned set);
const struct st_rule *st_faults_set_rule(unsigned set, size_t i);
bool st_faults_set_enabled(unsigned set, size_t i);
/* The calls the enabled rules of the active set select. */
uint64_t st_faults_fns(void);
/* Where sets 1 and 2 count their calls (the control file), or NULL. */
void st_faults_use_counts(uint64_t (*counts)[ST_RULES_MAX][2]);
/* The first call since a `socktrace ctl` change woke a process that had
 * nothing to do: descriptors it made before are unknown to the fd table. */
void st_faults_discover_fds(void);

enum st_faults_prep {
	ST_FAULTS_READY,   /* *set holds the new rules: commit it */
	ST_FAULTS_REFUSED, /* why says why; nothing changed */
	ST_FAULTS_BUSY,    /* a thread still reads the spare set: try later */
};
/* Parses list (as written by `socktrace ctl`) into the spare set. Rules
 * whose prog= does not match are left out and counted in *left_out. */
enum st_faults_prep st_faults_prepare(const struct st_ctl_rule *list, size_t n, unsigned *set,
				      size_t *left_out, char *why, size_t why_cap);
/* Makes a prepared set the one in force. */
void st_faults_commit(unsigned set);

/* Picks the rule acting on this call, if any, and does what comes before
 * the real call: the delay, and the actions that replace the call. Returns
 * true when the call must not be made (its result is in f->ret, f->err). */
bool st_fault_begin(struct st_fault *f, enum st_fn fn, int fd,
		    const struct sockaddr *addr, socklen_t addrlen, bool addr_is_local,
		    const char *host, int msg_flags, uint64_t t0);
/* The same for a call whose direction depends on its arguments
 * (ST_DATA_BOTH, splice): dir is ST_DATA_OUT when this one writes to the
 * socket, ST_DATA_IN when it reads from it. Rules select it by direction,
 * and hang= waits as a send or as a receive would. */
bool st_fault_begin_dir(struct st_fault *f, enum st_fn fn, enum st_data dir, int fd,
			int msg_flags, uint64_t t0);
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
struct st_interns;
/* The "fault" object; the rule's texts once per trace file (intern.h). */
void st_fault_rec(struct rb *b, struct st_interns *in, const struct st_fault *f);

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
