/* Checking a scenario's expectations and rules over a trace: one pass
 * over the merged events, each event matched against every expect line
 * with the shim's own selection code (rulematch.c), so `port=5432` selects
 * in a check exactly what it selects in a rule. */
#include "verdict/verdict.h"
#include "util/oom.h"

#include "util/addr.h"
#include "util/hmap.h"
#include "names.h"
#include "model/pipeline.h"
#include "rulematch.h"
#include "util/textutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* One event, remembered past the life of its record. */
struct note {
	bool set;
	int pid;
	char fn[32];
	char err[32];
	int64_t t;            /* entry, ns since the trace start */
	int64_t tend;
	char where[96];       /* trace-file:line */
};

/* What the calls selected by one expect line did. */
struct sel_state {
	uint64_t count, ok, failed, faults;
	struct note last;          /* the last call that concluded */
	bool last_ok;
	uint64_t never_hits[ST_EXPECT_CHECKS_MAX];
	struct note never_first[ST_EXPECT_CHECKS_MAX];
	struct hmap bytes;         /* connection key -> uint64_t * */
	uint64_t max_bytes;
	uint32_t max_bytes_conn;
	struct note first_fail;
	struct note first_ok_after;
	uint32_t conns[VERDICT_CONNS_MAX];
	size_t nconns;
};

struct rule_state {
	uint64_t fired;
	uint64_t selected;    /* calls its selection words match, before when=/prob= */
	uint64_t of_its_calls;
	struct note first;
	uint32_t conns[VERDICT_CONNS_MAX];
	size_t nconns;
};

struct eval {
	const struct st_scenario *sc;
	struct sel_state *sel;
	struct rule_state *rules;
	struct hmap resolved;  /* address -> the name it was resolved from */
	int64_t first_t, last_tend;
	bool any;
};

/* Results a "not yet" errno gives: the call will be made again or is
 * still under way, it neither failed nor succeeded. */
static bool inconclusive(const char *err)
{
	static const char *const names[] = { "EAGAIN", "EWOULDBLOCK", "EINPROGRESS", "EALREADY",
					     "EINTR" };

	for (size_t i = 0; err && i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(err, names[i]) == 0)
			return true;
	return false;
}

static void take_note(struct note *n, const struct vev *ev)
{
	n->set = true;
	n->pid = ev->pid;
	snprintf(n->fn, sizeof(n->fn), "%s", ev->fn ? ev->fn : "?");
	snprintf(n->err, sizeof(n->err), "%s", vev_result_err(ev) ? vev_result_err(ev) : "");
	n->t = ev->t;
	n->tend = ev->tend;
	/* The file's name is enough: the trace directory is known; of
	 * traces joined in one input, which one (the pid is said already). */
	const char *path = ev->file ? tr_shown_path(ev->file->path) : "?";
	const char *slash = strrchr(path, '/');
	if (ev->file && ev->file->part)
		snprintf(n->where, sizeof(n->where), "%s (trace %d):%ld", slash ? slash + 1 : path,
			 ev->file->part, ev->line);
	else
		snprintf(n->where, sizeof(n->where), "%s:%ld", slash ? slash + 1 : path, ev->line);
}

static void add_conn(uint32_t *conns, size_t *n, const struct vev *ev)
{
	if (!ev->conn || *n == VERDICT_CONNS_MAX)
		return;
	for (size_t i = 0; i < *n; i++)
		if (conns[i] == ev->conn->id)
			return;
	conns[(*n)++] = ev->conn->id;
}

/* "127.0.0.1:80", "[::1]:80" -> an endpoint rules can match. */
static void ep_from_text(struct st_ep *ep, const char *text)
{
	char norm[ADDR_MAX], host[ADDR_MAX];
	size_t len;
	int port;

	memset(ep, 0, sizeof(*ep));
	if (!text)
		return;
	addr_norm(text, norm, sizeof(norm));
	port = addr_port(norm);
	if (port < 0)
		return;
	addr_host(norm, host, sizeof(host));
	len = strlen(host);
	if (host[0] == '[' && len > 2 && host[len - 1] == ']') {
		host[len - 1] = '\0';
		/* A scope ("%2") is not part of the address a rule names. */
		host[strcspn(host, "%")] = '\0';
		if (inet_pton(AF_INET6, host + 1, ep->addr) == 1)
			ep->family = AF_INET6;
	} else if (inet_pton(AF_INET, host, ep->addr) == 1) {
		ep->family = AF_INET;
	}
	ep->port = (uint16_t)port;
}

/* Keyed by address alone, not by process: a forked child inherits what
 * its parent resolved, in the shim as here. */
