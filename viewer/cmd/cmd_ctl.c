/* socktrace ctl: change the fault rules of programs already running under
 * the shim, and list them. The channel is described in
 * preload/core/ctlfile.h; this file is the command line around
 * viewer/ctlclient.c. */
#include "cmd/commands.h"
#include "cmd/ctlclient.h"
#include "rules.h"
#include "cmd/cli.h"
#include "verdict/scenario.h"

#include <errno.h>
#include <fnmatch.h>
#include <getopt.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CTL_EXIT_FAILED 1
#define CTL_EXIT_PENDING 3
#define DEFAULT_TIMEOUT_NS 1000000000ull
#define LOCK_TIMEOUT_NS 3000000000ull

static void usage(FILE *out)
{
	fputs("usage: socktrace ctl [OPTIONS] TARGET [--add|--replace] RULE... | -f FILE...\n"
	      "       socktrace ctl [OPTIONS] TARGET --disable N|ORIGIN|all\n"
	      "       socktrace ctl [OPTIONS] TARGET --enable N|ORIGIN|all\n"
	      "       socktrace ctl [OPTIONS] TARGET --clear\n"
	      "       socktrace ctl [--dir DIR] --list [--json] [PID...]\n"
	      "\n"
	      "Changes the fault rules of programs already running under the shim, without\n"
	      "restarting them; each change is recorded in the process's trace. TARGET is a\n"
	      "PID, --all (every process of yours under the shim) or --prog GLOB (those whose\n"
	      "program name matches). Rules are checked first, as `socktrace check` does: a\n"
	      "bad one is reported as argument:N:COL (or FILE:LINE:COL) and nothing is sent.\n"
	      "\n"
	      "  --add              add the rules after those in force (the default); they\n"
	      "                     are named ctl:GEN in the trace (ctl:GEN.K when several)\n"
	      "  --replace          replace every rule in force, start-up rules too\n"
	      "  -f, --file FILE    take rules from a scenario file (repeatable)\n"
	      "  --disable SEL      stop rules, keeping them: SEL is a rule's number in\n"
	      "                     --list, its origin (ctl:3, SOCKTRACE_FAULTS:1), several\n"
	      "                     of those separated by commas, or all\n"
	      "  --enable SEL       start them again\n"
	      "  --clear            remove every rule\n"
	      "  --list             the processes under the shim, their trace and their\n"
	      "                     rules, with how many calls each selected and acted on\n"
	      "  --json             --list as JSON Lines, one process per line\n"
	      "  --dir DIR          the control directory (default: $SOCKTRACE_CTL, else\n"
	      "                     where the shim puts it: $XDG_RUNTIME_DIR/socktrace\n"
	      "                     when that is the user's, else /dev/shm/socktrace-ctl-UID,\n"
	      "                     else /tmp/socktrace-ctl-UID)\n"
	      "  -t, --timeout DUR  how long to wait for each process to apply the change\n"
	      "                     (default 1s; 0: do not wait)\n"
	      "  -q, --quiet        print only problems\n"
	      "  -h, --help         this text\n"
	      "\n"
	      "A process applies a change at its next socket call (any hooked call), within\n"
	      "microseconds of it; one blocked in a call applies it when the call returns.\n"
	      "Exit status: 0 every process applied the change; 1 one refused it, is gone or\n"
	      "cannot be reached; 2 bad usage or a bad rule (nothing sent); 3 one has not\n"
	      "applied it yet (it has made no socket call since): it will at its next one.\n",
	      out);
}

enum { OPT_ADD = 1000, OPT_REPLACE, OPT_DISABLE, OPT_ENABLE, OPT_CLEAR, OPT_LIST, OPT_JSON,
       OPT_DIR, OPT_ALL, OPT_PROG };

struct ctl_args {
	enum st_ctl_op op;
	bool list, json, all, quiet, op_given;
	const char *prog, *dir, *sel;
	uint64_t timeout_ns;
	char **files;
	size_t nfiles;
	char **pos;   /* positional arguments: TARGET then RULEs, or PIDs */
	size_t npos;
	int pid;
	struct st_ctl_rule *rules; /* the rules to send, origin left empty */
	size_t nrules;
};

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
	va_list ap;
	char msg[1024];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return cli_usage_error("%s", msg);
}

