#include "sockaddr_fmt.h"

#include "jsonw.h"

#include <arpa/inet.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/un.h>

static size_t put_str(char *dst, size_t cap, size_t o, const char *s)
{
	while (*s && o + 1 < cap)
		dst[o++] = *s++;
	return o;
}

static size_t put_uint(char *dst, size_t cap, size_t o, unsigned v)
{
	char tmp[12];
	size_t n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n && o + 1 < cap)
		dst[o++] = tmp[--n];
	return o;
}

/* Dotted quad by hand: inet_ntop is several times slower and this runs
 * for every accept and connect. */
static size_t put_ipv4(char *dst, size_t cap, size_t o, const struct in_addr *a)
{
	const unsigned char *b = (const unsigned char *)&a->s_addr;

	for (int i = 0; i < 4; i++) {
		if (i)
			o = put_str(dst, cap, o, ".");
		o = put_uint(dst, cap, o, b[i]);
	}
	return o;
}

static size_t fmt_unix(char *dst, size_t cap, const struct sockaddr_un *un,
		       socklen_t len)
{
	size_t o = put_str(dst, cap, 0, "unix:");
	size_t plen;
	const char *path = un->sun_path;
	const size_t max_path = sizeof(un->sun_path);

	if (len <= offsetof(struct sockaddr_un, sun_path))
		goto done;
	plen = len - offsetof(struct sockaddr_un, sun_path);
	if (plen > max_path)
		plen = max_path;
	if (path[0] == '\0') {
		/* Abstract names are not NUL-terminated: len says where they end. */
		o = put_str(dst, cap, o, "@");
		path++;
		plen--;
	} else {
		plen = strnlen(path, plen);
	}
	if (cap > o + 4) {
		size_t consumed;
		size_t n = json_escape_text(dst + o, cap - o - 1, path, plen, &consumed);
		/* Only a name that does not fit loses its end, to "...". */
		if (consumed < plen)
			n = json_escape_text(dst + o, cap - o - 4, path, plen, &consumed);
		o += n;
		if (consumed < plen)
			o = put_str(dst, cap, o, "...");
	}
done:
	if (cap)
		dst[o < cap ? o : cap - 1] = '\0';
	return o;
}

size_t st_sockaddr_json(char *dst, size_t cap, const struct sockaddr *sa,
			socklen_t len)
{
	size_t o = 0;

	if (cap == 0)
		return 0;
	dst[0] = '\0';
	if (!sa || len < (socklen_t)sizeof(sa_family_t))
		return 0;

	switch (sa->sa_family) {
	case AF_INET: {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		if (len < (socklen_t)sizeof(*in))
			break;
		o = put_ipv4(dst, cap, 0, &in->sin_addr);
		o = put_str(dst, cap, o, ":");
		o = put_uint(dst, cap, o, ntohs(in->sin_port));
		break;
	}
	case AF_INET6: {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
		char text[INET6_ADDRSTRLEN];
		if (len < (socklen_t)sizeof(*in6))
			break;
		if (!inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof(text)))
			break;
		o = put_str(dst, cap, 0, "[");
		o = put_str(dst, cap, o, text);
		if (in6->sin6_scope_id) {
			o = put_str(dst, cap, o, "%");
			o = put_uint(dst, cap, o, in6->sin6_scope_id);
		}
		o = put_str(dst, cap, o, "]:");
		o = put_uint(dst, cap, o, ntohs(in6->sin6_port));
		break;
	}
	case AF_UNIX:
		return fmt_unix(dst, cap, (const struct sockaddr_un *)sa, len);
	case AF_NETLINK: {
		const struct sockaddr_nl *nl = (const struct sockaddr_nl *)sa;
		if (len < (socklen_t)sizeof(*nl))
			break;
		o = put_str(dst, cap, 0, "netlink:");
		o = put_uint(dst, cap, o, nl->nl_pid);
		break;
	}
	case AF_UNSPEC:
		o = put_str(dst, cap, 0, "unspec");
		break;
	default:
		o = put_str(dst, cap, 0, "af:");
		o = put_uint(dst, cap, o, sa->sa_family);
		break;
	}
	dst[o] = '\0';
	return o;
}

int st_sockaddr_port(const struct sockaddr *sa, socklen_t len)
{
	if (!sa || len < (socklen_t)sizeof(sa_family_t))
		return -1;
	if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in))
		return ntohs(((const struct sockaddr_in *)sa)->sin_port);
	if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6))
		return ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	return -1;
}
