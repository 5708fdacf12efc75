#include "verdict/scenario.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RULES_MAX 256
#define EXPECTS_MAX 256

static void print_error(void *ctx, const char *message)
{
	(void)ctx;
	fprintf(stderr, "%s\n", message);
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

int st_scenario_load_text(struct st_scenario *sc, const char *name, const char *text)
{
	if (ensure_rules(sc) != 0)
		return -1;
	return st_rules_parse(&sc->rules, name, text, strlen(text), true, print_error, NULL) ? -1 : 0;
}

int st_scenario_load_file(struct st_scenario *sc, const char *path)
{
	FILE *f;
	char *text = NULL;
	size_t len = 0, cap = 0;
	int rc;

	if (ensure_rules(sc) != 0)
		return -1;
	/* Not fopen: a FIFO must not hang `check`, and a directory opens. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	struct stat st;
	if (fd < 0) {
		fprintf(stderr, "%s: cannot open: %s\n", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		fprintf(stderr, "%s: not a regular file; a scenario is a text file of rules\n", path);
		close(fd);
		return -1;
	}
	f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return -1;
	}
	for (;;) {
		if (len + 4096 + 1 > cap) {
			char *bigger = realloc(text, cap = cap * 2 + 8192);
			if (!bigger) {
				free(text);
				fclose(f);
				return -1;
			}
			text = bigger;
		}
		size_t n = fread(text + len, 1, 4096, f);
		len += n;
		if (n < 4096)
			break;
	}
	fclose(f);
	text[len] = '\0';
	rc = st_rules_parse(&sc->rules, path, text, len, false, print_error, NULL) ? -1 : 0;
	free(text);
	return rc;
}

int st_scenario_load_file_text(struct st_scenario *sc, const char *name, const char *text)
{
	if (ensure_rules(sc) != 0)
		return -1;
	return st_rules_parse(&sc->rules, name, text, strlen(text), false, print_error, NULL) ? -1 : 0;
}

void st_scenario_free(struct st_scenario *sc)
{
	free(sc->rules.rules);
	free(sc->expects.v);
	memset(sc, 0, sizeof(*sc));
}
