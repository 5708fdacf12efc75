#include "read/vev.h"

#include "read/trace_fields.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Slot s of the record, whichever way the reader decoded it. */
static struct js_val field(const struct tr_record *rec, enum tf_slot s)
{
	return rec->fields ? rec->fields->v[s] : tf_json_val(rec->j, s);
}

static const char *get_str(const struct tr_record *rec, enum tf_slot s)
{
	struct js_val v = field(rec, s);

	return v.type == JS_STR ? v.s : NULL;
}

static int64_t get_i64(const struct tr_record *rec, enum tf_slot s, int64_t dflt)
{
	struct js_val v = field(rec, s);

	return v.type == JS_INT ? v.i : dflt;
}

/* A descriptor number that can index the model's tables. */
static bool fd_value(struct js_val v, int *fd)
{
	if (v.type != JS_INT || v.i < 0 || v.i > (1 << 30))
		return false;
	*fd = (int)v.i;
	return true;
}

/* dir: the record's "dir", which says which way a two-way call
 * (ST_DATA_BOTH: splice) went; without it such a call moves nothing the
 * model could place. */
static enum vev_op op_of(enum st_fn call, const char *dir)
{
	const struct st_call_info *ci;

	if (call >= ST_FN_COUNT)
		return OP_OTHER;
	ci = st_call_info(call);
	if (ci->data == ST_DATA_BOTH) {
		if (dir && strcmp(dir, "out") == 0)
			return OP_SEND;
		if (dir && strcmp(dir, "in") == 0)
			return OP_RECV;
		return OP_OTHER;
	}
	if (ci->data == ST_DATA_OUT)
		return OP_SEND;
	if (ci->data == ST_DATA_IN)
		return OP_RECV;
	switch (ci->base) {
	case ST_FN_socket:
		return OP_SOCKET;
	case ST_FN_socketpair:
		return OP_SOCKETPAIR;
	case ST_FN_bind:
		return OP_BIND;
	case ST_FN_listen:
		return OP_LISTEN;
	case ST_FN_accept:
		return OP_ACCEPT;
	case ST_FN_connect:
		return OP_CONNECT;
	case ST_FN_shutdown:
		return OP_SHUTDOWN;
	case ST_FN_close:
		return OP_CLOSE;
	default:
		break;
	}
	if (ci->groups & ST_G_FD)
		return OP_DUP;
	if (ci->groups & ST_G_OPT)
		return OP_OPT;
	if (ci->groups & ST_G_DNS)
		return OP_DNS;
	return OP_OTHER;
}

/* st_call_by_name searches the call table in order; a trace repeats a
 * handful of names millions of times, so remember them. */
static enum st_fn call_of(const char *fn)
{
	static struct {
		char name[32];
		enum st_fn call;
	} memo[16];
	size_t len = fn ? strlen(fn) : 0;
	unsigned h;

	if (len == 0 || len >= sizeof(memo[0].name))
		return st_call_by_name(fn ? fn : "");
	h = ((unsigned)len * 7u + (unsigned char)fn[0] + (unsigned char)fn[len - 1]) % 16u;
	if (strcmp(memo[h].name, fn) != 0) {
		memcpy(memo[h].name, fn, len + 1);
		memo[h].call = st_call_by_name(fn);
	}
	return memo[h].call;
}

/* Whether flags ("A|B|0x40") holds the name flag. */
static bool has_flag(const char *flags, const char *flag)
{
	size_t n = strlen(flag);

	for (const char *p = flags; p && *p;) {
		const char *bar = strchr(p, '|');
		size_t len = bar ? (size_t)(bar - p) : strlen(p);
		if (len == n && memcmp(p, flag, n) == 0)
			return true;
		p = bar ? bar + 1 : NULL;
	}
	return false;
}

bool vev_errno_pending(const char *err)
{
	return err && (strcmp(err, "EINPROGRESS") == 0 || strcmp(err, "EALREADY") == 0 ||
		       strcmp(err, "EAGAIN") == 0 || strcmp(err, "EWOULDBLOCK") == 0);
}

void evnode_unref(struct evnode *n)
{
	if (n && --n->refs == 0)
		free(n);
}

