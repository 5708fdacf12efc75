/* text: the flow diagram in the terminal.
 *
 *   time      tcp_server                       tcp_client
 *             pid 1001                         pid 1002
 *             server                           client
 *   0.000332  [listen(3, 16) 127.0.0.1:7000] 1.6us
 *   --- 50.5ms ---
 *   0.050809  │                                [getaddrinfo(127.0.0.1, 7000)
 *             │                                 -> 127.0.0.1:7000] 16.4us
 *   0.051210  │                                [connect(3, 127.0.0.1:7000)]
 *   0.051195  [accept(3) = 4 127.0.0.1:40001] 50.8ms
 *             │◀═════════════ c1 ══════════════┤
 *   0.051228  │                                [send(3) 23 B "hello from the...]
 *   0.051234  [recv(4) 23 B "hello ...] ◀─ c1 ─┤
 *   0.051266  ├─────────── c1 29 B ───────────▶[recv(3) 29 B "echo: hello fr...]
 *
 * One column per process (and per remote endpoint that was not traced),
 * one row per event in causal order, the time it returned on the left,
 * with --pids its pid after it (grep a pid as in strace -f output). An
 * arrow is drawn on the row of the later of two paired events, from the
 * column of the earlier one, with the connection's id ("c1 6 B", "c1
 * FIN"). A pause of --gap or more between two rows gets a row of its own
 * with its length.
 *
 * No line is wider than the width asked for, counted in the columns a
 * terminal gives each glyph (util/dispwidth.h: the fault mark takes two).
 * When the columns do not fit side by side, they share fewer lanes: a
 * column takes a free lane when it needs one (its event, or the other end
 * of its arrow), else the lane of the column needed last, and the header
 * is repeated, in one line, where a lane changes owner.
 *
 * A call's result, errno and fault rule are never cut: a label that does
 * not fit loses its duration, then the middle of its longest addresses
 * and the end of its payload preview, and what still does not fit goes
 * on to the next lines under it. An arrow to the right that leaves its
 * box no room goes on the row after it.
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
#include "util/dispwidth.h"
#include "util/hmap.h"
#include "util/symbolize.h"
#include "util/textutil.h"

#include <stdlib.h>
#include <string.h>

#define MIN_COL 18
/* What the last lane gets at least, when lanes are shared: its labels
 * cannot run on over another. */
#define LAST_MIN 32
#define MAX_COL 64
#define PREVIEW_MAX 24
/* An arrow's text has a space and a line on either side, and the head. */
#define ARROW_PAD 5
/* Columns a continued label gets at least (it starts further left if need
 * be, as a stack does). */
#define CONT_MIN 16
/* Shortest an address is cut to (in its middle), a payload preview (at
 * its end). */
#define ADDR_MIN 12
#define PREVIEW_MIN 6
/* Lines one label may take. */
#define BOX_LINES 128
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

/* One column of the terminal; cp 0 is the right half of a wide glyph in
 * the cell before. */
struct cell {
	uint32_t cp;
	uint8_t attr;
};

struct tcol {
	bool remote;
	bool has_calls;      /* a process column with calls shown (or arrows to it) */
	int pid;
	char key[ADDR_MAX + 16];
	char label[ADDR_MAX + 48];  /* program (or script), or remote address */
	char sub[32];              /* "pid 1234 ppid 1000", "not traced" */
	char role[24];             /* "client", "server", "client and server" */
	uint64_t first, last;
	unsigned long uses, used;  /* rows it has (pass 1), and has had */
	int lane;                  /* the lane it is drawn in now, -1 none */
};

/* A connection whose peer may turn out not to be traced. */
struct cand {
	int other;
	const char *role;   /* of the remote end */
	char key[ADDR_MAX + 16];
	uint64_t first, last;
	unsigned long uses;
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
	size_t nshown;
	int nlanes, colw, gutter, tw;
	int timew, pidw;         /* the time and (--pids) pid fields */
	bool any_role;
	/* Pass 2. */
	int *lane_owner;         /* column in each lane, -1 none */
	uint64_t *lane_used;     /* seq of the last row that used it */
	bool *lane_changed;      /* owner changed since the header was drawn */
	struct cell *row;
	unsigned long rows;
	uint64_t cur_seq;        /* the event being drawn */
	struct idle idle;
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
	s->cols[ci].uses++;
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
		s->cols[ci].uses++;
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
		c->role = conn_side_name(ev->conn, c->other);
		snprintf(c->key, sizeof(c->key), "%s", a.remote);
		c->first = ev->seq;
	}
	c->last = ev->seq;
	c->uses++;
}

