/* The control channel, shim side: the control file's life (start-up,
 * fork, exit) and the application of `socktrace ctl` requests. The
 * protocol is described in preload/core/ctlfile.h and docs/design.md. */
#include "ctl.h"

#include "fault.h"
#include "fields.h"
#include "fsize.h"
#include "jsonw.h"
#include "log.h"
#include "real.h"
#include "shim.h"
#include "strbuf.h"
#include "writer.h"

#include <socktrace/trace_format.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <linux/futex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* The hooks' words: a page of its own, so that mapping the control file
 * over it replaces nothing else (the type is page-sized and aligned). */
struct st_ctl_hot st_hot;
/* Its first word, as fault.h reads it. */
extern uint64_t st_fault_fns __attribute__((alias("st_hot")));
_Static_assert(offsetof(struct st_ctl_hot, fault_fns) == 0, "st_fault_fns is st_hot's start");

static struct {
	bool on;                   /* this process has its control file */
	int owner;                 /* the pid that made it */
	uint64_t gen;              /* the generation applied last */
	/* The whole file, mapped the first time it is needed (a rule list
	 * to publish, a request to read): a process that is never
	 * controlled, a fork child that soon execs, never maps it. */
	struct st_ctl_file *file;
	ino_t ino;
	bool locked;               /* we hold the file's live lock (ctlfile.h) */
	uid_t uid;                 /* whose directory dir is */
	dev_t dir_dev;             /* dir as checked, for a fork child */
	ino_t dir_ino;
	bool warned;
	bool active_at_start;      /* hooks had work before any request */
	char dir[PATH_MAX];
	char path[PATH_MAX];
} ctl;

/* One thread applies; the others go on with the rules in force. */
static atomic_flag applying = ATOMIC_FLAG_INIT;

/* Where the page's contents wait while it is being replaced. */
static struct st_ctl_hot saved_hot;

static void raw_close(int fd)
{
	st_syscall(SYS_close, fd);
}

static void copy_field(char *dst, size_t cap, const char *src)
{
	size_t n = strnlen(src, cap - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* The live lock (ctlfile.h): taken on the new file before anything is
 * written in it, so that a file with our identity in it and no lock held
 * is one whose every mapping is gone. The descriptor is closed soon, the
 * lock stays with the mapping (of the open file description). */
static bool hold_live(int fd)
{
	struct flock fl = { .l_type = F_RDLCK, .l_whence = SEEK_SET,
			    .l_start = ST_CTL_LOCK_LIVE, .l_len = 1 };

	return st_syscall(SYS_fcntl, fd, F_OFD_SETLK, &fl) == 0;
}

/* Someone holds the live lock of dir/name: its maker is alive. */
static bool live_elsewhere(int dir, const char *name)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET,
			    .l_start = ST_CTL_LOCK_LIVE, .l_len = 1 };
	int fd = (int)st_syscall(SYS_openat, dir, name,
			      O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0);
	bool held;

	if (fd < 0)
		return false;
	held = st_syscall(SYS_fcntl, fd, F_OFD_GETLK, &fl) == 0 && fl.l_type != F_UNLCK;
	raw_close(fd);
	return held;
}

/* A file of the same name belongs to a dead process whose pid we reuse,
 * or to this very process before it exec'ed: it is replaced. Not when its
 * maker is alive: a process of another pid namespace that has our pid
 * number there (a container sharing the directory); this process then
 * goes without a control file, and errno is EBUSY. */
static int create_file(int dir, const char *name, bool *locked)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		struct stat st;
		int fd = (int)st_syscall(SYS_openat, dir, name,
				      O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd >= 0) {
			*locked = hold_live(fd);
			return fd;
		}
		if (errno != EEXIST)
			return -1;
		if (st_syscall(SYS_newfstatat, dir, name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISREG(st.st_mode) || st.st_uid != geteuid())
			return -1;
		if (live_elsewhere(dir, name)) {
			errno = EBUSY;
			return -1;
		}
		st_syscall(SYS_unlinkat, dir, name, 0);
	}
	return -1;
}

/* Gives st_hot private memory again, same contents: a fork child must
 * stop sharing its parent's page, and a failed MAP_FIXED must not leave
 * a hole where every hook reads. */
