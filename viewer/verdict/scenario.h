/* Rule files and inline rules, read by the tool exactly as the shim reads
 * them (same parser, same messages), so `check` and `run` can refuse a bad
 * scenario before any program starts. */
#ifndef SOCKTRACE_SCENARIO_H
#define SOCKTRACE_SCENARIO_H

#include "expect.h"
#include "rules.h"

#include <stdbool.h>
#include <stddef.h>

/* One error found while loading, in its parts (check --json). */
struct st_scenario_error {
	char *name;       /* the file, "stdin" or SOCKTRACE_FAULTS */
	unsigned line;    /* 0 with col: about the file as a whole */
	unsigned col;
	char *message;    /* what is wrong, and the fix, without the place */
	char *suggestion; /* the word meant ("port"), or NULL */
};

struct st_scenario {
	struct st_ruleset rules;
	struct st_expectset expects; /* `expect` lines of files */
	/* Set before loading: keep each error in errors[]; print none on
	 * stderr. Both off (the default): printed, not kept. */
	bool keep_errors;
	bool quiet;
	struct st_scenario_error *errors;
	size_t nerrors;
};

/* Reads and parses a file, rules and expectations; errors are printed on
 * stderr. Returns 0 when the file is valid, -1 otherwise (sc is usable
 * and must be freed). Loading more files adds to sc. */
int st_scenario_load_file(struct st_scenario *sc, const char *path);
/* Reads a scenario file's text from a descriptor to its end (standard
 * input: socktrace check -), named name in messages. */
int st_scenario_load_fd(struct st_scenario *sc, const char *name, int fd);
/* Parses inline rules (';' or newline separated) named as in messages;
 * they hold no expectations. */
int st_scenario_load_text(struct st_scenario *sc, const char *name, const char *text);
/* Parses text as the contents of a file called name. */
int st_scenario_load_file_text(struct st_scenario *sc, const char *name, const char *text);
void st_scenario_free(struct st_scenario *sc);

#endif
