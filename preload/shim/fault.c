/* The fault engine: rules loaded at start-up into static memory (and
 * replaced by `socktrace ctl`, see ctl.c), a lock-free pick per call, and
 * the actions themselves. */
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
		st_log("%d error%s in the fault rules: %s does not start (check them with `socktrace check`)",
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

/* Sleeps until the monotonic deadline. Returns 0, or EINTR when a signal
 * arrived and interrupt_on_signal says the real call would have returned. */
static int sleep_until(uint64_t deadline, bool interrupt_on_signal)
{
	struct timespec ts = { (time_t)(deadline / 1000000000u), (long)(deadline % 1000000000u) };
	int rc;

	while ((rc = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL)) == EINTR)
		if (interrupt_on_signal)
			return EINTR;
	return 0;
}

/* A blocked socket call is restarted after a signal only when every
 * handler that could have run asked for SA_RESTART (signal(7)); we cannot
 * tell which signal came, so any handler without it means EINTR. */
static bool handlers_all_restart(void)
{
	for (int sig = 1; sig < NSIG; sig++) {
		struct sigaction sa;
		if (sig == SIGKILL || sig == SIGSTOP || sigaction(sig, NULL, &sa) != 0)
			continue;
		if (sa.sa_handler != SIG_DFL && sa.sa_handler != SIG_IGN &&
		    !(sa.sa_flags & SA_RESTART))
			return false;
	}
	return true;
}

static bool is_nonblocking(int fd, int msg_flags)
{
	int fl;

	if (msg_flags & MSG_DONTWAIT)
		return true;
	fl = fd >= 0 ? real_fcntl(fd, F_GETFL, NULL) : 0;
	return fl >= 0 && (fl & O_NONBLOCK);
}

/* Whether the call waits for the socket to have something to read. */
static bool call_receives(enum st_fn fn, enum st_data dir)
{
	const struct st_call_info *ci = st_call_info(fn);

	if (ci->data == ST_DATA_BOTH)
		return dir == ST_DATA_IN;
	return (ci->groups & ST_G_RECV) || ci->base == ST_FN_accept;
}

static uint64_t socket_timeout(int fd, bool receiving)
{
	struct timeval tv = { 0, 0 };
	socklen_t len = sizeof(tv);

	if (fd < 0 || real_getsockopt(fd, SOL_SOCKET, receiving ? SO_RCVTIMEO : SO_SNDTIMEO,
				      &tv, &len) != 0)
		return 0;
	return (uint64_t)tv.tv_sec * 1000000000u + (uint64_t)tv.tv_usec * 1000u;
}

/* A black hole on loopback: a listener with a backlog of 0 whose one
 * queue slot is taken by a connection never accepted. The kernel drops
 * every further SYN to it, so a socket connecting there stays in SYN_SENT
 * exactly as one whose SYNs vanish on the network: poll does not report
 * it writable, SO_ERROR stays 0, and it ends with ETIMEDOUT. Made once, on
 * the first non-blocking connect a hang applies to. */
struct tarpit {
	_Atomic int state; /* 0 none, 1 making, 2 ready, 3 failed */
	struct sockaddr_storage addr;
	socklen_t len;
};
static struct tarpit tarpit4, tarpit6;

static void make_tarpit(struct tarpit *tp, int family)
{
	int expected = 0;
	int lfd, cfd;

	if (!atomic_compare_exchange_strong(&tp->state, &expected, 1)) {
		while (atomic_load(&tp->state) == 1)
			sched_yield();
		return;
	}
	memset(&tp->addr, 0, sizeof(tp->addr));
	if (family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&tp->addr;
		in->sin_family = AF_INET;
		in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		tp->len = sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&tp->addr;
		in6->sin6_family = AF_INET6;
		in6->sin6_addr = in6addr_loopback;
		tp->len = sizeof(*in6);
	}
	lfd = real_socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cfd = real_socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || cfd < 0 || real_bind(lfd, (struct sockaddr *)&tp->addr, tp->len) != 0 ||
	    real_listen(lfd, 0) != 0 ||
	    real_getsockname(lfd, (struct sockaddr *)&tp->addr, &tp->len) != 0 ||
	    real_connect(cfd, (struct sockaddr *)&tp->addr, tp->len) != 0) {
		if (lfd >= 0)
			real_close(lfd);
		if (cfd >= 0)
			real_close(cfd);
		atomic_store(&tp->state, 3);
		return;
	}
	/* Both stay open for the life of the process, out of its way. */
	st_move_fd_high(lfd);
	st_move_fd_high(cfd);
	atomic_store(&tp->state, 2);
}

