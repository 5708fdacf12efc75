/* sendfile, sendfile64 and splice: the kernel moves the bytes from one
 * descriptor to another without their passing through the program's
 * memory (nginx's static files, Python's socket.sendfile). Traced only
 * when a socket is one of the two, like read and write: a copy between
 * files costs a table lookup per descriptor that may be the socket and
 * nothing else.
 *
 * Both calls succeed on files as well as on sockets, so nothing in their
 * result would show a descriptor the table still calls a socket after
 * its close went past us (io_uring, a library's own system call) and
 * the number went to a file: as for close and dup, the kernel is asked
 * (st_fd_still_socket, one fstat) before the call is traced as the
 * socket's. It costs little beside a copy of tens of kilobytes or more.
 *
 * No payload: the bytes are never in memory the shim could read, and
 * reading them again from the file afterwards could show what the file
 * holds by then rather than what was sent. With SOCKTRACE_PAYLOAD the
 * record says so with data_cut (every byte moved, none shown). For the
 * same reason corrupt= cannot act on these calls (rules.c refuses it). */
#include "call.h"
#include "fdtable.h"
#include "hooks.h"
#include "names.h"
#include "real.h"

#include <fcntl.h>
#include <sys/sendfile.h>

/* Bytes moved that the record cannot show. */
static void rec_unseen_payload(struct st_rec *r, ssize_t bytes)
{
	if (st_shim.cfg.payload && bytes > 0)
		rb_i64(&r->b, ST_F_data_cut, bytes);
}

/* sendfile's in_fd is never a socket (the kernel reads only from files
 * it can seek: a socket gives EINVAL), so only out_fd is looked up. The
 * two symbols differ in the width of *offset on 32-bit systems alone. */
ssize_t st_sendfile(enum st_fn fn, int out_fd, int in_fd, off_t *off, off64_t *off64,
		    size_t count, enum st_via via)
{
	uint64_t t0, t1;
	ssize_t ret;
	int err;
	struct st_fault f;
	struct st_rec r;
	bool has_off = fn == ST_FN_sendfile ? off != NULL : off64 != NULL;

#define CALL_REAL(n) (fn == ST_FN_sendfile ? real_sendfile(out_fd, in_fd, off, n) \
					   : real_sendfile64(out_fd, in_fd, off64, n))
	if (!st_enter_call(st_fault_may(fn)) || !st_fd_is_socket(out_fd) ||
	    !st_fd_still_socket(out_fd))
		return CALL_REAL(count);
	t0 = st_time_start();
	f.rule = NULL;
	if (st_fault_may(fn) && st_fault_begin(&f, fn, out_fd, NULL, 0, false, NULL, 0, t0)) {
		ret = f.ret;
		err = f.err;
	} else {
		ret = CALL_REAL(st_fault_len(&f, count));
		err = errno;
		st_fault_end(&f, out_fd, ret);
	}
#undef CALL_REAL
	t1 = st_time_end();
	if (st_tracing_on()) {
		st_rec_begin(&r, fn, out_fd, t0, t1, ret, err, via);
		rb_i64(&r.b, ST_F_in_fd, in_fd);
		/* The offset the copy started from. Read after the call, where
		 * the kernel has left it advanced by the bytes moved: the
		 * pointer is then known to be good, unless the call made here
		 * failed with EFAULT (or did not run). */
		if (has_off && !(f.rule && f.replaced) && (ret >= 0 || err != EFAULT)) {
			int64_t after = fn == ST_FN_sendfile ? (int64_t)*off : (int64_t)*off64;
			rb_i64(&r.b, ST_F_offset, after - (ret > 0 ? ret : 0));
		}
		rb_i64(&r.b, ST_F_len, (int64_t)count);
		if (ret >= 0)
			rb_i64(&r.b, ST_F_bytes, ret);
		rec_unseen_payload(&r, ret);
		st_rec_fault(&r, &f);
		st_rec_emit(&r, out_fd);
	}
	errno = err;
	return ret;
}

ST_EXPORT ssize_t sendfile(int out_fd, int in_fd, off_t *offset, size_t count)
{
	return st_sendfile(ST_FN_sendfile, out_fd, in_fd, offset, NULL, count, ST_VIA_NONE);
}

ST_EXPORT ssize_t sendfile64(int out_fd, int in_fd, off64_t *offset, size_t count)
{
	return st_sendfile(ST_FN_sendfile64, out_fd, in_fd, NULL, offset, count, ST_VIA_NONE);
}

/* One end of a splice is a pipe, so at most one is a socket: written when
 * it is fd_out ("dir":"out", a send), read when it is fd_in ("dir":"in",
 * a receive). The socket's offset must be NULL (ESPIPE otherwise), and
 * so must the pipe's: there is no offset to record. */
ssize_t st_splice(int fd_in, loff_t *off_in, int fd_out, loff_t *off_out, size_t len,
		  unsigned flags, enum st_via via)
{
	uint64_t t0, t1;
	ssize_t ret;
	int err, sock, other;
	enum st_data dir;
	struct st_fault f;
	struct st_rec r;

	if (!st_enter_call(st_fault_may(ST_FN_splice)))
		return real_splice(fd_in, off_in, fd_out, off_out, len, flags);
	if (st_fd_is_socket(fd_out) && st_fd_still_socket(fd_out)) {
		sock = fd_out;
		other = fd_in;
		dir = ST_DATA_OUT;
	} else if (st_fd_is_socket(fd_in) && st_fd_still_socket(fd_in)) {
		sock = fd_in;
		other = fd_out;
		dir = ST_DATA_IN;
	} else {
		return real_splice(fd_in, off_in, fd_out, off_out, len, flags);
	}
	t0 = st_time_start();
	f.rule = NULL;
	/* SPLICE_F_NONBLOCK concerns the pipe: whether the socket's side
	 * waits is its own O_NONBLOCK, which the fault engine asks. */
	if (st_fault_may(ST_FN_splice) && st_fault_begin_dir(&f, ST_FN_splice, dir, sock, 0, t0)) {
		ret = f.ret;
		err = f.err;
	} else {
		ret = real_splice(fd_in, off_in, fd_out, off_out, st_fault_len(&f, len), flags);
		err = errno;
		st_fault_end(&f, sock, ret);
	}
	t1 = st_time_end();
	if (st_tracing_on()) {
		st_rec_begin(&r, ST_FN_splice, sock, t0, t1, ret, err, via);
		rb_cname(&r.b, ST_F_dir, dir == ST_DATA_OUT ? "out" : "in");
		rb_i64(&r.b, dir == ST_DATA_OUT ? ST_F_fd_in : ST_F_fd_out, other);
		rb_i64(&r.b, ST_F_len, (int64_t)len);
		if (flags) {
			char names[96];
			size_t n = st_spliceflags_str(names, sizeof(names), flags);
			rb_name(&r.b, ST_F_flags, names, n);
		}
		if (ret >= 0)
			rb_i64(&r.b, ST_F_bytes, ret);
		rec_unseen_payload(&r, ret);
		st_rec_fault(&r, &f);
		st_rec_emit(&r, sock);
	}
	errno = err;
	return ret;
}

ST_EXPORT ssize_t splice(int fd_in, loff_t *off_in, int fd_out, loff_t *off_out, size_t len,
			 unsigned flags)
{
	return st_splice(fd_in, off_in, fd_out, off_out, len, flags, ST_VIA_NONE);
}
