/* socktrace stats: the connections (stats_conns.h, stats.h). */
#include "stats/stats_conns.h"

#include "util/addr.h"
#include "util/hmap.h"
#include "util/oom.h"
#include "stats/stats.h"
#include "util/textutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void end_of(const struct model *m, const struct conn *c, int s, struct conn_end *e)
{
	const char *a = *c->side[s].addr ? c->side[s].addr : "?";
	int listener = c->side[s].seen ? c->side[s].pid : model_listener(m, a);

	e->addr = a;
	e->pid = listener;
	e->prog = listener ? model_prog(m, listener) : NULL;
	e->listener_only = listener && !c->side[s].seen;
}

void conn_figures(const struct model *m, const struct conn *c, struct conn_figures *f)
{
	memset(f, 0, sizeof(*f));
	for (int s = 0; s < 2; s++) {
		end_of(m, c, s, &f->end[s]);
		f->bytes[s] = conn_bytes(c, s, &f->msgs[s]);
	}
	f->connect_ns = c->connect_t >= 0 && c->established_t >= c->connect_t ?
				sat_sub64(c->established_t, c->connect_t) : -1;
	f->first_byte_ns = c->connect_t >= 0 && c->first_data_t[1] >= c->connect_t ?
				   sat_sub64(c->first_data_t[1], c->connect_t) : -1;
	f->duration_ns = c->last_t > c->first_t ? sat_sub64(c->last_t, c->first_t) : 0;
	f->outcome = conn_outcome_text(c);
	conn_end_text(c, f->ended, sizeof(f->ended));
}

static void endpoint_text(const struct model *m, const struct conn_end *e, char *buf, size_t cap)
{
	char lab[160];

	if (e->pid) {
		/* Traced, or listening there but never took it. */
		proc_label(m, e->pid, lab, sizeof(lab));
		snprintf(buf, cap, "%s %s", lab, e->addr);
	} else {
		snprintf(buf, cap, "(not traced) %s", e->addr);
	}
	sanitize_ascii(buf);
}

static void bytes_text(const struct conn *c, const struct conn_figures *f, int d, char *buf,
		       size_t cap)
{
	if (c->kind == CONN_DGRAM)
		snprintf(buf, cap, "%lld B/%lld dg", (long long)f->bytes[d], (long long)f->msgs[d]);
	else
		snprintf(buf, cap, "%lld B", (long long)f->bytes[d]);
}

