/* A byte stream from a path, stdin, a pipe, gzip or zstd (instream.h). */
#include "read/instream.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

/* Compressed bytes read at a time. */
#define INS_RAW (64 * 1024)
/* Enough to tell the format by. */
#define INS_SNIFF 4

static const unsigned char gzip_magic[2] = { 0x1f, 0x8b };
static const unsigned char zstd_magic[4] = { 0x28, 0xb5, 0x2f, 0xfd };

/* The copy of an input that cannot be opened twice, shared by every
 * stream of its path in the process: its content, decompressed as it is
 * copied (so that a stream of it goes forward or back without decoding
 * again); or, for standard input that is a regular file, that file read
 * in place. */
struct spool {
	struct spool *next;
	bool is_stdin;   /* "-"; else the input is the file dev, ino */
	dev_t dev;
	ino_t ino;
	struct instream *src; /* the input, decompressed; NULL once at its end */
	const char *fmt; /* its format (ins_format) */
	const char *damage; /* ... why it ended early, once at its end */
	char why[160];
	int fd;          /* the copy, or the regular standard input */
	bool direct;     /* fd is the input itself, from base on */
	off_t base;
	uint64_t have;   /* bytes in the copy */
	int err;         /* a read error of src, given to every reader */
};

static struct spool *spools;

enum ins_fmt { INS_PLAIN, INS_GZIP, INS_ZSTD };

struct instream {
	int fd;          /* read directly; -1 when sp */
	bool own_fd;
	bool regular;    /* fd is a regular file: ins_skip seeks */
	struct spool *sp;
	uint64_t off;    /* in sp */
	bool sp_end;     /* the copy has ended (its damage is this stream's) */
	enum ins_fmt fmt;
	unsigned char *raw; /* bytes read ahead of the decoder */
	size_t rpos, rlen, rcap;
	bool raw_eof;
	bool done;       /* the decoder has ended (whole or not) */
	const char *damage;
	char why[160];
	z_stream z;
	bool z_init;
	ZSTD_DCtx *zd;
	size_t zret;     /* ZSTD_decompressStream's last: 0 at a frame's end
			  * (1 before the first) */
};

bool ins_is_stdin(const char *path)
{
	return strcmp(path, "-") == 0;
}

const char *ins_shown(const char *path)
{
	return ins_is_stdin(path) ? "stdin" : path;
}

bool ins_compressed_name(const char *name, size_t *stem)
{
	static const char *const suffixes[] = { ".gz", ".zst" };
	size_t len = strlen(name);

	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		size_t sl = strlen(suffixes[i]);
		if (len > sl && strcmp(name + len - sl, suffixes[i]) == 0) {
			*stem = len - sl;
			return true;
		}
	}
	return false;
}

/* ---- the copy of what cannot be read twice ---- */

/* An unlinked file in $TMPDIR (else /tmp); in memory as a last resort. */
static int tmp_file(void)
{
	const char *dir = getenv("TMPDIR");
	char path[4096];
	int fd;

	if (!dir || !*dir)
		dir = "/tmp";
	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0)
		return fd;
	if ((size_t)snprintf(path, sizeof(path), "%s/socktrace-input.XXXXXX", dir) < sizeof(path)) {
		fd = mkostemp(path, O_CLOEXEC);
		if (fd >= 0) {
			unlink(path);
			return fd;
		}
	}
	return memfd_create("socktrace-input", MFD_CLOEXEC);
}

/* The copy of path: of "-", or of the pipe or FIFO path names (by the
 * file, not the name: /dev/fd/N may name another pipe later). */
static struct spool *spool_find(const char *path)
{
	bool in = ins_is_stdin(path);
	struct stat st;

	if (!spools || (!in && stat(path, &st) != 0))
		return NULL;
	for (struct spool *sp = spools; sp; sp = sp->next)
		if (in ? sp->is_stdin : !sp->is_stdin && sp->dev == st.st_dev && sp->ino == st.st_ino)
			return sp;
	return NULL;
}

static struct instream *ins_from_fd(int fd, bool own, bool regular);

/* A spool of fd (st: its fstat): a copy of its content, or fd itself
 * from where it is when it is a regular standard input. fd is the
 * spool's from here (closed at its end unless it is standard input),
 * not on failure. */
