#include "render/diagram.h"

#include "util/textutil.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct sbuf {
	char *p;
	size_t cap, len;
	struct label_parts parts;
};

/* The label so far is the call (its name and arguments). */
static void call_done(struct sbuf *b)
{
	b->parts.call_end = b->parts.result_end = b->len;
}

/* ... and its result. */
static void result_done(struct sbuf *b)
{
	b->parts.result_end = b->len;
}

static void sb_add(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sb_add(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->len + 1 >= b->cap)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	b->len += (size_t)n;
	if (b->len >= b->cap)
		b->len = b->cap - 1;
}

/* "AF_INET" -> "inet", "SOCK_STREAM|SOCK_CLOEXEC" -> "stream|cloexec". */
static void lower_names(struct sbuf *b, const char *s, const char *prefix)
{
	size_t pl = strlen(prefix);

	if (!s) {
		sb_add(b, "?");
		return;
	}
	while (*s) {
		if (strncmp(s, prefix, pl) == 0)
			s += pl;
		while (*s && *s != '|') {
			sb_add(b, "%c", tolower((unsigned char)*s));
			s++;
		}
		if (*s == '|') {
			sb_add(b, "|");
			s++;
		}
	}
}

/* A socket option's value: a name, a number, or (SO_LINGER's object)
 * something the label does not spell out. */
static void opt_value(struct sbuf *b, const struct vev *ev)
{
	if (ev->value)
		sb_add(b, "%s", ev->value);
	else if (ev->has_value_num)
		sb_add(b, "%lld", (long long)ev->value_num);
	else
		sb_add(b, "{...}");
}

static bool has_value(const struct vev *ev)
{
	return ev->value || ev->has_value_num || ev->value_other;
}

static void preview(struct sbuf *b, const struct vev *ev, size_t max)
{
	unsigned char bytes[1100];
	char out[512];
	size_t n;

	if (!ev->data || max == 0)
		return;
	n = vev_data_bytes(ev, bytes, sizeof(bytes));
	if (max > sizeof(out) - 16)
		max = sizeof(out) - 16;
	fmt_preview(out, sizeof(out), bytes, n, max, ev->data_cut > 0);
	sb_add(b, " %s", out);
}

/* The result of most calls: " = -1 ECONNREFUSED", " = 4" (show_ok); the
 * label's result ends there. */
static void ret_suffix(struct sbuf *b, const struct vev *ev, bool show_ok)
{
	if (ev->err)
		sb_add(b, " = %lld %s", (long long)ev->ret, ev->err);
	else if (show_ok)
		sb_add(b, " = %lld", (long long)ev->ret);
	result_done(b);
}

size_t ev_label_parts(const struct vev *ev, char *buf, size_t cap, size_t preview_max,
		      struct label_parts *parts)
{
	struct sbuf b = { buf, cap, 0, { 0, 0 } };
	const char *fn = ev->fn ? ev->fn : "?";

