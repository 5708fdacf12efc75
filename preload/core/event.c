#include "event.h"

#include "sockaddr_fmt.h"

#include <sys/socket.h>

const char *st_via_name(enum st_via via)
{
	switch (via) {
	case ST_VIA_SYSCALL: return "syscall";
	case ST_VIA_STDIO: return "stdio";
	case ST_VIA_NONE: break;
	}
	return NULL;
}

/* One-byte tags: every head field has an id below 16. */
#define TAG1(f, wt) ((uint8_t)((f) << 3 | (wt)))
_Static_assert(ST_F_errno < 16 && ST_F_ts < 16, "head fields take one-byte tags");

/* The head every call pays for: one bounds check, then straight stores. */
void st_ev_begin(struct rb *b, uint8_t *buf, size_t cap, const struct st_ev_head *h)
{
	/* Kind, seven tagged varints, via. */
	enum { HEAD_MAX = 1 + 8 * 11 + 2 + 1 + 8 + 2 + 1 + 33 };
	uint8_t *p = buf;

	rb_init(b, buf, cap);
	if (cap < HEAD_MAX) {
		b->overflow = true;
		return;
	}
	*p++ = ST_K_CALL;
	*p++ = TAG1(ST_F_ts, ST_W_SINT);
	p = st_put_varint(p, st_zigzag((int64_t)(h->ts - (uint64_t)h->base)));
	*p++ = TAG1(ST_F_dur, ST_W_UINT);
	p = st_put_varint(p, h->dur);
	*p++ = TAG1(ST_F_pid, ST_W_SINT);
	p = st_put_varint(p, st_zigzag(h->pid));
	*p++ = TAG1(ST_F_tid, ST_W_SINT);
	p = st_put_varint(p, st_zigzag(h->tid));
	*p++ = TAG1(ST_F_fn, ST_W_UINT);
	p = st_put_varint(p, h->fn);
	if (__builtin_expect(h->via != 0, 0)) {
		const char *via = st_via_name(h->via);
		size_t n = strlen(via);
		p = st_put_varint(p, ST_F_via << 3 | ST_W_NAME);
		*p++ = (uint8_t)n;
		memcpy(p, via, n);
		p += n;
	}
	if (h->fd >= 0) {
		*p++ = TAG1(ST_F_fd, ST_W_SINT);
		p = st_put_varint(p, st_zigzag(h->fd));
	}
	*p++ = TAG1(ST_F_ret, ST_W_SINT);
	p = st_put_varint(p, st_zigzag(h->ret));
	b->p = p;
	if (h->err_name)
		rb_cname(b, ST_F_errno, h->err_name);
	else if (h->err)
		rb_i64(b, ST_F_errno, h->err);
}

void st_ev_addrs(struct rb *b, const struct st_fdsnap *snap)
{
	if (snap->local_len)
		rb_name(b, ST_F_local, snap->local, snap->local_len);
	if (snap->peer_len)
		rb_name(b, ST_F_peer, snap->peer, snap->peer_len);
}

void st_ev_sockaddr(struct rb *b, enum st_field f, const void *sa, unsigned len)
{
	char text[ST_ADDR_MAX];
	size_t n = st_sockaddr_json(text, sizeof(text), sa, (socklen_t)len);

	if (n)
		rb_name(b, f, text, n);
}

void st_ev_payload(struct rb *b, const void *data, size_t n, size_t total, size_t max)
{
	/* Keep room to close the record with its addresses. */
	size_t room = (size_t)(b->end - b->p);
	size_t fit = room > 2 * ST_ADDR_MAX + 64 ? room - 2 * ST_ADDR_MAX - 64 : 0;
	size_t take = n < max ? n : max;

	if (take > fit)
		take = fit;
	if (!data || take == 0)
		return;
	rb_bytes(b, ST_F_data, data, take);
	if (take < total)
		rb_u64(b, ST_F_data_cut, total - take);
}

size_t st_ev_end(struct rb *b, uint8_t *buf, size_t cap, const struct st_ev_head *h)
{
	if (!b->overflow)
		return (size_t)(b->p - buf);
	st_ev_begin(b, buf, cap, h);
	rb_bool(b, ST_F_cut, true);
	return b->overflow ? 0 : (size_t)(b->p - buf);
}