static int cmp_first(const void *a, const void *b, void *ctx)
{
	const struct tcol *cols = ctx;
	const struct tcol *x = &cols[*(const size_t *)a], *y = &cols[*(const size_t *)b];

	if (x->remote != y->remote)
		return x->remote ? 1 : -1;
	if (x->first != y->first)
		return x->first < y->first ? -1 : 1;
	return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

static int cmp_start(const void *a, const void *b, void *ctx)
{
	const struct tcol *cols = ctx;
	const struct tcol *x = &cols[*(const size_t *)a], *y = &cols[*(const size_t *)b];

	if (x->first != y->first)
		return x->first < y->first ? -1 : 1;
	return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

static int digits(int v)
{
	int n = 1;

	for (; v >= 10; v /= 10)
		n++;
	return n;
}

/* How many lanes columns need when those never in use at the same time
 * share one: the most in use at once. */
static int lanes_needed(const struct text *s, const size_t *order, size_t n)
{
	uint64_t *end = calloc(n ? n : 1, sizeof(*end));
	size_t *by_start = malloc((n ? n : 1) * sizeof(*by_start));
	int lanes = 0;

	if (!end || !by_start) {
		oom_exit();
	}
	memcpy(by_start, order, n * sizeof(*by_start));
	qsort_r(by_start, n, sizeof(*by_start), cmp_start, s->cols);
	for (size_t i = 0; i < n; i++) {
		const struct tcol *c = &s->cols[by_start[i]];
		int l;
		for (l = 0; l < lanes && end[l] >= c->first; l++)
			;
		if (l == lanes)
			lanes++;
		end[l] = c->last;
	}
	free(end);
	free(by_start);
	return lanes;
}

/* Lanes: one per column when they fit, else as many as are in use at
 * once, up to as many as fit, shared (see the top): then no lane changes
 * owner while its column is still drawing, unless there are more at once
 * than fit. The first ones go to the columns that begin first, processes
 * before remote endpoints; the rest take lanes as they come. */
static void lay_out(struct text *s, const size_t *order, size_t n)
{
	char tbuf[32];
	int avail, fit, maxpid = 0;

	s->timew = (int)strlen(fmt_secs(tbuf, sizeof(tbuf), s->max_t));
	if (s->timew < 8)
		s->timew = 8;
	s->gutter = s->timew + 2;
	if (s->o->pids) {
		for (size_t i = 0; i < n; i++)
			if (!s->cols[order[i]].remote && s->cols[order[i]].pid > maxpid)
				maxpid = s->cols[order[i]].pid;
		s->pidw = digits(maxpid) < 3 ? 3 : digits(maxpid);
		s->gutter += s->pidw + 2;
	}
	s->tw = s->o->width;
	avail = s->tw - s->gutter;
	if (avail < 1)
		avail = 1;
	/* Boxes run on to the right over the lanes there; the last lane
	 * has only what the width leaves. */
	fit = avail >= LAST_MIN ? 1 + (avail - LAST_MIN) / MIN_COL : 1;
	s->nlanes = (int)n;
	if (s->nlanes > fit) {
		int need = lanes_needed(s, order, n);
		s->nlanes = need < fit ? need : fit;
	}
	if (s->nlanes < 1)
		s->nlanes = 1;
	s->colw = avail / s->nlanes;
	if (s->colw > MAX_COL)
		s->colw = MAX_COL;
	if (s->nlanes > 1 && avail - (s->nlanes - 1) * s->colw < LAST_MIN)
		s->colw = (avail - LAST_MIN) / (s->nlanes - 1);
	s->lane_owner = malloc((size_t)s->nlanes * sizeof(*s->lane_owner));
	s->lane_used = calloc((size_t)s->nlanes, sizeof(*s->lane_used));
	s->lane_changed = calloc((size_t)s->nlanes, sizeof(*s->lane_changed));
	if (!s->lane_owner || !s->lane_used || !s->lane_changed) {
		oom_exit();
	}
	for (int l = 0; l < s->nlanes; l++) {
		s->lane_owner[l] = l < (int)n ? (int)order[l] : -1;
		if (l < (int)n)
			s->cols[order[l]].lane = l;
	}
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
		struct tcol *col = &s->cols[ci];
		col->uses += c->uses;
		snprintf(col->label, sizeof(col->label), "%s", c->key);
		snprintf(col->sub, sizeof(col->sub), "not traced");
		if (!*col->role)
			snprintf(col->role, sizeof(col->role), "%s", c->role);
		col->has_calls = true;
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
			/* The names the whole trace gives: an interpreter by
			 * its script. */
			snprintf(c->label, sizeof(c->label), "%s", model_name(m, c->pid));
			sanitize_ascii(c->label);
			proc_caption(m, c->pid, c->sub, sizeof(c->sub));
			snprintf(c->role, sizeof(c->role), "%s", model_role(m, c->pid));
		}
		if (*c->role)
			s->any_role = true;
		order[n++] = i;
	}
	qsort_r(order, n, sizeof(*order), cmp_first, s->cols);
	s->nshown = n;
	lay_out(s, order, n);
	free(order);
	s->row = calloc((size_t)s->tw, sizeof(*s->row));
	if (!s->row) {
		oom_exit();
	}
	/* Every frame the second pass will show, one addr2line per module. */
	if (s->sym)
		sym_resolve(s->sym);
}

/* ---- cells ---- */

static void row_clear(struct text *s)
{
	for (int x = 0; x < s->tw; x++) {
		s->row[x].cp = ' ';
		s->row[x].attr = A_NONE;
	}
}

/* Writes cp at x (both its columns when it is wide); the halves of a wide
 * glyph it covers in part become spaces. A glyph that would not fit whole
 * is not written. Returns the column after it. */
