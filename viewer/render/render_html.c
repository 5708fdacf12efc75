/* html: one self-contained page (no network needed to open it), an
 * explorer of the flow diagram. The tool writes the data once, as JSON:
 *
 *   cols   a column per process (or remote endpoint that was not traced)
 *          with its name, role and lane: columns of processes never
 *          alive at the same time share a lane, as in the text view;
 *   conns  the connection list (ends, bytes each way, how it ended);
 *   ev     per event its place, times, label (and where the label may be
 *          shortened: diagram.h), arrow and partner;
 *   rec    per event its whole record with the pairing fields, for the
 *          details panel.
 *
 * The page's script (html/explorer.js, with html/explorer.css, embedded
 * at build time) lays the rows out and draws only what is on screen, so
 * a page holds a whole long run. Stack frames that addr2line can place
 * get "src" ("file:line"), "src_func" and, inside inlined code,
 * "inlined" (the functions it was inlined into). docs/viewer.md, "HTML",
 * says what the page does. */
#include "render/render.h"

#include "render/evbuf.h"
#include "render/html_assets.h"
#include "util/oom.h"
#include "util/symbolize.h"
#include "util/textutil.h"

#include <stdlib.h>
#include <string.h>

#define PREVIEW_MAX 24

struct html {
	struct view_ctx *ctx;
	FILE *out;
	struct evbuf buf;
	struct symbolizer *sym;
	bool src;            /* some frame got a file:line */
	int *lane;           /* per column */
	int nlanes;
};

static void *ht_begin(struct view_ctx *ctx)
{
	struct html *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->ctx = ctx;
	s->out = ctx->o->out;
	evbuf_init(&s->buf, ctx->o->limit, PREVIEW_MAX, true);
	s->sym = sym_new(ctx->o->addr2line, "socktrace view");
	return s;
}

static void ht_event(void *p, struct vev *ev)
{
	struct html *s = p;
	size_t n = s->buf.n;

	evbuf_add(&s->buf, ev, s->ctx->model);
	if (s->buf.n > n && json_array_size(json_object_get(vev_json(ev), "stack")) > 0) {
		s->buf.v[n].stack = true;
		sym_want_stack(s->sym, vev_json(ev));
	}
}

static void set_src(json_t *o, const char *key, const struct sym_loc *l)
{
	char *v;
	size_t n;

	if (!l->file || !l->line)
		return;
	n = strlen(l->file) + 24;
	v = malloc(n);
	if (!v)
		return;
	snprintf(v, n, "%s:%lu", l->file, l->line);
	json_object_set_new(o, key, json_string(v));
	free(v);
}

/* Adds what addr2line says to the frames of a kept event's record; true
 * when some frame got a file:line. */
static bool annotate(struct html *s, struct bev *e)
{
	json_t *j = json_loads(e->json, JSON_ALLOW_NUL, NULL), *fr;
	size_t i;
	bool any = false;

	if (!j)
		return false;
	json_array_foreach(json_object_get(j, "stack"), i, fr) {
		struct sym_frame f;
		const struct sym_result *r;
		if (!sym_frame_decode(fr, &f) || !f.has_offset)
			continue;
		r = sym_get(s->sym, f.module, f.offset);
		if (!r->nlocs || !r->locs[0].file || !r->locs[0].line)
			continue;
		set_src(fr, "src", &r->locs[0]);
		if (r->locs[0].func)
			json_object_set_new(fr, "src_func", json_string(r->locs[0].func));
		if (r->nlocs > 1) {
			json_t *in = json_array();
			for (size_t k = 1; k < r->nlocs; k++) {
				json_t *x = json_object();
				if (r->locs[k].func)
					json_object_set_new(x, "func", json_string(r->locs[k].func));
				set_src(x, "src", &r->locs[k]);
				json_array_append_new(in, x);
			}
			json_object_set_new(fr, "inlined", in);
		}
		any = true;
	}
	if (any) {
		char *d = json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_ESCAPE_SLASH |
						JSON_PRESERVE_ORDER);
		if (d) {
			free(e->json);
			e->json = d;
		} else {
			any = false;
		}
	}
	json_decref(j);
	return any;
}

/* file:line for the stacks of the events kept: one addr2line per module. */
static void symbolize(struct html *s)
{
	sym_resolve(s->sym);
	for (size_t i = 0; i < s->buf.n; i++)
		if (s->buf.v[i].stack && s->buf.v[i].json && annotate(s, &s->buf.v[i]))
			s->src = true;
}

/* Lanes: a column takes the first lane free since before its first row,
 * preferring one whose last owner was the same program (the curls of a
 * run stay in the curl lanes), else a new one. Columns come ordered by
 * their first row within processes, then remote endpoints (evbuf). */
