/* text: the flow diagram in the terminal.
 *
 *   time        tcp_server 1001               tcp_client 1002
 *   0.000120    [socket(inet, stream) = 3]
 *   0.000180    [listen(3, 16) 127.0.0.1:7000]
 *   0.250300    |                             [connect(3, 127.0.0.1:7000)]
 *   0.250410    [accept(3) = 4 127.0.0.1:40001] <==== c1 ======|
 *
 * One column per process (and per remote endpoint that was not traced),
 * one row per event in the order calls returned, the time it returned on
 * the left. An arrow is drawn on the row of the later of two paired
 * events, from the column of the earlier one. Columns of processes that
 * do not overlap in time share a lane when there are too many to fit.
 *
 * The first pass finds the columns and when each is in use; the second
 * draws.
 *
 * With --stacks, the call stack an event recorded follows its row, one
 * line per frame, innermost first, indented under the event's box:
 *
 *   0.051884  [connect(5, 127.0.0.1:7000) = -1 ECONNREFUSED] 611ns
 *               #0 db_connect  callers.c:54
 *               #1 health_check  callers.c:64
 *
 * file:line comes from addr2line, run once per module after the first
 * pass over every frame it saw; without it, module+offset. */
#include "render/render.h"
#include "util/oom.h"

#include "render/diagram.h"
#include "util/hmap.h"
#include "util/symbolize.h"
#include "util/textutil.h"

#include <stdlib.h>
#include <string.h>

#define MIN_COL 18
#define MAX_COL 64
#define PREVIEW_MAX 24
#define MIN_ARROW 5
/* Columns a stack line gets at least (it starts further left if need be). */
#define STACK_MIN 40
/* Shortest a function name or location is cut to when a line is too long. */
#define STACK_FUNC_MIN 20
#define STACK_WHERE_MIN 24

enum attr {
	A_NONE = 0,
	A_DIM = 1 << 0,
	A_BOLD = 1 << 1,
	/* colours, in the bits above */
	A_RED = 1 << 2,
	A_GREEN = 2 << 2,
	A_YELLOW = 3 << 2,
	A_BLUE = 4 << 2,
	A_MAGENTA = 5 << 2,
	A_CYAN = 6 << 2,
};
#define A_COLOUR_MASK (7 << 2)

struct cell {
	uint32_t cp;
	uint8_t attr;
};

struct tcol {
	bool remote;
	bool has_calls;      /* a process column with calls shown (or arrows to it) */
	int pid;
	char key[ADDR_MAX + 16];
	char label[ADDR_MAX + 48];  /* program, or remote address */
	char sub[32];              /* "pid 1234", "not traced" */
	uint64_t first, last;
	int lane;
};

/* A connection whose peer may turn out not to be traced. */
struct cand {
	int other;
	char key[ADDR_MAX + 16];
	uint64_t first, last;
};

struct glyphs {
	uint32_t life, line, dline, cline, right, left, end_l, end_r, cross, fault, warn;
};

static const struct glyphs utf8_glyphs = {
	0x2502, 0x2500, 0x2550, 0x254c, 0x25b6, 0x25c0, 0x251c, 0x2524, 0x2717, 0x26a1, 0x26a0,
};
static const struct glyphs ascii_glyphs = {
	'|', '-', '=', '.', '>', '<', '|', '|', 'x', '!', '!',
};

struct text {
	struct view_ctx *ctx;
	const struct view_opts *o;
	FILE *out;
	const struct glyphs *g;
	/* Pass 1. */
	struct tcol *cols;
	size_t ncols, capcols;
	struct hmap by_pid;      /* pid -> col index + 1 */
	struct hmap by_remote;   /* key -> col index + 1 */
	struct hmap cands;       /* conn id -> struct cand */
	int64_t max_t;
	unsigned long scanned;
	/* Between the passes. */
	uint8_t *seen;           /* per conn id: conn_final() at the end */
	char (*fail)[24];        /* per conn id: errno of a failed connection */
	size_t nseen;
	size_t *by_first;        /* shown columns, sorted by first row */
	size_t nshown;
	size_t next_start;
	int *lane_cur;           /* column drawing in each lane, -1 none */
	int nlanes, colw, gutter, tw;
	/* Pass 2. */
	struct cell *row;
	unsigned long rows;
	uint64_t last_seq;
	/* --stacks */
	struct symbolizer *sym;
	unsigned long stacks;    /* shown events with a stack */
};