static int put_cp(struct text *s, int x, uint32_t cp, uint8_t attr)
{
	int w = dw_cp(cp);

	if (w == 0 || x < 0 || x + w > s->tw)
		return x;
	for (int i = x; i < x + w; i++) {
		if (s->row[i].cp == 0 && i > 0)
			s->row[i - 1].cp = ' ';
		if (i + 1 < s->tw && s->row[i + 1].cp == 0)
			s->row[i + 1].cp = ' ';
	}
	s->row[x].cp = cp;
	s->row[x].attr = attr;
	if (w == 2) {
		s->row[x + 1].cp = 0;
		s->row[x + 1].attr = attr;
	}
	return x + w;
}

/* UTF-8 text from x, what fits before maxx (exclusive); returns the end. */
static int put_str(struct text *s, int x, int maxx, const char *str, uint8_t attr)
{
	if (maxx > s->tw)
		maxx = s->tw;
	while (*str) {
		uint32_t cp = dw_next(&str);
		if (x + dw_cp(cp) > maxx)
			break;
		x = put_cp(s, x, cp, attr);
	}
	return x;
}

/* The first len bytes of str, as put_str. */
static int put_strn(struct text *s, int x, int maxx, const char *str, size_t len, uint8_t attr)
{
	char buf[1024];

	if (len >= sizeof(buf))
		len = sizeof(buf) - 1;
	memcpy(buf, str, len);
	buf[len] = '\0';
	return put_str(s, x, maxx, buf, attr);
}

