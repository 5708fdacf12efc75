#include "cmd/ctlclient.h"

#include <socktrace/trace_format.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

uint64_t ctl_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void nap_ms(unsigned ms)
{
	struct timespec ts = { 0, (long)ms * 1000000L };

	nanosleep(&ts, NULL);
}

static bool same_dir(const char *a, const char *b)
{
	struct stat sa, sb;

	return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

static void add_dir(char dirs[][PATH_MAX], size_t cap, size_t *n, const char *path,
		    char *unsafe, size_t unsafe_cap)
{
	char why[PATH_MAX + 200];
	int fd;

	if (*n >= cap)
		return;
	for (size_t i = 0; i < *n; i++)
		if (same_dir(dirs[i], path))
			return;
	fd = st_ctl_dir_open(path, geteuid(), false, NULL, why, sizeof(why));
	if (fd < 0) {
		if (why[0] && !unsafe[0])
			snprintf(unsafe, unsafe_cap, "%s", why);
		return;
	}
	close(fd);
	snprintf(dirs[(*n)++], PATH_MAX, "%s", path);
}

/* Every candidate of st_ctl_dir_path for one value of $XDG_RUNTIME_DIR. */
static void add_candidates(char dirs[][PATH_MAX], size_t cap, size_t *n, const char *setting,
			   const char *xdg, char *unsafe, size_t unsafe_cap)
{
	char path[PATH_MAX];

	for (unsigned i = 0; st_ctl_dir_path(i, path, sizeof(path), setting, xdg, geteuid()); i++)
		add_dir(dirs, cap, n, path, unsafe, unsafe_cap);
}

size_t ctl_dirs(char dirs[][PATH_MAX], size_t cap, const char *override, char *unsafe,
		size_t unsafe_cap)
{
	char runuser[64];
	size_t n = 0;

	unsafe[0] = '\0';
	if (override && *override) {
		add_candidates(dirs, cap, &n, override, NULL, unsafe, unsafe_cap);
		return n;
	}
	/* Where a shim may have put its file: the one it would choose with
	 * our environment, then with a session's (/run/user/UID), then with
	 * none. A program started from another session or by a service
	 * manager is found all the same. */
	snprintf(runuser, sizeof(runuser), "/run/user/%u", (unsigned)geteuid());
	add_candidates(dirs, cap, &n, NULL, getenv("XDG_RUNTIME_DIR"), unsafe, unsafe_cap);
	add_candidates(dirs, cap, &n, NULL, runuser, unsafe, unsafe_cap);
	add_candidates(dirs, cap, &n, NULL, NULL, unsafe, unsafe_cap);
	return n;
}

/* The process PID of our pid namespace maps this very file (device and
 * inode in /proc/PID/maps): it is the one that made it, not a process of
 * another namespace with the same pid. Also finds its trace file there,
 * the mapping under its trace directory. When maps cannot be read
 * (another user's process, a non-dumpable one), it is taken as the one:
 * someone holds the live lock already. */
static bool maps_file(struct ctl_proc *p)
{
	char path[64], line[PATH_MAX + 256];
	const char *tdir = p->file->hot.trace_dir;
	size_t tlen = strnlen(tdir, sizeof(p->file->hot.trace_dir));
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", p->pid);
	f = fopen(path, "re");
	if (!f)
		return errno == EACCES || errno == EPERM;
	while (fgets(line, sizeof(line), f)) {
		unsigned maj, min;
		unsigned long long ino;
		char perms[8];
		int name = 0;
		char *nl;

		if (sscanf(line, "%*s %7s %*s %x:%x %llu %n", perms, &maj, &min, &ino, &name) < 4)
			continue;
		if (ino == (unsigned long long)p->ino && makedev(maj, min) == p->dev)
			found = true;
		if (!name || p->trace[0] || strcmp(perms, "rw-s") != 0)
			continue;
		nl = strchr(line + name, '\n');
		if (nl)
			*nl = '\0';
		/* The writer maps its trace file shared: the one under the
		 * trace directory, or any trace file when that was too long. */
		if (tlen ? strncmp(line + name, tdir, tlen) == 0 && line[name + (int)tlen] == '/'
			 : strstr(line + name, SOCKTRACE_FILE_SUFFIX_JSONL) != NULL ||
				   strstr(line + name, SOCKTRACE_FILE_SUFFIX_BINARY) != NULL)
			snprintf(p->trace, sizeof(p->trace), "%s", line + name);
	}
	fclose(f);
	return found;
}

static bool pid_exists(int pid)
{
	return kill(pid, 0) == 0 || errno == EPERM;
}

static struct sigaction lease_saved_sigio;

int ctl_take_lease(int fd)
{
	struct sigaction ign = { .sa_handler = SIG_IGN };
	bool in_use;

	/* Whoever opens the file while we hold the lease makes the kernel
	 * signal us (SIGIO by default, which would end this process) and
	 * waits for us to drop it, which we do at once. */
	sigemptyset(&ign.sa_mask);
	sigaction(SIGIO, &ign, &lease_saved_sigio);
	if (fcntl(fd, F_SETLEASE, F_WRLCK) == 0)
		return 0;
	in_use = errno == EAGAIN || errno == EBUSY;
	sigaction(SIGIO, &lease_saved_sigio, NULL);
	return in_use ? 1 : -1;
}

void ctl_drop_lease(int fd)
{
	fcntl(fd, F_SETLEASE, F_UNLCK);
	sigaction(SIGIO, &lease_saved_sigio, NULL);
}

/* The maker's live lock (ctlfile.h): 1 held, 0 free, -1 cannot tell. */
static int live_lock_held(int fd)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET,
			    .l_start = ST_CTL_LOCK_LIVE, .l_len = 1 };

	if (fcntl(fd, F_OFD_GETLK, &fl) != 0)
		return -1;
	return fl.l_type != F_UNLCK;
}

