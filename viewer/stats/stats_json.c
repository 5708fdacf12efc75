/* socktrace stats --json: the tables as one JSON document, for scripts
 * (keys sorted):
 *
 *   {"calls": N, "processes": N,
 *    "note": "..." (only when links were left out: pass_ordering_note),
 *    "totals": {"count", "errors", "pending", "faults", "total_ns"},
 *    "by_call": [{"call", "count", "errors", "pending", "faults", "total_ns",
 *                 "p50_ns", "p99_ns", "max_ns", "errno": {NAME: N}}],
 *    "by_caller": null, or with --by-caller [{the same, and "caller",
 *                 "function", "location", "line_known", "module", "stack"}],
 *    "warnings": {KIND: N},
 *    "connections": [{"id", "proto", "socketpair", "client": END, "server": END,
 *                     "client_to_server": {"bytes", "messages"},
 *                     "server_to_client": {...}, "connect_ns", "first_byte_ns",
 *                     "duration_ns", "outcome", "ended"}],
 *    "by_server": [{"address", "connections", "failed", "client_to_server_bytes",
 *                   "server_to_client_bytes", "slowest_connect_ns"}],
 *    "by_program": [{"program", "connections", "as_client", "as_server",
 *                    "sent_bytes", "received_bytes"}],
 *    "endings": {HOW IT ENDED: N}, "socketpairs": N}
 *
 * END is {"pid", "prog", "address", "traced"}; a time not known is null.
 * Rows are in the order of the text tables; every connection is listed
 * (socketpairs too, marked; the roll-ups and endings leave them out, as
 * the text does). */
#include "stats/stats.h"

#include "stats/stats_conns.h"

#include <jansson.h>
#include <stdlib.h>

static json_t *time_or_null(int64_t ns)
{
	return ns >= 0 ? json_integer(ns) : json_null();
}

static json_t *end_json(const struct conn_end *e)
{
	json_t *j = json_object();

	json_object_set_new(j, "pid", e->pid ? json_integer(e->pid) : json_null());
	json_object_set_new(j, "prog", e->prog ? json_string(e->prog) : json_null());
	json_object_set_new(j, "address", json_string(e->addr));
	json_object_set_new(j, "traced", json_boolean(e->pid && !e->listener_only));
	return j;
}

static json_t *flow_json(int64_t bytes, int64_t msgs)
{
	json_t *j = json_object();

	json_object_set_new(j, "bytes", json_integer(bytes));
	json_object_set_new(j, "messages", json_integer(msgs));
	return j;
}

/* The figures of a row of the call table (or the caller table). */
static json_t *callstat_json(const struct callstat *cs)
{
	json_t *j = json_object(), *errs = json_object();

	json_object_set_new(j, "call", json_string(cs->name));
	json_object_set_new(j, "count", json_integer((json_int_t)cs->count));
	json_object_set_new(j, "errors", json_integer((json_int_t)cs->errors));
	json_object_set_new(j, "pending", json_integer((json_int_t)cs->pending));
	json_object_set_new(j, "faults", json_integer((json_int_t)cs->faults));
	json_object_set_new(j, "total_ns", json_integer((json_int_t)cs->dur.sum));
	json_object_set_new(j, "p50_ns", json_integer((json_int_t)hist_percentile(&cs->dur, 50)));
	json_object_set_new(j, "p99_ns", json_integer((json_int_t)hist_percentile(&cs->dur, 99)));
	json_object_set_new(j, "max_ns", json_integer((json_int_t)cs->dur.max));
	for (size_t k = 0; k < cs->nerrs; k++)
		json_object_set_new(errs, cs->errs[k].name, json_integer((json_int_t)cs->errs[k].count));
	json_object_set_new(j, "errno", errs);
	return j;
}

/* The call table, and its total row into totals. */
static json_t *calls_json(const struct stats *st, json_t **totals)
{
	const struct callstat **v;
	size_t n = stats_calls(st, &v);
	json_t *a = json_array();
	uint64_t count = 0, errors = 0, pending = 0, faults = 0, total = 0;

	for (size_t i = 0; i < n; i++) {
		const struct callstat *cs = v[i];
		json_array_append_new(a, callstat_json(cs));
		count += cs->count;
		errors += cs->errors;
		pending += cs->pending;
		faults += cs->faults;
		total = total + cs->dur.sum < total ? UINT64_MAX : total + cs->dur.sum;
	}
	free(v);
	*totals = json_object();
	json_object_set_new(*totals, "count", json_integer((json_int_t)count));
	json_object_set_new(*totals, "errors", json_integer((json_int_t)errors));
	json_object_set_new(*totals, "pending", json_integer((json_int_t)pending));
	json_object_set_new(*totals, "faults", json_integer((json_int_t)faults));
	json_object_set_new(*totals, "total_ns",
			    json_integer(total > INT64_MAX ? INT64_MAX : (json_int_t)total));
	return a;
}

static json_t *string_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

/* --by-caller's table; null without it. */
static json_t *callers_json(const struct stats *st)
{
	struct caller_row *rows;
	size_t n;
	json_t *a;

	if (!stats_is_by_caller(st))
		return json_null();
	n = stats_callers(st, &rows);
	a = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *j = callstat_json(rows[i].cs);
		json_object_set_new(j, "caller", json_string(rows[i].caption));
		json_object_set_new(j, "function", string_or_null(rows[i].function));
		json_object_set_new(j, "location", string_or_null(rows[i].location));
		json_object_set_new(j, "line_known", json_boolean(rows[i].line_known));
		json_object_set_new(j, "module", string_or_null(rows[i].module));
		json_object_set_new(j, "stack", json_boolean(!rows[i].nostack));
		json_array_append_new(a, j);
	}
	if (n && rows[0].nostack)
		fputs("socktrace stats: --by-caller: no call shown has a call stack (record them with socktrace run --backtrace)\n",
		      stderr);
	free(rows);
	return a;
}

