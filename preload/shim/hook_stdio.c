/* stdio on sockets: fdopen(sock) then fprintf, fwrite, fputs, fflush,
 * fgets, fread, getline ... (and stdin or stdout when they are sockets,
 * as in programs started by inetd or git daemon). glibc's stdio moves
 * the bytes with its own internal system calls, which no hook sees; each
 * stdio function that may write or read the descriptor is wrapped, and
 * what it moved is recorded as "write" or "read" with "via":"stdio" and
 * "stdio" the function (stdio_acct.h says how the bytes are counted).
 * fclose is recorded as the socket's close.
 *
 * A stream on anything but a known socket costs one look at the fd
 * table. The bytes are traced, not faulted: the system call is made
 * inside libc, past the reach of a rule. Not covered: wide-character
 * functions, the scanf family, and glibc's flush at exit of a stream
 * another thread holds locked (docs/guarantees.md, "Known limits"). */
#include <features.h>
/* Our definitions of getc_unlocked, putchar and the others, not the
 * header's inline ones. */
#undef __USE_EXTERN_INLINES

#include "call.h"
#include "fdtable.h"
#include "real.h"
#include "shim.h"
#include "stdio_acct.h"

#include <stdarg.h>
#include <string.h>

int __fprintf_chk(FILE *fp, int flag, const char *fmt, ...);
int __vfprintf_chk(FILE *fp, int flag, const char *fmt, va_list ap);
int __printf_chk(int flag, const char *fmt, ...);
int __vprintf_chk(int flag, const char *fmt, va_list ap);
int __dprintf_chk(int fd, int flag, const char *fmt, ...);
int __vdprintf_chk(int fd, int flag, const char *fmt, va_list ap);
size_t __fread_chk(void *buf, size_t buflen, size_t size, size_t n, FILE *fp);
size_t __fread_unlocked_chk(void *buf, size_t buflen, size_t size, size_t n, FILE *fp);
char *__fgets_chk(char *s, size_t size, int n, FILE *fp);
char *__fgets_unlocked_chk(char *s, size_t size, int n, FILE *fp);
int __overflow(FILE *fp, int ch);
int __uflow(FILE *fp);
int __underflow(FILE *fp);

#define LOCKED true
#define UNLOCKED false

/* A real function handed to a helper: bound first. A hook may run from
 * another library's constructor before ours (libselinux's reads
 * /proc/filesystems with getline), when the pointers are still NULL. */
#define BOUND(name) (st_ensure_init(), real_##name)

/* fwrite and fread move one request of size * n bytes (wrapping as
 * glibc's own product does) and return n when all of it moved, else the
 * whole items moved. Made with size 1, they return the bytes moved,
 * partial last item included, and the program gets what glibc would
 * have given it. */
static size_t items(size_t got, size_t request, size_t size, size_t n)
{
	return got == request ? n : got / size;
}

/* ---- output ---- */

static size_t write_items(size_t (*real)(const void *, size_t, size_t, FILE *),
			  const char *name, bool lock, const void *buf, size_t size, size_t n,
			  FILE *fp)
{
	struct st_stdio_call c;
	size_t request = size * n, got;

	if (request == 0 || !st_stdio_begin(&c, fp, name, ST_STDIO_OUT, lock))
		return real(buf, size, n, fp);
	ST_STDIO_CALL(&c, got = real(buf, 1, request, fp));
	st_stdio_end(&c, got, buf, got);
	return items(got, request, size, n);
}

ST_EXPORT size_t fwrite(const void *buf, size_t size, size_t n, FILE *fp)
{
	return write_items(BOUND(fwrite), "fwrite", LOCKED, buf, size, n, fp);
}

ST_EXPORT size_t fwrite_unlocked(const void *buf, size_t size, size_t n, FILE *fp)
{
	return write_items(BOUND(fwrite_unlocked), "fwrite", UNLOCKED, buf, size, n, fp);
}

