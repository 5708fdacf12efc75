/* Rule files and inline rules, read by the tool exactly as the shim reads
 * them (same parser, same messages), so `check` and `run` can refuse a bad
 * scenario before any program starts. */
#ifndef SOCKTRACE_SCENARIO_H
#define SOCKTRACE_SCENARIO_H

#include "expect.h"
#include "rules.h"

struct st_scenario {
	struct st_ruleset rules;
	struct st_expectset expects; /* `expect` lines of files */
};

/* Reads and parses a file, rules and expectations; errors are printed on
 * stderr. Returns 0 when the file is valid, -1 otherwise (sc is usable
 * and must be freed). Loading more files adds to sc. */
int st_scenario_load_file(struct st_scenario *sc, const char *path);
/* Parses inline rules (';' or newline separated) named as in messages;
 * they hold no expectations. */
int st_scenario_load_text(struct st_scenario *sc, const char *name, const char *text);
/* Parses text as the contents of a file called name. */
int st_scenario_load_file_text(struct st_scenario *sc, const char *name, const char *text);
void st_scenario_free(struct st_scenario *sc);

#endif
