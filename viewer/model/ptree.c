/* The process tree of a trace (see ptree.h). */
#include "model/ptree.h"

#include "util/hmap.h"

#include <stdlib.h>
#include <string.h>

/* Generations searched below a process: pids reused within one trace
 * could make the parent links circular. */
#define PTREE_DEPTH 16

struct pnode {
	int pid, ppid;
	int64_t first_t;     /* its first call began; INT64_MAX: none */
	bool exited;
	size_t *kids;        /* children, latest first_t first */
	size_t nkids, cap;
};

struct ptree {
	struct pnode *v;
	size_t n;
	struct hmap index;   /* pid -> 1 + position in v */
};

static struct pnode *node_of(const struct ptree *t, int pid)
{
	uintptr_t i = (uintptr_t)hmap_get(&t->index, &pid, sizeof(pid));

	return i ? &t->v[i - 1] : NULL;
}

static int add_kid(struct pnode *p, size_t kid)
{
	if (p->nkids == p->cap) {
		size_t ncap = p->cap ? p->cap * 2 : 4;
		size_t *nk = realloc(p->kids, ncap * sizeof(*nk));
		if (!nk)
			return -1;
		p->kids = nk;
		p->cap = ncap;
	}
	p->kids[p->nkids++] = kid;
	return 0;
}

/* One node per pid: the images of one process (exec) share it, from the
 * earliest of their first calls. */
static int add_file(struct ptree *t, const struct tr_file *f, int64_t base)
{
	int64_t first = f->first_ts == INT64_MAX ? INT64_MAX : f->first_ts - base;
	struct pnode *p = node_of(t, f->pid);

	if (p) {
		if (first < p->first_t)
			p->first_t = first;
		return 0;
	}
	p = &t->v[t->n++];
	memset(p, 0, sizeof(*p));
	p->pid = f->pid;
	p->ppid = f->ppid;
	p->first_t = first;
	return hmap_put(&t->index, &p->pid, sizeof(p->pid), (void *)(uintptr_t)t->n);
}

static int later_first(const void *a, const void *b, void *tree)
{
	const struct ptree *t = tree;
	int64_t x = t->v[*(const size_t *)a].first_t;
	int64_t y = t->v[*(const size_t *)b].first_t;

	return x > y ? -1 : x < y;
}

static int link_kids(struct ptree *t)
{
	for (size_t i = 0; i < t->n; i++) {
		struct pnode *parent = t->v[i].ppid != t->v[i].pid ? node_of(t, t->v[i].ppid) : NULL;
		if (parent && add_kid(parent, i) != 0)
			return -1;
	}
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].nkids > 1)
			qsort_r(t->v[i].kids, t->v[i].nkids, sizeof(size_t), later_first, t);
	return 0;
}

struct ptree *ptree_new(const struct tr_reader *r)
{
	struct ptree *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->v = calloc(r->nfiles ? r->nfiles : 1, sizeof(*t->v));
	if (!t->v)
		goto fail;
	for (size_t i = 0; i < r->nfiles; i++)
		if (add_file(t, r->files[i], r->base) != 0)
			goto fail;
	if (link_kids(t) != 0)
		goto fail;
	return t;
fail:
	ptree_free(t);
	return NULL;
}

void ptree_free(struct ptree *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++)
		free(t->v[i].kids);
	free(t->v);
	hmap_free(&t->index, NULL);
	free(t);
}

void ptree_exited(struct ptree *t, int pid)
{
	struct pnode *p = t ? node_of(t, pid) : NULL;

	if (p)
		p->exited = true;
}

static bool heir_below(const struct ptree *t, const struct pnode *p, int64_t since,
		       bool (*may_hold)(void *ctx, int pid), void *ctx, int depth)
{
	if (depth > PTREE_DEPTH)
		return false;
	for (size_t k = 0; k < p->nkids; k++) {
		const struct pnode *c = &t->v[p->kids[k]];
		/* Began before the descriptor existed: forked before too. The
		 * rest of the children began earlier still. */
		if (since != INT64_MIN && c->first_t <= since)
			break;
		if (!c->exited && may_hold(ctx, c->pid))
			return true;
		/* Its own children, forked while it may have held it. */
		if (heir_below(t, c, since, may_hold, ctx, depth + 1))
			return true;
	}
	return false;
}

bool ptree_heir(const struct ptree *t, int pid, int64_t since,
		bool (*may_hold)(void *ctx, int pid), void *ctx)
{
	const struct pnode *p = t ? node_of(t, pid) : NULL;

	return p && heir_below(t, p, since, may_hold, ctx, 0);
}