static bool set_op(struct ctl_args *a, enum st_ctl_op op)
{
	if (a->op_given && a->op != op)
		return false;
	a->op = op;
	a->op_given = true;
	return true;
}

static bool parse_pid(const char *s, int *pid)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v <= 0 || v > 1 << 30 || s[0] < '0' || s[0] > '9')
		return false;
	*pid = (int)v;
	return true;
}

static int parse_options(struct ctl_args *a, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "add", no_argument, NULL, OPT_ADD },
		{ "replace", no_argument, NULL, OPT_REPLACE },
		{ "disable", required_argument, NULL, OPT_DISABLE },
		{ "enable", required_argument, NULL, OPT_ENABLE },
		{ "clear", no_argument, NULL, OPT_CLEAR },
		{ "list", no_argument, NULL, OPT_LIST },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "dir", required_argument, NULL, OPT_DIR },
		{ "all", no_argument, NULL, OPT_ALL },
		{ "prog", required_argument, NULL, OPT_PROG },
		{ "file", required_argument, NULL, 'f' },
		{ "timeout", required_argument, NULL, 't' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	a->timeout_ns = DEFAULT_TIMEOUT_NS;
	a->op = ST_CTL_OP_ADD;
	a->dir = getenv("SOCKTRACE_CTL");
	a->files = calloc((size_t)argc + 1, sizeof(char *));
	if (!a->files)
		return 1;
	optind = 1;
	while ((opt = cli_getopt(argc, argv, "f:t:qh", longopts)) != -1) {
		bool ok = true;
		switch (opt) {
		case OPT_ADD: ok = set_op(a, ST_CTL_OP_ADD); break;
		case OPT_REPLACE: ok = set_op(a, ST_CTL_OP_REPLACE); break;
		case OPT_CLEAR: ok = set_op(a, ST_CTL_OP_CLEAR); break;
		case OPT_DISABLE: ok = set_op(a, ST_CTL_OP_DISABLE); a->sel = optarg; break;
		case OPT_ENABLE: ok = set_op(a, ST_CTL_OP_ENABLE); a->sel = optarg; break;
		case OPT_LIST: a->list = true; break;
		case OPT_JSON: a->json = true; break;
		case OPT_DIR: a->dir = optarg; break;
		case OPT_ALL: a->all = true; break;
		case OPT_PROG: a->prog = optarg; break;
		case 'f': a->files[a->nfiles++] = optarg; break;
		case 'q': a->quiet = true; break;
		case 't':
			if (strcmp(optarg, "0") != 0 && !st_parse_duration(optarg, &a->timeout_ns))
				return usage_error("--timeout %s: not a duration (" ST_DURATION_EXAMPLES ")", optarg);
			if (strcmp(optarg, "0") == 0)
				a->timeout_ns = 0;
			break;
		case 'h':
			usage(stdout);
			return -1;
		default:
			return ST_EXIT_USAGE; /* cli_getopt said why */
		}
		if (!ok)
			return usage_error("%s", "one change at a time: --add, --replace, --disable, --enable or --clear");
	}
	if (a->dir && a->dir[0] && strcmp(a->dir, "off") != 0 && a->dir[0] != '/')
		return usage_error("--dir %s: give an absolute directory", a->dir);
	a->pos = argv + optind;
	a->npos = (size_t)(argc - optind);
	return 0;
}