	if (cap == 0)
		return 0;
	buf[0] = '\0';
	if (ev->kind == TR_EXEC) {
		sb_add(&b, "exec %s", ev->path ? ev->path : "(fd)");
		if (ev->err)
			sb_add(&b, " = -1 %s", ev->err);
		goto out;
	}
	if (ev->kind == TR_WARNING) {
		sb_add(&b, "warning %s", ev->warning);
		if (ev->message)
			sb_add(&b, ": %s", ev->message);
		sanitize_ascii(buf);
		goto out;
	}
	if (ev->kind == TR_CTL) {
		/* A change of the rules by socktrace ctl: a note in the
		 * process's column, like a warning. */
		sb_add(&b, "ctl %s", ev->how ? ev->how : "?");
		if (ev->message)
			sb_add(&b, ": %s", ev->message);
		sanitize_ascii(buf);
		goto out;
	}
	if (ev->kind == TR_END) {
		const char *reason = ev->reason;
		sb_add(&b, "%s", reason && strcmp(reason, "exec") == 0 ? "end of image (exec)" :
			reason ? reason : "end");
		goto out;
	}
	switch (ev->op) {
	case OP_SOCKET:
		sb_add(&b, "%s(", fn);
		lower_names(&b, ev->family, "AF_");
		sb_add(&b, ", ");
		lower_names(&b, ev->type, "SOCK_");
		sb_add(&b, ")");
		call_done(&b);
		ret_suffix(&b, ev, true);
		break;
	case OP_SOCKETPAIR:
		sb_add(&b, "%s(", fn);
		lower_names(&b, ev->family, "AF_");
		sb_add(&b, ", ");
		lower_names(&b, ev->type, "SOCK_");
		sb_add(&b, ")");
		call_done(&b);
		if (ev->err)
			ret_suffix(&b, ev, false);
		else if (ev->has_fds)
			sb_add(&b, " = [%d, %d]", ev->fds[0], ev->fds[1]);
		result_done(&b);
		break;
	case OP_BIND:
		sb_add(&b, "%s(%d, %s)", fn, ev->fd, ev->addr ? ev->addr : "?");
		call_done(&b);
		ret_suffix(&b, ev, false);
		if (!ev->err && ev->local && ev->addr && strcmp(ev->local, ev->addr) != 0)
			sb_add(&b, " -> %s", ev->local);
		break;
	case OP_LISTEN: {
		sb_add(&b, "%s(%d", fn, ev->fd);
		if (ev->backlog >= 0)
			sb_add(&b, ", %lld", (long long)ev->backlog);
		sb_add(&b, ")");
		call_done(&b);
		ret_suffix(&b, ev, false);
		if (!ev->err && ev->local)
			sb_add(&b, " %s", ev->local);
		break;
	}
	case OP_ACCEPT:
		sb_add(&b, "%s(%d)", fn, ev->fd);
		call_done(&b);
		ret_suffix(&b, ev, true);
		if (!ev->err && ev->peer)
			sb_add(&b, " %s", ev->peer);
		break;
	case OP_CONNECT:
		sb_add(&b, "%s(%d, %s)", fn, ev->fd,
		       ev->addr ? ev->addr : ev->peer ? ev->peer : "?");
		call_done(&b);
		ret_suffix(&b, ev, false);
		/* A "not yet" and what became of it (the connect is held until
		 * that is known, see causal.h). */
		if (ev->pending && ev->conn && conn_outcome(ev->conn) != OUT_UNKNOWN)
			sb_add(&b, " -> %s", conn_outcome_text(ev->conn));
		result_done(&b); /* what became of it is its result */
		break;
	case OP_SEND:
	case OP_RECV:
		sb_add(&b, ev->peek ? "%s(%d, MSG_PEEK)" : "%s(%d)", fn, ev->fd);
		call_done(&b);
		if (ev->err) {
			ret_suffix(&b, ev, false);
		} else if (ev->op == OP_RECV && ev->ret == 0 && (ev->bytes <= 0)) {
			sb_add(&b, " = 0 EOF");
			result_done(&b);
		} else {
			if (ev->vlen >= 0)
				sb_add(&b, " %lld msg%s", (long long)ev->ret, ev->ret == 1 ? "" : "s");
			sb_add(&b, " %lld B", (long long)(ev->bytes >= 0 ? ev->bytes : ev->ret));
			result_done(&b);
			if (ev->addr && !ev->peer)
				sb_add(&b, " %s %s", ev->op == OP_SEND ? "to" : "from", ev->addr);
			preview(&b, ev, preview_max);
		}
		break;
	case OP_SHUTDOWN:
		sb_add(&b, "%s(%d, %s)", fn, ev->fd, ev->how ? ev->how : "?");
		call_done(&b);
		ret_suffix(&b, ev, false);
		break;
	case OP_CLOSE:
		sb_add(&b, "%s(%d)", fn, ev->fd);
		call_done(&b);
		ret_suffix(&b, ev, false);
		break;
	case OP_DUP: {
		sb_add(&b, "%s(%d", fn, ev->fd);
		if (ev->cmd)
			sb_add(&b, ", %s", ev->cmd);
		if (ev->newfd >= 0)
			sb_add(&b, ", %lld", (long long)ev->newfd);
		sb_add(&b, ")");
		call_done(&b);
		ret_suffix(&b, ev, true);
		break;
	}
	case OP_OPT: {
		sb_add(&b, "%s(%d", fn, ev->fd);
		if (ev->opt)
			sb_add(&b, ", %s", ev->opt);
		else if (ev->opt_num >= 0)
			sb_add(&b, ", %lld", (long long)ev->opt_num);
		bool set = ev->call == ST_FN_setsockopt;
		if (set && has_value(ev)) {
			sb_add(&b, ", ");
			opt_value(&b, ev);
		} else if (set && ev->value_us >= 0) {
			sb_add(&b, ", %lldus", (long long)ev->value_us);
		}
		sb_add(&b, ")");
		call_done(&b);
		ret_suffix(&b, ev, false);
		if (!ev->err && !set && has_value(ev)) {
			sb_add(&b, " -> ");
			opt_value(&b, ev);
		} else if (!ev->err && !set && ev->value_us >= 0) {
			sb_add(&b, " -> %lldus", (long long)ev->value_us);
		} else if (!ev->err && ev->addr) {
			sb_add(&b, " -> %s", ev->addr);
		}
		break;
	}
	case OP_DNS: {
		sb_add(&b, "%s(%s, %s)", fn, ev->host ? ev->host : "NULL",
		       ev->service ? ev->service : "NULL");
		call_done(&b);
		if (ev->err)
			sb_add(&b, " = %s", ev->err);
		else if (ev->naddrs == 1)
			sb_add(&b, " -> %s", ev->addr0 ? ev->addr0 : "?");
		else
			sb_add(&b, " -> %zu addresses", ev->naddrs);
		result_done(&b);
		break;
	}
	default:
		if (ev->fd >= 0)
			sb_add(&b, "%s(%d)", fn, ev->fd);
		else
			sb_add(&b, "%s()", fn);
		call_done(&b);
		ret_suffix(&b, ev, true);
		break;
	}
	if (ev->tid != ev->pid)
		sb_add(&b, " [tid %d]", ev->tid);
	sanitize_ascii(buf);
out:
	if (b.parts.call_end == 0 && b.parts.result_end == 0)
		b.parts.call_end = b.parts.result_end = b.len; /* a note: keep it whole */
	if (parts)
		*parts = b.parts;
	return b.len;
}