static void resolved_key(char *key, size_t cap, const char *addr)
{
	char norm[ADDR_MAX];

	addr_norm(addr, norm, sizeof(norm));
	addr_host(norm, key, cap);
}

/* getaddrinfo answers, so host= can select the later calls to them. */
static void remember_resolved(struct eval *e, const struct vev *ev)
{
	json_t *j = vev_json(ev);
	const char *name = json_string_value(json_object_get(j, "host"));
	json_t *addrs = json_object_get(j, "addrs");
	size_t i;
	json_t *a;

	if (!name || !json_is_array(addrs))
		return;
	json_array_foreach(addrs, i, a) {
		char key[ADDR_MAX];
		char *copy;

		if (!json_is_string(a))
			continue;
		resolved_key(key, sizeof(key), json_string_value(a));
		copy = strdup(name);
		if (!copy)
			return;
		free(hmap_gets(&e->resolved, key));
		if (hmap_put(&e->resolved, key, strlen(key), copy) != 0)
			free(copy);
	}
}

/* caller= over the stack recorded with the call (socktrace run
 * --backtrace): a frame's function ("name+0x12") and module match the
 * globs as in the shim. Without a recorded stack nobody can tell: the
 * call counts as selected, so a rule is never reported as missing its
 * selection for want of stacks. */
/* arg: the event. Its record's tree is built only for a caller= rule. */
static bool caller_in_stack(void *arg, const char *module_glob, const char *func_glob)
{
	json_t *stack = json_object_get(vev_json(arg), "stack");
	json_t *frame;
	size_t i;

	if (!json_is_array(stack) || json_array_size(stack) == 0)
		return true;
	json_array_foreach(stack, i, frame) {
		const char *func = json_string_value(json_object_get(frame, "func"));
		const char *module = json_string_value(json_object_get(frame, "module"));
		char name[256];
		if (!func)
			continue;
		snprintf(name, sizeof(name), "%.*s", (int)strcspn(func, "+"), func);
		if (fnmatch(func_glob, name, 0) != 0)
			continue;
		if (!module_glob)
			return true;
		const char *base = module ? strrchr(module, '/') : NULL;
		if (module && fnmatch(module_glob, base ? base + 1 : module, 0) == 0)
			return true;
	}
	return false;
}

/* The endpoints a call's selection is decided on, as in the shim: the
 * destination of a connect or sendto is its peer, a bind's address is
 * its local end. */
static void match_ctx(struct eval *e, const struct vev *ev, struct st_match_ctx *c,
		      struct st_ep *peer, struct st_ep *local)
{
	const char *peer_text = ev->peer, *local_text = ev->local;

	if (ev->op == OP_BIND && !local_text)
		local_text = ev->addr;
	else if (ev->op != OP_BIND && !peer_text)
		peer_text = ev->addr;
	ep_from_text(peer, peer_text);
	ep_from_text(local, local_text);
	memset(c, 0, sizeof(*c));
	c->fn = ev->call;
	c->dir = ev->op == OP_SEND ? ST_DATA_OUT : ev->op == OP_RECV ? ST_DATA_IN : ST_DATA_NONE;
	c->peer = peer;
	c->local = local;
	c->peer_text = peer_text;
	c->local_text = local_text;
	if (ev->op == OP_DNS) {
		c->host = json_string_value(json_object_get(vev_json(ev), "host"));
	} else if (peer_text) {
		char key[ADDR_MAX];
		resolved_key(key, sizeof(key), peer_text);
		c->host = hmap_gets(&e->resolved, key);
	}
	c->caller = caller_in_stack;
	c->caller_arg = (void *)ev;
	int64_t ts = ev->rec ? ev->rec->ts : 0;
	int64_t start = ev->file && ev->file->start >= 0 ? ev->file->start : ts;
	c->elapsed_ns = ts > start ? (uint64_t)(ts - start) : 0;
}

static bool selects(const struct st_rule *r, const struct vev *ev, const struct st_match_ctx *c)
{
	if (!st_rule_calls(r, ev->call, c->dir))
		return false;
	if (r->prog[0] && !st_rule_for_prog(r, ev->file && ev->file->prog ? ev->file->prog : ""))
		return false;
	return st_rule_selects(r, c);
}

