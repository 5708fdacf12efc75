#include "stdio_acct.h"

#include "call.h"
#include "fdtable.h"
#include "real.h"

#include <errno.h>
#include <string.h>

/* glibc's list of open streams and its lock (exported, not declared in
 * its headers since libio.h went): fflush(NULL) and exit walk it. */
extern FILE *_IO_list_all;
void _IO_list_lock(void);
void _IO_list_unlock(void);

static size_t pending_out(const FILE *fp)
{
	return fp->_IO_write_ptr > fp->_IO_write_base
		       ? (size_t)(fp->_IO_write_ptr - fp->_IO_write_base)
		       : 0;
}

static size_t buffered_in(const FILE *fp)
{
	return fp->_IO_read_end > fp->_IO_read_ptr
		       ? (size_t)(fp->_IO_read_end - fp->_IO_read_ptr)
		       : 0;
}

/* A stream whose bytes go straight to a socket's descriptor: not a
 * memory or cookie stream (no descriptor), not a wide one (its buffer is
 * elsewhere). */
static bool on_socket(FILE *fp)
{
	return fp->_fileno >= 0 && fp->_mode <= 0 && st_fd_is_socket(fp->_fileno);
}

/* The first look, with the stream locked (by us or by the caller). */
static void first_look(struct st_stdio_call *c, FILE *fp, const char *name,
		       enum st_stdio_dir dir, bool locked)
{
	c->fp = fp;
	c->name = name;
	c->dir = dir;
	c->locked = locked;
	c->fd = fp->_fileno;
	c->flags0 = fp->_flags & (_IO_EOF_SEEN | _IO_ERR_SEEN);
	c->before = dir == ST_STDIO_OUT ? pending_out(fp) : buffered_in(fp);
	c->head_len = 0;
	/* Pending bytes are written over once the buffer is flushed and
	 * filled again: keep what the preview shows of them. */
	if (dir == ST_STDIO_OUT && st_shim.cfg.payload && c->before) {
		c->head_len = c->before < st_shim.cfg.payload ? c->before : st_shim.cfg.payload;
		memcpy(c->head, fp->_IO_write_base, c->head_len);
	}
	c->t0 = st_time_start();
}

bool st_stdio_begin(struct st_stdio_call *c, FILE *fp, const char *name,
		    enum st_stdio_dir dir, bool lock)
{
	/* st_enter_call first: it binds the real functions. */
	if (!st_enter_call(false) || !fp || !on_socket(fp))
		return false;
	if (lock)
		flockfile(fp);
	first_look(c, fp, name, dir, lock);
	return true;
}

void st_stdio_cancelled(void *call)
{
	struct st_stdio_call *c = call;

	if (c->locked)
		funlockfile(c->fp);
}

static void record(const struct st_stdio_call *c, enum st_fn fn, uint64_t t0, uint64_t t1,
		   int64_t ret, int err, size_t len, const struct iovec *iov, size_t iovcnt)
{
	struct st_rec r;

	st_rec_begin(&r, fn, c->fd, t0, t1, ret, err, ST_VIA_STDIO);
	rb_cname(&r.b, ST_F_stdio, c->name);
	if (fn == ST_FN_write)
		rb_i64(&r.b, ST_F_len, (int64_t)len);
	if (ret > 0) {
		rb_i64(&r.b, ST_F_bytes, ret);
		st_rec_payload_iov(&r, iov, iovcnt, ret);
	} else if (ret == 0) {
		rb_i64(&r.b, ST_F_bytes, 0);
	}
	st_rec_emit(&r, c->fd);
}

/* Sent: the pending bytes first, then the start of the call's own. */
static void end_out(const struct st_stdio_call *c, uint64_t t1, int err, int seen,
		    size_t moved, const void *data, size_t data_len, size_t after)
{
	size_t total = c->before + moved;
	size_t sent = total > after ? total - after : 0;
	struct iovec iov[2] = { { (void *)c->head, c->head_len } };
	size_t iovcnt = 1;

	if (data && c->head_len == c->before && sent > c->before) {
		size_t own = sent - c->before;
		iov[1].iov_base = (void *)data;
		iov[1].iov_len = own < data_len ? own : data_len;
		iovcnt = 2;
	}
	/* A write that failed: glibc drops the buffer, and how much of it
	 * the kernel took first is not known. One failed record for it, its
	 * len the bytes stdio tried to write. */
	if (seen & _IO_ERR_SEEN)
		record(c, ST_FN_write, c->t0, t1, -1, err, sent, NULL, 0);
	else if (sent)
		record(c, ST_FN_write, c->t0, t1, (int64_t)sent, 0, sent, iov, iovcnt);
}

/* Received: the end of what the call gave, then what it left buffered
 * (the bytes buffered before came first, and were counted when read). */