/* The target and what is left for rules. */
static int parse_target(struct ctl_args *a)
{
	if (a->list) {
		if (a->op_given || a->nfiles || a->all || a->prog)
			return usage_error("%s", "--list takes only PIDs");
		for (size_t i = 0; i < a->npos; i++)
			if (!parse_pid(a->pos[i], &a->pid))
				return usage_error("--list %s: not a process id", a->pos[i]);
		return 0;
	}
	if (a->json)
		return usage_error("%s", "--json goes with --list");
	if ((a->all ? 1 : 0) + (a->prog ? 1 : 0) > 1)
		return usage_error("%s", "give one target: a PID, --all or --prog GLOB");
	if (!a->all && !a->prog) {
		if (a->npos == 0)
			return usage_error("%s", "which process? Give a PID, --all or --prog GLOB");
		if (!parse_pid(a->pos[0], &a->pid))
			return usage_error("%s: not a process id (the target comes first)", a->pos[0]);
		a->pos++;
		a->npos--;
	}
	if (a->op == ST_CTL_OP_ADD || a->op == ST_CTL_OP_REPLACE) {
		if (a->npos == 0 && a->nfiles == 0)
			return usage_error("%s", "no rule given (RULE arguments or -f FILE)");
	} else if (a->npos || a->nfiles) {
		return usage_error("%s", "rules go with --add or --replace only");
	}
	return 0;
}

static void print_error(void *ctx, const char *message)
{
	(void)ctx;
	fprintf(stderr, "%s\n", message);
}

static bool keep_rules(struct ctl_args *a, const struct st_ruleset *set)
{
	for (size_t i = 0; i < set->count; i++) {
		if (a->nrules >= ST_CTL_RULES_MAX) {
			fprintf(stderr, "socktrace ctl: more than %d rules\n", ST_CTL_RULES_MAX);
			return false;
		}
		snprintf(a->rules[a->nrules++].text, ST_CTL_TEXT_MAX, "%s", set->rules[i].text);
	}
	return true;
}

/* The rule arguments as the lines of one text named "argument": an error
 * in the second one reads argument:2:COL. */
static int check_arguments(const struct ctl_args *a, struct st_ruleset *set)
{
	size_t len = 0, o = 0, line = 0;
	char *text;
	int bad;

	for (size_t i = 0; i < a->npos; i++)
		len += strlen(a->pos[i]) + 1;
	text = malloc(len + 1);
	if (!text)
		return 1;
	for (size_t i = 0; i < a->npos; i++) {
		size_t n = strlen(a->pos[i]);
		if (memchr(a->pos[i], '\n', n)) {
			fprintf(stderr, "argument:%zu: one rule per argument (no newline)\n", i + 1);
			free(text);
			return 1;
		}
		memcpy(text + o, a->pos[i], n);
		o += n;
		text[o++] = '\n';
	}
	text[o - 1] = '\0';
	set->count = 0;
	bad = st_rules_parse(set, "argument", text, o - 1, false, print_error, NULL) != 0;
	free(text);
	/* A comment or a blank argument holds no rule. */
	for (size_t i = 0; !bad && i < a->npos; i++) {
		char origin[32];
		snprintf(origin, sizeof(origin), "argument:%zu", i + 1);
		if (line >= set->count || strcmp(set->rules[line].origin, origin) != 0) {
			fprintf(stderr, "%s: no rule in '%s'\n", origin, a->pos[i]);
			bad = 1;
		}
		line++;
	}
	return bad;
}

/* Checks every rule with the parser the shim uses, before anything is
 * sent: the same messages as `socktrace check`. One rule per argument,
 * named argument:N in messages. */
static int check_rules(struct ctl_args *a)
{
	struct st_ruleset set = { .cap = ST_CTL_RULES_MAX };
	int bad = 0;

	a->rules = calloc(ST_CTL_RULES_MAX, sizeof(*a->rules));
	set.rules = calloc(ST_CTL_RULES_MAX, sizeof(*set.rules));
	if (!a->rules || !set.rules) {
		free(set.rules);
		return 1;
	}
	for (size_t i = 0; i < a->nfiles && !bad; i++) {
		struct st_scenario sc;
		if (st_scenario_load_file(&sc, a->files[i]) != 0 || !keep_rules(a, &sc.rules))
			bad = 1;
		st_scenario_free(&sc);
	}
	if (!bad && a->npos && (bad = check_arguments(a, &set)) == 0)
		bad = !keep_rules(a, &set);
	free(set.rules);
	if (!bad && a->nrules == 0 && (a->op == ST_CTL_OP_ADD || a->op == ST_CTL_OP_REPLACE)) {
		fprintf(stderr, "socktrace ctl: no rule in what was given\n");
		bad = 1;
	}
	return bad ? ST_EXIT_USAGE : 0;
}