static struct spool *spool_new(bool in, int fd, const struct stat *st, bool regular)
{
	struct spool *sp = calloc(1, sizeof(*sp));
	int saved;

	if (!sp)
		goto fail;
	sp->is_stdin = in;
	sp->dev = st->st_dev;
	sp->ino = st->st_ino;
	sp->fd = -1;
	if (regular && in && (sp->base = lseek(fd, 0, SEEK_CUR)) >= 0) {
		sp->direct = true;
		sp->fd = fd;
	} else {
		sp->fd = tmp_file();
		if (sp->fd < 0)
			goto fail;
		sp->src = ins_from_fd(fd, !in, false);
		if (!sp->src)
			goto fail;
		sp->fmt = ins_format(sp->src);
	}
	sp->next = spools;
	spools = sp;
	return sp;
fail:
	saved = errno;
	if (sp && sp->fd >= 0)
		close(sp->fd);
	free(sp);
	errno = saved;
	return NULL;
}

static ssize_t read_some(int fd, void *buf, size_t n)
{
	ssize_t got;

	do
		got = read(fd, buf, n);
	while (got < 0 && errno == EINTR);
	return got;
}

static ssize_t pread_some(int fd, void *buf, size_t n, off_t off)
{
	ssize_t got;

	do
		got = pread(fd, buf, n, off);
	while (got < 0 && errno == EINTR);
	return got;
}

