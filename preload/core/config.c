#include "config.h"

#include "suggest.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* SOCKTRACE_LIB and SOCKTRACE_KEEP are read by the socktrace tool, not
 * the shim, but every traced program inherits them: they are not unknown. */
const char *const st_config_vars[] = {
	"SOCKTRACE_OUT",
	"SOCKTRACE_LOG",
	"SOCKTRACE_PAYLOAD",
	"SOCKTRACE_FORMAT",
	"SOCKTRACE_FAULTS",
	"SOCKTRACE_SCENARIO",
	"SOCKTRACE_SEED",
	"SOCKTRACE_BACKTRACE",
	"SOCKTRACE_CTL",
	"SOCKTRACE_LIB",
	"SOCKTRACE_KEEP",
	NULL,
};

static void reportf(st_config_report report, void *ctx, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void reportf(st_config_report report, void *ctx, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (!report)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	report(ctx, msg);
}

/* Joins a relative path to cwd; false when the result does not fit. */
static bool absolute_path(char *dst, size_t cap, const char *path, const char *cwd)
{
	int n;

	if (path[0] == '/' || !cwd)
		n = snprintf(dst, cap, "%s", path);
	else
		n = snprintf(dst, cap, "%s/%s", cwd, path);
	return n > 0 && (size_t)n < cap;
}

static void load_out(struct st_config *cfg, const char *v, const char *cwd,
		     st_config_report report, void *ctx)
{
	cfg->trace = true;
	if (v && strcmp(v, "off") == 0) {
		cfg->trace = false;
		return;
	}
	if (v && v[0] == '\0') {
		reportf(report, ctx,
			"SOCKTRACE_OUT is empty; using '%s' (set a directory, or 'off' to record nothing)",
			ST_DEFAULT_OUT);
		v = NULL;
	}
	if (!v)
		v = ST_DEFAULT_OUT;
	if (!absolute_path(cfg->out_dir, sizeof(cfg->out_dir), v, cwd)) {
		reportf(report, ctx,
			"SOCKTRACE_OUT is longer than %zu bytes; nothing will be recorded",
			sizeof(cfg->out_dir) - 1);
		cfg->trace = false;
	}
}

static void load_log(struct st_config *cfg, const char *v, const char *cwd,
		     st_config_report report, void *ctx)
{
	cfg->log = ST_LOG_STDERR;
	if (!v || strcmp(v, "stderr") == 0)
		return;
	if (strcmp(v, "off") == 0) {
		cfg->log = ST_LOG_OFF;
		return;
	}
	if (v[0] == '\0' ||
	    !absolute_path(cfg->log_path, sizeof(cfg->log_path), v, cwd)) {
		reportf(report, ctx,
			"SOCKTRACE_LOG must be 'stderr', 'off' or a file path; using stderr");
		return;
	}
	cfg->log = ST_LOG_FILE;
}

static void load_payload(struct st_config *cfg, const char *v,
			 st_config_report report, void *ctx)
{
	char *end;
	unsigned long n;

	cfg->payload = 0;
	if (!v)
		return;
	n = strtoul(v, &end, 10);
	if (v[0] < '0' || v[0] > '9' || *end != '\0') {
		reportf(report, ctx,
			"SOCKTRACE_PAYLOAD='%.40s' is not a number of bytes; payloads are not recorded (use 0..%d)",
			v, ST_PAYLOAD_MAX);
		return;
	}
	if (n > ST_PAYLOAD_MAX) {
		reportf(report, ctx,
			"SOCKTRACE_PAYLOAD=%lu is above the maximum; recording %d bytes per call",
			n, ST_PAYLOAD_MAX);
		n = ST_PAYLOAD_MAX;
	}
	cfg->payload = (unsigned)n;
}

static void load_format(struct st_config *cfg, const char *v, st_config_report report, void *ctx)
{
	cfg->format = ST_FORMAT_BINARY;
	if (!v || !*v || strcmp(v, "binary") == 0)
		return;
	if (strcmp(v, "jsonl") == 0) {
		cfg->format = ST_FORMAT_JSONL;
		return;
	}
	reportf(report, ctx, "SOCKTRACE_FORMAT='%.40s' is not a format; writing binary (use binary or jsonl)",
		v);
}

/* Copies a value whole or not at all: a cut rule list would silently
 * drop rules. */
static bool copy_whole(char *dst, size_t cap, const char *name, const char *v,
		       st_config_report report, void *ctx)
{
	size_t n = strlen(v);

	if (n >= cap) {
		reportf(report, ctx, "%s is longer than %zu bytes; it is ignored", name, cap - 1);
		return false;
	}
	memcpy(dst, v, n + 1);
	return true;
}

static void load_faults(struct st_config *cfg, const char *faults, const char *scenario,
			const char *seed, st_config_report report, void *ctx)
{
	if (faults)
		copy_whole(cfg->faults, sizeof(cfg->faults), "SOCKTRACE_FAULTS", faults, report, ctx);
	if (scenario)
		copy_whole(cfg->scenario, sizeof(cfg->scenario), "SOCKTRACE_SCENARIO", scenario,
			   report, ctx);
	if (seed) {
		char *end;
		errno = 0;
		unsigned long long v = strtoull(seed, &end, 0);
		/* Kept below 2^63 so that every JSON reader takes it as an integer. */
		if (seed[0] < '0' || seed[0] > '9' || *end != '\0' || errno || v > INT64_MAX) {
			reportf(report, ctx,
				"SOCKTRACE_SEED='%.40s' is not a number from 0 to 9223372036854775807; a random seed is used (it is written in the trace header)",
				seed);
		} else {
			cfg->seed_set = true;
			cfg->seed = v;
		}
	}
}

/* N, "errors" or "errors:N": frames per event, or only for failed calls
 * and faults, which then cost nothing on calls that succeed. */
static void load_backtrace(struct st_config *cfg, const char *v, st_config_report report,
			   void *ctx)
{
	const char *num = v;
	char *end;
	unsigned long n;

	if (!v || !*v || strcmp(v, "0") == 0)
		return;
	if (strncmp(v, "errors", 6) == 0) {
		cfg->backtrace_errors = true;
		if (v[6] == '\0') {
			cfg->backtrace = ST_BACKTRACE_DEFAULT;
			return;
		}
		num = v[6] == ':' ? v + 7 : NULL;
	}
	if (num && *num >= '0' && *num <= '9') {
		n = strtoul(num, &end, 10);
		if (*end == '\0' && n >= 1 && n <= ST_BACKTRACE_MAX) {
			cfg->backtrace = (unsigned)n;
			return;
		}
	}
	cfg->backtrace_errors = false;
	reportf(report, ctx,
		"SOCKTRACE_BACKTRACE='%.40s' is not valid; stacks are not recorded (use N from 1 to %d, 'errors' or 'errors:N')",
		v, ST_BACKTRACE_MAX);
}

/* "off", or the directory of control files (absolute: the tool must find
 * the same one whatever its working directory). */
static void load_ctl(struct st_config *cfg, const char *v, st_config_report report, void *ctx)
{
	if (!v || !*v || strcmp(v, "on") == 0)
		return;
	if (strcmp(v, "off") == 0) {
		cfg->ctl_off = true;
		return;
	}
	if (v[0] != '/' || strlen(v) >= sizeof(cfg->ctl_dir) - 64) {
		reportf(report, ctx,
			"SOCKTRACE_CTL='%.40s' is not 'off' or an absolute directory; using the default",
			v);
		return;
	}
	memcpy(cfg->ctl_dir, v, strlen(v) + 1);
}

static void check_unknown(char *const *env, st_config_report report, void *ctx)
{
	static const char prefix[] = "SOCKTRACE_";
	size_t nvars = 0;

	while (st_config_vars[nvars])
		nvars++;
	for (; env && *env; env++) {
		char name[128];
		const char *eq = strchr(*env, '=');
		size_t len = eq ? (size_t)(eq - *env) : strlen(*env);
		bool known = false;

		if (strncmp(*env, prefix, sizeof(prefix) - 1) != 0)
			continue;
		if (len >= sizeof(name))
			len = sizeof(name) - 1;
		memcpy(name, *env, len);
		name[len] = '\0';
		for (size_t i = 0; i < nvars && !known; i++)
			known = strcmp(name, st_config_vars[i]) == 0;
		if (known)
			continue;
		const char *hint = st_suggest(name, st_config_vars, nvars);
		if (hint)
			reportf(report, ctx, "unknown variable %s ignored; did you mean %s?",
				name, hint);
		else
			reportf(report, ctx, "unknown variable %s ignored", name);
	}
}

void st_config_load(struct st_config *cfg, const char *(*get)(const char *name),
		    char *const *env, const char *cwd, st_config_report report,
		    void *ctx)
{
	memset(cfg, 0, sizeof(*cfg));
	load_log(cfg, get("SOCKTRACE_LOG"), cwd, report, ctx);
	load_out(cfg, get("SOCKTRACE_OUT"), cwd, report, ctx);
	load_payload(cfg, get("SOCKTRACE_PAYLOAD"), report, ctx);
	load_format(cfg, get("SOCKTRACE_FORMAT"), report, ctx);
	load_faults(cfg, get("SOCKTRACE_FAULTS"), get("SOCKTRACE_SCENARIO"), get("SOCKTRACE_SEED"),
		    report, ctx);
	load_backtrace(cfg, get("SOCKTRACE_BACKTRACE"), report, ctx);
	load_ctl(cfg, get("SOCKTRACE_CTL"), report, ctx);
	check_unknown(env, report, ctx);
}
