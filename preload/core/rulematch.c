#include "rulematch.h"

#include <fnmatch.h>
#include <string.h>
#include <sys/socket.h>

static bool prefix_equal(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	unsigned bytes = bits / 8, rest = bits % 8;

	if (memcmp(a, b, bytes) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (a[bytes] & mask) == (b[bytes] & mask);
}

static const uint8_t v4_mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

static bool filter_matches(const struct st_addr_filter *f, const struct st_ep *ep,
			   const char *text)
{
	if (f->family == AF_UNIX) {
		if (!text || strncmp(text, "unix:", 5) != 0)
			return false;
		return fnmatch(f->path, text + 5, 0) == 0;
	}
	if (!ep || !ep->family)
		return false;
	if (f->has_port && ep->port != f->port)
		return false;
	if (f->family == ep->family)
		return prefix_equal(f->addr, ep->addr, f->prefix);
	/* An IPv4 filter also matches the same address seen by an IPv6
	 * socket as ::ffff:a.b.c.d. */
	if (f->family == AF_INET && ep->family == AF_INET6 &&
	    memcmp(ep->addr, v4_mapped, sizeof(v4_mapped)) == 0)
		return prefix_equal(f->addr, ep->addr + 12, f->prefix);
	return false;
}

static bool port_in(const struct st_rule *r, const struct st_ep *ep)
{
	return ep && (ep->family == AF_INET || ep->family == AF_INET6) &&
	       ep->port >= r->port_lo && ep->port <= r->port_hi;
}

bool st_rule_calls(const struct st_rule *r, enum st_fn fn, enum st_data dir)
{
	uint64_t bit = (uint64_t)1 << fn;

	if ((unsigned)fn >= ST_FN_COUNT || !(r->fns & bit))
		return false;
	if (!((r->fns_sending | r->fns_receiving) & bit))
		return true; /* a call of one direction */
	if (dir == ST_DATA_OUT)
		return r->fns_sending & bit;
	if (dir == ST_DATA_IN)
		return r->fns_receiving & bit;
	/* Direction unknown: only a rule that takes the call both ways. */
	return r->fns_sending & r->fns_receiving & bit;
}

bool st_rule_selects(const struct st_rule *r, const struct st_match_ctx *c)
{
	if (!st_rule_calls(r, c->fn, c->dir))
		return false;
	if (c->elapsed_ns < r->after_ns)
		return false;
	if (r->for_ns && c->elapsed_ns - r->after_ns >= r->for_ns)
		return false;
	if (r->peer.set && !filter_matches(&r->peer, c->peer, c->peer_text))
		return false;
	if (r->local.set && !filter_matches(&r->local, c->local, c->local_text))
		return false;
	/* port= is either end: the server's port is its local one. */
	if (r->has_port && !port_in(r, c->peer) && !port_in(r, c->local))
		return false;
	if (r->host[0] && (!c->host || fnmatch(r->host, c->host, FNM_CASEFOLD) != 0))
		return false;
	if (r->caller_func[0] &&
	    (!c->caller ||
	     !c->caller(c->caller_arg, r->caller_module[0] ? r->caller_module : NULL,
			r->caller_func)))
		return false;
	return true;
}

bool st_rule_when(const struct st_rule *r, uint64_t nth)
{
	if (r->when_first == 0)
		return true;
	if (nth < r->when_first || nth > r->when_last)
		return false;
	return (nth - r->when_first) % r->when_step == 0;
}

/* splitmix64's finaliser: cheap and well mixed. */
static uint64_t mix(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

uint64_t st_rule_random(uint64_t seed, unsigned rule, uint64_t nth, unsigned salt)
{
	return mix(mix(mix(seed + 0x9e3779b97f4a7c15ull) ^ ((uint64_t)rule << 32 | salt)) ^ nth);
}

bool st_rule_prob(const struct st_rule *r, uint64_t seed, unsigned rule, uint64_t nth)
{
	return r->prob_threshold == UINT64_MAX ||
	       st_rule_random(seed, rule, nth, 0) < r->prob_threshold;
}

bool st_rule_for_prog(const struct st_rule *r, const char *prog)
{
	return !r->prog[0] || fnmatch(r->prog, prog, 0) == 0;
}
