#include "writer.h"

#include "dirsafe.h"
#include "header.h"
#include "log.h"
#include "real.h"
#include "sandbox.h"
#include "event.h"
#include "fields.h"
#include "fsize.h"
#include "jsonw.h"
#include "recframe.h"
#include "recjson.h"
#include "shim.h"
#include "warn.h"

#include <socktrace/trace_format.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
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
/* Each segment's mapping (and allocation) reaches this far into the
 * next one: a record that starts in a segment is copied in one piece
 * through it, and when the file can grow no further the last segment
 * still holds the end record after the last record. */
#define REC_SLACK ((uint64_t)ST_JSON_LINE_MAX)
#define END_RESERVE ((uint64_t)4096)
/* Appending under a file size limit keeps this much below it for the end
 * record (finish formats it into 256 bytes). */
#define APPEND_END_RESERVE ((size_t)256)
#define SEG_REACH (REC_SLACK + END_RESERVE)
/* Pages are populated ahead of the tail, a window at a time. */
#define POP_AHEAD ((uint64_t)64 << 10)
#define POP_WINDOW ((uint64_t)64 << 10)
/* Once the trace has grown past its doubling segments, the page cache it
 * holds is bounded: when segment k is mapped (the tail is then in the
 * second half of segment k - 1), segments up to k - RELEASE_LAG are sent
 * to the disk, and those of them already written leave the page cache. */
#define RELEASE_LAG 3u
#define TAIL_CLOSED ((uint64_t)1 << 62)
#define NO_CUT UINT64_MAX

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
	/* The lowest offset of a record that could not be written (disk
	 * full): every record from there on is lost, so the end record
	 * goes there. NO_CUT until then. */
	_Atomic uint64_t cut;
	/* Binary traces: the next id of what the file defines (intern.h). */
	_Atomic uint64_t id_next;
};

static struct {
	_Atomic int state;
	/* Read by every thread's close and dup2 hooks, changed by the one
	 * that (re)opens or moves it: atomic, but relaxed is enough, since an
	 * fstat against dev and ino decides whether a number is ours. */
	_Atomic int fd;
	_Atomic dev_t dev;
	_Atomic ino_t ino;
	struct writer_ctl *ctl;
	/* This address space's view of the file. Segments below mapped_end
	 * are mapped (and allocated, with their overlap and END_RESERVE past
	 * it); a record that ends at or below ready_end is copied straight
	 * away; full means mapped_end is final. */
	_Atomic uint64_t mapped_end;
	_Atomic uint64_t ready_end;
	_Atomic bool full;
	/* One thread at a time maps, and one populates; the others go on
	 * writing below mapped_end meanwhile. */
	_Atomic bool mapping;
	_Atomic bool populating;
	uint64_t populated_end; /* under populating */
	unsigned released_segs; /* under mapping: segments below are unmapped from our pages */
	bool no_populate;       /* the kernel lacks MADV_POPULATE_WRITE */
	_Atomic bool limit_said; /* the file size limit was reported */
	char path[PATH_MAX];
	_Atomic(char *) seg[SEG_COUNT];
	/* Segment k, as hot_seg points at it: filled before seg[k] is
	 * published, never changed while mapped. */
	struct seg_desc {
		char *base;
		uint64_t start;
		uint64_t size;
	} desc[SEG_COUNT];
} w = { .fd = -1 };

/* The ids of this file (intern.h): those below first are a parent's,
 * which a fork child's memory still carries, so the child's file starts
 * above every id its parent had given out. */
static struct st_intern_ids intern_ids;
static uint64_t id_first = 1;

static int our_fd(void)
{
	return atomic_load_explicit(&w.fd, memory_order_relaxed);
}

static void set_our_fd(int fd)
{
	atomic_store_explicit(&w.fd, fd, memory_order_relaxed);
}

/* The segment this thread wrote into last: one pointer (a signal handler
 * that changes it cannot leave half of it behind) to a descriptor that
 * never changes while it is mapped. */
