#include "stats/stats.h"

#include "util/oom.h"
#include "util/hmap.h"
#include "util/symbolize.h"
#include "util/textutil.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* --by-caller: the figures of one call name from one call site. */
struct caller {
	struct callstat cs;     /* cs.name: the call */
	bool nostack;           /* calls recorded without a stack */
	char *module;           /* the frame, as recorded (NULL when absent) */
	char *func;
	char *ip;
	uint64_t offset;
	bool has_offset;
	char caption[608];      /* "db_connect  callers.c:54", at print time */
	char site_func[200];    /* its parts: the function ("" unknown), */
	char site_where[400];   /* file:line, module+offset or ip ("") */
	bool site_line;         /* site_where is a file:line */
};

struct stats {
	struct hmap calls;      /* fn -> struct callstat */
	struct hmap warnings;   /* kind -> count, the first message kept */
	uint64_t ncalls;
	struct hmap pids;       /* processes with calls shown */
	uint8_t *conns;         /* per conn id: 1 when one of its calls was counted */
	size_t nconns;
	bool by_caller;
	struct hmap callers;    /* "fn\nmodule\noffset" -> struct caller */
	struct symbolizer *sym;
};

struct stats *stats_new(void)
{
	return oom_check(calloc(1, sizeof(struct stats)));
}

static void count_errno(struct callstat *cs, const char *err)
{
	for (size_t i = 0; i < cs->nerrs; i++) {
		if (strcmp(cs->errs[i].name, err) == 0) {
			cs->errs[i].count++;
			return;
		}
	}
	cs->errs = oom_check(realloc(cs->errs, (cs->nerrs + 1) * sizeof(*cs->errs)));
	snprintf(cs->errs[cs->nerrs].name, sizeof(cs->errs[0].name), "%s", err);
	sanitize_ascii(cs->errs[cs->nerrs].name);
	cs->errs[cs->nerrs].count = 1;
	cs->nerrs++;
}

void stats_by_caller(struct stats *st, const char *addr2line)
{
	st->by_caller = true;
	if (!st->sym)
		st->sym = sym_new(addr2line, "socktrace stats");
}

static void callstat_count(struct callstat *cs, const struct vev *ev)
{
	const char *err = vev_result_err(ev);

	cs->count++;
	/* A "not yet" is counted apart; a connect in progress that then
	 * failed is an error too, under the errno it failed with. */
	if (ev->pending) {
		cs->pending++;
		count_errno(cs, ev->err);
	}
	if (err && !vev_errno_pending(err)) {
		cs->errors++;
		count_errno(cs, err);
	}
	if (ev->fault)
		cs->faults++;
	hist_add(&cs->dur, (uint64_t)ev->dur);
}

static char *dup_opt(const char *s)
{
	return s ? oom_check(strdup(s)) : NULL;
}

/* The call's site: the innermost frame in the program itself (its module
 * is the header's exe), else the innermost frame. */
static void add_caller(struct stats *st, const struct vev *ev)
{
	json_t *stack = json_object_get(vev_json(ev), "stack"), *fr;
	const char *exe = ev->file && ev->file->exe ? ev->file->exe : "";
	struct sym_frame f, pick;
	bool found = false;
	size_t i, klen;
	char *key;
	struct caller *c;

	memset(&pick, 0, sizeof(pick));
	json_array_foreach(stack, i, fr) {
		if (!sym_frame_decode(fr, &f))
			continue;
		if (!found)
			pick = f;
		found = true;
		if (*exe && f.module && strcmp(f.module, exe) == 0) {
			pick = f;
			break;
		}
	}
	klen = strlen(ev->fn) + (pick.module ? strlen(pick.module) : 0) +
	       (pick.func ? strlen(pick.func) : 0) + (pick.ip ? strlen(pick.ip) : 0) + 48;
	key = oom_check(malloc(klen));
	if (!found)
		snprintf(key, klen, "%s\n-", ev->fn);
	else if (pick.has_offset)
		snprintf(key, klen, "%s\nm%s\n%" PRIx64, ev->fn, pick.module, pick.offset);
	else
		snprintf(key, klen, "%s\nf%s\n%s", ev->fn, pick.func ? pick.func : "",
			 pick.func ? "" : pick.ip ? pick.ip : "?");
	c = hmap_gets(&st->callers, key);
	if (!c) {
		c = oom_check(calloc(1, sizeof(*c)));
		snprintf(c->cs.name, sizeof(c->cs.name), "%s", ev->fn);
		sanitize_ascii(c->cs.name);
		c->nostack = !found;
		c->module = dup_opt(pick.module);
		c->func = dup_opt(pick.func);
		c->ip = dup_opt(pick.ip);
		c->offset = pick.offset;
		c->has_offset = pick.has_offset;
		if (hmap_put(&st->callers, key, strlen(key), c) != 0)
			oom_check(NULL);
	}
	free(key);
	callstat_count(&c->cs, ev);
}

