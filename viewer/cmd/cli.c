/* The tool's messages and option errors, the same in every command. */
#include "cmd/cli.h"

#include "cmd/commands.h"
#include "suggest.h"
#include "util/msg.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static const char *command = "";

void cli_set_command(const char *name)
{
	char who[64];

	command = name ? name : "";
	snprintf(who, sizeof(who), "socktrace%s%s", *command ? " " : "", command);
	msg_set_who(who);
}

const char *cli_command(void)
{
	return command;
}

static void vreport(const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", msg_who());
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void cli_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(fmt, ap);
	va_end(ap);
}

int cli_usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(fmt, ap);
	va_end(ap);
	fprintf(stderr, "Try 'socktrace%s%s --help'.\n", *command ? " " : "", command);
	return ST_EXIT_USAGE;
}

/* The closest long option to "--word[=value]", as "--name", or NULL. */
static const char *closest_long(const char *arg, const struct option *longopts)
{
	const char *names[128];
	char word[64];
	size_t n = 0, len = strcspn(arg, "=");

	if (len >= sizeof(word))
		return NULL;
	memcpy(word, arg, len);
	word[len] = '\0';
	for (const struct option *o = longopts; o && o->name && n < 128; o++)
		names[n++] = o->name;
	return st_suggest(word, names, n);
}

/* Whether "--word" abbreviates more than one long option. */
static bool ambiguous(const char *word, size_t len, const struct option *longopts)
{
	int matches = 0;

	for (const struct option *o = longopts; o && o->name; o++) {
		if (strncmp(o->name, word, len) == 0) {
			if (strlen(o->name) == len)
				return false;
			matches++;
		}
	}
	return matches > 1;
}

static const struct option *long_named(const char *word, size_t len,
				       const struct option *longopts)
{
	const struct option *found = NULL;

	for (const struct option *o = longopts; o && o->name; o++) {
		if (strncmp(o->name, word, len) != 0)
			continue;
		if (strlen(o->name) == len)
			return o;
		found = found ? found : o;
	}
	return found;
}

static int report(const char *arg, int optc, const struct option *longopts, bool missing)
{
	if (arg && arg[0] == '-' && arg[1] == '-') {
		const char *word = arg + 2;
		size_t len = strcspn(word, "=");
		const char *near;

		if (missing) {
			const struct option *o = long_named(word, len, longopts);
			return cli_usage_error("option '--%s' needs a value",
					       o ? o->name : word);
		}
		if (ambiguous(word, len, longopts))
			return cli_usage_error("option '--%.*s' is ambiguous; write it in full", (int)len,
					       word);
		if (word[len] == '=') {
			const struct option *o = long_named(word, len, longopts);
			if (o && o->has_arg == no_argument)
				return cli_usage_error("option '--%s' takes no value", o->name);
		}
		near = closest_long(word, longopts);
		if (near)
			return cli_usage_error("unknown option '--%.*s'; did you mean '--%s'?", (int)len,
					       word, near);
		return cli_usage_error("unknown option '--%.*s'", (int)len, word);
	}
	if (missing)
		return cli_usage_error("option '-%c' needs a value", optc);
	return cli_usage_error("unknown option '-%c'", optc);
}

int cli_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts)
{
	/* A leading ':' makes getopt tell a missing argument (':') from an
	 * unknown option ('?') and print nothing itself. */
	char opts[128];
	int prev = optind, c;

	if (snprintf(opts, sizeof(opts), ":%s", shortopts) >= (int)sizeof(opts))
		abort();
	opterr = 0;
	c = getopt_long(argc, argv, opts, longopts, NULL);
	if (c != '?' && c != ':')
		return c;
	/* The argument getopt stopped at: the one before optind, unless it
	 * is still inside a cluster of short options ("-qx"). */
	const char *arg = optind > prev ? argv[optind - 1] : argv[prev];
	if (c == ':' && optopt && arg[0] == '-' && arg[1] == '-')
		arg = NULL; /* a short option's missing value */
	if (optopt && !(arg && arg[0] == '-' && arg[1] == '-'))
		arg = NULL;
	report(arg, optopt, longopts, c == ':');
	return '?';
}

/* Every command's exit statuses, declared once for the tool (the man
 * page's EXIT STATUS says the same: tests/integration/test_cli.py). */
static const struct {
	const char *status;
	const char *meaning;
} exit_statuses[] = {
	{ "0", "success; run: the command's own status, passed through" },
	{ "1", "check: a file is invalid; assert: a check failed (report says so and\n"
	       "         exits 0); view, stats, cat: there is no trace, an input is not\n"
	       "         one or is corrupt, or the output cannot be written; ctl: a\n"
	       "         process refused the change, is gone or cannot be reached; shim:\n"
	       "         no shim found" },
	{ "2", "bad usage, in every command; run, ctl: a bad rule (nothing run or\n"
	       "         sent); assert, report: an invalid scenario" },
	{ "3", "assert, report: the trace cannot be read; ctl: a process has not\n"
	       "         applied the change yet" },
	{ "122", "run -s: an expect line or a rule's check failed" },
	{ "125", "the shim, preloaded without run: a bad rule in SOCKTRACE_FAULTS or\n"
	       "         SOCKTRACE_SCENARIO (socktrace check -f RULE says why)" },
	{ "126", "run: the command cannot be executed" },
	{ "127", "run: the command cannot be found" },
	{ "128+N", "run: the command was killed by signal N" },
};

void cli_print_exit_statuses(FILE *out)
{
	fputs("exit status:\n", out);
	for (size_t i = 0; i < sizeof(exit_statuses) / sizeof(exit_statuses[0]); i++)
		fprintf(out, "  %-6s %s\n", exit_statuses[i].status, exit_statuses[i].meaning);
}
