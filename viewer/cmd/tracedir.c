#include "cmd/tracedir.h"

#include <dirent.h>
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
	char latest[PATH_MAX];

	localtime_r(&now, &tm);
	strftime(name, sizeof(name), "run-%Y%m%d-%H%M%S", &tm);
	if ((size_t)snprintf(path, cap, "%s/%s-%d", ST_TRACE_ROOT, name, (int)getpid()) >= cap ||
	    st_mkdirs(path) != 0) {
		fprintf(stderr, "socktrace: cannot create %s: %s\n", path, strerror(errno));
		return -1;
	}
	/* Replace the link atomically: a concurrent `view` never finds it
	 * missing. A plain directory named latest is the user's: keep it. */
	snprintf(latest, sizeof(latest), "%s/.latest-%d", ST_TRACE_ROOT, (int)getpid());
	unlink(latest);
	if (symlink(path + strlen(ST_TRACE_ROOT) + 1, latest) == 0) {
		char final[PATH_MAX];
		snprintf(final, sizeof(final), "%s/%s", ST_TRACE_ROOT, ST_TRACE_LATEST);
		struct stat st;
		if (lstat(final, &st) == 0 && !S_ISLNK(st.st_mode))
			unlink(latest);
		else if (rename(latest, final) != 0)
			unlink(latest);
	}
	return 0;
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
	p = strstr(buf, "\"pid\":");
	return p ? atoi(p + 6) : -1;
}

static void tidy_one(int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	char buf[4096];
	off_t end;

	if (fd < 0)
		return;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
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
	if (end < st.st_size && ftruncate(fd, end) != 0)
		fprintf(stderr, "socktrace: cannot trim %s: %s\n", name, strerror(errno));
out:
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
		size_t len = strlen(de->d_name);
		int pid;

		if (len < 7 || strcmp(de->d_name + len - 6, ".jsonl") != 0)
			continue;
		count++;
		pid = header_pid(dirfd(d), de->d_name);
		if (pid > 0 && (kill(pid, 0) == 0 || errno == EPERM))
			continue; /* its writer may still be running */
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

int st_report_warnings(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int count = 0;

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		char *line = NULL;
		size_t cap = 0;
		FILE *f;

		if (len < 7 || strcmp(de->d_name + len - 6, ".jsonl") != 0)
			continue;
		int fd = openat(dirfd(d), de->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 || !(f = fdopen(fd, "r"))) {
			if (fd >= 0)
				close(fd);
			continue;
		}
		while (getline(&line, &cap, f) > 0) {
			char kind[64], message[256];
			if (!strstr(line, "\"rec\":\"warning\""))
				continue;
			field(line, "\"kind\":\"", kind, sizeof(kind));
			field(line, "\"message\":\"", message, sizeof(message));
			fprintf(stderr, "socktrace: warning: %s (%s): %s\n", de->d_name, kind, message);
			count++;
		}
		free(line);
		fclose(f);
	}
	closedir(d);
	return count;
}
