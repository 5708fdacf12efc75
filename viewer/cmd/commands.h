/* The subcommands of the socktrace tool. Each returns the process exit
 * status. */
#ifndef SOCKTRACE_COMMANDS_H
#define SOCKTRACE_COMMANDS_H

int cmd_run(int argc, char **argv);
int cmd_view(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_ctl(int argc, char **argv);
int cmd_assert(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_cat(int argc, char **argv);
int cmd_shim(int argc, char **argv);

/* Exit statuses of the tool itself (a traced command's own status is
 * passed through unchanged by `run`). */
#define ST_EXIT_USAGE 2
#define ST_EXIT_CANNOT_RUN 127
/* socktrace run -s: the command ran, but an expectation of the scenario
 * failed. Not one of the statuses shells give (126, 127, 128+N), and
 * rarely a program's own. */
#define ST_EXIT_EXPECTATIONS 122
/* assert, report: the trace cannot be read. */
#define ST_EXIT_TRACE_UNREADABLE 3

#endif
