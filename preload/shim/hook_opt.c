/* Socket options and names: traced for what they reveal (SO_ERROR after a
 * non-blocking connect says how it ended). */
#include "call.h"
#include "hooks.h"
#include "names.h"
#include "real.h"

#include <netinet/in.h>
#include <sys/time.h>

static void rec_level_name(struct st_rec *r, int level, int name)
{
	const char *lv = st_sol_name(level);
	const char *opt = st_sockopt_name(level, name);

	rb_name_or_i64(&r->b, ST_F_level, lv, level);
	rb_name_or_i64(&r->b, ST_F_opt, opt, name);
}

/* The option's value, for the shapes that have an obvious reading. */
static void rec_value(struct st_rec *r, int level, int name, const void *val,
		      socklen_t len)
{
	if (!val)
		return;
	if (level == SOL_SOCKET && name == SO_ERROR && len >= (socklen_t)sizeof(int)) {
		int e = *(const int *)val;
		const char *en = st_errno_name(e);
		rb_name_or_i64(&r->b, ST_F_value, e == 0 ? NULL : en, e);
	} else if (level == SOL_SOCKET && name == SO_LINGER &&
		   len >= (socklen_t)sizeof(struct linger)) {
		const struct linger *l = val;
		rb_obj(&r->b, ST_F_value);
		rb_i64(&r->b, ST_F_onoff, l->l_onoff);
		rb_i64(&r->b, ST_F_linger, l->l_linger);
		rb_end(&r->b);
	} else if (level == SOL_SOCKET && (name == SO_RCVTIMEO || name == SO_SNDTIMEO) &&
		   len >= (socklen_t)sizeof(struct timeval)) {
		const struct timeval *tv = val;
		rb_i64(&r->b, ST_F_value_us, (int64_t)tv->tv_sec * 1000000 + tv->tv_usec);
	} else if (len == (socklen_t)sizeof(int)) {
		rb_i64(&r->b, ST_F_value, *(const int *)val);
	} else {
		rb_u64(&r->b, ST_F_optlen, len);
	}
}

int st_getsockopt(int fd, int level, int name, void *val, socklen_t *len, enum st_via via)
{
	uint64_t t0, t1;
	int ret, err;
	struct st_fault f;
	struct st_rec r;

	if (!st_enter_call(st_fault_may(ST_FN_getsockopt)))
		return real_getsockopt(fd, level, name, val, len);
	st_fd_is_socket(fd);
	t0 = st_time_start();
	ST_CALL_OR_FAULT(f, ST_FN_getsockopt, fd, NULL, 0, false, 0, t0, ret, err,
			 real_getsockopt(fd, level, name, val, len));
	t1 = st_time_end();
	if (!st_tracing_on())
		goto out;
	st_rec_begin(&r, ST_FN_getsockopt, fd, t0, t1, ret, err, via);
	rec_level_name(&r, level, name);
	if (ret == 0 && len)
		rec_value(&r, level, name, val, *len);
	st_rec_fault(&r, &f);
	st_rec_emit(&r, fd);
out:
	errno = err;
	return ret;
}

ST_EXPORT int getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	return st_getsockopt(fd, level, name, val, len, ST_VIA_NONE);
}

int st_setsockopt(int fd, int level, int name, const void *val, socklen_t len, enum st_via via)
{
	uint64_t t0, t1;
	int ret, err;
	struct st_fault f;
	struct st_rec r;

	if (!st_enter_call(st_fault_may(ST_FN_setsockopt)))
		return real_setsockopt(fd, level, name, val, len);
	st_fd_is_socket(fd);
	t0 = st_time_start();
	ST_CALL_OR_FAULT(f, ST_FN_setsockopt, fd, NULL, 0, false, 0, t0, ret, err,
			 real_setsockopt(fd, level, name, val, len));
	t1 = st_time_end();
	if (!st_tracing_on())
		goto out;
	st_rec_begin(&r, ST_FN_setsockopt, fd, t0, t1, ret, err, via);
	rec_level_name(&r, level, name);
	rec_value(&r, level, name, val, len);
	st_rec_fault(&r, &f);
	st_rec_emit(&r, fd);
out:
	errno = err;
	return ret;
}

ST_EXPORT int setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	return st_setsockopt(fd, level, name, val, len, ST_VIA_NONE);
}

int st_getname(enum st_fn fn, int fd, struct sockaddr *addr, socklen_t *len, enum st_via via)
{
	uint64_t t0, t1;
	int ret, err;
	socklen_t given = len ? *len : 0;
	struct st_fault f;
	struct st_rec r;

#define CALL_REAL() (fn == ST_FN_getsockname ? real_getsockname(fd, addr, len) \
					     : real_getpeername(fd, addr, len))
	if (!st_enter_call(st_fault_may(fn)))
		return CALL_REAL();
	st_fd_is_socket(fd);
	t0 = st_time_start();
	ST_CALL_OR_FAULT(f, fn, fd, NULL, 0, false, 0, t0, ret, err, CALL_REAL());
	t1 = st_time_end();
#undef CALL_REAL
	if (!st_tracing_on())
		goto out;
	st_rec_begin(&r, fn, fd, t0, t1, ret, err, via);
	if (ret == 0 && len && addr)
		st_ev_sockaddr(&r.b, ST_F_addr, addr, *len < given ? *len : given);
	st_rec_fault(&r, &f);
	st_rec_emit(&r, fd);
out:
	errno = err;
	return ret;
}

ST_EXPORT int getsockname(int fd, __SOCKADDR_ARG addr, socklen_t *len)
{
	return st_getname(ST_FN_getsockname, fd, ST_SA(addr), len, ST_VIA_NONE);
}

ST_EXPORT int getpeername(int fd, __SOCKADDR_ARG addr, socklen_t *len)
{
	return st_getname(ST_FN_getpeername, fd, ST_SA(addr), len, ST_VIA_NONE);
}
