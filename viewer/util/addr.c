#include "util/addr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void addr_norm(const char *a, char *out, size_t cap)
{
	static const char mapped[] = "[::ffff:";
	size_t ml = sizeof(mapped) - 1;

	if (!a)
		a = "";
	if (strncmp(a, mapped, ml) == 0) {
		const char *close = strchr(a + ml, ']');
		/* Only the dotted form: [::ffff:1.2.3.4]. */
		if (close && close[1] == ':' && memchr(a + ml, '.', (size_t)(close - a - ml)) &&
		    !memchr(a + ml, ':', (size_t)(close - a - ml))) {
			snprintf(out, cap, "%.*s%s", (int)(close - a - ml), a + ml, close + 1);
			return;
		}
	}
	snprintf(out, cap, "%s", a);
}

/* Where ":PORT" starts in an inet address, or NULL. */
static const char *port_sep(const char *a)
{
	const char *c;

	if (!a || !*a)
		return NULL;
	if (a[0] == '[') {
		c = strchr(a, ']');
		return c && c[1] == ':' ? c + 1 : NULL;
	}
	if (!strchr("0123456789", a[0]))
		return NULL; /* unix:, netlink:, unspec, af:N */
	c = strchr(a, ':');
	return c && !strchr(c + 1, ':') ? c : NULL;
}

int addr_port(const char *a)
{
	const char *c = port_sep(a);
	char *end;
	long p;

	if (!c || !c[1])
		return -1;
	p = strtol(c + 1, &end, 10);
	return *end == '\0' && p >= 0 && p <= 65535 ? (int)p : -1;
}

void addr_host(const char *a, char *out, size_t cap)
{
	const char *c = port_sep(a);

	if (!a)
		a = "";
	if (c)
		snprintf(out, cap, "%.*s", (int)(c - a), a);
	else
		snprintf(out, cap, "%s", a);
}

bool addr_is_wildcard(const char *a)
{
	char host[ADDR_MAX];

	if (!port_sep(a))
		return false;
	addr_host(a, host, sizeof(host));
	return strcmp(host, "0.0.0.0") == 0 || strcmp(host, "[::]") == 0 ||
	       strcmp(host, "[::ffff:0.0.0.0]") == 0;
}

bool addr_is_specific(const char *a)
{
	if (!a || !*a || strcmp(a, "unix:") == 0 || strcmp(a, "unspec") == 0)
		return false;
	if (port_sep(a))
		return !addr_is_wildcard(a) && addr_port(a) > 0;
	return true;
}

bool addr_compatible(const char *a, const char *b)
{
	char na[ADDR_MAX], nb[ADDR_MAX];

	addr_norm(a, na, sizeof(na));
	addr_norm(b, nb, sizeof(nb));
	if (strcmp(na, nb) == 0)
		return true;
	if (addr_port(na) < 0 || addr_port(na) != addr_port(nb))
		return false;
	return addr_is_wildcard(na) || addr_is_wildcard(nb);
}