static ST_TLS const struct seg_desc *hot_seg;

static ST_TLS bool opening_here;
static ST_TLS bool mapping_here;
static ST_TLS bool populating_here;

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
static bool is_our_file(int fd)
{
	struct stat st;

	return fd >= 0 && fstat(fd, &st) == 0 &&
	       st.st_dev == atomic_load_explicit(&w.dev, memory_order_relaxed) &&
	       st.st_ino == atomic_load_explicit(&w.ino, memory_order_relaxed);
}

static bool fd_is_ours(void)
{
	return is_our_file(our_fd());
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
	set_our_fd(st_move_fd_high(fd));
	return fd_is_ours();
}

/* When every high number is taken, a reopened descriptor sits in the
 * program's range: give it back as soon as the work is done (mapped
 * segments need no descriptor) and reopen when next needed. */
static void release_low_fd(void)
{
	int fd = our_fd();

	if (fd >= 0 && fd < high_fd_floor()) {
		set_our_fd(-1);
		real_close(fd);
	}
}

/* Hands the pages of old segments back to the kernel, now that segment k
 * is mapped (with our descriptor open). A trace of gigabytes would
 * otherwise sit in the page cache until memory runs short, and every new
 * page of it would be memory the kernel has to find and zero: on a VM
 * whose host takes free guest memory back (free page reporting), fresh
 * memory costs 3 to 8 us per 4 KiB against under 1 us for pages just
 * freed, which is most of what a trace costs per event there.
 *
 * POSIX_FADV_DONTNEED starts the write-out of the range and drops the
 * pages of it that are clean and mapped by nobody: the pages sent the
 * time before go now, those sent now go next time (the range starts at
 * 0 every time; pages already gone cost nothing to skip). Starting the
 * write-out a segment earlier with sync_file_range made four threads
 * on two cores slower than keeping every page. MADV_DONTNEED on a
 * shared file mapping only unmaps our view: the data stays in the file,
 * and a thread still copying a late record into an old segment faults
 * the page back in. Nothing can be lost; errors (tmpfs, where nothing is
 * dropped; a program under mlockall) only keep the trace in memory. */
static void release_old_pages(unsigned k)
{
	uint64_t start, size;
	int saved = errno;

	if (k <= SEG_DOUBLINGS)
		return;
	for (; w.released_segs <= k - RELEASE_LAG; w.released_segs++) {
		seg_geometry(w.released_segs, &start, &size);
		madvise(w.desc[w.released_segs].base, size + SEG_REACH, MADV_DONTNEED);
	}
	seg_geometry(k - RELEASE_LAG, &start, &size);
	posix_fadvise(our_fd(), 0, (off_t)(start + size), POSIX_FADV_DONTNEED);
	errno = saved;
}

/* Maps the segment that starts at mapped_end. False when the file cannot
 * grow: then mapped_end stays where it is, for good. */