/* ---- columns ---- */

static size_t col_get(struct text *s, bool remote, int pid, const char *key, uint64_t seq)
{
	struct hmap *h = remote ? &s->by_remote : &s->by_pid;
	const void *k = remote ? (const void *)key : (const void *)&pid;
	size_t klen = remote ? strlen(key) : sizeof(pid);
	uintptr_t idx = (uintptr_t)hmap_get(h, k, klen);
	struct tcol *c;

	if (idx) {
		c = &s->cols[idx - 1];
		if (seq < c->first)
			c->first = seq;
		if (seq > c->last)
			c->last = seq;
		return idx - 1;
	}
	if (s->ncols == s->capcols) {
		size_t ncap = s->capcols ? s->capcols * 2 : 16;
		struct tcol *nv = realloc(s->cols, ncap * sizeof(*nv));
		if (!nv) {
			oom_exit();
		}
		s->cols = nv;
		s->capcols = ncap;
	}
	c = &s->cols[s->ncols];
	memset(c, 0, sizeof(*c));
	c->remote = remote;
	c->pid = pid;
	if (remote)
		snprintf(c->key, sizeof(c->key), "%s", key);
	c->first = c->last = seq;
	c->lane = -1;
	s->ncols++;
	if (hmap_put(h, k, klen, (void *)(uintptr_t)s->ncols) != 0) {
		oom_exit();
	}
	return s->ncols - 1;
}

static int col_find(const struct text *s, bool remote, int pid, const char *key)
{
	uintptr_t idx = remote ? (uintptr_t)hmap_gets(&s->by_remote, key) :
				 (uintptr_t)hmap_get(&s->by_pid, &pid, sizeof(pid));

	return idx ? (int)idx - 1 : -1;
}

/* What the first pass learnt about a connection by its end. */
static unsigned final_of(const struct text *s, const struct conn *c)
{
	return c->id < s->nseen ? s->seen[c->id] : 0;
}

/* ---- pass 1 ---- */

static void *tx_begin(struct view_ctx *ctx)
{
	struct text *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->ctx = ctx;
	s->o = ctx->o;
	s->out = ctx->o->out;
	s->g = ctx->o->ascii ? &ascii_glyphs : &utf8_glyphs;
	if (ctx->o->stacks)
		s->sym = sym_new(ctx->o->addr2line, "socktrace view");
	return s;
}

static void cand_free(void *p)
{
	free(p);
}

static void tx_scan(void *p, struct vev *ev)
{
	struct text *s = p;
	struct arrow a;
	size_t ci;

	if (!ev_drawn(ev))
		return;
	ci = col_get(s, false, ev->pid, NULL, ev->seq);
	s->scanned++;
	if (s->sym && json_is_array(json_object_get(vev_json(ev), "stack"))) {
		sym_want_stack(s->sym, vev_json(ev));
		s->stacks++;
	}
	if (ev->tend > s->max_t)
		s->max_t = ev->tend;
	if (ev->kind == TR_CALL || ev->kind == TR_WARNING || ev->kind == TR_CTL)
		s->cols[ci].has_calls = true;
	ev_arrow(ev, s->ctx->model, &a);
	if (a.kind == AR_NONE)
		return;
	if (a.pid) {
		ci = col_get(s, false, a.pid, NULL, ev->seq);
		s->cols[ci].has_calls = true;
		return;
	}
	/* Whether the peer is traced is known only at the end. */
	uint32_t id = ev->conn->id;
	struct cand *c = hmap_get(&s->cands, &id, sizeof(id));
	if (!c) {
		c = calloc(1, sizeof(*c));
		if (!c || hmap_put(&s->cands, &id, sizeof(id), c) != 0) {
			oom_exit();
		}
		c->other = 1 - ev->side;
		snprintf(c->key, sizeof(c->key), "%s", a.remote);
		c->first = ev->seq;
	}
	c->last = ev->seq;
}

static int cmp_first(const void *a, const void *b, void *ctx)
{
	const struct tcol *cols = ctx;
	const struct tcol *x = &cols[*(const size_t *)a], *y = &cols[*(const size_t *)b];

	if (x->remote != y->remote)
		return x->remote ? 1 : -1;
	if (x->first != y->first)
		return x->first < y->first ? -1 : 1;
	return 0;
}