/* The fields of a call record beyond the common ones. */
static void decode_call(struct vev *ev, const struct tr_record *rec)
{
	struct js_val x;

	ev->fn = get_str(rec, TF_FN);
	ev->call = call_of(ev->fn);
	ev->op = op_of(ev->call, get_str(rec, TF_DIR));
	x = field(rec, TF_FD);
	if (x.type == JS_INT && x.i >= 0 && x.i < (1 << 30))
		ev->fd = (int)x.i;
	ev->ret = get_i64(rec, TF_RET, 0);
	x = field(rec, TF_ERRNO);
	ev->err = x.type == JS_STR ? x.s : x.type == JS_INT ? "errno" : NULL;
	/* "errno": a number the writer had no name for. */
	ev->pending = vev_errno_pending(ev->err);
	x = field(rec, TF_FAULT);
	if (x.type != JS_ABSENT && x.type != JS_NULL) {
		ev->fault = true;
		ev->fault_rule = get_str(rec, TF_FAULT_RULE);
		ev->fault_action = get_str(rec, TF_FAULT_ACTION);
		ev->fault_made = field(rec, TF_FAULT_MADE).type == JS_TRUE;
	}
	ev->local = get_str(rec, TF_LOCAL);
	ev->peer = get_str(rec, TF_PEER);
	ev->addr = get_str(rec, TF_ADDR);
	ev->bytes = get_i64(rec, TF_BYTES, -1);
	x = field(rec, TF_DATA);
	if (x.type == JS_STR) {
		ev->data = x.s;
		ev->data_len = x.len;
	}
	ev->data_cut = get_i64(rec, TF_DATA_CUT, 0);
	ev->peek = ev->op == OP_RECV && has_flag(get_str(rec, TF_FLAGS), "MSG_PEEK");
	ev->family = get_str(rec, TF_FAMILY);
	ev->opt_num = get_i64(rec, TF_OPT, -1);
	x = field(rec, TF_VALUE);
	ev->has_value_num = x.type == JS_INT;
	ev->value_num = x.type == JS_INT ? x.i : 0;
	ev->value_other = x.type != JS_ABSENT && x.type != JS_INT && x.type != JS_STR;
	ev->value_us = get_i64(rec, TF_VALUE_US, -1);
	ev->backlog = get_i64(rec, TF_BACKLOG, -1);
	ev->vlen = get_i64(rec, TF_VLEN, -1);
	ev->newfd = get_i64(rec, TF_NEWFD, -1);
	ev->cmd = get_str(rec, TF_CMD);
	ev->host = get_str(rec, TF_HOST);
	ev->service = get_str(rec, TF_SERVICE);
	x = field(rec, TF_ADDRS);
	ev->naddrs = x.type == JS_ARR ? x.len : 0;
	ev->addr0 = get_str(rec, TF_ADDRS0);
	ev->ino = get_i64(rec, TF_INO, 0);
	ev->peer_ino = get_i64(rec, TF_PEER_INO, 0);
	x = field(rec, TF_PEER_PID);
	if (x.type == JS_INT && x.i > 0 && x.i < INT32_MAX)
		ev->peer_pid = (int)x.i;
	ev->how = get_str(rec, TF_HOW);
	ev->type = get_str(rec, TF_TYPE);
	ev->opt = get_str(rec, TF_OPT);
	ev->value = get_str(rec, TF_VALUE);
	x = field(rec, TF_FDS);
	ev->has_fds = x.type == JS_ARR && x.len == 2 &&
		      fd_value(field(rec, TF_FDS0), &ev->fds[0]) &&
		      fd_value(field(rec, TF_FDS1), &ev->fds[1]);
}

json_t *vev_json(const struct vev *ev)
{
	if (ev->j)
		return ev->j;
	return ev->rec ? tr_record_json(ev->rec) : NULL;
}