static bool connect_to(int fd, struct tarpit *tp, int family, const struct sockaddr *addr,
		       socklen_t len)
{
	make_tarpit(tp, family);
	return atomic_load(&tp->state) == 2 && real_connect(fd, addr, len) == -1 &&
	       errno == EINPROGRESS;
}

/* Starts a connect that will never be answered; false if impossible. An
 * IPv6 socket tries the IPv4 black hole as ::ffff:127.0.0.1 first (one
 * listener serves both), then, if it is IPV6_V6ONLY, one on ::1. */
static bool connect_to_tarpit(int fd)
{
	struct st_fdsnap snap;

	st_fd_snapshot(fd, &snap);
	if (snap.family == AF_INET) {
		make_tarpit(&tarpit4, AF_INET);
		return connect_to(fd, &tarpit4, AF_INET, (struct sockaddr *)&tarpit4.addr,
				  tarpit4.len);
	}
	if (snap.family != AF_INET6)
		return false;
	make_tarpit(&tarpit4, AF_INET);
	if (atomic_load(&tarpit4.state) == 2) {
		struct sockaddr_in6 mapped = { .sin6_family = AF_INET6 };
		const struct sockaddr_in *in = (const struct sockaddr_in *)&tarpit4.addr;
		mapped.sin6_port = in->sin_port;
		mapped.sin6_addr.s6_addr[10] = 0xff;
		mapped.sin6_addr.s6_addr[11] = 0xff;
		memcpy(&mapped.sin6_addr.s6_addr[12], &in->sin_addr, 4);
		if (real_connect(fd, (struct sockaddr *)&mapped, sizeof(mapped)) == -1 &&
		    errno == EINPROGRESS)
			return true;
	}
	make_tarpit(&tarpit6, AF_INET6);
	return connect_to(fd, &tarpit6, AF_INET6, (struct sockaddr *)&tarpit6.addr, tarpit6.len);
}

#define HANG_LIFTED (-1)

/* Whether a rule is still in force: `socktrace ctl` may have disabled or
 * removed it while a call hung under it. */
static bool still_in_force(const struct st_rule *r)
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

/* Sleeps until the monotonic deadline like sleep_until(deadline, true),
 * and also wakes when `socktrace ctl` posts a change (it bumps the futex
 * word in the control page): then applies it and returns HANG_LIFTED if
 * the rule is no longer in force. A process that is never controlled
 * just sleeps, as before. */
static int hang_until(uint64_t deadline, const struct st_rule *r)
{
	struct timespec ts = { (time_t)(deadline / 1000000000u), (long)(deadline % 1000000000u) };

	for (;;) {
		uint32_t seen = __atomic_load_n(&st_hot.wake, __ATOMIC_ACQUIRE);
		long rc;

		/* The hanging thread applies a request itself: the process may
		 * have no other thread to do it. */
		if (st_unlikely(st_fault_fns & ST_CTL_PENDING_BIT))
			st_ctl_poll();
		if (!still_in_force(r))
			return HANG_LIFTED;
		rc = st_syscall(SYS_futex, &st_hot.wake, FUTEX_WAIT_BITSET, seen, &ts, NULL,
			     FUTEX_BITSET_MATCH_ANY);
		if (rc == 0 || errno == EAGAIN)
			continue; /* a change was applied: is the rule still there? */
		if (errno == EINTR)
			return EINTR;
		if (errno == ETIMEDOUT)
			return 0;
		return sleep_until(deadline, true); /* no futex here: plain sleep */
	}
}

/* What a timed-out call reports: connect gives ETIMEDOUT, getaddrinfo
 * EAI_AGAIN, data and accept calls EAGAIN (SO_RCVTIMEO/SO_SNDTIMEO). */