static int put_string(int (*real)(const char *, FILE *), const char *name, bool lock,
		      const char *s, FILE *fp)
{
	struct st_stdio_call c;
	int ret;

	if (!st_stdio_begin(&c, fp, name, ST_STDIO_OUT, lock))
		return real(s, fp);
	ST_STDIO_CALL(&c, ret = real(s, fp));
	size_t len = strlen(s);
	st_stdio_end(&c, len, s, len);
	return ret;
}

ST_EXPORT int fputs(const char *s, FILE *fp)
{
	return put_string(BOUND(fputs), "fputs", LOCKED, s, fp);
}

ST_EXPORT int fputs_unlocked(const char *s, FILE *fp)
{
	return put_string(BOUND(fputs_unlocked), "fputs", UNLOCKED, s, fp);
}

ST_EXPORT int puts(const char *s)
{
	struct st_stdio_call c;
	int ret;

	if (!st_stdio_begin(&c, stdout, "puts", ST_STDIO_OUT, LOCKED))
		return real_puts(s);
	ST_STDIO_CALL(&c, ret = real_puts(s));
	/* The newline that follows s is not at hand for the preview. */
	size_t len = strlen(s);
	st_stdio_end(&c, ret == EOF ? len : len + 1, s, len);
	return ret;
}

static int put_char(int (*real)(int, FILE *), const char *name, bool lock, int ch, FILE *fp)
{
	struct st_stdio_call c;
	int ret;
	unsigned char byte = (unsigned char)ch;

	if (!st_stdio_begin(&c, fp, name, ST_STDIO_OUT, lock))
		return real(ch, fp);
	ST_STDIO_CALL(&c, ret = real(ch, fp));
	st_stdio_end(&c, ret != EOF, &byte, ret != EOF);
	return ret;
}

ST_EXPORT int fputc(int ch, FILE *fp)
{
	return put_char(BOUND(fputc), "fputc", LOCKED, ch, fp);
}

ST_EXPORT int putc(int ch, FILE *fp)
{
	return put_char(BOUND(putc), "putc", LOCKED, ch, fp);
}

ST_EXPORT int fputc_unlocked(int ch, FILE *fp)
{
	return put_char(BOUND(fputc_unlocked), "fputc", UNLOCKED, ch, fp);
}

ST_EXPORT int putc_unlocked(int ch, FILE *fp)
{
	return put_char(BOUND(putc_unlocked), "putc", UNLOCKED, ch, fp);
}

static int putchar_locked(int ch, FILE *fp)
{
	(void)fp;
	return real_putchar(ch);
}

static int putchar_nolock(int ch, FILE *fp)
{
	(void)fp;
	return real_putchar_unlocked(ch);
}

ST_EXPORT int putchar(int ch)
{
	return put_char(putchar_locked, "putchar", LOCKED, ch, stdout);
}

ST_EXPORT int putchar_unlocked(int ch)
{
	return put_char(putchar_nolock, "putchar", UNLOCKED, ch, stdout);
}

/* Called by the header's inline putc_unlocked when the buffer is full
 * (ch EOF: a flush only), with or without the lock held. */
ST_EXPORT int __overflow(FILE *fp, int ch)
{
	struct st_stdio_call c;
	int ret;
	unsigned char byte = (unsigned char)ch;

	if (!st_stdio_begin(&c, fp, "putc", ST_STDIO_OUT, UNLOCKED))
		return real___overflow(fp, ch);
	ST_STDIO_CALL(&c, ret = real___overflow(fp, ch));
	bool took = ch != EOF && ret != EOF;
	st_stdio_end(&c, took, &byte, took);
	return ret;
}