static bool map_next_segment(void)
{
	uint64_t start = atomic_load_explicit(&w.mapped_end, memory_order_relaxed);
	unsigned k = seg_index(start);
	uint64_t size;
	char *base;
	int err;

	/* Finished (the file trimmed to its end record): growing it again
	 * would leave zeros after that record. */
	if (atomic_load(&w.ctl->tail) & TAIL_CLOSED)
		return false;
	if (k >= SEG_COUNT) {
		st_log("tracing stopped: %s is larger than 64 GiB", w.path);
		return false;
	}
	seg_geometry(k, &start, &size);
	if (!st_fsize_allows(start + size + SEG_REACH)) {
		st_log("tracing stopped: %s would pass the file size limit (ulimit -f: %llu bytes)",
		       w.path, (unsigned long long)st_fsize_limit());
		return false;
	}
	if (!ensure_fd()) {
		st_log("tracing stopped: cannot reopen %s: %s", w.path, strerror(errno));
		return false;
	}
	/* fallocate never shrinks the file, and the blocks are really
	 * allocated: a full disk fails here, before any record depends on
	 * the space, instead of as SIGBUS in the program. The overlap and
	 * the reserve for the end record are allocated with the segment. */
	while ((err = fallocate(our_fd(), 0, (off_t)start, (off_t)(size + SEG_REACH))) != 0 &&
	       errno == EINTR)
		;
	if (err != 0) {
		st_log("tracing stopped: cannot grow %s: %s", w.path, strerror(errno));
		release_low_fd();
		return false;
	}
	base = mmap(NULL, size + SEG_REACH, PROT_READ | PROT_WRITE, MAP_SHARED, our_fd(),
		    (off_t)start);
	if (base == MAP_FAILED) {
		st_log("tracing stopped: cannot map %s: %s", w.path, strerror(errno));
		release_low_fd();
		return false;
	}
	w.desc[k].base = base;
	w.desc[k].start = start;
	w.desc[k].size = size;
	/* Large folios in the page cache where the kernel has them for this
	 * file system (ext4 on Linux 6.x): fewer, bigger allocations to zero,
	 * about half the cost per byte of a trace on a VM. Ignored elsewhere. */
	madvise(base, size + SEG_REACH, MADV_HUGEPAGE);
	atomic_store_explicit(&w.seg[k], base, memory_order_release);
	atomic_store_explicit(&w.mapped_end, start + size, memory_order_release);
	release_old_pages(k);
	release_low_fd();
	return true;
}

/* The address of file offset off, in the segment that holds it. */
static char *seg_addr(uint64_t off)
{
	unsigned k = seg_index(off);
	uint64_t start, size;

	seg_geometry(k, &start, &size);
	return atomic_load_explicit(&w.seg[k], memory_order_acquire) + (off - start);
}

/* Takes the page faults of [from, to) now, in one system call per
 * segment, rather than one trap per page in the middle of the program's
 * calls; close enough to the tail that the zeroed pages are still in the
 * cache when records are copied into them (Linux 5.14+; elsewhere the
 * pages fault in as they are written). */
static void populate(uint64_t from, uint64_t to)
{
	while (from < to && !w.no_populate) {
		unsigned k = seg_index(from);
		uint64_t start, size, n;

		seg_geometry(k, &start, &size);
		n = (to < start + size ? to : start + size) - from;
		if (madvise(seg_addr(from), n, MADV_POPULATE_WRITE) != 0 && errno == EINVAL)
			w.no_populate = true;
		from += n;
	}
}

/* True when the mapping reaches far enough past end: the populated
 * window, and half of the last segment, so that threads that outrun the
 * one populating (or a grower that is preempted) seldom have to wait. */
static bool mapped_ahead(uint64_t end, uint64_t want)
{
	uint64_t mapped = atomic_load_explicit(&w.mapped_end, memory_order_relaxed);
	uint64_t start, size;

	if (mapped < want)
		return false;
	seg_geometry(seg_index(mapped - 1), &start, &size);
	return mapped >= end + size / 2;
}

/* ready_end only moves forward, whoever stores it. */
static void raise_ready_end(uint64_t to)
{
	uint64_t cur = atomic_load_explicit(&w.ready_end, memory_order_relaxed);

	while (cur < to && !atomic_compare_exchange_weak_explicit(&w.ready_end, &cur, to,
								  memory_order_release,
								  memory_order_relaxed))
		;
}

/* Takes a flag that only one thread holds at a time; never the one this
 * thread (interrupted by a signal handler) already holds. */
static bool flag_take(_Atomic bool *flag, bool *held_here)
{
	if (*held_here || atomic_exchange_explicit(flag, true, memory_order_acquire))
		return false;
	*held_here = true;
	return true;
}

static void flag_drop(_Atomic bool *flag, bool *held_here)
{
	*held_here = false;
	atomic_store_explicit(flag, false, memory_order_release);
}

/* Maps segments until the mapping reaches far enough past end. Quick
 * (fallocate and mmap, no page touched), so that a thread that needs
 * the space waits for little. When the file cannot grow, everything
 * mapped may be written straight away. */
