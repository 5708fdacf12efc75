/* The shim's settings, read once from SOCKTRACE_* variables at start-up
 * into an immutable structure: no call path ever reads the environment
 * again, and no pointer into the environment is kept (programs that set
 * their process title overwrite that memory). */
#ifndef SOCKTRACE_CONFIG_H
#define SOCKTRACE_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ST_DEFAULT_OUT "socktrace-out"
#define ST_PAYLOAD_MAX 1024
#define ST_SCENARIO_SEPARATOR ':'
#define ST_BACKTRACE_MAX 64
#define ST_BACKTRACE_DEFAULT 16

enum st_log_target {
	ST_LOG_STDERR, /* default: only problems the user must know about */
	ST_LOG_FILE,
	ST_LOG_OFF,
};

enum st_format {
	ST_FORMAT_BINARY, /* default: compact records, `socktrace cat` prints them */
	ST_FORMAT_JSONL,  /* JSON Lines as they happen, for tail -f | jq */
};

struct st_config {
	bool trace;               /* false with SOCKTRACE_OUT=off */
	char out_dir[PATH_MAX];   /* absolute */
	enum st_log_target log;
	char log_path[PATH_MAX];
	unsigned payload;         /* bytes of data recorded per call */
	enum st_format format;    /* SOCKTRACE_FORMAT */
	char faults[16384];       /* SOCKTRACE_FAULTS, inline rules */
	char scenario[4096];      /* SOCKTRACE_SCENARIO, ':'-separated files */
	bool seed_set;
	uint64_t seed;            /* SOCKTRACE_SEED */
	unsigned backtrace;       /* SOCKTRACE_BACKTRACE: frames per stack, 0 off */
	bool backtrace_errors;    /* only for failed calls and injected faults */
	bool ctl_off;             /* SOCKTRACE_CTL=off: no control file */
	char ctl_dir[PATH_MAX];   /* SOCKTRACE_CTL=DIR; "" for the default */
};

/* Receives each problem found, already worded for the user. */
typedef void (*st_config_report)(void *ctx, const char *message);
/* Reads variables through get (secure_getenv in the shim, a table in
 * tests). env, when not NULL, is scanned for unknown SOCKTRACE_* names.
 * cwd makes a relative SOCKTRACE_OUT absolute. Never fails: a bad value is
 * reported and its default used. */
void st_config_load(struct st_config *cfg, const char *(*get)(const char *name),
		    char *const *env, const char *cwd, st_config_report report,
		    void *ctx);

/* The names of every variable the shim reads, NULL-terminated. */
extern const char *const st_config_vars[];

#endif
