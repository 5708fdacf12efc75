#include "render/evbuf.h"

#include "read/trace_fields.h"
#include "util/oom.h"
#include "util/hmap.h"
#include "util/textutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void evbuf_init(struct evbuf *b, size_t limit, size_t preview, bool with_json)
{
	memset(b, 0, sizeof(*b));
	b->limit = limit;
	b->preview = preview;
	b->with_json = with_json;
}

/* The pairing fields a record gets in the page: ,"seq":N,... */
static void pairing_fields(FILE *out, const struct vev *ev)
{
	json_t *name = json_string(ev->file->prog);
	char *prog = json_dumps(name, JSON_ENCODE_ANY | JSON_ENSURE_ASCII | JSON_ESCAPE_SLASH);

	fprintf(out, ",\"seq\":%llu,\"prog\":%s", (unsigned long long)ev->seq, prog ? prog : "\"?\"");
	free(prog);
	json_decref(name);
	if (ev->conn)
		fprintf(out, ",\"conn\":%u,\"side\":\"%s\"", ev->conn->id,
			conn_side_name(ev->conn, ev->side));
	if (ev->npartners) {
		size_t n = vev_nlinks(ev);
		fputs(",\"pair\":[", out);
		for (size_t i = 0; i < n; i++)
			fprintf(out, "%s%llu", i ? "," : "", (unsigned long long)ev->partners[i].seq);
		fputc(']', out);
	}
	fputc('}', out);
}

/* The record as the page's details panel shows it, with its pairing
 * fields. The line as the shim wrote it when the reader kept it (no tree
 * is built for it), "</" written "<\/" so that no "</script>" ends the
 * page's data early; else the tree's text. */
static char *record_json(struct vev *ev)
{
	const struct tr_fields *f = ev->rec ? ev->rec->fields : NULL;
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	if (!out)
		oom_exit();
	if (f && f->raw && f->raw_len > 1) {
		size_t n = f->raw_len;
		while (n > 0 && f->raw[n - 1] != '}')
			n--;
		for (size_t i = 0; i + 1 < n; i++) {
			if (f->raw[i] == '<' && f->raw[i + 1] == '/')
				fputs("<\\", out);
			else
				fputc(f->raw[i], out);
		}
	} else {
		char *t = json_dumps(vev_json(ev), JSON_COMPACT | JSON_ENSURE_ASCII |
							   JSON_ESCAPE_SLASH | JSON_PRESERVE_ORDER);
		size_t n = t ? strlen(t) : 0;
		if (n > 1)
			fwrite(t, 1, n - 1, out); /* without its closing brace */
		else
			fputs("{\"rec\":\"?\"", out);
		free(t);
	}
	pairing_fields(out, ev);
	if (fclose(out) != 0 || !text)
		oom_exit();
	return text;
}

void evbuf_add(struct evbuf *b, struct vev *ev, const struct model *m)
{
	struct bev *e;
	char label[600];

	if (!ev_drawn(ev))
		return;
	if (b->limit && b->n >= b->limit) {
		b->over++;
		return;
	}
	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 256;
		b->v = oom_check(realloc(b->v, b->cap * sizeof(*b->v)));
	}
	e = &b->v[b->n++];
	memset(e, 0, sizeof(*e));
	e->seq = ev->seq;
	e->pid = ev->pid;
	e->tid = ev->tid;
	e->t = ev->t;
	e->dur = ev->dur;
	e->tend = ev->tend;
	e->kind = ev->kind;
	e->err = vev_result_err(ev) && !vev_errno_pending(vev_result_err(ev));
	e->fault = ev->fault;
	e->warn = ev->warning != NULL;
	e->conn = ev->conn;
	e->pending = ev->err && ev->pending && !e->err;
	ev_label_parts(ev, label, sizeof(label), b->preview, &e->parts);
	e->label = oom_check(strdup(label));
	if (b->with_json)
		e->json = oom_check(record_json(ev));
	ev_arrow(ev, m, &e->a);
	e->col = e->pcol = -1;
	e->prow = -1;
}

static int col_for(struct evbuf *b, struct hmap *idx, bool remote, int pid, const char *key,
		   size_t row)
{
	const void *k = remote ? (const void *)key : (const void *)&pid;
	size_t klen = remote ? strlen(key) + 1 : sizeof(pid); /* +1: apart from pids */
	uintptr_t i = (uintptr_t)hmap_get(idx, k, klen);
	struct bcol *c;

	if (i) {
		c = &b->cols[i - 1];
		if (row < c->first)
			c->first = row;
		if (row > c->last)
			c->last = row;
		return (int)i - 1;
	}
	b->cols = oom_check(realloc(b->cols, (b->ncols + 1) * sizeof(*b->cols)));
	c = &b->cols[b->ncols++];
	memset(c, 0, sizeof(*c));
	c->remote = remote;
	c->pid = pid;
	if (remote)
		snprintf(c->key, sizeof(c->key), "%s", key);
	c->first = c->last = row;
	if (hmap_put(idx, k, klen, (void *)(uintptr_t)b->ncols) != 0)
		oom_check(NULL);
	return (int)b->ncols - 1;
}