static void put_utf8(FILE *out, uint32_t cp)
{
	if (cp < 0x80) {
		fputc((int)cp, out);
	} else if (cp < 0x800) {
		fputc((int)(0xc0 | (cp >> 6)), out);
		fputc((int)(0x80 | (cp & 0x3f)), out);
	} else if (cp < 0x10000) {
		fputc((int)(0xe0 | (cp >> 12)), out);
		fputc((int)(0x80 | ((cp >> 6) & 0x3f)), out);
		fputc((int)(0x80 | (cp & 0x3f)), out);
	} else {
		fputc((int)(0xf0 | (cp >> 18)), out);
		fputc((int)(0x80 | ((cp >> 12) & 0x3f)), out);
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
		if (s->row[x].cp == 0)
			continue; /* drawn with the cell before */
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

/* ---- lanes ---- */

static int lane_x(const struct text *s, int lane)
{
	return s->gutter + lane * s->colw;
}

/* Whether lane l has a column that has begun and not ended: its
 * lifeline is drawn. */
static bool lane_live(const struct text *s, int l)
{
	int o = s->lane_owner[l];

	return o >= 0 && s->cols[o].first <= s->cur_seq && s->cols[o].last >= s->cur_seq;
}

/* Whether lane l is free: no column, or one past its last row. A column
 * keeps its lane after its last row until another needs it: the second
 * pass may number rows a little differently from the first (it knows
 * what never comes), and a row past the column's end then finds it in
 * place. */
static bool lane_free(const struct text *s, int l)
{
	int o = s->lane_owner[l];

	return o < 0 || s->cols[o].last < s->cur_seq;
}

static void lifelines(struct text *s)
{
	for (int l = 0; l < s->nlanes; l++)
		if (lane_live(s, l))
			put_cp(s, lane_x(s, l), s->g->life, A_DIM);
}

/* A new row: lifelines, the time (NULL: none) and, with --pids, the pid
 * (0: none). */
static void row_begin(struct text *s, const char *time, int pid)
{
	row_clear(s);
	lifelines(s);
	if (time)
		put_str(s, s->timew - (int)strlen(time), s->timew, time, A_DIM);
	if (s->o->pids && pid > 0) {
		char pb[16];
		snprintf(pb, sizeof(pb), "%d", pid);
		put_str(s, s->timew + 2 + s->pidw - (int)strlen(pb), s->gutter, pb, A_DIM);
	}
}

/* When column c will have a row again, as far as the first pass tells:
 * its first, or as if its rows left were spread evenly until its last. A
 * server busy all along stays; a client waiting for its answer goes. */
static uint64_t next_use(const struct text *s, const struct tcol *c)
{
	unsigned long left = c->uses > c->used ? c->uses - c->used : 1;

	if (c->first > s->cur_seq)
		return c->first;
	return s->cur_seq + (c->last > s->cur_seq ? c->last - s->cur_seq : 0) / left;
}

/* Gives column ci a lane for the row being drawn, unless it has one: a
 * free lane, else the one whose column will be needed last (next_use),
 * never the lane of column keep. Returns false when there is none to
 * take (a single lane, kept). */
static bool lane_take(struct text *s, int ci, int keep)
{
	int best = -1;
	uint64_t best_next = 0;

	if (ci < 0)
		return false;
	if (s->cols[ci].lane >= 0)
		return true;
	for (int l = 0; l < s->nlanes; l++) {
		int o = s->lane_owner[l];
		uint64_t next;
		if (lane_free(s, l) && o != keep) {
			best = l;
			break;
		}
		if (o == keep)
			continue;
		next = next_use(s, &s->cols[o]);
		if (best < 0 || next > best_next || (next == best_next && s->lane_used[l] <
								    s->lane_used[best])) {
			best = l;
			best_next = next;
		}
	}
	if (best < 0)
		return false;
	if (s->lane_owner[best] >= 0)
		s->cols[s->lane_owner[best]].lane = -1;
	s->lane_owner[best] = ci;
	s->cols[ci].lane = best;
	s->lane_changed[best] = true;
	return true;
}

/* ---- header ---- */

/* Cuts an address or name to at most max columns in its middle, "...",
 * keeping what follows its last ':' or '/' (a port, a file name: what
 * tells two apart) when that leaves room for its start. In place; ASCII;
 * max below 5 leaves it alone. */
static void cut_middle(char *str, int max)
{
	int len = (int)strlen(str);
	const char *sep;
	int tail, head;

	if (len <= max || max < 5)
		return;
	sep = strrchr(str, ':');
	if (!sep || (strrchr(str, '/') && strrchr(str, '/') > sep))
		sep = strrchr(str, '/');
	tail = sep ? len - (int)(sep - str) : 0;
	if (tail > max - 3 - 2 || tail < (max - 3) / 2)
		tail = (max - 3) - (max - 3) / 2;
	head = max - 3 - tail;
	/* "127..." rather than "127....": the dots are the cut's */
	while (head > 1 && (str[head - 1] == '.' || str[head - 1] == ':'))
		head--;
	memmove(str + head + 3, str + len - tail, (size_t)tail + 1);
	memcpy(str + head, "...", 3);
}

static int lane_room(const struct text *s, int lane)
{
	return (lane == s->nlanes - 1 ? s->tw - lane_x(s, lane) : s->colw) - 1;
}

static void put_cell_text(struct text *s, int lane, const char *text, uint8_t attr)
{
	char buf[ADDR_MAX + 64];
	int room = lane_room(s, lane);

	snprintf(buf, sizeof(buf), "%s", text);
	cut_middle(buf, room);
	put_str(s, lane_x(s, lane), lane_x(s, lane) + room, buf, attr);
}

/* The names of the columns, their pids and roles, before the first row. */
static void header(struct text *s)
{
	int lines = s->any_role ? 3 : 2;

	for (int line = 0; line < lines; line++) {
		row_clear(s);
		if (line == 0) {
			put_str(s, 0, s->timew, "time", A_DIM);
			if (s->o->pids)
				put_str(s, s->timew + 2, s->gutter, "pid", A_DIM);
		}
		for (int l = 0; l < s->nlanes; l++) {
			int o = s->lane_owner[l];
			if (o < 0)
				continue;
			const struct tcol *c = &s->cols[o];
			char sub[32];
			/* "pid 1002 ppid 1001", or "pid 1002" when narrow */
			snprintf(sub, sizeof(sub), "%s", c->sub);
			if (!c->remote && (int)strlen(sub) > lane_room(s, l))
				snprintf(sub, sizeof(sub), "pid %d", c->pid);
			put_cell_text(s, l, line == 0 ? c->label : line == 1 ? sub : c->role,
				      line ? A_DIM : A_BOLD);
		}
		row_flush(s);
	}
	memset(s->lane_changed, 0, (size_t)s->nlanes * sizeof(*s->lane_changed));
}

/* Where lanes changed owner: the header again, in one line, the new
 * owners in bold. */
static void header_again(struct text *s)
{
	bool any = false;

	for (int l = 0; l < s->nlanes; l++)
		any |= s->lane_changed[l];
	if (!any)
		return;
	row_clear(s);
	for (int l = 0; l < s->nlanes; l++) {
		int o = s->lane_owner[l];
		char buf[ADDR_MAX + 64];
		if (o < 0 || (lane_free(s, l) && !s->lane_changed[l]))
			continue;
		const struct tcol *c = &s->cols[o];
		snprintf(buf, sizeof(buf), "%s", c->label);
		if (!c->remote) {
			/* the name shortened, the pid whole */
			char pid[16];
			int pl = snprintf(pid, sizeof(pid), " %d", c->pid);
			cut_middle(buf, lane_room(s, l) - pl);
			snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s", pid);
		}
		put_cell_text(s, l, buf, s->lane_changed[l] ? A_BOLD : A_DIM);
	}
	row_flush(s);
	memset(s->lane_changed, 0, (size_t)s->nlanes * sizeof(*s->lane_changed));
}

/* "--- 213.4ms ---": nothing returned for that long. */
static void gap_row(struct text *s, int64_t pause)
{
	char d[32], mark[48];

	fmt_dur(d, sizeof(d), pause);
	snprintf(mark, sizeof(mark), "--- %s ---", d);
	row_begin(s, NULL, 0);
	/* Over the gutter and the first lifeline: a cut through them all. */
	for (int x = 0; x < (int)strlen(mark) + 1 && x < s->tw; x++)
		put_cp(s, x, ' ', A_NONE);
	put_str(s, 0, s->tw, mark, A_DIM);
	row_flush(s);
}

/* ---- arrows ---- */

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

/* What an arrow says (diagram.h: its connection and what went, "c3 12 B",
 * "c3 FIN"; a set-up "c3"), and the short form, the connection alone, for
 * an arrow too short for the rest. */
static void arrow_texts(const struct vev *ev, const struct arrow *a, char *full, size_t fcap,
			char *brief, size_t bcap)
{
	unsigned id = ev->conn ? ev->conn->id : 0;

	snprintf(brief, bcap, "c%u", id);
	snprintf(full, fcap, "%s", *a->text ? a->text : brief);
}

/* The arrow between columns x0 < x1 (exclusive of both), head at the
 * right or the left end, its text in the middle: the whole, else the
 * connection alone, else none (only when lanes are too narrow for even
 * that: not with MIN_COL). */
static void draw_arrow(struct text *s, int x0, int x1, bool head_right, const struct arrow *a,
		       const char *full, const char *brief)
{
	uint8_t at = arrow_attr(a->kind);
	uint32_t line = a->kind == AR_CONNECT ? s->g->dline :
			a->kind == AR_CLOSE ? s->g->cline : s->g->line;
	int len = x1 - x0 - 1;
	const char *t = (int)strlen(full) + ARROW_PAD <= len ? full :
			(int)strlen(brief) + ARROW_PAD <= len ? brief : "";
	int tl = (int)strlen(t);

	if (len < 1)
		return;
	for (int x = x0 + 1; x < x1; x++)
		put_cp(s, x, line, at);
	if (head_right)
		put_cp(s, x1 - 1, a->kind == AR_FAIL ? s->g->cross : s->g->right, at);
	else
		put_cp(s, x0 + 1, a->kind == AR_FAIL ? s->g->cross : s->g->left, at);
	if (tl) {
		/* centred on the line, the head aside */
		int tx = x0 + 1 + (head_right ? 0 : 1) + (len - 1 - tl - 2) / 2;
		put_cp(s, tx, ' ', at);
		put_str(s, tx + 1, tx + 1 + tl, t, at);
		put_cp(s, tx + 1 + tl, ' ', at);
	}
}

/* ---- labels that fit ---- */

/* A piece of a label that may be shortened: an address (in its middle),
 * a payload preview (at its end). */
struct tok {
	size_t at, len;
	int cur, min;
	bool middle;
};

#define TOKS_MAX 32

static bool addr_like(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] == ':' || p[i] == '/' || p[i] == '.')
			return true;
	return false;
}