static void map_ahead(uint64_t end, uint64_t want)
{
	if (atomic_load(&w.full) || mapped_ahead(end, want) ||
	    !flag_take(&w.mapping, &mapping_here))
		return;
	while (!mapped_ahead(end, want)) {
		if (!map_next_segment()) {
			atomic_store(&w.full, true);
			raise_ready_end(atomic_load_explicit(&w.mapped_end, memory_order_relaxed));
			break;
		}
	}
	flag_drop(&w.mapping, &mapping_here);
}

/* Populates the next window when the tail comes close to what is
 * populated, and moves ready_end. Optional work: a thread that finds
 * another one at it goes on with its records. */
static void populate_ahead(uint64_t want)
{
	uint64_t mapped, from;

	if (!flag_take(&w.populating, &populating_here))
		return;
	mapped = atomic_load_explicit(&w.mapped_end, memory_order_acquire);
	from = w.populated_end;
	if (want > mapped)
		want = mapped & ~(uint64_t)4095;
	if (want > from) {
		populate(from, want);
		w.populated_end = want;
		raise_ready_end(want - POP_AHEAD);
	}
	flag_drop(&w.populating, &populating_here);
}

/* Keeps the mapping and its populated pages ahead of the tail, which has
 * reached end. */
static void grow(uint64_t end)
{
	/* Whole pages: madvise takes nothing else. */
	uint64_t want = (end + POP_AHEAD + POP_WINDOW + 4095) & ~(uint64_t)4095;

	if (st_sealed())
		return; /* pages still fault in as records are copied */
	map_ahead(end, want);
	populate_ahead(want);
}

/* True when [.., end) is mapped and allocated: only its pages may not
 * be populated yet. */
static bool mapped_up_to(uint64_t end)
{
	uint64_t mapped = atomic_load_explicit(&w.mapped_end, memory_order_acquire);

	return mapped && end <= mapped + REC_SLACK;
}

/* A record that ends past what is mapped: grows the mapping (or waits
 * for the thread that does), and says whether [.., end) can be written.
 * Never waits for itself: a signal handler that interrupted this
 * thread's growth gets false when the space is not there yet. */
static bool make_room(uint64_t end)
{
	uint64_t deadline = 0;

	if (st_sealed()) {
		/* The mapping can grow no more: as on a full disk, the end
		 * record goes where the first lost record would have. */
		if (mapped_up_to(end))
			return true;
		atomic_store(&w.full, true);
		return false;
	}
	for (;;) {
		map_ahead(end, end);
		if (mapped_up_to(end))
			return true;
		if (mapping_here || atomic_load(&w.full))
			return false;
		/* The wait is bounded: a child made by a raw clone (no fork
		 * handler) inherits the flag of a thread it does not have. */
		if (!deadline)
			deadline = st_now() + 1000000000u;
		else if (st_now() > deadline)
			return false;
		sched_yield();
	}
}

/* A record that could not be written is counted. On a full disk every
 * later record is lost too (the mapping never grows again): the lowest
 * such offset is kept, and the end record goes there, so the file stays
 * whole lines. (The other case, a signal handler's burst of records past
 * the mapping while its own thread was growing it, leaves a hole of NUL
 * bytes, which readers skip.) */
static void drop_record(uint64_t off)
{
	uint64_t cut = atomic_load(&w.ctl->cut);

	atomic_fetch_add(&w.ctl->dropped, 1);
	if (!atomic_load(&w.full))
		return;
	while (off < cut && !atomic_compare_exchange_weak(&w.ctl->cut, &cut, off))
		;
}

/* Copies a record whose every byte is mapped: in pieces only when it is
 * longer than the overlap (a header with many rules). A piece past the
 * last mapped segment goes through that segment's overlap. */