static void private_hot(const struct st_ctl_hot *contents)
{
	void *p = mmap(&st_hot, sizeof(st_hot), PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);

	if (p == &st_hot)
		memcpy(&st_hot, contents, sizeof(st_hot));
}

static void fill_ident(struct st_ctl_hot *hot)
{
	struct st_ctl_ident *id = &hot->ident;
	struct timespec real;
	size_t n = strlen(st_shim.cfg.out_dir);

	clock_gettime(CLOCK_REALTIME, &real);
	memcpy(id->magic, ST_CTL_MAGIC, sizeof(ST_CTL_MAGIC));
	id->version = ST_CTL_VERSION;
	id->file_size = sizeof(struct st_ctl_file);
	id->pid = st_shim.pid;
	id->ppid = st_shim.ppid;
	id->uid = (uint32_t)geteuid();
	id->flags = ctl.locked ? ST_CTL_FLAG_LOCKED : 0;
	/* When the shim started, on the wall clock. */
	id->start_real_ns = (uint64_t)real.tv_sec * 1000000000u + (uint64_t)real.tv_nsec -
			    (st_now() - st_shim.start_mono);
	id->seed = st_faults_seed();
	copy_field(id->prog, sizeof(id->prog), st_shim.prog);
	/* A directory too long for the page: --list then finds the trace
	 * file among the process's mappings by its name alone. */
	if (st_shim.cfg.trace && n < sizeof(hot->trace_dir))
		memcpy(hot->trace_dir, st_shim.cfg.out_dir, n + 1);
	else
		hot->trace_dir[0] = '\0';
}

/* Page 0 of a new file: st_hot as it is, with our identity. Written,
 * not mapped and copied: the page goes straight into the page cache,
 * ready for the MAP_FIXED that follows. Then the file replaces st_hot. */
static bool map_hot(int fd)
{
	memcpy(&saved_hot, &st_hot, sizeof(st_hot));
	fill_ident(&saved_hot);
	if (st_syscall(SYS_pwrite64, fd, &saved_hot, sizeof(saved_hot), 0) != (long)sizeof(saved_hot))
		return false;
	if (mmap(&st_hot, sizeof(st_hot), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0) ==
	    (void *)&st_hot)
		return true;
	private_hot(&saved_hot);
	return false;
}

/* The whole file. Only for the thread applying a request (applying), or
 * at start-up and in a fork child, when there is no other thread. */
static struct st_ctl_file *file_map(void)
{
	struct st_ctl_file *file;
	struct stat st;
	int fd;