static int cmp_start(const void *a, const void *b, void *ctx)
{
	const struct tcol *cols = ctx;
	const struct tcol *x = &cols[*(const size_t *)a], *y = &cols[*(const size_t *)b];

	if (x->first != y->first)
		return x->first < y->first ? -1 : 1;
	return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

/* Lanes: one per column when they fit, else columns that are never in use
 * at the same time share one, first come first served. */
static void lay_out(struct text *s, size_t *order, size_t n)
{
	int avail, fit;
	uint64_t *lane_end = calloc(n ? n : 1, sizeof(*lane_end));

	if (!lane_end) {
		oom_exit();
	}
	char tbuf[32];
	s->gutter = (int)strlen(fmt_secs(tbuf, sizeof(tbuf), s->max_t)) + 2;
	if (s->gutter < 10)
		s->gutter = 10;
	avail = s->o->width - s->gutter;
	fit = avail / MIN_COL;
	if (fit < 1)
		fit = 1;
	s->nlanes = 0;
	if ((int)n <= fit) {
		for (size_t i = 0; i < n; i++)
			s->cols[order[i]].lane = s->nlanes++;
	} else {
		/* In order of start; processes before remote endpoints. */
		for (size_t i = 0; i < n; i++) {
			struct tcol *c = &s->cols[order[i]];
			int l;
			for (l = 0; l < s->nlanes && lane_end[l] >= c->first; l++)
				;
			if (l == s->nlanes)
				s->nlanes++;
			c->lane = l;
			lane_end[l] = c->last;
		}
	}
	free(lane_end);
	if (s->nlanes == 0)
		s->nlanes = 1;
	s->colw = avail / s->nlanes;
	if (s->colw > MAX_COL)
		s->colw = MAX_COL;
	if (s->colw < MIN_COL)
		s->colw = MIN_COL;
	s->tw = s->gutter + s->nlanes * s->colw;
	if (s->tw < s->o->width)
		s->tw = s->o->width;
}

/* Called at the end of the first pass, its model still alive. */
static void tx_rewind(void *p, struct view_ctx *ctx)
{
	struct text *s = p;
	struct model *m = ctx->model;
	size_t n = 0, pos = 0;
	const struct hmap_ent *e;
	size_t *order;

	/* Which sides of each connection were ever traced. */
	s->nseen = model_nconns(m) + 1;
	s->seen = calloc(s->nseen, 1);
	s->fail = calloc(s->nseen, sizeof(*s->fail));
	if (!s->seen || !s->fail) {
		oom_exit();
	}
	for (size_t i = 0; i < model_nconns(m); i++) {
		const struct conn *c = model_conn(m, i);
		s->seen[c->id] = (uint8_t)conn_final(c);
		memcpy(s->fail[c->id], c->fail, sizeof(s->fail[0]));
	}
	/* Remote endpoints: connections whose peer was never traced. */
	while ((e = hmap_next(&s->cands, &pos))) {
		struct cand *c = e->val;
		uint32_t id;
		memcpy(&id, e->key, sizeof(id));
		if (id < s->nseen && (s->seen[id] & (c->other == 0 ? CF_SEEN0 : CF_SEEN1)))
			continue;
		size_t ci = col_get(s, true, 0, c->key, c->first);
		col_get(s, true, 0, c->key, c->last);
		snprintf(s->cols[ci].label, sizeof(s->cols[ci].label), "%s", c->key);
		snprintf(s->cols[ci].sub, sizeof(s->cols[ci].sub), "not traced");
		s->cols[ci].has_calls = true;
	}
	order = calloc(s->ncols + 1, sizeof(*order));
	if (!order) {
		oom_exit();
	}
	for (size_t i = 0; i < s->ncols; i++) {
		struct tcol *c = &s->cols[i];
		if (!c->has_calls)
			continue; /* exec and exit records only: no socket in sight */
		if (!c->remote) {
			/* The names the whole trace gives. */
			snprintf(c->label, sizeof(c->label), "%s", model_prog(m, c->pid));
			sanitize_ascii(c->label);
			proc_caption(m, c->pid, c->sub, sizeof(c->sub));
		}
		order[n++] = i;
	}
	qsort_r(order, n, sizeof(*order), cmp_first, s->cols);
	lay_out(s, order, n);
	qsort_r(order, n, sizeof(*order), cmp_start, s->cols);
	s->by_first = order;
	s->nshown = n;
	s->lane_cur = malloc((size_t)s->nlanes * sizeof(*s->lane_cur));
	s->row = calloc((size_t)s->tw, sizeof(*s->row));
	if (!s->lane_cur || !s->row) {
		oom_exit();
	}
	for (int l = 0; l < s->nlanes; l++)
		s->lane_cur[l] = -1;
	/* Every frame the second pass will show, one addr2line per module. */
	if (s->sym)
		sym_resolve(s->sym);
}

/* ---- drawing ---- */

static void row_clear(struct text *s)
{
	for (int x = 0; x < s->tw; x++) {
		s->row[x].cp = ' ';
		s->row[x].attr = A_NONE;
	}
}

static void put_cp(struct text *s, int x, uint32_t cp, uint8_t attr)
{
	if (x >= 0 && x < s->tw) {
		s->row[x].cp = cp;
		s->row[x].attr = attr;
	}
}

/* ASCII text from x, not beyond maxx (exclusive); returns the end. */
static int put_str(struct text *s, int x, int maxx, const char *str, uint8_t attr)
{
	for (; *str && x < maxx && x < s->tw; str++, x++)
		put_cp(s, x, (unsigned char)*str, attr);
	return x;
}

static void put_utf8(FILE *out, uint32_t cp)
{
	if (cp < 0x80) {
		fputc((int)cp, out);
	} else if (cp < 0x800) {
		fputc((int)(0xc0 | (cp >> 6)), out);
		fputc((int)(0x80 | (cp & 0x3f)), out);
	} else {
		fputc((int)(0xe0 | (cp >> 12)), out);
		fputc((int)(0x80 | ((cp >> 6) & 0x3f)), out);
		fputc((int)(0x80 | (cp & 0x3f)), out);
	}
}

static void set_attr(FILE *out, uint8_t attr)
{
	fputs("\033[0", out);
	if (attr & A_BOLD)
		fputs(";1", out);
	if (attr & A_DIM)
		fputs(";2", out);
	if (attr & A_COLOUR_MASK)
		fprintf(out, ";%d", 30 + ((attr & A_COLOUR_MASK) >> 2));
	fputc('m', out);
}

static void row_flush(struct text *s)
{
	int end = s->tw;
	uint8_t cur = A_NONE;

	while (end > 0 && s->row[end - 1].cp == ' ')
		end--;
	for (int x = 0; x < end; x++) {
		if (s->o->color && s->row[x].attr != cur) {
			cur = s->row[x].attr;
			set_attr(s->out, cur);
		}
		put_utf8(s->out, s->row[x].cp);
	}
	if (s->o->color && cur != A_NONE)
		fputs("\033[0m", s->out);
	fputc('\n', s->out);
	s->rows++;
}

static int lane_x(const struct text *s, int lane)
{
	return s->gutter + lane * s->colw;
}

static void lifelines(struct text *s)
{
	for (int l = 0; l < s->nlanes; l++)
		if (s->lane_cur[l] >= 0)
			put_cp(s, lane_x(s, l), s->g->life, A_DIM);
}

static void header(struct text *s)
{
	for (int line = 0; line < 2; line++) {
		row_clear(s);
		if (line == 0)
			put_str(s, 0, s->gutter, "time", A_DIM);
		for (int l = 0; l < s->nlanes; l++) {
			for (size_t i = 0; i < s->nshown; i++) {
				const struct tcol *c = &s->cols[s->by_first[i]];
				if (c->lane != l)
					continue;
				put_str(s, lane_x(s, l), lane_x(s, l) + s->colw - 1,
					line ? c->sub : c->label, line ? A_DIM : A_BOLD);
				break;
			}
		}
		row_flush(s);
	}
}

/* Columns that begin at this row take their lane; one that takes a lane
 * from an earlier column gets a row with its name. */
static void start_columns(struct text *s, uint64_t seq)
{
	while (s->next_start < s->nshown) {
		size_t ci = s->by_first[s->next_start];
		struct tcol *c = &s->cols[ci];
		if (c->first > seq)
			break;
		s->next_start++;
		bool taken = false;
		for (size_t k = 0; k < s->next_start - 1; k++)
			if (s->cols[s->by_first[k]].lane == c->lane)
				taken = true;
		s->lane_cur[c->lane] = (int)ci;
		if (!taken)
			continue;
		for (int line = 0; line < 2; line++) {
			row_clear(s);
			lifelines(s);
			put_str(s, lane_x(s, c->lane), lane_x(s, c->lane) + s->colw - 1,
				line ? c->sub : c->label, line ? A_DIM : A_BOLD);
			row_flush(s);
		}
	}
}

static uint8_t arrow_attr(enum arrow_kind k)
{
	switch (k) {
	case AR_CONNECT:
		return A_CYAN;
	case AR_DATA:
		return A_GREEN;
	case AR_CLOSE:
		return A_YELLOW;
	case AR_FAIL:
		return A_RED;
	default:
		return A_NONE;
	}
}

/* The arrow between columns x0 < x1 (exclusive of both), head at the
 * right or the left end, its text in the middle when it fits. */
static void draw_arrow(struct text *s, int x0, int x1, bool head_right, const struct arrow *a)
{
	uint8_t at = arrow_attr(a->kind);
	uint32_t line = a->kind == AR_CONNECT ? s->g->dline :
			a->kind == AR_CLOSE ? s->g->cline : s->g->line;
	int len = x1 - x0 - 1, tl = (int)strlen(a->text);

	if (len < 1)
		return;
	for (int x = x0 + 1; x < x1; x++)
		put_cp(s, x, line, at);
	if (head_right)
		put_cp(s, x1 - 1, a->kind == AR_FAIL ? s->g->cross : s->g->right, at);
	else
		put_cp(s, x0 + 1, a->kind == AR_FAIL ? s->g->cross : s->g->left, at);
	if (tl && tl + 4 <= len) {
		int tx = x0 + 1 + (len - tl - 2) / 2;
		put_cp(s, tx, ' ', at);
		put_str(s, tx + 1, tx + 1 + tl, a->text, at);
		put_cp(s, tx + 1 + tl, ' ', at);
	}
}

/* Cuts str to at most max bytes: "..." at the end, or at the start when
 * keep_tail (a location's line number or offset is at its end). */
static void cut_to(char *str, size_t cap, size_t max, bool keep_tail)
{
	size_t len = strlen(str);

	if (len <= max || max < 4 || max >= cap)
		return;
	if (keep_tail) {
		memmove(str + 3, str + len - (max - 3), max - 3 + 1);
		memcpy(str, "...", 3);
	} else {
		memcpy(str + max - 3, "...", 4);
	}
}

/* One line of a stack: "#N func  where (inlined)". */
struct sline {
	char num[24];
	char func[256];
	char where[600];
	bool inlined;
};

/* Fits a line into cols columns: the function is cut first, then a long
 * location from its start (its line or offset is at the end), then both
 * further; the rest is clipped when drawn. Returns its length. */
static int sline_fit(struct sline *l, int cols)
{
	static const int min[4] = { STACK_FUNC_MIN, STACK_WHERE_MIN, 8, 12 };
	int suffix = l->inlined ? 10 : 0; /* " (inlined)" */
	int fl = 0, wl = 0;

	for (int step = 0; step < 5; step++) {
		bool is_func = step % 2 == 0;
		fl = (int)strlen(l->func);
		wl = (int)strlen(l->where);
		int over = fl + (wl ? 2 + wl : 0) + suffix - cols;
		int len = is_func ? fl : wl;
		if (over <= 0 || step == 4)
			break;
		if (len > min[step])
			cut_to(is_func ? l->func : l->where, is_func ? sizeof(l->func) : sizeof(l->where),
			       (size_t)(len - over > min[step] ? len - over : min[step]), !is_func);
	}
	return fl + (wl ? 2 + wl : 0) + suffix;
}

static void sline_draw(struct text *s, int x, int numw, const struct sline *l, int gap_at)
{
	row_clear(s);
	lifelines(s);
	/* The stack's text covers the lifelines it crosses; those past its
	 * longest line show again. */
	for (int c = x; c < gap_at && c < s->tw; c++)
		put_cp(s, c, ' ', A_NONE);
	put_str(s, x, x + numw, l->num, A_DIM);
	x += numw + 1;
	x = put_str(s, x, s->tw, l->func, A_NONE);
	if (*l->where)
		x = put_str(s, x + 2, s->tw, l->where, A_DIM);
	if (l->inlined)
		put_str(s, x, s->tw, " (inlined)", A_DIM);
	row_flush(s);
}

/* The stack ev recorded, under its row (--stacks). */
static void stack_rows(struct text *s, const struct vev *ev, int xm)
{
	json_t *stack = json_object_get(vev_json(ev), "stack"), *fr;
	json_t *cutj = json_object_get(vev_json(ev), "stack_cut");
	json_int_t cut = json_is_integer(cutj) ? json_integer_value(cutj) : 0;
	size_t i, n = json_array_size(stack), nl = 0, cap = 0;
	struct sline *lines = NULL;
	int x = xm + 2, numw, end = 0;

	if (n == 0 && cut <= 0)
		return;
	if (s->tw - x < STACK_MIN)
		x = s->tw - STACK_MIN < s->gutter ? s->gutter : s->tw - STACK_MIN;
	numw = snprintf(NULL, 0, "#%zu", n ? n - 1 : 0);
	json_array_foreach(stack, i, fr) {
		struct sym_frame f;
		const struct sym_result *r = NULL;
		size_t nloc;

		sym_frame_decode(fr, &f); /* not an object: all unknown, "?" */
		if (f.has_offset)
			r = sym_get(s->sym, f.module, f.offset);
		nloc = r && r->nlocs ? r->nlocs : 1;
		for (size_t k = 0; k < nloc; k++) {
			struct sym_frame outer;
			const struct sym_frame *fp = &f;
			struct sline *l;
			if (nl == cap) {
				cap = cap ? cap * 2 : 16;
				lines = realloc(lines, cap * sizeof(*lines));
				if (!lines) {
					oom_exit();
				}
			}
			l = &lines[nl++];
			if (k > 0) {
				/* A function this frame's code was inlined into:
				 * only addr2line knows it. */
				memset(&outer, 0, sizeof(outer));
				fp = &outer;
			}
			sym_describe(fp, r && r->nlocs ? &r->locs[k] : NULL, true, l->func,
				     sizeof(l->func), l->where, sizeof(l->where));
			if (k == 0)
				snprintf(l->num, sizeof(l->num), "#%zu", i);
			else
				l->num[0] = '\0';
			l->inlined = k + 1 < nloc;
		}
	}
	if (cut > 0 && (lines = realloc(lines, (nl + 1) * sizeof(*lines))) != NULL) {
		struct sline *l = &lines[nl++];
		memset(l, 0, sizeof(*l));
		snprintf(l->func, sizeof(l->func), "... %lld more frame%s not recorded",
			 (long long)cut, cut == 1 ? "" : "s");
	}
	if (!lines) {
		oom_exit();
	}
	for (size_t k = 0; k < nl; k++) {
		int len = sline_fit(&lines[k], s->tw - x - numw - 1);
		if (x + numw + 1 + len > end)
			end = x + numw + 1 + len;
	}
	for (size_t k = 0; k < nl; k++)
		sline_draw(s, x, numw, &lines[k], end + 2);
	free(lines);
}

static void tx_event(void *p, struct vev *ev)
{
	struct text *s = p;
	int own = col_find(s, false, ev->pid, NULL), target = -1;
	struct arrow a;
	char label[600], dur[32], tbuf[32];
	uint8_t box_attr = A_NONE;

	if (own < 0 || !s->cols[own].has_calls || !ev_drawn(ev))
		return; /* a process with no socket calls shown */
	if (s->rows == 0)
		header(s);
	ev_arrow(ev, s->ctx->model, &a);
	if (ev->conn)
		arrow_final(&a, final_of(s, ev->conn),
			    ev->conn->id < s->nseen ? s->fail[ev->conn->id] : NULL);
	if (a.kind != AR_NONE)
		target = a.pid ? col_find(s, false, a.pid, NULL) : col_find(s, true, 0, a.remote);
	start_columns(s, ev->seq);

	row_clear(s);
	lifelines(s);
	fmt_secs(tbuf, sizeof(tbuf), ev->tend);
	put_str(s, s->gutter - 2 - (int)strlen(tbuf), s->gutter - 2, tbuf, A_DIM);

	int xm = lane_x(s, s->cols[own].lane);
	int xp = target >= 0 && s->cols[target].lane >= 0 ? lane_x(s, s->cols[target].lane) : -1;
	if (xp == xm)
		xp = -1;

	ev_label(ev, label, sizeof(label), PREVIEW_MAX);
	fmt_dur(dur, sizeof(dur), ev->dur);
	if (vev_result_err(ev) && !vev_errno_pending(vev_result_err(ev)))
		box_attr = A_RED;
	if (ev->fault)
		box_attr = A_MAGENTA | A_BOLD;
	if (ev->warning)
		box_attr = A_YELLOW | A_BOLD;
	if (ev->kind == TR_CTL)
		box_attr = A_CYAN | A_BOLD;

	int limit = xp > xm ? xp - MIN_ARROW : s->tw;
	int x = xm;
	/* [label] dur, cut to what the row leaves. */
	put_cp(s, x++, '[', box_attr);
	if (ev->fault || ev->warning) {
		put_cp(s, x++, ev->fault ? s->g->fault : s->g->warn, box_attr);
		put_cp(s, x++, ' ', box_attr);
	}
	/* The duration goes first when the label does not fit. */
	int room = limit - x - 1 - (int)strlen(dur) - 1;
	bool show_dur = ev->kind == TR_CALL;
	if (room < (int)strlen(label) || !show_dur) {
		room = limit - x - 1;
		show_dur = false;
	}
	if ((int)strlen(label) > room && room > 3) {
		label[room - 3] = '\0';
		strcat(label, "...");
	} else if ((int)strlen(label) > room) {
		label[room > 0 ? room : 0] = '\0';
	}
	x = put_str(s, x, limit, label, box_attr);
	if (ev->fault && ev->fault_rule && x + 4 < limit) {
		char f[160];
		snprintf(f, sizeof(f), " fault %s %s", ev->fault_action ? ev->fault_action : "",
			 ev->fault_rule);
		sanitize_ascii(f);
		x = put_str(s, x, limit - 1, f, box_attr);
	}
	put_cp(s, x++, ']', box_attr);
	if (show_dur) {
		x++;
		x = put_str(s, x, limit, dur, A_DIM);
	}
	if (xp > xm) {
		/* Partner on the right: arrow from the end of the box. */
		draw_arrow(s, x, xp, a.out, &a);
		put_cp(s, xp, a.out ? s->g->life : s->g->end_r, arrow_attr(a.kind));
	} else if (xp >= 0) {
		draw_arrow(s, xp, xm, !a.out, &a);
		put_cp(s, xp, a.out ? s->g->life : s->g->end_l, arrow_attr(a.kind));
	}
	row_flush(s);
	if (s->sym)
		stack_rows(s, ev, xm);
	s->last_seq = ev->seq;
	/* Lifelines end with their column's last row. */
	for (int l = 0; l < s->nlanes; l++)
		if (s->lane_cur[l] >= 0 && s->cols[s->lane_cur[l]].last <= ev->seq)
			s->lane_cur[l] = -1;
}

static int tx_finish(void *p, bool draw)
{
	struct text *s = p;
	int rc = 0;

	if (draw) {
		struct view_ctx *ctx = s->ctx;
		size_t procs = 0, remotes = 0;
		for (size_t i = 0; i < s->ncols; i++) {
			if (!s->cols[i].has_calls)
				continue;
			if (s->cols[i].remote)
				remotes++;
			else
				procs++;
		}
		if (s->rows == 0)
			fputs("(no events to show)\n", s->out);
		fprintf(s->out, "\n%zu process%s", procs, procs == 1 ? "" : "es");
		if (remotes)
			fprintf(s->out, ", %zu endpoint%s not traced", remotes, remotes == 1 ? "" : "s");
		fprintf(s->out, ", %zu connection%s, ", model_nconns(ctx->model),
			model_nconns(ctx->model) == 1 ? "" : "s");
		if (filter_active(&s->o->filter))
			fprintf(s->out, "%lu of %lu events shown\n", s->scanned, ctx->reader->records);
		else
			fprintf(s->out, "%lu events\n", ctx->reader->records);
		rc = ferror(s->out) ? 1 : 0;
		if (s->sym && s->stacks == 0)
			fputs("socktrace view: --stacks: no event shown has a call stack (record them with socktrace run --backtrace)\n",
			      stderr);
	}
	sym_free(s->sym);
	free(s->cols);
	free(s->seen);
	free(s->fail);
	free(s->by_first);
	free(s->lane_cur);
	free(s->row);
	hmap_free(&s->by_pid, NULL);
	hmap_free(&s->by_remote, NULL);
	hmap_free(&s->cands, cand_free);
	free(s);
	return rc;
}

const struct renderer render_text = {
	.begin = tx_begin,
	.scan = tx_scan,
	.rewind = tx_rewind,
	.event = tx_event,
	.finish = tx_finish,
};
