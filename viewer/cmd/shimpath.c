#include "cmd/shimpath.h"
#include "util/msg.h"

#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The SONAME's file (libsocktrace.so.1): always there beside the bare
 * libsocktrace.so link, in the build tree as in an install, and the name
 * the loader records. */
#define SHIM_NAME ST_SHIM_SONAME

static int usable(const char *path)
{
	return access(path, R_OK) == 0;
}

/* DIR/REL/SHIM_NAME, resolved, into path when it is there. */
static int beside(char *path, size_t cap, const char *dir, const char *rel)
{
	char joined[PATH_MAX], resolved[PATH_MAX];

	if ((size_t)snprintf(joined, sizeof(joined), "%s/%s/" SHIM_NAME, dir, rel) >=
	    sizeof(joined) || !usable(joined) || !realpath(joined, resolved) ||
	    strlen(resolved) >= cap)
		return -1;
	strcpy(path, resolved);
	return 0;
}

int st_find_shim(char *path, size_t cap)
{
	const char *env = getenv("SOCKTRACE_LIB");
	char self[PATH_MAX];
	ssize_t n;

	if (env && *env) {
		if (!usable(env)) {
			fprintf(stderr, "%s: SOCKTRACE_LIB=%s: not a readable file\n", msg_who(), env);
			return -1;
		}
		if (!realpath(env, path) || strlen(path) >= cap) {
			fprintf(stderr, "%s: SOCKTRACE_LIB=%s: cannot resolve\n", msg_who(), env);
			return -1;
		}
		return 0;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		const char *dir = dirname(self);
		/* Build tree: build/viewer/socktrace beside build/preload/. */
		if (beside(path, cap, dir, "../preload") == 0)
			return 0;
		/* The shim installed with this tool, wherever the prefix now is:
		 * a DESTDIR staging tree, a prefix moved elsewhere. The same
		 * files as LIBDIR below once installed where configured. */
		if (ST_BIN_TO_LIBDIR[0] && beside(path, cap, dir, ST_BIN_TO_LIBDIR) == 0)
			return 0;
	}
	if ((size_t)snprintf(path, cap, "%s/" SHIM_NAME, ST_LIBDIR) < cap && usable(path))
		return 0;
	fprintf(stderr,
		"%s: cannot find " SHIM_NAME " (looked beside this tool and in %s);\n"
		"  set SOCKTRACE_LIB to its path\n",
		msg_who(), ST_LIBDIR);
	return -1;
}
