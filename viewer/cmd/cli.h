/* One voice for every command of the tool: the message prefix, usage
 * errors in one style, "did you mean" for mistyped options, and the one
 * table of exit statuses. */
#ifndef SOCKTRACE_CLI_H
#define SOCKTRACE_CLI_H

#include <getopt.h>
#include <stdio.h>

/* Names the command the messages come from: "socktrace NAME: ". main sets
 * it before running the command. */
void cli_set_command(const char *name);
const char *cli_command(void);

/* "socktrace CMD: MESSAGE" on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The one usage-error style: "socktrace CMD: MESSAGE", then "Try
 * 'socktrace CMD --help'."; returns ST_EXIT_USAGE for the caller to return. */
int cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* getopt_long that reports an unknown option (with the closest long option
 * as a suggestion), a missing argument and an ambiguous abbreviation in the
 * usage-error style itself. Returns what getopt_long returns; '?' after a
 * report, for the caller to return ST_EXIT_USAGE. */
int cli_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts);

/* The exit statuses every command shares, one per line, for --help and
 * (checked by a test) the man page and the docs. */
void cli_print_exit_statuses(FILE *out);

#endif
