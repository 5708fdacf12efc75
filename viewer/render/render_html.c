/* html: one self-contained page (no network needed to open it) with the
 * flow diagram as SVG: a column per process or remote endpoint, a box per
 * call, arrows from the earlier to the later of two paired calls (slanted
 * when both are drawn). Hovering an event shows all of its fields on the
 * side, clicking pins it and highlights what it pairs with. The records
 * are embedded once as JSON; the page's script only reads them, so a few
 * thousand events stay quick. Stack frames that addr2line can place get
 * "src" ("file:line"), "src_func" and, inside inlined code, "inlined" (the
 * functions it was inlined into), and the stack in the details panel shows
 * them; a page without any keeps the plain script. */
#include "render/render.h"

#include "render/evbuf.h"
#include "util/symbolize.h"
#include "util/textutil.h"

#include <stdlib.h>
#include <string.h>

#define ROW_H 22
#define COL_W 270
#define GUTTER 84
#define TOP 8
#define CHAR_W 7.25
#define LABEL_MAX 34
#define PREVIEW_MAX 24

struct html {
	struct view_ctx *ctx;
	FILE *out;
	struct evbuf buf;
	struct symbolizer *sym;
	bool src;            /* some frame got a file:line */
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

static const char *kind_class(enum arrow_kind k)
{
	switch (k) {
	case AR_CONNECT:
		return "connect";
	case AR_DATA:
		return "data";
	case AR_CLOSE:
		return "close";
	default:
		return "fail";
	}
}

static int col_x(int col)
{
	return GUTTER + col * COL_W + 12;
}

static int row_y(long row)
{
	return TOP + (int)row * ROW_H + ROW_H / 2;
}

static const char style[] =
	"body{font:14px system-ui,sans-serif;margin:0;color:#222}"
	"header{padding:10px 16px;border-bottom:1px solid #ddd;margin-right:364px}"
	"h1{font-size:18px;margin:0 0 4px}"
	"header p{margin:2px 0}.warn{color:#a40}"
	".legend span{margin-right:14px}"
	"#main{margin-right:380px;overflow-x:auto}"
	"#heads{position:sticky;top:0;background:#fff;border-bottom:1px solid #ddd;z-index:1}"
	"svg text{font:12px ui-monospace,Menlo,Consolas,monospace}"
	".colname{font-weight:bold;font-size:13px}.colsub{fill:#777}"
	".life{stroke:#bbb;stroke-width:1}"
	".t{fill:#888;text-anchor:end}"
	".ev{cursor:pointer}.ev rect{fill:#f6f6f6;stroke:#999}"
	".ev.err rect{fill:#fee;stroke:#c22}.ev.err text{fill:#a00}"
	".ev.fault rect{fill:#fde8fd;stroke:#a0a;stroke-width:2}"
	".ev.warn rect{fill:#fff6d5;stroke:#c90;stroke-width:2}"
	".ev.hl rect{fill:#fff3b0}.ev.sel rect{stroke:#06c;stroke-width:2.5}"
	".ar{fill:none;stroke-width:1.4}.ar.connect{stroke:#088}.ar.data{stroke:#26c}"
	".ar.close{stroke:#c80;stroke-dasharray:4 3}.ar.fail{stroke:#c22}"
	".al{font-size:10px;fill:#555;paint-order:stroke;stroke:#fff;stroke-width:3px}"
	"#details{position:fixed;right:0;top:0;width:364px;height:100vh;overflow:auto;"
	"border-left:1px solid #ddd;background:#fafafa;padding:8px;box-sizing:border-box}"
	"#details table{border-collapse:collapse;width:100%}"
	"#details th{text-align:left;vertical-align:top;padding:2px 6px 2px 0;color:#555;"
	"font-weight:normal}"
	"#details td{font:12px ui-monospace,monospace;word-break:break-all;padding:2px 0}"
	"#details h2{font-size:15px;margin:4px 0 8px}.stack{font:12px ui-monospace,monospace}";

/* The script, in three parts: the middle one draws a stack frame, with
 * its file:line when the page has some. */
static const char script_head[] =
	"(function(){\n"
	"var data=JSON.parse(document.getElementById('events').textContent);\n"
	"var det=document.getElementById('details'),flow=document.getElementById('flow');\n"
	"var bySeq={},pairedBy={},pinned=null,lit=[];\n"
	"data.forEach(function(r,i){bySeq[r.seq]=i;(r.pair||[]).forEach(function(q){"
	"(pairedBy[q]=pairedBy[q]||[]).push(r.seq);});});\n"
	"function esc(s){return String(s).replace(/[&<>\"]/g,function(c){return{'&':'&amp;',"
	"'<':'&lt;','>':'&gt;','\"':'&quot;'}[c];});}\n"
	"function el(seq){return document.getElementById('e'+seq);}\n"
	"function show(i){var r=data[i],g=el(r.seq);\n"
	" var h='<h2>'+esc(r.fn||r.rec)+' <small>#'+r.seq+'</small></h2>';\n"
	" h+='<p>'+esc(g?g.getAttribute('data-when'):'')+'</p><table>';\n"
	" Object.keys(r).forEach(function(k){if(k==='stack')return;var v=r[k];\n"
	"  h+='<tr><th>'+esc(k)+'</th><td>'+esc(typeof v==='object'?JSON.stringify(v):v)+'</td></tr>';});\n"
	" h+='</table>';\n"
	" if(r.stack){h+='<h3>stack</h3><ol class=\"stack\">';[].concat(r.stack).forEach(function(f){\n";

static const char script_frame[] =
	"  var t=f&&typeof f==='object'?(f.func||f.ip||'?')+(f.module?'  '+f.module+(f.offset?'+'+f.offset:''):''):f;\n"
	"  h+='<li>'+esc(t)+'</li>';});h+='</ol>';}\n";

static const char script_frame_src[] =
	"  var o=f&&typeof f==='object',t=o?(f.src_func||f.func||f.ip||'?')+(f.src?'  '+f.src:'')"
	"+(f.module?'  '+f.module+(f.offset?'+'+f.offset:''):''):f;\n"
	"  h+='<li>'+esc(t);if(o&&f.inlined)[].concat(f.inlined).forEach(function(x){"
	"h+='<br>inlined in '+esc((x&&x.func||'?')+(x&&x.src?'  '+x.src:''));});h+='</li>';});h+='</ol>';}\n";

static const char script_tail[] =
	" det.innerHTML=h;\n"
	" lit.forEach(function(e){e.classList.remove('hl');});lit=[];\n"
	" (r.pair||[]).concat(pairedBy[r.seq]||[]).forEach(function(q){var e=el(q);"
	"if(e){e.classList.add('hl');lit.push(e);}});}\n"
	"flow.addEventListener('mouseover',function(e){var g=e.target.closest('.ev');"
	"if(g&&pinned===null)show(+g.getAttribute('data-i'));});\n"
	"flow.addEventListener('click',function(e){var g=e.target.closest('.ev');\n"
	" if(pinned!==null){var o=el(data[pinned].seq);if(o)o.classList.remove('sel');}\n"
	" if(!g||(pinned!==null&&+g.getAttribute('data-i')===pinned)){pinned=null;return;}\n"
	" pinned=+g.getAttribute('data-i');g.classList.add('sel');show(pinned);});\n"
	"document.body.setAttribute('data-ready',String(data.length));\n"
	"})();\n";

static void svg_text(FILE *out, const char *s, size_t max)
{
	char buf[LABEL_MAX + 8];

	if (strlen(s) > max) {
		snprintf(buf, sizeof(buf), "%.*s...", (int)(max - 3), s);
		s = buf;
	}
	html_escape(out, s);
}

static void heads(struct html *s, int width)
{
	FILE *out = s->out;
	const struct evbuf *b = &s->buf;

	fprintf(out, "<div id=\"heads\"><svg width=\"%d\" height=\"42\">\n", width);
	fprintf(out, "<text x=\"%d\" y=\"18\" class=\"t\">time</text>\n", GUTTER - 8);
	for (size_t c = 0; c < b->ncols; c++) {
		fprintf(out, "<text x=\"%d\" y=\"18\" class=\"colname\">", col_x((int)c) - 4);
		svg_text(out, b->cols[c].name, LABEL_MAX);
		fprintf(out, "</text><text x=\"%d\" y=\"34\" class=\"colsub\">", col_x((int)c) - 4);
		html_escape(out, b->cols[c].sub);
		fputs("</text>\n", out);
	}
	fputs("</svg></div>\n", out);
}

static void arrows(struct html *s)
{
	FILE *out = s->out;
	const struct evbuf *b = &s->buf;

	fputs("<g class=\"arrows\">\n", out);
	for (size_t i = 0; i < b->n; i++) {
		const struct bev *e = &b->v[i];
		int x1, y1, x2, y2;
		if (e->a.kind == AR_NONE || e->pcol < 0)
			continue;
		/* From the other end (its own row when drawn) to this one. */
		x1 = col_x(e->pcol);
		y1 = row_y(e->prow >= 0 ? e->prow : (long)i);
		x2 = col_x(e->col);
		y2 = row_y((long)i);
		if (e->a.out) {
			int tx = x1, ty = y1;
			x1 = x2;
			y1 = y2;
			x2 = tx;
			y2 = ty;
		}
		fprintf(out, "<line class=\"ar %s\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" marker-end=\"url(#h-%s)\"/>",
			kind_class(e->a.kind), x1, y1, x2, y2, kind_class(e->a.kind));
		if (e->a.text[0]) {
			fprintf(out, "<text class=\"al\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">",
				(x1 + x2) / 2, (y1 + y2) / 2 - 3);
			html_escape(out, e->a.text);
			fputs("</text>", out);
		}
		fputc('\n', out);
	}
	fputs("</g>\n", out);
}

static void events(struct html *s)
{
	FILE *out = s->out;
	const struct evbuf *b = &s->buf;
	char t[32], d[32];

	fputs("<g class=\"events\">\n", out);
	for (size_t i = 0; i < b->n; i++) {
		const struct bev *e = &b->v[i];
		size_t len = strlen(e->label);
		int x = col_x(e->col) + 4, y = row_y((long)i);
		if (len > LABEL_MAX)
			len = LABEL_MAX;
		fmt_secs(t, sizeof(t), e->tend);
		fmt_dur(d, sizeof(d), e->dur);
		fprintf(out, "<text class=\"t\" x=\"%d\" y=\"%d\">%s</text>", GUTTER - 8, y + 4, t);
		fprintf(out, "<g class=\"ev%s%s%s\" id=\"e%llu\" data-i=\"%zu\" data-when=\"returned at %ss, took %s\"><title>",
			e->err ? " err" : "", e->fault ? " fault" : "", e->warn ? " warn" : "",
			(unsigned long long)e->seq, i, t, d);
		html_escape(out, e->label);
		fprintf(out, " (%s)</title><rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" rx=\"3\"/><text x=\"%d\" y=\"%d\">",
			d, x, y - 9, (int)((double)len * CHAR_W) + 12, ROW_H - 4, x + 6, y + 4);
		if (e->fault)
			fputs("\xe2\x9a\xa1 ", out);
		else if (e->warn)
			fputs("\xe2\x9a\xa0 ", out);
		svg_text(out, e->label, LABEL_MAX);
		fputs("</text></g>\n", out);
	}
	fputs("</g>\n", out);
}

static void markers(FILE *out)
{
	static const struct {
		const char *name, *colour;
	} m[] = { { "connect", "#088" }, { "data", "#26c" }, { "close", "#c80" } };

	fputs("<defs>", out);
	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++)
		fprintf(out, "<marker id=\"h-%s\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"8\" markerHeight=\"8\" orient=\"auto\"><path d=\"M0,0L10,5L0,10z\" fill=\"%s\"/></marker>",
			m[i].name, m[i].colour);
	fputs("<marker id=\"h-fail\" viewBox=\"0 0 10 10\" refX=\"5\" refY=\"5\" markerWidth=\"9\" markerHeight=\"9\"><path d=\"M1,1L9,9M9,1L1,9\" stroke=\"#c22\" stroke-width=\"2\"/></marker>",
	      out);
	fputs("</defs>\n", out);
}