static void end_in(const struct st_stdio_call *c, uint64_t t1, int err, int seen,
		   size_t moved, const void *data, size_t data_len, size_t after)
{
	size_t have = moved + after;
	size_t received = have > c->before ? have - c->before : 0;
	size_t from_buf = received < after ? received : after;
	size_t from_data = received - from_buf;
	struct iovec iov[2];
	size_t iovcnt = 0;
	bool whole = true;

	if (from_data) {
		size_t skip = moved - from_data;
		size_t known = data && data_len > skip ? data_len - skip : 0;
		if (known > from_data)
			known = from_data;
		if (known) {
			iov[iovcnt].iov_base = (char *)data + skip;
			iov[iovcnt++].iov_len = known;
		}
		whole = known == from_data;
	}
	/* The preview holds only bytes in their order, without a gap. */
	if (from_buf && whole) {
		iov[iovcnt].iov_base = c->fp->_IO_read_end - from_buf;
		iov[iovcnt++].iov_len = from_buf;
	}
	if (received)
		record(c, ST_FN_read, c->t0, t1, (int64_t)received, 0, 0, iov, iovcnt);
	/* glibc's end of file is sticky: the bit newly set means that a
	 * read returned 0, the peer's end of stream. */
	if (seen & _IO_EOF_SEEN)
		record(c, ST_FN_read, t1, t1, 0, 0, 0, NULL, 0);
	if (seen & _IO_ERR_SEEN)
		record(c, ST_FN_read, t1, t1, -1, err, 0, NULL, 0);
}

void st_stdio_end(struct st_stdio_call *c, size_t moved, const void *data, size_t data_len)
{
	int err = errno;
	uint64_t t1 = st_time_end();
	FILE *fp = c->fp;
	int seen = fp->_flags & (_IO_EOF_SEEN | _IO_ERR_SEEN) & ~c->flags0;
	size_t after = c->dir == ST_STDIO_OUT ? pending_out(fp) : buffered_in(fp);
	bool moved_bytes = c->dir == ST_STDIO_OUT ? c->before + moved != after
						  : moved + after != c->before;

	/* Recorded before the stream is unlocked, so that records of calls
	 * on one stream keep the calls' order. A number the table still
	 * calls a socket but that went to a file behind our back (its close
	 * unseen) is not reported as the socket. */
	if ((moved_bytes || seen) && st_tracing_on() && st_fd_still_socket(c->fd)) {
		if (c->dir == ST_STDIO_OUT)
			end_out(c, t1, err, seen, moved, data, data_len, after);
		else
			end_in(c, t1, err, seen, moved, data, data_len, after);
	}
	if (c->locked)
		funlockfile(fp);
	errno = err;
}

/* One stream's flush, the stream locked by the caller. */
static bool flush_one(FILE *fp, const char *name, int *err)
{
	struct st_stdio_call c;
	int ret;

	/* Looked at again under the lock: a stream that has turned to
	 * reading would seek (ESPIPE), a call the program did not make. */
	if (!pending_out(fp))
		return true;
	first_look(&c, fp, name, ST_STDIO_OUT, false);
	ST_STDIO_CALL(&c, ret = real_fflush_unlocked(fp));
	if (ret != 0)
		*err = errno;
	st_stdio_end(&c, 0, NULL, 0);
	return ret == 0;
}

static void unlock_stream(void *fp)
{
	funlockfile(fp);
}

static void list_unlock(void *unused)
{
	(void)unused;
	_IO_list_unlock();
}

/* One listed stream with output pending. Not inlined: each cleanup
 * region stays in a function of its own, where no variable lives across
 * the longjmp of a cancellation. */
__attribute__((noinline)) static bool flush_listed_one(FILE *fp, bool at_exit, int *err)
{
	bool ok;

	if (at_exit) {
		if (ftrylockfile(fp) != 0)
			return true;
	} else {
		flockfile(fp);
	}
	pthread_cleanup_push(unlock_stream, fp);
	ok = flush_one(fp, at_exit ? "exit" : "fflush", err);
	pthread_cleanup_pop(1);
	return ok;
}

/* The streams in glibc's list, the list locked. */
__attribute__((noinline)) static bool flush_listed(bool at_exit, int *err)
{
	bool ok = true;

	for (FILE *fp = _IO_list_all; fp; fp = fp->_chain) {
		/* A first look without the lock, to pass by the streams with
		 * nothing to flush; flush_one looks again, locked. */
		if (pending_out(fp) && on_socket(fp) && !flush_listed_one(fp, at_exit, err))
			ok = false;
	}
	return ok;
}

bool st_stdio_flush_sockets(bool at_exit, int *err)
{
	bool ok = true;

	if (!st_enter_call(false))
		return true;
	_IO_list_lock();
	pthread_cleanup_push(list_unlock, NULL);
	ok = flush_listed(at_exit, err);
	pthread_cleanup_pop(1);
	return ok;
}
