#include "event.h"

#include "names.h"
#include "sockaddr_fmt.h"

#include <stdatomic.h>
#include <sys/socket.h>

/* Copies a string literal; the compiler turns it into a few moves. */
#define PUT_LIT(p, lit) (memcpy((p), (lit), sizeof(lit) - 1), (p) + sizeof(lit) - 1)

const char *st_via_name(enum st_via via)
{
	switch (via) {
	case ST_VIA_SYSCALL: return "syscall";
	case ST_VIA_STDIO: return "stdio";
	case ST_VIA_NONE: break;
	}
	return NULL;
}

/* The same head through the bounds-checked writer, for small buffers. */
static void ev_begin_checked(struct jw *w, const struct st_ev_head *h, const char *err_name)
{
	jw_obj_begin(w);
	jw_kv_name(w, "rec", "call");
	jw_kv_u64(w, "ts", h->ts);
	jw_kv_u64(w, "dur", h->dur);
	jw_kv_i64(w, "pid", h->pid);
	jw_kv_i64(w, "tid", h->tid);
	jw_kv_name(w, "fn", h->fn);
	if (h->via)
		jw_kv_name(w, "via", st_via_name(h->via));
	if (h->fd >= 0)
		jw_kv_i64(w, "fd", h->fd);
	jw_kv_i64(w, "ret", h->ret);
	if (err_name)
		jw_kv_name(w, "errno", err_name);
	else if (h->err)
		jw_kv_i64(w, "errno", h->err);
}

/* ,"pid":P,"tid":T of the calling thread, formatted once: they are the
 * same in every record a thread writes. A signal handler that rebuilds it
 * while the thread was copying it writes the very same bytes. */
static __thread __attribute__((tls_model("initial-exec"))) struct {
	int pid, tid;
	uint8_t len;
	char text[48];
} ids;

static char *put_ids(char *p, int pid, int tid)
{
	if (ids.pid != pid || ids.tid != tid || !ids.len) {
		char *q = ids.text;
		/* len is 0 while the rest changes, so a signal handler that
		 * comes in between builds its own. */
		ids.len = 0;
		atomic_signal_fence(memory_order_seq_cst);
		q = PUT_LIT(q, ",\"pid\":");
		q = jw_put_i64(q, pid);
		q = PUT_LIT(q, ",\"tid\":");
		q = jw_put_i64(q, tid);
		ids.pid = pid;
		ids.tid = tid;
		atomic_signal_fence(memory_order_seq_cst);
		ids.len = (uint8_t)(q - ids.text);
	}
	/* The whole array, a fixed size the compiler copies in a few moves:
	 * st_ev_begin has checked the room, and what lies past len is
	 * written over next. */
	memcpy(p, ids.text, sizeof(ids.text));
	return p + ids.len;
}

/* A timestamp: the digits above the last eight change every tenth of a
 * second, so each thread keeps them formatted (in the same way as ids). */
static __thread __attribute__((tls_model("initial-exec"))) struct {
	uint64_t high;
	uint8_t len;
	char text[12];
} ts_high;

static char *put_ts(char *p, uint64_t ts)
{
	const uint64_t e8 = 100000000u;
	uint64_t high = ts / e8;

	if (high == 0 || high >= e8)
		return jw_put_u64(p, ts);
	if (ts_high.high != high || !ts_high.len) {
		ts_high.len = 0;
		atomic_signal_fence(memory_order_seq_cst);
		uint8_t len = (uint8_t)(jw_put_u64(ts_high.text, high) - ts_high.text);
		ts_high.high = high;
		atomic_signal_fence(memory_order_seq_cst);
		ts_high.len = len;
	}
	memcpy(p, ts_high.text, sizeof(ts_high.text)); /* as in put_ids */
	return jw_put_8digits(p + ts_high.len, (uint32_t)(ts % e8));
}

/* The common head of every event, written with one bounds check: it is
 * the part every call pays for. */