/* Processes found, kept open. */
struct targets {
	const struct ctl_args *a;
	struct ctl_proc *procs;
	size_t n, cap;
	int removed;
};

static bool wanted(const struct ctl_args *a, const struct ctl_proc *p)
{
	if (a->pid)
		return p->pid == a->pid;
	if (a->prog)
		return fnmatch(a->prog, p->file->hot.ident.prog, 0) == 0;
	return true;
}

static bool keep_target(struct ctl_proc *p, void *arg)
{
	struct targets *t = arg;

	if (!wanted(t->a, p))
		return false;
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		struct ctl_proc *more = realloc(t->procs, cap * sizeof(*more));
		if (!more)
			return false;
		t->procs = more;
		t->cap = cap;
	}
	t->procs[t->n++] = *p;
	return true;
}

static int find_targets(const struct ctl_args *a, struct targets *t, char dirs[][PATH_MAX],
			size_t *ndirs)
{
	char unsafe[PATH_MAX + 200];

	*ndirs = ctl_dirs(dirs, CTL_DIRS_MAX, a->dir, unsafe, sizeof(unsafe));
	if (unsafe[0])
		fprintf(stderr, "socktrace ctl: %s: not used\n", unsafe);
	memset(t, 0, sizeof(*t));
	t->a = a;
	for (size_t i = 0; i < *ndirs; i++) {
		int removed = ctl_scan(dirs[i], keep_target, t);
		if (removed > 0)
			t->removed += removed;
	}
	return 0;
}

static void close_targets(struct targets *t)
{
	for (size_t i = 0; i < t->n; i++)
		ctl_close(&t->procs[i]);
	free(t->procs);
}

static void looked_in(FILE *out, char dirs[][PATH_MAX], size_t ndirs)
{
	if (!ndirs) {
		fputs("(no control directory exists yet)", out);
		return;
	}
	fputs("(looked in ", out);
	for (size_t i = 0; i < ndirs; i++)
		fprintf(out, "%s%s", i ? ", " : "", dirs[i]);
	fputc(')', out);
}

/* --list */

static void format_start(char *buf, size_t cap, uint64_t real_ns)
{
	time_t t = (time_t)(real_ns / 1000000000u);
	struct tm tm;

	if (!localtime_r(&t, &tm) || !strftime(buf, cap, "%Y-%m-%d %H:%M:%S", &tm))
		snprintf(buf, cap, "?");
}

static const char *trace_of(const struct ctl_proc *p, char *buf, size_t cap)
{
	const char *dir = p->file->hot.trace_dir;

	if (p->trace[0])
		return p->trace;
	if (!dir[0])
		return "(not tracing)";
	snprintf(buf, cap, "%.*s/ (no file yet)", (int)strnlen(dir, ST_CTL_TRACE_DIR_MAX), dir);
	return buf;
}

static void list_text(const struct ctl_proc *p, const struct ctl_state *st, uint64_t pending)
{
	const struct st_ctl_ident *id = &p->file->hot.ident;
	char start[64], tbuf[PATH_MAX + 32];
	size_t width = 6;

	format_start(start, sizeof(start), id->start_real_ns);
	printf("%d  %.*s  started %s  trace %s\n", p->pid, (int)sizeof(id->prog), id->prog, start,
	       trace_of(p, tbuf, sizeof(tbuf)));
	for (size_t i = 0; i < st->count; i++)
		if (strlen(st->rules[i].origin) > width)
			width = strlen(st->rules[i].origin);
	if (!st->count)
		printf("    no rules\n");
	for (size_t i = 0; i < st->count; i++) {
		uint64_t selected, fired;
		ctl_counts(p, st->set, i, &selected, &fired);
		printf("  %2zu  %-*s  %-8s  selected %-6llu  fired %-6llu  %s\n", i + 1, (int)width,
		       st->rules[i].origin, st->rules[i].enabled ? "enabled" : "disabled",
		       (unsigned long long)selected, (unsigned long long)fired, st->rules[i].text);
	}
	if (pending)
		printf("    pending: generation %llu, not applied yet (no socket call since it was posted)\n",
		       (unsigned long long)pending);
}

