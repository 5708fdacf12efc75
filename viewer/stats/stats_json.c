/* socktrace stats --json: the tables as one JSON document, for scripts:
 *
 *   {"calls": N, "processes": N,
 *    "note": "..." (only when links were left out: pass_ordering_note),
 *    "by_call": [{"call", "count", "errors", "pending", "faults", "total_ns",
 *                 "p50_ns", "p99_ns", "max_ns", "errno": {NAME: N}}],
 *    "connections": [{"id", "proto", "socketpair", "client": END, "server": END,
 *                     "client_to_server": {"bytes", "messages"},
 *                     "server_to_client": {...}, "connect_ns", "first_byte_ns",
 *                     "duration_ns", "outcome", "ended"}]}
 *
 * END is {"pid", "prog", "address", "traced"}; a time not known is null.
 * Rows are in the order of the text tables; every connection is listed. */
#include "stats/stats.h"

#include "stats/stats_conns.h"

#include <jansson.h>

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

static json_t *calls_json(const struct stats *st)
{
	const struct callstat **v;
	size_t n = stats_calls(st, &v);
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++) {
		const struct callstat *cs = v[i];
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
			json_object_set_new(errs, cs->errs[k].name,
					    json_integer((json_int_t)cs->errs[k].count));
		json_object_set_new(j, "errno", errs);
		json_array_append_new(a, j);
	}
	free(v);
	return a;
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

int stats_print_json(const struct stats *st, const struct model *m, const char *note, FILE *out)
{
	json_t *doc = json_object();
	int rc;

	if (note && *note)
		json_object_set_new(doc, "note", json_string(note));
	json_object_set_new(doc, "calls", json_integer((json_int_t)stats_ncalls(st)));
	json_object_set_new(doc, "processes", json_integer((json_int_t)stats_nprocs(st)));
	json_object_set_new(doc, "by_call", calls_json(st));
	json_object_set_new(doc, "connections", conns_json(st, m));
	rc = json_dumpf(doc, out, JSON_INDENT(1) | JSON_ENSURE_ASCII | JSON_PRESERVE_ORDER);
	fputc('\n', out);
	json_decref(doc);
	return rc == 0 ? 0 : 1;
}
