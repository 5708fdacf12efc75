/* view_render: one or two passes over a trace into a renderer (render.h),
 * shared by socktrace view and the report's diagram. */
#include "render/render.h"

#include "model/pipeline.h"

#include <stdio.h>

struct run_state {
	const struct renderer *r;
	void *st;
};

static void scan_one(void *p, struct vev *ev)
{
	struct run_state *rs = p;

	rs->r->scan(rs->st, ev);
}

static void event_one(void *p, struct vev *ev)
{
	struct run_state *rs = p;

	rs->r->event(rs->st, ev);
}

static void nothing(void *p, struct vev *ev)
{
	(void)p;
	(void)ev;
}

int view_render(struct view_opts *o, const struct renderer *r, const char *const *paths,
		size_t npaths)
{
	struct pass pass;
	struct view_ctx ctx = { o, NULL, NULL };
	struct run_state rs = { r, NULL };
	unsigned flags = r->whole_records ? 0 : TR_LAZY;
	/* A first pass feeds the model and, with scan, the renderer: the
	 * second then knows how each connection's set-up ended and which
	 * ends were ever traced, and draws without waiting for causes that
	 * never come (causal.h). jsonl streams in one. */
	bool first = r->scan || o->format != FMT_JSONL;
	int failed, status;

	if (pass_open(&pass, paths, npaths, first ? TR_QUIET | TR_LAZY : flags) != 0)
		return 1;
	ctx.reader = &pass.reader;
	ctx.model = pass.model;
	rs.st = r->begin(&ctx);
	if (!rs.st) {
		pass_close(&pass);
		return 1;
	}
	if (first) {
		struct model *learnt;
		failed = pass_run(&pass, &o->filter, r->scan ? scan_one : nothing, &rs);
		if (!failed && r->rewind)
			r->rewind(rs.st, &ctx);
		learnt = pass.model;
		pass.model = NULL;
		pass_close(&pass);
		if (failed || pass_open(&pass, paths, npaths, flags) != 0) {
			model_free(learnt);
			r->finish(rs.st, false); /* nothing drawn yet */
			return 1;
		}
		model_take_prior(pass.model, learnt);
		model_free(learnt);
		/* The renderer keeps &ctx: it sees the second pass from here. */
		ctx.reader = &pass.reader;
		ctx.model = pass.model;
	}
	failed = pass_run(&pass, &o->filter, event_one, &rs);
	status = r->finish(rs.st, true);
	char note[512];
	pass_ordering_note(&pass, note, sizeof(note));
	if (note[0])
		fprintf(stderr, "socktrace view: %s\n", note);
	tr_report(&pass.reader, "socktrace view");
	pass_close(&pass);
	return failed ? 1 : status;
}

