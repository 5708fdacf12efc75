/* Rule files and inline rules, read by the tool exactly as the shim reads
 * them (same parser, same messages), so `check` and `run` can refuse a bad
 * scenario before any program starts. */
#ifndef SOCKTRACE_SCENARIO_H
#define SOCKTRACE_SCENARIO_H

#include "rules.h"

struct st_scenario {
	struct st_ruleset rules;
};

/* Reads and parses a file; errors are printed on stderr. Returns 0 when
 * the file is valid, -1 otherwise (sc is usable and must be freed). */
int st_scenario_load_file(struct st_scenario *sc, const char *path);
/* Parses inline rules (';' or newline separated) named as in messages. */
int st_scenario_load_text(struct st_scenario *sc, const char *name, const char *text);
void st_scenario_free(struct st_scenario *sc);

#endif