void stats_add(struct stats *st, const struct vev *ev)
{
	struct callstat *cs;

	if (ev->kind == TR_WARNING) {
		struct errcount *w = hmap_gets(&st->warnings, ev->warning);
		if (!w) {
			w = oom_check(calloc(1, sizeof(*w)));
			snprintf(w->name, sizeof(w->name), "%s", ev->warning);
			sanitize_ascii(w->name);
			if (hmap_put(&st->warnings, ev->warning, strlen(ev->warning), w) != 0)
				oom_check(NULL);
		}
		w->count++;
		return;
	}
	if (ev->kind != TR_CALL)
		return;
	cs = hmap_gets(&st->calls, ev->fn);
	if (!cs) {
		cs = oom_check(calloc(1, sizeof(*cs)));
		snprintf(cs->name, sizeof(cs->name), "%s", ev->fn);
		sanitize_ascii(cs->name);
		if (hmap_put(&st->calls, ev->fn, strlen(ev->fn), cs) != 0)
			oom_check(NULL);
	}
	callstat_count(cs, ev);
	st->ncalls++;
	if (st->by_caller)
		add_caller(st, ev);
	if (!hmap_get(&st->pids, &ev->pid, sizeof(ev->pid)) &&
	    hmap_put(&st->pids, &ev->pid, sizeof(ev->pid), st) != 0)
		oom_check(NULL);
	if (ev->conn) {
		if (ev->conn->id >= st->nconns) {
			size_t n = st->nconns ? st->nconns : 64;
			while (n <= ev->conn->id)
				n *= 2;
			st->conns = oom_check(realloc(st->conns, n));
			memset(st->conns + st->nconns, 0, n - st->nconns);
			st->nconns = n;
		}
		st->conns[ev->conn->id] = 1;
	}
}

const struct callstat *stats_call(const struct stats *st, const char *name)
{
	return hmap_gets(&st->calls, name);
}