void st_ev_begin(struct jw *w, char *buf, size_t cap, const struct st_ev_head *h)
{
	/* Seven numbers of at most 21 bytes, the keys, a call name and an
	 * errno name of at most 32 bytes each, and ,"via":"syscall". */
	enum { HEAD_MAX = 7 * 21 + 96 + 2 * 32 + 24 };
	size_t fn_len = h->fn_len ? h->fn_len : strlen(h->fn);
	const char *err_name = h->err_name;
	size_t err_len = 0;
	char *p = buf;

	jw_init(w, buf, cap);
	if (!err_name && h->err)
		err_name = st_errno_name(h->err);
	if (err_name)
		err_len = strlen(err_name);
	if (cap < HEAD_MAX || fn_len > 32 || err_len > 32) {
		ev_begin_checked(w, h, err_name);
		return;
	}
	p = PUT_LIT(p, "{\"rec\":\"call\",\"ts\":");
	p = put_ts(p, h->ts);
	p = PUT_LIT(p, ",\"dur\":");
	p = jw_put_u64(p, h->dur);
	p = put_ids(p, h->pid, h->tid);
	p = PUT_LIT(p, ",\"fn\":\"");
	memcpy(p, h->fn, fn_len);
	p += fn_len;
	*p++ = '"';
	if (__builtin_expect(h->via != 0, 0)) {
		const char *via = st_via_name(h->via);
		size_t via_len = strlen(via);
		p = PUT_LIT(p, ",\"via\":\"");
		memcpy(p, via, via_len);
		p += via_len;
		*p++ = '"';
	}
	if (h->fd >= 0) {
		p = PUT_LIT(p, ",\"fd\":");
		p = jw_put_i64(p, h->fd);
	}
	p = PUT_LIT(p, ",\"ret\":");
	p = jw_put_i64(p, h->ret);
	if (err_name) {
		p = PUT_LIT(p, ",\"errno\":\"");
		memcpy(p, err_name, err_len);
		p += err_len;
		*p++ = '"';
	} else if (h->err) {
		p = PUT_LIT(p, ",\"errno\":");
		p = jw_put_i64(p, h->err);
	}
	w->p = p;
	w->need_comma = true;
}

void st_ev_addrs(struct jw *w, const struct st_fdsnap *snap)
{
	/* ,"local":"…" and ,"peer":"…" exactly: a record that just fits must
	 * not be cut. */
	size_t need = (snap->local_len ? snap->local_len + sizeof(",\"local\":\"\"") - 1 : 0) +
		      (snap->peer_len ? snap->peer_len + sizeof(",\"peer\":\"\"") - 1 : 0);
	char *p = w->p;

	if ((size_t)(w->end - p) < need) {
		w->overflow = true;
		return;
	}
	if (snap->local_len) {
		p = PUT_LIT(p, ",\"local\":\"");
		memcpy(p, snap->local, snap->local_len);
		p += snap->local_len;
		*p++ = '"';
	}
	if (snap->peer_len) {
		p = PUT_LIT(p, ",\"peer\":\"");
		memcpy(p, snap->peer, snap->peer_len);
		p += snap->peer_len;
		*p++ = '"';
	}
	w->p = p;
}

void st_ev_sockaddr(struct jw *w, const char *key, const void *sa, unsigned len)
{
	char text[ST_ADDR_MAX];
	size_t n = st_sockaddr_json(text, sizeof(text), sa, (socklen_t)len);

	if (n) {
		jw_key(w, key);
		jw_str_trusted(w, text, n);
	}
}

void st_ev_payload(struct jw *w, const void *data, size_t n, size_t total,
		   size_t max)
{
	/* Worst case escaping is six bytes per byte; keep room to close the
	 * record with its addresses. */
	size_t room = (size_t)(w->end - w->p);
	size_t fit = room > 2 * ST_ADDR_MAX + 64 ? (room - 2 * ST_ADDR_MAX - 64) / 6 : 0;
	size_t take = n < max ? n : max;

	if (take > fit)
		take = fit;
	if (!data || take == 0)
		return;
	jw_key(w, "data");
	jw_bytes(w, data, take);
	if (take < total)
		jw_kv_u64(w, "data_cut", total - take);
}

size_t st_ev_end(struct jw *w, char *buf, size_t cap, const struct st_ev_head *h)
{
	jw_obj_end(w);
	jw_char(w, '\n');
	if (!w->overflow)
		return jw_len(w, buf);
	st_ev_begin(w, buf, cap, h);
	jw_key(w, "cut");
	jw_bool(w, true);
	jw_obj_end(w);
	jw_char(w, '\n');
	return w->overflow ? 0 : jw_len(w, buf);
}
