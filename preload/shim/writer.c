#include "writer.h"

#include "header.h"
#include "log.h"
#include "real.h"
#include "shim.h"
#include "warn.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

/* Segments grow from 64 KiB to 8 MiB, so a short-lived process leaves a
 * small file and a long one maps rarely. */
#define SEG_MIN_SHIFT 16
#define SEG_DOUBLINGS 7
#define SEG_MAX ((uint64_t)1 << (SEG_MIN_SHIFT + SEG_DOUBLINGS))
#define SEG_GROWN_END (((uint64_t)1 << SEG_MIN_SHIFT) * ((1u << SEG_DOUBLINGS) - 1))
#define SEG_COUNT 8192 /* 64 GiB of trace per process */
#define TAIL_CLOSED ((uint64_t)1 << 62)

enum writer_state {
	W_NONE,    /* no file yet: created by the first record */
	W_OPENING, /* one thread is creating it */
	W_MAPPED,  /* records go into the shared mapping */
	W_APPEND,  /* records go through write(2): after finish, or where the
		    * file system cannot preallocate */
	W_FAILED,  /* tracing stopped; the reason was logged */
};

/* Lives in a MAP_SHARED anonymous page: a child made by a raw clone,
 * which skips our fork handler, still shares it and cannot overwrite the
 * parent's records. */
struct writer_ctl {
	_Atomic uint64_t tail;
	_Atomic uint64_t dropped;
};

static struct {
	_Atomic int state;
	int fd;
	dev_t dev;
	ino_t ino;
	struct writer_ctl *ctl;
	_Atomic unsigned generation;
	char path[PATH_MAX];
	_Atomic(char *) seg[SEG_COUNT];
} w = { .fd = -1 };

/* The segment this thread wrote last, to skip the lookup next time. */
static ST_TLS struct {
	unsigned generation;
	uint64_t start;
	uint64_t end;
	char *base;
} cache;

static ST_TLS bool opening_here;

static void seg_geometry(unsigned k, uint64_t *start, uint64_t *size)
{
	if (k < SEG_DOUBLINGS) {
		*size = (uint64_t)1 << (SEG_MIN_SHIFT + k);
		*start = ((uint64_t)1 << SEG_MIN_SHIFT) * ((1u << k) - 1);
	} else {
		*size = SEG_MAX;
		*start = SEG_GROWN_END + (uint64_t)(k - SEG_DOUBLINGS) * SEG_MAX;
	}
}

static unsigned seg_index(uint64_t off)
{
	if (off < SEG_GROWN_END)
		return 63u - (unsigned)__builtin_clzll((off >> SEG_MIN_SHIFT) + 1);
	return SEG_DOUBLINGS + (unsigned)((off - SEG_GROWN_END) / SEG_MAX);
}

/* Stops tracing for good; only the first caller speaks. */
static bool enter_failed(void)
{
	int expected = atomic_load(&w.state);

	while (expected != W_FAILED &&
	       !atomic_compare_exchange_weak(&w.state, &expected, W_FAILED))
		;
	if (expected == W_FAILED)
		return false;
	atomic_store(&st_tracing, false);
	return true;
}

static void stop_tracing(const char *what, int err)
{
	if (enter_failed())
		st_log("tracing stopped: %s %s: %s", what, w.path, strerror(err));
}

static void stop_tracing_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void stop_tracing_msg(const char *fmt, ...)
{
	char msg[PATH_MAX + 256];
	va_list ap;

	if (!enter_failed())
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	st_log("tracing stopped: %s", msg);
}

/* Our descriptor may have been closed, or replaced by one of the
 * program's files, by code we cannot see (a raw close_range, a daemon's
 * fd sweep): check it is still our file before using it, reopen if not. */
static bool fd_is_ours(void)
{
	struct stat st;

	if (w.fd >= 0 && fstat(w.fd, &st) == 0 && st.st_dev == w.dev && st.st_ino == w.ino)
		return true;
	return false;
}

static int high_fd_floor(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
		return 1000;
	if (rl.rlim_cur > 1 << 20)
		return (1 << 20) - 64;
	return rl.rlim_cur > 256 ? (int)rl.rlim_cur - 64 : (int)rl.rlim_cur * 3 / 4;
}

/* Moves fd above the program's usual range; closes the low copy. */
int st_move_fd_high(int fd)
{
	int high = real_fcntl(fd, F_DUPFD_CLOEXEC, (void *)(long)high_fd_floor());

	if (high < 0)
		return fd;
	real_close(fd);
	return high;
}