static void lay_out_lanes(struct html *s)
{
	const struct evbuf *b = &s->buf;
	size_t *last = oom_check(calloc(b->ncols + 1, sizeof(*last)));
	size_t *owner = oom_check(calloc(b->ncols + 1, sizeof(*owner)));

	s->lane = oom_check(calloc(b->ncols + 1, sizeof(*s->lane)));
	s->nlanes = 0;
	for (size_t c = 0; c < b->ncols; c++) {
		const struct bcol *col = &b->cols[c];
		int pick = -1;
		for (int l = 0; l < s->nlanes; l++) {
			const struct bcol *prev = &b->cols[owner[l]];
			if (last[l] >= col->first || prev->remote != col->remote)
				continue;
			if (pick < 0 || strcmp(prev->name, col->name) == 0) {
				pick = l;
				if (strcmp(prev->name, col->name) == 0)
					break;
			}
		}
		if (pick < 0)
			pick = s->nlanes++;
		s->lane[c] = pick;
		last[pick] = col->last;
		owner[pick] = c;
	}
	free(last);
	free(owner);
}

/* A JSON string ("</" written "<\/": no "</script>" may end the page's
 * data early). Bytes past ASCII go as they are: the page is UTF-8, and a
 * unix socket's path or the trace's own path may be. */
static void js_str(FILE *out, const char *s)
{
	char prev = 0;

	fputc('"', out);
	for (; *s; prev = *s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\' || (ch == '/' && prev == '<'))
			fprintf(out, "\\%c", ch);
		else if (ch < 0x20 || ch == 0x7f)
			fprintf(out, "\\u%04x", ch);
		else
			fputc(ch, out);
	}
	fputc('"', out);
}

static void js_key_str(FILE *out, const char *key, const char *v)
{
	fprintf(out, ",\"%s\":", key);
	js_str(out, v);
}

static int pid_col(const struct evbuf *b, int pid)
{
	for (size_t c = 0; c < b->ncols; c++)
		if (!b->cols[c].remote && b->cols[c].pid == pid)
			return (int)c;
	return -1;
}

static void write_cols(struct html *s)
{
	FILE *out = s->out;
	const struct evbuf *b = &s->buf;

	fputs("\"cols\":[", out);
	for (size_t c = 0; c < b->ncols; c++) {
		const struct bcol *col = &b->cols[c];
		fprintf(out, "%s{\"pid\":%d,\"remote\":%s,\"lane\":%d,\"first\":%zu,\"last\":%zu",
			c ? ",\n" : "", col->pid, col->remote ? "true" : "false", s->lane[c],
			col->first, col->last);
		fputs(",\"name\":", out);
		js_str(out, col->name);
		js_key_str(out, "sub", col->sub);
		js_key_str(out, "role", col->remote ? "" : model_role(s->ctx->model, col->pid));
		fputc('}', out);
	}
	fprintf(out, "],\n\"lanes\":%d,\n", s->nlanes);
}

static void write_conns(struct html *s)
{
	FILE *out = s->out;
	const struct model *m = s->ctx->model;
	char end[160];

	fputs("\"conns\":[", out);
	for (size_t i = 0; i < model_nconns(m); i++) {
		const struct conn *c = model_conn(m, i);
		int64_t msgs[2];
		/* A server that never saw the connection (refused by a fault
		 * before it got there) is still the one it was meant for. */
		int listener = c->side[1].seen ? 0 : model_listener(m, c->side[1].addr);
		int scol = c->side[1].seen ? pid_col(&s->buf, c->side[1].pid) :
			   listener ? pid_col(&s->buf, listener) : -1;
		int64_t up = conn_bytes(c, 0, &msgs[0]), down = conn_bytes(c, 1, &msgs[1]);
		fprintf(out, "%s{\"id\":%u,\"dgram\":%s,\"c\":%d,\"s\":%d,\"sseen\":%s,\"up\":%lld,\"down\":%lld,"
			"\"upm\":%lld,\"downm\":%lld,\"t0\":%lld,\"t1\":%lld,\"injected\":%s",
			i ? ",\n" : "", c->id, c->kind == CONN_DGRAM ? "true" : "false",
			c->side[0].seen ? pid_col(&s->buf, c->side[0].pid) : -1,
			scol, c->side[1].seen ? "true" : "false", (long long)up,
			(long long)down, (long long)msgs[0], (long long)msgs[1],
			(long long)c->first_t, (long long)c->last_t,
			c->fail_injected || c->side[0].reset_injected || c->side[1].reset_injected ||
					c->side[0].eof_injected || c->side[1].eof_injected ?
				"true" : "false");
		js_key_str(out, "proto", conn_proto(c));
		js_key_str(out, "caddr", c->side[0].addr ? c->side[0].addr : "");
		js_key_str(out, "saddr", c->side[1].addr ? c->side[1].addr : "");
		js_key_str(out, "setup", conn_outcome_text(c));
		js_key_str(out, "end", conn_end_text(c, end, sizeof(end)));
		js_key_str(out, "fail", conn_fail(c));
		fputc('}', out);
	}
	fputs("],\n", out);
}

enum { F_ERR = 1, F_FAULT = 2, F_WARN = 4, F_STACK = 8, F_PENDING = 16, F_NOTE = 32 };