static long row_of(const struct evbuf *b, uint64_t seq)
{
	size_t lo = 0, hi = b->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (b->v[mid].seq < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < b->n && b->v[lo].seq == seq ? (long)lo : -1;
}

static int cmp_cols(const void *x, const void *y)
{
	const struct bcol *a = x, *c = y;

	if (a->remote != c->remote)
		return a->remote ? 1 : -1;
	if (a->first != c->first)
		return a->first < c->first ? -1 : 1;
	return 0;
}

void evbuf_finish(struct evbuf *b, const struct model *m)
{
	struct hmap calls = HMAP_INIT, idx = HMAP_INIT;
	size_t k = 0;
	int *remap;

	/* Processes that made no call (exec and exit only) are left out. */
	for (size_t i = 0; i < b->n; i++)
		if ((b->v[i].kind == TR_CALL || b->v[i].kind == TR_WARNING) &&
		    hmap_put(&calls, &b->v[i].pid, sizeof(int), b) != 0)
			oom_check(NULL);
	for (size_t i = 0; i < b->n; i++) {
		if (hmap_get(&calls, &b->v[i].pid, sizeof(int))) {
			b->v[k++] = b->v[i];
		} else {
			free(b->v[i].label);
			free(b->v[i].json);
		}
	}
	b->n = k;
	hmap_free(&calls, NULL);
	for (size_t i = 0; i < b->n; i++) {
		struct bev *e = &b->v[i];
		if (e->conn)
			arrow_final(&e->a, conn_final(e->conn), e->conn->fail);
		e->col = col_for(b, &idx, false, e->pid, NULL, i);
		if (e->a.kind == AR_NONE)
			continue;
		if (e->a.pid && e->a.pid == e->pid) {
			e->a.kind = AR_NONE; /* both ends in one process */
			continue;
		}
		e->pcol = e->a.pid ? col_for(b, &idx, false, e->a.pid, NULL, i) :
				     col_for(b, &idx, true, 0, e->a.remote, i);
		if (e->a.partner)
			e->prow = row_of(b, e->a.partner);
	}
	hmap_free(&idx, NULL);
	/* Processes first, in order of appearance, then remote endpoints. */
	for (size_t i = 0; i < b->ncols; i++) {
		struct bcol *c = &b->cols[i];
		if (c->remote) {
			snprintf(c->name, sizeof(c->name), "%s", c->key);
			snprintf(c->sub, sizeof(c->sub), "not traced");
		} else {
			snprintf(c->name, sizeof(c->name), "%s", model_name(m, c->pid));
			proc_caption(m, c->pid, c->sub, sizeof(c->sub));
		}
		sanitize_ascii(c->name);
	}
	size_t *orig = oom_check(calloc(b->ncols + 1, sizeof(*orig)));
	struct bcol *sorted = oom_check(calloc(b->ncols + 1, sizeof(*sorted)));
	for (size_t i = 0; i < b->ncols; i++)
		orig[i] = i;
	/* Insertion sort of the indices: stable, and columns are few. */
	for (size_t i = 1; i < b->ncols; i++) {
		size_t x = orig[i], j = i;
		while (j > 0 && cmp_cols(&b->cols[orig[j - 1]], &b->cols[x]) > 0) {
			orig[j] = orig[j - 1];
			j--;
		}
		orig[j] = x;
	}
	remap = oom_check(calloc(b->ncols + 1, sizeof(*remap)));
	for (size_t i = 0; i < b->ncols; i++) {
		sorted[i] = b->cols[orig[i]];
		remap[orig[i]] = (int)i;
	}
	if (b->ncols)
		memcpy(b->cols, sorted, b->ncols * sizeof(*sorted));
	for (size_t i = 0; i < b->n; i++) {
		b->v[i].col = remap[b->v[i].col];
		if (b->v[i].pcol >= 0)
			b->v[i].pcol = remap[b->v[i].pcol];
	}
	free(remap);
	free(sorted);
	free(orig);
}

void evbuf_free(struct evbuf *b)
{
	for (size_t i = 0; i < b->n; i++) {
		free(b->v[i].label);
		free(b->v[i].json);
	}
	free(b->v);
	free(b->cols);
	memset(b, 0, sizeof(*b));
}
