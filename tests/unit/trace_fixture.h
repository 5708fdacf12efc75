/* Temporary trace directories for the viewer's unit tests: write files
 * (NUL bytes and all), read them back through the reader, clean up. */
#ifndef SOCKTRACE_TEST_TRACE_FIXTURE_H
#define SOCKTRACE_TEST_TRACE_FIXTURE_H

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FIXTURE_UNUSED __attribute__((unused))

/* A header line for pid with the given program, host and clock pair. */
#define HDR(pid, ppid, prog) \
	"{\"rec\":\"header\",\"format\":\"socktrace\",\"version\":\"1.0\",\"tool\":\"t\"," \
	"\"pid\":" #pid ",\"ppid\":" #ppid ",\"uid\":0,\"prog\":\"" prog "\",\"exe\":\"/x\"," \
	"\"argv\":[],\"host\":\"h\",\"clock\":{\"mono\":0,\"real\":1000000000},\"start\":0," \
	"\"payload\":0}\n"

static FIXTURE_UNUSED char *fixture_dir(void)
{
	char tmpl[] = "/tmp/socktrace-unit-XXXXXX";
	char *d = mkdtemp(tmpl);

	if (!d) {
		perror("mkdtemp");
		abort();
	}
	return strdup(d);
}

/* Writes len bytes (len 0: strlen) to dir/name. */
static FIXTURE_UNUSED void fixture_write(const char *dir, const char *name, const char *data,
					 size_t len)
{
	char path[PATH_MAX];
	FILE *f;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
		abort();
	f = fopen(path, "w");
	if (!f) {
		perror(path);
		abort();
	}
	if (!len)
		len = strlen(data);
	if (fwrite(data, 1, len, f) != len)
		abort();
	fclose(f);
}

static FIXTURE_UNUSED void fixture_rm(char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char path[PATH_MAX];

	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (unlink(path) != 0) {
			/* a subdirectory (one level, as the tests make) */
			DIR *s = opendir(path);
			struct dirent *se;
			char p2[PATH_MAX + 256];
			while (s && (se = readdir(s))) {
				if (se->d_name[0] == '.')
					continue;
				snprintf(p2, sizeof(p2), "%s/%s", path, se->d_name);
				unlink(p2);
			}
			if (s)
				closedir(s);
			rmdir(path);
		}
	}
	if (d)
		closedir(d);
	rmdir(dir);
	free(dir);
}

#endif