void vev_decode(struct vev *ev, struct tr_record *rec, uint64_t in, int64_t base)
{
	memset(ev, 0, sizeof(*ev));
	ev->j = rec->j;
	ev->rec = rec;
	ev->file = rec->file;
	ev->line = rec->line;
	ev->in = in;
	ev->kind = rec->kind;
	ev->dur = rec->dur;
	ev->tend = sat_sub64(rec->key, base);
	ev->t = sat_sub64(ev->tend, rec->dur);
	ev->pid = (int)get_i64(rec, TF_PID, rec->file->pid);
	ev->tid = (int)get_i64(rec, TF_TID, ev->pid);
	ev->side = -1;
	ev->off = -1;
	ev->fd = -1;
	ev->bytes = -1;
	ev->call = ST_FN_COUNT;
	switch (rec->kind) {
	case TR_EXEC:
		ev->fn = "exec";
		ev->path = get_str(rec, TF_PATH);
		ev->err = get_str(rec, TF_ERRNO);
		break;
	case TR_END:
		ev->fn = "end";
		ev->reason = get_str(rec, TF_REASON);
		break;
	case TR_WARNING:
		ev->fn = "warning";
		ev->warning = get_str(rec, TF_KIND);
		if (!ev->warning)
			ev->warning = "?";
		ev->message = get_str(rec, TF_MESSAGE);
		ev->how = get_str(rec, TF_HOW);
		break;
	case TR_CTL:
		ev->fn = "ctl";
		ev->how = get_str(rec, TF_OP);
		ev->message = get_str(rec, TF_MESSAGE);
		break;
	case TR_CALL:
		decode_call(ev, rec);
		break;
	}
}

size_t vev_data_bytes(const struct vev *ev, unsigned char *out, size_t cap)
{
	const unsigned char *s = (const unsigned char *)ev->data;
	size_t n = 0;

	for (size_t i = 0; s && i < ev->data_len && n < cap; i++) {
		unsigned c = s[i];
		/* U+0080..U+00FF arrive as two UTF-8 bytes: C2/C3 xx. */
		if ((c == 0xc2 || c == 0xc3) && i + 1 < ev->data_len) {
			c = ((c & 0x03) << 6) | (s[i + 1] & 0x3f);
			i++;
		}
		out[n++] = (unsigned char)c;
	}
	return n;
}

struct evref vev_ref(const struct vev *ev)
{
	struct evref r = { ev->seq, ev->pid, ev->tid, ev->t, ev->dur };

	return r;
}

static bool same_str(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

bool vev_same_fields(const struct vev *a, const struct vev *b, char *why, size_t cap)
{
	const char *bad = NULL;

#define SAME_NUM(f) else if (a->f != b->f) bad = #f
#define SAME_STR(f) else if (!same_str(a->f, b->f)) bad = #f
	if (a->file->index != b->file->index || a->line != b->line)
		bad = "file:line";
	SAME_NUM(in); SAME_NUM(kind); SAME_NUM(t); SAME_NUM(dur); SAME_NUM(tend);
	SAME_NUM(pid); SAME_NUM(tid); SAME_NUM(call); SAME_NUM(op); SAME_NUM(fd);
	SAME_NUM(ret); SAME_NUM(fault); SAME_NUM(fault_made); SAME_NUM(bytes);
	SAME_NUM(data_len); SAME_NUM(data_cut); SAME_NUM(has_fds); SAME_NUM(pending);
	SAME_NUM(peek); SAME_NUM(peer_pid); SAME_NUM(ino); SAME_NUM(peer_ino); SAME_NUM(opt_num);
	SAME_NUM(has_value_num); SAME_NUM(value_num); SAME_NUM(value_other); SAME_NUM(value_us);
	SAME_NUM(backlog); SAME_NUM(vlen); SAME_NUM(newfd); SAME_NUM(naddrs);
	SAME_STR(fn); SAME_STR(err); SAME_STR(fault_rule); SAME_STR(fault_action);
	SAME_STR(local); SAME_STR(peer); SAME_STR(addr); SAME_STR(how); SAME_STR(warning);
	SAME_STR(message); SAME_STR(type); SAME_STR(family); SAME_STR(path); SAME_STR(cmd);
	SAME_STR(host); SAME_STR(service); SAME_STR(addr0); SAME_STR(opt); SAME_STR(value); SAME_STR(reason);
	else if ((a->data == NULL) != (b->data == NULL) ||
		 (a->data && memcmp(a->data, b->data, a->data_len) != 0))
		bad = "data";
	else if (a->has_fds && (a->fds[0] != b->fds[0] || a->fds[1] != b->fds[1]))
		bad = "fds";
#undef SAME_NUM
#undef SAME_STR
	if (bad && why)
		snprintf(why, cap, "%s", bad);
	return bad == NULL;
}