/* Bytes of one data call, added to its connection's count. */
static void count_bytes(struct sel_state *s, const struct vev *ev)
{
	char key[32];
	uint64_t *sum;
	int64_t bytes = ev->bytes >= 0 ? ev->bytes : (ev->err ? 0 : ev->ret);

	if (ev->op != OP_SEND && ev->op != OP_RECV)
		return;
	if (bytes <= 0)
		return;
	if (ev->conn)
		snprintf(key, sizeof(key), "c%" PRIu32, ev->conn->id);
	else
		snprintf(key, sizeof(key), "%d/%d", ev->pid, ev->fd);
	sum = hmap_gets(&s->bytes, key);
	if (!sum) {
		sum = calloc(1, sizeof(*sum));
		if (!sum || hmap_put(&s->bytes, key, strlen(key), sum) != 0) {
			free(sum);
			return;
		}
	}
	*sum += (uint64_t)bytes;
	if (*sum > s->max_bytes) {
		s->max_bytes = *sum;
		s->max_bytes_conn = ev->conn ? ev->conn->id : 0;
	}
}

static bool err_is(const char *err, int code, bool eai)
{
	const char *name = eai ? st_eai_name(code) : st_errno_name(code);

	return err && name && strcmp(err, name) == 0;
}

static void feed_expect(struct sel_state *s, const struct st_expect *x, const struct vev *ev)
{
	/* A connect in progress counts as what became of it. */
	const char *err = vev_result_err(ev);
	bool failed = err && !inconclusive(err);

	s->count++;
	s->faults += ev->fault;
	add_conn(s->conns, &s->nconns, ev);
	count_bytes(s, ev);
	for (size_t i = 0; i < x->nchecks; i++) {
		const struct st_check *c = &x->checks[i];
		bool hit = false;
		if (c->kind != ST_CHECK_NEVER || !err)
			continue;
		for (size_t k = 0; k < c->nnever; k++)
			hit |= err_is(err, c->never[k], c->never_eai[k]);
		if (c->nnever == 0)
			hit = true;
		if (hit && s->never_hits[i]++ == 0)
			take_note(&s->never_first[i], ev);
	}
	if (err && !failed)
		return;
	if (failed) {
		s->failed++;
		if (!s->first_fail.set)
			take_note(&s->first_fail, ev);
	} else {
		s->ok++;
		if (s->first_fail.set && !s->first_ok_after.set)
			take_note(&s->first_ok_after, ev);
	}
	take_note(&s->last, ev);
	s->last_ok = !failed;
}

/* Which rule of the scenario a fault event names: same line, same text
 * (the path may be written differently by the shim and the tool). */
static long rule_of_fault(const struct st_scenario *sc, const struct vev *ev)
{
	json_t *fault = json_object_get(vev_json(ev), "fault");
	const char *origin = json_string_value(json_object_get(fault, "rule"));
	const char *text = json_string_value(json_object_get(fault, "text"));
	unsigned line;

	if (!origin || !text || !(line = st_origin_line(origin, NULL)))
		return -1;
	for (size_t i = 0; i < sc->rules.count; i++) {
		const struct st_rule *r = &sc->rules.rules[i];
		if (st_origin_line(r->origin, NULL) == line && strcmp(r->text, text) == 0)
			return (long)i;
	}
	return -1;
}

static void feed(void *arg, struct vev *ev)
{
	struct eval *e = arg;
	const struct st_scenario *sc = e->sc;
	struct st_match_ctx c;
	struct st_ep peer, local;

	if (ev->kind != TR_CALL || ev->call >= ST_FN_COUNT)
		return;
	if (!e->any || ev->t < e->first_t)
		e->first_t = ev->t;
	if (!e->any || ev->tend > e->last_tend)
		e->last_tend = ev->tend;
	e->any = true;
	if (ev->op == OP_DNS && !ev->err)
		remember_resolved(e, ev);
	match_ctx(e, ev, &c, &peer, &local);
	for (size_t i = 0; i < sc->expects.count; i++)
		if (selects(&sc->expects.v[i].sel, ev, &c))
			feed_expect(&e->sel[i], &sc->expects.v[i], ev);
	for (size_t i = 0; i < sc->rules.count; i++) {
		const struct st_rule *r = &sc->rules.rules[i];
		if (!st_rule_calls(r, ev->call, c.dir))
			continue;
		e->rules[i].of_its_calls++;
		e->rules[i].selected += selects(r, ev, &c);
	}
	if (ev->fault) {
		long i = rule_of_fault(sc, ev);
		if (i >= 0) {
			if (e->rules[i].fired++ == 0)
				take_note(&e->rules[i].first, ev);
			add_conn(e->rules[i].conns, &e->rules[i].nconns, ev);
		}
	}
}