static int cmp_calls(const void *a, const void *b)
{
	const struct callstat *x = *(const struct callstat *const *)a;
	const struct callstat *y = *(const struct callstat *const *)b;

	if (x->dur.sum != y->dur.sum)
		return x->dur.sum > y->dur.sum ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int cmp_errs(const void *a, const void *b)
{
	const struct errcount *x = a, *y = b;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return strcmp(x->name, y->name);
}

static void print_errs(const struct callstat *cs, FILE *out)
{
	if (cs->nerrs)
		qsort(cs->errs, cs->nerrs, sizeof(*cs->errs), cmp_errs);
	for (size_t k = 0; k < cs->nerrs; k++)
		fprintf(out, "%s%s:%llu", k ? " " : "  ", cs->errs[k].name,
			(unsigned long long)cs->errs[k].count);
	fputc('\n', out);
}

static void print_calls(const struct stats *st, FILE *out)
{
	const struct callstat **v;
	size_t n = stats_calls(st, &v);
	uint64_t count = 0, errors = 0, pending = 0, faults = 0, total = 0;
	char t[4][32];

	fprintf(out, "%-16s %9s %7s %7s %6s %10s %10s %10s %10s  %s\n", "call", "count", "errors",
		"pending", "faults", "total", "p50", "p99", "max", "by errno");
	for (size_t i = 0; i < n; i++) {
		const struct callstat *cs = v[i];
		fprintf(out, "%-16s %9llu %7llu %7llu %6llu %10s %10s %10s %10s", cs->name,
			(unsigned long long)cs->count, (unsigned long long)cs->errors,
			(unsigned long long)cs->pending, (unsigned long long)cs->faults, fmt_dur(t[0], sizeof(t[0]), (int64_t)cs->dur.sum),
			fmt_dur(t[1], sizeof(t[1]), (int64_t)hist_percentile(&cs->dur, 50)),
			fmt_dur(t[2], sizeof(t[2]), (int64_t)hist_percentile(&cs->dur, 99)),
			fmt_dur(t[3], sizeof(t[3]), (int64_t)cs->dur.max));
		print_errs(cs, out);
		count += cs->count;
		errors += cs->errors;
		pending += cs->pending;
		faults += cs->faults;
		total = total + cs->dur.sum < total ? UINT64_MAX : total + cs->dur.sum;
	}
	fprintf(out, "%-16s %9llu %7llu %7llu %6llu %10s\n", "total", (unsigned long long)count,
		(unsigned long long)errors, (unsigned long long)pending, (unsigned long long)faults,
		fmt_dur(t[0], sizeof(t[0]), (int64_t)total));
	free(v);
}

static int cmp_callers(const void *a, const void *b)
{
	const struct caller *x = *(const struct caller *const *)a;
	const struct caller *y = *(const struct caller *const *)b;
	int c;

	if (x->nostack != y->nostack)
		return x->nostack ? 1 : -1;
	if (x->cs.count != y->cs.count)
		return x->cs.count > y->cs.count ? -1 : 1;
	if (x->cs.errors != y->cs.errors)
		return x->cs.errors > y->cs.errors ? -1 : 1;
	if ((c = strcmp(x->caption, y->caption)) != 0)
		return c;
	return strcmp(x->cs.name, y->cs.name);
}

/* "db_connect  callers.c:54" when the line is known, else the function as
 * recorded ("db_connect+0x1f", which tells call sites apart), else what
 * addr2line names, else module+offset. */
static void caption(struct symbolizer *sym, struct caller *c)
{
	struct sym_frame f = { c->ip, c->module, c->func, c->offset, c->has_offset };
	const struct sym_result *r = c->has_offset ? sym_get(sym, c->module, c->offset) : NULL;
	char func[200], where[400];

	if (c->nostack) {
		snprintf(c->caption, sizeof(c->caption), "(no stack)");
		return;
	}
	c->site_line = sym_describe(&f, r && r->nlocs ? &r->locs[0] : NULL, true, func,
				    sizeof(func), where, sizeof(where));
	snprintf(c->site_func, sizeof(c->site_func), "%s", strcmp(func, "?") != 0 ? func : "");
	snprintf(c->site_where, sizeof(c->site_where), "%s", where);
	if (c->site_line)
		snprintf(c->caption, sizeof(c->caption), "%s  %s", func, where);
	else if (strcmp(func, "?") != 0 || !*where)
		snprintf(c->caption, sizeof(c->caption), "%s", func);
	else
		snprintf(c->caption, sizeof(c->caption), "%s", where);
}

#define CALLER_MAX 60

/* The call sites named and sorted as the table shows them. */
static struct caller **sorted_callers(const struct stats *st, size_t *np)
{
	struct caller **v = oom_check(calloc(st->callers.len + 1, sizeof(*v)));
	const struct hmap_ent *e;
	size_t n = 0, pos = 0;

	while ((e = hmap_next(&st->callers, &pos))) {
		struct caller *c = e->val;
		if (c->has_offset)
			sym_want(st->sym, c->module, c->offset);
		v[n++] = c;
	}
	/* One addr2line per module, for every call site at once. */
	sym_resolve(st->sym);
	for (size_t i = 0; i < n; i++)
		caption(st->sym, v[i]);
	qsort(v, n, sizeof(*v), cmp_callers);
	*np = n;
	return v;
}

bool stats_is_by_caller(const struct stats *st)
{
	return st->by_caller;
}

size_t stats_callers(const struct stats *st, struct caller_row **rows)
{
	size_t n = 0;
	struct caller **v = st->by_caller ? sorted_callers(st, &n) : NULL;

	*rows = oom_check(calloc(n + 1, sizeof(**rows)));
	for (size_t i = 0; i < n; i++) {
		struct caller_row *r = &(*rows)[i];
		r->cs = &v[i]->cs;
		if (v[i]->cs.nerrs)
			qsort(v[i]->cs.errs, v[i]->cs.nerrs, sizeof(*v[i]->cs.errs), cmp_errs);
		r->nostack = v[i]->nostack;
		r->caption = v[i]->caption;
		r->function = v[i]->site_func[0] ? v[i]->site_func : NULL;
		r->location = v[i]->site_where[0] ? v[i]->site_where : NULL;
		r->module = v[i]->module;
		r->line_known = v[i]->site_line;
	}
	free(v);
	return n;
}

void stats_print_callers(const struct stats *st, FILE *out)
{
	size_t n;
	struct caller **v = sorted_callers(st, &n);
	int w = 6;
	char t[4][32], cap[CALLER_MAX + 1];

	for (size_t i = 0; i < n; i++)
		if ((int)strlen(v[i]->caption) > w)
			w = (int)strlen(v[i]->caption);
	if (w > CALLER_MAX)
		w = CALLER_MAX;
	fprintf(out, "%-*s  %-16s %9s %7s %7s %6s %10s %10s %10s %10s  %s\n", w, "caller", "call",
		"count", "errors", "pending", "faults", "total", "p50", "p99", "max", "by errno");
	for (size_t i = 0; i < n; i++) {
		const struct callstat *cs = &v[i]->cs;
		snprintf(cap, sizeof(cap), "%.*s", CALLER_MAX, v[i]->caption);
		if (strlen(v[i]->caption) > CALLER_MAX)
			memcpy(cap + CALLER_MAX - 3, "...", 4);
		fprintf(out, "%-*s  %-16s %9llu %7llu %7llu %6llu %10s %10s %10s %10s", w, cap, cs->name,
			(unsigned long long)cs->count, (unsigned long long)cs->errors,
			(unsigned long long)cs->pending, (unsigned long long)cs->faults, fmt_dur(t[0], sizeof(t[0]), (int64_t)cs->dur.sum),
			fmt_dur(t[1], sizeof(t[1]), (int64_t)hist_percentile(&cs->dur, 50)),
			fmt_dur(t[2], sizeof(t[2]), (int64_t)hist_percentile(&cs->dur, 99)),
			fmt_dur(t[3], sizeof(t[3]), (int64_t)cs->dur.max));
		print_errs(cs, out);
	}
	if (n == 0)
		fputs("(no calls)\n", out);
	else if (v[0]->nostack)
		fputs("socktrace stats: --by-caller: no call shown has a call stack (record them with socktrace run --backtrace)\n",
		      stderr);
	free(v);
}

void stats_print(const struct stats *st, const struct model *m, size_t max_conns, FILE *out)
{
	fprintf(out, "%llu call%s in %zu process%s\n\n", (unsigned long long)st->ncalls,
		st->ncalls == 1 ? "" : "s", st->pids.len, st->pids.len == 1 ? "" : "es");
	if (st->by_caller)
		stats_print_callers(st, out);
	else
		print_calls(st, out);
	if (st->warnings.len) {
		struct errcount *v;
		size_t n = stats_warnings(st, &v);
		fputs("\nwarnings of the shim (what it could not see):", out);
		for (size_t i = 0; i < n; i++)
			fprintf(out, " %s:%llu", v[i].name, (unsigned long long)v[i].count);
		fputc('\n', out);
		free(v);
	}
	fputc('\n', out);
	stats_print_conns(st, m, max_conns, out);
}

size_t stats_warnings(const struct stats *st, struct errcount **out)
{
	size_t pos = 0, n = 0;
	const struct hmap_ent *e;
	struct errcount *v = oom_check(calloc(st->warnings.len + 1, sizeof(*v)));

	while ((e = hmap_next(&st->warnings, &pos)))
		v[n++] = *(const struct errcount *)e->val;
	qsort(v, n, sizeof(*v), cmp_errs);
	*out = v;
	return n;
}

bool stats_has_conn(const struct stats *st, uint32_t id)
{
	return id < st->nconns && st->conns[id];
}

size_t stats_calls(const struct stats *st, const struct callstat ***out)
{
	const struct callstat **v = oom_check(calloc(st->calls.len + 1, sizeof(*v)));
	const struct hmap_ent *e;
	size_t n = 0, pos = 0;

	while ((e = hmap_next(&st->calls, &pos)))
		v[n++] = e->val;
	qsort(v, n, sizeof(*v), cmp_calls);
	for (size_t i = 0; i < n; i++)
		if (v[i]->nerrs)
			qsort(v[i]->errs, v[i]->nerrs, sizeof(*v[i]->errs), cmp_errs);
	*out = v;
	return n;
}

uint64_t stats_ncalls(const struct stats *st)
{
	return st->ncalls;
}

size_t stats_nprocs(const struct stats *st)
{
	return st->pids.len;
}

static void callstat_free(void *p)
{
	struct callstat *cs = p;

	hist_free(&cs->dur);
	free(cs->errs);
	free(cs);
}

static void caller_free(void *p)
{
	struct caller *c = p;

	hist_free(&c->cs.dur);
	free(c->cs.errs);
	free(c->module);
	free(c->func);
	free(c->ip);
	free(c);
}

void stats_free(struct stats *st)
{
	if (!st)
		return;
	hmap_free(&st->calls, callstat_free);
	hmap_free(&st->warnings, free);
	hmap_free(&st->pids, NULL);
	hmap_free(&st->callers, caller_free);
	sym_free(st->sym);
	free(st->conns);
	free(st);
}