/* Opens one file if it may be ours: a regular file (never through a
 * link) of this user, private to them. Not mapped yet. */
static int open_file(int dir, const char *name, struct ctl_proc *p)
{
	int fd = openat(dir, name, O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	struct stat st;

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 077) != 0) {
		close(fd);
		return -1;
	}
	p->fd = fd;
	p->dev = st.st_dev;
	p->ino = st.st_ino;
	p->size = st.st_size;
	return 0;
}

static int map_file(struct ctl_proc *p)
{
	p->file = mmap(NULL, sizeof(*p->file), PROT_READ | PROT_WRITE, MAP_SHARED, p->fd, 0);
	if (p->file == MAP_FAILED) {
		p->file = NULL;
		return -1;
	}
	return 0;
}

void ctl_close(struct ctl_proc *p)
{
	if (p->file && p->file != MAP_FAILED)
		munmap(p->file, sizeof(*p->file));
	if (p->fd >= 0)
		close(p->fd);
	p->file = NULL;
	p->fd = -1;
}

/* Only the very file found ended (a process that reused the pid may have
 * replaced it since), and still a regular file of ours. */
static bool remove_stale(int dir, const char *name, const struct ctl_proc *p)
{
	struct stat st;

	if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode) ||
	    st.st_uid != geteuid() || st.st_ino != p->ino || st.st_dev != p->dev)
		return false;
	return unlinkat(dir, name, 0) == 0;
}

bool ctl_alive(struct ctl_proc *p)
{
	return pid_exists(p->pid) && maps_file(p);
}

enum file_kind {
	FILE_LIVE,     /* a process here that maps it: mapped, for each() */
	FILE_ENDED,    /* ours, and nobody has it any more: to remove */
	FILE_LEFT,     /* not ours, being made, alive elsewhere, or no proof */
};

/* What one file is. Deleting needs a proof that its maker has ended: its
 * live lock free (a process of another pid namespace holds it all the
 * same), or for a file without one, nobody having it open (a lease). A
 * pid that does not exist here proves nothing: it may be another
 * namespace's. Names and contents not ours are never touched. */
static enum file_kind classify(int dir, const char *name, struct ctl_proc *p)
{
	struct st_ctl_ident id;
	int held;