/* flag < 0: the plain vfprintf; else __vfprintf_chk's flag. */
static int print(const char *name, FILE *fp, int flag, const char *fmt, va_list ap)
{
	struct st_stdio_call c;
	int ret;

#define CALL_REAL() (flag < 0 ? real_vfprintf(fp, fmt, ap) : real___vfprintf_chk(fp, flag, fmt, ap))
	if (!st_stdio_begin(&c, fp, name, ST_STDIO_OUT, LOCKED))
		return CALL_REAL();
	ST_STDIO_CALL(&c, ret = CALL_REAL());
#undef CALL_REAL
	/* The formatted text is not at hand: the preview shows the bytes
	 * that were pending before, and data_cut counts the rest. */
	st_stdio_end(&c, ret > 0 ? (size_t)ret : 0, NULL, 0);
	return ret;
}

ST_EXPORT int vfprintf(FILE *fp, const char *fmt, va_list ap)
{
	return print("fprintf", fp, -1, fmt, ap);
}

ST_EXPORT int __vfprintf_chk(FILE *fp, int flag, const char *fmt, va_list ap)
{
	return print("fprintf", fp, flag, fmt, ap);
}

ST_EXPORT int vprintf(const char *fmt, va_list ap)
{
	return print("printf", stdout, -1, fmt, ap);
}

ST_EXPORT int __vprintf_chk(int flag, const char *fmt, va_list ap)
{
	return print("printf", stdout, flag, fmt, ap);
}

ST_EXPORT int fprintf(FILE *fp, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = print("fprintf", fp, -1, fmt, ap);
	va_end(ap);
	return ret;
}

ST_EXPORT int __fprintf_chk(FILE *fp, int flag, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = print("fprintf", fp, flag, fmt, ap);
	va_end(ap);
	return ret;
}

ST_EXPORT int printf(const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = print("printf", stdout, -1, fmt, ap);
	va_end(ap);
	return ret;
}

ST_EXPORT int __printf_chk(int flag, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = print("printf", stdout, flag, fmt, ap);
	va_end(ap);
	return ret;
}

/* dprintf formats into a stream of its own on the descriptor and flushes
 * it before returning: all of ret went out, or the call failed. */
static int dprint(int fd, int flag, const char *fmt, va_list ap)
{
	uint64_t t0, t1;
	int ret, err;
	struct st_rec r;

#define CALL_REAL() (flag < 0 ? real_vdprintf(fd, fmt, ap) : real___vdprintf_chk(fd, flag, fmt, ap))
	if (!st_enter_call(false) || !st_fd_is_socket(fd))
		return CALL_REAL();
	t0 = st_time_start();
	ret = CALL_REAL();
#undef CALL_REAL
	err = errno;
	t1 = st_time_end();
	if (st_tracing_on() && st_fd_still_socket(fd)) {
		st_rec_begin(&r, ST_FN_write, fd, t0, t1, ret, err, ST_VIA_STDIO);
		rb_cname(&r.b, ST_F_stdio, "dprintf");
		if (ret >= 0) {
			rb_i64(&r.b, ST_F_len, ret);
			rb_i64(&r.b, ST_F_bytes, ret);
			st_rec_payload_iov(&r, NULL, 0, ret);
		}
		st_rec_emit(&r, fd);
	}
	errno = err;
	return ret;
}

ST_EXPORT int vdprintf(int fd, const char *fmt, va_list ap)
{
	return dprint(fd, -1, fmt, ap);
}

ST_EXPORT int __vdprintf_chk(int fd, int flag, const char *fmt, va_list ap)
{
	return dprint(fd, flag, fmt, ap);
}

ST_EXPORT int dprintf(int fd, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = dprint(fd, -1, fmt, ap);
	va_end(ap);
	return ret;
}

ST_EXPORT int __dprintf_chk(int fd, int flag, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = dprint(fd, flag, fmt, ap);
	va_end(ap);
	return ret;
}