static bool ensure_fd(void)
{
	int fd;

	if (fd_is_ours())
		return true;
	fd = real_open(w.path, O_RDWR | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0);
	if (fd < 0)
		return false;
	w.fd = st_move_fd_high(fd);
	return fd_is_ours();
}

/* When every high number is taken, a reopened descriptor sits in the
 * program's range: give it back as soon as the work is done (mapped
 * segments need no descriptor) and reopen when next needed. */
static void release_low_fd(void)
{
	if (w.fd >= 0 && w.fd < high_fd_floor()) {
		real_close(w.fd);
		w.fd = -1;
	}
}

static char *map_segment(unsigned k)
{
	uint64_t start, size;
	char *fresh;
	char *expected = NULL;
	int err;

	if (k >= SEG_COUNT) {
		stop_tracing("trace larger than 64 GiB:", EFBIG);
		return NULL;
	}
	char *have = atomic_load_explicit(&w.seg[k], memory_order_acquire);
	if (have)
		return have;
	seg_geometry(k, &start, &size);
	if (!ensure_fd()) {
		stop_tracing("cannot reopen", errno);
		return NULL;
	}
	/* fallocate never shrinks the file, so threads racing to grow it
	 * cannot undo each other, and the blocks are really allocated: a full
	 * disk fails here instead of as SIGBUS in the program. */
	while ((err = fallocate(w.fd, 0, (off_t)start, (off_t)size)) != 0 && errno == EINTR)
		;
	if (err != 0) {
		stop_tracing("cannot grow", errno);
		return NULL;
	}
	fresh = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, w.fd, (off_t)start);
	release_low_fd();
	if (fresh == MAP_FAILED) {
		stop_tracing("cannot map", errno);
		return NULL;
	}
	/* Take the segment's write faults now, in one system call, rather
	 * than one trap per page in the middle of the program's calls
	 * (Linux 5.14+; elsewhere the pages fault in as they are written). */
	madvise(fresh, size, MADV_POPULATE_WRITE);
	if (!atomic_compare_exchange_strong_explicit(&w.seg[k], &expected, fresh,
						     memory_order_acq_rel,
						     memory_order_acquire)) {
		munmap(fresh, size);
		return expected;
	}
	return fresh;
}

static void copy_out(uint64_t off, const char *rec, size_t len)
{
	unsigned gen = atomic_load_explicit(&w.generation, memory_order_relaxed);

	while (len) {
		size_t n;

		if (cache.generation != gen || off < cache.start || off >= cache.end) {
			unsigned k = seg_index(off);
			uint64_t start, size;
			char *base = map_segment(k);

			if (!base) {
				atomic_fetch_add(&w.ctl->dropped, 1);
				return;
			}
			seg_geometry(k, &start, &size);
			cache.generation = gen;
			cache.start = start;
			cache.end = start + size;
			cache.base = base;
		}
		/* A record may straddle two segments: copy it in two pieces so
		 * the file stays one unbroken stream of lines. */
		n = cache.end - off < len ? (size_t)(cache.end - off) : len;
		memcpy(cache.base + (off - cache.start), rec, n);
		off += n;
		rec += n;
		len -= n;
	}
}