static json_t *warnings_json(const struct stats *st)
{
	struct errcount *v;
	size_t n = stats_warnings(st, &v);
	json_t *j = json_object();

	for (size_t i = 0; i < n; i++)
		json_object_set_new(j, v[i].name, json_integer((json_int_t)v[i].count));
	free(v);
	return j;
}

static json_t *conns_json(const struct stats *st, const struct model *m)
{
	json_t *a = json_array();
	struct conn_figures f;

	for (size_t i = 0; i < model_nconns(m); i++) {
		const struct conn *c = model_conn(m, i);
		json_t *j;
		if (!stats_has_conn(st, c->id))
			continue;
		conn_figures(m, c, &f);
		j = json_object();
		json_object_set_new(j, "id", json_integer(c->id));
		json_object_set_new(j, "proto", json_string(conn_proto(c)));
		json_object_set_new(j, "socketpair", json_boolean(c->socketpair));
		json_object_set_new(j, "client", end_json(&f.end[0]));
		json_object_set_new(j, "server", end_json(&f.end[1]));
		json_object_set_new(j, "client_to_server", flow_json(f.bytes[0], f.msgs[0]));
		json_object_set_new(j, "server_to_client", flow_json(f.bytes[1], f.msgs[1]));
		json_object_set_new(j, "connect_ns", time_or_null(f.connect_ns));
		json_object_set_new(j, "first_byte_ns", time_or_null(f.first_byte_ns));
		json_object_set_new(j, "duration_ns", json_integer(f.duration_ns));
		json_object_set_new(j, "outcome", json_string(f.outcome));
		json_object_set_new(j, "ended", json_string(f.ended));
		json_array_append_new(a, j);
	}
	return a;
}

static json_t *servers_json(const struct hmap *by_addr)
{
	size_t n;
	const struct rollup **v = rollups_sorted(by_addr, &n);
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++) {
		json_t *j = json_object();
		json_object_set_new(j, "address", json_string(v[i]->key));
		json_object_set_new(j, "connections", json_integer((json_int_t)v[i]->conns));
		json_object_set_new(j, "failed", json_integer((json_int_t)v[i]->failed));
		json_object_set_new(j, "client_to_server_bytes", json_integer(v[i]->out));
		json_object_set_new(j, "server_to_client_bytes", json_integer(v[i]->in));
		json_object_set_new(j, "slowest_connect_ns", time_or_null(v[i]->slowest_connect));
		json_array_append_new(a, j);
	}
	free(v);
	return a;
}

static json_t *programs_json(const struct hmap *by_prog)
{
	size_t n;
	const struct rollup **v = rollups_sorted(by_prog, &n);
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++) {
		json_t *j = json_object();
		json_object_set_new(j, "program", json_string(v[i]->key));
		json_object_set_new(j, "connections", json_integer((json_int_t)v[i]->conns));
		json_object_set_new(j, "as_client", json_integer((json_int_t)v[i]->as_client));
		json_object_set_new(j, "as_server", json_integer((json_int_t)v[i]->as_server));
		json_object_set_new(j, "sent_bytes", json_integer(v[i]->out));
		json_object_set_new(j, "received_bytes", json_integer(v[i]->in));
		json_array_append_new(a, j);
	}
	free(v);
	return a;
}

static json_t *endings_json(const struct hmap *endings)
{
	json_t *j = json_object();
	size_t pos = 0;
	const struct hmap_ent *e;

	while ((e = hmap_next(endings, &pos)))
		json_object_set_new(j, e->key, json_integer((json_int_t)hmap_counted(endings, e->key)));
	return j;
}

int stats_print_json(const struct stats *st, const struct model *m, const char *note, FILE *out)
{
	json_t *doc = json_object(), *totals;
	struct conn_summary sum;
	int rc;

	if (note && *note)
		json_object_set_new(doc, "note", json_string(note));
	json_object_set_new(doc, "calls", json_integer((json_int_t)stats_ncalls(st)));
	json_object_set_new(doc, "processes", json_integer((json_int_t)stats_nprocs(st)));
	json_object_set_new(doc, "by_call", calls_json(st, &totals));
	json_object_set_new(doc, "totals", totals);
	json_object_set_new(doc, "by_caller", callers_json(st));
	json_object_set_new(doc, "warnings", warnings_json(st));
	json_object_set_new(doc, "connections", conns_json(st, m));
	conn_summary(st, m, &sum);
	json_object_set_new(doc, "by_server", servers_json(&sum.by_addr));
	json_object_set_new(doc, "by_program", programs_json(&sum.by_prog));
	json_object_set_new(doc, "endings", endings_json(&sum.endings));
	json_object_set_new(doc, "socketpairs", json_integer((json_int_t)sum.pairs));
	conn_summary_free(&sum);
	rc = json_dumpf(doc, out, JSON_INDENT(1) | JSON_ENSURE_ASCII | JSON_SORT_KEYS);
	fputc('\n', out);
	json_decref(doc);
	return rc == 0 ? 0 : 1;
}
