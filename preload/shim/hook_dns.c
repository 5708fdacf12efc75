/* Name resolution. glibc resolves through private symbols we cannot
 * interpose, so the public entry point is traced instead: what was asked,
 * what came back. Sockets that NSS modules open are traced as they
 * happen, nested inside the getaddrinfo event's time span. */
#include "call.h"
#include "names.h"
#include "real.h"

#define ADDRS_MAX 16

static void rec_results(struct st_rec *r, const struct addrinfo *res)
{
	char seen[ADDRS_MAX][ST_ADDR_MAX];
	size_t nseen = 0;

	rb_arr(&r->b, ST_F_addrs);
	/* One entry per address: getaddrinfo repeats each one for every
	 * socket type asked for. */
	for (; res && nseen < ADDRS_MAX; res = res->ai_next) {
		char text[ST_ADDR_MAX];
		size_t n = st_sockaddr_json(text, sizeof(text), res->ai_addr, res->ai_addrlen);
		bool dup = false;

		for (size_t i = 0; i < nseen && !dup; i++)
			dup = strcmp(seen[i], text) == 0;
		if (dup || n == 0)
			continue;
		memcpy(seen[nseen++], text, n + 1);
		rb_name(&r->b, ST_F_NONE, text, n);
	}
	rb_end(&r->b);
}

static void rec_hints(struct st_rec *r, const struct addrinfo *hints)
{
	char text[128];
	const char *family;

	if (!hints)
		return;
	family = st_family_name(hints->ai_family);
	if (hints->ai_family != AF_UNSPEC && family)
		rb_cname(&r->b, ST_F_family, family);
	if (hints->ai_socktype) {
		st_socktype_str(text, sizeof(text), hints->ai_socktype);
		rb_cname(&r->b, ST_F_type, text);
	}
	if (hints->ai_flags) {
		st_aiflags_str(text, sizeof(text), hints->ai_flags);
		rb_cname(&r->b, ST_F_flags, text);
	}
}

static int st_getaddrinfo(const char *node, const char *service,
			  const struct addrinfo *hints, struct addrinfo **res)
{
	uint64_t t0, t1;
	int ret, err;
	struct st_fault f;
	struct st_rec r;

	if (!st_enter_call(st_fault_may(ST_FN_getaddrinfo) || st_faults_use_host()))
		return real_getaddrinfo(node, service, hints, res);
	t0 = st_time_start();
	f.rule = NULL;
	if (st_fault_may(ST_FN_getaddrinfo) &&
	    st_fault_begin(&f, ST_FN_getaddrinfo, -1, NULL, 0, false, node ? node : "", 0, t0)) {
		ret = (int)f.ret;
		err = errno;
	} else {
		ret = real_getaddrinfo(node, service, hints, res);
		err = errno;
	}
	t1 = st_time_end();
	if (ret == 0 && res && st_faults_use_host())
		st_fault_note_resolved(node, *res);
	if (!st_tracing_on())
		goto out;
	st_rec_begin_named(&r, ST_FN_getaddrinfo, -1, t0, t1, ret,
			   ret != 0 ? st_eai_name(ret) : NULL);
	if (ret == EAI_SYSTEM && st_errno_name(err))
		rb_cname(&r.b, ST_F_sys_errno, st_errno_name(err));
	if (node)
		rb_ctext(&r.b, ST_F_host, node);
	if (service)
		rb_ctext(&r.b, ST_F_service, service);
	rec_hints(&r, hints);
	if (ret == 0 && res)
		rec_results(&r, *res);
	st_rec_fault(&r, &f);
	st_rec_emit(&r, -1);
out:
	errno = err;
	return ret;
}

ST_EXPORT int getaddrinfo(const char *node, const char *service,
			  const struct addrinfo *hints, struct addrinfo **res)
{
	return st_getaddrinfo(node, service, hints, res);
}
