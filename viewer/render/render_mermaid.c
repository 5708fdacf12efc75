/* mermaid: a sequenceDiagram, which GitHub renders in Markdown inside a
 * ```mermaid fence. A participant per process (and per remote endpoint
 * not traced); a call that pairs with an earlier one becomes one message
 * from the sending side to the receiving side, labelled with both calls
 * ("c1 send(3) 3 B -> recv(4) 3 B", and every send a recv got bytes of),
 * numbered (autonumber) and led by its connection's id; every other call
 * is a note over its process. Rows keep each thread's order (order_rows).
 *
 * A diagram for people, small enough for GitHub to draw:
 * - by default only what a connection's story is made of: its set-up
 *   (listen, connect, accept), data, teardown (shutdown, close, the exit
 *   that closed it), failures, faults and warnings; --all draws every call
 *   (socket, setsockopt, getsockname, ...);
 * - many short-lived processes of one program (a shell loop of curls) are
 *   one participant (--group; by default when there are more than
 *   GROUP_AUTO participants), each of their calls saying its pid;
 * - injected faults are inside a red rect, pauses of --gap or more are
 *   notes with their length;
 * - at most --limit events (DEFAULT_LIMIT_MERMAID in cmd_view.c) and
 *   TEXT_BUDGET characters: mermaid refuses a text over maxTextSize
 *   (50,000 by default, as on GitHub). What is left out is said in a note
 *   at the end and on standard error, with how to narrow. */
#include "render/render.h"

#include "render/evbuf.h"
#include "util/hmap.h"
#include "util/oom.h"
#include "util/textutil.h"

#include <stdlib.h>
#include <string.h>

#define PREVIEW_MAX 16
/* More participants than this are grouped by program unless --no-group:
 * beyond it the diagram gets wider than a page. */
#define GROUP_AUTO 8
/* Mermaid's maxTextSize (its default, and GitHub's); rows stop before it,
 * leaving room for the closing note. */
#define MAXTEXTSIZE 50000
#define TEXT_BUDGET (MAXTEXTSIZE - 1000)
/* A fault's rows, highlighted. */
#define FAULT_RECT "rect rgba(255, 64, 64, 0.18)"

struct mermaid {
	struct view_ctx *ctx;
	FILE *out;
	struct evbuf buf;
	unsigned long hidden;   /* events not drawn without --all */
	int64_t first_over;     /* return time of the first event over --limit */
	unsigned long not_drawn; /* events left out by the text budget */
	int64_t first_cut;      /* ... the earliest return time among them */
	bool cut;               /* rows stopped at the text budget */
	struct hmap more;       /* seq of a recv of several sends -> struct causes */
};

/* The causes of an event after its first (a recv that got the bytes of
 * several sends): they are said in its message too. */
struct causes {
	size_t n;
	uint64_t seq[VEV_MAXP];
};

static void *mm_begin(struct view_ctx *ctx)
{
	struct mermaid *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->ctx = ctx;
	s->out = ctx->o->out;
	s->first_over = -1;
	s->first_cut = INT64_MAX;
	evbuf_init(&s->buf, ctx->o->limit, PREVIEW_MAX, false);
	return s;
}

/* Whether a call is part of what the diagram tells by default: a
 * connection's set-up, its data, its teardown, or something that went
 * wrong. Not socket(), options, names, DNS that worked, exec, a plain exit,
 * nor a "not yet" (EAGAIN) of a non-blocking data call. */
static bool story(const struct vev *ev)
{
	if (ev->kind == TR_WARNING || ev->kind == TR_CTL || ev->fault || vev_is_error(ev))
		return true;
	if (ev->kind == TR_END)
		return ev->link != LINK_NONE; /* its exit closed a connection */
	if (ev->kind != TR_CALL)
		return false;
	switch (ev->op) {
	case OP_LISTEN:
	case OP_CONNECT:
	case OP_ACCEPT:
		return true;
	case OP_SEND:
	case OP_RECV:
		return ev->conn && !ev->err;
	case OP_SHUTDOWN:
	case OP_CLOSE:
		return ev->conn != NULL;
	default:
		return false;
	}
}