/* "connect ECONNREFUSED at 0.310s (pid 1234)" */
static void describe(char *buf, size_t cap, const struct note *n)
{
	char t[32];

	fmt_secs(t, sizeof(t), n->t);
	snprintf(buf, cap, "%s%s%s at %ss (pid %d, %s)", n->fn, n->err[0] ? " " : "",
		 n->err[0] ? n->err : " ok", t, n->pid, n->where);
}

static struct result *next_result(struct verdict *v, enum result_kind kind, const char *origin)
{
	struct result *r = &v->results[v->count++];

	memset(r, 0, sizeof(*r));
	r->kind = kind;
	r->origin = origin;
	return r;
}

static void seen_value(struct result *r, uint64_t value, const char *unit)
{
	r->has_value = true;
	r->value = value;
	r->unit = unit;
}

/* what qualifies "calls": "" or " that failed". */
static void judge_count(struct result *r, const struct st_check *c, uint64_t seen,
			const char *what)
{
	snprintf(r->expected, sizeof(r->expected), "calls%s %s %" PRIu64, what,
		 st_cmp_text(c->cmp), c->value);
	snprintf(r->seen, sizeof(r->seen), "%" PRIu64 " call%s%s", seen, seen == 1 ? "" : "s",
		 what);
	r->pass = st_cmp_holds(c->cmp, seen, c->value);
	seen_value(r, seen, "calls");
}

static void judge_check(struct result *r, const struct st_check *c, const struct sel_state *s,
			size_t index)
{
	char a[256], d[32];

	switch (c->kind) {
	case ST_CHECK_COUNT:
		judge_count(r, c, s->count, "");
		return;
	case ST_CHECK_OK:
		judge_count(r, c, s->ok, " that succeeded");
		return;
	case ST_CHECK_FAILED:
		judge_count(r, c, s->failed, " that failed");
		return;
	case ST_CHECK_FAULTS:
		judge_count(r, c, s->faults, " a fault acted on");
		return;
	case ST_CHECK_BYTES: {
		char want[32];
		st_format_size(c->value, want, sizeof(want));
		snprintf(r->expected, sizeof(r->expected), "a connection carrying %s %s bytes",
			 st_cmp_text(c->cmp), want);
		if (s->max_bytes == 0)
			snprintf(r->seen, sizeof(r->seen), "no bytes moved (%" PRIu64 " calls)", s->count);
		else if (s->max_bytes_conn)
			snprintf(r->seen, sizeof(r->seen), "%" PRIu64 " bytes on the busiest connection (c%" PRIu32 ")",
				 s->max_bytes, s->max_bytes_conn);
		else
			snprintf(r->seen, sizeof(r->seen), "%" PRIu64 " bytes on the busiest connection",
				 s->max_bytes);
		r->pass = st_cmp_holds(c->cmp, s->max_bytes, c->value);
		seen_value(r, s->max_bytes, "bytes");
		return;
	}
	case ST_CHECK_SUCCEEDS:
		snprintf(r->expected, sizeof(r->expected), "the last call to conclude succeeds");
		if (!s->last.set) {
			snprintf(r->seen, sizeof(r->seen), "no call concluded (%" PRIu64 " selected)",
				 s->count);
			return;
		}
		describe(a, sizeof(a), &s->last);
		snprintf(r->seen, sizeof(r->seen), "last: %s", a);
		r->pass = s->last_ok;
		return;
	case ST_CHECK_NEVER:
		snprintf(r->expected, sizeof(r->expected), "no call failing with %s",
			 c->nnever ? c->text + strlen("never=") : "any errno");
		seen_value(r, s->never_hits[index], "calls");
		if (!s->never_hits[index]) {
			snprintf(r->seen, sizeof(r->seen), "none (%" PRIu64 " calls)", s->count);
			r->pass = true;
			return;
		}
		describe(a, sizeof(a), &s->never_first[index]);
		snprintf(r->seen, sizeof(r->seen), "%" PRIu64 " call%s, first: %s", s->never_hits[index],
			 s->never_hits[index] == 1 ? "" : "s", a);
		return;
	case ST_CHECK_RECOVERY:
		st_format_duration(c->value, d, sizeof(d));
		snprintf(r->expected, sizeof(r->expected), "success %s %s after the first failure",
			 st_cmp_text(c->cmp), d);
		if (!s->first_fail.set) {
			snprintf(r->seen, sizeof(r->seen), "no selected call failed: nothing to recover from (%" PRIu64 " calls)",
				 s->count);
			return;
		}
		describe(a, sizeof(a), &s->first_fail);
		if (!s->first_ok_after.set) {
			snprintf(r->seen, sizeof(r->seen), "never recovered; first failure: %s", a);
			return;
		}
		int64_t took = s->first_ok_after.tend - s->first_fail.t;
		fmt_dur(d, sizeof(d), took);
		snprintf(r->seen, sizeof(r->seen), "recovered in %s; first failure: %s", d, a);
		r->pass = took >= 0 && st_cmp_holds(c->cmp, (uint64_t)took, c->value);
		if (took >= 0)
			seen_value(r, (uint64_t)took, "ns");
		return;
	}
}

