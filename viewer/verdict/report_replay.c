/* The replay section of a report (see report_replay.h). */
#include "verdict/report_replay.h"

#include "util/hmap.h"
#include "util/oom.h"
#include "verdict/report.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

struct replay {
	struct hmap acted; /* rule origin ("FILE:LINE") -> count (uintptr_t) */
};

struct replay *replay_new(void)
{
	return xcalloc(1, sizeof(struct replay));
}

void replay_count(struct replay *rp, const struct vev *ev)
{
	if (ev->fault && ev->fault_rule)
		hmap_count(&rp->acted, ev->fault_rule);
}

/* An argument as a POSIX shell reads it back. */
static void shell_word(FILE *out, const char *s)
{
	if (*s && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_./:=,+-@%") ==
			  strlen(s)) {
		fputs(s, out);
		return;
	}
	fputc('\'', out);
	for (; *s; s++) {
		if (*s == '\'')
			fputs("'\\''", out);
		else if (*s == '\n')
			fputc(' ', out);
		else
			fputc(*s, out);
	}
	fputc('\'', out);
}

/* Rules given on the command line or in the environment have no file. */
static bool origin_is_file(const char *origin, size_t *file_len)
{
	const char *colon = strrchr(origin, ':');

	*file_len = colon ? (size_t)(colon - origin) : strlen(origin);
	return strncmp(origin, "SOCKTRACE_FAULTS", 16) != 0 && *file_len > 0;
}

/* socktrace run --seed N -s FILE -f RULE -- ARGV, for the process of h. */
static void replay_command(FILE *out, json_t *h)
{
	json_t *rules = json_object_get(h, "rules"), *argv = json_object_get(h, "argv"), *x;
	json_t *seed = json_object_get(h, "seed");
	char **files = NULL;
	size_t nfiles = 0, i;

	fputs("socktrace run", out);
	if (json_is_integer(seed))
		fprintf(out, " --seed %lld", (long long)json_integer_value(seed));
	json_array_foreach(rules, i, x) {
		const char *origin = json_string_value(json_object_get(x, "rule"));
		const char *text = json_string_value(json_object_get(x, "text"));
		size_t len;
		bool seen = false;
		if (!origin || !text)
			continue;
		if (!origin_is_file(origin, &len)) {
			fputs(" -f ", out);
			shell_word(out, text);
			continue;
		}
		for (size_t k = 0; k < nfiles && !seen; k++)
			seen = strlen(files[k]) == len && strncmp(files[k], origin, len) == 0;
		if (seen)
			continue;
		files = xrealloc(files, (nfiles + 1) * sizeof(*files));
		files[nfiles] = xstrdup(origin);
		files[nfiles][len] = '\0';
		fputs(" -s ", out);
		shell_word(out, files[nfiles++]);
	}
	fputs(" --", out);
	json_array_foreach(argv, i, x) {
		fputc(' ', out);
		shell_word(out, json_string_value(x) ? json_string_value(x) : "");
	}
	fputc('\n', out);
	for (size_t k = 0; k < nfiles; k++)
		free(files[k]);
	free(files);
}

/* Whether pid is one of the traced processes. */
static bool traced(const struct tr_reader *r, int pid)
{
	for (size_t i = 0; i < r->nfiles; i++)
		if (r->files[i]->pid == pid)
			return true;
	return false;
}

void replay_print(struct replay *rp, const struct tr_reader *r, FILE *out)
{
	json_t **roots = xcalloc(r->nfiles + 1, sizeof(*roots));
	json_t *rules = json_array(); /* each distinct rule, first seen first */
	size_t nroots = 0;
	char *last_cmd = NULL;

	for (size_t i = 0; i < r->nfiles; i++) {
		const struct tr_file *f = r->files[i];
		json_t *h = tr_file_header(f), *x;
		size_t k;
		if (!h)
			continue;
		json_array_foreach(json_object_get(h, "rules"), k, x) {
			const char *origin = json_string_value(json_object_get(x, "rule"));
			bool dup = false;
			size_t m;
			json_t *y;
			json_array_foreach(rules, m, y)
				dup |= origin && json_equal(y, x);
			if (origin && !dup)
				json_array_append(rules, x);
		}
		/* A program started on its own: a child of a traced process
		 * comes from it, and so does a later image of the same pid. */
		if (traced(r, f->ppid) || (i > 0 && r->files[i - 1]->pid == f->pid))
			json_decref(h);
		else
			roots[nroots++] = h;
	}
	if (json_array_size(rules) > 0) {
		fputs("\n### Replay\n\nThe same programs with the same rules and seed:\n\n```sh\n", out);
		for (size_t i = 0; i < nroots; i++) {
			char *cmd = NULL;
			size_t len = 0;
			FILE *m = open_memstream(&cmd, &len);
			if (!m)
				oom_exit();
			replay_command(m, roots[i]);
			fclose(m);
			/* Twenty clients started alike: one line. */
			if (!last_cmd || strcmp(cmd, last_cmd) != 0)
				fputs(cmd, out);
			free(last_cmd);
			last_cmd = cmd;
		}
		fputs("```\n\n| rule | where | acted |\n|---|---|---|\n", out);
		size_t i;
		json_t *x;
		json_array_foreach(rules, i, x) {
			const char *origin = json_string_value(json_object_get(x, "rule"));
			const char *text = json_string_value(json_object_get(x, "text"));
			uintptr_t n = hmap_counted(&rp->acted, origin);
			fputs("| ", out);
			md_code(out, text ? text : "?");
			fputs(" | ", out);
			md_code(out, origin);
			fprintf(out, " | %s%lu time%s |\n", n ? "" : "⚠️ ", (unsigned long)n,
				n == 1 ? "" : "s");
		}
	}
	free(last_cmd);
	for (size_t i = 0; i < nroots; i++)
		json_decref(roots[i]);
	free(roots);
	json_decref(rules);
}

void replay_free(struct replay *rp)
{
	if (!rp)
		return;
	hmap_free(&rp->acted, NULL);
	free(rp);
}
