#include "pipeline.h"

#include <stdio.h>
#include <string.h>

int pass_open(struct pass *p, const char *const *paths, size_t npaths, unsigned flags)
{
	memset(p, 0, sizeof(*p));
	if (tr_open(&p->reader, paths, npaths, stderr, flags) != 0) {
		tr_close(&p->reader);
		return 1;
	}
	p->model = model_new();
	return 0;
}

int pass_run(struct pass *p, const struct filter *f, void (*fn)(void *st, struct vev *ev),
	     void *st)
{
	struct tr_record rec;
	struct vev ev;
	int rc;

	while ((rc = tr_next(&p->reader, &rec)) > 0) {
		vev_decode(&ev, &rec, ++p->events, p->reader.base);
		model_feed(p->model, &ev);
		if (!f || filter_match(f, &ev)) {
			p->shown++;
			fn(st, &ev);
		}
		tr_record_free(&rec);
	}
	return rc < 0 ? 1 : 0;
}

void pass_close(struct pass *p)
{
	model_free(p->model);
	p->model = NULL;
	tr_close(&p->reader);
}
