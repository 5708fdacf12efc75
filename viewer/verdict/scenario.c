#include "verdict/scenario.h"

#include "util/oom.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RULES_MAX 256
#define EXPECTS_MAX 256
/* Larger is no scenario: the shim refuses files above 16 MiB too. */
#define TEXT_MAX (16u << 20)

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static void keep_error(struct st_scenario *sc, const char *name, unsigned line, unsigned col,
		       const char *message, const char *suggestion)
{
	struct st_scenario_error *e;

	sc->errors = xrealloc(sc->errors, (sc->nerrors + 1) * sizeof(*sc->errors));
	e = &sc->errors[sc->nerrors++];
	e->name = xstrdup(name);
	e->line = line;
	e->col = col;
	e->message = xstrdup(message);
	e->suggestion = dup_or_null(suggestion);
}

static void parse_error(void *ctx, const struct st_parse_error *e)
{
	struct st_scenario *sc = ctx;

	if (!sc->quiet)
		fprintf(stderr, "%s\n", e->text);
	if (sc->keep_errors)
		keep_error(sc, e->name, e->line, e->col, e->message, e->suggestion);
}

/* An error about a file as a whole: "PATH: message". */
static void file_error(struct st_scenario *sc, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void file_error(struct st_scenario *sc, const char *path, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!sc->quiet)
		fprintf(stderr, "%s: %s\n", path, msg);
	if (sc->keep_errors)
		keep_error(sc, path, 0, 0, msg, NULL);
}

static int ensure_rules(struct st_scenario *sc)
{
	if (sc->rules.rules)
		return 0;
	sc->rules.rules = calloc(RULES_MAX, sizeof(*sc->rules.rules));
	sc->rules.cap = RULES_MAX;
	sc->rules.count = 0;
	sc->expects.v = calloc(EXPECTS_MAX, sizeof(*sc->expects.v));
	sc->expects.cap = EXPECTS_MAX;
	sc->expects.count = 0;
	sc->rules.expects = &sc->expects;
	return sc->rules.rules && sc->expects.v ? 0 : -1;
}

static int parse(struct st_scenario *sc, const char *name, const char *text, size_t len,
		 bool inline_rules)
{
	if (ensure_rules(sc) != 0)
		return -1;
	return st_rules_parse_detailed(&sc->rules, name, text, len, inline_rules, parse_error, sc)
		       ? -1
		       : 0;
}

int st_scenario_load_text(struct st_scenario *sc, const char *name, const char *text)
{
	return parse(sc, name, text, strlen(text), true);
}

/* The whole of fd, NUL-terminated; NULL (said) on a read error or when
 * it is too large. */
static char *read_all(struct st_scenario *sc, const char *name, int fd, size_t *lenp)
{
	char *text = NULL;
	size_t len = 0, cap = 0;

	for (;;) {
		if (len + 4096 + 1 > cap) {
			cap = cap * 2 + 8192;
			text = xrealloc(text, cap);
		}
		ssize_t n = read(fd, text + len, 4096);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			file_error(sc, name, "cannot read: %s", strerror(errno));
			free(text);
			return NULL;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > TEXT_MAX) {
			file_error(sc, name, "larger than 16 MiB; a scenario is a text file of rules");
			free(text);
			return NULL;
		}
	}
	text[len] = '\0';
	*lenp = len;
	return text;
}

int st_scenario_load_fd(struct st_scenario *sc, const char *name, int fd)
{
	size_t len;
	char *text;
	int rc;

	if (ensure_rules(sc) != 0)
		return -1;
	text = read_all(sc, name, fd, &len);
	if (!text)
		return -1;
	rc = parse(sc, name, text, len, false);
	free(text);
	return rc;
}

int st_scenario_load_file(struct st_scenario *sc, const char *path)
{
	struct stat st;
	int fd, rc;

	if (ensure_rules(sc) != 0)
		return -1;
	/* Not fopen: a FIFO must not hang `check`, and a directory opens. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		file_error(sc, path, "cannot open: %s", strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		file_error(sc, path, "not a regular file; a scenario is a text file of rules");
		close(fd);
		return -1;
	}
	rc = st_scenario_load_fd(sc, path, fd);
	close(fd);
	return rc;
}

int st_scenario_load_file_text(struct st_scenario *sc, const char *name, const char *text)
{
	return parse(sc, name, text, strlen(text), false);
}

void st_scenario_free(struct st_scenario *sc)
{
	for (size_t i = 0; i < sc->nerrors; i++) {
		free(sc->errors[i].name);
		free(sc->errors[i].message);
		free(sc->errors[i].suggestion);
	}
	free(sc->errors);
	free(sc->rules.rules);
	free(sc->expects.v);
	memset(sc, 0, sizeof(*sc));
}