static void list_json(const struct ctl_proc *p, const struct ctl_state *st, uint64_t pending)
{
	const struct st_ctl_ident *id = &p->file->hot.ident;
	json_t *o = json_object(), *rules = json_array();
	char start[64], *line;

	format_start(start, sizeof(start), id->start_real_ns);
	json_object_set_new(o, "pid", json_integer(p->pid));
	json_object_set_new(o, "ppid", json_integer(id->ppid));
	json_object_set_new(o, "prog", json_stringn(id->prog, strnlen(id->prog, sizeof(id->prog))));
	json_object_set_new(o, "start", json_string(start));
	json_object_set_new(o, "start_real_ns", json_integer((json_int_t)id->start_real_ns));
	json_object_set_new(o, "trace", p->trace[0] ? json_string(p->trace) : json_null());
	json_object_set_new(o, "control", json_string(p->path));
	json_object_set_new(o, "gen", json_integer((json_int_t)st->applied));
	json_object_set_new(o, "pending", pending ? json_integer((json_int_t)pending) : json_null());
	for (size_t i = 0; i < st->count; i++) {
		uint64_t selected, fired;
		json_t *r = json_object();
		ctl_counts(p, st->set, i, &selected, &fired);
		json_object_set_new(r, "n", json_integer((json_int_t)i + 1));
		json_object_set_new(r, "rule", json_string(st->rules[i].origin));
		json_object_set_new(r, "text", json_string(st->rules[i].text));
		json_object_set_new(r, "enabled", json_boolean(st->rules[i].enabled));
		json_object_set_new(r, "selected", json_integer((json_int_t)selected));
		json_object_set_new(r, "fired", json_integer((json_int_t)fired));
		json_array_append_new(rules, r);
	}
	json_object_set_new(o, "rules", rules);
	line = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
	if (line)
		printf("%s\n", line);
	free(line);
	json_decref(o);
}

static int pid_order(const void *x, const void *y)
{
	const struct ctl_proc *a = x, *b = y;

	return (a->pid > b->pid) - (a->pid < b->pid);
}

static int do_list(const struct ctl_args *a)
{
	char dirs[CTL_DIRS_MAX][PATH_MAX];
	struct targets t;
	struct ctl_state *st = malloc(sizeof(*st));
	size_t ndirs;

	if (!st)
		return CTL_EXIT_FAILED;
	find_targets(a, &t, dirs, &ndirs);
	qsort(t.procs, t.n, sizeof(t.procs[0]), pid_order);
	for (size_t i = 0; i < t.n; i++) {
		uint64_t seq = __atomic_load_n(&t.procs[i].file->req.seq, __ATOMIC_ACQUIRE);
		uint64_t pending;
		ctl_read_state(&t.procs[i], st);
		pending = !(seq & 1) && seq / 2 != st->applied ? seq / 2 : 0;
		if (a->json)
			list_json(&t.procs[i], st, pending);
		else
			list_text(&t.procs[i], st, pending);
	}
	if (!t.n && !a->json) {
		printf(a->pid ? "process %d is not running under the shim " :
				"no process is running under the shim ", a->pid);
		looked_in(stdout, dirs, ndirs);
		putchar('\n');
	}
	if (t.removed && !a->quiet)
		fprintf(stderr, "socktrace ctl: removed %d control file%s of processes that have ended\n",
			t.removed, t.removed == 1 ? "" : "s");
	close_targets(&t);
	free(st);
	return a->pid && !t.n ? CTL_EXIT_FAILED : 0;
}

/* Changes */