static void tok_add(struct tok *t, size_t *n, size_t at, size_t len, int min, bool middle)
{
	if (*n < TOKS_MAX && (int)len > min)
		t[(*n)++] = (struct tok){ at, len, (int)len, min, middle };
}

/* The pieces of label that may be shortened: the addresses among the
 * call's arguments, and the addresses and the preview after its result. */
static size_t label_toks(const char *label, const struct label_parts *p, struct tok *t)
{
	size_t n = 0, len = strlen(label);
	const char *open = memchr(label, '(', p->call_end);
	size_t close = p->call_end;

	while (close > 0 && label[close - 1] != ')')
		close--;
	if (open && close > 0 && (size_t)(open - label) < close - 1) {
		size_t a = (size_t)(open - label) + 1, end = close - 1;
		while (a < end) {
			const char *c = strstr(label + a, ", ");
			size_t e = c && (size_t)(c - label) < end ? (size_t)(c - label) : end;
			if (addr_like(label + a, e - a))
				tok_add(t, &n, a, e - a, ADDR_MIN, true);
			a = e + 2;
		}
	}
	for (size_t i = p->result_end; i < len;) {
		size_t j = i;
		if (label[i] == ' ') {
			i++;
			continue;
		}
		if (label[i] == '"') {
			for (j = i + 1; j < len && label[j] != '"'; j++)
				if (label[j] == '\\' && j + 1 < len)
					j++;
			if (j < len)
				j++;
			if (strncmp(label + j, "...", 3) == 0)
				j += 3;
			tok_add(t, &n, i, j - i, PREVIEW_MIN, false);
		} else if (label[i] == '[') {
			const char *c = strchr(label + i, ']');
			j = c ? (size_t)(c - label) + 1 : len;
		} else {
			while (j < len && label[j] != ' ')
				j++;
			if (addr_like(label + i, j - i))
				tok_add(t, &n, i, j - i, ADDR_MIN, true);
		}
		i = j;
	}
	return n;
}

/* label shortened by need columns as far as its pieces allow (call_only:
 * the call's), the longest first, into out; np where its parts are then. */
static void label_shorten(const char *label, const struct label_parts *p, int need,
			  bool call_only, char *out, size_t cap, struct label_parts *np)
{
	struct tok t[TOKS_MAX];
	size_t n = label_toks(label, p, t), o = 0, from = 0;

	if (call_only)
		for (size_t i = 0; i < n; i++)
			if (t[i].at >= p->call_end)
				t[i].min = t[i].cur;

	while (need > 0) {
		struct tok *best = NULL;
		for (size_t i = 0; i < n; i++)
			if (t[i].cur > t[i].min && (!best || t[i].cur > best->cur))
				best = &t[i];
		if (!best)
			break;
		best->cur--;
		need--;
	}
	for (size_t i = 0; i <= n; i++) {
		size_t at = i < n ? t[i].at : strlen(label);
		char piece[600];
		if (at - from >= cap - o)
			break;
		memcpy(out + o, label + from, at - from);
		o += at - from;
		if (i == n)
			break;
		if (t[i].len >= sizeof(piece))
			t[i].len = sizeof(piece) - 1;
		memcpy(piece, label + at, t[i].len);
		piece[t[i].len] = '\0';
		if (t[i].cur < (int)t[i].len) {
			if (t[i].middle)
				cut_middle(piece, t[i].cur);
			else
				memcpy(piece + t[i].cur - 3, "...", 4);
		}
		size_t pl = strlen(piece);
		if (pl >= cap - o)
			break;
		t[i].cur = (int)pl;
		memcpy(out + o, piece, pl);
		o += pl;
		from = at + t[i].len;
	}
	out[o] = '\0';
	*np = *p;
	for (size_t i = 0; i < n; i++) {
		size_t gone = t[i].len - (size_t)t[i].cur;
		if (t[i].at + t[i].len <= p->call_end)
			np->call_end -= gone;
		if (t[i].at + t[i].len <= p->result_end)
			np->result_end -= gone;
	}
}

