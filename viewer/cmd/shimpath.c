#include "cmd/shimpath.h"

#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SHIM_NAME "libsocktrace.so"

static int usable(const char *path)
{
	return access(path, R_OK) == 0;
}

int st_find_shim(char *path, size_t cap)
{
	const char *env = getenv("SOCKTRACE_LIB");
	char self[PATH_MAX];
	ssize_t n;

	if (env && *env) {
		if (!usable(env)) {
			fprintf(stderr, "socktrace: SOCKTRACE_LIB=%s: not a readable file\n", env);
			return -1;
		}
		if (!realpath(env, path) || strlen(path) >= cap) {
			fprintf(stderr, "socktrace: SOCKTRACE_LIB=%s: cannot resolve\n", env);
			return -1;
		}
		return 0;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		/* Build tree: build/viewer/socktrace beside build/preload/. */
		if ((size_t)snprintf(path, cap, "%s/../preload/" SHIM_NAME, dirname(self)) < cap &&
		    usable(path)) {
			char resolved[PATH_MAX];
			if (realpath(path, resolved) && strlen(resolved) < cap)
				strcpy(path, resolved);
			return 0;
		}
	}
	if ((size_t)snprintf(path, cap, "%s/" SHIM_NAME, ST_LIBDIR) < cap && usable(path))
		return 0;
	fprintf(stderr,
		"socktrace: cannot find " SHIM_NAME " (looked beside this tool and in %s);\n"
		"           set SOCKTRACE_LIB to its path\n", ST_LIBDIR);
	return -1;
}