/* Marks the rules SEL names; false (with a message) when one names none. */
static bool select_rules(const char *sel, const struct st_ctl_rule *rules, size_t n,
			 bool *mark, char *why, size_t cap)
{
	char *copy = strdup(sel), *save = NULL;
	bool ok = copy != NULL;

	for (char *item = copy ? strtok_r(copy, ",", &save) : NULL; item && ok;
	     item = strtok_r(NULL, ",", &save)) {
		bool hit = false;
		int num;
		if (strcmp(item, "all") == 0) {
			for (size_t i = 0; i < n; i++)
				mark[i] = hit = true;
			hit = true;
		} else if (parse_pid(item, &num)) {
			hit = (size_t)num <= n;
			if (hit)
				mark[num - 1] = true;
		} else {
			for (size_t i = 0; i < n; i++)
				if (strcmp(rules[i].origin, item) == 0)
					mark[i] = hit = true;
		}
		if (!hit) {
			snprintf(why, cap, "no rule %s (it has %zu; see socktrace ctl --list)", item, n);
			ok = false;
		}
	}
	free(copy);
	return ok;
}

/* The new list for one process, from what it runs (or will run). */
static bool new_list(const struct ctl_args *a, const struct ctl_proc *p, struct st_ctl_rule *list,
		     size_t *n, uint64_t *superseded, char *why, size_t cap)
{
	uint64_t gen = ctl_next_gen(p);
	size_t k = 0;
	bool mark[ST_CTL_RULES_MAX] = { false };

	*n = ctl_current(p, list, superseded);
	switch (a->op) {
	case ST_CTL_OP_CLEAR:
		*n = 0;
		return true;
	case ST_CTL_OP_REPLACE:
		*n = 0;
		/* fall through */
	case ST_CTL_OP_ADD:
		if (*n + a->nrules > ST_CTL_RULES_MAX) {
			snprintf(why, cap, "%zu rules in force and %zu more: at most %d", *n, a->nrules,
				 ST_CTL_RULES_MAX);
			return false;
		}
		for (size_t i = 0; i < a->nrules; i++) {
			struct st_ctl_rule *r = &list[(*n)++];
			*r = a->rules[i];
			r->enabled = 1;
			if (a->nrules == 1)
				snprintf(r->origin, sizeof(r->origin), "ctl:%llu", (unsigned long long)gen);
			else
				snprintf(r->origin, sizeof(r->origin), "ctl:%llu.%zu",
					 (unsigned long long)gen, ++k);
		}
		return true;
	case ST_CTL_OP_ENABLE:
	case ST_CTL_OP_DISABLE:
		if (!select_rules(a->sel, list, *n, mark, why, cap))
			return false;
		for (size_t i = 0; i < *n; i++)
			if (mark[i])
				list[i].enabled = a->op == ST_CTL_OP_ENABLE;
		return true;
	default:
		return false;
	}
}

enum outcome { OUT_APPLIED, OUT_REFUSED, OUT_PENDING, OUT_GONE, OUT_FAILED };

struct change {
	struct ctl_proc *p;
	uint64_t gen;
	uint64_t posted;
	bool locked;
	enum outcome out;
	char why[1024];
};

static void post_one(const struct ctl_args *a, struct change *c, struct st_ctl_rule *list)
{
	uint64_t superseded;
	size_t n;

	c->out = OUT_FAILED;
	if (!ctl_lock(c->p, LOCK_TIMEOUT_NS)) {
		snprintf(c->why, sizeof(c->why), "another socktrace ctl holds %.400s", c->p->path);
		return;
	}
	c->locked = true;
	if (!new_list(a, c->p, list, &n, &superseded, c->why, sizeof(c->why)))
		return;
	c->posted = ctl_now();
	c->gen = ctl_post(c->p, a->op, list, n, superseded);
	c->out = OUT_PENDING;
}

static void wait_all(const struct ctl_args *a, struct change *cs, size_t n, struct ctl_state *st)
{
	uint64_t deadline = ctl_now() + a->timeout_ns;

	for (size_t i = 0; i < n; i++) {
		struct change *c = &cs[i];
		uint64_t now = ctl_now();
		enum ctl_wait_result r;

		if (c->out != OUT_PENDING)
			continue;
		r = ctl_wait(c->p, c->gen, deadline > now ? deadline - now : 0, st);
		if (r == CTL_GONE) {
			c->out = OUT_GONE;
		} else if (r == CTL_PENDING) {
			c->out = OUT_PENDING;
		} else {
			c->out = r == CTL_APPLIED ? OUT_APPLIED : OUT_REFUSED;
			if (r == CTL_APPLIED && st->applied_ns >= c->posted)
				snprintf(c->why, sizeof(c->why), "applied in %.1f ms: %s",
					 (double)(st->applied_ns - c->posted) / 1e6, st->message);
			else
				snprintf(c->why, sizeof(c->why), "%s", st->message);
		}
	}
}

