#include "event.h"

#include "names.h"
#include "sockaddr_fmt.h"

#include <sys/socket.h>

void st_ev_begin(struct jw *w, char *buf, size_t cap, const struct st_ev_head *h)
{
	jw_init(w, buf, cap);
	jw_obj_begin(w);
	jw_kv_name(w, "rec", "call");
	jw_kv_u64(w, "ts", h->ts);
	jw_kv_u64(w, "dur", h->dur);
	jw_kv_i64(w, "pid", h->pid);
	jw_kv_i64(w, "tid", h->tid);
	jw_kv_name(w, "fn", h->fn);
	if (h->fd >= 0)
		jw_kv_i64(w, "fd", h->fd);
	jw_kv_i64(w, "ret", h->ret);
	if (h->err_name) {
		jw_kv_name(w, "errno", h->err_name);
	} else if (h->err) {
		const char *name = st_errno_name(h->err);
		jw_key(w, "errno");
		if (name)
			jw_str_trusted(w, name, strlen(name));
		else
			jw_i64(w, h->err);
	}
}

void st_ev_addrs(struct jw *w, const struct st_fdsnap *snap)
{
	if (snap->local_len) {
		jw_key(w, "local");
		jw_str_trusted(w, snap->local, snap->local_len);
	}
	if (snap->peer_len) {
		jw_key(w, "peer");
		jw_str_trusted(w, snap->peer, snap->peer_len);
	}
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
