/* The Markdown report, for a CI job summary (GitHub's $GITHUB_STEP_SUMMARY,
 * GitLab and Gitea render the same): the verdict, the stats tables, and
 * a Mermaid sequence diagram of the connections that matter: those of
 * failed checks and of injected faults. */
#include "verdict/report.h"

#include "model/pipeline.h"
#include "render/render.h"
#include "verdict/report_replay.h"
#include "stats/stats.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* Events drawn at most: a summary page, not the whole trace. */
#define DIAGRAM_LIMIT 200

/* A table cell: '|' would end it and a newline the row; backquotes would
 * open code spans the text never closes. */
void md_cell(FILE *out, const char *s)
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

void md_code(FILE *out, const char *s)
{
	fputc('`', out);
	md_cell(out, s);
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
			md_code(out, r->origin);
			fputs(" | ", out);
			md_code(out, r->name);
			fputs(" | ", out);
			md_cell(out, r->expected);
			fputs(" | ", out);
			md_cell(out, r->seen);
			fputs(" |\n", out);
		}
	}
}

struct figures {
	struct stats *st;
	struct replay *rp;
	unsigned long failures; /* failed calls, faults, warnings */
};

static void count_event(void *p, struct vev *ev)
{
	struct figures *fg = p;

	stats_add(fg->st, ev);
	replay_count(fg->rp, ev);
	fg->failures += vev_is_error(ev);
}

/* The stats tables, then how to replay the run; *failures: how many
 * events a failure diagram would draw. */
static int stats_section(FILE *out, const struct report_input *in, unsigned long *failures)
{
	struct pass pass;
	struct figures fg = { stats_new(), replay_new(), 0 };
	int status;

	if (pass_open(&pass, in->paths, in->npaths, TR_QUIET | TR_FAST) != 0) {
		stats_free(fg.st);
		replay_free(fg.rp);
		return 1;
	}
	status = pass_run(&pass, NULL, count_event, &fg);
	if (status == 0) {
		fputs("\n### Calls and connections\n\n```text\n", out);
		stats_print(fg.st, pass.model, 50, out);
		fputs("```\n", out);
		replay_print(fg.rp, &pass.reader, out);
	}
	*failures = fg.failures;
	stats_free(fg.st);
	replay_free(fg.rp);
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
static int diagram_section(FILE *out, const struct report_input *in, unsigned long failures)
{
	uint32_t ids[256];
	size_t n = involved(in->verdict, ids, sizeof(ids) / sizeof(ids[0]));
	struct view_opts o;
	int status;

	if (in->verdict && n == 0) {
		fputs("\nNo failed check or injected fault involved a connection.\n", out);
		return 0;
	}
	if (!in->verdict && failures == 0) {
		/* A healthy run: a "not yet" of a non-blocking call is none. */
		fputs("\nNo failed call, injected fault or warning.\n", out);
		return 0;
	}
	memset(&o, 0, sizeof(o));
	filter_init(&o.filter);
	o.format = FMT_MERMAID;
	o.limit = DIAGRAM_LIMIT;
	o.gap = VIEW_DEFAULT_GAP_NS;
	o.group = -1; /* as socktrace view draws it */
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
		md_cell(out, in->scenario_path);
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
		md_code(out, in->paths[i]);
	}
	if (v)
		fprintf(out, ", %lu records\n\n", v->events);
	else
		fputs("\n", out);
	if (v)
		verdict_table(out, v);
	unsigned long failures = 0;
	if (stats_section(out, in, &failures) != 0)
		return 1;
	return diagram_section(out, in, failures);
}