static void mm_event(void *p, struct vev *ev)
{
	struct mermaid *s = p;

	if (!ev_drawn(ev))
		return;
	if (!s->ctx->o->all && !story(ev)) {
		s->hidden++;
		return;
	}
	if (s->buf.limit && s->buf.n >= s->buf.limit && s->first_over < 0)
		s->first_over = ev->tend;
	size_t kept = s->buf.n;
	evbuf_add(&s->buf, ev, s->ctx->model);
	size_t n = vev_nlinks(ev);
	if (s->buf.n > kept && n > 1 && !ev->out) {
		struct causes *c = oom_check(calloc(1, sizeof(*c)));
		for (size_t i = 1; i < n; i++)
			c->seq[c->n++] = ev->partners[i].seq;
		if (hmap_put(&s->more, &ev->seq, sizeof(ev->seq), c) != 0)
			oom_exit();
	}
}

/* Mermaid's own escapes (#NN; entity codes): ';' ends a statement, '#'
 * starts an entity, "%%" a comment, and some renderers take '<' '>' for
 * HTML. In participant names ':' is special too. */
static void mm_text(FILE *out, const char *s, bool name)
{
	for (; *s; s++) {
		switch (*s) {
		case '#':
			fputs("#35;", out);
			break;
		case ';':
			fputs("#59;", out);
			break;
		case '%':
			fputs("#37;", out);
			break;
		case '<':
			fputs("#lt;", out);
			break;
		case '>':
			fputs("#gt;", out);
			break;
		case '-':
			if (s[1] == '>') {
				fputs("\xe2\x86\x92", out); /* "->" as an arrow */
				s++;
			} else {
				fputc('-', out);
			}
			break;
		case '"':
			fputs("#quot;", out);
			break;
		case ':':
			fputs(name ? "#58;" : ":", out);
			break;
		default:
			fputc(*s, out);
		}
	}
}

/* ---- participants ---- */

/* One participant: a process, a remote endpoint, or (grouped) every
 * process of one program in one role. */
struct part {
	char id[24];
	char name[ADDR_MAX + 16];
	char sub[32];
	int members;
};

struct parts {
	struct part *v;
	size_t n;
	int *of_col;         /* column -> participant */
};

static void parts_layout(struct parts *ps, const struct evbuf *b, const struct model *m,
			 bool group)
{
	struct hmap idx = HMAP_INIT; /* program and role -> 1 + participant */
	char key[ADDR_MAX + 64];

	ps->v = oom_check(calloc(b->ncols + 1, sizeof(*ps->v)));
	ps->of_col = oom_check(calloc(b->ncols + 1, sizeof(*ps->of_col)));
	ps->n = 0;
	for (size_t c = 0; c < b->ncols; c++) {
		const struct bcol *col = &b->cols[c];
		struct part *p;
		if (group && !col->remote) {
			/* Role too: a program that is both the server and its
			 * clients stays two participants. */
			snprintf(key, sizeof(key), "%s\n%s", col->name, model_role(m, col->pid));
			uintptr_t i = (uintptr_t)hmap_gets(&idx, key);
			if (i) {
				p = &ps->v[i - 1];
				p->members++;
				snprintf(p->sub, sizeof(p->sub), "(%d processes)", p->members);
				ps->of_col[c] = (int)i - 1;
				continue;
			}
			if (hmap_put(&idx, key, strlen(key), (void *)(uintptr_t)(ps->n + 1)) != 0)
				oom_exit();
		}
		p = &ps->v[ps->n];
		p->members = 1;
		if (col->remote)
			snprintf(p->id, sizeof(p->id), "R%zu", c + 1);
		else
			snprintf(p->id, sizeof(p->id), "P%d", col->pid);
		snprintf(p->name, sizeof(p->name), "%s", col->name);
		snprintf(p->sub, sizeof(p->sub), "%s", col->sub);
		ps->of_col[c] = (int)ps->n++;
	}
	/* A group keeps its first process's id while it has one member. */
	for (size_t i = 0; i < ps->n; i++)
		if (ps->v[i].members > 1)
			snprintf(ps->v[i].id, sizeof(ps->v[i].id), "G%zu", i + 1);
	hmap_free(&idx, NULL);
}

static void parts_free(struct parts *ps)
{
	free(ps->v);
	free(ps->of_col);
}

/* ---- rows ---- */

