/* The output formats of `socktrace view`. Each renderer gets the shown
 * events in merged order, already paired. Streaming renderers (text,
 * perfetto, jsonl) write as they go; html and mermaid keep what they draw,
 * up to a limit. text reads the trace twice: a first pass lays out the
 * columns (which processes and remote endpoints appear, and when), so the
 * second can draw every row at once. */
#ifndef SOCKTRACE_RENDER_H
#define SOCKTRACE_RENDER_H

#include "model/filter.h"
#include "model/pairing.h"
#include "read/trace_reader.h"
#include "read/vev.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum view_format {
	FMT_TEXT,
	FMT_HTML,
	FMT_MERMAID,
	FMT_PERFETTO,
	FMT_JSONL,
};

/* --gap when not given: pauses of 100 ms and more are marked. */
#define VIEW_DEFAULT_GAP_NS ((int64_t)100 * 1000 * 1000)

struct view_opts {
	enum view_format format;
	int width;            /* text: columns of the terminal */
	bool color;
	bool ascii;           /* text: no box-drawing characters */
	size_t limit;         /* html, mermaid: events drawn at most */
	bool stacks;          /* text: each event's call stack under it */
	const char *addr2line; /* text (with stacks), html: file:line from this
				* program; NULL: none */
	struct filter filter;
	FILE *out;
	const char *title;    /* what was read, for html */
	int64_t gap;          /* text, html, mermaid: a pause of at least this
			       * long (ns) between two events is marked with
			       * its length; 0: never */
	bool pids;            /* text: the pid at the start of every row */
	bool all;             /* mermaid: every call, not only connection
			       * set-up, data, teardown, failures and faults */
	int group;            /* mermaid: processes of one program in one
			       * participant: 1 yes, 0 no, -1 when many */
};

/* What a pass has: the options, the reader and the model it feeds. */
struct view_ctx {
	const struct view_opts *o;
	struct tr_reader *reader;
	struct model *model;
};

struct renderer {
	/* Writes every record out whole (jsonl, perfetto): read with
	 * jansson. The others decode records with the reader's fast scanner
	 * and build a tree only for the ones they look into (vev_json): html
	 * for the events it draws, text and mermaid for a few notes. */
	bool whole_records;
	void *(*begin)(struct view_ctx *ctx);
	/* Optional first pass over the same events (text). */
	void (*scan)(void *st, struct vev *ev);
	/* At the end of the first pass, its model still in ctx; the same ctx
	 * then holds the second pass's reader and model. */
	void (*rewind)(void *st, struct view_ctx *ctx);
	void (*event)(void *st, struct vev *ev);
	/* After the last event (draw false: the first pass failed, nothing
	 * is written); returns the exit status (0, or 1 on a write error).
	 * Frees st. */
	int (*finish)(void *st, bool draw);
};

/* Reads the trace at paths and draws it with r as o says (one or two
 * passes). Returns the exit status: 0, or 1 (printed). */
int view_render(struct view_opts *o, const struct renderer *r, const char *const *paths,
		size_t npaths);

extern const struct renderer render_text;
extern const struct renderer render_html;
extern const struct renderer render_mermaid;
extern const struct renderer render_perfetto;
extern const struct renderer render_jsonl;

#endif