static void append_record(const char *rec, size_t len)
{
	/* O_APPEND makes each write(2) land whole at the end of a regular
	 * file, so records from several threads never interleave. */
	while (len) {
		ssize_t n = real_write(w.fd, rec, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		rec += n;
		len -= (size_t)n;
	}
}

static void write_mapped_or_appended(const char *rec, size_t len)
{
	uint64_t off = atomic_fetch_add_explicit(&w.ctl->tail, len, memory_order_relaxed);

	if (st_likely(!(off & TAIL_CLOSED))) {
		copy_out(off, rec, len);
	} else if (ensure_fd()) {
		append_record(rec, len);
		release_low_fd();
	}
}

/* Stops tracing because the trace directory cannot be trusted. */
static void refuse_dir(const char *dir, const char *why)
{
	snprintf(w.path, sizeof(w.path), "%s", dir);
	stop_tracing_msg("trace directory %s %s: %s", dir, why, strerror(EACCES));
}

/* The trace directory, created if missing, or -1 after saying why not.
 *
 * Links in the path are followed: users keep traces behind links of their
 * own. But the directory reached must belong to this user and be
 * writable by nobody else, and a link as the last component must be the
 * user's own. Another user who plants the directory (or a link to a
 * directory of theirs) in a shared place such as /tmp never gets our files
 * written into it, whatever fs.protected_symlinks says. */
static int open_dir(const char *dir)
{
	struct stat link, st;
	char why[96];
	int dfd;

	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		stop_tracing_msg("cannot create %s: %s", dir, strerror(errno));
		return -1;
	}
	if (lstat(dir, &link) != 0) {
		stop_tracing_msg("cannot open %s: %s", dir, strerror(errno));
		return -1;
	}
	if (S_ISLNK(link.st_mode) && link.st_uid != geteuid()) {
		snprintf(why, sizeof(why), "is a link owned by uid %u, not by this user (uid %u)",
			 (unsigned)link.st_uid, (unsigned)geteuid());
		refuse_dir(dir, why);
		return -1;
	}
	dfd = real_open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
	if (dfd < 0) {
		stop_tracing_msg("cannot open %s: %s", dir, strerror(errno));
		return -1;
	}
	why[0] = '\0';
	if (fstat(dfd, &st) != 0)
		snprintf(why, sizeof(why), "cannot be examined (%s)", strerror(errno));
	else if (st.st_uid != geteuid())
		snprintf(why, sizeof(why), "belongs to uid %u, not to this user (uid %u)",
			 (unsigned)st.st_uid, (unsigned)geteuid());
	else if (st.st_mode & (S_IWGRP | S_IWOTH))
		snprintf(why, sizeof(why), "is writable by other users (mode %04o; chmod go-w)",
			 (unsigned)(st.st_mode & 07777));
	if (why[0]) {
		real_close(dfd);
		refuse_dir(dir, why);
		return -1;
	}
	return dfd;
}

