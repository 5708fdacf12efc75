/* The Markdown report, for a CI job summary (GitHub's $GITHUB_STEP_SUMMARY,
 * GitLab and Gitea render the same): the verdict, the stats tables, and
 * a Mermaid sequence diagram of the connections that matter: those of
 * failed checks and of injected faults. */
#include "report.h"

#include "pipeline.h"
#include "render.h"
#include "stats.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* Events drawn at most: a summary page, not the whole trace. */
#define DIAGRAM_LIMIT 200

/* A table cell: '|' would end it and a newline the row; backquotes would
 * open code spans the text never closes. */
static void cell(FILE *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '|')
			fputs("\\|", out);
		else if (*s == '\n' || *s == '\r')
			fputc(' ', out);
		else if (*s == '`')
			fputc('\'', out);
		else
			fputc(*s, out);
	}
}

static void code_cell(FILE *out, const char *s)
{
	fputc('`', out);
	cell(out, s);
	fputc('`', out);
}

static void verdict_table(FILE *out, const struct verdict *v)
{
	fputs("| | where | check | expected | seen |\n|---|---|---|---|---|\n", out);
	/* Failures first: they are what the reader came for. */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < v->count; i++) {
			const struct result *r = &v->results[i];
			if (r->pass != (pass == 1))
				continue;
			fprintf(out, "| %s | ", r->pass ? "✅" : "❌");
			code_cell(out, r->origin);
			fputs(" | ", out);
			code_cell(out, r->name);
			fputs(" | ", out);
			cell(out, r->expected);
			fputs(" | ", out);
			cell(out, r->seen);
			fputs(" |\n", out);
		}
	}
}

static void count_event(void *st, struct vev *ev)
{
	stats_add(st, ev);
}

static int stats_section(FILE *out, const struct report_input *in)
{
	struct pass pass;
	struct stats *st;
	int status;

	if (pass_open(&pass, in->paths, in->npaths, TR_QUIET | TR_FAST) != 0)
		return 1;
	st = stats_new();
	status = pass_run(&pass, NULL, count_event, st);
	if (status == 0) {
		fputs("\n### Calls and connections\n\n```text\n", out);
		stats_print(st, pass.model, 50, out);
		fputs("```\n", out);
	}
	stats_free(st);
	pass_close(&pass);
	return status;
}

/* The connections of failed checks and of rules that acted. */
static size_t involved(const struct verdict *v, uint32_t *ids, size_t cap)
{
	size_t n = 0;

	for (size_t i = 0; v && i < v->count; i++) {
		const struct result *r = &v->results[i];
		if (r->pass && r->kind == RESULT_EXPECT)
			continue;
		for (size_t k = 0; k < r->nconns && n < cap; k++) {
			bool dup = false;
			for (size_t j = 0; j < n && !dup; j++)
				dup = ids[j] == r->conns[k];
			if (!dup)
				ids[n++] = r->conns[k];
		}
	}
	return n;
}

/* Without a scenario there are no checks: draw the connections where
 * faults or errors happened, found by the filter's --errors. */
static int diagram_section(FILE *out, const struct report_input *in)
{
	uint32_t ids[256];
	size_t n = involved(in->verdict, ids, sizeof(ids) / sizeof(ids[0]));
	struct view_opts o;
	int status;

	if (in->verdict && n == 0) {
		fputs("\nNo failed check or injected fault involved a connection.\n", out);
		return 0;
	}
	memset(&o, 0, sizeof(o));
	filter_init(&o.filter);
	o.format = FMT_MERMAID;
	o.limit = DIAGRAM_LIMIT;
	o.out = out;
	o.title = in->paths[0];
	if (in->verdict) {
		o.filter.conn_ids = ids;
		o.filter.nconn_ids = n;
		fputs("\n### Connections of failed checks and faults\n\n```mermaid\n", out);
	} else {
		o.filter.errors = true;
		fputs("\n### Failed calls and faults\n\n```mermaid\n", out);
	}
	fflush(out);
	status = view_render(&o, &render_mermaid, in->paths, in->npaths);
	fputs("```\n", out);
	/* ids is ours, not the filter's to free. */
	o.filter.conn_ids = NULL;
	o.filter.nconn_ids = 0;
	filter_free(&o.filter);
	return status;
}

int report_markdown(FILE *out, const struct report_input *in)
{
	const struct verdict *v = in->verdict;

	if (v) {
		fputs("## socktrace: ", out);
		cell(out, in->scenario_path);
		if (v->failed)
			fprintf(out, " ❌ %zu of %zu checks failed\n\n", v->failed, v->count);
		else
			fprintf(out, " ✅ all %zu checks passed\n\n", v->count);
	} else {
		fputs("## socktrace report\n\n", out);
	}
	fputs("Trace:", out);
	for (size_t i = 0; i < in->npaths; i++) {
		fputc(' ', out);
		code_cell(out, in->paths[i]);
	}
	if (v)
		fprintf(out, ", %lu records\n\n", v->events);
	else
		fputs("\n", out);
	if (v)
		verdict_table(out, v);
	if (stats_section(out, in) != 0)
		return 1;
	return diagram_section(out, in);
}
