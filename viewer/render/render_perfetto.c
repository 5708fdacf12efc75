/* perfetto: Chrome Trace Event JSON, as ui.perfetto.dev and
 * chrome://tracing open it. One track per process and thread, each call a
 * complete slice ("X") with the record as its args, injected faults as
 * instant events, and flow arrows ("s" -> "f") from connect to accept,
 * send to recv and close to the peer's EOF. Written as the events come:
 * a flow is written when its second end is read, naming the first.
 *
 * A peer that was not traced gets a process track of its own, named by its
 * address, as it gets a column in the other diagrams, with a thread per
 * connection: each call whose arrow ends there (a connect, data, a FIN, a
 * refused connect) has a slice there over the same time, and a flow to it
 * or from it. Whether a peer was traced is known once the whole trace is
 * read: a first pass, of the pairing model alone, tells.
 *
 * Every call on a connection says which in its name ("send c3"), so that
 * Perfetto's search finds a connection's calls and its colours (by name)
 * tell connections apart. And each connection is an async slice of its own
 * ("b" ... "e", category "conn", id its number) on one process track,
 * "connections", from its connect to its last call, as DevTools' network
 * waterfall shows requests: named "c3 curl 1002 -> python3 1001
 * 127.0.0.1:7000", with the bytes each way and how it ended as args. The
 * first pass knows all that; it is written when the second begins. */
#include "render/render.h"
#include "util/oom.h"

#include "render/diagram.h"
#include "util/hmap.h"
#include "util/textutil.h"

#include <stdlib.h>
#include <string.h>

/* Track ids of remote endpoints: above any pid Linux gives (2^22). */
#define REMOTE_PID_BASE 0x40000000
/* The track of the connections' async slices, below those. */
#define CONNS_PID (REMOTE_PID_BASE - 1)

struct perfetto {
	struct view_ctx *ctx;
	FILE *out;
	struct hmap seen;    /* pid, or pid+tid: names written */
	struct hmap remotes; /* remote endpoint -> its track's pid */
	int nremotes;
	struct hmap rthreads; /* remote pid + conn id -> struct rthread */
	uint8_t *final;      /* per conn id: conn_final() after the first pass */
	char (*fail)[24];    /* ... and its failure */
	size_t nfinal;
	uint64_t flow_id;
	unsigned long flows_dropped; /* flow_times() found no times */
	uint8_t *shown;      /* per conn id (first pass): a call on it is shown */
	size_t nshown;
	bool first;
};

static void *pf_begin(struct view_ctx *ctx)
{
	struct perfetto *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->ctx = ctx;
	s->out = ctx->o->out;
	s->first = true;
	fputs("{\"displayTimeUnit\":\"ns\",\"traceEvents\":[", s->out);
	return s;
}

/* Microseconds with the nanoseconds kept. */
static void put_us(FILE *out, int64_t ns)
{
	const char *sign = ns < 0 ? "-" : "";
	uint64_t a = ns < 0 ? (uint64_t)0 - (uint64_t)ns : (uint64_t)ns;

	fprintf(out, "%s%llu.%03llu", sign, (unsigned long long)(a / 1000),
		(unsigned long long)(a % 1000));
}

static void sep(struct perfetto *s)
{
	fputs(s->first ? "\n" : ",\n", s->out);
	s->first = false;
}

static void put_jstr(FILE *out, const char *str)
{
	json_t *j = json_string(str ? str : "");

	json_dumpf(j, out, JSON_ENCODE_ANY | JSON_ENSURE_ASCII);
	json_decref(j);
}

static void names(struct perfetto *s, const struct vev *ev)
{
	int key[2] = { ev->pid, 0 };
	char label[160];

	if (!hmap_get(&s->seen, key, sizeof(int))) {
		hmap_put(&s->seen, key, sizeof(int), s);
		proc_label(s->ctx->model, ev->pid, label, sizeof(label));
		sep(s);
		fprintf(s->out, "{\"ph\":\"M\",\"pid\":%d,\"name\":\"process_name\",\"args\":{\"name\":",
			ev->pid);
		put_jstr(s->out, label);
		fputs("}}", s->out);
	}
	key[1] = ev->tid;
	if (!hmap_get(&s->seen, key, sizeof(key))) {
		hmap_put(&s->seen, key, sizeof(key), s);
		if (ev->tid == ev->pid)
			proc_label(s->ctx->model, ev->pid, label, sizeof(label));
		else
			snprintf(label, sizeof(label), "thread %d", ev->tid);
		sanitize_ascii(label);
		sep(s);
		fprintf(s->out, "{\"ph\":\"M\",\"pid\":%d,\"tid\":%d,\"name\":\"thread_name\",\"args\":{\"name\":",
			ev->pid, ev->tid);
		put_jstr(s->out, label);
		fputs("}}", s->out);
	}
}