static void copy_mapped(uint64_t off, const char *rec, size_t len)
{
	uint64_t mapped = atomic_load_explicit(&w.mapped_end, memory_order_acquire);

	while (len) {
		unsigned k = seg_index(off < mapped ? off : mapped - 1);
		uint64_t start, size;
		size_t n = len;

		seg_geometry(k, &start, &size);
		if (off + n > start + size + SEG_REACH)
			n = (size_t)(start + size + SEG_REACH - off);
		memcpy(atomic_load_explicit(&w.seg[k], memory_order_acquire) + (off - start), rec, n);
		off += n;
		rec += n;
		len -= n;
	}
}

/* The record's space is checked whole before a byte of it is copied: a
 * full disk loses whole records, never leaves part of one. Space is
 * mapped and populated ahead of the tail, by the thread whose record
 * crosses ready_end, after it has copied its record: a thread killed
 * while it populates leaves no hole in the file. */
static bool write_mapped(uint64_t off, const char *rec, size_t len)
{
	uint64_t end = off + len;

	if (st_likely(len <= REC_SLACK &&
		      end <= atomic_load_explicit(&w.ready_end, memory_order_acquire))) {
		const struct seg_desc *d = hot_seg;

		if (st_unlikely(!d || off - d->start >= d->size)) {
			d = &w.desc[seg_index(off)];
			hot_seg = d;
		}
		memcpy(d->base + (off - d->start), rec, len);
		return true;
	}
	if (mapped_up_to(end) || make_room(end)) {
		copy_mapped(off, rec, len);
		grow(end);
		return true;
	}
	drop_record(off);
	return false;
}

/* Whether a record of len bytes may be appended without passing the file
 * size limit, keeping reserve bytes below it for the end record. */
static bool append_fits(size_t len, size_t reserve)
{
	uint64_t limit = st_fsize_limit();
	struct stat st;

	if (limit == UINT64_MAX)
		return true;
	if (fstat(our_fd(), &st) != 0 || (uint64_t)st.st_size + len + reserve > limit) {
		if (!atomic_exchange(&w.limit_said, true))
			st_log("tracing stopped: %s reached the file size limit (ulimit -f: %llu bytes)",
			       w.path, (unsigned long long)limit);
		return false;
	}
	return true;
}

