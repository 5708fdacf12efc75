/* The rule parser and pretty-printer. Every error names the place
 * (NAME:LINE:COL) and, where one exists, the fix. */
#include "rules.h"

#include "ruleparse.h"
#include "strbuf.h"

#include "names.h"
#include "suggest.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static void vfail(struct st_parser *p, unsigned col, const char *hint, const char *fmt,
		  va_list ap)
{
	char msg[512];
	int n = snprintf(msg, sizeof(msg), "%s:%u:%u: ", p->name, p->line, col);

	if (n > 0 && (size_t)n < sizeof(msg))
		vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
	else
		n = 0;
	p->errors++;
	if (p->report_error) {
		struct st_parse_error e = { p->name, p->line, col, msg + n, hint, msg };
		p->report_error(p->ctx, &e);
	} else if (p->report) {
		p->report(p->ctx, msg);
	}
}

void st_parse_fail(struct st_parser *p, unsigned col, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(p, col, NULL, fmt, ap);
	va_end(ap);
}

void st_parse_fail_hint(struct st_parser *p, unsigned col, const char *hint, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(p, col, hint, fmt, ap);
	va_end(ap);
}

static const char *const keys[] = {
	"error", "delay", "jitter", "short", "reset", "close", "hang", "corrupt",
	"bandwidth", "when", "prob", "after", "for", "peer", "local", "port",
	"host", "prog", "caller", "optional",
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

bool st_is_selector_key(const char *key)
{
	static const char *const selectors[] = { "peer", "local", "port", "host", "prog",
						  "after", "for" };

	for (size_t i = 0; i < sizeof(selectors) / sizeof(selectors[0]); i++)
		if (strcmp(selectors[i], key) == 0)
			return true;
	return false;
}

/* Call names and group names, for suggestions. */
static size_t call_words(const char **out, size_t cap)
{
	size_t n = 0;

	for (unsigned i = 0; i < ST_FN_COUNT && n < cap; i++)
		out[n++] = st_call_info((enum st_fn)i)->name;
	for (const struct st_group_name *g = st_groups; g->name && n < cap; g++)
		out[n++] = g->name;
	return n;
}

/* A call name selects that call and its variants (recv: __recv_chk too)
 * in both directions; a group, its calls in the group's directions. Adds
 * to the rule's masks; false when the name is neither. */
static bool select_name(struct st_rule *r, const char *name)
{
	enum st_fn fn = st_call_by_name(name);
	unsigned groups = 0;

	if (fn == ST_FN_COUNT) {
		const struct st_group_name *g = st_groups;
		while (g->name && strcmp(g->name, name) != 0)
			g++;
		if (!g->name)
			return false;
		groups = g->mask;
	}
	for (unsigned i = 0; i < ST_FN_COUNT; i++) {
		const struct st_call_info *ci = st_call_info((enum st_fn)i);
		uint64_t bit = (uint64_t)1 << i;
		bool sending, receiving;

		if (fn != ST_FN_COUNT) {
			if (i != fn && ci->base != fn)
				continue;
			sending = receiving = true;
		} else {
			if (!(ci->groups & groups))
				continue;
			/* A two-way call is in a direction's group by that
			 * direction alone ("sends" does not take its reads);
			 * a group that has it for another reason, both ways. */
			bool other = ci->groups & groups & ~(unsigned)(ST_G_SEND | ST_G_RECV);
			sending = (groups & ST_G_SEND) || other;
			receiving = (groups & ST_G_RECV) || other;
		}
		r->fns |= bit;
		if (ci->data == ST_DATA_BOTH) {
			if (sending)
				r->fns_sending |= bit;
			if (receiving)
				r->fns_receiving |= bit;
		}
	}
	return true;
}

bool st_parse_calls(struct st_parser *p, struct st_rule *r, const struct st_word *w)
{
	char copy[sizeof(r->calls)];
	char *save = NULL;
	unsigned col = w->col;

	if (strlen(w->text) >= sizeof(copy)) {
		st_parse_fail(p, w->col, "call list too long (at most %zu characters)", sizeof(copy) - 1);
		return false;
	}
	strcpy(copy, w->text);
	strcpy(r->calls, w->text);
	for (char *name = strtok_r(copy, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
		col = w->col + (unsigned)(name - copy);
		if (!select_name(r, name)) {
			const char *words[ST_FN_COUNT + 16];
			size_t n = call_words(words, sizeof(words) / sizeof(words[0]));
			const char *hint = st_suggest(name, words, n);
			if (hint)
				st_parse_fail_hint(p, col, hint, "unknown call '%s'; did you mean '%s'?",
						   name, hint);
			else if (strchr(name, '='))
				st_parse_fail(p, col, "a rule starts with the calls it applies to, e.g. 'connect %s'",
				     name);
			else
				st_parse_fail(p, col, "unknown call '%s' (calls: connect, accept, send, recv, ...; groups: setup, sends, receives, data, teardown, opt, fd, dns, all)",
				     name);
			return false;
		}
	}
	if (!r->fns) {
		st_parse_fail(p, w->col, "no call named; write the calls first, e.g. 'connect error=ECONNREFUSED'");
		return false;
	}
	return true;
}

bool st_parse_u64(const char *s, uint64_t *out)
{
	char *end;

	if (!s || *s < '0' || *s > '9')
		return false;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return *end == '\0' && errno == 0;
}

static bool parse_when(struct st_parser *p, struct st_rule *r, const char *v, unsigned col)
{
	uint64_t first, last = 0, step = 1;
	const char *dots = strstr(v, "..");
	const char *plus = strchr(v, '+');
	char head[32];

	/* N, N..M, N+ (from N on), N+K (from N, every K-th) */
	size_t hlen = dots ? (size_t)(dots - v) : plus ? (size_t)(plus - v) : strlen(v);
	if (hlen == 0 || hlen >= sizeof(head))
		goto bad;
	memcpy(head, v, hlen);
	head[hlen] = '\0';
	if (!st_parse_u64(head, &first) || first == 0)
		goto bad;
	if (dots) {
		if (!st_parse_u64(dots + 2, &last) || last < first)
			goto bad;
	} else if (plus) {
		last = UINT64_MAX;
		if (plus[1] && (!st_parse_u64(plus + 1, &step) || step == 0))
			goto bad;
	} else {
		last = first;
	}
	r->when_first = first;
	r->when_last = last;
	r->when_step = step;
	return true;
bad:
	st_parse_fail(p, col, "when='%s' is not a call count; use N (the N-th call), N..M, N+ (from N on) or N+K (from N, every K-th), counting from 1",
	     v);
	return false;
}

/* IPv4: ADDR[/N][:PORT]; IPv6: [ADDR][/N][:PORT] or ADDR[/N]; unix:PATH. */
static bool parse_addr_filter(struct st_parser *p, struct st_addr_filter *f, const char *key,
			      const char *v, unsigned col)
{
	char addr[INET6_ADDRSTRLEN + 8];
	const char *rest;
	size_t alen;
	unsigned max_prefix;

	memset(f, 0, sizeof(*f));
	f->set = true;
	if (strncmp(v, "unix:", 5) == 0) {
		f->family = AF_UNIX;
		if (strlen(v + 5) >= sizeof(f->path) || !v[5]) {
			st_parse_fail(p, col, "%s=%s: a unix path filter needs a path (glob) of at most %zu bytes",
			     key, v, sizeof(f->path) - 1);
			return false;
		}
		strcpy(f->path, v + 5);
		return true;
	}
	if (v[0] == '[') {
		const char *close = strchr(v, ']');
		if (!close)
			goto bad;
		alen = (size_t)(close - v - 1);
		if (alen >= sizeof(addr))
			goto bad;
		memcpy(addr, v + 1, alen);
		addr[alen] = '\0';
		rest = close + 1;
		f->family = AF_INET6;
	} else {
		/* Two colons make it IPv6 written bare (::1, ::ffff:10.0.0.1),
		 * which cannot carry a port; otherwise IPv4 with an optional one. */
		const char *c1 = strchr(v, ':');
		bool bare_v6 = c1 && strchr(c1 + 1, ':');
		alen = strcspn(v, bare_v6 ? "/" : "/:");
		if (alen >= sizeof(addr))
			goto bad;
		memcpy(addr, v, alen);
		addr[alen] = '\0';
		rest = v + alen;
		f->family = strchr(addr, ':') ? AF_INET6 : AF_INET;
	}
	if (inet_pton(f->family, addr, f->addr) != 1)
		goto bad;
	max_prefix = f->family == AF_INET ? 32 : 128;
	f->prefix = (uint8_t)max_prefix;
	if (*rest == '/') {
		char *end;
		unsigned long n = strtoul(rest + 1, &end, 10);
		if (end == rest + 1 || n > max_prefix)
			goto bad;
		f->prefix = (uint8_t)n;
		rest = end;
	}
	if (*rest == ':') {
		uint64_t port;
		if (!st_parse_u64(rest + 1, &port) || port > 65535)
			goto bad;
		f->has_port = true;
		f->port = (uint16_t)port;
		rest = "";
	}
	if (*rest)
		goto bad;
	return true;
bad:
	if (v[0] && !strpbrk(v, "0123456789:[") && strncmp(v, "unix", 4) != 0)
		st_parse_fail(p, col, "%s=%s: not an address; for a host name use host=%s", key, v, v);
	else
		st_parse_fail(p, col, "%s=%s: not an address; write 10.0.0.1, 10.0.0.0/8, 10.0.0.1:5432, [::1]:80, ::1/128 or unix:/path/glob",
		     key, v);
	return false;
}

static bool parse_error_value(struct st_parser *p, struct st_rule *r, const char *v, unsigned col)
{
	bool dns = r->fns & ((uint64_t)1 << ST_FN_getaddrinfo);
	uint64_t num;
	int err;

	if (dns && (r->fns & ~((uint64_t)1 << ST_FN_getaddrinfo))) {
		st_parse_fail(p, col, "getaddrinfo fails with EAI_* codes, other calls with errno: give getaddrinfo a rule of its own");
		return false;
	}
	if (dns) {
		err = st_eai_from_name(v);
		if (err == 1) {
			static const char *const eai[] = { "EAI_AGAIN", "EAI_NONAME", "EAI_FAIL",
							   "EAI_NODATA", "EAI_SERVICE", "EAI_MEMORY",
							   "EAI_FAMILY", "EAI_SYSTEM" };
			const char *hint = st_suggest(v, eai, sizeof(eai) / sizeof(eai[0]));
			if (hint)
				st_parse_fail_hint(p, col, hint, "unknown getaddrinfo error '%s'; did you mean '%s'?",
						   v, hint);
			else
				st_parse_fail(p, col, "getaddrinfo error must be an EAI_* name such as EAI_AGAIN or EAI_NONAME, not '%s'",
				     v);
			return false;
		}
		r->has_error = true;
		r->error = err;
		return true;
	}
	if (st_parse_u64(v, &num) && num > 0 && num < 4096) {
		err = (int)num;
	} else {
		err = st_errno_from_name(v);
		if (err < 0) {
			size_t n;
			const struct st_name *table = st_errno_table(&n);
			const char *names[160];
			size_t k = 0;
			for (size_t i = 0; i < n && k < 160; i++)
				names[k++] = table[i].name;
			const char *hint = st_suggest(v, names, k);
			if (hint)
				st_parse_fail_hint(p, col, hint, "unknown errno '%s'; did you mean '%s'?", v,
						   hint);
			else
				st_parse_fail(p, col, "unknown errno '%s'; write a name such as ECONNREFUSED or a number",
				     v);
			return false;
		}
	}
	/* Every selected call must be able to fail this way for real. */
	for (unsigned i = 0; i < ST_FN_COUNT; i++) {
		if (!(r->fns & ((uint64_t)1 << i)) || st_call_may_fail_with((enum st_fn)i, err))
			continue;
		const struct st_call_info *ci = st_call_info((enum st_fn)i);
		const char *names[64];
		size_t k = 0;
		for (const short *e = ci->errnos; *e && k < 64; e++) {
			const char *name = st_errno_name(*e);
			bool seen = false;
			/* EAGAIN and EWOULDBLOCK are one number: name it once. */
			for (size_t j = 0; j < k && !seen; j++)
				seen = names[j] == name;
			if (name && !seen)
				names[k++] = name;
		}
		const char *hint = st_suggest(v, names, k);
		char list[256] = "";
		for (size_t j = 0; j < k && strlen(list) + strlen(names[j]) + 3 < sizeof(list); j++) {
			if (j)
				strcat(list, ", ");
			strcat(list, names[j]);
		}
		if (hint)
			st_parse_fail_hint(p, col, hint, "%s never fails with %s; did you mean '%s'? (it can fail with %s)",
			     ci->name, v, hint, list);
		else
			st_parse_fail(p, col, "%s never fails with %s; it can fail with %s", ci->name, v, list);
		return false;
	}
	r->has_error = true;
	r->error = err;
	return true;
}

static bool parse_glob(struct st_parser *p, char *dst, size_t cap, const char *key,
		       const char *v, unsigned col)
{
	if (!*v || strlen(v) >= cap) {
		st_parse_fail(p, col, "%s= needs a name or glob of 1 to %zu characters", key, cap - 1);
		return false;
	}
	strcpy(dst, v);
	return true;
}

static bool parse_port(struct st_parser *p, struct st_rule *r, const char *v, unsigned col)
{
	uint64_t lo, hi;
	const char *dash = strchr(v, '-');
	char head[16];

	if (dash) {
		size_t n = (size_t)(dash - v);
		if (n == 0 || n >= sizeof(head))
			goto bad;
		memcpy(head, v, n);
		head[n] = '\0';
		if (!st_parse_u64(head, &lo) || !st_parse_u64(dash + 1, &hi))
			goto bad;
	} else {
		if (!st_parse_u64(v, &lo))
			goto bad;
		hi = lo;
	}
	if (lo > hi || hi > 65535)
		goto bad;
	r->has_port = true;
	r->port_lo = (uint16_t)lo;
	r->port_hi = (uint16_t)hi;
	return true;
bad:
	st_parse_fail(p, col, "port=%s: write a port (5432) or a range (8000-8100), 0 to 65535", v);
	return false;
}

static bool parse_duration_key(struct st_parser *p, uint64_t *dst, const char *key,
			       const char *v, unsigned col)
{
	if (!st_parse_duration(v, dst)) {
		st_parse_fail(p, col, "%s=%s is not a duration; write e.g. " ST_DURATION_EXAMPLES,
			      key, v);
		return false;
	}
	return true;
}

bool st_parse_keyword(struct st_parser *p, struct st_rule *r, const struct st_word *w)
{
	const char *eq = strchr(w->text, '=');
	char key[16];
	size_t klen = eq ? (size_t)(eq - w->text) : strlen(w->text);
	const char *v = eq ? eq + 1 : NULL;
	unsigned vcol = w->col + (unsigned)klen + 1;

	if (klen >= sizeof(key))
		klen = sizeof(key) - 1;
	memcpy(key, w->text, klen);
	key[klen] = '\0';

	if (!v) {
		if (strcmp(key, "reset") == 0) {
			r->reset = true;
			return true;
		}
		if (strcmp(key, "close") == 0) {
			r->eof = true;
			return true;
		}
		if (strcmp(key, "hang") == 0) {
			r->hang = true;
			return true;
		}
		if (strcmp(key, "optional") == 0) {
			r->optional = true;
			return true;
		}
		const char *hint = st_suggest(key, keys, NKEYS);
		bool known = false;
		for (size_t i = 0; i < NKEYS; i++)
			known |= strcmp(keys[i], key) == 0;
		if (known)
			st_parse_fail(p, w->col, "'%s' needs a value: %s=...", key, key);
		else if (hint)
			st_parse_fail_hint(p, w->col, hint, "unknown word '%s'; did you mean '%s'?", key,
					   hint);
		else
			st_parse_fail(p, w->col, "unknown word '%s'; actions: error=, delay=, short=, reset, close, hang, corrupt=, bandwidth=",
			     key);
		return false;
	}
	if (!*v) {
		st_parse_fail(p, vcol, "%s= needs a value", key);
		return false;
	}
	if (strcmp(key, "error") == 0)
		return parse_error_value(p, r, v, vcol);
	if (strcmp(key, "delay") == 0)
		return parse_duration_key(p, &r->delay_ns, key, v, vcol);
	if (strcmp(key, "jitter") == 0)
		return parse_duration_key(p, &r->jitter_ns, key, v, vcol);
	if (strcmp(key, "after") == 0)
		return parse_duration_key(p, &r->after_ns, key, v, vcol);
	if (strcmp(key, "for") == 0) {
		if (!parse_duration_key(p, &r->for_ns, key, v, vcol))
			return false;
		if (r->for_ns == 0) {
			st_parse_fail(p, vcol, "for=0 selects nothing; give a positive duration");
			return false;
		}
		return true;
	}
	if (strcmp(key, "hang") == 0) {
		r->hang = true;
		if (!parse_duration_key(p, &r->hang_ns, key, v, vcol))
			return false;
		return true;
	}
	if (strcmp(key, "short") == 0) {
		uint64_t n;
		if (!st_parse_u64(v, &n) || n == 0 || n > INT32_MAX) {
			st_parse_fail(p, vcol, "short=%s: give the most bytes one call may move, at least 1", v);
			return false;
		}
		r->short_bytes = (int64_t)n;
		return true;
	}
	if (strcmp(key, "corrupt") == 0) {
		uint64_t n;
		char *end;
		if (st_parse_u64(v, &n) && n > 0 && n <= UINT32_MAX) {
			r->corrupt_count = (uint32_t)n;
			return true;
		}
		double rate = strtod(v, &end);
		/* Below 1e-12 a rate flips nothing in any real run, and no
		 * plain decimal of 40 places writes it back exactly. */
		if (*end == '\0' && strchr(v, '.') && rate >= 1e-12 && rate <= 1) {
			r->corrupt_rate = rate;
			return true;
		}
		st_parse_fail(p, vcol, "corrupt=%s: give a number of bytes to flip per call (corrupt=1) or a fraction of bytes (corrupt=0.01, at least 0.000000000001)",
		     v);
		return false;
	}
	if (strcmp(key, "bandwidth") == 0) {
		if (!st_parse_rate(v, &r->bandwidth)) {
			st_parse_fail(p, vcol, "bandwidth=%s is not a rate; write e.g. 512B/s, 100kB/s, 1MB/s, 1MiB/s, 10Mbit/s",
			     v);
			return false;
		}
		return true;
	}
	if (strcmp(key, "when") == 0)
		return parse_when(p, r, v, vcol);
	if (strcmp(key, "prob") == 0) {
		char *end;
		double prob = strtod(v, &end);
		if (*end != '\0' || !(prob >= 1e-12) || prob > 1) {
			st_parse_fail(p, vcol, "prob=%s: give a probability from 0.000000000001 to 1, e.g. prob=0.25", v);
			return false;
		}
		r->prob = prob;
		return true;
	}
	if (strcmp(key, "peer") == 0)
		return parse_addr_filter(p, &r->peer, key, v, vcol);
	if (strcmp(key, "local") == 0)
		return parse_addr_filter(p, &r->local, key, v, vcol);
	if (strcmp(key, "port") == 0)
		return parse_port(p, r, v, vcol);
	if (strcmp(key, "host") == 0)
		return parse_glob(p, r->host, sizeof(r->host), key, v, vcol);
	if (strcmp(key, "prog") == 0)
		return parse_glob(p, r->prog, sizeof(r->prog), key, v, vcol);
	if (strcmp(key, "caller") == 0) {
		/* caller=FUNC or caller=MODULE:FUNC (module: a file name glob). */
		const char *colon = strchr(v, ':');
		if (colon) {
			size_t mlen = (size_t)(colon - v);
			if (mlen == 0 || mlen >= sizeof(r->caller_module)) {
				st_parse_fail(p, vcol, "caller=%s: write caller=FUNCTION or caller=MODULE:FUNCTION, e.g. caller=libcurl.so*:Curl_*",
				     v);
				return false;
			}
			memcpy(r->caller_module, v, mlen);
			r->caller_module[mlen] = '\0';
			v = colon + 1;
			vcol += (unsigned)mlen + 1;
		}
		return parse_glob(p, r->caller_func, sizeof(r->caller_func), key, v, vcol);
	}

	const char *hint = st_suggest(key, keys, NKEYS);
	if (hint)
		st_parse_fail_hint(p, w->col, hint, "unknown key '%s'; did you mean '%s'?", key, hint);
	else
		st_parse_fail(p, w->col, "unknown key '%s'", key);
	return false;
}

static bool only_in_groups(const struct st_rule *r, unsigned groups)
{
	for (unsigned i = 0; i < ST_FN_COUNT; i++)
		if ((r->fns & ((uint64_t)1 << i)) && !(st_call_info((enum st_fn)i)->groups & groups))
			return false;
	return true;
}

/* Whole-rule checks: one main action, and actions that fit the calls. */
static bool validate(struct st_parser *p, const struct st_rule *r, unsigned col)
{
	int main_actions = r->has_error + (r->short_bytes > 0) + r->reset + r->eof + r->hang +
			   (r->corrupt_count || r->corrupt_rate > 0) + (r->bandwidth > 0);
	bool dns_only = r->fns == ((uint64_t)1 << ST_FN_getaddrinfo);

	if (main_actions == 0 && r->delay_ns == 0) {
		st_parse_fail(p, col, "no action; add one of error=, delay=, short=, reset, close, hang, corrupt=, bandwidth=");
		return false;
	}
	if (main_actions > 1) {
		st_parse_fail(p, col, "one action per rule (delay= may go with any one); split this rule in two");
		return false;
	}
	if (r->jitter_ns && !r->delay_ns) {
		st_parse_fail(p, col, "jitter= varies a delay: add delay=");
		return false;
	}
	if ((r->short_bytes > 0 || r->corrupt_count || r->corrupt_rate > 0 || r->bandwidth) &&
	    !only_in_groups(r, ST_G_SEND | ST_G_RECV)) {
		st_parse_fail(p, col, "short=, corrupt= and bandwidth= act on data: use them with send and receive calls only (e.g. 'send,recv')");
		return false;
	}
	if (r->eof && !only_in_groups(r, ST_G_RECV)) {
		st_parse_fail(p, col, "close makes a receive return 0 (end of stream): use it with receive calls only (recv, read, ...)");
		return false;
	}
	if (r->reset && !only_in_groups(r, ST_G_SEND | ST_G_RECV)) {
		st_parse_fail(p, col, "reset aborts a connection during a data call: use it with send and receive calls (for connect use error=ECONNRESET or error=ECONNREFUSED)");
		return false;
	}
	if (r->hang && !only_in_groups(r, ST_G_SETUP | ST_G_SEND | ST_G_RECV | ST_G_DNS)) {
		st_parse_fail(p, col, "hang blocks a call that waits on the network: use it with setup, send, receive or getaddrinfo calls");
		return false;
	}
	if ((r->peer.set || r->local.set || r->has_port) && dns_only) {
		st_parse_fail(p, col, "getaddrinfo has no socket: select it with host= instead of peer=, local= or port=");
		return false;
	}
	return true;
}

/* After validate(): the calls an action cannot act on, left out where a
 * group brought them in and refused where the rule names them.
 * - corrupt= flips bytes in the program's buffers, and sendfile and
 *   splice have none (ST_G_KCOPY): the kernel moves their bytes.
 * - close makes a receive return 0: a two-way call (splice) is kept only
 *   where it reads from the socket. */
static bool fit_calls_to_action(struct st_parser *p, struct st_rule *r, unsigned col)
{
	if (r->corrupt_count || r->corrupt_rate > 0) {
		char copy[sizeof(r->calls)];
		char *save = NULL;

		strcpy(copy, r->calls);
		for (char *name = strtok_r(copy, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
			enum st_fn fn = st_call_by_name(name);
			if (fn == ST_FN_COUNT || !(st_call_info(fn)->groups & ST_G_KCOPY))
				continue;
			st_parse_fail(p, col + (unsigned)(name - copy),
				      "corrupt= changes bytes in the program's buffers, and %s has none: the kernel moves its bytes from descriptor to descriptor; leave %s out (a group such as 'sends' leaves it out by itself)",
				      name, name);
			return false;
		}
	}
	for (unsigned i = 0; i < ST_FN_COUNT; i++) {
		const struct st_call_info *ci = st_call_info((enum st_fn)i);
		uint64_t bit = (uint64_t)1 << i;

		if ((r->corrupt_count || r->corrupt_rate > 0) && (ci->groups & ST_G_KCOPY)) {
			r->fns &= ~bit;
			r->fns_sending &= ~bit;
			r->fns_receiving &= ~bit;
		}
		if (r->eof && ci->data == ST_DATA_BOTH) {
			r->fns_sending &= ~bit;
			if (!(r->fns_receiving & bit))
				r->fns &= ~bit;
		}
	}
	return true;
}

static void prob_threshold(struct st_rule *r)
{
	if (r->prob >= 1.0)
		r->prob_threshold = UINT64_MAX;
	else
		r->prob_threshold = (uint64_t)ldexp(r->prob, 64);
}

static void parse_line(struct st_parser *p, const char *line, size_t len)
{
	char buf[1024];
	struct st_word words[48];
	size_t nwords = 0;
	struct st_rule *r;

	if (len >= sizeof(buf)) {
		st_parse_fail(p, 1, "rule longer than %zu characters", sizeof(buf) - 1);
		return;
	}
	memcpy(buf, line, len);
	buf[len] = '\0';
	/* A comment runs to the end of the line. */
	char *hash = strchr(buf, '#');
	if (hash)
		*hash = '\0';
	for (char *s = buf; *s;) {
		while (*s == ' ' || *s == '\t' || *s == '\r')
			*s++ = '\0';
		if (!*s)
			break;
		if (nwords == sizeof(words) / sizeof(words[0])) {
			st_parse_fail(p, (unsigned)(s - buf) + 1, "too many words in one rule");
			return;
		}
		words[nwords].text = s;
		words[nwords].col = (unsigned)(s - buf) + 1;
		nwords++;
		while (*s && *s != ' ' && *s != '\t' && *s != '\r')
			s++;
	}
	if (nwords == 0)
		return;
	if (strcmp(words[0].text, "expect") == 0) {
		/* Expectations are the tool's: the shim only skips them. */
		if (p->inline_rules)
			st_parse_fail(p, words[0].col, "expect lines belong in a scenario file (socktrace run -s FILE); inline rules hold fault rules only");
		else if (p->set->expects)
			st_expect_parse_line(p, words, nwords);
		return;
	}
	if (p->set->count == p->set->cap) {
		st_parse_fail(p, 1, "too many rules (at most %zu)", p->set->cap);
		return;
	}
	r = &p->set->rules[p->set->count];
	memset(r, 0, sizeof(*r));
	r->prob = 1.0;
	r->short_bytes = -1;
	if (!st_parse_calls(p, r, &words[0]))
		return;
	for (size_t i = 1; i < nwords; i++)
		if (!st_parse_keyword(p, r, &words[i]))
			return;
	if (!validate(p, r, words[0].col) || !fit_calls_to_action(p, r, words[0].col))
		return;
	prob_threshold(r);
	snprintf(r->origin, sizeof(r->origin), "%s:%u", p->name, p->line);
	st_rule_format(r, r->text, sizeof(r->text));
	p->set->count++;
}

unsigned st_origin_line(const char *origin, size_t *file_len)
{
	const char *colon = strrchr(origin, ':');
	char *end;
	unsigned long line = colon ? strtoul(colon + 1, &end, 10) : 0;

	if (!colon || end == colon + 1 || *end || line > UINT_MAX) {
		if (file_len)
			*file_len = strlen(origin);
		return 0;
	}
	if (file_len)
		*file_len = (size_t)(colon - origin);
	return (unsigned)line;
}

static int parse_all(struct st_parser *p, const char *text, size_t len)
{
	size_t start = 0;

	for (size_t i = 0; i <= len; i++) {
		bool end = i == len || text[i] == '\n' || (p->inline_rules && text[i] == ';');
		if (!end)
			continue;
		p->line++;
		parse_line(p, text + start, i - start);
		start = i + 1;
	}
	return p->errors;
}

int st_rules_parse(struct st_ruleset *set, const char *name, const char *text,
		   size_t len, bool split_semicolons, st_rule_report report, void *ctx)
{
	struct st_parser p = { set, name, 0, split_semicolons, report, ctx, 0, NULL };

	return parse_all(&p, text, len);
}

int st_rules_parse_detailed(struct st_ruleset *set, const char *name, const char *text,
			    size_t len, bool split_semicolons, st_rule_report_error report,
			    void *ctx)
{
	struct st_parser p = { set, name, 0, split_semicolons, NULL, ctx, 0, report };

	return parse_all(&p, text, len);
}

static void put_duration(char *buf, size_t cap, size_t *o, const char *key, uint64_t ns)
{
	char d[32];

	st_format_duration(ns, d, sizeof(d));
	st_appendf(buf, cap, o, " %s=%s", key, d);
}

/* The shortest decimal that reads back as the same double. */
static void put_double(char *buf, size_t cap, size_t *o, const char *key, double v)
{
	char d[64];

	/* Plain decimals (never an exponent: corrupt= tells rates from
	 * counts by the decimal point), as few digits as read back exactly:
	 * at most 40 for the smallest value the parser takes, 1e-12. */
	for (int prec = 1; prec <= 40; prec++) {
		snprintf(d, sizeof(d), "%.*f", prec, v);
		if (strtod(d, NULL) == v)
			break;
	}
	st_appendf(buf, cap, o, " %s=%s", key, d);
}

static void put_filter(char *buf, size_t cap, size_t *o, const char *key,
		       const struct st_addr_filter *f)
{
	char a[INET6_ADDRSTRLEN];
	unsigned max = f->family == AF_INET ? 32 : 128;

	if (f->family == AF_UNIX) {
		st_appendf(buf, cap, o, " %s=unix:%s", key, f->path);
		return;
	}
	inet_ntop(f->family, f->addr, a, sizeof(a));
	/* IPv6 always in brackets: it reads back whatever follows. */
	if (f->family == AF_INET6)
		st_appendf(buf, cap, o, " %s=[%s]", key, a);
	else
		st_appendf(buf, cap, o, " %s=%s", key, a);
	if (f->prefix != max)
		st_appendf(buf, cap, o, "/%u", f->prefix);
	if (f->has_port)
		st_appendf(buf, cap, o, ":%u", f->port);
}

size_t st_rule_format(const struct st_rule *r, char *buf, size_t cap)
{
	size_t o = 0;

	if (cap == 0)
		return 0;
	buf[0] = '\0';
	st_appendf(buf, cap, &o, "%s", r->calls);
	if (r->peer.set)
		put_filter(buf, cap, &o, "peer", &r->peer);
	if (r->local.set)
		put_filter(buf, cap, &o, "local", &r->local);
	if (r->has_port) {
		if (r->port_lo == r->port_hi)
			st_appendf(buf, cap, &o, " port=%u", r->port_lo);
		else
			st_appendf(buf, cap, &o, " port=%u-%u", r->port_lo, r->port_hi);
	}
	if (r->host[0])
		st_appendf(buf, cap, &o, " host=%s", r->host);
	if (r->prog[0])
		st_appendf(buf, cap, &o, " prog=%s", r->prog);
	if (r->caller_func[0]) {
		if (r->caller_module[0])
			st_appendf(buf, cap, &o, " caller=%s:%s", r->caller_module, r->caller_func);
		else
			st_appendf(buf, cap, &o, " caller=%s", r->caller_func);
	}
	if (r->when_first) {
		if (r->when_last == r->when_first)
			st_appendf(buf, cap, &o, " when=%llu", (unsigned long long)r->when_first);
		else if (r->when_last != UINT64_MAX)
			st_appendf(buf, cap, &o, " when=%llu..%llu", (unsigned long long)r->when_first,
			    (unsigned long long)r->when_last);
		else if (r->when_step > 1)
			st_appendf(buf, cap, &o, " when=%llu+%llu", (unsigned long long)r->when_first,
			    (unsigned long long)r->when_step);
		else
			st_appendf(buf, cap, &o, " when=%llu+", (unsigned long long)r->when_first);
	}
	if (r->prob < 1.0)
		put_double(buf, cap, &o, "prob", r->prob);
	if (r->after_ns)
		put_duration(buf, cap, &o, "after", r->after_ns);
	if (r->for_ns)
		put_duration(buf, cap, &o, "for", r->for_ns);
	if (r->has_error) {
		const char *name = (r->fns & ((uint64_t)1 << ST_FN_getaddrinfo))
					   ? st_eai_name(r->error)
					   : st_errno_name(r->error);
		if (name)
			st_appendf(buf, cap, &o, " error=%s", name);
		else
			st_appendf(buf, cap, &o, " error=%d", r->error);
	}
	if (r->delay_ns)
		put_duration(buf, cap, &o, "delay", r->delay_ns);
	if (r->jitter_ns)
		put_duration(buf, cap, &o, "jitter", r->jitter_ns);
	if (r->short_bytes > 0)
		st_appendf(buf, cap, &o, " short=%lld", (long long)r->short_bytes);
	if (r->reset)
		st_appendf(buf, cap, &o, " reset");
	if (r->eof)
		st_appendf(buf, cap, &o, " close");
	if (r->hang) {
		if (r->hang_ns)
			put_duration(buf, cap, &o, "hang", r->hang_ns);
		else
			st_appendf(buf, cap, &o, " hang");
	}
	if (r->corrupt_count)
		st_appendf(buf, cap, &o, " corrupt=%u", r->corrupt_count);
	if (r->corrupt_rate > 0)
		put_double(buf, cap, &o, "corrupt", r->corrupt_rate);
	if (r->bandwidth) {
		char rate[32];
		st_format_rate(r->bandwidth, rate, sizeof(rate));
		st_appendf(buf, cap, &o, " bandwidth=%s", rate);
	}
	if (r->optional)
		st_appendf(buf, cap, &o, " optional");
	return o;
}