static const char *flow_name(enum vev_link l)
{
	return l == LINK_CONNECT ? "connect" : l == LINK_DATA ? "data" : "close";
}

/* One end of a flow, on the slice of ref. */
static void flow_end(struct perfetto *s, const char *ph, uint64_t id, const char *name,
		     const struct evref *ref, int64_t ts)
{
	sep(s);
	fprintf(s->out, "{\"ph\":\"%s\",%s\"id\":%llu,\"cat\":\"pairing\",\"name\":\"%s\",\"pid\":%d,\"tid\":%d,\"ts\":",
		ph, ph[0] == 'f' ? "\"bp\":\"e\"," : "", (unsigned long long)id, name, ref->pid,
		ref->tid);
	put_us(s->out, ts);
	fputs("}", s->out);
}

/* When a flow from the slice of cause to that of effect starts and ends:
 * each inside its slice (a flow binds to the slice that encloses its
 * timestamp), the end not before the start (Perfetto drops such a flow).
 * Where the slices overlap (a recv blocked when the send began), both
 * ends are in the overlap; else each is in the middle of its slice. False
 * when no such times exist: the effect ended before its cause began
 * (clocks of two hosts, not aligned). */
static bool flow_times(const struct evref *cause, const struct evref *effect, int64_t *start,
		       int64_t *end)
{
	int64_t cause_end = sat_add64(cause->t, cause->dur);
	int64_t effect_end = sat_add64(effect->t, effect->dur);
	int64_t lo = cause->t > effect->t ? cause->t : effect->t;
	int64_t hi = cause_end < effect_end ? cause_end : effect_end;

	if (effect_end < cause->t)
		return false;
	if (lo <= hi) {
		int64_t third = sat_sub64(hi, lo) / 3;
		*start = sat_add64(lo, third);
		*end = sat_sub64(hi, third);
		return true;
	}
	*start = sat_add64(cause->t, cause->dur / 2);
	*end = sat_add64(effect->t, effect->dur / 2);
	return true;
}

/* A flow of kind name from the slice of from to that of to. */
static void flow(struct perfetto *s, const char *name, const struct evref *from,
		 const struct evref *to)
{
	int64_t start, end;

	if (!flow_times(from, to, &start, &end)) {
		s->flows_dropped++;
		return;
	}
	s->flow_id++;
	flow_end(s, "s", s->flow_id, name, from, start);
	flow_end(s, "f", s->flow_id, name, to, end);
}

/* ---- remote endpoints ---- */

/* The first pass: the model learns the whole trace, nothing is drawn but
 * which connections have a call shown (the filters apply). */
static void pf_scan(void *p, struct vev *ev)
{
	struct perfetto *s = p;
	uint32_t id = ev->conn ? ev->conn->id : 0;

	if (!id)
		return;
	if (id >= s->nshown) {
		size_t n = s->nshown ? s->nshown : 64;
		while (n <= id)
			n *= 2;
		s->shown = oom_check(realloc(s->shown, n));
		memset(s->shown + s->nshown, 0, n - s->nshown);
		s->nshown = n;
	}
	s->shown[id] = 1;
}

/* One end of connection c in its async slice's name: "curl 1002", or its
 * address when no traced process was there. */
static void conn_end_name(const struct model *m, const struct conn *c, int side, char *buf,
			  size_t cap)
{
	const struct cside *sd = &c->side[side];

	if (sd->seen && sd->pid)
		proc_label(m, sd->pid, buf, cap);
	else
		snprintf(buf, cap, "%s", *sd->addr ? sd->addr : "?");
	sanitize_ascii(buf);
}

/* Whether connection c gets an async slice: not without a call on it, nor
 * a process's socketpair that carried nothing (curl's wake-up pair): no
 * connection anyone looks for. */
static bool conn_drawn(const struct conn *c)
{
	if (c->first_t == INT64_MAX)
		return false;
	return !(c->socketpair && c->side[0].pid == c->side[1].pid && !conn_bytes(c, 0, NULL) &&
		 !conn_bytes(c, 1, NULL));
}