static void hang(struct st_fault *f, enum st_fn fn, enum st_data dir, int fd, int msg_flags)
{
	bool dns = fn == ST_FN_getaddrinfo;
	bool connecting = st_call_info(fn)->base == ST_FN_connect;
	uint64_t limit = f->rule->hang_ns;
	uint64_t sock = dns ? 0 : socket_timeout(fd, call_receives(fn, dir));
	uint64_t start = st_now();
	int rc = 0;

	f->replaced = true;
	f->ret = dns ? EAI_AGAIN : -1;
	if (!dns && is_nonblocking(fd, msg_flags)) {
		/* The non-blocking form: nothing ready, come back later. A
		 * connect really starts, towards the black hole; a unix
		 * socket gets what a full unix listener gives, EAGAIN. */
		f->err = connecting && connect_to_tarpit(fd) ? EINPROGRESS : EAGAIN;
		return;
	}
	if (sock && (!limit || sock < limit))
		limit = sock;
	/* Interrupted by a signal, the call fails with EINTR when a timeout
	 * is set or some handler lacks SA_RESTART; else it hangs on. */
	for (;;) {
		rc = hang_until(limit ? start + limit : UINT64_MAX / 2, f->rule);
		if (rc != EINTR || sock || !handlers_all_restart())
			break;
	}
	f->waited_ns = st_now() - start;
	if (rc == HANG_LIFTED) {
		/* The network is back: the call is made for real. */
		f->replaced = false;
		f->ret = 0;
		return;
	}
	f->err = rc == EINTR ? EINTR : connecting ? ETIMEDOUT : EAGAIN;
}

/* A real reset. For TCP, connect(AF_UNSPEC) makes the kernel abort the
 * connection with RST whatever other descriptors (dup, fork) share it, and
 * the socket then reports ECONNRESET and EPIPE exactly as after a reset
 * from the network; SO_LINGER 0 first keeps any unsent data from being
 * flushed. Other families have no such disconnect: their connection is
 * released by putting an unconnected socket in the descriptor's place
 * (dup3), so the program's number stays valid and can never be handed to
 * something else behind its back. */
