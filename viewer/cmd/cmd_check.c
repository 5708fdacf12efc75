/* socktrace check: validate scenario files and rules without running
 * anything. */
#include "cmd/cli.h"
#include "cmd/commands.h"
#include "util/oom.h"
#include "verdict/scenario.h"
#include "verdict/verdict.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* What -f rules are called, as the shim calls the rules of the variable
 * they become under socktrace run -f. */
#define INLINE_NAME "SOCKTRACE_FAULTS"
#define STDIN_NAME "stdin"

static void usage(FILE *out)
{
	fputs("usage: socktrace check [-q] [--json] [-f RULE]... [FILE|-]...\n"
	      "\n"
	      "Parses each scenario file (- reads one from standard input, named stdin)\n"
	      "and each -f rule as the shim would, and reports every error as\n"
	      "FILE:LINE:COL: what is wrong, with the fix where there is one. Prints\n"
	      "each valid rule and expect line in its normalised form, prefixed with\n"
	      "its FILE:LINE. -f rules are named as socktrace run -f names them,\n"
	      "SOCKTRACE_FAULTS:N (N counting the rules of every -f, ';' separating\n"
	      "more than one), and hold rules only, no expect lines.\n"
	      "Exits 0 when everything is valid, 1 otherwise, 2 on bad usage.\n"
	      "\n"
	      "options:\n"
	      "  -f, --fault RULE  check RULE too (repeatable), as socktrace run -f\n"
	      "  -q, --quiet       print only errors (with --json: nothing on stderr)\n"
	      "      --json        one JSON document on standard output instead, errors\n"
	      "                    still on standard error unless -q; keys sorted:\n"
	      "                      {\"valid\", \"files\": [{\"name\", \"valid\",\n"
	      "                        \"rules\": [{\"origin\", \"line\", \"text\", \"optional\"}],\n"
	      "                        \"expects\": [{\"origin\", \"line\", \"text\", \"conditions\"}],\n"
	      "                        \"errors\": [{\"origin\", \"line\", \"col\", \"message\",\n"
	      "                                    \"suggestion\" (when there is one)}]}]}\n"
	      "                    text: normalised; an error about a whole file (cannot\n"
	      "                    open it) has no line and col\n"
	      "  -h, --help        this text\n",
	      out);
}

/* Rules and expect lines as they come in the file. */
static void print_in_file_order(const struct st_scenario *sc)
{
	size_t r = 0, e = 0;

	while (r < sc->rules.count || e < sc->expects.count) {
		const struct st_rule *rule = r < sc->rules.count ? &sc->rules.rules[r] : NULL;
		const struct st_expect *x = e < sc->expects.count ? &sc->expects.v[e] : NULL;
		if (rule && (!x || st_origin_line(rule->origin, NULL) < st_origin_line(x->sel.origin, NULL))) {
			printf("%s: %s\n", rule->origin, rule->text);
			r++;
		} else {
			printf("%s: %s\n", x->sel.origin, x->text);
			e++;
		}
	}
}

static json_t *line_or_null(const char *origin)
{
	unsigned line = st_origin_line(origin, NULL);

	return line ? json_integer(line) : json_null();
}

static json_t *error_json(const struct st_scenario_error *e)
{
	json_t *j = json_object();
	char origin[ST_RULE_ORIGIN_MAX + 32];

	if (e->line) {
		snprintf(origin, sizeof(origin), "%s:%u:%u", e->name, e->line, e->col);
		json_object_set_new(j, "line", json_integer(e->line));
		json_object_set_new(j, "col", json_integer(e->col));
	} else {
		snprintf(origin, sizeof(origin), "%s", e->name);
	}
	json_object_set_new(j, "origin", verdict_json_text(origin));
	json_object_set_new(j, "message", verdict_json_text(e->message));
	if (e->suggestion)
		json_object_set_new(j, "suggestion", verdict_json_text(e->suggestion));
	return j;
}