/* The order of the rows. A message says two events at once, the cause
 * and its effect, in two threads: it comes after what each of the two
 * threads did before, and before what each did after (a client's send
 * after its connect's message, even when the server's accept returned
 * later). Rows are merged in that order, the one whose first call came
 * first when several may go. Crossing messages (both ends sent before
 * either read) cannot keep both threads' order: the earlier goes first. */
struct thr {
	size_t *rows;        /* its rows, in the order of its calls */
	size_t n, cap, at;   /* at: the first not drawn */
};

struct merge {
	struct thr *t;
	size_t nt;
	int (*of)[2];        /* per row: its threads (-1: none) */
	size_t *key;         /* per row: the output order of its first call */
	bool *done, *queued;
	size_t *heap, nheap;
};

static bool row_before(const struct merge *g, size_t a, size_t b)
{
	return g->key[a] != g->key[b] ? g->key[a] < g->key[b] : a < b;
}

static void heap_push(struct merge *g, size_t r)
{
	size_t i = g->nheap++;

	g->heap[i] = r;
	while (i > 0 && row_before(g, g->heap[i], g->heap[(i - 1) / 2])) {
		size_t up = (i - 1) / 2, x = g->heap[i];
		g->heap[i] = g->heap[up];
		g->heap[up] = x;
		i = up;
	}
}

static size_t heap_pop(struct merge *g)
{
	size_t top = g->heap[0], i = 0;

	g->heap[0] = g->heap[--g->nheap];
	for (;;) {
		size_t l = 2 * i + 1, m = i;
		if (l < g->nheap && row_before(g, g->heap[l], g->heap[m]))
			m = l;
		if (l + 1 < g->nheap && row_before(g, g->heap[l + 1], g->heap[m]))
			m = l + 1;
		if (m == i)
			break;
		size_t x = g->heap[i];
		g->heap[i] = g->heap[m];
		g->heap[m] = x;
		i = m;
	}
	return top;
}

/* Thread t's first row not drawn yet; SIZE_MAX when none is left. */
static size_t thr_head(struct merge *g, int t)
{
	struct thr *th = &g->t[t];

	while (th->at < th->n && g->done[th->rows[th->at]])
		th->at++;
	return th->at < th->n ? th->rows[th->at] : SIZE_MAX;
}

static bool row_ready(struct merge *g, size_t r)
{
	for (int k = 0; k < 2; k++)
		if (g->of[r][k] >= 0 && thr_head(g, g->of[r][k]) != r)
			return false;
	return true;
}

static void offer(struct merge *g, size_t r)
{
	if (r != SIZE_MAX && !g->queued[r] && row_ready(g, r)) {
		g->queued[r] = true;
		heap_push(g, r);
	}
}

/* The rows to draw (not absorbed into a message, not skipped), in order;
 * *nrows of them. */
