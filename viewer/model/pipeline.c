#include "model/pipeline.h"

#include <stdio.h>
#include <string.h>

int pass_open(struct pass *p, const char *const *paths, size_t npaths, unsigned flags)
{
	memset(p, 0, sizeof(*p));
	if (tr_open(&p->reader, paths, npaths, stderr, flags) != 0) {
		tr_close(&p->reader);
		return 1;
	}
	p->model = model_new(0);
	return 0;
}

static void emit(void *st, struct vev *ev)
{
	struct pass *p = st;

	if (!p->f || filter_match(p->f, ev)) {
		p->shown++;
		p->fn(p->st, ev);
	}
}

int pass_run(struct pass *p, const struct filter *f, void (*fn)(void *st, struct vev *ev),
	     void *st)
{
	struct tr_record rec;
	int rc;

	p->f = f;
	p->fn = fn;
	p->st = st;
	p->order = causal_new(p->model, emit, p);
	while ((rc = tr_next(&p->reader, &rec)) > 0)
		causal_feed(p->order, &rec, ++p->events, p->reader.base);
	if (rc >= 0)
		causal_flush(p->order);
	p->forced = causal_forced(p->order);
	causal_free(p->order);
	p->order = NULL;
	return rc < 0 ? 1 : 0;
}

void pass_ordering_note(const struct pass *p, char *buf, size_t cap)
{
	unsigned long late = model_late_links(p->model) + p->forced;
	unsigned long drops = model_bound_drops(p->model);
	size_t n = 0;

	buf[0] = '\0';
	if (late)
		n += (size_t)snprintf(buf + n, cap - n,
				      "%lu link%s not drawn: the cause was read after its effect had gone out (a call longer than the reordering window, or more events held than the causal order keeps)",
				      late, late == 1 ? "" : "s");
	if (drops && n < cap)
		snprintf(buf + n, cap - n, "%s%lu send%s left unpaired: more than 1 GiB ahead of the reader",
			 n ? "; " : "", drops, drops == 1 ? "" : "s");
}

void pass_close(struct pass *p)
{
	causal_free(p->order);
	model_free(p->model);
	p->model = NULL;
	tr_close(&p->reader);
}