static bool append_record(const char *rec, size_t len, size_t reserve)
{
	if (!append_fits(len, reserve)) {
		atomic_fetch_add(&w.ctl->dropped, 1);
		return false;
	}
	/* O_APPEND makes each write(2) land whole at the end of a regular
	 * file, so records from several threads never interleave. */
	while (len) {
		ssize_t n = real_write(our_fd(), rec, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		rec += n;
		len -= (size_t)n;
	}
	return true;
}

static bool write_mapped_or_appended(const char *rec, size_t len)
{
	uint64_t off = atomic_fetch_add_explicit(&w.ctl->tail, len, memory_order_relaxed);
	bool written = false;

	if (st_likely(!(off & TAIL_CLOSED))) {
		written = write_mapped(off, rec, len);
	} else if (st_sealed()) {
		atomic_fetch_add(&w.ctl->dropped, 1); /* appending is a system call */
	} else if (ensure_fd()) {
		written = append_record(rec, len, APPEND_END_RESERVE);
		release_low_fd();
	}
	return written;
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
	char why[160];
	int dfd;

	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		stop_tracing_msg("cannot create %s: %s", dir, strerror(errno));
		return -1;
	}
	if (lstat(dir, &link) != 0) {
		stop_tracing_msg("cannot open %s: %s", dir, strerror(errno));
		return -1;
	}
	/* The checks are the control directory's too (dirsafe.h). */
	if (!st_dir_link_safe(&link, geteuid(), why, sizeof(why))) {
		refuse_dir(dir, why);
		return -1;
	}
	dfd = real_open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
	if (dfd < 0) {
		stop_tracing_msg("cannot open %s: %s", dir, strerror(errno));
		return -1;
	}
	if (fstat(dfd, &st) != 0)
		snprintf(why, sizeof(why), "cannot be examined (%s)", strerror(errno));
	else if (st_dir_safe(&link, &st, geteuid(), why, sizeof(why)))
		return dfd;
	real_close(dfd);
	refuse_dir(dir, why);
	return -1;
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
	const char *suffix = st_shim.cfg.format == ST_FORMAT_JSONL ? SOCKTRACE_FILE_SUFFIX_JSONL
								 : SOCKTRACE_FILE_SUFFIX_BINARY;
	int dfd, fd = -1;

	file_prog(prog, sizeof(prog));
	dfd = open_dir(dir);
	if (dfd < 0)
		return -1;
	/* The same pid may already have a file: an earlier image of this
	 * process before exec, or an old run with a reused pid. */
	for (unsigned seq = 1; seq < 1000; seq++) {
		if (seq == 1)
			snprintf(name, sizeof(name), "%s.%d%s", prog, st_shim.pid, suffix);
		else
			snprintf(name, sizeof(name), "%s.%d-%u%s", prog, st_shim.pid, seq, suffix);
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

/* Records go through write(2) from the header on. A header that the file
 * size limit leaves no room for (with its end record) stops tracing: a
 * file without one would be no trace. */
static int open_appending(const char *header, size_t header_len)
{
	atomic_store(&w.ctl->tail, TAIL_CLOSED);
	if (!append_fits(header_len, APPEND_END_RESERVE)) {
		enter_failed();
		return W_FAILED;
	}
	append_record(header, header_len, APPEND_END_RESERVE);
	return W_APPEND;
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
	atomic_store(&w.ctl->id_next, id_first);
	intern_ids.first = (uint32_t)id_first;
	intern_ids.next = &w.ctl->id_next;
	fd = create_file();
	if (fd < 0)
		return W_FAILED; /* create_file said why */
	/* The identity first, then the number that has it. */
	if (fstat(fd, &st) != 0) {
		stop_tracing("cannot stat", errno);
		return W_FAILED;
	}
	atomic_store_explicit(&w.dev, st.st_dev, memory_order_relaxed);
	atomic_store_explicit(&w.ino, st.st_ino, memory_order_relaxed);
	set_our_fd(st_move_fd_high(fd));
	header = st_header_build(&header_len);
	atomic_store(&w.ctl->tail, header_len);
	atomic_store(&w.ctl->cut, NO_CUT);
	/* A file size limit below the first segment: write(2), record by
	 * record, up to the limit. */
	if (!st_fsize_allows(((uint64_t)1 << SEG_MIN_SHIFT) + SEG_REACH))
		return open_appending(header, header_len);
	if (fallocate(our_fd(), 0, 0, (off_t)(((uint64_t)1 << SEG_MIN_SHIFT) + SEG_REACH)) != 0) {
		if (errno != EOPNOTSUPP && errno != ENOSYS) {
			stop_tracing("cannot grow", errno);
			return W_FAILED;
		}
		/* No preallocation here (some network and FUSE file systems):
		 * a mapping could SIGBUS on a full disk, so write(2) instead. */
		return open_appending(header, header_len);
	}
	/* Pages are populated later, by the records: threads waiting for the
	 * file to exist wait for no more than the header. */
	if (!make_room(header_len)) {
		enter_failed(); /* map_next_segment said why */
		return W_FAILED;
	}
	copy_mapped(0, header, header_len);
	return W_MAPPED;
}

/* Threads that find the file being created sleep until it is there
 * (spinning would take the CPU from the thread that creates it). */
static void wait_for_open(void)
{
	struct timespec nap = { 0, 10000000 };

	if (opening_here || st_sealed())
		return; /* a signal handler inside our own open: drop the record */
	while (atomic_load(&w.state) == W_OPENING)
		st_syscall(SYS_futex, &w.state, FUTEX_WAIT_PRIVATE, W_OPENING, &nap, NULL, 0);
}

static void wake_waiters(void)
{
	st_syscall(SYS_futex, &w.state, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

/* Makes the file if nobody has yet (or waits for the thread making it);
 * the state after. */
static int open_once(void)
{
	int state = atomic_load_explicit(&w.state, memory_order_acquire);

	if (state == W_NONE && !st_sealed()) {
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
			wake_waiters();
			errno = saved;
		}
	}
	wait_for_open();
	return atomic_load_explicit(&w.state, memory_order_acquire);
}

bool st_writer_write(const char *rec, size_t len)
{
	int state = atomic_load_explicit(&w.state, memory_order_acquire);

	if (st_likely(state == W_MAPPED || state == W_APPEND))
		return write_mapped_or_appended(rec, len);
	state = open_once();
	return (state == W_MAPPED || state == W_APPEND) && write_mapped_or_appended(rec, len);
}

void st_writer_write_json(char *buf, size_t len)
{
	size_t frame_len;
	const uint8_t *frame;

	if (st_shim.cfg.format == ST_FORMAT_JSONL) {
		st_writer_write(buf + ST_JSON_PRE, len);
		return;
	}
	frame = st_frame_json((uint8_t *)buf, len, &frame_len);
	st_writer_write((const char *)frame, frame_len);
}

struct st_intern_ids *st_writer_intern_ids(void)
{
	int state = atomic_load_explicit(&w.state, memory_order_acquire);

	if (st_shim.cfg.format != ST_FORMAT_BINARY || (state != W_MAPPED && state != W_APPEND))
		return NULL;
	return &intern_ids;
}

/* The end record, framed for a binary trace; returns where it starts in
 * rec and its length in *len (0: it did not fit). */
static char *end_record(char *rec, size_t cap, const char *reason, size_t *len)
{
	char *line = rec + ST_JSON_PRE;
	struct jw j;
	size_t n;

	jw_init(&j, line, cap - ST_JSON_PRE - ST_JSON_POST);
	jw_obj_begin(&j);
	jw_kv_name(&j, ST_RKEY(end, rec), SOCKTRACE_REC_END);
	jw_kv_u64(&j, ST_RKEY(end, ts), st_now());
	jw_kv_i64(&j, ST_RKEY(end, pid), st_shim.pid);
	jw_kv_name(&j, ST_RKEY(end, reason), reason);
	jw_kv_u64(&j, ST_RKEY(end, dropped), atomic_load(&w.ctl->dropped));
	jw_obj_end(&j);
	jw_char(&j, '\n');
	*len = 0;
	if (j.overflow)
		return rec;
	n = jw_len(&j, line);
	*len = n;
	if (st_shim.cfg.format == ST_FORMAT_JSONL)
		return line;
	return (char *)st_frame_json((uint8_t *)rec, (size_t)n, len);
}

/* The end record at pos, the end of the records: when the disk is full,
 * in the room reserved for it past the last one. */
static void place_end_record(uint64_t pos, const char *rec, size_t len)
{
	uint64_t mapped = atomic_load_explicit(&w.mapped_end, memory_order_acquire);

	if (mapped && pos + len <= mapped + SEG_REACH)
		copy_mapped(pos, rec, len);
}

void st_writer_finish(const char *reason)
{
	char rec[256];
	size_t n;
	uint64_t tail, cut;
	int saved = errno;
	int state = atomic_load(&w.state);

	if (state != W_MAPPED && state != W_APPEND)
		goto out;
	st_warn_scan_fds();
	if (state != W_MAPPED && st_sealed())
		goto out; /* an end record appended would be a system call */
	if (state != W_MAPPED) {
		const char *end = end_record(rec, sizeof(rec), reason, &n);
		if (n && ensure_fd()) {
			append_record(end, n, 0); /* into the room kept for it */
			release_low_fd();
		}
		goto out;
	}
	/* Late records (atexit handlers that run after us) are appended. */
	tail = atomic_fetch_or(&w.ctl->tail, TAIL_CLOSED);
	if (tail & TAIL_CLOSED)
		goto out; /* a clone sharing our control page finished first */
	cut = atomic_load(&w.ctl->cut);
	if (cut < tail)
		tail = cut;
	const char *end = end_record(rec, sizeof(rec), reason, &n);
	if (n)
		place_end_record(tail, end, n);
	/* Under a seccomp filter the file keeps its zeros past the end
	 * record (readers skip them; `socktrace run` trims them). */
	if (st_sealed())
		goto out;
	/* Trim the preallocated zeros: the file ends with its end record. */
	if (ensure_fd() && ftruncate(our_fd(), (off_t)(tail + n)) == 0) {
		if (atomic_load(&w.full))
			enter_failed(); /* the disk is full: no late records */
		else
			atomic_store(&w.state, W_APPEND);
	}
out:
	errno = saved;
}

void st_writer_after_fork(void)
{
	if (st_sealed()) {
		/* No munmap, no close: the child leaves the parent's mappings
		 * (and the file) alone and writes nothing. */
		set_our_fd(-1);
		hot_seg = NULL;
		atomic_store(&w.state, W_FAILED);
		atomic_store(&st_tracing, false);
		return;
	}
	for (unsigned k = 0; k < SEG_COUNT; k++) {
		char *base = atomic_exchange(&w.seg[k], NULL);
		if (base) {
			uint64_t start, size;
			seg_geometry(k, &start, &size);
			munmap(base, size + SEG_REACH);
		}
	}
	if (w.ctl) {
		id_first = atomic_load(&w.ctl->id_next);
		munmap(w.ctl, sizeof(*w.ctl));
	}
	w.ctl = NULL;
	intern_ids.next = NULL;
	if (our_fd() >= 0)
		real_close(our_fd());
	set_our_fd(-1);
	atomic_store(&w.mapped_end, 0);
	atomic_store(&w.ready_end, 0);
	atomic_store(&w.full, false);
	/* The thread that held them is not in this process. */
	atomic_store(&w.mapping, false);
	atomic_store(&w.populating, false);
	w.populated_end = 0;
	w.released_segs = 0;
	atomic_store(&w.limit_said, false);
	mapping_here = false;
	populating_here = false;
	opening_here = false;
	hot_seg = NULL;
	/* A failed parent leaves the child failed too: the cause (directory
	 * gone, disk full) is the same. */
	if (atomic_load(&w.state) != W_FAILED)
		atomic_store(&w.state, W_NONE);
}

bool st_writer_owns_fd(int fd)
{
	/* The number first: the fstat only for the one number that may be
	 * ours (under a seccomp filter, the number alone). */
	return fd >= 0 && fd == our_fd() && (st_sealed() || is_our_file(fd));
}

int st_writer_fd(void)
{
	int fd = our_fd();

	return st_sealed() || is_our_file(fd) ? fd : -1;
}

void st_writer_evict_fd(int fd)
{
	if (!st_writer_owns_fd(fd))
		return;
	if (st_sealed()) {
		set_our_fd(-1); /* the mapped segments need no descriptor */
		return;
	}
	int moved = real_fcntl(fd, F_DUPFD_CLOEXEC, (void *)(long)high_fd_floor());
	/* No free number left: let the program have this one; the mapped
	 * segments need no descriptor and a later one is reopened. The old
	 * number is about to be replaced by the program's dup2 either way. */
	set_our_fd(moved >= 0 ? moved : -1);
}

uint64_t st_writer_map_ahead(uint64_t room)
{
	uint64_t tail, mapped;

	if (open_once() != W_MAPPED)
		return 0;
	tail = atomic_load(&w.ctl->tail);
	if (tail & TAIL_CLOSED)
		return 0;
	map_ahead(tail, tail + room);
	mapped = atomic_load_explicit(&w.mapped_end, memory_order_acquire) + REC_SLACK;
	return mapped > tail ? mapped - tail : 0;
}

bool st_writer_has_file(void)
{
	int state = atomic_load(&w.state);

	return state == W_MAPPED || state == W_APPEND;
}