static size_t *order_rows(const struct evbuf *b, const long *first, const long *also,
			  const bool *absorbed, const bool *skip, size_t *nrows)
{
	struct merge g = { 0 };
	struct hmap idx = HMAP_INIT; /* pid, tid -> 1 + thread */
	long *into = oom_check(calloc(b->n + 1, sizeof(*into)));
	size_t *out = oom_check(calloc(b->n + 1, sizeof(*out)));
	size_t n = 0, want = 0;

	g.t = oom_check(calloc(b->n + 1, sizeof(*g.t)));
	g.of = oom_check(calloc(b->n + 1, sizeof(*g.of)));
	g.key = oom_check(calloc(b->n + 1, sizeof(*g.key)));
	g.done = oom_check(calloc(b->n + 1, sizeof(*g.done)));
	g.queued = oom_check(calloc(b->n + 1, sizeof(*g.queued)));
	g.heap = oom_check(calloc(b->n + 1, sizeof(*g.heap)));
	for (size_t i = 0; i < b->n; i++) {
		into[i] = -1;
		g.of[i][0] = g.of[i][1] = -1;
		g.key[i] = i;
	}
	for (size_t i = 0; i < b->n; i++) {
		for (long q = first[i]; q >= 0; q = also[q]) {
			into[q] = (long)i;
			if ((size_t)q < g.key[i])
				g.key[i] = (size_t)q;
		}
	}
	for (size_t j = 0; j < b->n; j++) {
		if (skip[j] || (absorbed[j] && into[j] < 0))
			continue;
		size_t r = absorbed[j] ? (size_t)into[j] : j;
		int key[2] = { b->v[j].pid, b->v[j].tid };
		uintptr_t t = (uintptr_t)hmap_get(&idx, key, sizeof(key));
		if (!t) {
			t = ++g.nt;
			if (hmap_put(&idx, key, sizeof(key), (void *)t) != 0)
				oom_exit();
		}
		struct thr *th = &g.t[t - 1];
		if (th->n == th->cap) {
			th->cap = th->cap ? th->cap * 2 : 16;
			th->rows = oom_check(realloc(th->rows, th->cap * sizeof(*th->rows)));
		}
		th->rows[th->n++] = r;
		g.of[r][g.of[r][0] < 0 ? 0 : 1] = (int)t - 1;
		want += !absorbed[j];
	}
	for (size_t t = 0; t < g.nt; t++)
		offer(&g, thr_head(&g, (int)t));
	while (n < want) {
		size_t r = SIZE_MAX;
		if (g.nheap) {
			r = heap_pop(&g);
		} else {
			/* Crossing messages: the head that came first. */
			for (size_t t = 0; t < g.nt; t++) {
				size_t h = thr_head(&g, (int)t);
				if (h != SIZE_MAX && (r == SIZE_MAX || row_before(&g, h, r)))
					r = h;
			}
			if (r == SIZE_MAX)
				break;
		}
		if (g.done[r])
			continue;
		g.done[r] = true;
		out[n++] = r;
		for (int k = 0; k < 2; k++)
			if (g.of[r][k] >= 0)
				offer(&g, thr_head(&g, g.of[r][k]));
	}
	for (size_t t = 0; t < g.nt; t++)
		free(g.t[t].rows);
	free(g.t);
	free(g.of);
	free(g.key);
	free(g.done);
	free(g.queued);
	free(g.heap);
	free(into);
	hmap_free(&idx, NULL);
	*nrows = n;
	return out;
}

struct drawing {
	struct mermaid *s;
	const struct evbuf *b;
	struct parts ps;
};

static const struct part *part_of(const struct drawing *d, int col)
{
	return &d->ps.v[d->ps.of_col[col]];
}

/* One event's text: its mark, its label, and, in a participant of
 * several processes, whose it is. */
static void marked(FILE *out, const struct drawing *d, const struct bev *e)
{
	if (e->fault)
		fputs("\xe2\x9a\xa1 ", out);
	else if (e->warn)
		fputs("\xe2\x9a\xa0 ", out);
	else if (e->err)
		fputs("\xe2\x9c\x97 ", out);
	mm_text(out, e->label, false);
	if (part_of(d, e->col)->members > 1)
		fprintf(out, " [pid %d]", e->pid);
}

static void conn_id(FILE *out, const struct bev *e, const struct bev *q)
{
	const struct conn *c = e->conn ? e->conn : q ? q->conn : NULL;

	if (c)
		fprintf(out, "c%u ", c->id);
}

/* A note across the whole diagram. */
static void note_across(FILE *out, const struct drawing *d)
{
	fprintf(out, "    Note over %s", d->ps.v[0].id);
	if (d->ps.n > 1)
		fprintf(out, ",%s", d->ps.v[d->ps.n - 1].id);
	fputs(": ", out);
}

static void idle_note(FILE *out, const struct drawing *d, int64_t pause)
{
	char dur[32];

	note_across(out, d);
	fprintf(out, "%s idle\n", fmt_dur(dur, sizeof(dur), pause));
}

/* Row e: a note over its participant, or a message to or from the other
 * end, with the earlier events it absorbed (first, then along also) when
 * it has some. The calls of one message are on lines of their own: the
 * diagram is as wide as its widest message. */
