#include "cmd/tracedir.h"
#include "util/msg.h"

#include "cmd/ctlclient.h"

#include "read/trace_reader.h"
#include "recframe.h"


#include <dirent.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int st_mkdirs(const char *path)
{
	char buf[PATH_MAX];
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof(buf)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0700) != 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(buf, 0700) != 0 && errno != EEXIST)
		return -1;
	return 0;
}

int st_make_run_dir(char *path, size_t cap)
{
	time_t now = time(NULL);
	struct tm tm;
	char name[64];

	localtime_r(&now, &tm);
	strftime(name, sizeof(name), "run-%Y%m%d-%H%M%S", &tm);
	if ((size_t)snprintf(path, cap, "%s/%s-%d", ST_TRACE_ROOT, name, (int)getpid()) >= cap ||
	    st_mkdirs(path) != 0) {
		fprintf(stderr, "socktrace run: cannot create %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

void st_point_latest(const char *path)
{
	char latest[PATH_MAX], final[PATH_MAX];
	struct stat st;

	/* Replace the link atomically: a concurrent `view` never finds it
	 * missing. A plain directory named latest is the user's: keep it. */
	snprintf(latest, sizeof(latest), "%s/.latest-%d", ST_TRACE_ROOT, (int)getpid());
	unlink(latest);
	if (symlink(path + strlen(ST_TRACE_ROOT) + 1, latest) != 0)
		return;
	snprintf(final, sizeof(final), "%s/%s", ST_TRACE_ROOT, ST_TRACE_LATEST);
	if (lstat(final, &st) == 0 && !S_ISLNK(st.st_mode))
		unlink(latest);
	else if (rename(latest, final) != 0)
		unlink(latest);
}

/* The writer's pid, from the header line the shim writes first. */
static int header_pid(int dirfd, const char *name)
{
	char buf[1024];
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	ssize_t n;
	const char *p;

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* memmem: a binary file's prologue holds NUL bytes. */
	p = memmem(buf, (size_t)n, "\"pid\":", 6);
	return p ? atoi(p + 6) : -1;
}

/* Where the last whole frame of a binary trace ends: the NUL bytes after
 * it are padding, while a frame's own check may end in a NUL byte. */
static off_t binary_records_end(int fd, off_t size)
{
	/* Room for the longest frame: refilled only when one runs past it. */
	enum { BUF = 2 * (ST_FRAME_HEAD_MAX + ST_FRAME_BODY_MAX + ST_FRAME_TAIL) };
	uint8_t *buf = malloc(BUF);
	off_t base = ST_PROLOGUE_LEN, last = ST_PROLOGUE_LEN;
	size_t len = 0, pos = 0;
	bool more = true;

	if (!buf)
		return size; /* trim nothing rather than guess */
	for (;;) {
		size_t flen, boff, blen;
		enum st_frame_res res = pos < len ? st_frame_parse(buf + pos, len - pos, &flen, &boff, &blen)
						  : ST_FRAME_MORE;
		if (res == ST_FRAME_MORE && more) {
			memmove(buf, buf + pos, len - pos);
			base += (off_t)pos;
			len -= pos;
			pos = 0;
			ssize_t n = pread(fd, buf + len, BUF - len, base + (off_t)len);
			if (n <= 0)
				more = false;
			else
				len += (size_t)n;
			more = more && base + (off_t)len < size;
			continue;
		}
		if (pos >= len)
			break;
		if (res == ST_FRAME_OK) {
			pos += flen;
			last = base + (off_t)pos;
		} else {
			pos++; /* no frame here (or one cut by the end of the file) */
		}
	}
	free(buf);
	return last;
}

/* Whether the trace's writer may still run, when no lease could tell: its
 * pid, read from the header, is a process here (another user's too). */
static bool writer_may_run(int dirfd, const char *name)
{
	int pid = header_pid(dirfd, name);

	return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
}

/* Trims the padding a writer that did not end cleanly (killed) left after
 * its last record. Never under a live writer: cutting the file under its
 * mapping would kill it with SIGBUS at its next record. The proof that
 * there is none: a lease, granted only when nobody else has the file open
 * or mapped, in any pid namespace (a writer in a container has a pid that
 * means nothing here, or another process's), and held while trimming (a
 * writer reopening its file waits for it). Without leases (the file
 * system, another user's file), the writer's pid decides, as before. */
static void tidy_one(int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	struct stat st;
	char buf[4096];
	int lease = -1;
	off_t end;

	if (fd < 0)
		return;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		goto out;
	lease = ctl_take_lease(fd);
	if (lease == 1 || (lease < 0 && writer_may_run(dirfd, name)))
		goto out;
	end = st.st_size;
	while (end > 0) {
		off_t start = end > (off_t)sizeof(buf) ? end - (off_t)sizeof(buf) : 0;
		ssize_t n = pread(fd, buf, (size_t)(end - start), start);
		if (n <= 0)
			goto out;
		while (n > 0 && buf[n - 1] == '\0')
			n--;
		if (n > 0) {
			end = start + n;
			break;
		}
		end = start;
	}
	if (end < st.st_size) {
		uint8_t magic[8];
		if (pread(fd, magic, sizeof(magic), 0) == (ssize_t)sizeof(magic) &&
		    st_prologue_is(magic, sizeof(magic))) {
			off_t records = binary_records_end(fd, st.st_size);
			if (records > end)
				end = records;
		}
	}
	if (end < st.st_size && ftruncate(fd, end) != 0)
		fprintf(stderr, "%s: cannot trim %s: %s\n", msg_who(), name, strerror(errno));
out:
	if (lease == 0)
		ctl_drop_lease(fd);
	close(fd);
}

int st_tidy_traces(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int count = 0;

	if (!d)
		return -1;
	while ((de = readdir(d))) {
		if (!tr_is_trace_name(de->d_name))
			continue;
		count++;
		tidy_one(dirfd(d), de->d_name);
	}
	closedir(d);
	return count;
}

/* The value of a string field in a line we wrote ourselves (no escapes in
 * the fields read here): enough for a one-line report. */
static void field(const char *line, const char *key, char *out, size_t cap)
{
	const char *p = strstr(line, key);
	size_t n = 0;

	out[0] = '\0';
	if (!p)
		return;
	p += strlen(key);
	while (p[n] && p[n] != '"' && n + 1 < cap)
		n++;
	memcpy(out, p, n);
	out[n] = '\0';
}

struct warn_ctx {
	const char *name;
	int count;
};

static int warn_line(void *ctx, const char *line, size_t n)
{
	struct warn_ctx *w = ctx;
	char kind[64], message[256], text[4096];

	snprintf(text, sizeof(text), "%.*s", (int)n, line);
	if (!strstr(text, "\"rec\":\"warning\""))
		return 0;
	field(text, "\"kind\":\"", kind, sizeof(kind));
	field(text, "\"message\":\"", message, sizeof(message));
	fprintf(stderr, "%s: warning: %s (%s): %s\n", msg_who(), w->name, kind, message);
	w->count++;
	return 0;
}

int st_report_warnings(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	struct warn_ctx w = { NULL, 0 };

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		char path[PATH_MAX];
		struct tr_line_counts counts;

		if (!tr_is_trace_name(de->d_name) ||
		    (size_t)snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= sizeof(path))
			continue;
		w.name = de->d_name;
		tr_file_lines(path, NULL, warn_line, &w, &counts);
	}
	closedir(d);
	return w.count;
}

/* A name st_make_run_dir gives: run-YYYYmmdd-HHMMSS-PID. */
static bool is_run_name(const char *name, int *pid)
{
	unsigned d, t;
	int n = 0;

	if (sscanf(name, "run-%8u-%6u-%d%n", &d, &t, pid, &n) != 3 || name[n] || n < 20)
		return false;
	return *pid > 0;
}

static bool alive(int pid)
{
	return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
}

/* A run may go when its `socktrace run` and every writer of its files
 * have ended, and it holds nothing but trace files and the shim's own. */
static bool run_is_over(int rootfd, const char *name, int run_pid)
{
	int fd;
	DIR *d;
	struct dirent *de;
	bool over = true;

	if (alive(run_pid))
		return false;
	fd = openat(rootfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return false;
	}
	while (over && (de = readdir(d))) {
		struct stat st;
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISREG(st.st_mode) || !tr_is_trace_name(de->d_name) ||
		    alive(header_pid(dirfd(d), de->d_name)))
			over = false;
	}
	closedir(d);
	return over;
}

static void remove_run(int rootfd, const char *name)
{
	int fd = openat(rootfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d;
	struct dirent *de;

	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			unlinkat(dirfd(d), de->d_name, 0);
	closedir(d);
	unlinkat(rootfd, name, AT_REMOVEDIR);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void st_prune_runs(unsigned keep, const char *current)
{
	DIR *root = opendir(ST_TRACE_ROOT);
	struct dirent *de;
	char **names = NULL, target[PATH_MAX] = "";
	size_t n = 0, cap = 0;
	const char *cur = strrchr(current, '/');
	ssize_t len;

	if (!root)
		return;
	len = readlinkat(dirfd(root), ST_TRACE_LATEST, target, sizeof(target) - 1);
	target[len > 0 ? len : 0] = '\0';
	while ((de = readdir(root))) {
		int pid;
		if (!is_run_name(de->d_name, &pid))
			continue;
		if (n == cap) {
			char **more = realloc(names, (cap = cap ? 2 * cap : 64) * sizeof(*names));
			if (!more)
				break;
			names = more;
		}
		if (!(names[n] = strdup(de->d_name)))
			break;
		n++;
	}
	/* Oldest first: the names sort by their time. */
	qsort(names, n, sizeof(*names), cmp_names);
	for (size_t i = 0; n > keep && i < n - keep; i++) {
		int pid;
		is_run_name(names[i], &pid);
		if ((cur && strcmp(names[i], cur + 1) == 0) || strcmp(names[i], target) == 0)
			continue;
		if (run_is_over(dirfd(root), names[i], pid))
			remove_run(dirfd(root), names[i]);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(root);
}

const char *st_default_trace(const char *command)
{
	const char *path = tr_default_path();
	struct stat st;

	if (stat(path, &st) == 0)
		return path;
	if (getenv("SOCKTRACE_OUT") && *getenv("SOCKTRACE_OUT"))
		fprintf(stderr, "socktrace %s: no trace in %s (SOCKTRACE_OUT): %s\n", command, path,
			strerror(errno));
	else
		fprintf(stderr, "socktrace %s: no trace here (no %s/ in this directory); record one "
			"first:\n  socktrace run -- CMD [ARGS...]\nor name a trace: socktrace %s "
			"DIR|FILE|-\n",
			command, ST_TRACE_ROOT, command);
	return NULL;
}