static int report(const struct ctl_args *a, struct change *cs, size_t n)
{
	int status = 0;

	for (size_t i = 0; i < n; i++) {
		struct change *c = &cs[i];
		const char *prog = c->p->file->hot.ident.prog;
		FILE *out = c->out == OUT_APPLIED ? stdout : stderr;

		switch (c->out) {
		case OUT_APPLIED:
			if (!a->quiet)
				fprintf(out, "%d %s: %s\n", c->p->pid, prog, c->why);
			break;
		case OUT_PENDING:
			fprintf(out, "%d %s: pending: the process has made no socket call since the change was posted; it applies it at its next one\n",
				c->p->pid, prog);
			if (status == 0)
				status = CTL_EXIT_PENDING;
			break;
		case OUT_GONE:
			fprintf(out, "%d %s: ended before applying the change\n", c->p->pid, prog);
			status = CTL_EXIT_FAILED;
			break;
		case OUT_REFUSED:
			fprintf(out, "%d %s: refused: %s\n", c->p->pid, prog, c->why);
			status = CTL_EXIT_FAILED;
			break;
		case OUT_FAILED:
			fprintf(out, "%d %s: %s\n", c->p->pid, prog, c->why);
			status = CTL_EXIT_FAILED;
			break;
		}
	}
	return status;
}

static int do_change(const struct ctl_args *a)
{
	char dirs[CTL_DIRS_MAX][PATH_MAX];
	struct targets t;
	struct change *cs;
	struct st_ctl_rule *list = malloc(ST_CTL_RULES_MAX * sizeof(*list));
	struct ctl_state *st = malloc(sizeof(*st));
	size_t ndirs;
	int status;

	if (!list || !st) {
		free(list);
		free(st);
		return CTL_EXIT_FAILED;
	}
	find_targets(a, &t, dirs, &ndirs);
	if (!t.n) {
		if (a->pid)
			fprintf(stderr, "socktrace ctl: process %d is not running under the shim, or is not yours ",
				a->pid);
		else
			fprintf(stderr, "socktrace ctl: no process%s%s is running under the shim ",
				a->prog ? " named " : "", a->prog ? a->prog : "");
		looked_in(stderr, dirs, ndirs);
		fputc('\n', stderr);
		close_targets(&t);
		free(list);
		free(st);
		return CTL_EXIT_FAILED;
	}
	cs = calloc(t.n, sizeof(*cs));
	if (!cs) {
		close_targets(&t);
		free(list);
		free(st);
		return CTL_EXIT_FAILED;
	}
	/* Post to every process first, then wait for them together: N slow
	 * processes cost one timeout, not N. */
	for (size_t i = 0; i < t.n; i++) {
		cs[i].p = &t.procs[i];
		post_one(a, &cs[i], list);
	}
	wait_all(a, cs, t.n, st);
	status = report(a, cs, t.n);
	for (size_t i = 0; i < t.n; i++)
		if (cs[i].locked)
			ctl_unlock(cs[i].p);
	free(cs);
	close_targets(&t);
	free(list);
	free(st);
	return status;
}

int cmd_ctl(int argc, char **argv)
{
	struct ctl_args a = { .op = ST_CTL_OP_ADD };
	int rc = parse_options(&a, argc, argv);

	if (rc == 0)
		rc = parse_target(&a);
	if (rc == 0 && !a.list)
		rc = check_rules(&a);
	if (rc == 0)
		rc = a.list ? do_list(&a) : do_change(&a);
	free(a.files);
	free(a.rules);
	return rc < 0 ? 0 : rc;
}