static void row(FILE *out, const struct drawing *d, const struct bev *e, long first,
		const long *also)
{
	const struct bev *q = first >= 0 ? &d->b->v[first] : NULL;

	fputs("    ", out);
	if (e->pcol < 0) {
		fprintf(out, "Note over %s: ", part_of(d, e->col)->id);
		conn_id(out, e, NULL);
		marked(out, d, e);
		fputc('\n', out);
		return;
	}
	const char *arrow = e->a.kind == AR_CLOSE ? "--)" : e->a.kind == AR_FAIL ? "-x" : "->>";
	fputs(part_of(d, e->a.out ? e->col : e->pcol)->id, out);
	fputs(arrow, out);
	fputs(part_of(d, e->a.out ? e->pcol : e->col)->id, out);
	fputs(": ", out);
	conn_id(out, e, q);
	if (q && e->a.out) {
		marked(out, d, e);
		fputs("<br/>\xe2\x86\x92 ", out);
		marked(out, d, q);
	} else if (q) {
		for (long k = first; k >= 0; k = also[k]) {
			if (k != first)
				fputs("<br/>+ ", out);
			marked(out, d, &d->b->v[k]);
		}
		fputs("<br/>\xe2\x86\x92 ", out);
		marked(out, d, e);
	} else {
		marked(out, d, e);
	}
	fputc('\n', out);
}

