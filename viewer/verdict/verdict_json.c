/* socktrace assert --json: the verdict as one JSON document, for scripts
 * (keys sorted, the same data as the text and the JUnit report):
 *
 *   {"scenario": PATH, "traces": [PATH...], "pass": BOOL,
 *    "checks": N, "passed": N, "failed": N, "summary": "4 of 6 checks failed",
 *    "events": N, "span_ns": N,
 *    "results": [{"kind": "expect"|"rule", "origin": "FILE:LINE", "file", "line",
 *                 "text": "expect connect count>=4", "condition": "count>=4",
 *                 "pass", "expected", "seen", "value": N|null, "unit",
 *                 "connections": ["c1", ...],
 *                 rules also: "optional", "selected", "calls"}]}
 *
 * value is what was counted (unit: calls, bytes, ns to recover, acts of a
 * rule); null when nothing was (succeeds, a recovery that never came). */
#include "verdict/verdict.h"

#include "util/oom.h"
#include "util/textutil.h"

#include <stdlib.h>
#include <string.h>

json_t *verdict_json_text(const char *s)
{
	json_t *j = json_string(s ? s : "");
	char *copy;

	if (j)
		return j;
	copy = xstrdup(s);
	sanitize_ascii(copy);
	j = json_string(copy);
	free(copy);
	return j;
}

static json_t *result_json(const struct result *r)
{
	json_t *j = json_object(), *conns = json_array();
	size_t file_len;
	unsigned line = st_origin_line(r->origin, &file_len);
	char *file = xstrdup(r->origin);

	file[file_len] = '\0';
	json_object_set_new(j, "kind", json_string(r->kind == RESULT_RULE ? "rule" : "expect"));
	json_object_set_new(j, "origin", verdict_json_text(r->origin));
	json_object_set_new(j, "file", verdict_json_text(file));
	json_object_set_new(j, "line", line ? json_integer(line) : json_null());
	json_object_set_new(j, "text", verdict_json_text(r->name));
	json_object_set_new(j, "condition", verdict_json_text(r->condition));
	json_object_set_new(j, "pass", json_boolean(r->pass));
	json_object_set_new(j, "expected", verdict_json_text(r->expected));
	json_object_set_new(j, "seen", verdict_json_text(r->seen));
	json_object_set_new(j, "value", r->has_value ? json_integer((json_int_t)r->value)
						      : json_null());
	json_object_set_new(j, "unit", r->has_value ? json_string(r->unit) : json_null());
	for (size_t i = 0; i < r->nconns; i++) {
		char id[16];
		snprintf(id, sizeof(id), "c%u", r->conns[i]);
		json_array_append_new(conns, json_string(id));
	}
	json_object_set_new(j, "connections", conns);
	if (r->kind == RESULT_RULE) {
		json_object_set_new(j, "optional", json_boolean(r->optional));
		json_object_set_new(j, "selected", json_integer((json_int_t)r->selected));
		json_object_set_new(j, "calls", json_integer((json_int_t)r->of_its_calls));
	}
	free(file);
	return j;
}

int verdict_print_json(const struct verdict *v, const char *scenario, const char *const *paths,
		       size_t npaths, FILE *out)
{
	json_t *doc = json_object(), *traces = json_array(), *results = json_array();
	char summary[96];
	int rc;

	for (size_t i = 0; i < npaths; i++)
		json_array_append_new(traces, verdict_json_text(paths[i]));
	for (size_t i = 0; i < v->count; i++)
		json_array_append_new(results, result_json(&v->results[i]));
	if (v->failed)
		snprintf(summary, sizeof(summary), "%zu of %zu checks failed", v->failed, v->count);
	else
		snprintf(summary, sizeof(summary), "all %zu checks passed", v->count);
	json_object_set_new(doc, "scenario", verdict_json_text(scenario));
	json_object_set_new(doc, "traces", traces);
	json_object_set_new(doc, "pass", json_boolean(v->failed == 0));
	json_object_set_new(doc, "checks", json_integer((json_int_t)v->count));
	json_object_set_new(doc, "passed", json_integer((json_int_t)(v->count - v->failed)));
	json_object_set_new(doc, "failed", json_integer((json_int_t)v->failed));
	json_object_set_new(doc, "summary", json_string(summary));
	json_object_set_new(doc, "events", json_integer((json_int_t)v->events));
	json_object_set_new(doc, "span_ns", json_integer(v->span_ns));
	json_object_set_new(doc, "results", results);
	rc = json_dumpf(doc, out, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
	fputc('\n', out);
	json_decref(doc);
	return rc == 0 ? 0 : 1;
}
