#include "model/filter.h"
#include "util/oom.h"

#include "util/addr.h"
#include "model/pairing.h"
#include "calls.h"
#include "suggest.h"
#include "util/textutil.h"
#include "rules.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void filter_init(struct filter *f)
{
	memset(f, 0, sizeof(*f));
	f->since = INT64_MIN;
	f->until = INT64_MAX;
	f->who = "socktrace";
}

void filter_free(struct filter *f)
{
	for (size_t i = 0; i < f->nfns; i++)
		free(f->fns[i]);
	for (size_t i = 0; i < f->nconn_addrs; i++)
		free(f->conn_addrs[i]);
	free(f->pids);
	free(f->fns);
	free(f->conn_ids);
	free(f->conn_addrs);
	filter_init(f);
}

static int grow(void **v, size_t n, size_t size)
{
	*v = xrealloc(*v, (n + 1) * size);
	return 0;
}

/* Calls fn for each comma-separated item of arg. */
static int each_item(struct filter *f, const char *arg, int (*fn)(struct filter *, const char *))
{
	char *copy = strdup(arg), *save = NULL, *item;
	int rc = 0;

	if (!copy)
		return -1;
	if (!*copy)
		rc = fn(f, "");
	for (item = strtok_r(copy, ",", &save); item && rc == 0; item = strtok_r(NULL, ",", &save))
		rc = fn(f, item);
	free(copy);
	return rc;
}

static int add_pid(struct filter *f, const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (!*s || *end || errno || v < 0 || v > 0x7fffffff) {
		fprintf(stderr, "%s: --pid takes process ids, not '%s'\n", f->who, s);
		return -1;
	}
	if (grow((void **)&f->pids, f->npids, sizeof(*f->pids)) != 0)
		return -1;
	f->pids[f->npids++] = (int)v;
	return 0;
}

int filter_add_pids(struct filter *f, const char *arg)
{
	return each_item(f, arg, add_pid);
}

static int add_one_fn(struct filter *f, const char *s);

/* A group of the rule language (setup, data, teardown, ...) stands for
 * its calls here too: --fn setup,teardown. */
static int add_fn(struct filter *f, const char *s)
{
	for (const struct st_group_name *g = st_groups; g->name; g++) {
		if (strcmp(s, g->name) != 0)
			continue;
		for (unsigned i = 0; i < ST_FN_COUNT; i++) {
			const struct st_call_info *c = st_call_info((enum st_fn)i);
			if ((c->groups & g->mask) && add_one_fn(f, c->name) != 0)
				return -1;
		}
		return 0;
	}
	return add_one_fn(f, s);
}

static int add_one_fn(struct filter *f, const char *s)
{
	static const char *const extra[] = { "exec", "end", "warning", "ctl" };
	enum { NAMES_MAX = ST_FN_COUNT + 4 + 16 };
	const char *names[NAMES_MAX];
	size_t n = 0;
	char *copy;
	bool known = st_call_by_name(s) != ST_FN_COUNT;

	for (size_t k = 0; k < sizeof(extra) / sizeof(extra[0]); k++)
		known |= strcmp(s, extra[k]) == 0;
	if (!known) {
		for (unsigned i = 0; i < ST_FN_COUNT; i++)
			names[n++] = st_call_info((enum st_fn)i)->name;
		for (size_t k = 0; k < sizeof(extra) / sizeof(extra[0]); k++)
			names[n++] = extra[k];
		for (const struct st_group_name *g = st_groups; g->name && n < NAMES_MAX; g++)
			names[n++] = g->name;
		const char *near = st_suggest(s, names, n);
		/* Not fatal: a newer shim may trace calls this tool does not know. */
		fprintf(stderr, "%s: warning: --fn %s is not a call socktrace traces%s%s%s\n", f->who, s,
			near ? " (did you mean " : "", near ? near : "", near ? "?)" : "");
	}
	copy = strdup(s);
	if (!copy || grow((void **)&f->fns, f->nfns, sizeof(*f->fns)) != 0) {
		free(copy);
		return -1;
	}
	f->fns[f->nfns++] = copy;
	return 0;
}

int filter_add_fns(struct filter *f, const char *arg)
{
	return each_item(f, arg, add_fn);
}