static void page(struct html *s)
{
	FILE *out = s->out;
	struct evbuf *b = &s->buf;
	struct view_ctx *ctx = s->ctx;
	int width = GUTTER + (int)b->ncols * COL_W + 40;
	int height = TOP + (int)b->n * ROW_H + 10;
	size_t procs = 0;

	for (size_t c = 0; c < b->ncols; c++)
		procs += !b->cols[c].remote;
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>socktrace view: ",
	      out);
	html_escape(out, ctx->o->title);
	fprintf(out, "</title>\n<style>%s</style></head>\n<body>\n<header><h1>socktrace view</h1><p>",
		style);
	html_escape(out, ctx->o->title);
	fprintf(out, ": %zu event%s drawn, %zu process%s", b->n, b->n == 1 ? "" : "s", procs,
		procs == 1 ? "" : "es");
	if (b->ncols > procs)
		fprintf(out, ", %zu endpoint%s not traced", b->ncols - procs,
			b->ncols - procs == 1 ? "" : "s");
	fprintf(out, ", %zu connection%s</p>\n", model_nconns(ctx->model),
		model_nconns(ctx->model) == 1 ? "" : "s");
	if (b->over)
		fprintf(out, "<p class=\"warn\" id=\"over\">%lu more event%s not drawn (--limit %zu): narrow the view with --pid, --conn, --fn, --since/--until, or raise --limit.</p>\n",
			b->over, b->over == 1 ? "" : "s", b->limit);
	fputs("<p class=\"legend\"><span style=\"color:#088\">&#9654; connect/accept</span>"
	      "<span style=\"color:#26c\">&#9654; data (bytes)</span>"
	      "<span style=\"color:#c80\">- - &#9654; close (FIN/RST)</span>"
	      "<span style=\"color:#c22\">&#10007; failed call</span>"
	      "<span style=\"color:#a0a\">&#9889; injected fault</span>"
	      "<span style=\"color:#c90\">&#9888; warning of the shim</span>"
	      "<span>times: seconds since the first traced process started, when each call returned</span></p>\n"
	      "</header>\n<div id=\"main\">\n",
	      out);
	heads(s, width);
	fprintf(out, "<svg id=\"flow\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\">\n",
		width, height);
	markers(out);
	fputs("<g class=\"lifelines\">\n", out);
	for (size_t c = 0; c < b->ncols; c++)
		fprintf(out, "<line class=\"life\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>\n",
			col_x((int)c), row_y((long)b->cols[c].first) - ROW_H / 2, col_x((int)c),
			row_y((long)b->cols[c].last) + ROW_H / 2);
	fputs("</g>\n", out);
	arrows(s);
	events(s);
	fputs("</svg>\n</div>\n<aside id=\"details\"><p>Hover over an event to see all its fields; click to keep it.</p></aside>\n"
	      "<script type=\"application/json\" id=\"events\">[\n",
	      out);
	for (size_t i = 0; i < b->n; i++)
		fprintf(out, "%s%s\n", b->v[i].json, i + 1 < b->n ? "," : "");
	fprintf(out, "]</script>\n<script>\n%s%s%s</script>\n</body></html>\n", script_head,
		s->src ? script_frame_src : script_frame, script_tail);
}

static int ht_finish(void *p, bool draw)
{
	struct html *s = p;
	int rc = 0;

	if (draw) {
		evbuf_finish(&s->buf, s->ctx->model);
		symbolize(s);
		page(s);
		if (s->buf.over)
			fprintf(stderr, "socktrace view: %lu event%s not drawn (over --limit %zu)\n",
				s->buf.over, s->buf.over == 1 ? "" : "s", s->buf.limit);
		rc = ferror(s->out) ? 1 : 0;
	}
	evbuf_free(&s->buf);
	sym_free(s->sym);
	free(s);
	return rc;
}

const struct renderer render_html = {
	.begin = ht_begin,
	.event = ht_event,
	.finish = ht_finish,
};