/* The start ('b') or end ('e') of a connection's slice on the connections
 * track, up to its name; the caller closes the object. */
static void conn_edge(struct perfetto *s, char ph, uint32_t id, int64_t ts, const char *name)
{
	sep(s);
	fprintf(s->out, "{\"ph\":\"%c\",\"cat\":\"conn\",\"id\":%u,\"pid\":%d,\"tid\":%d,\"ts\":", ph,
		id, CONNS_PID, CONNS_PID);
	put_us(s->out, ts);
	fputs(",\"name\":", s->out);
	put_jstr(s->out, name);
}

/* Connection c as an async slice on the connections' track: from its
 * connect (else its first call) to the return of its last call. */
static void conn_slice(struct perfetto *s, const struct model *m, const struct conn *c)
{
	char client[ADDR_MAX + 64], server[ADDR_MAX + 64], name[3 * ADDR_MAX + 160];
	char end[160], key[64];
	int64_t t0 = c->connect_t >= 0 ? c->connect_t : c->first_t, t1 = c->last_t;
	const char *addr = *c->side[1].addr ? c->side[1].addr : "?";

	if (t1 < t0)
		t1 = t0;
	conn_end_name(m, c, 0, client, sizeof(client));
	conn_end_name(m, c, 1, server, sizeof(server));
	if (c->socketpair)
		snprintf(name, sizeof(name), "c%u %s <-> %s socketpair", c->id, client, server);
	else if (c->side[1].seen && c->side[1].pid)
		snprintf(name, sizeof(name), "c%u %s -> %s %s", c->id, client, server, addr);
	else
		snprintf(name, sizeof(name), "c%u %s -> %s", c->id, client, server);
	sanitize_ascii(name);
	conn_edge(s, 'b', c->id, t0, name);
	fputs(",\"args\":{\"proto\":", s->out);
	put_jstr(s->out, conn_proto(c));
	for (int side = 0; side < 2; side++) {
		fprintf(s->out, ",\"%s\":", conn_side_name(c, side));
		put_jstr(s->out, side ? server : client);
		fprintf(s->out, ",\"%s_address\":", conn_side_name(c, side));
		put_jstr(s->out, c->side[side].addr);
	}
	for (int d = 0; d < 2; d++) {
		int64_t msgs;
		int64_t bytes = conn_bytes(c, d, &msgs);
		snprintf(key, sizeof(key), "%s_to_%s", conn_side_name(c, d), conn_side_name(c, 1 - d));
		fprintf(s->out, ",\"%s_bytes\":%lld", key, (long long)bytes);
		if (c->kind == CONN_DGRAM)
			fprintf(s->out, ",\"%s_datagrams\":%lld", key, (long long)msgs);
	}
	fputs(",\"outcome\":", s->out);
	put_jstr(s->out, conn_outcome_text(c));
	fputs(",\"ended\":", s->out);
	put_jstr(s->out, conn_end_text(c, end, sizeof(end)));
	fputs("}}", s->out);
	conn_edge(s, 'e', c->id, t1, name);
	fputs("}", s->out);
}

/* At the end of the first pass: which ends of each connection were ever
 * traced, and how it failed. */
static void pf_rewind(void *p, struct view_ctx *ctx)
{
	struct perfetto *s = p;
	size_t n = model_nconns(ctx->model) + 1;

	s->final = calloc(n, sizeof(*s->final));
	s->fail = calloc(n, sizeof(*s->fail));
	if (!s->final || !s->fail) {
		oom_exit();
	}
	s->nfinal = n;
	for (size_t i = 0; i + 1 < n; i++) {
		const struct conn *c = model_conn(ctx->model, i);
		s->final[c->id] = (uint8_t)conn_final(c);
		memcpy(s->fail[c->id], c->fail, sizeof(s->fail[0]));
	}
	bool named = false;
	for (size_t i = 0; i + 1 < n; i++) {
		const struct conn *c = model_conn(ctx->model, i);
		if (c->id >= s->nshown || !s->shown[c->id] || !conn_drawn(c))
			continue;
		if (!named) {
			sep(s);
			fprintf(s->out, "{\"ph\":\"M\",\"pid\":%d,\"name\":\"process_name\",\"args\":{\"name\":\"connections\"}}",
				CONNS_PID);
			named = true;
		}
		conn_slice(s, ctx->model, c);
	}
}