static int add_conn(struct filter *f, const char *s)
{
	const char *num = s[0] == 'c' ? s + 1 : s;
	char *end;
	unsigned long v;

	if (!*s) {
		fprintf(stderr, "%s: --conn takes a connection id (c3) or an address\n", f->who);
		return -1;
	}
	if (*num >= '0' && *num <= '9') {
		v = strtoul(num, &end, 10);
		if (*end == '\0' && v > 0 && v <= 0xffffffffUL) {
			if (grow((void **)&f->conn_ids, f->nconn_ids, sizeof(*f->conn_ids)) != 0)
				return -1;
			f->conn_ids[f->nconn_ids++] = (uint32_t)v;
			return 0;
		}
	}
	char norm[ADDR_MAX];
	addr_norm(s, norm, sizeof(norm));
	char *copy = strdup(norm);
	if (!copy || grow((void **)&f->conn_addrs, f->nconn_addrs, sizeof(*f->conn_addrs)) != 0) {
		free(copy);
		return -1;
	}
	f->conn_addrs[f->nconn_addrs++] = copy;
	return 0;
}

int filter_add_conns(struct filter *f, const char *arg)
{
	return each_item(f, arg, add_conn);
}

int filter_set_time(struct filter *f, const char *arg, bool since)
{
	int64_t ns;

	if (!parse_time(arg, &ns)) {
		fprintf(stderr, "%s: --%s takes a time since the start of the trace ("
			ST_DURATION_EXAMPLES "), not '%s'\n", f->who, since ? "since" : "until", arg);
		return -1;
	}
	if (since)
		f->since = ns;
	else
		f->until = ns;
	return 0;
}

bool filter_active(const struct filter *f)
{
	return f->npids || f->nfns || f->nconn_ids || f->nconn_addrs || f->errors ||
	       f->since != INT64_MIN || f->until != INT64_MAX;
}

static bool addr_match(const char *want, const char *a)
{
	char n[ADDR_MAX];

	if (!a || !*a)
		return false;
	addr_norm(a, n, sizeof(n));
	if (want[0] == ':')
		return addr_port(n) >= 0 && addr_port(n) == atoi(want + 1);
	return strcmp(n, want) == 0;
}

static bool conn_match(const struct filter *f, const struct vev *ev)
{
	for (size_t i = 0; i < f->nconn_ids; i++)
		if (ev->conn && ev->conn->id == f->conn_ids[i])
			return true;
	for (size_t i = 0; i < f->nconn_addrs; i++) {
		const char *w = f->conn_addrs[i];
		if (addr_match(w, ev->local) || addr_match(w, ev->peer) || addr_match(w, ev->addr))
			return true;
		if (ev->conn && (addr_match(w, ev->conn->side[0].addr) ||
				 addr_match(w, ev->conn->side[1].addr)))
			return true;
	}
	return false;
}

bool filter_match(const struct filter *f, const struct vev *ev)
{
	if (f->npids) {
		size_t i;
		for (i = 0; i < f->npids && f->pids[i] != ev->pid; i++)
			;
		if (i == f->npids)
			return false;
	}
	if (f->nfns) {
		const char *base = ev->call < ST_FN_COUNT ?
			st_call_info(st_call_info(ev->call)->base)->name : NULL;
		size_t i;
		for (i = 0; i < f->nfns; i++)
			if (strcmp(f->fns[i], ev->fn) == 0 || (base && strcmp(f->fns[i], base) == 0))
				break;
		if (i == f->nfns)
			return false;
	}
	if ((f->nconn_ids || f->nconn_addrs) && !conn_match(f, ev))
		return false;
	if (ev->tend < f->since || ev->tend > f->until)
		return false;
	if (f->errors && !vev_is_error(ev))
		return false;
	return true;
}

int filter_option(struct filter *f, int opt, const char *arg)
{
	switch (opt) {
	case 'p':
		return filter_add_pids(f, arg) == 0 ? 0 : -1;
	case 'c':
		return filter_add_conns(f, arg) == 0 ? 0 : -1;
	case 'F':
		return filter_add_fns(f, arg) == 0 ? 0 : -1;
	case 'S':
		return filter_set_time(f, arg, true) == 0 ? 0 : -1;
	case 'U':
		return filter_set_time(f, arg, false) == 0 ? 0 : -1;
	case 'e':
		f->errors = true;
		return 0;
	default:
		return 1;
	}
}
