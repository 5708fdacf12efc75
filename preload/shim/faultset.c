/* The fault rules in force: loaded at start-up into static memory (and
 * replaced by `socktrace ctl`, see ctl.c), and the lock-free choice of the
 * rule that acts on a call. The actions are fault.c's. */
#include "faultset.h"

#include "fault.h"

#include "call.h"
#include "ctl.h"
#include "fdtable.h"
#include "log.h"
#include "names.h"
#include "real.h"
#include "writer.h"
#include "rulematch.h"
#include "shim.h"
#include "stack.h"
#include "intern.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <netinet/in.h>
#include <sched.h>
#include <stddef.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

/* Exit status when a bad rule keeps the program from starting. */
#define ST_EXIT_BAD_RULES 125

/* Rules in force, in three sets. Set 0 holds the start-up rules and is
 * never rewritten, so a process that is never controlled works exactly
 * as before: no copies, no reader counts. `socktrace ctl` changes are
 * parsed into set 1 or set 2, whichever is not in force, and switched in
 * with one store. Grace rule for rewriting a set: the threads walking it
 * in pick() are counted (readers), and a change waits for them to leave;
 * a call that keeps a rule past pick() (a delay, a hang, a blocked recv)
 * holds a copy of it (struct st_fault's own), never a pointer into the
 * set. */
struct rule_set {
	size_t n;
	uint64_t fns;            /* calls the enabled rules select */
	bool use_host, use_caller;
	/* Some rule selects on an fd's endpoints: ask the kernel for those
	 * still pending. */
	bool use_endpoints;
	bool any_disabled;
	_Atomic unsigned readers;
	uint64_t (*counts)[2];   /* per rule: calls selected, calls it acted on */
	struct st_rule *rules;
	bool enabled[ST_RULES_MAX];
};

/* The rules themselves apart from the sets' few words, which then share a
 * page or two: a fork child touches nothing else. */
static struct st_rule rules0[ST_RULES_MAX], rules1[ST_RULES_MAX], rules2[ST_RULES_MAX];
static struct rule_set sets[3] = { { .rules = rules0 }, { .rules = rules1 }, { .rules = rules2 } };
static _Atomic unsigned active_set;
/* Each set's version: a set rewritten by `socktrace ctl` holds other
 * rules under the same numbers, so the trace file's ids for their texts
 * (intern.h) are valid only for the version they were written in. */
static _Atomic uint32_t set_gen[3];
static _Atomic uint64_t text_tags[3][ST_RULES_MAX][2];
static uint64_t seed;
/* Set once a ctl change woke a process that had nothing to do. */
static bool discover_fds;
/* Sets 1 and 2 count here when there is no control file to count in
 * (a fork child that could not make its own). */
static uint64_t spare_counts[2][ST_RULES_MAX][2];

/* Recent getaddrinfo answers, for host=. Each slot is a small seqlock so a
 * reader never sees half a name. */
#define RESOLVED_SLOTS 64
static struct {
	_Atomic uint32_t seq;
	struct st_ep ep;
	char host[ST_RULE_GLOB_MAX];
} resolved[RESOLVED_SLOTS];
static _Atomic unsigned resolved_next;

static void report_rule(void *ctx, const char *message)
{
	(*(int *)ctx)++;
	st_log("%s", message);
}

/* Reads a scenario file with raw system calls into a private mapping:
 * the program's heap and stdio are not ours to use. */