static void judge_rule(struct result *r, const struct st_rule *rule, const struct rule_state *s)
{
	char a[256];

	snprintf(r->name, sizeof(r->name), "rule acts: %s", rule->text);
	r->condition = rule->text;
	r->optional = rule->optional;
	r->selected = s->selected;
	r->of_its_calls = s->of_its_calls;
	seen_value(r, s->fired, "acts");
	snprintf(r->expected, sizeof(r->expected), "%s", rule->optional ? "optional: may act or not"
									: "acts at least once");
	memcpy(r->conns, s->conns, sizeof(r->conns));
	r->nconns = s->nconns;
	if (s->fired) {
		describe(a, sizeof(a), &s->first);
		snprintf(r->seen, sizeof(r->seen), "acted %" PRIu64 " time%s, first: %s", s->fired,
			 s->fired == 1 ? "" : "s", a);
		r->pass = true;
		return;
	}
	r->pass = rule->optional;
	if (s->of_its_calls == 0)
		snprintf(r->seen, sizeof(r->seen), "never acted: no %s call in the trace", rule->calls);
	else if (s->selected == 0)
		snprintf(r->seen, sizeof(r->seen), "never acted: none of %" PRIu64 " %s calls matched its selection words",
			 s->of_its_calls, rule->calls);
	else
		snprintf(r->seen, sizeof(r->seen), "never acted: %" PRIu64 " calls matched, when=/prob=/after= picked none",
			 s->selected);
}

static void judge(struct verdict *v, const struct eval *e)
{
	const struct st_scenario *sc = e->sc;

	for (size_t i = 0; i < sc->expects.count; i++) {
		const struct st_expect *x = &sc->expects.v[i];
		for (size_t k = 0; k < x->nchecks; k++) {
			struct result *r = next_result(v, RESULT_EXPECT, x->sel.origin);
			snprintf(r->name, sizeof(r->name), "expect %s %s", x->sel.text, x->checks[k].text);
			r->condition = x->checks[k].text;
			judge_check(r, &x->checks[k], &e->sel[i], k);
			memcpy(r->conns, e->sel[i].conns, sizeof(r->conns));
			r->nconns = e->sel[i].nconns;
		}
	}
	for (size_t i = 0; i < sc->rules.count; i++)
		judge_rule(next_result(v, RESULT_RULE, sc->rules.rules[i].origin),
			   &sc->rules.rules[i], &e->rules[i]);
	for (size_t i = 0; i < v->count; i++)
		v->failed += !v->results[i].pass;
}

bool verdict_wanted(const struct st_scenario *sc)
{
	return sc->expects.count > 0;
}

int verdict_eval(struct verdict *v, const struct st_scenario *sc, const char *const *paths,
		 size_t npaths)
{
	struct eval e = { .sc = sc };
	struct pass pass;
	size_t nresults = sc->rules.count;
	int status;

	memset(v, 0, sizeof(*v));
	for (size_t i = 0; i < sc->expects.count; i++)
		nresults += sc->expects.v[i].nchecks;
	v->results = xcalloc(nresults ? nresults : 1, sizeof(*v->results));
	e.sel = xcalloc(sc->expects.count + 1, sizeof(*e.sel));
	e.rules = xcalloc(sc->rules.count + 1, sizeof(*e.rules));
	/* No path: a run whose processes never touched a socket. */
	status = npaths ? pass_open(&pass, paths, npaths, TR_LAZY) : 0;
	if (status == 0 && npaths) {
		status = pass_run(&pass, NULL, feed, &e);
		tr_report(&pass.reader, "socktrace");
		v->events = pass.events;
		pass_close(&pass);
	}
	if (status == 0) {
		judge(v, &e);
		v->span_ns = e.any ? e.last_tend - e.first_t : 0;
	}
	for (size_t i = 0; i < sc->expects.count; i++)
		hmap_free(&e.sel[i].bytes, free);
	hmap_free(&e.resolved, free);
	free(e.sel);
	free(e.rules);
	return status;
}

void verdict_free(struct verdict *v)
{
	free(v->results);
	memset(v, 0, sizeof(*v));
}