	if (open_file(dir, name, p) != 0)
		return FILE_LEFT;
	if (pread(p->fd, &id, sizeof(id), offsetof(struct st_ctl_hot, ident)) != (ssize_t)sizeof(id) ||
	    memcmp(id.magic, ST_CTL_MAGIC, sizeof(ST_CTL_MAGIC)) != 0)
		return FILE_LEFT; /* not ours, or its identity not written yet */
	if (id.version != ST_CTL_VERSION || id.file_size != sizeof(struct st_ctl_file) ||
	    (size_t)p->size != sizeof(struct st_ctl_file)) {
		fprintf(stderr, "socktrace ctl: %s: not a control file of this version of socktrace; left alone\n",
			p->path);
		return FILE_LEFT;
	}
	if (id.flags & ST_CTL_FLAG_LOCKED) {
		held = live_lock_held(p->fd);
	} else {
		held = ctl_take_lease(p->fd);
		if (held == 0)
			ctl_drop_lease(p->fd);
	}
	if (held == 0)
		return FILE_ENDED;
	/* Alive (or no proof either way): ours to show only when it is a
	 * process here that maps this very file. */
	if (!pid_exists(p->pid) || map_file(p) != 0 || !maps_file(p))
		return FILE_LEFT;
	return FILE_LIVE;
}

int ctl_scan(const char *dirpath, bool (*each)(struct ctl_proc *p, void *arg), void *arg)
{
	DIR *d = opendir(dirpath);
	struct dirent *de;
	int removed = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)) != NULL) {
		struct ctl_proc p = { .fd = -1 };

		if (!st_ctl_parse_name(de->d_name, &p.pid))
			continue;
		snprintf(p.path, sizeof(p.path), "%s/%s", dirpath, de->d_name);
		switch (classify(dirfd(d), de->d_name, &p)) {
		case FILE_LIVE:
			if (!each(&p, arg))
				ctl_close(&p);
			break;
		case FILE_ENDED:
			ctl_close(&p);
			removed += remove_stale(dirfd(d), de->d_name, &p);
			break;
		case FILE_LEFT:
			ctl_close(&p);
			break;
		}
	}
	closedir(d);
	return removed;
}

/* Seqlock read of the state's head and count rules. Only the rules in
 * use are read: the rest of the file stays unallocated on tmpfs. */
void ctl_read_state(const struct ctl_proc *p, struct ctl_state *out)
{
	const struct st_ctl_state *st = &p->file->state;

	for (int tries = 0; tries < 1000; tries++) {
		uint64_t seq = __atomic_load_n(&st->seq, __ATOMIC_ACQUIRE);
		if (seq & 1) {
			nap_ms(1);
			continue;
		}
		out->applied = __atomic_load_n(&st->applied, __ATOMIC_ACQUIRE);
		out->refused = st->refused != 0;
		out->set = st->set < 3 ? st->set : 0;
		out->applied_ns = st->applied_ns;
		memcpy(out->message, st->message, sizeof(out->message));
		out->message[sizeof(out->message) - 1] = '\0';
		out->count = st->count <= ST_CTL_RULES_MAX ? st->count : 0;
		memcpy(out->rules, st->rules, out->count * sizeof(out->rules[0]));
		atomic_thread_fence(memory_order_acquire);
		if (__atomic_load_n(&st->seq, __ATOMIC_RELAXED) == seq)
			break;
	}
	for (size_t i = 0; i < out->count; i++) {
		out->rules[i].origin[sizeof(out->rules[i].origin) - 1] = '\0';
		out->rules[i].text[sizeof(out->rules[i].text) - 1] = '\0';
	}
}

void ctl_counts(const struct ctl_proc *p, unsigned set, size_t i, uint64_t *selected,
		uint64_t *fired)
{
	uint64_t(*c)[2] = set == 0 ? p->file->hot.counts : p->file->counts[set - 1];

	*selected = __atomic_load_n(&c[i][0], __ATOMIC_RELAXED);
	*fired = __atomic_load_n(&c[i][1], __ATOMIC_RELAXED);
}

static bool is_pending(const struct ctl_proc *p, uint64_t *gen)
{
	uint64_t seq = __atomic_load_n(&p->file->req.seq, __ATOMIC_ACQUIRE);

	*gen = seq / 2;
	return !(seq & 1) && *gen != __atomic_load_n(&p->file->state.applied, __ATOMIC_ACQUIRE);
}