static void load_file(struct st_ruleset *set, const char *path, int *errors)
{
	/* O_NONBLOCK: a FIFO named here must not hang the program's start. */
	int fd = (int)st_syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	struct stat st;
	char *text;
	size_t len = 0;

	if (fd < 0) {
		st_log("SOCKTRACE_SCENARIO: cannot open %s: %s", path, strerror(errno));
		(*errors)++;
		return;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > (1 << 24)) {
		st_log("SOCKTRACE_SCENARIO: %s: not a regular file of at most 16 MiB", path);
		(*errors)++;
		st_syscall(SYS_close, fd);
		return;
	}
	text = mmap(NULL, (size_t)st.st_size + 1, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (text == MAP_FAILED) {
		(*errors)++;
		st_syscall(SYS_close, fd);
		return;
	}
	while (len < (size_t)st.st_size) {
		long n = st_syscall(SYS_read, fd, text + len, (size_t)st.st_size - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	st_syscall(SYS_close, fd);
	st_rules_parse(set, path, text, len, false, report_rule, errors);
	munmap(text, (size_t)st.st_size + 1);
}

static void choose_seed(void)
{
	if (st_shim.cfg.seed_set) {
		seed = st_shim.cfg.seed;
		return;
	}
	/* getrandom, not rand(): the program's own random sequence must not
	 * move because we are here. */
	if (st_syscall(SYS_getrandom, &seed, sizeof(seed), GRND_NONBLOCK) != (long)sizeof(seed))
		seed = st_now() ^ ((uint64_t)st_shim.pid << 32);
	seed &= INT64_MAX; /* as SOCKTRACE_SEED accepts it back */
}

static void set_summarise(struct rule_set *s)
{
	s->fns = 0;
	s->use_host = s->use_caller = s->use_endpoints = s->any_disabled = false;
	for (size_t i = 0; i < s->n; i++) {
		const struct st_rule *r = &s->rules[i];
		if (!s->enabled[i]) {
			s->any_disabled = true;
			continue;
		}
		s->fns |= r->fns;
		s->use_host |= r->host[0] != '\0';
		s->use_caller |= r->caller_func[0] != '\0';
		s->use_endpoints |= r->local.set || r->peer.set || r->has_port ||
				    r->host[0] != '\0';
	}
}

void st_faults_init(void)
{
	struct rule_set *s = &sets[0];
	struct st_ruleset set = { .rules = s->rules, .count = 0, .cap = ST_RULES_MAX };
	int errors = 0;
	char *paths = st_shim.cfg.scenario;

	choose_seed();
	s->counts = st_hot.counts;
	sets[1].counts = spare_counts[0];
	sets[2].counts = spare_counts[1];
	/* Files first, in the order given, then inline rules: the first
	 * matching rule in that order acts. */
	for (char *p = paths; *p;) {
		char *sep = strchr(p, ST_SCENARIO_SEPARATOR);
		if (sep)
			*sep = '\0';
		if (*p)
			load_file(&set, p, &errors);
		if (!sep)
			break;
		*sep = ST_SCENARIO_SEPARATOR;
		p = sep + 1;
	}
	if (st_shim.cfg.faults[0])
		st_rules_parse(&set, "SOCKTRACE_FAULTS", st_shim.cfg.faults,
			       strlen(st_shim.cfg.faults), true, report_rule, &errors);
	if (errors) {
		st_log("%d error%s in the fault rules: %s does not start; check rules without running: socktrace check -f 'RULE' (or socktrace check FILE)",
		       errors, errors == 1 ? "" : "s", st_shim.prog);
		st_syscall(SYS_exit_group, ST_EXIT_BAD_RULES);
	}
	/* prog= is decided once: the program name does not change. */
	for (size_t i = 0; i < set.count; i++) {
		if (!st_rule_for_prog(&s->rules[i], st_shim.prog))
			continue;
		if (s->n != i)
			s->rules[s->n] = s->rules[i];
		s->enabled[s->n++] = true;
	}
	set_summarise(s);
	st_fault_fns = s->fns;
	/* caller= needs stacks: a rule that could never match is refused
	 * like any other bad rule (st_stack_init has said why). */
	if (s->use_caller && !st_stack_init()) {
		st_log("caller= rules need call stacks: %s does not start", st_shim.prog);
		st_syscall(SYS_exit_group, ST_EXIT_BAD_RULES);
	}
}

void st_faults_after_fork(void)
{
	/* Counts are per process: the child starts its own. Those of sets
	 * 1 and 2 are already zero in the child's new control file, whose
	 * pages are better left untouched (tmpfs allocates on first touch).
	 * Threads that were walking a set in the parent do not exist here. */
	for (unsigned k = 0; k < 3; k++) {
		bool fresh = k > 0 && sets[k].counts != spare_counts[k - 1];
		for (size_t i = 0; i < sets[k].n && !fresh; i++) {
			sets[k].counts[i][0] = 0;
			sets[k].counts[i][1] = 0;
		}
		if (atomic_load(&sets[k].readers))
			atomic_store(&sets[k].readers, 0);
	}
}

size_t st_faults_count(void)
{
	return sets[0].n;
}

const struct st_rule *st_fault_rule(size_t i)
{
	return i < sets[0].n ? &sets[0].rules[i] : NULL;
}

uint64_t st_faults_seed(void)
{
	return seed;
}

bool st_faults_use_host(void)
{
	return sets[atomic_load_explicit(&active_set, memory_order_relaxed)].use_host;
}

unsigned st_faults_active(void)
{
	return atomic_load(&active_set);
}

size_t st_faults_set_count(unsigned set)
{
	return set < 3 ? sets[set].n : 0;
}

const struct st_rule *st_faults_set_rule(unsigned set, size_t i)
{
	return set < 3 && i < sets[set].n ? &sets[set].rules[i] : NULL;
}

bool st_faults_set_enabled(unsigned set, size_t i)
{
	return set < 3 && i < sets[set].n && sets[set].enabled[i];
}

uint64_t st_faults_fns(void)
{
	return sets[atomic_load(&active_set)].fns;
}

void st_faults_use_counts(uint64_t (*counts)[ST_RULES_MAX][2])
{
	sets[1].counts = counts ? counts[0] : spare_counts[0];
	sets[2].counts = counts ? counts[1] : spare_counts[1];
}

void st_faults_discover_fds(void)
{
	discover_fds = true;
}

/* A ctl change waits for the threads still walking the set it is about
 * to rewrite. They leave within microseconds, unless one of them is
 * preempted or is this very thread, interrupted by the signal handler
 * that now makes the call: then the change waits for a later call. */
static bool wait_for_readers(struct rule_set *s)
{
	for (int i = 0; i < 64; i++) {
		if (atomic_load(&s->readers) == 0)
			return true;
		sched_yield();
	}
	return false;
}

struct report_first {
	char *buf;
	size_t cap;
};

static void keep_first_message(void *ctx, const char *message)
{
	struct report_first *rf = ctx;

	if (!rf->buf[0])
		snprintf(rf->buf, rf->cap, "%s", message);
}

/* One rule of a ctl request, parsed as the tool parsed it. */
static bool parse_one(struct st_rule *out, const struct st_ctl_rule *in, char *why, size_t cap)
{
	struct st_ruleset one = { .rules = out, .count = 0, .cap = 1 };
	struct report_first rf = { why, cap };
	size_t len = strnlen(in->text, sizeof(in->text));

	why[0] = '\0';
	if (len == sizeof(in->text)) {
		snprintf(why, cap, "a rule longer than %zu bytes", sizeof(in->text) - 1);
		return false;
	}
	if (st_rules_parse(&one, "ctl", in->text, len, false, keep_first_message, &rf) != 0)
		return false;
	if (one.count != 1) {
		snprintf(why, cap, "'%.60s' is not one rule", in->text);
		return false;
	}
	snprintf(out->origin, sizeof(out->origin), "%.*s",
		 (int)strnlen(in->origin, sizeof(in->origin) - 1), in->origin);
	return true;
}

/* The counts a rule had in the set in force, when it stays: the same
 * origin and text. */
static void carry_counts(struct rule_set *to, size_t j, const struct rule_set *from)
{
	const struct st_rule *r = &to->rules[j];

	to->counts[j][0] = to->counts[j][1] = 0;
	for (size_t i = 0; i < from->n; i++) {
		if (strcmp(from->rules[i].origin, r->origin) != 0 ||
		    strcmp(from->rules[i].text, r->text) != 0)
			continue;
		to->counts[j][0] = __atomic_load_n(&from->counts[i][0], __ATOMIC_RELAXED);
		to->counts[j][1] = __atomic_load_n(&from->counts[i][1], __ATOMIC_RELAXED);
		return;
	}
}

enum st_faults_prep st_faults_prepare(const struct st_ctl_rule *list, size_t n, unsigned *set,
				      size_t *left_out, char *why, size_t why_cap)
{
	unsigned cur = atomic_load(&active_set);
	unsigned k = cur == 1 ? 2 : 1;
	struct rule_set *s = &sets[k];

	*left_out = 0;
	why[0] = '\0';
	if (n > ST_RULES_MAX) {
		snprintf(why, why_cap, "%zu rules: at most %d", n, ST_RULES_MAX);
		return ST_FAULTS_REFUSED;
	}
	if (!wait_for_readers(s))
		return ST_FAULTS_BUSY;
	atomic_fetch_add(&set_gen[k], 1);
	s->n = 0;
	for (size_t i = 0; i < n; i++) {
		struct st_rule *r = &s->rules[s->n];
		if (!parse_one(r, &list[i], why, why_cap))
			return ST_FAULTS_REFUSED;
		if (!st_rule_for_prog(r, st_shim.prog)) {
			(*left_out)++;
			continue;
		}
		/* Loading libunwind from inside whatever call we are in (a
		 * signal handler, perhaps) is not safe: only a process that
		 * has stacks already can take caller=. */
		if (r->caller_func[0] && !st_stack_ready()) {
			snprintf(why, why_cap,
				 "%s: caller= needs call stacks, which this process did not load at start (start it with SOCKTRACE_BACKTRACE or a caller= rule)",
				 r->origin);
			return ST_FAULTS_REFUSED;
		}
		s->enabled[s->n] = list[i].enabled != 0;
		carry_counts(s, s->n, &sets[cur]);
		s->n++;
	}
	set_summarise(s);
	*set = k;
	return ST_FAULTS_READY;
}

void st_faults_commit(unsigned set)
{
	atomic_store(&active_set, set);
	if (sets[set].n)
		st_faults_any = true;
}

void st_fault_note_resolved(const char *host, const struct addrinfo *res)
{
	if (!host)
		return;
	for (; res; res = res->ai_next) {
		unsigned i = atomic_fetch_add(&resolved_next, 1) % RESOLVED_SLOTS;
		struct st_ep ep;

		st_ep_from_sockaddr(&ep, res->ai_addr, res->ai_addrlen);
		ep.port = 0;
		atomic_fetch_add(&resolved[i].seq, 1);
		resolved[i].ep = ep;
		snprintf(resolved[i].host, sizeof(resolved[i].host), "%s", host);
		atomic_fetch_add(&resolved[i].seq, 1);
	}
}

/* The name the address was resolved from, copied into buf, or NULL. */
static const char *resolved_name(const struct st_ep *ep, char *buf, size_t cap)
{
	if (!ep || !ep->family)
		return NULL;
	for (unsigned i = 0; i < RESOLVED_SLOTS; i++) {
		uint32_t s1 = atomic_load(&resolved[i].seq);
		if (s1 & 1 || resolved[i].ep.family != ep->family ||
		    memcmp(resolved[i].ep.addr, ep->addr, sizeof(ep->addr)) != 0)
			continue;
		snprintf(buf, cap, "%s", resolved[i].host);
		if (atomic_load(&resolved[i].seq) == s1)
			return buf;
	}
	return NULL;
}

/* Every rule whose selectors hold counts the call, whichever acts, so a
 * rule's when= means the same with or without the rules around it. */
/* The stack is unwound at most once per call, and only if a rule that
 * selects the call so far asks for caller=. */
struct lazy_stack {
	bool taken;
	struct st_stack stack;
};

static bool caller_in_stack(void *arg, const char *module_glob, const char *func_glob)
{
	struct lazy_stack *ls = arg;

	if (!ls->taken) {
		st_stack_capture(&ls->stack, ST_STACK_MAX);
		ls->taken = true;
	}
	return st_stack_has_caller(&ls->stack, module_glob, func_glob);
}

/* The set in force, counted as read when it is one a ctl change may
 * rewrite (see struct rule_set). */
static struct rule_set *enter_set(unsigned *k)
{
	for (;;) {
		*k = atomic_load_explicit(&active_set, memory_order_acquire);
		if (*k == 0)
			return &sets[0];
		atomic_fetch_add(&sets[*k].readers, 1);
		if (atomic_load(&active_set) == *k)
			return &sets[*k];
		atomic_fetch_sub(&sets[*k].readers, 1);
	}
}

static void leave_set(unsigned k)
{
	if (k)
		atomic_fetch_sub_explicit(&sets[k].readers, 1, memory_order_release);
}

/* Copies of ctl rules acting on this thread's calls, mapped the first time
 * the thread needs one (never in a process that is not controlled) and
 * kept for the thread's life. Used in turn: a signal handler's calls
 * nested in a blocked call take other slots, and one can only overwrite
 * the blocked call's copy with another whole rule, on this same thread,
 * after OWN_RING nested faulted calls. */
#define OWN_RING 4
static ST_TLS struct st_rule *own_ring;
static ST_TLS unsigned own_next;

static const struct st_rule *own_copy(const struct st_rule *r)
{
	if (!own_ring) {
		void *p = mmap(NULL, OWN_RING * sizeof(*own_ring), PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		/* Without memory the set's own rule serves: a change racing
		 * with this call may then show in its event's text. */
		if (p == MAP_FAILED)
			return r;
		own_ring = p;
	}
	struct st_rule *copy = &own_ring[own_next++ % OWN_RING];
	*copy = *r;
	return copy;
}

static const struct st_rule *pick(struct st_fault *f, const struct rule_set *s, unsigned k,
				  const struct st_match_ctx *ctx)
{
	for (size_t i = 0; i < s->n; i++) {
		const struct st_rule *r = &s->rules[i];
		uint64_t nth;

		if (s->any_disabled && !s->enabled[i])
			continue;
		if (!st_rule_selects(r, ctx))
			continue;
		nth = __atomic_add_fetch(&s->counts[i][0], 1, __ATOMIC_RELAXED);
		if (f->rule || !st_rule_when(r, nth) || !st_rule_prob(r, seed, (unsigned)i, nth))
			continue;
		f->rule = r;
		f->index = (unsigned)i;
		f->set = k;
		f->set_gen = atomic_load_explicit(&set_gen[k], memory_order_relaxed);
		f->nth = nth;
	}
	if (!f->rule)
		return NULL;
	__atomic_add_fetch(&s->counts[f->index][1], 1, __ATOMIC_RELAXED);
	if (k)
		f->rule = own_copy(f->rule);
	return f->rule;
}

bool st_faults_in_force(const struct st_rule *r)
{
	unsigned k;
	const struct rule_set *s = enter_set(&k);
	bool found = false;

	for (size_t i = 0; i < s->n && !found; i++)
		found = s->enabled[i] && strcmp(s->rules[i].origin, r->origin) == 0 &&
			strcmp(s->rules[i].text, r->text) == 0;
	leave_set(k);
	return found;
}

const struct st_rule *st_faults_select(struct st_fault *f, enum st_fn fn, enum st_data dir,
				       int fd, const struct sockaddr *addr, socklen_t addrlen,
				       bool addr_is_local, const char *host, uint64_t t0)
{
	struct st_fdsnap snap;
	struct st_ep addr_ep;
	char addr_text[ST_ADDR_MAX];
	char host_buf[ST_RULE_GLOB_MAX];
	struct st_match_ctx ctx = { .fn = fn, .dir = dir };
	const struct st_rule *r;
	const struct rule_set *s;
	unsigned k;

	/* A process woken by `socktrace ctl` took no time before. */
	if (st_unlikely(!t0))
		t0 = st_now();
	ctx.elapsed_ns = t0 - st_shim.start_mono;
	if (st_unlikely(discover_fds) && fd >= 0 && st_fd_kind(fd) == ST_FD_UNKNOWN)
		st_fd_is_socket(fd);
	s = enter_set(&k);
	if (fd >= 0 && (s->use_endpoints ? st_fd_snapshot_full(fd, &snap)
				       : st_fd_snapshot(fd, &snap))) {
		ctx.peer = &snap.peer_ep;
		ctx.local = &snap.local_ep;
		snap.peer[snap.peer_len] = '\0';
		snap.local[snap.local_len] = '\0';
		ctx.peer_text = snap.peer;
		ctx.local_text = snap.local;
	}
	if (addr) {
		/* The call's own address argument counts: connect's and sendto's
		 * destination, bind's local address. */
		st_ep_from_sockaddr(&addr_ep, addr, addrlen);
		st_sockaddr_json(addr_text, sizeof(addr_text), addr, addrlen);
		if (addr_is_local) {
			ctx.local = &addr_ep;
			ctx.local_text = addr_text;
		} else {
			ctx.peer = &addr_ep;
			ctx.peer_text = addr_text;
		}
	}
	ctx.host = host;
	if (!host && s->use_host)
		ctx.host = resolved_name(ctx.peer, host_buf, sizeof(host_buf));
	struct lazy_stack stack = { .taken = false };
	if (s->use_caller) {
		ctx.caller = caller_in_stack;
		ctx.caller_arg = &stack;
	}
	r = pick(f, s, k, &ctx);
	leave_set(k);
	return r;
}

_Atomic uint64_t *st_faults_text_tag(const struct st_fault *f, unsigned which)
{
	return f->set < 3 && f->index < ST_RULES_MAX && which < 2 ? &text_tags[f->set][f->index][which]
								   : NULL;
}