/* A connection's thread on a remote endpoint's track. */
struct rthread {
	int64_t end;         /* its slices end by then */
};

/* The track of a remote endpoint; named the first time. */
static int remote_track(struct perfetto *s, const char *remote)
{
	void *known = hmap_gets(&s->remotes, remote);
	char label[ADDR_MAX + 32];
	int pid;

	if (known)
		return (int)(intptr_t)known;
	pid = REMOTE_PID_BASE + s->nremotes++;
	if (hmap_put(&s->remotes, remote, strlen(remote), (void *)(intptr_t)pid) != 0) {
		oom_exit();
	}
	snprintf(label, sizeof(label), "%s (not traced)", remote);
	sep(s);
	fprintf(s->out, "{\"ph\":\"M\",\"pid\":%d,\"name\":\"process_name\",\"args\":{\"name\":", pid);
	put_jstr(s->out, label);
	fputs("}}", s->out);
	return pid;
}

/* Connection id's thread on remote track pid; named the first time. */
static struct rthread *remote_thread(struct perfetto *s, int pid, uint32_t id)
{
	int64_t key = ((int64_t)pid << 32) | id;
	struct rthread *t = hmap_get(&s->rthreads, &key, sizeof(key));

	if (t)
		return t;
	t = calloc(1, sizeof(*t));
	if (!t || hmap_put(&s->rthreads, &key, sizeof(key), t) != 0) {
		oom_exit();
	}
	t->end = INT64_MIN;
	sep(s);
	fprintf(s->out, "{\"ph\":\"M\",\"pid\":%d,\"tid\":%u,\"name\":\"thread_name\",\"args\":{\"name\":\"c%u\"}}",
		pid, id, id);
	return t;
}

static const char *arrow_flow_name(enum arrow_kind k)
{
	return k == AR_DATA ? "data" : k == AR_CLOSE ? "close" : "connect";
}

/* ev's arrow to or from an endpoint never traced: a slice on that
 * endpoint's track, over the same time as ev, and the flow between. */
static void remote_flow(struct perfetto *s, const struct vev *ev, const struct arrow *a)
{
	uint32_t id = ev->conn->id;
	struct evref me = vev_ref(ev), there = me;
	const char *kind = arrow_flow_name(a->kind);
	struct rthread *t;
	char name[96];

	there.pid = remote_track(s, a->remote);
	there.tid = (int)id;
	t = remote_thread(s, there.pid, id);
	/* Slices of one thread must nest: one that began while the last was
	 * on (two threads on one socket) starts where that one ended. Both
	 * flow ends go to the middle of what is drawn, inside ev's slice too. */
	if (there.t < t->end) {
		there.dur = sat_sub64(sat_add64(there.t, there.dur), t->end);
		there.t = t->end;
	}
	t->end = sat_add64(there.t, there.dur);
	me.t = there.t;
	me.dur = there.dur;
	/* "connect c3", "data c3 12 B", "close c3 FIN": the arrow's text
	 * names the connection. */
	snprintf(name, sizeof(name), "%s %s", kind, a->text);
	sep(s);
	fprintf(s->out, "{\"ph\":\"X\",\"cat\":\"remote\",\"pid\":%d,\"tid\":%d,\"ts\":", there.pid,
		there.tid);
	put_us(s->out, there.t);
	fputs(",\"dur\":", s->out);
	put_us(s->out, there.dur);
	fputs(",\"name\":", s->out);
	put_jstr(s->out, name);
	fputs(",\"args\":{\"endpoint\":", s->out);
	put_jstr(s->out, a->remote);
	fprintf(s->out, ",\"conn\":%u,\"seq\":%llu}}", id, (unsigned long long)ev->seq);
	flow(s, kind, a->out ? &me : &there, a->out ? &there : &me);
}

/* An event paired with nothing: its arrow may end at a remote endpoint. */
static void unpaired(struct perfetto *s, const struct vev *ev)
{
	struct arrow a;
	uint32_t id = ev->conn ? ev->conn->id : 0;

	ev_arrow(ev, s->ctx->model, &a);
	if (a.kind == AR_NONE || !ev->conn)
		return;
	arrow_final(&a, id < s->nfinal ? s->final[id] : 0, id < s->nfinal ? s->fail[id] : NULL);
	if (a.kind != AR_NONE && a.pid == 0)
		remote_flow(s, ev, &a);
}