/* One entry of "files": what one file (or the -f rules) holds. */
static json_t *file_json(const char *name, const struct st_scenario *sc, bool valid)
{
	json_t *j = json_object(), *rules = json_array(), *expects = json_array(),
	       *errors = json_array();

	for (size_t i = 0; i < sc->rules.count; i++) {
		const struct st_rule *r = &sc->rules.rules[i];
		json_t *o = json_object();
		json_object_set_new(o, "origin", verdict_json_text(r->origin));
		json_object_set_new(o, "line", line_or_null(r->origin));
		json_object_set_new(o, "text", verdict_json_text(r->text));
		json_object_set_new(o, "optional", json_boolean(r->optional));
		json_array_append_new(rules, o);
	}
	for (size_t i = 0; i < sc->expects.count; i++) {
		const struct st_expect *x = &sc->expects.v[i];
		json_t *o = json_object(), *conds = json_array();
		for (size_t k = 0; k < x->nchecks; k++)
			json_array_append_new(conds, verdict_json_text(x->checks[k].text));
		json_object_set_new(o, "origin", verdict_json_text(x->sel.origin));
		json_object_set_new(o, "line", line_or_null(x->sel.origin));
		json_object_set_new(o, "text", verdict_json_text(x->text));
		json_object_set_new(o, "conditions", conds);
		json_array_append_new(expects, o);
	}
	for (size_t i = 0; i < sc->nerrors; i++)
		json_array_append_new(errors, error_json(&sc->errors[i]));
	json_object_set_new(j, "name", verdict_json_text(name));
	json_object_set_new(j, "valid", json_boolean(valid));
	json_object_set_new(j, "rules", rules);
	json_object_set_new(j, "expects", expects);
	json_object_set_new(j, "errors", errors);
	return j;
}

/* Adds one -f rule to the text of them all, one a line. */
static void add_rule(char **text, size_t *len, const char *rule)
{
	size_t n = strlen(rule);

	*text = xrealloc(*text, *len + n + 2);
	memcpy(*text + *len, rule, n);
	*len += n;
	(*text)[(*len)++] = '\n';
	(*text)[*len] = '\0';
}

int cmd_check(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "fault", required_argument, NULL, 'f' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "json", no_argument, NULL, 'J' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool quiet = false, json = false, seen_stdin = false;
	char *rules = NULL;
	size_t rules_len = 0;
	json_t *doc = NULL, *files = NULL;
	int opt, status = 0;

	optind = 1;
	while ((opt = cli_getopt(argc, argv, "f:qh", longopts)) != -1) {
		switch (opt) {
		case 'f':
			add_rule(&rules, &rules_len, optarg);
			break;
		case 'q':
			quiet = true;
			break;
		case 'J':
			json = true;
			break;
		case 'h':
			usage(stdout);
			free(rules);
			return 0;
		default:
			free(rules);
			return ST_EXIT_USAGE; /* cli_getopt said why */
		}
	}
	for (int i = optind; i < argc; i++) {
		if (strcmp(argv[i], "-") != 0)
			continue;
		if (seen_stdin) {
			free(rules);
			return cli_usage_error("- (standard input) given twice");
		}
		seen_stdin = true;
	}
	if (optind >= argc && !rules) {
		return cli_usage_error("nothing to check: give scenario files, - for standard "
				       "input, or -f RULE");
	}
	if (json) {
		doc = json_object();
		files = json_array();
	}
	/* Files in the order given, then the -f rules: the order in which
	 * socktrace run and the shim read them. */
	for (int i = optind; i <= argc; i++) {
		struct st_scenario sc;
		const char *name;
		int rc;

		memset(&sc, 0, sizeof(sc));
		sc.keep_errors = json;
		sc.quiet = json && quiet;
		if (i < argc && strcmp(argv[i], "-") == 0) {
			name = STDIN_NAME;
			rc = st_scenario_load_fd(&sc, name, STDIN_FILENO);
		} else if (i < argc) {
			name = argv[i];
			rc = st_scenario_load_file(&sc, name);
		} else if (rules) {
			name = INLINE_NAME;
			rc = st_scenario_load_text(&sc, name, rules);
		} else {
			break;
		}
		if (rc != 0)
			status = 1;
		if (json)
			json_array_append_new(files, file_json(name, &sc, rc == 0));
		else if (rc == 0 && !quiet)
			print_in_file_order(&sc);
		st_scenario_free(&sc);
	}
	free(rules);
	if (json) {
		json_object_set_new(doc, "valid", json_boolean(status == 0));
		json_object_set_new(doc, "files", files);
		if (json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_ENSURE_ASCII) != 0 ||
		    fputc('\n', stdout) == EOF || fflush(stdout) != 0) {
			cli_error("cannot write the output");
			status = 1;
		}
		json_decref(doc);
	}
	return status;
}
