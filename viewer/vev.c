#include "vev.h"

#include <string.h>

static int64_t get_i64(json_t *o, const char *key, int64_t dflt)
{
	json_t *x = json_object_get(o, key);

	return json_is_integer(x) ? (int64_t)json_integer_value(x) : dflt;
}

static const char *get_str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static enum vev_op op_of(enum st_fn call)
{
	const struct st_call_info *ci;

	if (call >= ST_FN_COUNT)
		return OP_OTHER;
	ci = st_call_info(call);
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

void vev_decode(struct vev *ev, const struct tr_record *rec, uint64_t seq, int64_t base)
{
	json_t *j = rec->j, *x, *fault;

	memset(ev, 0, sizeof(*ev));
	ev->j = j;
	ev->file = rec->file;
	ev->line = rec->line;
	ev->seq = seq;
	ev->kind = rec->kind;
	ev->dur = rec->dur;
	ev->tend = sat_sub64(rec->key, base);
	ev->t = sat_sub64(ev->tend, rec->dur);
	ev->pid = (int)get_i64(j, "pid", rec->file->pid);
	ev->tid = (int)get_i64(j, "tid", ev->pid);
	ev->side = -1;
	ev->off = -1;
	ev->fd = -1;
	ev->bytes = -1;
	ev->call = ST_FN_COUNT;
	if (rec->kind == TR_EXEC) {
		ev->fn = "exec";
		ev->err = get_str(j, "errno");
		return;
	}
	if (rec->kind == TR_END) {
		ev->fn = "end";
		return;
	}
	if (rec->kind == TR_WARNING) {
		ev->fn = "warning";
		ev->warning = get_str(j, "kind");
		if (!ev->warning)
			ev->warning = "?";
		ev->message = get_str(j, "message");
		ev->how = get_str(j, "how");
		return;
	}
	if (rec->kind == TR_CTL) {
		ev->fn = "ctl";
		ev->how = get_str(j, "op");
		ev->message = get_str(j, "message");
		return;
	}
	ev->fn = get_str(j, "fn");
	ev->call = st_call_by_name(ev->fn);
	ev->op = op_of(ev->call);
	x = json_object_get(j, "fd");
	if (json_is_integer(x) && json_integer_value(x) >= 0 && json_integer_value(x) < (1 << 30))
		ev->fd = (int)json_integer_value(x);
	ev->ret = get_i64(j, "ret", 0);
	ev->err = get_str(j, "errno");
	if (!ev->err && json_is_integer(json_object_get(j, "errno")))
		ev->err = "errno"; /* a number the writer had no name for */
	fault = json_object_get(j, "fault");
	if (fault && !json_is_null(fault)) {
		ev->fault = true;
		ev->fault_rule = get_str(fault, "rule");
		ev->fault_action = get_str(fault, "action");
		ev->fault_made = json_is_true(json_object_get(fault, "made"));
	}
	ev->local = get_str(j, "local");
	ev->peer = get_str(j, "peer");
	ev->addr = get_str(j, "addr");
	ev->bytes = get_i64(j, "bytes", -1);
	x = json_object_get(j, "data");
	if (json_is_string(x)) {
		ev->data = json_string_value(x);
		ev->data_len = json_string_length(x);
	}
	ev->data_cut = get_i64(j, "data_cut", 0);
	ev->how = get_str(j, "how");
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