/* ---- events ---- */

static void pf_event(void *p, struct vev *ev)
{
	struct perfetto *s = p;
	char name[96];

	names(s, ev);
	if (ev->kind == TR_WARNING || ev->kind == TR_CTL) {
		/* Not a call: a mark on the process (a warning, or the rules
		 * changed by `socktrace ctl`), drawn across its tracks. */
		bool warning = ev->kind == TR_WARNING;
		sep(s);
		fprintf(s->out, "{\"ph\":\"i\",\"s\":\"p\",\"cat\":\"%s\",\"pid\":%d,\"tid\":%d,\"ts\":",
			warning ? "warning" : "ctl", ev->pid, ev->tid);
		put_us(s->out, ev->t);
		snprintf(name, sizeof(name), "%s %s", warning ? "warning" : "ctl",
			 warning ? ev->warning : ev->how ? ev->how : "?");
		fputs(",\"name\":", s->out);
		put_jstr(s->out, name);
		fputs(",\"args\":", s->out);
		json_dumpf(vev_json(ev), s->out, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_PRESERVE_ORDER);
		fputs("}", s->out);
		return;
	}
	/* "send c3", "connect c4 ECONNREFUSED": a connection's calls found
	 * and coloured by it. */
	size_t len = (size_t)snprintf(name, sizeof(name), "%s", ev->fn);
	if (ev->conn && len < sizeof(name))
		len += (size_t)snprintf(name + len, sizeof(name) - len, " c%u", ev->conn->id);
	if (ev->err && len < sizeof(name))
		snprintf(name + len, sizeof(name) - len, " %s", ev->err);
	sep(s);
	fprintf(s->out, "{\"ph\":\"X\",\"cat\":\"%s\",\"pid\":%d,\"tid\":%d,\"ts\":",
		ev->kind == TR_CALL ? "call" : "process", ev->pid, ev->tid);
	put_us(s->out, ev->t);
	fputs(",\"dur\":", s->out);
	put_us(s->out, ev->dur);
	fputs(",\"name\":", s->out);
	put_jstr(s->out, name);
	fputs(",\"args\":", s->out);
	if (ev->conn)
		json_object_set_new(vev_json(ev), "conn", json_integer(ev->conn->id));
	json_dumpf(vev_json(ev), s->out, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_PRESERVE_ORDER);
	fputs("}", s->out);
	if (ev->fault) {
		sep(s);
		fprintf(s->out, "{\"ph\":\"i\",\"s\":\"t\",\"cat\":\"fault\",\"pid\":%d,\"tid\":%d,\"ts\":",
			ev->pid, ev->tid);
		put_us(s->out, ev->t);
		fputs(",\"name\":", s->out);
		snprintf(name, sizeof(name), "fault %s", ev->fault_action ? ev->fault_action : ev->fn);
		put_jstr(s->out, name);
		fputs(",\"args\":{\"rule\":", s->out);
		put_jstr(s->out, ev->fault_rule);
		fputs(",\"action\":", s->out);
		put_jstr(s->out, ev->fault_action);
		fputs("}}", s->out);
	}
	size_t n = vev_nlinks(ev);
	if (n == 0)
		unpaired(s, ev);
	for (size_t i = 0; i < n; i++) {
		struct evref me = vev_ref(ev);
		const struct evref *from = ev->out ? &me : &ev->partners[i];
		const struct evref *to = ev->out ? &ev->partners[i] : &me;
		flow(s, flow_name(ev->link), from, to);
	}
}

static int pf_finish(void *p, bool draw)
{
	struct perfetto *s = p;
	int rc = 0;

	if (draw) {
		fputs("\n]}\n", s->out);
		rc = ferror(s->out) ? 1 : 0;
		if (s->flows_dropped)
			fprintf(stderr, "socktrace view: %lu arrow%s left out: the effect ended before its cause began (clocks of different hosts?)\n",
				s->flows_dropped, s->flows_dropped == 1 ? "" : "s");
	}
	hmap_free(&s->seen, NULL);
	hmap_free(&s->remotes, NULL);
	hmap_free(&s->rthreads, free);
	free(s->final);
	free(s->fail);
	free(s->shown);
	free(s);
	return rc;
}

const struct renderer render_perfetto = {
	.whole_records = true,
	.begin = pf_begin,
	.scan = pf_scan,
	.rewind = pf_rewind,
	.event = pf_event,
	.finish = pf_finish,
};
