#include "util/symbolize.h"

#include "util/oom.h"
#include "util/hmap.h"
#include "util/textutil.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* addr2line gets this long without output or input taken before it is
 * given up (a huge program's debug information can take a while). */
#define A2L_TIMEOUT_MS 60000
/* Output kept from one addr2line run at most. */
#define A2L_OUT_MAX (64u << 20)

struct symmod {
	char *path;
	struct hmap offs;       /* uint64_t offset -> struct sym_result */
	uint64_t *pending;      /* wanted, not yet resolved */
	size_t npending, cappending;
	int usable;             /* -1 not checked, 0 not a file here, 1 a file */
};

struct symbolizer {
	char *a2l;              /* NULL: no addr2line */
	const char *prog;
	struct hmap mods;       /* path -> struct symmod */
	bool unavailable;       /* addr2line could not be started */
	unsigned long runs;
	struct sym_result empty;
};

struct symbolizer *sym_new(const char *addr2line, const char *prog)
{
	struct symbolizer *s = oom_check(calloc(1, sizeof(*s)));

	if (addr2line && *addr2line && strcmp(addr2line, "none") != 0)
		s->a2l = oom_check(strdup(addr2line));
	s->prog = prog ? prog : "socktrace";
	return s;
}

void sym_result_free(struct sym_result *r)
{
	for (size_t i = 0; i < r->nlocs; i++) {
		free(r->locs[i].func);
		free(r->locs[i].file);
	}
	free(r->locs);
	r->locs = NULL;
	r->nlocs = 0;
}

static void result_free(void *p)
{
	sym_result_free(p);
	free(p);
}

static void mod_free(void *p)
{
	struct symmod *m = p;

	hmap_free(&m->offs, result_free);
	free(m->pending);
	free(m->path);
	free(m);
}

void sym_free(struct symbolizer *s)
{
	if (!s)
		return;
	hmap_free(&s->mods, mod_free);
	free(s->a2l);
	free(s);
}

unsigned long sym_runs(const struct symbolizer *s)
{
	return s->runs;
}

static struct symmod *mod_get(struct symbolizer *s, const char *module)
{
	struct symmod *m = hmap_gets(&s->mods, module);

	if (!m) {
		m = oom_check(calloc(1, sizeof(*m)));
		m->path = oom_check(strdup(module));
		m->usable = -1;
		if (hmap_put(&s->mods, module, strlen(module), m) != 0)
			oom_check(NULL);
	}
	return m;
}

void sym_want(struct symbolizer *s, const char *module, uint64_t offset)
{
	struct symmod *m;
	struct sym_result *r;

	if (!module || !*module)
		return;
	m = mod_get(s, module);
	if (hmap_get(&m->offs, &offset, sizeof(offset)))
		return;
	r = oom_check(calloc(1, sizeof(*r)));
	if (hmap_put(&m->offs, &offset, sizeof(offset), r) != 0)
		oom_check(NULL);
	if (m->npending == m->cappending) {
		m->cappending = m->cappending ? m->cappending * 2 : 64;
		m->pending = oom_check(realloc(m->pending, m->cappending * sizeof(*m->pending)));
	}
	m->pending[m->npending++] = offset;
}

/* ---- parsing addr2line's output ---- */

char *sym_parse_location(const char *s, size_t len, unsigned long *line)
{
	const char *colon, *disc;
	char *file;

	*line = 0;
	/* "file:12 (discriminator 3)" */
	disc = memmem(s, len, " (discriminator", 15);
	if (disc)
		len = (size_t)(disc - s);
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\r'))
		len--;
	colon = NULL;
	for (size_t i = len; i > 0; i--) {
		if (s[i - 1] == ':') {
			colon = s + i - 1;
			break;
		}
	}
	if (!colon)
		return NULL;
	{
		const char *p = colon + 1, *end = s + len;
		unsigned long v = 0;
		bool digits = p < end;
		for (; p < end; p++) {
			if (*p < '0' || *p > '9') {
				digits = false;
				break;
			}
			if (v < 100000000ul)
				v = v * 10 + (unsigned long)(*p - '0');
		}
		*line = digits ? v : 0;
	}
	len = (size_t)(colon - s);
	if (len == 0 || (len == 2 && s[0] == '?' && s[1] == '?'))
		return NULL;
	file = oom_check(malloc(len + 1));
	memcpy(file, s, len);
	file[len] = '\0';
	return file;
}

/* A line that is only "0x" and hex digits, and its value. */
static bool address_line(const char *s, size_t len, uint64_t *v)
{
	uint64_t x = 0;

	if (len < 3 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
		return false;
	for (size_t i = 2; i < len; i++) {
		char c = s[i];
		unsigned d;
		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			return false;
		if (x >> 60)
			return false;
		x = (x << 4) | d;
	}
	*v = x;
	return true;
}

static void add_loc(struct sym_result *r, const char *func, size_t flen, const char *loc,
		    size_t llen)
{
	struct sym_loc *l;

	if (r->nlocs >= 64)
		return; /* no real inline chain is that deep */
	r->locs = oom_check(realloc(r->locs, (r->nlocs + 1) * sizeof(*r->locs)));
	l = &r->locs[r->nlocs++];
	memset(l, 0, sizeof(*l));
	while (flen > 0 && (func[flen - 1] == ' ' || func[flen - 1] == '\r'))
		flen--;
	if (flen > 0 && !(flen == 2 && func[0] == '?' && func[1] == '?')) {
		l->func = oom_check(malloc(flen + 1));
		memcpy(l->func, func, flen);
		l->func[flen] = '\0';
	}
	l->file = sym_parse_location(loc, llen, &l->line);
}

size_t sym_parse(const char *text, size_t len, const uint64_t *addrs, size_t n,
		 struct sym_result *res)
{
	const char *p = text, *end = text + len;
	const char *func = NULL;
	size_t flen = 0, cur = 0, blocks = 0;
	bool in_block = false;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t ll = nl ? (size_t)(nl - p) : (size_t)(end - p);
		uint64_t v;

		if (!nl)
			break; /* an incomplete last line: cut short */
		/* The next address's block starts with that address. */
		if (cur < n && (!in_block || func == NULL) && address_line(p, ll, &v) &&
		    v == addrs[cur]) {
			in_block = true;
			func = NULL;
			cur++;
			blocks++;
		} else if (in_block) {
			if (!func) {
				func = p;
				flen = ll;
			} else {
				add_loc(&res[cur - 1], func, flen, p, ll);
				func = NULL;
			}
		}
		p = nl + 1;
	}
	return blocks;
}

/* ---- running addr2line ---- */

/* Runs addr2line on one module with its pending offsets; its output goes
 * in *out. Returns false when it could not be started at all. */
static bool run_a2l(struct symbolizer *s, struct symmod *m, char **out, size_t *olen, int *err)
{
	int in[2] = { -1, -1 }, op[2] = { -1, -1 };
	posix_spawn_file_actions_t fa;
	char *argv[] = { s->a2l, "-a", "-f", "-C", "-i", "-e", m->path, NULL };
	char *input, *buf = NULL;
	size_t ilen = 0, ipos = 0, cap = 0, len = 0;
	pid_t pid;
	int rc, status;
	struct sigaction ign, old;

	*out = NULL;
	*olen = 0;
	*err = 0;
	input = oom_check(malloc(m->npending * 20 + 1));
	for (size_t i = 0; i < m->npending; i++)
		ilen += (size_t)sprintf(input + ilen, "0x%" PRIx64 "\n", m->pending[i]);
	if (pipe2(in, O_CLOEXEC) != 0 || pipe2(op, O_CLOEXEC) != 0) {
		*err = errno;
		goto fail;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	posix_spawn_file_actions_adddup2(&fa, op[1], 1);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	rc = posix_spawnp(&pid, s->a2l, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0) {
		*err = rc;
		goto fail;
	}
	s->runs++;
	close(in[0]);
	close(op[1]);
	in[0] = op[1] = -1;
	fcntl(in[1], F_SETFL, O_NONBLOCK);
	/* addr2line may exit before it has read everything (a file it cannot
	 * read): a write then fails with EPIPE instead of killing us. */
	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	sigemptyset(&ign.sa_mask);
	sigaction(SIGPIPE, &ign, &old);
	for (;;) {
		struct pollfd pf[2];
		nfds_t np = 0;
		pf[np].fd = op[0];
		pf[np].events = POLLIN;
		np++;
		if (in[1] >= 0) {
			pf[np].fd = in[1];
			pf[np].events = POLLOUT;
			np++;
		}
		rc = poll(pf, np, A2L_TIMEOUT_MS);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc <= 0) {
			fprintf(stderr, "%s: %s gave no answer about %s for %d s: stopped\n", s->prog,
				s->a2l, m->path, A2L_TIMEOUT_MS / 1000);
			kill(pid, SIGKILL);
			break;
		}
		if (np > 1 && (pf[1].revents & (POLLOUT | POLLERR | POLLHUP))) {
			ssize_t w = write(in[1], input + ipos, ilen - ipos);
			if (w > 0)
				ipos += (size_t)w;
			if ((w < 0 && errno != EAGAIN && errno != EINTR) || ipos == ilen) {
				close(in[1]); /* end of input: addr2line finishes */
				in[1] = -1;
			}
		}
		if (pf[0].revents & (POLLIN | POLLERR | POLLHUP)) {
			ssize_t r;
			if (cap - len < 65536) {
				cap = cap ? cap * 2 : 131072;
				buf = oom_check(realloc(buf, cap));
			}
			r = read(op[0], buf + len, cap - len);
			if (r == 0)
				break;
			if (r < 0) {
				if (errno == EINTR || errno == EAGAIN)
					continue;
				break;
			}
			len += (size_t)r;
			if (len > A2L_OUT_MAX) {
				kill(pid, SIGKILL);
				break;
			}
		}
	}
	sigaction(SIGPIPE, &old, NULL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (in[1] >= 0)
		close(in[1]);
	close(op[0]);
	free(input);
	*out = buf;
	*olen = len;
	return true;

fail:
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (op[i] >= 0)
			close(op[i]);
	}
	free(input);
	return false;
}

static void resolve_mod(struct symbolizer *s, struct symmod *m)
{
	struct sym_result *res;
	char *out;
	size_t olen;
	int err;

	if (m->npending == 0)
		return;
	if (m->usable < 0) {
		struct stat st;
		m->usable = stat(m->path, &st) == 0 && S_ISREG(st.st_mode);
	}
	if (!s->a2l || s->unavailable || !m->usable)
		goto done;
	if (!run_a2l(s, m, &out, &olen, &err)) {
		s->unavailable = true;
		if (err == ENOENT)
			fprintf(stderr, "%s: %s not found (binutils): call stacks show modules and offsets, without file:line\n",
				s->prog, s->a2l);
		else
			fprintf(stderr, "%s: cannot run %s: %s: call stacks show modules and offsets, without file:line\n",
				s->prog, s->a2l, strerror(err));
		goto done;
	}
	res = oom_check(calloc(m->npending, sizeof(*res)));
	sym_parse(out, olen, m->pending, m->npending, res);
	for (size_t i = 0; i < m->npending; i++) {
		struct sym_result *r = hmap_get(&m->offs, &m->pending[i], sizeof(m->pending[i]));
		if (r) {
			sym_result_free(r);
			*r = res[i];
		} else {
			sym_result_free(&res[i]);
		}
	}
	free(res);
	free(out);
done:
	m->npending = 0;
}

void sym_resolve(struct symbolizer *s)
{
	size_t pos = 0;
	const struct hmap_ent *e;

	while ((e = hmap_next(&s->mods, &pos)))
		resolve_mod(s, e->val);
}

const struct sym_result *sym_get(struct symbolizer *s, const char *module, uint64_t offset)
{
	struct symmod *m;
	struct sym_result *r;

	if (!module || !*module)
		return &s->empty;
	m = mod_get(s, module);
	r = hmap_get(&m->offs, &offset, sizeof(offset));
	if (!r) {
		sym_want(s, module, offset);
		resolve_mod(s, m);
		r = hmap_get(&m->offs, &offset, sizeof(offset));
	} else if (m->npending) {
		resolve_mod(s, m);
	}
	return r ? r : &s->empty;
}

/* ---- frames ---- */

static bool parse_hex(const char *s, uint64_t *v)
{
	return s && address_line(s, strlen(s), v);
}

bool sym_frame_decode(json_t *frame, struct sym_frame *f)
{
	memset(f, 0, sizeof(*f));
	if (!json_is_object(frame))
		return false;
	f->ip = json_string_value(json_object_get(frame, "ip"));
	f->module = json_string_value(json_object_get(frame, "module"));
	f->func = json_string_value(json_object_get(frame, "func"));
	if (f->module && !*f->module)
		f->module = NULL;
	if (f->func && !*f->func)
		f->func = NULL;
	f->has_offset = f->module &&
			parse_hex(json_string_value(json_object_get(frame, "offset")), &f->offset);
	return true;
}

void sym_want_stack(struct symbolizer *s, json_t *record)
{
	json_t *stack = json_object_get(record, "stack"), *fr;
	size_t i;
	struct sym_frame f;

	if (!json_is_array(stack))
		return;
	json_array_foreach(stack, i, fr) {
		if (sym_frame_decode(fr, &f) && f.has_offset)
			sym_want(s, f.module, f.offset);
	}
}

static const char *base_name(const char *p)
{
	const char *b = strrchr(p, '/');

	return b && b[1] ? b + 1 : p;
}

bool sym_describe(const struct sym_frame *f, const struct sym_loc *loc, bool short_paths,
		  char *func, size_t fcap, char *where, size_t wcap)
{
	bool line = loc && loc->file && loc->line > 0;

	if (line && loc->func) {
		snprintf(func, fcap, "%s", loc->func);
	} else if (line && f->func) {
		/* The recorded name without its "+0x12": the line says where. */
		const char *plus = strstr(f->func, "+0x");
		int n = plus ? (int)(plus - f->func) : (int)strlen(f->func);
		snprintf(func, fcap, "%.*s", n, f->func);
	} else if (f->func) {
		snprintf(func, fcap, "%s", f->func);
	} else if (loc && loc->func) {
		snprintf(func, fcap, "%s", loc->func);
	} else {
		snprintf(func, fcap, "?");
	}
	if (line)
		snprintf(where, wcap, "%s:%lu", short_paths ? base_name(loc->file) : loc->file,
			 loc->line);
	else if (f->module && f->has_offset)
		snprintf(where, wcap, "%s+0x%" PRIx64, short_paths ? base_name(f->module) : f->module,
			 f->offset);
	else if (f->module)
		snprintf(where, wcap, "%s", short_paths ? base_name(f->module) : f->module);
	else if (f->ip)
		snprintf(where, wcap, "%s", f->ip);
	else if (wcap)
		where[0] = '\0';
	sanitize_ascii(func);
	sanitize_ascii(where);
	return line;
}