static char *dur_or_dash(char *buf, size_t cap, int64_t ns)
{
	if (ns < 0)
		snprintf(buf, cap, "-");
	else
		fmt_dur(buf, cap, ns);
	return buf;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* "3 client closed first, 1 refused (ECONNREFUSED)" of a count map. */
static void print_counts(FILE *out, struct hmap *counts)
{
	size_t pos = 0, k = 0;
	const struct hmap_ent *e;
	const char **names = oom_check(calloc(counts->len + 1, sizeof(*names)));

	while ((e = hmap_next(counts, &pos)))
		names[k++] = e->key;
	qsort(names, k, sizeof(*names), cmp_names);
	for (size_t i = 0; i < k; i++)
		fprintf(out, "%s %lu %s", i ? "," : "",
			(unsigned long)hmap_counted(counts, names[i]), names[i]);
	free(names);
}

static struct rollup *rollup_get(struct hmap *h, const char *key)
{
	struct rollup *r = hmap_gets(h, key);

	if (!r) {
		r = xcalloc(1, sizeof(*r));
		snprintf(r->key, sizeof(r->key), "%s", key);
		sanitize_ascii(r->key);
		r->slowest_connect = -1;
		if (hmap_put(h, key, strlen(key), r) != 0)
			oom_exit();
	}
	return r;
}

static int cmp_rollups(const void *a, const void *b)
{
	const struct rollup *x = *(const struct rollup *const *)a;
	const struct rollup *y = *(const struct rollup *const *)b;

	if (x->conns != y->conns)
		return x->conns > y->conns ? -1 : 1;
	return strcmp(x->key, y->key);
}

const struct rollup **rollups_sorted(const struct hmap *h, size_t *n)
{
	const struct rollup **v = oom_check(calloc(h->len + 1, sizeof(*v)));
	size_t pos = 0;
	const struct hmap_ent *e;

	*n = 0;
	while ((e = hmap_next(h, &pos)))
		v[(*n)++] = e->val;
	qsort(v, *n, sizeof(*v), cmp_rollups);
	return v;
}

static void print_rollups(FILE *out, const struct hmap *by_addr, const struct hmap *by_prog)
{
	size_t n;
	const struct rollup **v = rollups_sorted(by_addr, &n);
	char t[32];
	int w = 14;

	for (size_t i = 0; i < n; i++)
		if ((int)strlen(v[i]->key) > w)
			w = (int)strlen(v[i]->key);
	fprintf(out, "\n%-*s %6s %6s %14s %14s %15s\n", w, "server address", "conns", "failed",
		"client->server", "server->client", "slowest connect");
	for (size_t i = 0; i < n; i++)
		fprintf(out, "%-*s %6llu %6llu %12lld B %12lld B %15s\n", w, v[i]->key,
			(unsigned long long)v[i]->conns, (unsigned long long)v[i]->failed,
			(long long)v[i]->out, (long long)v[i]->in,
			dur_or_dash(t, sizeof(t), v[i]->slowest_connect));
	free(v);
	v = rollups_sorted(by_prog, &n);
	w = 14;
	for (size_t i = 0; i < n; i++)
		if ((int)strlen(v[i]->key) > w)
			w = (int)strlen(v[i]->key);
	fprintf(out, "\n%-*s %6s %9s %9s %14s %14s\n", w, "program", "conns", "as client",
		"as server", "sent", "received");
	for (size_t i = 0; i < n; i++)
		fprintf(out, "%-*s %6llu %9llu %9llu %12lld B %12lld B\n", w, v[i]->key,
			(unsigned long long)v[i]->conns, (unsigned long long)v[i]->as_client,
			(unsigned long long)v[i]->as_server, (long long)v[i]->out,
			(long long)v[i]->in);
	free(v);
}

static void roll_up(struct hmap *by_addr, struct hmap *by_prog, const struct conn_figures *f)
{
	struct rollup *r = rollup_get(by_addr, f->end[1].addr);

	r->conns++;
	r->failed += strcmp(f->outcome, "established") != 0 && strcmp(f->outcome, "unknown") != 0 &&
		     strcmp(f->outcome, "in progress") != 0;
	r->out = sat_add64(r->out, f->bytes[0]);
	r->in = sat_add64(r->in, f->bytes[1]);
	if (f->connect_ns > r->slowest_connect)
		r->slowest_connect = f->connect_ns;
	for (int s = 0; s < 2; s++) {
		if (!f->end[s].prog || f->end[s].listener_only)
			continue;
		struct rollup *p = rollup_get(by_prog, f->end[s].prog);
		p->conns++;
		if (s == 0)
			p->as_client++;
		else
			p->as_server++;
		p->out = sat_add64(p->out, f->bytes[s]);
		p->in = sat_add64(p->in, f->bytes[1 - s]);
	}
}

void conn_summary(const struct stats *st, const struct model *m, struct conn_summary *s)
{
	struct conn_figures f;

	memset(s, 0, sizeof(*s));
	for (size_t i = 0; i < model_nconns(m); i++) {
		const struct conn *c = model_conn(m, i);
		if (!stats_has_conn(st, c->id))
			continue;
		if (c->socketpair) {
			s->pairs++;
			continue;
		}
		s->counted++;
		conn_figures(m, c, &f);
		hmap_count(&s->endings, f.ended);
		roll_up(&s->by_addr, &s->by_prog, &f);
	}
}

void conn_summary_free(struct conn_summary *s)
{
	hmap_free(&s->endings, NULL);
	hmap_free(&s->by_addr, free);
	hmap_free(&s->by_prog, free);
}

void stats_print_conns(const struct stats *st, const struct model *m, size_t max, FILE *out)
{
	size_t n = model_nconns(m), listed = 0;
	int w[2] = { 6, 6 };
	char a[2][400], b[2][48], d[3][32];
	struct conn_summary sum;
	struct conn_figures f;

	/* Widths first: the table is built from the model, never stored. */
	for (size_t i = 0; i < n && listed < max; i++) {
		const struct conn *c = model_conn(m, i);
		if (!stats_has_conn(st, c->id) || c->socketpair)
			continue;
		conn_figures(m, c, &f);
		for (int s = 0; s < 2; s++) {
			endpoint_text(m, &f.end[s], a[s], sizeof(a[s]));
			if ((int)strlen(a[s]) > w[s])
				w[s] = (int)strlen(a[s]);
		}
		listed++;
	}
	conn_summary(st, m, &sum);
	if (listed == 0) {
		fputs("(no connections)\n", out);
		if (sum.pairs)
			fprintf(out, "\n%zu socketpair%s within processes\n", sum.pairs,
				sum.pairs == 1 ? "" : "s");
		conn_summary_free(&sum);
		return;
	}
	fprintf(out, "%-6s %-10s %-*s %-*s %9s %9s %10s %14s %14s  %s\n", "conn", "proto", w[0],
		"client", w[1], "server", "connect", "1st byte", "duration", "client->server",
		"server->client", "how it ended");
	listed = 0;
	for (size_t i = 0; i < n && listed < max; i++) {
		const struct conn *c = model_conn(m, i);
		if (!stats_has_conn(st, c->id) || c->socketpair)
			continue;
		conn_figures(m, c, &f);
		listed++;
		char id[16];
		snprintf(id, sizeof(id), "c%u", c->id);
		endpoint_text(m, &f.end[0], a[0], sizeof(a[0]));
		endpoint_text(m, &f.end[1], a[1], sizeof(a[1]));
		bytes_text(c, &f, 0, b[0], sizeof(b[0]));
		bytes_text(c, &f, 1, b[1], sizeof(b[1]));
		fprintf(out, "%-6s %-10s %-*s %-*s %9s %9s %10s %14s %14s  %s\n", id, conn_proto(c),
			w[0], a[0], w[1], a[1], dur_or_dash(d[0], sizeof(d[0]), f.connect_ns),
			dur_or_dash(d[1], sizeof(d[1]), f.first_byte_ns),
			fmt_dur(d[2], sizeof(d[2]), f.duration_ns), b[0], b[1], f.ended);
	}
	if (sum.counted > listed)
		fprintf(out, "... %zu more connection%s (--all lists every one)\n",
			sum.counted - listed, sum.counted - listed == 1 ? "" : "s");
	print_rollups(out, &sum.by_addr, &sum.by_prog);
	if (sum.pairs)
		fprintf(out, "\n%zu socketpair%s within processes, not counted above\n", sum.pairs,
			sum.pairs == 1 ? "" : "s");
	/* How they ended, in one line. */
	fprintf(out, "\n%zu connection%s:", sum.counted, sum.counted == 1 ? "" : "s");
	print_counts(out, &sum.endings);
	fputc('\n', out);
	conn_summary_free(&sum);
}