static void reset_connection(struct st_fault *f, int fd)
{
	struct linger lg = { 1, 0 };
	struct sockaddr unspec = { .sa_family = AF_UNSPEC };
	struct st_fdsnap snap;
	int fdflags, flflags, dead;

	st_fd_snapshot(fd, &snap);
	real_setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	f->replaced = true;
	f->ret = -1;
	f->err = ECONNRESET;
	if ((snap.family == AF_INET || snap.family == AF_INET6) &&
	    real_connect(fd, &unspec, sizeof(unspec)) == 0)
		return;
	fdflags = real_fcntl(fd, F_GETFD, NULL);
	flflags = real_fcntl(fd, F_GETFL, NULL);
	dead = real_socket(snap.family ? snap.family : AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (dead >= 0) {
		real_dup3(dead, fd, fdflags >= 0 && (fdflags & FD_CLOEXEC) ? O_CLOEXEC : 0);
		real_close(dead);
		if (flflags >= 0)
			real_fcntl(fd, F_SETFL, (void *)(long)flflags);
	}
}

static void apply_delay(struct st_fault *f, uint64_t t0)
{
	const struct st_rule *r = f->rule;
	int64_t d = (int64_t)r->delay_ns;

	if (r->jitter_ns) {
		uint64_t span = 2 * r->jitter_ns + 1;
		d += (int64_t)(st_rule_random(seed, f->index, f->nth, 1) % span) -
		     (int64_t)r->jitter_ns;
	}
	if (d <= 0)
		return;
	sleep_until(t0 + (uint64_t)d, false);
	f->delayed_ns = (uint64_t)d;
}

/* bandwidth=: a socket may move data again once the bytes it moved have
 * had their time on the wire. */
static bool pace(struct st_fault *f, int fd, int msg_flags)
{
	struct st_fdent *e = st_fd_entry(fd);
	uint64_t until, now = st_now();

	if (!e)
		return true;
	until = atomic_load(&e->paced_until);
	if (until <= now)
		return true;
	if (is_nonblocking(fd, msg_flags)) {
		f->replaced = true;
		f->ret = -1;
		f->err = EAGAIN;
		return false;
	}
	sleep_until(until, false);
	f->waited_ns = st_now() - now;
	return true;
}

static bool fault_begin(struct st_fault *f, enum st_fn fn, enum st_data dir, int fd,
			const struct sockaddr *addr, socklen_t addrlen, bool addr_is_local,
			const char *host, int msg_flags, uint64_t t0)
{
	struct st_fdsnap snap;
	struct st_ep addr_ep;
	char addr_text[ST_ADDR_MAX];
	char host_buf[ST_RULE_GLOB_MAX];
	struct st_match_ctx ctx = { .fn = fn, .dir = dir };
	const struct st_rule *r;
	const struct rule_set *s;
	unsigned k;
	int saved = errno;

	/* Field by field: not the copy of the rule, 2 KiB to clear on every
	 * call. */
	f->rule = NULL;
	f->index = 0;
	f->nth = 0;
	f->action = NULL;
	f->replaced = false;
	f->ret = 0;
	f->err = 0;
	f->delayed_ns = f->waited_ns = 0;
	f->asked = f->allowed = 0;
	f->flipped = 0;
	if (st_unlikely(st_fault_fns & ST_CTL_PENDING_BIT)) {
		st_ctl_poll();
		if (!st_fault_may(fn))
			return false;
	}
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
	if (!r) {
		errno = saved;
		return false;
	}
	f->action = "delay";
	if (r->delay_ns)
		apply_delay(f, t0);
	if (r->has_error) {
		f->action = "error";
		f->replaced = true;
		f->ret = fn == ST_FN_getaddrinfo ? r->error : -1;
		f->err = fn == ST_FN_getaddrinfo ? 0 : r->error;
	} else if (r->hang) {
		f->action = "hang";
		hang(f, fn, dir, fd, msg_flags);
	} else if (r->eof) {
		f->action = "close";
		f->replaced = true;
		f->ret = 0;
	} else if (r->reset) {
		f->action = "reset";
		reset_connection(f, fd);
	} else if (r->short_bytes > 0) {
		f->action = "short";
	} else if (r->corrupt_count || r->corrupt_rate > 0) {
		f->action = "corrupt";
	} else if (r->bandwidth) {
		f->action = "bandwidth";
		pace(f, fd, msg_flags);
	}
	errno = saved;
	return f->replaced;
}

bool st_fault_begin(struct st_fault *f, enum st_fn fn, int fd,
		    const struct sockaddr *addr, socklen_t addrlen, bool addr_is_local,
		    const char *host, int msg_flags, uint64_t t0)
{
	return fault_begin(f, fn, st_call_info(fn)->data, fd, addr, addrlen, addr_is_local, host,
			   msg_flags, t0);
}

bool st_fault_begin_dir(struct st_fault *f, enum st_fn fn, enum st_data dir, int fd,
			int msg_flags, uint64_t t0)
{
	return fault_begin(f, fn, dir, fd, NULL, 0, false, NULL, msg_flags, t0);
}

size_t st_fault_len(struct st_fault *f, size_t len)
{
	const struct st_rule *r = f->rule;
	size_t cap = len;

	if (!r)
		return len;
	if (r->short_bytes > 0 && (size_t)r->short_bytes < cap)
		cap = (size_t)r->short_bytes;
	if (r->bandwidth) {
		/* At most 50 ms worth per call, so pacing stays smooth. */
		size_t chunk = r->bandwidth / 20 ? (size_t)(r->bandwidth / 20) : 1;
		if (chunk < cap)
			cap = chunk;
	}
	if (cap < len) {
		f->asked = len;
		f->allowed = cap;
	}
	return cap;
}

size_t st_fault_iov(struct st_fault *f, const struct iovec *iov, size_t cnt,
		    struct iovec *out, size_t out_cap)
{
	size_t total = 0, want, n = 0;

	for (size_t i = 0; i < cnt; i++)
		total += iov[i].iov_len;
	want = st_fault_len(f, total);
	for (size_t i = 0; i < cnt && n < out_cap && want; i++) {
		out[n] = iov[i];
		if (out[n].iov_len > want)
			out[n].iov_len = want;
		want -= out[n].iov_len;
		n++;
	}
	return n;
}

/* Which bytes to flip: corrupt=N flips N bytes, corrupt=RATE each byte
 * with that probability; positions and values come from the seed. */
static void flip(struct st_fault *f, unsigned char *p, size_t n, size_t base)
{
	const struct st_rule *r = f->rule;

	if (r->corrupt_count) {
		for (uint32_t k = 0; k < r->corrupt_count && base == 0; k++) {
			uint64_t x = st_rule_random(seed, f->index, f->nth, 2 + k);
			if (!n)
				return;
			p[x % n] ^= (unsigned char)((x >> 32) % 255 + 1);
			f->flipped++;
		}
		return;
	}
	uint64_t threshold = (uint64_t)(r->corrupt_rate * 18446744073709551615.0);
	for (size_t i = 0; i < n; i++) {
		uint64_t x = st_rule_random(seed, f->index, f->nth, (unsigned)(base + i) + 1000);
		if (x < threshold) {
			p[i] ^= (unsigned char)((x >> 17) % 255 + 1);
			f->flipped++;
		}
	}
}

void st_fault_received(struct st_fault *f, void *buf, ssize_t n)
{
	if (f->rule && (f->rule->corrupt_count || f->rule->corrupt_rate > 0) && buf && n > 0)
		flip(f, buf, (size_t)n, 0);
}

void st_fault_received_iov(struct st_fault *f, const struct iovec *iov, size_t cnt, ssize_t n)
{
	size_t left = n > 0 ? (size_t)n : 0, base = 0;

	if (!f->rule || !(f->rule->corrupt_count || f->rule->corrupt_rate > 0))
		return;
	/* corrupt=N picks its bytes in the first buffer that holds data. */
	for (size_t i = 0; i < cnt && left; i++) {
		size_t take = iov[i].iov_len < left ? iov[i].iov_len : left;
		flip(f, iov[i].iov_base, take, base);
		base += take;
		left -= take;
	}
}

const void *st_fault_sending(struct st_fault *f, const void *buf, size_t *len, void *scratch)
{
	if (!f->rule || !(f->rule->corrupt_count || f->rule->corrupt_rate > 0) || !buf || !*len)
		return buf;
	if (*len > ST_CORRUPT_SEND_MAX) {
		f->asked = *len;
		f->allowed = ST_CORRUPT_SEND_MAX;
		*len = ST_CORRUPT_SEND_MAX;
	}
	if (scratch != buf)
		memcpy(scratch, buf, *len);
	flip(f, scratch, *len, 0);
	return scratch;
}

void st_fault_end(struct st_fault *f, int fd, ssize_t bytes)
{
	struct st_fdent *e;
	uint64_t now, until;

	if (!f->rule || !f->rule->bandwidth || bytes <= 0 || !(e = st_fd_entry(fd)))
		return;
	now = st_now();
	until = atomic_load(&e->paced_until);
	if (until < now)
		until = now;
	until += (uint64_t)bytes * 1000000000u / f->rule->bandwidth;
	atomic_store(&e->paced_until, until);
}

/* One of the rule's texts: a reference when the file has it. */
static void rule_text(struct rb *b, struct st_interns *in, enum st_field field,
		      const struct st_fault *f, unsigned which, const char *text)
{
	_Atomic uint64_t *tag = f->set < 3 && f->index < ST_RULES_MAX
					? &text_tags[f->set][f->index][which] : NULL;
	uint32_t id = st_intern_id(in, tag, f->set_gen);

	if (id)
		st_intern_ref(b, field, id);
	else
		st_intern_def(b, in, field, text, strlen(text), tag, f->set_gen);
}

void st_fault_rec(struct rb *b, struct st_interns *in, const struct st_fault *f)
{
	const struct st_rule *r = f->rule;

	if (!r)
		return;
	rb_obj(b, ST_F_fault);
	rule_text(b, in, ST_F_rule, f, 0, r->origin);
	rule_text(b, in, ST_F_text, f, 1, r->text);
	rb_cname(b, ST_F_action, f->action);
	rb_u64(b, ST_F_nth, f->nth);
	/* made: the real call ran, and ret/errno are what it returned. */
	rb_bool(b, ST_F_made, !f->replaced);
	if (f->delayed_ns)
		rb_u64(b, ST_F_delay_ns, f->delayed_ns);
	if (f->waited_ns)
		rb_u64(b, ST_F_waited_ns, f->waited_ns);
	if (f->allowed) {
		rb_u64(b, ST_F_asked, f->asked);
		rb_u64(b, ST_F_allowed, f->allowed);
	}
	if (f->flipped)
		rb_u64(b, ST_F_flipped, f->flipped);
	rb_end(b);
}
