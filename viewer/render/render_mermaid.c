/* mermaid: a sequenceDiagram, which GitHub renders in Markdown inside a
 * ```mermaid fence. A participant per process (and per remote endpoint
 * not traced); a call that pairs with an earlier one becomes one message
 * from the sending side to the receiving side, labelled with both calls
 * ("send(3) 3 B -> recv(4) 3 B"); every other call is a note over its
 * process. Mermaid slows down with size: at most --limit events (300 by
 * default) are drawn. */
#include "render/render.h"

#include "render/evbuf.h"
#include "util/hmap.h"
#include "util/oom.h"

#include <stdlib.h>
#include <string.h>

#define PREVIEW_MAX 16

struct mermaid {
	struct view_ctx *ctx;
	FILE *out;
	struct evbuf buf;
};

static void *mm_begin(struct view_ctx *ctx)
{
	struct mermaid *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->ctx = ctx;
	s->out = ctx->o->out;
	evbuf_init(&s->buf, ctx->o->limit, PREVIEW_MAX, false);
	return s;
}

static void mm_event(void *p, struct vev *ev)
{
	struct mermaid *s = p;

	evbuf_add(&s->buf, ev, s->ctx->model);
}

/* Mermaid's own escapes (#NN; entity codes): ';' ends a statement, '#'
 * starts an entity, and some renderers take '<' '>' for HTML. In
 * participant names ':' is special too. */
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

static void participant_id(FILE *out, const struct evbuf *b, int col)
{
	if (b->cols[col].remote)
		fprintf(out, "R%d", col + 1);
	else
		fprintf(out, "P%d", b->cols[col].pid);
}

static void marked(FILE *out, const struct bev *e)
{
	if (e->fault)
		fputs("\xe2\x9a\xa1 ", out);
	else if (e->warn)
		fputs("\xe2\x9a\xa0 ", out);
	else if (e->err)
		fputs("\xe2\x9c\x97 ", out);
	mm_text(out, e->label, false);
}

/* Where a row goes in the diagram. A message says two events at once, the
 * cause and its effect, at one point: it goes right after the cause, or
 * later if the effect's thread did something in between (that comes
 * first); so what the cause's thread did next is not drawn before it. */
struct slot {
	size_t pos, row;
};

static int cmp_slot(const void *a, const void *b)
{
	const struct slot *x = a, *y = b;

	if (x->pos != y->pos)
		return x->pos < y->pos ? -1 : 1;
	return x->row < y->row ? -1 : x->row > y->row;
}

static struct slot *place(const struct evbuf *b, const long *with)
{
	struct slot *v = oom_check(calloc(b->n + 1, sizeof(*v)));
	struct hmap last = HMAP_INIT; /* pid, tid -> 1 + where its latest row went */

	for (size_t i = 0; i < b->n; i++) {
		const struct bev *e = &b->v[i];
		int key[2] = { e->pid, e->tid };
		size_t before = (size_t)(uintptr_t)hmap_get(&last, key, sizeof(key));
		v[i].row = i;
		v[i].pos = i;
		if (with[i] >= 0) {
			v[i].pos = (size_t)with[i];
			if (before && before - 1 > v[i].pos)
				v[i].pos = before - 1;
		}
		if (hmap_put(&last, key, sizeof(key), (void *)(uintptr_t)(v[i].pos + 1)) != 0)
			oom_exit();
	}
	hmap_free(&last, NULL);
	qsort(v, b->n, sizeof(*v), cmp_slot);
	return v;
}

static void diagram(struct mermaid *s)
{
	FILE *out = s->out;
	struct evbuf *b = &s->buf;
	long *with = oom_check(calloc(b->n + 1, sizeof(*with))); /* row absorbed into it, or -1 */
	bool *absorbed = oom_check(calloc(b->n + 1, sizeof(*absorbed)));

	/* An earlier event with no arrow of its own is said by the message
	 * of the later one it pairs with. */
	for (size_t i = 0; i < b->n; i++) {
		const struct bev *e = &b->v[i];
		with[i] = -1;
		if (e->pcol < 0 || e->prow < 0)
			continue;
		const struct bev *q = &b->v[e->prow];
		if (q->pcol >= 0 || absorbed[e->prow])
			continue;
		absorbed[e->prow] = true;
		with[i] = e->prow;
	}
	fputs("sequenceDiagram\n", out);
	for (size_t c = 0; c < b->ncols; c++) {
		fputs("    participant ", out);
		participant_id(out, b, (int)c);
		fputs(" as ", out);
		mm_text(out, b->cols[c].name, true);
		fputs(" ", out);
		mm_text(out, b->cols[c].sub, true);
		fputc('\n', out);
	}
	struct slot *order = place(b, with);
	for (size_t k = 0; k < b->n; k++) {
		size_t i = order[k].row;
		const struct bev *e = &b->v[i];
		if (absorbed[i])
			continue;
		fputs("    ", out);
		if (e->pcol < 0) {
			fputs("Note over ", out);
			participant_id(out, b, e->col);
			fputs(": ", out);
			marked(out, e);
			fputc('\n', out);
			continue;
		}
		const char *arrow = e->a.kind == AR_CLOSE ? "--)" : e->a.kind == AR_FAIL ? "-x" : "->>";
		participant_id(out, b, e->a.out ? e->col : e->pcol);
		fputs(arrow, out);
		participant_id(out, b, e->a.out ? e->pcol : e->col);
		fputs(": ", out);
		if (with[i] >= 0) {
			const struct bev *q = &b->v[with[i]];
			marked(out, e->a.out ? e : q);
			fputs(" \xe2\x86\x92 ", out);
			marked(out, e->a.out ? q : e);
		} else {
			marked(out, e);
		}
		fputc('\n', out);
	}
	if (b->over && b->ncols) {
		fputs("    Note over ", out);
		participant_id(out, b, 0);
		if (b->ncols > 1) {
			fputc(',', out);
			participant_id(out, b, (int)b->ncols - 1);
		}
		fprintf(out, ": %lu more events not drawn (--limit %zu)\n", b->over, b->limit);
	}
	free(order);
	free(with);
	free(absorbed);
}

static int mm_finish(void *p, bool draw)
{
	struct mermaid *s = p;
	int rc = 0;

	if (draw) {
		evbuf_finish(&s->buf, s->ctx->model);
		diagram(s);
		if (s->buf.over)
			fprintf(stderr, "socktrace view: %lu event%s not drawn (over --limit %zu)\n",
				s->buf.over, s->buf.over == 1 ? "" : "s", s->buf.limit);
		rc = ferror(s->out) ? 1 : 0;
	}
	evbuf_free(&s->buf);
	free(s);
	return rc;
}

const struct renderer render_mermaid = {
	.begin = mm_begin,
	.event = mm_event,
	.finish = mm_finish,
};