static int pwrite_all(int fd, const void *buf, size_t n, off_t off)
{
	const char *p = buf;

	while (n) {
		ssize_t w = pwrite(fd, p, n, off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
		off += w;
	}
	return 0;
}

/* Up to n bytes at off of the spooled input; what is not in the copy
 * yet is read from the input (decompressed) and added to it. */
static ssize_t spool_read(struct spool *sp, uint64_t off, void *buf, size_t n)
{
	ssize_t got;

	if (sp->direct)
		return pread_some(sp->fd, buf, n, sp->base + (off_t)off);
	if (off < sp->have) {
		size_t k = sp->have - off < n ? (size_t)(sp->have - off) : n;
		return pread_some(sp->fd, buf, k, (off_t)off);
	}
	if (sp->err) {
		errno = sp->err;
		return -1;
	}
	if (!sp->src)
		return 0;
	got = ins_read(sp->src, buf, n);
	if (got < 0) {
		sp->err = errno;
		return -1;
	}
	if (got == 0) {
		const char *why = ins_damage(sp->src);
		if (why) {
			snprintf(sp->why, sizeof(sp->why), "%s", why);
			sp->damage = sp->why;
		}
		ins_close(sp->src);
		sp->src = NULL;
		return 0;
	}
	if (pwrite_all(sp->fd, buf, (size_t)got, (off_t)sp->have) != 0) {
		sp->err = errno ? errno : EIO; /* a full $TMPDIR */
		return -1;
	}
	sp->have += (uint64_t)got;
	return got;
}

/* ---- the bytes as they come ---- */

static ssize_t src_read(struct instream *s, void *buf, size_t n)
{
	ssize_t got;

	if (!s->sp)
		return read_some(s->fd, buf, n);
	got = spool_read(s->sp, s->off, buf, n);
	if (got > 0)
		s->off += (uint64_t)got;
	else if (got == 0)
		s->sp_end = true;
	return got;
}

/* Reads more into raw, after what is left there: 0, or -1 (errno). */
static int raw_more(struct instream *s)
{
	ssize_t got;

	if (s->rpos > 0) {
		memmove(s->raw, s->raw + s->rpos, s->rlen - s->rpos);
		s->rlen -= s->rpos;
		s->rpos = 0;
	}
	if (s->raw_eof || s->rlen == s->rcap)
		return 0;
	got = src_read(s, s->raw + s->rlen, s->rcap - s->rlen);
	if (got < 0)
		return -1;
	if (got == 0)
		s->raw_eof = true;
	s->rlen += (size_t)got;
	return 0;
}

static void set_damage(struct instream *s, const char *fmt, const char *detail)
{
	if (detail)
		snprintf(s->why, sizeof(s->why), "the %s data are corrupt (%s)", fmt, detail);
	else
		snprintf(s->why, sizeof(s->why), "the %s data are cut short", fmt);
	s->damage = s->why;
	s->done = true;
}

/* ---- gzip ---- */

/* After a member: the next one, or the end. 0, or -1 (errno). */
static int gz_next_member(struct instream *s)
{
	while (s->rlen - s->rpos < sizeof(gzip_magic) && !s->raw_eof)
		if (raw_more(s) != 0)
			return -1;
	size_t left = s->rlen - s->rpos;
	if (left == 0) {
		s->done = true;
		return 0;
	}
	if (left < sizeof(gzip_magic) || memcmp(s->raw + s->rpos, gzip_magic, sizeof(gzip_magic)) != 0) {
		snprintf(s->why, sizeof(s->why), "the gzip data are followed by bytes that are not gzip");
		s->damage = s->why;
		s->done = true;
		return 0;
	}
	inflateReset(&s->z);
	return 0;
}

static ssize_t gz_read(struct instream *s, void *buf, size_t n)
{
	s->z.next_out = buf;
	s->z.avail_out = n > UINT32_MAX ? UINT32_MAX : (uInt)n;
	uInt want = s->z.avail_out;

	while (s->z.avail_out == want && !s->done) {
		if (s->rpos == s->rlen && !s->raw_eof && raw_more(s) != 0)
			return -1;
		s->z.next_in = s->raw + s->rpos;
		s->z.avail_in = (uInt)(s->rlen - s->rpos);
		int rc = inflate(&s->z, Z_NO_FLUSH);
		s->rpos = s->rlen - s->z.avail_in;
		if (rc == Z_STREAM_END) {
			if (gz_next_member(s) != 0)
				return -1;
		} else if (rc == Z_BUF_ERROR || (rc == Z_OK && s->raw_eof && s->rpos == s->rlen &&
						 s->z.avail_out == want)) {
			/* No progress: the input ended inside a member. */
			if (s->raw_eof && s->rpos == s->rlen)
				set_damage(s, "gzip", NULL);
		} else if (rc != Z_OK) {
			set_damage(s, "gzip", s->z.msg ? s->z.msg : "not gzip");
		}
	}
	return (ssize_t)(want - s->z.avail_out);
}

/* ---- zstd ---- */

static ssize_t zstd_read(struct instream *s, void *buf, size_t n)
{
	ZSTD_outBuffer out = { buf, n, 0 };

	while (out.pos == 0 && !s->done) {
		if (s->rpos == s->rlen && !s->raw_eof && raw_more(s) != 0)
			return -1;
		ZSTD_inBuffer in = { s->raw, s->rlen, s->rpos };
		size_t ret = ZSTD_decompressStream(s->zd, &out, &in);
		bool moved = in.pos != s->rpos || out.pos > 0;
		s->rpos = in.pos;
		if (ZSTD_isError(ret)) {
			set_damage(s, "zstd", ZSTD_getErrorName(ret));
			break;
		}
		if (!moved && s->raw_eof && s->rpos == s->rlen) {
			/* The input has ended: whole when the last call ended a
			 * frame (this one asks for the next frame's header). */
			if (s->zret != 0)
				set_damage(s, "zstd", NULL);
			s->done = true;
		}
		s->zret = ret;
	}
	return (ssize_t)out.pos;
}

/* ---- the stream ---- */

/* Tells the format by the first bytes and readies the decoder: 0, or
 * -1 with errno. */
static int ins_start(struct instream *s)
{
	s->rcap = INS_SNIFF;
	s->raw = calloc(1, s->rcap);
	if (!s->raw)
		return -1;
	while (s->rlen < INS_SNIFF && !s->raw_eof)
		if (raw_more(s) != 0)
			return -1;
	if (s->rlen >= sizeof(gzip_magic) && memcmp(s->raw, gzip_magic, sizeof(gzip_magic)) == 0)
		s->fmt = INS_GZIP;
	else if (s->rlen >= sizeof(zstd_magic) && memcmp(s->raw, zstd_magic, sizeof(zstd_magic)) == 0)
		s->fmt = INS_ZSTD;
	if (s->fmt != INS_PLAIN) {
		unsigned char *big = realloc(s->raw, INS_RAW);
		if (!big)
			return -1;
		s->raw = big;
		s->rcap = INS_RAW;
	}
	if (s->fmt == INS_GZIP) {
		/* 15 + 16: a gzip wrapper, the largest window. */
		if (inflateInit2(&s->z, 15 + 16) != Z_OK) {
			errno = ENOMEM;
			return -1;
		}
		s->z_init = true;
	} else if (s->fmt == INS_ZSTD) {
		s->zret = 1;
		s->zd = ZSTD_createDCtx();
		if (!s->zd) {
			errno = ENOMEM;
			return -1;
		}
	}
	return 0;
}

/* A stream of fd as it is read (own: closed with it, not on failure). */
static struct instream *ins_from_fd(int fd, bool own, bool regular)
{
	struct instream *s = calloc(1, sizeof(*s));
	int saved;

	if (!s)
		return NULL;
	s->fd = fd;
	s->regular = regular;
	if (ins_start(s) != 0) {
		saved = errno;
		ins_close(s);
		errno = saved;
		return NULL;
	}
	s->own_fd = own;
	return s;
}

struct instream *ins_open(const char *path, unsigned flags)
{
	struct instream *s;
	struct spool *sp = spool_find(path);
	bool in = ins_is_stdin(path);
	struct stat st;
	int fd, saved;

	if (!sp) {
		fd = in ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return NULL;
		/* The type only: a pipe has no size to trust. */
		bool regular = false;
		if (fstat(fd, &st) == 0)
			regular = S_ISREG(st.st_mode);
		else
			memset(&st, 0, sizeof(st));
		if (!(flags & INS_AGAIN) || (regular && !in)) {
			s = ins_from_fd(fd, !in, regular);
			if (!s && !in) {
				saved = errno;
				close(fd);
				errno = saved;
			}
			return s;
		}
		sp = spool_new(in, fd, &st, regular);
		if (!sp) {
			saved = errno;
			if (!in)
				close(fd);
			errno = saved;
			return NULL;
		}
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->fd = -1;
	s->sp = sp;
	/* A copy holds the content decompressed already. */
	if (sp->direct && ins_start(s) != 0) {
		saved = errno;
		ins_close(s);
		errno = saved;
		return NULL;
	}
	return s;
}

ssize_t ins_read(struct instream *s, void *buf, size_t n)
{
	if (n == 0)
		return 0;
	switch (s->fmt) {
	case INS_GZIP:
		return gz_read(s, buf, n);
	case INS_ZSTD:
		return zstd_read(s, buf, n);
	case INS_PLAIN:
		break;
	}
	if (s->rpos < s->rlen) {
		size_t k = s->rlen - s->rpos < n ? s->rlen - s->rpos : n;
		memcpy(buf, s->raw + s->rpos, k);
		s->rpos += k;
		return (ssize_t)k;
	}
	if (s->raw_eof)
		return 0;
	return src_read(s, buf, n);
}

int ins_skip(struct instream *s, uint64_t n)
{
	char scratch[16 * 1024];

	if (s->fmt == INS_PLAIN) {
		size_t k = s->rlen - s->rpos < n ? s->rlen - s->rpos : (size_t)n;
		s->rpos += k;
		n -= k;
		if (n == 0)
			return 0;
		if (s->regular && !s->raw_eof && lseek(s->fd, (off_t)n, SEEK_CUR) >= 0)
			return 0;
		if (s->sp && (s->sp->direct || s->off + n <= s->sp->have)) {
			s->off += n;
			return 0;
		}
	}
	while (n) {
		ssize_t got = ins_read(s, scratch, n < sizeof(scratch) ? (size_t)n : sizeof(scratch));
		if (got < 0)
			return -1;
		if (got == 0) {
			errno = EIO;
			return -1;
		}
		n -= (uint64_t)got;
	}
	return 0;
}

const char *ins_format(const struct instream *s)
{
	if (s->sp && !s->sp->direct)
		return s->sp->fmt;
	return s->fmt == INS_GZIP ? "gzip" : s->fmt == INS_ZSTD ? "zstd" : NULL;
}

const char *ins_damage(const struct instream *s)
{
	if (s->sp && !s->sp->direct)
		return s->sp_end ? s->sp->damage : NULL;
	return s->damage;
}

void ins_close(struct instream *s)
{
	if (!s)
		return;
	if (s->own_fd && s->fd >= 0)
		close(s->fd);
	if (s->z_init)
		inflateEnd(&s->z);
	ZSTD_freeDCtx(s->zd);
	free(s->raw);
	free(s);
}