size_t ev_label(const struct vev *ev, char *buf, size_t cap, size_t preview_max)
{
	return ev_label_parts(ev, buf, cap, preview_max, NULL);
}

static bool is_fin(const struct vev *ev)
{
	if (ev->err || !ev->conn || ev->conn->kind != CONN_STREAM)
		return false;
	if (ev->op == OP_CLOSE)
		return true;
	return ev->op == OP_SHUTDOWN && !(ev->how && strcmp(ev->how, "SHUT_RD") == 0);
}

static void arrow_text(const struct vev *ev, struct arrow *a)
{
	switch (a->kind) {
	case AR_CONNECT:
		snprintf(a->text, sizeof(a->text), "c%u", ev->conn ? ev->conn->id : 0);
		break;
	case AR_DATA:
		snprintf(a->text, sizeof(a->text), "c%u %lld B", ev->conn ? ev->conn->id : 0,
			 (long long)(ev->bytes >= 0 ? ev->bytes : ev->ret));
		break;
	case AR_CLOSE:
		snprintf(a->text, sizeof(a->text), "c%u %s", ev->conn ? ev->conn->id : 0,
			 ev->err ? "RST" : "FIN");
		break;
	case AR_FAIL:
		snprintf(a->text, sizeof(a->text), "c%u %s", ev->conn ? ev->conn->id : 0,
			 ev->err && !ev->pending ? ev->err : conn_fail(ev->conn));
		break;
	default:
		a->text[0] = '\0';
	}
	sanitize_ascii(a->text);
}