/* The file name: the program name reduced to a safe set, and the pid. */
static void file_prog(char *prog, size_t cap)
{
	size_t i;

	for (i = 0; st_shim.prog[i] && i < cap - 1; i++) {
		char c = st_shim.prog[i];
		prog[i] = ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			   (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.') ? c : '_';
	}
	prog[i] = '\0';
	if (i == 0)
		snprintf(prog, cap, "unknown");
}

/* Creates the trace file in the trace directory; -1 after saying why not. */
static int create_file(void)
{
	char name[sizeof(st_shim.prog) + 48];
	char prog[sizeof(st_shim.prog)];
	const char *dir = st_shim.cfg.out_dir;
	int dfd, fd = -1;

	file_prog(prog, sizeof(prog));
	dfd = open_dir(dir);
	if (dfd < 0)
		return -1;
	/* The same pid may already have a file: an earlier image of this
	 * process before exec, or an old run with a reused pid. */
	for (unsigned seq = 1; seq < 1000; seq++) {
		if (seq == 1)
			snprintf(name, sizeof(name), "%s.%d.jsonl", prog, st_shim.pid);
		else
			snprintf(name, sizeof(name), "%s.%d-%u.jsonl", prog, st_shim.pid, seq);
		if (snprintf(w.path, sizeof(w.path), "%s/%s", dir, name) >= (int)sizeof(w.path)) {
			errno = ENAMETOOLONG;
			break;
		}
		/* Relative to the directory we checked, so it cannot be swapped
		 * under us; O_NOFOLLOW|O_EXCL: never through a planted link. */
		fd = real_openat(dfd, name,
				 O_RDWR | O_APPEND | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd >= 0 || errno != EEXIST)
			break;
	}
	if (fd < 0)
		stop_tracing("cannot create", errno);
	real_close(dfd);
	return fd;
}

/* Creates the file, writes the header; returns the new state. */
static int open_trace(void)
{
	struct stat st;
	char *header;
	size_t header_len;
	int fd;

	w.ctl = mmap(NULL, sizeof(*w.ctl), PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (w.ctl == MAP_FAILED) {
		w.ctl = NULL;
		stop_tracing("cannot map the control page for", errno);
		return W_FAILED;
	}
	fd = create_file();
	if (fd < 0)
		return W_FAILED; /* create_file said why */
	w.fd = st_move_fd_high(fd);
	if (fstat(w.fd, &st) != 0) {
		stop_tracing("cannot stat", errno);
		return W_FAILED;
	}
	w.dev = st.st_dev;
	w.ino = st.st_ino;
	header = st_header_build(&header_len);
	atomic_store(&w.ctl->tail, header_len);
	if (fallocate(w.fd, 0, 0, (off_t)1 << SEG_MIN_SHIFT) != 0 &&
	    (errno == EOPNOTSUPP || errno == ENOSYS)) {
		/* No preallocation here (some network and FUSE file systems):
		 * a mapping could SIGBUS on a full disk, so write(2) instead. */
		atomic_store(&w.ctl->tail, TAIL_CLOSED);
		append_record(header, header_len);
		return W_APPEND;
	}
	copy_out(0, header, header_len);
	/* copy_out stops tracing (and says why) if the disk is full. */
	return atomic_load(&w.state) == W_FAILED ? W_FAILED : W_MAPPED;
}

static void wait_for_open(void)
{
	int state;

	if (opening_here)
		return; /* a signal handler inside our own open: drop the record */
	while ((state = atomic_load(&w.state)) == W_OPENING)
		sched_yield();
}

void st_writer_write(const char *rec, size_t len)
{
	int state = atomic_load_explicit(&w.state, memory_order_acquire);

	if (st_likely(state == W_MAPPED || state == W_APPEND)) {
		write_mapped_or_appended(rec, len);
		return;
	}
	if (state == W_NONE) {
		int expected = W_NONE;
		if (atomic_compare_exchange_strong(&w.state, &expected, W_OPENING)) {
			int saved = errno;
			opening_here = true;
			st_busy++;
			int next = open_trace();
			st_busy--;
			opening_here = false;
			if (next != W_FAILED)
				atomic_store(&w.state, next);
			errno = saved;
		}
	}
	wait_for_open();
	state = atomic_load_explicit(&w.state, memory_order_acquire);
	if (state == W_MAPPED || state == W_APPEND)
		write_mapped_or_appended(rec, len);
}

void st_writer_finish(const char *reason)
{
	char rec[256];
	int n;
	uint64_t tail;
	int saved = errno;

	int state = atomic_load(&w.state);

	if (state != W_MAPPED && state != W_APPEND)
		goto out;
	st_warn_scan_fds();
	n = snprintf(rec, sizeof(rec),
		     "{\"rec\":\"end\",\"ts\":%llu,\"pid\":%d,\"reason\":\"%s\",\"dropped\":%llu}\n",
		     (unsigned long long)st_now(), st_shim.pid, reason,
		     (unsigned long long)atomic_load(&w.ctl->dropped));
	if (n > 0 && (size_t)n < sizeof(rec))
		write_mapped_or_appended(rec, (size_t)n);
	if (state != W_MAPPED)
		goto out;
	tail = atomic_fetch_or(&w.ctl->tail, TAIL_CLOSED);
	if (tail & TAIL_CLOSED)
		goto out; /* a clone sharing our control page finished first */
	/* Trim the preallocated zeros so the file is plain JSON Lines. Late
	 * records (atexit handlers that run after us) are appended. */
	if (ensure_fd() && ftruncate(w.fd, (off_t)tail) == 0)
		atomic_store(&w.state, W_APPEND);
out:
	errno = saved;
}

void st_writer_after_fork(void)
{
	for (unsigned k = 0; k < SEG_COUNT; k++) {
		char *base = atomic_exchange(&w.seg[k], NULL);
		if (base) {
			uint64_t start, size;
			seg_geometry(k, &start, &size);
			munmap(base, size);
		}
	}
	if (w.ctl)
		munmap(w.ctl, sizeof(*w.ctl));
	w.ctl = NULL;
	if (w.fd >= 0)
		real_close(w.fd);
	w.fd = -1;
	atomic_fetch_add(&w.generation, 1);
	cache.generation = (unsigned)-1;
	opening_here = false;
	/* A failed parent leaves the child failed too: the cause (directory
	 * gone, disk full) is the same. */
	if (atomic_load(&w.state) != W_FAILED)
		atomic_store(&w.state, W_NONE);
}

bool st_writer_owns_fd(int fd)
{
	/* The number first: the fstat only for the one number that may be ours. */
	return fd >= 0 && fd == w.fd && fd_is_ours();
}

int st_writer_fd(void)
{
	return fd_is_ours() ? w.fd : -1;
}

void st_writer_evict_fd(int fd)
{
	if (!st_writer_owns_fd(fd))
		return;
	int moved = real_fcntl(w.fd, F_DUPFD_CLOEXEC, (void *)(long)high_fd_floor());
	/* No free number left: let the program have this one; the mapped
	 * segments need no descriptor and a later one is reopened. The old
	 * number is about to be replaced by the program's dup2 either way. */
	w.fd = moved >= 0 ? moved : -1;
}

bool st_writer_has_file(void)
{
	int state = atomic_load(&w.state);

	return state == W_MAPPED || state == W_APPEND;
}
