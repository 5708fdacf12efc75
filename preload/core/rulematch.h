/* Does a rule select this call? Pure functions of the rule and what is
 * known about the call, shared by the shim and the unit tests. */
#ifndef SOCKTRACE_RULEMATCH_H
#define SOCKTRACE_RULEMATCH_H

#include "fdtable.h"
#include "rules.h"

struct st_match_ctx {
	enum st_fn fn;
	enum st_data dir;           /* a two-way call's (ST_DATA_BOTH): whether
				     * this one writes to the socket (OUT) or
				     * reads from it (IN); else unused */
	const struct st_ep *peer;   /* NULL or family 0: unknown */
	const struct st_ep *local;
	const char *peer_text;      /* "unix:/path" etc., for unix filters */
	const char *local_text;
	const char *host;           /* the name asked of getaddrinfo, or the
				     * name the peer address was resolved from */
	uint64_t elapsed_ns;        /* since the process started */
	/* caller=: asked only for rules that use it, last, because it may
	 * need the call stack. module_glob is NULL for any module. */
	bool (*caller)(void *arg, const char *module_glob, const char *func_glob);
	void *caller_arg;
};

/* Whether the rule names the call (by name or group) in this direction. */
bool st_rule_calls(const struct st_rule *r, enum st_fn fn, enum st_data dir);
/* Everything but when= and prob=, which depend on the count. */
bool st_rule_selects(const struct st_rule *r, const struct st_match_ctx *c);
/* Whether the nth selected call (counting from 1) is one when= picks. */
bool st_rule_when(const struct st_rule *r, uint64_t nth);
/* A pseudo-random number that depends only on its inputs: the same seed
 * gives the same faults on the same calls, whatever the threads do. */
uint64_t st_rule_random(uint64_t seed, unsigned rule, uint64_t nth, unsigned salt);
bool st_rule_prob(const struct st_rule *r, uint64_t seed, unsigned rule, uint64_t nth);
/* Whether the program name matches prog= (decided once per process). */
bool st_rule_for_prog(const struct st_rule *r, const char *prog);

#endif
