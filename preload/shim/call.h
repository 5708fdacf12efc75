/* What every hook does around the real call: time it, encode its record
 * and hand it to the writer, with errno exactly as the real call left it.
 * (The clock is clock.c's, what the kernel is asked about descriptors
 * fdlearn.c's.) */
#ifndef SOCKTRACE_CALL_H
#define SOCKTRACE_CALL_H

#include "calls.h"
#include "event.h"
#include "fault.h"
#include "writer.h"
#include "fdlearn.h"
#include "intern.h"
#include "recframe.h"
#include "shim.h"

#include <errno.h>
#include <sys/uio.h>

struct st_rec {
	struct st_ev_head h;
	struct rb b;
	bool faulted;
	bool replaced;  /* a fault made the result: the real call was not made */
	/* Endpoints and strings this record defines (intern.h): remembered
	 * once it is written. */
	struct st_interns interns;
	/* The frame: the body at ST_FRAME_HEAD_MAX, room for the check. */
	uint8_t buf[ST_FRAME_HEAD_MAX + ST_EV_MAX + ST_FRAME_TAIL];
};

/* Starts the record of a call that ran from t0 to t1 and returned ret,
 * with err the errno it left (ignored unless it failed), reached through
 * via. t1 is taken right after the real call so that dur leaves out the
 * shim's own bookkeeping. */
void st_rec_begin(struct st_rec *r, enum st_fn fn, int fd, uint64_t t0,
		  uint64_t t1, int64_t ret, int err, enum st_via via);
/* For calls whose failure is not errno (getaddrinfo's EAI_* codes). */
void st_rec_begin_named(struct st_rec *r, enum st_fn fn, int fd, uint64_t t0,
			uint64_t t1, int64_t ret, const char *err_name);
/* Adds the endpoints known for fd (if any), closes and writes the record. */
void st_rec_emit(struct st_rec *r, int addr_fd);
/* Same with endpoints taken earlier (close: the fd is gone by now). */
void st_rec_emit_snap(struct st_rec *r, const struct st_fdsnap *snap);

/* The "fault" object, when a rule acted on the call. */
static inline void st_rec_fault(struct st_rec *r, const struct st_fault *f)
{
	if (f->rule) {
		st_fault_rec(&r->b, &r->interns, f);
		r->faulted = true;
		r->replaced = f->replaced;
	}
}

/* Common argument fields. */
void st_rec_msgflags(struct st_rec *r, enum st_field f, int flags);
void st_rec_payload(struct st_rec *r, const void *buf, ssize_t n);
void st_rec_payload_iov(struct st_rec *r, const struct iovec *iov, size_t iovcnt,
			ssize_t n);

size_t st_iov_total(const struct iovec *iov, size_t n);

#endif
