/* socktrace report: a run's verdict and figures in the formats CI systems
 * show, Markdown for a job summary and JUnit XML for their test lists. */
#ifndef SOCKTRACE_REPORT_H
#define SOCKTRACE_REPORT_H

#include "verdict/scenario.h"
#include "verdict/verdict.h"

#include <stddef.h>
#include <stdio.h>

struct report_input {
	const char *scenario_path;     /* NULL: no scenario, figures only */
	const struct verdict *verdict; /* NULL without a scenario */
	const char *const *paths;      /* the trace */
	size_t npaths;
};

/* Markdown: text in a table cell (no '|', newline or backquote breaks
 * it), and the same as a code span. */
void md_cell(FILE *out, const char *s);
void md_code(FILE *out, const char *s);

/* Each returns 0, or 1 when the trace could not be read (printed). */
int report_markdown(FILE *out, const struct report_input *in);
int report_junit(FILE *out, const struct report_input *in);

#endif