size_t ctl_current(const struct ctl_proc *p, struct st_ctl_rule *rules, uint64_t *pending_gen)
{
	const struct st_ctl_req *req = &p->file->req;
	struct ctl_state *st;
	size_t n;

	/* Under our lock nobody else writes the request: a pending one is
	 * the latest word on what the process should run. */
	if (is_pending(p, pending_gen) && req->count <= ST_CTL_RULES_MAX) {
		memcpy(rules, req->rules, req->count * sizeof(rules[0]));
		return req->count;
	}
	*pending_gen = 0;
	st = malloc(sizeof(*st));
	if (!st)
		return 0;
	ctl_read_state(p, st);
	n = st->count;
	memcpy(rules, st->rules, n * sizeof(rules[0]));
	free(st);
	return n;
}

uint64_t ctl_next_gen(const struct ctl_proc *p)
{
	uint64_t seq = __atomic_load_n(&p->file->req.seq, __ATOMIC_ACQUIRE);

	return (seq + (seq & 1) + 2) / 2;
}

/* A write lock on its own byte (ctlfile.h), apart from the shim's live
 * lock: never flock, which some file systems (NFS) turn into a lock of
 * the whole file, the live lock's byte too. */
static int req_lock(int fd, short type)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET,
			    .l_start = ST_CTL_LOCK_REQ, .l_len = 1 };

	return fcntl(fd, F_OFD_SETLK, &fl);
}

bool ctl_lock(struct ctl_proc *p, uint64_t timeout_ns)
{
	uint64_t deadline = ctl_now() + timeout_ns;

	while (req_lock(p->fd, F_WRLCK) != 0) {
		if ((errno != EAGAIN && errno != EACCES && errno != EINTR) || ctl_now() > deadline)
			return false;
		nap_ms(2);
	}
	return true;
}

void ctl_unlock(struct ctl_proc *p)
{
	req_lock(p->fd, F_UNLCK);
}

uint64_t ctl_post(struct ctl_proc *p, enum st_ctl_op op, const struct st_ctl_rule *rules,
		  size_t n, uint64_t superseded)
{
	struct st_ctl_req *req = &p->file->req;
	uint64_t seq = __atomic_load_n(&req->seq, __ATOMIC_ACQUIRE);

	/* Odd: a socktrace ctl died while writing; we hold the lock now. */
	seq += seq & 1;
	__atomic_store_n(&req->seq, seq + 1, __ATOMIC_RELAXED);
	atomic_thread_fence(memory_order_release);
	req->op = op;
	req->count = (uint32_t)n;
	req->by_pid = getpid();
	req->superseded = superseded;
	memcpy(req->rules, rules, n * sizeof(rules[0]));
	req->posted_ns = ctl_now();
	__atomic_store_n(&req->seq, seq + 2, __ATOMIC_SEQ_CST);
	/* Every hook of the process now takes the fault path once; an idle
	 * shim (no tracing, no rules) wakes up. */
	__atomic_fetch_or(&p->file->hot.fault_fns, ST_CTL_WAKE_ALL, __ATOMIC_SEQ_CST);
	__atomic_store_n(&p->file->hot.active, 1, __ATOMIC_SEQ_CST);
	/* A thread hanging under a rule (hang) waits on this word: it wakes,
	 * applies the change itself and stops hanging if its rule is gone. */
	__atomic_add_fetch(&p->file->hot.wake, 1, __ATOMIC_SEQ_CST);
	syscall(SYS_futex, &p->file->hot.wake, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
	return (seq + 2) / 2;
}

enum ctl_wait_result ctl_wait(struct ctl_proc *p, uint64_t gen, uint64_t timeout_ns,
			      struct ctl_state *st)
{
	uint64_t deadline = ctl_now() + timeout_ns;

	for (unsigned i = 0;; i++) {
		if (__atomic_load_n(&p->file->state.applied, __ATOMIC_ACQUIRE) == gen) {
			ctl_read_state(p, st);
			return st->refused ? CTL_REFUSED : CTL_APPLIED;
		}
		if (ctl_now() >= deadline)
			return CTL_PENDING;
		if (i % 64 == 63 && (!pid_exists(p->pid) ||
				     ((p->file->hot.ident.flags & ST_CTL_FLAG_LOCKED) &&
				      live_lock_held(p->fd) == 0)))
			return CTL_GONE;
		nap_ms(1);
	}
}