void ev_arrow(const struct vev *ev, const struct model *m, struct arrow *a)
{
	const struct conn *c = ev->conn;
	int other;

	memset(a, 0, sizeof(*a));
	if (!c || ev->side < 0)
		return;
	other = 1 - ev->side;
	a->other = other;
	a->is_connect = ev->op == OP_CONNECT;
	a->is_fin = is_fin(ev) && ev->link != LINK_CLOSE;
	if (ev->npartners > 0) {
		a->pid = ev->partners[0].pid;
		a->partner = ev->partners[0].seq;
		a->out = ev->out;
		a->kind = ev->link == LINK_CONNECT ? AR_CONNECT :
			  ev->link == LINK_DATA ? AR_DATA : AR_CLOSE;
		arrow_text(ev, a);
		return;
	}
	a->unpaired = true;
	if (ev->op == OP_CONNECT && ev->err && conn_outcome(c) == OUT_FAILED) {
		a->kind = AR_FAIL;
		a->out = true;
	} else if (ev->link == LINK_CONNECT) {
		a->kind = AR_CONNECT;
		a->out = ev->out;
	} else if (ev->link == LINK_DATA) {
		a->kind = AR_DATA;
		a->out = ev->out;
	} else if (ev->link == LINK_CLOSE && !ev->out) {
		a->kind = AR_CLOSE;
	} else if (is_fin(ev)) {
		a->kind = AR_CLOSE;
		a->out = true;
	} else {
		return;
	}
	arrow_text(ev, a);
	int listener = model_listener(m, c->side[other].addr);
	if (listener && listener != ev->pid) {
		a->pid = listener; /* traced, but never took this connection */
		return;
	}
	if (other == 1)
		snprintf(a->remote, sizeof(a->remote), "%s",
			 *c->side[other].addr ? c->side[other].addr : "?");
	else
		addr_host(*c->side[other].addr ? c->side[other].addr : "?", a->remote,
			  sizeof(a->remote));
	if (strcmp(a->remote, "unix:") == 0)
		snprintf(a->remote, sizeof(a->remote), "unix: (unnamed)");
	sanitize_ascii(a->remote);
}

void arrow_final(struct arrow *a, unsigned final, const char *fail)
{
	if (a->kind == AR_NONE)
		return;
	if (a->unpaired && (final & (a->other == 0 ? CF_SEEN0 : CF_SEEN1))) {
		a->kind = AR_NONE; /* the partner draws it, or there is none */
		return;
	}
	if (!(final & CF_FAILED) || a->partner)
		return;
	if (a->is_fin) {
		a->kind = AR_NONE; /* closing a connection that never was */
	} else if (a->is_connect) {
		char id[16]; /* the connection's, which its connect's text is */
		snprintf(id, sizeof(id), "%.*s", (int)strcspn(a->text, " "), a->text);
		a->kind = AR_FAIL;
		a->out = true;
		snprintf(a->text, sizeof(a->text), "%s%s%s", id, *id ? " " : "",
			 fail && *fail ? fail : "failed");
		sanitize_ascii(a->text);
	}
}

unsigned conn_final(const struct conn *c)
{
	return (c->side[0].seen ? CF_SEEN0 : 0) | (c->side[1].seen ? CF_SEEN1 : 0) |
	       (c->fail[0] ? CF_FAILED : 0);
}

bool ev_drawn(const struct vev *ev)
{
	const char *reason;

	if (ev->kind != TR_END)
		return true;
	reason = ev->reason;
	return !(reason && strcmp(reason, "exec") == 0);
}


int64_t idle_before(struct idle *g, int64_t gap, int64_t tend)
{
	int64_t pause = 0;

	if (g->any && tend > g->last)
		pause = sat_sub64(tend, g->last);
	if (!g->any || tend > g->last)
		g->last = tend;
	g->any = true;
	return gap > 0 && pause >= gap ? pause : 0;
}
