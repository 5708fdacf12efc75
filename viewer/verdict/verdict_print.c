/* The verdict for a terminal: one line per check, failures with what was
 * expected and what was seen. */
#include "verdict/verdict.h"

static void print_result(const struct result *r, FILE *out, bool color)
{
	const char *mark = r->pass ? "PASS" : "FAIL";

	if (color)
		fprintf(out, "%s%s\033[0m", r->pass ? "\033[32m" : "\033[1;31m", mark);
	else
		fputs(mark, out);
	fprintf(out, "  %s  %s\n", r->origin, r->name);
	if (!r->pass)
		fprintf(out, "        expected: %s\n", r->expected);
	fprintf(out, "        seen:     %s\n", r->seen);
}

void verdict_print(const struct verdict *v, FILE *out, bool color, bool failures_only)
{
	for (size_t i = 0; i < v->count; i++)
		if (!failures_only || !v->results[i].pass)
			print_result(&v->results[i], out, color);
	if (v->failed)
		fprintf(out, "%zu of %zu checks failed\n", v->failed, v->count);
	else
		fprintf(out, "all %zu checks passed\n", v->count);
}