static int flush(int (*real)(FILE *), bool lock, FILE *fp)
{
	struct st_stdio_call c;
	int ret, err = 0;

	/* Every stream: glibc flushes them from inside, so the sockets'
	 * are flushed here first, each with its record. The result is the
	 * one glibc would give: EOF if any flush failed. */
	if (!fp) {
		bool ok = st_stdio_flush_sockets(false, &err);
		ret = real(NULL);
		if (!ok && ret == 0) {
			errno = err;
			ret = EOF;
		}
		return ret;
	}
	if (!st_stdio_begin(&c, fp, "fflush", ST_STDIO_OUT, lock))
		return real(fp);
	ST_STDIO_CALL(&c, ret = real(fp));
	st_stdio_end(&c, 0, NULL, 0);
	return ret;
}

ST_EXPORT int fflush(FILE *fp)
{
	return flush(BOUND(fflush), LOCKED, fp);
}

ST_EXPORT int fflush_unlocked(FILE *fp)
{
	return flush(BOUND(fflush_unlocked), UNLOCKED, fp);
}

/* A seek flushes pending output first (then fails on a socket: ESPIPE). */
#define SEEK_HOOK(name, off_type) \
	ST_EXPORT int name(FILE *fp, off_type off, int whence) \
	{ \
		struct st_stdio_call c; \
		int ret; \
		if (!st_stdio_begin(&c, fp, #name, ST_STDIO_OUT, LOCKED)) \
			return real_##name(fp, off, whence); \
		ST_STDIO_CALL(&c, ret = real_##name(fp, off, whence)); \
		st_stdio_end(&c, 0, NULL, 0); \
		return ret; \
	}
SEEK_HOOK(fseek, long)
SEEK_HOOK(fseeko, off_t)
SEEK_HOOK(fseeko64, off64_t)

/* fclose flushes what is pending, then closes: the flush is made first,
 * recorded, with the lock held; the close is the socket's close. The
 * result is fclose's own: EOF if the flush failed, with its errno,
 * unless the close failed too (then the close's). */
ST_EXPORT int fclose(FILE *fp)
{
	struct st_stdio_call c;
	struct st_fdsnap snap;
	struct st_rec r;
	uint64_t t0, t1;
	int fd, ret, err, flush_err = 0;
	bool flushed = true, traced;
	uint32_t version;

	if (!st_enter() || !fp || fp->_fileno < 0)
		return real_fclose(fp);
	fd = fp->_fileno;
	/* Traced, a socket never seen (inherited) is asked about: its close
	 * is a record. Otherwise only the table's sockets are forgotten. */
	if (!(st_tracing_on() ? st_fd_is_socket(fd) : st_fd_kind(fd) == ST_FD_SOCKET))
		return real_fclose(fp);
	traced = st_tracing_on() && st_fd_still_socket(fd) && st_fd_snapshot_full(fd, &snap);
	/* fclose flushes only a stream that is writing: a flush of one that
	 * is reading would seek, a system call fclose does not make. */
	if (traced && st_stdio_begin(&c, fp, "fclose", ST_STDIO_OUT, LOCKED)) {
		int fret = 0;
		if (c.before)
			ST_STDIO_CALL(&c, fret = real_fflush_unlocked(fp));
		flushed = fret == 0;
		flush_err = errno;
		st_stdio_end(&c, 0, NULL, 0);
	}
	version = st_fd_version(fd);
	t0 = st_time_start();
	ret = real_fclose(fp);
	err = errno;
	t1 = st_time_end();
	if (ret == 0 && !flushed) {
		ret = EOF;
		err = flush_err;
	}
	/* Linux frees the number even when close fails. */
	st_fd_forget_if_unchanged(fd, version);
	if (traced) {
		st_rec_begin(&r, ST_FN_close, fd, t0, t1, ret, err, ST_VIA_STDIO);
		rb_cname(&r.b, ST_F_stdio, "fclose");
		st_rec_emit_snap(&r, &snap);
	}
	errno = err;
	return ret;
}

/* ---- input ---- */

static size_t read_items(size_t (*real)(void *, size_t, size_t, FILE *), const char *name,
			 bool lock, void *buf, size_t size, size_t n, FILE *fp)
{
	struct st_stdio_call c;
	size_t request = size * n, got;

	if (request == 0 || !st_stdio_begin(&c, fp, name, ST_STDIO_IN, lock))
		return real(buf, size, n, fp);
	ST_STDIO_CALL(&c, got = real(buf, 1, request, fp));
	st_stdio_end(&c, got, buf, got);
	return items(got, request, size, n);
}

ST_EXPORT size_t fread(void *buf, size_t size, size_t n, FILE *fp)
{
	return read_items(BOUND(fread), "fread", LOCKED, buf, size, n, fp);
}

ST_EXPORT size_t fread_unlocked(void *buf, size_t size, size_t n, FILE *fp)
{
	return read_items(BOUND(fread_unlocked), "fread", UNLOCKED, buf, size, n, fp);
}

/* The fortified forms check that size * n neither wraps nor passes the
 * buffer; a request that would fail the check goes to them untouched. */
static size_t read_items_chk(size_t (*real)(void *, size_t, size_t, size_t, FILE *),
			     bool lock, void *buf, size_t buflen, size_t size, size_t n, FILE *fp)
{
	struct st_stdio_call c;
	size_t request, got;

	if (__builtin_mul_overflow(size, n, &request) || request > buflen || request == 0 ||
	    !st_stdio_begin(&c, fp, "fread", ST_STDIO_IN, lock))
		return real(buf, buflen, size, n, fp);
	ST_STDIO_CALL(&c, got = real(buf, buflen, 1, request, fp));
	st_stdio_end(&c, got, buf, got);
	return items(got, request, size, n);
}

ST_EXPORT size_t __fread_chk(void *buf, size_t buflen, size_t size, size_t n, FILE *fp)
{
	return read_items_chk(BOUND(__fread_chk), LOCKED, buf, buflen, size, n, fp);
}

ST_EXPORT size_t __fread_unlocked_chk(void *buf, size_t buflen, size_t size, size_t n, FILE *fp)
{
	return read_items_chk(BOUND(__fread_unlocked_chk), UNLOCKED, buf, buflen, size, n, fp);
}

/* fgets's count is the string's length: a line holding a NUL byte counts
 * up to it (docs/guarantees.md, "Known limits"). */
static char *got_line(struct st_stdio_call *c, char *ret)
{
	size_t len = ret ? strlen(ret) : 0;

	st_stdio_end(c, len, ret, len);
	return ret;
}

static char *get_line(char *(*real)(char *, int, FILE *), bool lock, char *s, int n, FILE *fp)
{
	struct st_stdio_call c;
	char *ret;

	if (!st_stdio_begin(&c, fp, "fgets", ST_STDIO_IN, lock))
		return real(s, n, fp);
	ST_STDIO_CALL(&c, ret = real(s, n, fp));
	return got_line(&c, ret);
}

ST_EXPORT char *fgets(char *s, int n, FILE *fp)
{
	return get_line(BOUND(fgets), LOCKED, s, n, fp);
}

ST_EXPORT char *fgets_unlocked(char *s, int n, FILE *fp)
{
	return get_line(BOUND(fgets_unlocked), UNLOCKED, s, n, fp);
}

static char *get_line_chk(char *(*real)(char *, size_t, int, FILE *), bool lock, char *s,
			  size_t size, int n, FILE *fp)
{
	struct st_stdio_call c;
	char *ret;

	if (!st_stdio_begin(&c, fp, "fgets", ST_STDIO_IN, lock))
		return real(s, size, n, fp);
	ST_STDIO_CALL(&c, ret = real(s, size, n, fp));
	return got_line(&c, ret);
}

ST_EXPORT char *__fgets_chk(char *s, size_t size, int n, FILE *fp)
{
	return get_line_chk(BOUND(__fgets_chk), LOCKED, s, size, n, fp);
}

ST_EXPORT char *__fgets_unlocked_chk(char *s, size_t size, int n, FILE *fp)
{
	return get_line_chk(BOUND(__fgets_unlocked_chk), UNLOCKED, s, size, n, fp);
}

static ssize_t get_delim(ssize_t (*real)(char **, size_t *, int, FILE *), const char *name,
			 char **line, size_t *cap, int delim, FILE *fp)
{
	struct st_stdio_call c;
	ssize_t ret;

	if (!st_stdio_begin(&c, fp, name, ST_STDIO_IN, LOCKED))
		return real(line, cap, delim, fp);
	ST_STDIO_CALL(&c, ret = real(line, cap, delim, fp));
	size_t len = ret > 0 ? (size_t)ret : 0;
	st_stdio_end(&c, len, len ? *line : NULL, len);
	return ret;
}

static ssize_t getline_as_delim(char **line, size_t *cap, int delim, FILE *fp)
{
	(void)delim;
	return real_getline(line, cap, fp);
}

ST_EXPORT ssize_t getline(char **line, size_t *cap, FILE *fp)
{
	return get_delim(getline_as_delim, "getline", line, cap, '\n', fp);
}

ST_EXPORT ssize_t getdelim(char **line, size_t *cap, int delim, FILE *fp)
{
	return get_delim(BOUND(getdelim), "getdelim", line, cap, delim, fp);
}

/* What the header's inline getline calls. */
ST_EXPORT ssize_t __getdelim(char **line, size_t *cap, int delim, FILE *fp)
{
	return get_delim(BOUND(__getdelim), delim == '\n' ? "getline" : "getdelim", line, cap,
			 delim, fp);
}

static int get_char(int (*real)(FILE *), const char *name, bool lock, FILE *fp)
{
	struct st_stdio_call c;
	int ch;

	if (!st_stdio_begin(&c, fp, name, ST_STDIO_IN, lock))
		return real(fp);
	ST_STDIO_CALL(&c, ch = real(fp));
	unsigned char byte = (unsigned char)ch;
	st_stdio_end(&c, ch != EOF, &byte, ch != EOF);
	return ch;
}

ST_EXPORT int fgetc(FILE *fp)
{
	return get_char(BOUND(fgetc), "fgetc", LOCKED, fp);
}

ST_EXPORT int getc(FILE *fp)
{
	return get_char(BOUND(getc), "getc", LOCKED, fp);
}

ST_EXPORT int fgetc_unlocked(FILE *fp)
{
	return get_char(BOUND(fgetc_unlocked), "fgetc", UNLOCKED, fp);
}

ST_EXPORT int getc_unlocked(FILE *fp)
{
	return get_char(BOUND(getc_unlocked), "getc", UNLOCKED, fp);
}

static int getchar_locked(FILE *fp)
{
	(void)fp;
	return real_getchar();
}

static int getchar_nolock(FILE *fp)
{
	(void)fp;
	return real_getchar_unlocked();
}

ST_EXPORT int getchar(void)
{
	return get_char(getchar_locked, "getchar", LOCKED, stdin);
}

ST_EXPORT int getchar_unlocked(void)
{
	return get_char(getchar_nolock, "getchar", UNLOCKED, stdin);
}

/* Called by the header's inline getc_unlocked with the buffer empty:
 * refills it and takes one byte. */
ST_EXPORT int __uflow(FILE *fp)
{
	return get_char(BOUND(__uflow), "getc", UNLOCKED, fp);
}

/* Refills the buffer and takes nothing. */
ST_EXPORT int __underflow(FILE *fp)
{
	struct st_stdio_call c;
	int ret;

	if (!st_stdio_begin(&c, fp, "getc", ST_STDIO_IN, UNLOCKED))
		return real___underflow(fp);
	ST_STDIO_CALL(&c, ret = real___underflow(fp));
	st_stdio_end(&c, 0, NULL, 0);
	return ret;
}