static size_t utf8_put(char *buf, uint32_t cp)
{
	if (cp < 0x80) {
		buf[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		buf[0] = (char)(0xc0 | (cp >> 6));
		buf[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	buf[0] = (char)(0xe0 | (cp >> 12));
	buf[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
	buf[2] = (char)(0x80 | (cp & 0x3f));
	return 3;
}

/* An event's box: "[", its mark ("⚡ " for a fault), the label, the fault
 * rule, "]"; and how it is laid out on rows. */
struct box {
	char prefix[16];
	char label[600];
	struct label_parts parts;
	bool cuttable;
	char fault[200];
	char text[1024];
	/* where the result and the fault rule are in text: a row breaks at
	 * their spaces only when they do not fit a row whole */
	size_t res_at, res_end, fault_at, fault_end;
	size_t start[BOX_LINES], end[BOX_LINES];
	int n;
	int width;            /* of the first line */
};

static int box_compose(struct box *b, const char *label, const struct label_parts *parts)
{
	size_t pl = strlen(b->prefix), ll = strlen(label);

	snprintf(b->text, sizeof(b->text), "%s%s%s]", b->prefix, label, b->fault);
	b->res_at = b->res_end = 0;
	if (parts->result_end <= ll) {
		b->res_at = pl + parts->call_end;
		b->res_end = pl + parts->result_end;
	}
	b->fault_at = pl + ll;
	b->fault_end = pl + ll + strlen(b->fault);
	return (int)dw_str(b->text);
}

static bool glued(const struct box *b, size_t i)
{
	return (i > b->res_at && i < b->res_end) || (i > b->fault_at && i < b->fault_end);
}

/* Between the call, its result, what follows and the fault rule. */
static bool boundary(const struct box *b, size_t i)
{
	return i == b->res_at || i == b->res_end || i == b->fault_at;
}

/* Columns of text[from, to). */
static int span_width(const char *text, size_t from, size_t to)
{
	const char *p = text + from;
	int w = 0;

	while (p < text + to && *p)
		w += dw_cp(dw_next(&p));
	return w;
}

/* Breaks the box's text into rows of w1 columns, then of w: between its
 * parts when that fills half the row, else at the last space, one inside
 * the result or the rule only when no other is, else where the row is
 * full. */
static void box_wrap(struct box *b, int w1, int w)
{
	size_t pos = 0, len = strlen(b->text);

	b->n = 0;
	while (pos < len && b->n < BOX_LINES) {
		int room = b->n == 0 ? w1 : w, used = 0;
		size_t i = pos, brk = 0, gbrk = 0, bbrk = 0;
		const char *p;
		if (room < 1)
			room = 1;
		while (i < len) {
			p = b->text + i;
			int cw = dw_cp(dw_next(&p));
			if (b->text[i] == ' ' && i > pos)
				*(boundary(b, i) ? &bbrk : glued(b, i) ? &gbrk : &brk) = i;
			if (used + cw > room)
				break;
			used += cw;
			i = (size_t)(p - b->text);
		}
		if (bbrk > pos && ((int)(bbrk - pos) * 2 >= room || bbrk > brk))
			brk = bbrk;
		if (i < len && brk <= pos)
			brk = gbrk;
		if (i < len && brk > pos) {
			b->start[b->n] = pos;
			b->end[b->n++] = brk;
			pos = brk + 1; /* the space the row broke at */
		} else {
			if (i == pos) { /* a glyph wider than the row: alone */
				p = b->text + i;
				dw_next(&p);
				i = (size_t)(p - b->text);
			}
			b->start[b->n] = pos;
			b->end[b->n++] = i;
			pos = i;
		}
	}
	b->width = span_width(b->text, b->start[0], b->end[0]);
}

/* Columns of the box's longest run without a space. */
static int longest_word(struct box *b)
{
	const char *p;
	int best = 0, cur = 0;

	box_compose(b, b->label, &b->parts);
	for (p = b->text; *p;) {
		uint32_t cp = dw_next(&p);
		cur = cp == ' ' ? 0 : cur + dw_cp(cp);
		if (cur > best)
			best = cur;
	}
	return best;
}

/* Lays the box out in one row of w1 columns: whole, else shortened; false
 * (the text shortened as far as it goes) when it does not fit. */
static bool box_one_row(struct box *b, int w1)
{
	int w = box_compose(b, b->label, &b->parts);

	if (w > w1 && b->cuttable) {
		char cut[600];
		struct label_parts cp;
		label_shorten(b->label, &b->parts, w - w1, false, cut, sizeof(cut), &cp);
		w = box_compose(b, cut, &cp);
	}
	b->n = 1;
	b->start[0] = 0;
	b->end[0] = strlen(b->text);
	b->width = w;
	return w <= w1;
}

/* The box in rows: the first w1 columns wide, the others w. A box that
 * fits whole is never shortened; one that needs more rows anyway has the
 * addresses of its call shortened only so far as to keep the call on the
 * first row, and only when that saves rows. */
static void box_lay(struct box *b, int w1, int w)
{
	char cut[sizeof(b->label)];
	struct label_parts cp;
	int need, rows_cut;

	if (box_one_row(b, w1))
		return;
	need = (int)dw_str(b->prefix) + (int)b->parts.call_end - w1;
	box_compose(b, b->label, &b->parts);
	box_wrap(b, w1, w);
	if (need <= 0 || !b->cuttable || b->n == 1)
		return;
	rows_cut = b->n;
	label_shorten(b->label, &b->parts, need, true, cut, sizeof(cut), &cp);
	box_compose(b, cut, &cp);
	box_wrap(b, w1, w);
	if (b->n < rows_cut)
		return;
	box_compose(b, b->label, &b->parts);
	box_wrap(b, w1, w);
}

/* ---- stacks ---- */

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

static void sline_draw(struct text *s, int x, int numw, const struct sline *l, int gap_at,
		       int pid)
{
	row_begin(s, NULL, pid);
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
		sline_draw(s, x, numw, &lines[k], end + 2, ev->pid);
	free(lines);
}

/* ---- rows ---- */

static void tx_event(void *p, struct vev *ev)
{
	struct text *s = p;
	int own = col_find(s, false, ev->pid, NULL), target = -1;
	struct arrow a;
	struct box b;
	char dur[32], tbuf[32], full[64], brief[16];
	uint8_t box_attr = A_NONE;
	int64_t pause;

	if (own < 0 || !s->cols[own].has_calls || !ev_drawn(ev))
		return; /* a process with no socket calls shown */
	pause = idle_before(&s->idle, s->o->gap, ev->tend);
	if (pause && s->rows > 0)
		gap_row(s, pause);
	s->cur_seq = ev->seq;
	ev_arrow(ev, s->ctx->model, &a);
	if (ev->conn)
		arrow_final(&a, final_of(s, ev->conn),
			    ev->conn->id < s->nseen ? s->fail[ev->conn->id] : NULL);
	if (a.kind != AR_NONE)
		target = a.pid ? col_find(s, false, a.pid, NULL) : col_find(s, true, 0, a.remote);
	if (target == own)
		target = -1;
	/* Its own column always gets a lane, even that of the other end when
	 * there is one only. */
	lane_take(s, own, s->nlanes > 1 ? target : -1);
	bool shown = target >= 0 && lane_take(s, target, own);
	if (s->rows == 0)
		header(s);
	else
		header_again(s);
	int lm = s->cols[own].lane, xm = lane_x(s, lm);
	int xp = shown ? lane_x(s, s->cols[target].lane) : -1;
	s->lane_used[lm] = ev->seq;
	s->cols[own].used++;
	if (shown) {
		s->lane_used[s->cols[target].lane] = ev->seq;
		s->cols[target].used++;
	}
	if (a.kind != AR_NONE)
		arrow_texts(ev, &a, full, sizeof(full), brief, sizeof(brief));

	/* The box: "[", a mark, the label, the fault rule, "]". */
	memset(&b.parts, 0, sizeof(b.parts));
	ev_label_parts(ev, b.label, sizeof(b.label), PREVIEW_MAX, &b.parts);
	b.cuttable = ev->kind == TR_CALL;
	b.prefix[0] = '[';
	b.prefix[1] = '\0';
	if (ev->fault || ev->warning) {
		size_t n = 1 + utf8_put(b.prefix + 1, ev->fault ? s->g->fault : s->g->warn);
		b.prefix[n] = ' ';
		b.prefix[n + 1] = '\0';
	}
	b.fault[0] = '\0';
	if (ev->fault && ev->fault_rule) {
		snprintf(b.fault, sizeof(b.fault), " fault %s %s",
			 ev->fault_action ? ev->fault_action : "", ev->fault_rule);
		sanitize_ascii(b.fault);
	}
	fmt_dur(dur, sizeof(dur), ev->dur);
	int durw = ev->kind == TR_CALL ? 1 + (int)strlen(dur) : -1; /* -1: none */
	if (vev_result_err(ev) && !vev_errno_pending(vev_result_err(ev)))
		box_attr = A_RED;
	if (ev->fault)
		box_attr = A_MAGENTA | A_BOLD;
	if (ev->warning)
		box_attr = A_YELLOW | A_BOLD;
	if (ev->kind == TR_CTL)
		box_attr = A_CYAN | A_BOLD;

	/* Continued rows start under the label, or further left when that
	 * leaves them too little, or too little for its longest word (an
	 * address, a rule's file) to go on one row. */
	int cx = xm + (int)dw_str(b.prefix), need = longest_word(&b);
	if (need < CONT_MIN)
		need = CONT_MIN;
	if (s->tw - cx < need)
		cx = s->tw - need < s->gutter ? s->gutter : s->tw - need;
	/* An arrow to the right needs the room between the box and the other
	 * lane: a box that leaves it too little has its arrow on the next
	 * row, from its lane. */
	bool arrow_below = false, with_dur = false;
	if (xp > xm) {
		int room = xp - xm - 1, wfull = box_compose(&b, b.label, &b.parts);
		int af = (int)strlen(full) + ARROW_PAD, ab = (int)strlen(brief) + ARROW_PAD;
		/* The arrow's short form before the duration: what it leaves
		 * out, the box says. */
		if (durw > 0 && (wfull + durw + af <= room || wfull + durw + ab <= room)) {
			box_one_row(&b, room);
			with_dur = true;
		} else if (wfull + af <= room || wfull + ab <= room) {
			box_one_row(&b, room);
		} else if (!box_one_row(&b, room - ab)) {
			arrow_below = true;
			box_lay(&b, s->tw - xm, s->tw - cx);
		}
	} else {
		box_lay(&b, s->tw - xm, s->tw - cx);
	}
	/* The duration, when the label leaves it room (on its last row). */
	int last_x = b.n == 1 ? xm : cx;
	int last_w = span_width(b.text, b.start[b.n - 1], b.end[b.n - 1]);
	if (durw > 0 && (xp <= xm || arrow_below) && last_x + last_w + durw <= s->tw)
		with_dur = true;
	/* The other end shares this lane (or has none): what the arrow would
	 * say, after the box, or under it. */
	char note[96] = "";
	if (a.kind != AR_NONE && !shown) {
		char g[8];
		size_t gl = utf8_put(g, a.out ? s->g->line : s->g->left);
		gl += utf8_put(g + gl, a.out ? s->g->right : s->g->line);
		g[gl] = '\0';
		snprintf(note, sizeof(note), "%s %s", g, full);
	}

	fmt_secs(tbuf, sizeof(tbuf), ev->tend);
	for (int i = 0; i < b.n; i++) {
		int x;
		if (i == 0) {
			row_begin(s, tbuf, ev->pid);
			x = put_strn(s, xm, s->tw, b.text, b.end[0], box_attr);
		} else {
			row_begin(s, NULL, ev->pid);
			/* the box goes on: its lifeline stops */
			for (x = cx < xm ? cx : xm; x <= xm || x < cx; x++)
				put_cp(s, x, ' ', A_NONE);
			x = put_strn(s, cx, s->tw, b.text + b.start[i], b.end[i] - b.start[i], box_attr);
		}
		if (i == b.n - 1 && with_dur) {
			put_cp(s, x, ' ', A_NONE); /* a lifeline the box stopped at */
			x = put_str(s, x + 1, s->tw, dur, A_DIM);
		}
		if (i == 0 && xp > xm && !arrow_below) {
			/* Partner on the right: arrow from the end of the box. */
			draw_arrow(s, x, xp, a.out, &a, full, brief);
			put_cp(s, xp, a.out ? s->g->life : s->g->end_r, arrow_attr(a.kind));
		} else if (i == 0 && xp >= 0 && xp < xm) {
			draw_arrow(s, xp, xm, !a.out, &a, full, brief);
			put_cp(s, xp, a.out ? s->g->life : s->g->end_l, arrow_attr(a.kind));
		}
		if (i == b.n - 1 && *note && x + 1 + (int)dw_str(note) <= s->tw) {
			put_str(s, x + 1, s->tw, note, arrow_attr(a.kind));
			note[0] = '\0';
		}
		row_flush(s);
	}
	if (*note) {
		row_begin(s, NULL, ev->pid);
		put_str(s, cx, s->tw, note, arrow_attr(a.kind));
		row_flush(s);
	}
	if (arrow_below) {
		row_begin(s, NULL, ev->pid);
		draw_arrow(s, xm, xp, a.out, &a, full, brief);
		put_cp(s, xm, a.out ? s->g->end_l : s->g->life, arrow_attr(a.kind));
		put_cp(s, xp, a.out ? s->g->life : s->g->end_r, arrow_attr(a.kind));
		row_flush(s);
	}
	if (s->sym)
		stack_rows(s, ev, xm);
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
		char part[4][64];
		int np = 0, col = 0;
		if (s->rows == 0)
			fputs("(no events to show)\n", s->out);
		snprintf(part[np++], sizeof(part[0]), "%zu process%s", procs, procs == 1 ? "" : "es");
		if (remotes)
			snprintf(part[np++], sizeof(part[0]), "%zu endpoint%s not traced", remotes,
				 remotes == 1 ? "" : "s");
		snprintf(part[np++], sizeof(part[0]), "%zu connection%s", model_nconns(ctx->model),
			 model_nconns(ctx->model) == 1 ? "" : "s");
		if (filter_active(&s->o->filter))
			snprintf(part[np++], sizeof(part[0]), "%lu of %lu events shown", s->scanned,
				 ctx->reader->records);
		else
			snprintf(part[np++], sizeof(part[0]), "%lu events", ctx->reader->records);
		/* One line, or as many as the width needs. */
		fputc('\n', s->out);
		for (int i = 0; i < np; i++) {
			int len = (int)strlen(part[i]) + (i + 1 < np ? 1 : 0);
			if (i > 0 && col + 1 + len > s->o->width) {
				fputc('\n', s->out);
				col = 0;
			} else if (i > 0) {
				fputc(' ', s->out);
				col++;
			}
			fprintf(s->out, "%s%s", part[i], i + 1 < np ? "," : "");
			col += len;
		}
		fputc('\n', s->out);
		rc = ferror(s->out) ? 1 : 0;
		if (s->sym && s->stacks == 0)
			fputs("socktrace view: --stacks: no event shown has a call stack (record them with socktrace run --backtrace)\n",
			      stderr);
	}
	sym_free(s->sym);
	free(s->cols);
	free(s->seen);
	free(s->fail);
	free(s->lane_owner);
	free(s->lane_used);
	free(s->lane_changed);
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
