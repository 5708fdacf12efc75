/* prog_display_name: the script of an interpreter, found the way the
 * interpreter itself finds it: the first argument that is not an option,
 * after skipping the arguments of the options that take one; none when
 * the program comes on the command line (-c, -e). */
#include "read/progname.h"

#include <stdbool.h>
#include <string.h>
#include <stdlib.h>

struct interp {
	const char *prefix;     /* the program name starts with it */
	const char *with_arg;   /* options that take the next argument */
	const char *inline_code; /* options whose argument is the program */
	const char *module;     /* an option naming a module to run, or NULL */
};

/* Each list is space-separated and padded with spaces, for a word search. */
static const struct interp interps[] = {
	{ "python", " -W -X -Q ", " -c ", "-m" },
	{ "pypy", " -W -X ", " -c ", "-m" },
	{ "node", " -r --require --import --loader -C --conditions ", " -e --eval -p --print ", NULL },
	{ "nodejs", " -r --require ", " -e --eval -p --print ", NULL },
	{ "perl", " -I -M -m ", " -e -E ", NULL },
	{ "ruby", " -I -r -C ", " -e ", NULL },
	{ "php", " -d -c -z ", " -r ", NULL },
	{ "lua", " -l ", " -e ", NULL },
	{ "tclsh", " ", " ", NULL },
	{ "bash", " -o -O ", " -c ", NULL },
	{ "dash", " -o ", " -c ", NULL },
	{ "sh", " -o ", " -c ", NULL },
	{ "zsh", " -o ", " -c ", NULL },
};

static bool in_words(const char *words, const char *w)
{
	size_t n = strlen(w);

	for (const char *p = strstr(words, w); p; p = strstr(p + 1, w))
		if (p[-1] == ' ' && p[n] == ' ')
			return true;
	return false;
}

/* "python3.11" is python, "sh" is not "shellcheck": the prefix must be
 * followed by nothing, digits or dots (versions). */
static bool is_interp(const char *prog, const char *prefix)
{
	size_t n = strlen(prefix);

	if (strncmp(prog, prefix, n) != 0)
		return false;
	for (prog += n; *prog; prog++)
		if ((*prog < '0' || *prog > '9') && *prog != '.')
			return false;
	return true;
}

static const char *base(const char *path)
{
	const char *s = strrchr(path, '/');

	return s && s[1] ? s + 1 : path;
}

static const char *script_of(const struct interp *in, const char *const *argv, size_t argc)
{
	for (size_t i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!a || !*a)
			return NULL;
		if (strcmp(a, "--") == 0)
			return i + 1 < argc && argv[i + 1] && *argv[i + 1] ? base(argv[i + 1]) : NULL;
		if (a[0] != '-' || strcmp(a, "-") == 0)
			return strcmp(a, "-") == 0 ? NULL : base(a);
		if (in->module && strcmp(a, in->module) == 0)
			return i + 1 < argc && argv[i + 1] && *argv[i + 1] ? argv[i + 1] : NULL;
		if (in->module && strncmp(a, in->module, strlen(in->module)) == 0 &&
		    a[strlen(in->module)])
			return a + strlen(in->module); /* -mhttp.server */
		if (in_words(in->inline_code, a))
			return NULL;
		if (in_words(in->with_arg, a))
			i++;
	}
	return NULL;
}

char *prog_display_name(const char *prog, const char *const *argv, size_t argc)
{
	const char *name = prog;

	for (size_t k = 0; k < sizeof(interps) / sizeof(interps[0]); k++) {
		if (is_interp(prog, interps[k].prefix)) {
			const char *s = script_of(&interps[k], argv, argc);
			if (s)
				name = s;
			break;
		}
	}
	return strdup(name);
}