	if (ctl.file || !ctl.on)
		return ctl.file;
	fd = (int)st_syscall(SYS_openat, AT_FDCWD, ctl.path, O_RDWR | O_NOFOLLOW | O_CLOEXEC, 0);
	if (fd < 0)
		return NULL;
	/* Still the file we made (not one put in its place since). */
	file = MAP_FAILED;
	if (st_syscall(SYS_fstat, fd, &st) == 0 && st.st_ino == ctl.ino)
		file = mmap(NULL, sizeof(*file), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	raw_close(fd);
	if (file == MAP_FAILED)
		return NULL;
	ctl.file = file;
	st_faults_use_counts(file->counts);
	return file;
}

/* What the process runs now, for `socktrace ctl --list` and for the next
 * request, which starts from it. Seqlock: seq is odd while we write. */
static void publish(unsigned set, uint64_t gen, bool refused, const char *message)
{
	struct st_ctl_file *file = file_map();
	struct st_ctl_state *st = file ? &file->state : NULL;
	size_t n = st_faults_set_count(set);
	uint64_t seq;

	ctl.gen = gen;
	if (!st)
		return;
	seq = __atomic_load_n(&st->seq, __ATOMIC_RELAXED) | 1;
	__atomic_store_n(&st->seq, seq, __ATOMIC_RELAXED);
	atomic_thread_fence(memory_order_release);
	st->refused = refused;
	st->set = set;
	st->count = (uint32_t)n;
	st->applied_ns = st_now();
	copy_field(st->message, sizeof(st->message), message);
	for (size_t i = 0; i < n; i++) {
		const struct st_rule *r = st_faults_set_rule(set, i);
		copy_field(st->rules[i].origin, sizeof(st->rules[i].origin), r->origin);
		copy_field(st->rules[i].text, sizeof(st->rules[i].text), r->text);
		st->rules[i].enabled = st_faults_set_enabled(set, i);
	}
	__atomic_store_n(&st->seq, seq + 1, __ATOMIC_RELEASE);
	__atomic_store_n(&st->applied, gen, __ATOMIC_RELEASE);
}

static bool pending(const struct st_ctl_file *file)
{
	uint64_t seq = __atomic_load_n(&file->req.seq, __ATOMIC_SEQ_CST);

	return !(seq & 1) && seq / 2 != __atomic_load_n(&file->state.applied, __ATOMIC_SEQ_CST);
}

/* Hooks go back to testing only the calls the rules select. The tool
 * stores its request, then sets the bits; we store the mask, then look
 * for a request: whichever order the two happen in, a request posted
 * meanwhile keeps its bits. */
static void rearm(void)
{
	__atomic_store_n(&st_fault_fns, st_faults_fns(), __ATOMIC_SEQ_CST);
	if (ctl.file && pending(ctl.file))
		__atomic_fetch_or(&st_fault_fns, ST_CTL_WAKE_ALL, __ATOMIC_SEQ_CST);
}

/* The first candidate directory that exists or can be made. One that
 * exists but is not safe ends the search: its owner may be waiting for
 * us to fall back somewhere they also control. */
static int find_dir(void)
{
	const char *setting = st_shim.cfg.ctl_dir[0] ? st_shim.cfg.ctl_dir : NULL;
	const char *xdg = secure_getenv("XDG_RUNTIME_DIR");
	char why[PATH_MAX + 200];

	for (unsigned i = 0; st_ctl_dir_path(i, ctl.dir, sizeof(ctl.dir), setting, xdg, geteuid());
	     i++) {
		struct stat st;
		int dir = st_ctl_dir_open(ctl.dir, geteuid(), true, &st, why, sizeof(why));
		if (dir >= 0) {
			ctl.uid = geteuid();
			ctl.dir_dev = st.st_dev;
			ctl.dir_ino = st.st_ino;
			return dir;
		}
		if (why[0]) {
			if (!ctl.warned)
				st_log("%s: `socktrace ctl` cannot reach this process", why);
			ctl.warned = true;
			return -1;
		}
	}
	return -1;
}

/* Makes this process's file and maps its page 0 over st_hot.
 * dir_known: ctl.dir was found and checked earlier in this process (we
 * are a fork child): the file is made by path, without opening the
 * directory again, when it is still the directory checked then and still
 * passes the checks (one stat: it may have been opened to others, given
 * away or replaced since). Else, or when the process has changed user
 * since (a daemon dropping privileges), the directory is found again,
 * checked, and refused with a message as at start-up. */
static bool open_channel(bool dir_known)
{
	char name[32], path[PATH_MAX];
	struct stat st;
	int dir = AT_FDCWD, fd = -1;
	const char *at = name;
	bool ok, locked = false;

	st_ctl_file_name(name, sizeof(name), st_shim.pid);
	if (dir_known && ctl.uid == geteuid() &&
	    snprintf(path, sizeof(path), "%s/%s", ctl.dir, name) < (int)sizeof(path) &&
	    st_ctl_dir_still(ctl.dir, ctl.uid, ctl.dir_dev, ctl.dir_ino)) {
		at = path;
		fd = create_file(AT_FDCWD, path, &locked);
		if (fd < 0 && errno != ENOENT)
			return false;
	}
	if (fd < 0) {
		/* First time, or the directory changed since. */
		at = name;
		if ((dir = find_dir()) < 0)
			return false;
		fd = create_file(dir, name, &locked);
	}
	ctl.locked = locked;
	/* Below the file size limit only: growing the file past it would
	 * kill the program with SIGXFSZ. Without the file, `socktrace ctl`
	 * does not see the process. */
	ok = fd >= 0 && st_fsize_allows(sizeof(struct st_ctl_file)) &&
	     st_syscall(SYS_ftruncate, fd, (off_t)sizeof(struct st_ctl_file)) == 0 &&
	     st_syscall(SYS_fstat, fd, &st) == 0 && map_hot(fd);
	if (!ok && fd >= 0)
		st_syscall(SYS_unlinkat, dir, at, 0);
	if (fd >= 0)
		raw_close(fd);
	if (dir != AT_FDCWD)
		raw_close(dir);
	if (!ok)
		return false;
	if (snprintf(ctl.path, sizeof(ctl.path), "%s/%s", ctl.dir, name) >= (int)sizeof(ctl.path))
		ctl.path[0] = '\0'; /* cannot be: the directory was opened by this path */
	ctl.ino = st.st_ino;
	ctl.owner = st_shim.pid;
	ctl.on = true;
	return true;
}

void st_ctl_init(void)
{
	ctl.active_at_start = st_active;
	if (st_shim.cfg.ctl_off || !open_channel(false))
		return;
	if (st_faults_count())
		publish(st_faults_active(), 0, false, "");
}

void st_ctl_after_fork(void)
{
	struct st_ctl_file *parent = ctl.file;

	atomic_flag_clear(&applying);
	if (!ctl.on)
		return; /* st_hot is private memory, copied by fork */
	ctl.on = false;
	ctl.file = NULL;
	st_faults_use_counts(NULL);
	if (parent)
		munmap(parent, sizeof(*parent));
	if (!open_channel(true)) {
		memcpy(&saved_hot, &st_hot, sizeof(st_hot));
		private_hot(&saved_hot);
	} else if (ctl.gen || st_faults_active() != 0) {
		/* Generations go on from the parent's, and a ctl set counts in
		 * the file. A fresh file says "generation 0, the start-up
		 * rules" by itself, and is left at that. */
		struct st_ctl_file *file = file_map();
		if (file)
			file->req.seq = ctl.gen * 2;
		publish(st_faults_active(), ctl.gen, false, "");
	}
	/* The parent's page may have been woken for the parent's request. */
	__atomic_store_n(&st_fault_fns, st_faults_fns(), __ATOMIC_SEQ_CST);
}

void st_ctl_finish(void)
{
	/* Not in a child made by a raw clone, which shares our memory but
	 * is not the process the file names. */
	if (ctl.on && ctl.owner && ctl.owner == (int)st_syscall(SYS_getpid)) {
		struct stat st;
		/* Only the file we made (the directory may have been replaced). */
		if (st_syscall(SYS_newfstatat, AT_FDCWD, ctl.path, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    st.st_ino == ctl.ino && S_ISREG(st.st_mode))
			st_syscall(SYS_unlinkat, AT_FDCWD, ctl.path, 0);
		ctl.owner = 0;
	}
}

void st_ctl_seal(void)
{
	if (!ctl.on)
		return;
	st_ctl_finish();
	/* The page goes back to private memory: nobody can wake the hooks
	 * for a request this process could no longer open. A mapped file
	 * stays mapped (ctl rule sets count their calls in it). */
	memcpy(&saved_hot, &st_hot, sizeof(st_hot));
	private_hot(&saved_hot);
	ctl.on = false;
	__atomic_store_n(&st_fault_fns, st_faults_fns(), __ATOMIC_SEQ_CST);
}

/* The trace record of a change. */

enum change { CH_SAME, CH_ADDED, CH_REMOVED, CH_ENABLED, CH_DISABLED };

static const char *const change_names[] = { "same", "added", "removed", "enabled", "disabled" };

static long find_rule(unsigned set, const struct st_rule *r)
{
	for (size_t i = 0; i < st_faults_set_count(set); i++) {
		const struct st_rule *o = st_faults_set_rule(set, i);
		if (strcmp(o->origin, r->origin) == 0 && strcmp(o->text, r->text) == 0)
			return (long)i;
	}
	return -1;
}

static enum change change_of(unsigned old, unsigned set, size_t i)
{
	long j = find_rule(old, st_faults_set_rule(set, i));

	if (j < 0)
		return CH_ADDED;
	if (st_faults_set_enabled(old, (size_t)j) == st_faults_set_enabled(set, i))
		return CH_SAME;
	return st_faults_set_enabled(set, i) ? CH_ENABLED : CH_DISABLED;
}

struct summary {
	unsigned counts[5];
	const char *first[5]; /* origin of the first rule of each change */
	size_t in_force, total;
};

static void note(struct summary *s, enum change c, const struct st_rule *r)
{
	if (!s->counts[c]++)
		s->first[c] = r->origin;
}

static void summarise(struct summary *s, unsigned old, unsigned set)
{
	memset(s, 0, sizeof(*s));
	s->total = st_faults_set_count(set);
	for (size_t i = 0; i < s->total; i++) {
		note(s, change_of(old, set, i), st_faults_set_rule(set, i));
		s->in_force += st_faults_set_enabled(set, i);
	}
	for (size_t i = 0; i < st_faults_set_count(old); i++)
		if (find_rule(set, st_faults_set_rule(old, i)) < 0)
			note(s, CH_REMOVED, st_faults_set_rule(old, i));
}

static void describe(char *buf, size_t cap, const struct summary *s, int by,
		     size_t left_out, uint64_t superseded)
{
	size_t o = 0;
	bool any = false;

	st_appendf(buf, cap, &o, "socktrace ctl (pid %d): ", by);
	for (int c = CH_ADDED; c <= CH_DISABLED; c++) {
		if (!s->counts[c])
			continue;
		if (s->counts[c] == 1)
			st_appendf(buf, cap, &o, "%s%s %s", any ? ", " : "", change_names[c], s->first[c]);
		else
			st_appendf(buf, cap, &o, "%s%s %u rules", any ? ", " : "", change_names[c],
			    s->counts[c]);
		any = true;
	}
	if (!any)
		st_appendf(buf, cap, &o, "no change");
	if (s->total)
		st_appendf(buf, cap, &o, "; %zu of %zu rule%s in force", s->in_force, s->total,
		    s->total == 1 ? "" : "s");
	else
		st_appendf(buf, cap, &o, "; no rules left");
	if (left_out)
		st_appendf(buf, cap, &o, "; %zu rule%s for other programs (prog=) left out", left_out,
		    left_out == 1 ? "" : "s");
	if (superseded)
		st_appendf(buf, cap, &o, "; includes generation %llu, posted but never applied",
		    (unsigned long long)superseded);
}

static void json_rule(struct jw *w, const struct st_rule *r, enum change c)
{
	jw_elem(w);
	jw_obj_begin(w);
	jw_kv_str(w, ST_RKEY(ctl_rule, rule), r->origin);
	jw_kv_str(w, ST_RKEY(ctl_rule, text), r->text);
	jw_kv_name(w, ST_RKEY(ctl_rule, change), change_names[c]);
	jw_obj_end(w);
}

/* Changed rules, while they fit; the rest are counted in rules_cut. */
static void json_changes(struct jw *w, unsigned old, unsigned set)
{
	size_t cut = 0;

	jw_key(w, ST_RKEY(ctl, rules));
	jw_arr_begin(w);
	for (size_t i = 0; i < st_faults_set_count(set); i++) {
		enum change c = change_of(old, set, i);
		if (c == CH_SAME)
			continue;
		if ((size_t)(w->end - w->p) < 4 * ST_RULE_TEXT_MAX)
			cut++;
		else
			json_rule(w, st_faults_set_rule(set, i), c);
	}
	for (size_t i = 0; i < st_faults_set_count(old); i++) {
		if (find_rule(set, st_faults_set_rule(old, i)) >= 0)
			continue;
		if ((size_t)(w->end - w->p) < 4 * ST_RULE_TEXT_MAX)
			cut++;
		else
			json_rule(w, st_faults_set_rule(old, i), CH_REMOVED);
	}
	jw_arr_end(w);
	if (cut)
		jw_kv_u64(w, ST_RKEY(ctl, rules_cut), cut);
}

struct request {
	uint64_t gen;
	enum st_ctl_op op;
	int by;
	uint64_t posted_ns;
	uint64_t superseded;
};

static void record(const struct request *q, unsigned old, unsigned set, size_t in_force,
		   const char *message)
{
	/* Static: every rule of a full set does not fit on a thread's stack.
	 * One thread at a time applies (applying). */
	static char buf[256 * 1024];
	uint64_t now = st_now();
	struct jw w;

	if (!st_tracing_on())
		return;
	jw_init(&w, buf + ST_JSON_PRE, sizeof(buf) - ST_JSON_PRE - ST_JSON_POST);
	jw_obj_begin(&w);
	jw_kv_name(&w, ST_RKEY(ctl, rec), SOCKTRACE_REC_CTL);
	jw_kv_u64(&w, ST_RKEY(ctl, ts), now);
	jw_kv_i64(&w, ST_RKEY(ctl, pid), st_shim.pid);
	jw_kv_i64(&w, ST_RKEY(ctl, tid), st_tid());
	jw_kv_u64(&w, ST_RKEY(ctl, gen), q->gen);
	jw_kv_name(&w, ST_RKEY(ctl, op), st_ctl_op_name(q->op));
	jw_kv_i64(&w, ST_RKEY(ctl, by), q->by);
	if (q->posted_ns && q->posted_ns <= now)
		jw_kv_u64(&w, ST_RKEY(ctl, wait_ns), now - q->posted_ns);
	json_changes(&w, old, set);
	jw_kv_u64(&w, ST_RKEY(ctl, in_force), in_force);
	jw_kv_u64(&w, ST_RKEY(ctl, seed), st_faults_seed());
	jw_kv_str(&w, ST_RKEY(ctl, message), message);
	jw_obj_end(&w);
	jw_char(&w, '\n');
	if (!w.overflow)
		st_writer_write_json(buf, jw_len(&w, buf + ST_JSON_PRE));
}

/* Hangs under a rule that is gone end now (fault.c, hang_until). */
static void wake_hangs(void)
{
	__atomic_add_fetch(&st_hot.wake, 1, __ATOMIC_RELEASE);
	st_syscall(SYS_futex, &st_hot.wake, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

static bool read_request(const struct st_ctl_req *req, struct request *q, uint64_t *seq)
{
	*seq = __atomic_load_n(&req->seq, __ATOMIC_ACQUIRE);
	q->gen = *seq / 2;
	q->op = req->op < ST_CTL_OP_COUNT ? (enum st_ctl_op)req->op : ST_CTL_OP_NONE;
	q->by = req->by_pid;
	q->posted_ns = req->posted_ns;
	q->superseded = req->superseded;
	return !(*seq & 1) && q->gen != __atomic_load_n(&ctl.file->state.applied, __ATOMIC_ACQUIRE);
}

static bool unchanged(const struct st_ctl_req *req, uint64_t seq)
{
	atomic_thread_fence(memory_order_acquire);
	return __atomic_load_n(&req->seq, __ATOMIC_RELAXED) == seq;
}

static void apply(void)
{
	const struct st_ctl_req *req = &ctl.file->req;
	char why[512], message[512];
	struct request q;
	struct summary sum;
	unsigned old = st_faults_active(), set;
	size_t left_out;
	uint64_t seq;
	enum st_faults_prep prep;

	if (!read_request(req, &q, &seq)) {
		rearm();
		return;
	}
	prep = st_faults_prepare(req->rules, req->count <= ST_RULES_MAX ? req->count : ST_RULES_MAX + 1,
				 &set, &left_out, why, sizeof(why));
	/* Rewritten while we read it, or the spare set still in use: the
	 * request stays pending and the next call tries again. */
	if (!unchanged(req, seq) || prep == ST_FAULTS_BUSY)
		return;
	if (prep == ST_FAULTS_REFUSED) {
		publish(old, q.gen, true, why);
		rearm();
		return;
	}
	st_faults_commit(set);
	if (!ctl.active_at_start)
		st_faults_discover_fds();
	summarise(&sum, old, set);
	describe(message, sizeof(message), &sum, q.by, left_out, q.superseded);
	record(&q, old, set, sum.in_force, message);
	publish(set, q.gen, false, message);
	rearm();
	wake_hangs();
}

void st_ctl_poll(void)
{
	int saved = errno;

	/* A child made by a raw clone shares our page and file but is
	 * another process: the request is not its to apply. */
	if (!ctl.on || ctl.owner != (int)st_syscall(SYS_getpid)) {
		if (!ctl.on)
			rearm();
		errno = saved;
		return;
	}
	if (atomic_flag_test_and_set(&applying)) {
		errno = saved;
		return;
	}
	st_busy++;
	if (file_map())
		apply();
	else
		rearm(); /* the file is gone (after exit): nothing to read */
	st_busy--;
	atomic_flag_clear(&applying);
	errno = saved;
}