/* The row of the event numbered seq, or -1. */
static long find_row(const struct evbuf *b, uint64_t seq)
{
	size_t lo = 0, hi = b->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (b->v[mid].seq < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < b->n && b->v[lo].seq == seq ? (long)lo : -1;
}

/* Characters as mermaid counts them (UTF-16 units; all of ours are in the
 * BMP): bytes that do not continue a UTF-8 sequence. */
static size_t chars(const char *p, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		k += ((unsigned char)p[i] & 0xc0) != 0x80;
	return k;
}

static void diagram(struct mermaid *s)
{
	const struct view_opts *o = s->ctx->o;
	FILE *out = s->out;
	struct evbuf *b = &s->buf;
	long *first = oom_check(calloc(b->n + 1, sizeof(*first))); /* its first absorbed row */
	long *also = oom_check(calloc(b->n + 1, sizeof(*also)));   /* the next in its message */
	bool *absorbed = oom_check(calloc(b->n + 1, sizeof(*absorbed)));
	bool *skip = oom_check(calloc(b->n + 1, sizeof(*skip)));
	struct drawing d = { s, b, { NULL, 0, NULL } };
	char *text = NULL;
	size_t len = 0, used = 0;
	FILE *r = open_memstream(&text, &len); /* one row at a time */

	if (!r)
		oom_exit();
	/* An earlier event with no arrow of its own is said by the message
	 * of the later one it pairs with; the further sends a recv got bytes
	 * of, too. */
	for (size_t i = 0; i < b->n; i++)
		first[i] = also[i] = -1;
	for (size_t i = 0; i < b->n; i++) {
		const struct bev *e = &b->v[i];
		if (e->pcol < 0 || e->prow < 0)
			continue;
		const struct bev *q = &b->v[e->prow];
		if (q->pcol >= 0 || absorbed[e->prow])
			continue;
		absorbed[e->prow] = true;
		first[i] = e->prow;
		const struct causes *more = e->a.out ? NULL : hmap_get(&s->more, &e->seq, sizeof(e->seq));
		long last = e->prow;
		for (size_t k = 0; more && k < more->n; k++) {
			long j = find_row(b, more->seq[k]);
			if (j < 0 || (size_t)j >= i || absorbed[j] || b->v[j].pcol >= 0 ||
			    b->v[j].col != q->col)
				continue;
			absorbed[j] = true;
			also[last] = j;
			last = j;
		}
	}
	/* A socketpair within one process (curl's wake-up pair) is no
	 * conversation between participants: without an arrow, its calls
	 * are left out too unless they went wrong. */
	for (size_t i = 0; i < b->n && !o->all; i++) {
		const struct bev *e = &b->v[i];
		if (!absorbed[i] && e->pcol < 0 && e->conn && e->conn->socketpair && !e->err &&
		    !e->fault && !e->warn) {
			skip[i] = true;
			s->hidden++;
		}
	}
	size_t procs = 0;
	for (size_t c = 0; c < b->ncols; c++)
		procs += !b->cols[c].remote;
	parts_layout(&d.ps, b, s->ctx->model,
		     o->group == 1 || (o->group < 0 && b->ncols > GROUP_AUTO && procs > 1));
	fputs("sequenceDiagram\n", r);
	fputs("    autonumber\n", r);
	for (size_t i = 0; i < d.ps.n; i++) {
		fprintf(r, "    participant %s as ", d.ps.v[i].id);
		mm_text(r, d.ps.v[i].name, true);
		fputs(" ", r);
		mm_text(r, d.ps.v[i].sub, true);
		fputc('\n', r);
	}
	fflush(r);
	fwrite(text, 1, len, out);
	used = chars(text, len);
	size_t nrows;
	size_t *order = order_rows(b, first, also, absorbed, skip, &nrows);
	struct idle g = { 0, false };
	bool in_rect = false;
	for (size_t k = 0; k < nrows; k++) {
		size_t i = order[k];
		const struct bev *e = &b->v[i];
		int64_t t0 = e->tend, t1 = e->tend;
		bool fault = e->fault;
		unsigned long events = 1;
		for (long q = first[i]; q >= 0; q = also[q]) {
			const struct bev *c = &b->v[q];
			t0 = c->tend < t0 ? c->tend : t0;
			t1 = c->tend > t1 ? c->tend : t1;
			fault |= c->fault;
			events++;
		}
		if (!s->cut) {
			/* A pause before the row, from the first of its calls
			 * to return; one after it when the last returned much
			 * later. */
			int64_t before = idle_before(&g, o->gap, t0);
			int64_t after = t1 > t0 ? idle_before(&g, o->gap, t1) : 0;
			bool was_in_rect = in_rect;
			rewind(r);
			if (in_rect && (!fault || before)) {
				fputs("    end\n", r);
				in_rect = false;
			}
			if (before)
				idle_note(r, &d, before);
			if (fault && !in_rect) {
				fputs("    " FAULT_RECT "\n", r);
				in_rect = true;
			}
			row(r, &d, e, first[i], also);
			if (after && in_rect) {
				fputs("    end\n", r);
				in_rect = false;
			}
			if (after)
				idle_note(r, &d, after);
			fflush(r);
			size_t n = chars(text, len);
			if (!b->limit || used + n <= TEXT_BUDGET) {
				fwrite(text, 1, len, out);
				used += n;
				continue;
			}
			s->cut = true;
			in_rect = was_in_rect;
		}
		/* Past the text budget: counted, not drawn. */
		s->not_drawn += events;
		if (t0 < s->first_cut)
			s->first_cut = t0;
	}
	if (in_rect)
		fputs("    end\n", out);
	unsigned long left = b->over + s->not_drawn;
	if (left && d.ps.n) {
		char since[32];
		int64_t from = s->cut ? s->first_cut : s->first_over;
		note_across(out, &d);
		fprintf(out, "%lu more events not drawn (%s), from %s s on<br/>narrow with --pid, --conn, --since/--until, or -n\n",
			left, s->cut ? "mermaid's maxTextSize" : "--limit",
			fmt_secs(since, sizeof(since), from / 1000 * 1000));
	}
	if (s->hidden)
		fprintf(out, "    %%%% %lu other events not drawn: --all draws every call\n", s->hidden);
	fclose(r);
	free(text);
	free(order);
	parts_free(&d.ps);
	free(first);
	free(also);
	free(absorbed);
	free(skip);
}

static int mm_finish(void *p, bool draw)
{
	struct mermaid *s = p;
	int rc = 0;

	if (draw) {
		evbuf_finish(&s->buf, s->ctx->model);
		diagram(s);
		unsigned long left = s->buf.over + s->not_drawn;
		if (left) {
			char since[32];
			int64_t from = s->cut ? s->first_cut : s->first_over;
			char why[64];
			if (s->cut)
				snprintf(why, sizeof(why), "near mermaid's maxTextSize, %d characters",
					 MAXTEXTSIZE);
			else
				snprintf(why, sizeof(why), "over --limit %zu", s->buf.limit);
			fprintf(stderr, "socktrace view: %lu event%s not drawn (%s), from %s s on: narrow with --pid, --conn, --since/--until, or -n N (0: no limit)\n",
				left, left == 1 ? "" : "s", why,
				fmt_secs(since, sizeof(since), from / 1000 * 1000));
		}
		rc = ferror(s->out) ? 1 : 0;
	}
	evbuf_free(&s->buf);
	hmap_free(&s->more, free);
	free(s);
	return rc;
}

const struct renderer render_mermaid = {
	.begin = mm_begin,
	.event = mm_event,
	.finish = mm_finish,
};