static void write_events(struct html *s)
{
	FILE *out = s->out;
	const struct evbuf *b = &s->buf;

	fputs("\"ev\":[", out);
	for (size_t i = 0; i < b->n; i++) {
		const struct bev *e = &b->v[i];
		unsigned flags = (e->err ? F_ERR : 0) | (e->fault ? F_FAULT : 0) |
				 (e->warn ? F_WARN : 0) | (e->stack ? F_STACK : 0) |
				 (e->pending ? F_PENDING : 0) | (e->kind != TR_CALL ? F_NOTE : 0);
		bool arrow = e->a.kind != AR_NONE && e->pcol >= 0;
		fprintf(out, "%s[%llu,%d,%lld,%lld,%u,%u,", i ? ",\n" : "", (unsigned long long)e->seq,
			e->col, (long long)e->t, (long long)e->dur, flags, e->conn ? e->conn->id : 0);
		js_str(out, e->label);
		fprintf(out, ",%zu,%zu,%d,%d,%ld,%d,", e->parts.call_end, e->parts.result_end,
			arrow ? (int)e->a.kind : 0, arrow && e->a.out ? 1 : 0, arrow ? e->prow : -1L,
			arrow ? e->pcol : -1);
		js_str(out, arrow ? e->a.text : "");
		fputc(']', out);
	}
	fputs("],\n\"rec\":[", out);
	for (size_t i = 0; i < b->n; i++)
		fprintf(out, "%s%s", i ? ",\n" : "", b->v[i].json ? b->v[i].json : "{}");
	fputs("]", out);
}

static void write_data(struct html *s)
{
	FILE *out = s->out;
	const struct view_opts *o = s->ctx->o;

	fputs("<script type=\"application/json\" id=\"data\">{", out);
	fputs("\"title\":", out);
	js_str(out, o->title ? o->title : "");
	fprintf(out, ",\"gap\":%lld,\"over\":%lu,\"limit\":%zu,\"lines\":%s,\n", (long long)o->gap,
		s->buf.over, s->buf.limit, s->src ? "true" : "false");
	write_cols(s);
	write_conns(s);
	write_events(s);
	fputs("}</script>\n", out);
}

static void page(struct html *s)
{
	FILE *out = s->out;
	const struct view_opts *o = s->ctx->o;

	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width\">\n<title>socktrace view: ",
	      out);
	html_escape(out, o->title ? o->title : "");
	fputs("</title>\n<style>\n", out);
	fwrite(html_explorer_css, 1, html_explorer_css_len, out);
	fputs("</style></head>\n<body>\n"
	      "<header id=\"top\"><h1>socktrace view <span id=\"summary\"></span></h1>\n"
	      "<div id=\"tools\"><input id=\"filter\" type=\"search\" spellcheck=\"false\" "
	      "placeholder=\"filter: c3  :8080  127.0.0.1  curl  1234  connect  ECONNRESET  text\" "
	      "title=\"Words that must all match: c3 or conn:3 (a connection), :8080 (a port), "
	      "an address, a program, a pid, a call, an errno, or any text of the label; "
	      "-word hides what matches\">\n"
	      "<label>time <select id=\"axis\"><option value=\"rows\">one row per event, "
	      "pauses marked</option><option value=\"prop\">proportional</option></select></label>\n"
	      "<select id=\"scale\" title=\"proportional axis: pixels per millisecond\"></select>\n"
	      "<span id=\"count\"></span>\n"
	      "<span class=\"keys\">keys: <b>n</b>/<b>p</b> next/previous event of the selection, "
	      "<b>/</b> filter, <b>Esc</b> clear</span></div>\n"
	      "<p id=\"notes\"></p></header>\n"
	      "<div id=\"heads\"><div id=\"heads-inner\"></div></div>\n"
	      "<div id=\"scroll\" tabindex=\"0\"><div id=\"inner\"><div id=\"gut\"></div>"
	      "<svg id=\"flow\" xmlns=\"http://www.w3.org/2000/svg\"></svg></div></div>\n"
	      "<aside id=\"side\"><section id=\"conns\"><h2>Connections</h2>"
	      "<div id=\"conn-list\"></div></section>\n"
	      "<section id=\"details\"><p>Click an event for all its fields, a connection "
	      "above to follow it.</p></section></aside>\n",
	      out);
	write_data(s);
	fputs("<script>\n", out);
	fwrite(html_explorer_js, 1, html_explorer_js_len, out);
	fputs("</script>\n</body></html>\n", out);
}

static int ht_finish(void *p, bool draw)
{
	struct html *s = p;
	int rc = 0;

	if (draw) {
		evbuf_finish(&s->buf, s->ctx->model);
		symbolize(s);
		lay_out_lanes(s);
		page(s);
		if (s->buf.over)
			fprintf(stderr, "socktrace view: %lu event%s not drawn (over --limit %zu)\n",
				s->buf.over, s->buf.over == 1 ? "" : "s", s->buf.limit);
		rc = ferror(s->out) ? 1 : 0;
	}
	evbuf_free(&s->buf);
	sym_free(s->sym);
	free(s->lane);
	free(s);
	return rc;
}

const struct renderer render_html = {
	.begin = ht_begin,
	.event = ht_event,
	.finish = ht_finish,
};
