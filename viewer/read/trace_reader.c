/* The streaming trace reader: file list, headers, line reader, merge. */
#include "read/trace_reader.h"

#include "read/binrec.h"
#include "read/instream.h"
#include "read/progname.h"
#include "read/trace_fields.h"
#include "recframe.h"

#include <socktrace/trace_format.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#define TR_BUF (16 * 1024)

/* A file as messages name it: standard input is "stdin". */
#define SHOWN(f) ins_shown((f)->path)

enum line_status {
	LN_LINE,  /* a whole line, ended by '\n' */
	LN_CUT,   /* bytes ended by NUL or by the end of the file */
	LN_END,   /* nothing more */
	LN_ERR,   /* read error or a line too long (printed) */
	LN_BAD,   /* a whole binary record this reader cannot use (r->bad_why) */
};

static void diag(const struct tr_reader *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void diag(const struct tr_reader *r, const char *fmt, ...)
{
	va_list ap;

	if (!r->diag)
		return;
	va_start(ap, fmt);
	vfprintf(r->diag, fmt, ap);
	va_end(ap);
}

/* ---- the file list ---- */

static int add_path(char ***list, size_t *n, size_t *cap, const char *path)
{
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		char **nl = realloc(*list, ncap * sizeof(*nl));
		if (!nl)
			return -1;
		*list = nl;
		*cap = ncap;
	}
	(*list)[*n] = strdup(path);
	if (!(*list)[*n])
		return -1;
	(*n)++;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool has_suffix(const char *name, const char *suffix)
{
	size_t len = strlen(name);
	size_t sl = strlen(suffix);

	return len > sl && strcmp(name + len - sl, suffix) == 0;
}

bool tr_is_trace_name(const char *name)
{
	return name[0] != '.' && (has_suffix(name, SOCKTRACE_FILE_SUFFIX_BINARY) ||
				  has_suffix(name, SOCKTRACE_FILE_SUFFIX_JSONL));
}

bool tr_is_any_trace_name(const char *name)
{
	char stem[NAME_MAX + 1];
	size_t n;

	if (tr_is_trace_name(name))
		return true;
	if (!ins_compressed_name(name, &n) || n >= sizeof(stem))
		return false;
	memcpy(stem, name, n);
	stem[n] = '\0';
	return tr_is_trace_name(stem);
}

/* Adds the trace files of dir, sorted by name; 0 when there are none. */
static int list_dir(const struct tr_reader *r, const char *dir, char ***list, size_t *n,
		    size_t *cap, size_t *found)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t first = *n;
	char path[PATH_MAX];

	*found = 0;
	if (!d) {
		diag(r, "socktrace: cannot read %s: %s\n", dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d))) {
		struct stat st;
		if (!tr_is_any_trace_name(de->d_name))
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= sizeof(path))
			continue;
		if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		if (add_path(list, n, cap, path) != 0) {
			closedir(d);
			return -1;
		}
		(*found)++;
	}
	closedir(d);
	if (*n > first)
		qsort(*list + first, *n - first, sizeof(char *), cmp_str);
	return 0;
}

static int expand(const struct tr_reader *r, const char *path, char ***list, size_t *n,
		  size_t *cap)
{
	struct stat st;
	size_t found;
	char latest[PATH_MAX];

	if (ins_is_stdin(path))
		return add_path(list, n, cap, path);
	if (stat(path, &st) != 0) {
		diag(r, "socktrace: cannot read %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return add_path(list, n, cap, path);
	if (list_dir(r, path, list, n, cap, &found) != 0)
		return -1;
	if (found)
		return 0;
	/* socktrace-out itself: the runs are below it, `latest` names the last. */
	if ((size_t)snprintf(latest, sizeof(latest), "%s/latest", path) < sizeof(latest) &&
	    stat(latest, &st) == 0 && S_ISDIR(st.st_mode)) {
		if (list_dir(r, latest, list, n, cap, &found) != 0)
			return -1;
		if (found)
			return 0;
	}
	diag(r, "socktrace: %s: no trace files (*%s, *%s, also .gz or .zst) in this directory\n",
	     path, SOCKTRACE_FILE_SUFFIX_BINARY, SOCKTRACE_FILE_SUFFIX_JSONL);
	return -1;
}

const char *tr_default_path(void)
{
	const char *env = getenv("SOCKTRACE_OUT");
	struct stat st;

	/* Where the shim writes: SOCKTRACE_OUT, else ./socktrace-out (whose
	 * `latest` is what `socktrace run` made last). */
	if (env && *env && strcmp(env, "off") != 0)
		return env;
	if (stat("socktrace-out/latest", &st) == 0 && S_ISDIR(st.st_mode))
		return "socktrace-out/latest";
	return "socktrace-out";
}

/* ---- lines ---- */

/* Room for n bytes in the shared line buffer, grown by doubling. */
static int line_room(struct tr_reader *r, size_t n)
{
	size_t ncap = r->line_cap ? r->line_cap : 4096;

	if (r->line_cap >= n)
		return 0;
	while (ncap < n)
		ncap *= 2;
	char *nl = realloc(r->line, ncap);
	if (!nl) {
		diag(r, "socktrace: out of memory\n");
		return -1;
	}
	r->line = nl;
	r->line_cap = ncap;
	return 0;
}

static int line_append(struct tr_reader *r, struct tr_file *f, size_t *n, const char *p,
		       size_t k)
{
	if (*n + k + 1 > TR_LINE_MAX + 1) {
		diag(r, "socktrace: %s:%ld: line longer than %d bytes: not a socktrace trace\n",
		     SHOWN(f), f->line + 1, TR_LINE_MAX);
		return -1;
	}
	if (line_room(r, *n + k + 1) != 0)
		return -1;
	memcpy(r->line + *n, p, k);
	*n += k;
	r->line[*n] = '\0';
	return 0;
}

/* Up to n bytes of f's content (decompressed), 0 at the end: where
 * compressed data stop early, f->stream_cut says so. */
static ssize_t file_read(struct tr_file *f, void *buf, size_t n)
{
	ssize_t got = ins_read(f->in, buf, n);

	if (got == 0 && ins_damage(f->in))
		f->stream_cut = true;
	return got;
}

/* The stream of f ended early (cut or corrupt compressed data): true
 * the first time, so that the end is a cut record, once. */
static bool stream_cut_news(struct tr_file *f)
{
	if (!f->stream_cut || f->cut_told)
		return false;
	f->cut_told = true;
	return true;
}

/* The next line of f into r->line. NUL bytes between lines (the padding
 * of a killed writer) are skipped; NUL bytes right after some text end an
 * incomplete record. Line numbers count '\n' only, as editors do. */
static enum line_status next_frame(struct tr_reader *r, struct tr_file *f, size_t *len);

static enum line_status next_line(struct tr_reader *r, struct tr_file *f, size_t *len)
{
	size_t n = 0;

	if (f->binary)
		return next_frame(r, f, len);

	if (r->line_cap)
		r->line[0] = '\0';
	for (;;) {
		if (f->pos == f->len) {
			ssize_t got;
			if (f->eof)
				goto at_end;
			got = file_read(f, f->buf, TR_BUF);
			if (got < 0) {
				diag(r, "socktrace: cannot read %s: %s\n", SHOWN(f), strerror(errno));
				return LN_ERR;
			}
			if (got == 0) {
				f->eof = true;
				goto at_end;
			}
			f->pos = 0;
			f->len = (size_t)got;
		}
		char *p = f->buf + f->pos;
		size_t avail = f->len - f->pos;
		if (n == 0) {
			size_t z = 0;
			while (z < avail && p[z] == '\0')
				z++;
			f->pos += z;
			f->consumed += (off_t)z;
			if (z == avail)
				continue;
			p += z;
			avail -= z;
		}
		char *nl = memchr(p, '\n', avail);
		size_t k = nl ? (size_t)(nl - p) : avail;
		char *nul = memchr(p, '\0', k);
		if (nul)
			k = (size_t)(nul - p);
		if (line_append(r, f, &n, p, k) != 0)
			return LN_ERR;
		f->pos += k;
		f->consumed += (off_t)k;
		if (nul) {
			*len = n;
			return LN_CUT;
		}
		if (nl) {
			f->pos++;
			f->consumed++;
			f->line++;
			*len = n;
			return LN_LINE;
		}
	}
at_end:
	/* Compressed data cut short end in a cut record, even between
	 * lines: what followed is lost. */
	if (n > 0) {
		f->cut_told |= f->stream_cut;
		*len = n;
		return LN_CUT;
	}
	if (!stream_cut_news(f))
		return LN_END;
	if (line_room(r, 1) != 0)
		return LN_ERR;
	r->line[0] = '\0';
	*len = 0;
	return LN_CUT;
}

/* ---- binary frames ---- */

/* Keeps at least want bytes from pos in the buffer (fewer at the end of
 * the file): 0, or -1 after printing why. */
static int fill(struct tr_reader *r, struct tr_file *f, size_t want)
{
	if (f->pos > 0) {
		memmove(f->buf, f->buf + f->pos, f->len - f->pos);
		f->len -= f->pos;
		f->pos = 0;
	}
	if (want > f->cap) {
		char *nb = realloc(f->buf, want);
		if (!nb) {
			diag(r, "socktrace: out of memory\n");
			return -1;
		}
		f->buf = nb;
		f->cap = want;
	}
	while (f->len < want && !f->eof) {
		ssize_t got = file_read(f, f->buf + f->len, f->cap - f->len);
		if (got < 0) {
			diag(r, "socktrace: cannot read %s: %s\n", SHOWN(f), strerror(errno));
			return -1;
		}
		if (got == 0)
			f->eof = true;
		f->len += (size_t)got;
	}
	return 0;
}


/* The next record of a binary file, as its JSON line into r->line. NUL
 * bytes (holes) are skipped; bytes that start no frame that checks (a
 * record cut by a killed writer, damage) are skipped up to the next
 * frame that does and reported as one incomplete record. */
static enum line_status next_frame(struct tr_reader *r, struct tr_file *f, size_t *len)
{
	bool damaged = false;
	size_t want = ST_FRAME_HEAD_MAX;

	if (line_room(r, ST_JSON_LINE_MAX + 1) != 0)
		return LN_ERR;
	r->line[0] = '\0';
	*len = 0;
	for (;;) {
		size_t avail = f->len - f->pos;
		if (avail < want && !f->eof) {
			if (fill(r, f, want > TR_BUF ? want : TR_BUF) != 0)
				return LN_ERR;
			continue;
		}
		if (avail == 0) {
			/* Compressed data cut short: what followed is lost. */
			if (damaged)
				f->cut_told |= f->stream_cut;
			else if (!stream_cut_news(f))
				return LN_END;
			f->line++;
			return LN_CUT;
		}
		const uint8_t *p = (const uint8_t *)f->buf + f->pos;
		if (*p == 0) {
			size_t z = 1;
			while (z < avail && p[z] == 0)
				z++;
			f->pos += z;
			f->consumed += (off_t)z;
			/* Inside damage, the zeros are the unwritten rest of a cut
			 * record, reported as such; elsewhere, a hole or padding. */
			if (!damaged)
				f->nul_pending += z;
			continue;
		}
		size_t flen, boff, blen;
		enum st_frame_res res = st_frame_parse(p, avail, &flen, &boff, &blen);
		if (res == ST_FRAME_MORE && !f->eof) {
			/* The length, when there is one, says how much to get. */
			size_t need = avail + TR_BUF;
			uint64_t body = 0;
			const uint8_t *q = p + 1;
			if (avail >= 4 && st_get_varint(&q, p + 4, &body) && body <= ST_FRAME_BODY_MAX)
				need = (size_t)(q - p) + (size_t)body + ST_FRAME_TAIL;
			want = need > avail ? need : avail + 1;
			continue;
		}
		want = ST_FRAME_HEAD_MAX;
		if (res != ST_FRAME_OK) {
			/* Not a frame here: look for one further on. */
			damaged = true;
			f->pos++;
			f->consumed++;
			continue;
		}
		if (damaged) {
			f->line++;
			return LN_CUT; /* the frame found is the next call's */
		}
		/* NUL bytes with a record after them: a hole, not padding. */
		f->nul_holes += f->nul_pending;
		f->nul_pending = 0;
		f->pos += flen;
		f->consumed += (off_t)flen;
		f->line++;
		/* The fast path without lines to keep: the fields straight
		 * from the record, no line printed and scanned. */
		if (r->fast && !r->keep_lines && p[boff] == ST_K_CALL &&
		    (r->bin_fields = bin_call_fields(&f->bin, p + boff, blen)) != NULL)
			return LN_LINE;
		if (line_room(r, blen + 2) != 0)
			return LN_ERR;
		size_t n = bin_body_json(&f->bin, p + boff, blen, r->line, r->line_cap - 1,
					 &r->bad_why);
		if (!n && !r->bad_why)
			continue; /* a kind of record this reader does not know */
		if (!n)
			return LN_BAD;
		/* As next_line gives it: without the newline. */
		r->line[n - 1] = '\0';
		*len = n - 1;
		return LN_LINE;
	}
}

/* Whether f, at its start, is a binary trace: its prologue is read, the
 * buffer left after it. 1: binary; 0: not (JSON Lines, or something
 * else read_header judges); 2: a prologue cut short; -1: an error or a
 * binary version this reader does not take (printed). */
static int sniff_binary(struct tr_reader *r, struct tr_file *f)
{
	int64_t base;
	unsigned major, minor;

	if (fill(r, f, ST_PROLOGUE_LEN) != 0)
		return -1;
	if (!st_prologue_is((const uint8_t *)f->buf, f->len - f->pos))
		return 0;
	if (f->len - f->pos < ST_PROLOGUE_LEN)
		return 2;
	if (st_prologue_read((const uint8_t *)f->buf + f->pos, &base, &major, &minor) != 0) {
		diag(r, "socktrace: %s: binary trace version %u.%u: this socktrace reads version %u.x only\n",
		     SHOWN(f), major, minor, ST_BINARY_MAJOR);
		return -1;
	}
	f->binary = true;
	bin_file_init(&f->bin, base);
	f->pos += ST_PROLOGUE_LEN;
	f->consumed += ST_PROLOGUE_LEN;
	return 1;
}

/* ---- records ---- */

static bool get_i64(json_t *o, const char *key, int64_t *v)
{
	json_t *x = json_object_get(o, key);

	if (!json_is_integer(x))
		return false;
	*v = (int64_t)json_integer_value(x);
	return true;
}

static void note_invalid(struct tr_reader *r, struct tr_file *f, long line, const char *why)
{
	r->skipped_invalid++;
	if (!r->first_invalid[0])
		snprintf(r->first_invalid, sizeof(r->first_invalid), "%s:%ld: %s", SHOWN(f), line,
			 why);
}

static void note_cut(struct tr_reader *r, struct tr_file *f, long line)
{
	r->skipped_cut++;
	if (!r->first_cut[0])
		snprintf(r->first_cut, sizeof(r->first_cut), "%s:%ld", SHOWN(f), line);
}

/* Compressed data that ended early, once per file (its cut record is
 * counted by note_cut). */
static void note_damage(struct tr_reader *r, struct tr_file *f)
{
	if (!f->stream_cut || f->damage_noted)
		return;
	f->damage_noted = true;
	r->damaged_streams++;
	if (!r->first_damaged[0])
		snprintf(r->first_damaged, sizeof(r->first_damaged), "%s: %s", SHOWN(f),
			 ins_damage(f->in));
}

/* What the reader checks of every record, from either decoder. */
struct rec_head {
	const char *rec;     /* NULL: no string "rec" */
	bool has_ts, has_pid, has_dur, has_dropped, fn_is_str;
	int64_t ts, pid, dur, dropped;
};

static void head_of_json(json_t *j, struct rec_head *h)
{
	memset(h, 0, sizeof(*h));
	h->rec = json_string_value(json_object_get(j, "rec"));
	h->has_ts = get_i64(j, "ts", &h->ts);
	h->has_pid = get_i64(j, "pid", &h->pid);
	h->has_dur = get_i64(j, "dur", &h->dur);
	h->has_dropped = get_i64(j, "dropped", &h->dropped);
	h->fn_is_str = json_is_string(json_object_get(j, "fn"));
}

static void head_of_fields(const struct tr_fields *t, struct rec_head *h)
{
	memset(h, 0, sizeof(*h));
	h->rec = tf_str(t, TF_REC);
	h->has_ts = tf_int(t, TF_TS, &h->ts);
	h->has_pid = tf_int(t, TF_PID, &h->pid);
	h->has_dur = tf_int(t, TF_DUR, &h->dur);
	h->has_dropped = tf_int(t, TF_DROPPED, &h->dropped);
	h->fn_is_str = tf_str(t, TF_FN) != NULL;
}

/* The line as a jansson tree: 1 and *out (an object), 0 when the line is
 * skipped (accounted for when count), -1 when the file is corrupt
 * (printed). */
static int load_json(struct tr_reader *r, struct tr_file *f, enum line_status st, size_t n,
		     long lineno, bool count, json_t **out)
{
	json_error_t err;
	json_t *j = json_loadb(r->line, n, JSON_ALLOW_NUL, &err);

	if (st == LN_CUT && !json_is_object(j)) {
		/* A record whose writer was killed while copying it. */
		json_decref(j);
		if (count)
			note_cut(r, f, lineno);
		return 0;
	}
	if (!j) {
		diag(r, "socktrace: %s:%ld: not valid JSON (%s, at column %d): the file is corrupt\n",
		     SHOWN(f), lineno, err.text, err.column);
		return -1;
	}
	if (!json_is_object(j)) {
		if (count)
			note_invalid(r, f, lineno, "not a JSON object");
		json_decref(j);
		return 0;
	}
	*out = j;
	return 1;
}

static bool kind_of(const char *rec, enum tr_kind *kind)
{
	static const struct {
		const char *name;
		enum tr_kind kind;
	} kinds[] = {
		{ SOCKTRACE_REC_CALL, TR_CALL },   { SOCKTRACE_REC_EXEC, TR_EXEC },
		{ SOCKTRACE_REC_END, TR_END },     { SOCKTRACE_REC_WARNING, TR_WARNING },
		{ SOCKTRACE_REC_CTL, TR_CTL },
	};

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (strcmp(rec, kinds[i].name) == 0) {
			*kind = kinds[i].kind;
			return true;
		}
	}
	return false;
}

/* Checks a record's head and fills out's kind and times: true when the
 * record is used, false when it is skipped (accounted for when count). */
static bool use_record(struct tr_reader *r, struct tr_file *f, long lineno, bool count,
		       const struct rec_head *h, struct tr_record *out)
{
	const char *why = NULL;
	int64_t dur = 0, key;

	if (!h->rec) {
		why = "no \"rec\" field";
	} else if (!kind_of(h->rec, &out->kind)) {
		/* A newer minor version may add kinds: ignore them. A second
		 * header (files concatenated) is ignored the same way. */
		if (count)
			r->skipped_unknown++;
		return false;
	} else if (!h->has_ts || h->ts < 0) {
		why = "no integer \"ts\"";
	} else if (!h->has_pid) {
		why = "no integer \"pid\"";
	} else if (out->kind == TR_CALL && !h->fn_is_str) {
		why = "no \"fn\"";
	}
	if (why) {
		if (count)
			note_invalid(r, f, lineno, why);
		return false;
	}
	if (out->kind == TR_CALL && h->has_dur && h->dur >= 0)
		dur = h->dur;
	if (count && out->kind == TR_END && h->has_dropped && h->dropped > 0) {
		/* A full disk, say: the trace misses records. */
		if (!r->dropped)
			snprintf(r->first_dropped, sizeof(r->first_dropped), "%s", SHOWN(f));
		r->dropped = (uint64_t)h->dropped > ULONG_MAX - r->dropped ?
				     ULONG_MAX : r->dropped + (unsigned long)h->dropped;
	}
	if (__builtin_add_overflow(h->ts, dur, &key) ||
	    __builtin_add_overflow(key, f->offset, &key)) {
		if (count)
			note_invalid(r, f, lineno, "\"ts\" out of range");
		return false;
	}
	out->file = f;
	out->line = lineno;
	out->ts = h->ts;
	out->dur = dur;
	out->key = key;
	return true;
}

/* Reads the next usable record of f. count: account for what is skipped
 * (off during the header scan, which reads the first records twice).
 * Returns 1, 0 at the end of the file, -1 on a fatal error (printed). */
static int read_record(struct tr_reader *r, struct tr_file *f, struct tr_record *out, bool count)
{
	for (;;) {
		long lineno = f->line + 1;
		size_t n = 0;
		enum line_status st = next_line(r, f, &n);
		struct tr_fields *t = NULL;
		json_t *j = NULL;
		struct rec_head h;

		if (st == LN_END) {
			if (count)
				note_damage(r, f);
			return 0;
		}
		if (st == LN_ERR)
			return -1;
		if (st == LN_BAD) {
			if (count)
				note_invalid(r, f, lineno, r->bad_why);
			continue;
		}
		if (r->bin_fields) {
			t = r->bin_fields;
			r->bin_fields = NULL;
		} else if (r->fast) {
			t = tr_fields_parse(r->line, n, r->keep_lines);
		}
		if (t) {
			head_of_fields(t, &h);
		} else {
			int rc = load_json(r, f, st, n, lineno, count, &j);
			if (rc <= 0) {
				if (rc < 0)
					return -1;
				continue;
			}
			head_of_json(j, &h);
		}
		if (!use_record(r, f, lineno, count, &h, out)) {
			json_decref(j);
			tr_fields_free(t);
			continue;
		}
		out->j = j;
		out->fields = t;
		return 1;
	}
}

json_t *tr_record_json(struct tr_record *rec)
{
	if (!rec->j && rec->fields && rec->fields->raw) {
		/* The scanner took the line, so jansson takes it too (both
		 * accept the same lines); only memory can fail here. */
		rec->j = json_loadb(rec->fields->raw, rec->fields->raw_len, JSON_ALLOW_NUL, NULL);
		if (!rec->j)
			rec->j = json_object();
	}
	return rec->j;
}

void tr_record_free(struct tr_record *rec)
{
	json_decref(rec->j);
	rec->j = NULL;
	tr_fields_free(rec->fields);
	rec->fields = NULL;
}

/* ---- files ---- */

/* Opens f at its start; flags: ins_open's (INS_AGAIN: it will be opened
 * again, so standard input or a pipe is kept). */
static int file_open(struct tr_reader *r, struct tr_file *f, unsigned flags)
{
	f->in = ins_open(f->path, flags);
	if (!f->in) {
		diag(r, "socktrace: cannot read %s: %s\n", SHOWN(f), strerror(errno));
		return -1;
	}
	f->buf = malloc(TR_BUF);
	f->cap = TR_BUF;
	if (!f->buf) {
		diag(r, "socktrace: out of memory\n");
		ins_close(f->in);
		f->in = NULL;
		return -1;
	}
	f->pos = f->len = 0;
	f->nul_holes = f->nul_pending = 0;
	f->stream_cut = f->cut_told = f->damage_noted = false;
	f->eof = false;
	f->consumed = 0;
	f->line = 0;
	return 0;
}

static void file_close(struct tr_file *f)
{
	ins_close(f->in);
	f->in = NULL;
	free(f->buf);
	f->buf = NULL;
	if (f->binary)
		bin_file_reset(&f->bin);
	for (size_t i = 0; i < f->nla; i++)
		tr_record_free(&f->la[i]);
	f->nla = 0;
}

static void file_free(struct tr_file *f)
{
	if (!f)
		return;
	file_close(f);
	if (f->binary)
		bin_file_free(&f->bin);
	free(f->path);
	free(f->prog);
	free(f->name);
	free(f->host);
	free(f->exe);
	free(f);
}

/* Parses "MAJOR.MINOR"; false if it is not that. */
static bool parse_version(const char *s, long *major, long *minor)
{
	char *end;

	if (!s || *s < '0' || *s > '9')
		return false;
	*major = strtol(s, &end, 10);
	if (*end != '.' || end[1] < '0' || end[1] > '9')
		return false;
	*minor = strtol(end + 1, &end, 10);
	return *end == '\0';
}

static bool str_is(json_t *s, const char *want)
{
	const char *v = json_string_value(s);

	return v && strcmp(v, want) == 0;
}

/* The name shown for the process: its script when prog is an
 * interpreter (progname.h). */
static char *header_name(const char *prog, json_t *argv)
{
	const char *args[64];
	size_t n = 0;
	json_t *a;
	size_t i;

	json_array_foreach(argv, i, a) {
		if (n == sizeof(args) / sizeof(args[0]) || !json_is_string(a))
			break;
		args[n++] = json_string_value(a);
	}
	return prog_display_name(prog, args, n);
}

static char *dup_or(json_t *s, const char *dflt)
{
	const char *v = json_string_value(s);

	return strdup(v ? v : dflt);
}

/* The start of a header as the shim writes it: a file cut inside its
 * first line is a trace only if what is there says so. */
static bool looks_like_header(const char *line, size_t n)
{
	static const char start[] = "{\"rec\":\"" SOCKTRACE_REC_HEADER "\",\"format\":\"" SOCKTRACE_FORMAT_NAME "\"";
	size_t k = n < sizeof(start) - 1 ? n : sizeof(start) - 1;

	return k > 0 && memcmp(line, start, k) == 0;
}

/* Reads and checks line 1. Returns 1 (a trace), 0 (a file to skip, said
 * why), -1 (not a trace: printed). */
static int read_header(struct tr_reader *r, struct tr_file *f)
{
	size_t n = 0;
	int bin = sniff_binary(r, f);
	enum line_status st;
	json_error_t err;
	json_t *j, *clock;
	long major, minor;
	int64_t v;

	if (bin < 0)
		return -1;
	st = bin == 2 ? LN_CUT : next_line(r, f, &n);
	if (st == LN_ERR)
		return -1;
	if (st == LN_BAD)
		st = LN_CUT;
	if (st == LN_END) {
		if (!r->quiet)
			diag(r, "socktrace: %s: empty file skipped (a process killed as it started?)\n",
			     SHOWN(f));
		r->skipped_files++;
		return 0;
	}
	j = json_loadb(r->line, n, JSON_ALLOW_NUL, &err);
	if (st == LN_CUT && !j && f->stream_cut) {
		/* Compressed data that end inside the header. */
		if (!r->quiet)
			diag(r, "socktrace: %s:1: incomplete header, as %s: file skipped\n", SHOWN(f),
			     ins_damage(f->in));
		r->skipped_files++;
		return 0;
	}
	if (st == LN_CUT && !j && (bin || looks_like_header(r->line, n))) {
		if (!r->quiet)
			diag(r, "socktrace: %s:1: incomplete header: file skipped (a process killed as it started?)\n",
			     SHOWN(f));
		r->skipped_files++;
		return 0;
	}
	if (!j) {
		diag(r, "socktrace: %s:1: not a socktrace trace (not JSON: %s, at column %d)\n",
		     SHOWN(f), err.text, err.column);
		return -1;
	}
	if (!str_is(json_object_get(j, "rec"), SOCKTRACE_REC_HEADER) ||
	    !str_is(json_object_get(j, "format"), SOCKTRACE_FORMAT_NAME)) {
		diag(r, "socktrace: %s:1: not a socktrace trace (no \"header\" record of format \"%s\")\n",
		     SHOWN(f), SOCKTRACE_FORMAT_NAME);
		json_decref(j);
		return -1;
	}
	if (!parse_version(json_string_value(json_object_get(j, "version")), &major, &minor)) {
		diag(r, "socktrace: %s:1: not a socktrace trace (no \"version\" MAJOR.MINOR)\n",
		     SHOWN(f));
		json_decref(j);
		return -1;
	}
	if (major != SOCKTRACE_FORMAT_MAJOR) {
		diag(r, "socktrace: %s: trace format %ld.%ld: this socktrace reads version %d.x only\n",
		     SHOWN(f), major, minor, SOCKTRACE_FORMAT_MAJOR);
		json_decref(j);
		return -1;
	}
	if (!get_i64(j, "pid", &v) || v < 0 || v > INT_MAX) {
		diag(r, "socktrace: %s:1: not a socktrace trace (header without \"pid\")\n", SHOWN(f));
		json_decref(j);
		return -1;
	}
	f->pid = (int)v;
	f->ppid = get_i64(j, "ppid", &v) && v >= 0 && v <= INT_MAX ? (int)v : 0;
	f->payload = get_i64(j, "payload", &v) && v >= 0 && v <= INT_MAX ? (int)v : 0;
	f->minor = minor > INT_MAX ? INT_MAX : (int)minor;
	f->start = get_i64(j, "start", &v) && v >= 0 ? v : -1;
	f->forked = get_i64(j, "forked", &v) && v >= 0 ? v : INT64_MIN;
	f->prog = dup_or(json_object_get(j, "prog"), "?");
	f->host = dup_or(json_object_get(j, "host"), "");
	f->exe = dup_or(json_object_get(j, "exe"), "");
	f->name = f->prog ? header_name(f->prog, json_object_get(j, "argv")) : NULL;
	clock = json_object_get(j, "clock");
	f->has_clock = get_i64(clock, "mono", &f->clock_mono) &&
		       get_i64(clock, "real", &f->clock_real);
	json_decref(j);
	if (!f->prog || !f->name || !f->host || !f->exe) {
		diag(r, "socktrace: out of memory\n");
		return -1;
	}
	if (f->minor > r->newest_minor) {
		r->newest_minor = f->minor;
		snprintf(r->newest_file, sizeof(r->newest_file), "%s", SHOWN(f));
	}
	return 1;
}

/* ---- one file's lines, in file order (cat) ---- */

int tr_file_lines(const char *path, FILE *diagf, tr_line_fn fn, void *ctx,
		  struct tr_line_counts *counts)
{
	struct tr_reader r = { .diag = diagf };
	struct tr_file f = { .in = NULL };
	int rc = 0;

	memset(counts, 0, sizeof(*counts));
	f.path = (char *)path;
	if (file_open(&r, &f, 0) != 0)
		return -1;
	int bin = sniff_binary(&r, &f);
	if (bin < 0) {
		rc = -1;
		goto out;
	}
	counts->binary = bin != 0;
	if (bin == 2) {
		counts->cut++;
		goto out;
	}
	for (;;) {
		size_t n = 0;
		enum line_status st = next_line(&r, &f, &n);
		if (st == LN_END) {
			counts->nul_holes = f.nul_holes;
			counts->nul_padding = f.nul_pending;
			break;
		}
		if (st == LN_ERR) {
			rc = -1;
			break;
		}
		if (st == LN_CUT) {
			counts->cut++;
			if (!counts->first_cut)
				counts->first_cut = f.line;
			continue;
		}
		if (st == LN_BAD) {
			counts->invalid++;
			if (!counts->first_invalid) {
				counts->first_invalid = f.line;
				snprintf(counts->why, sizeof(counts->why), "%s", r.bad_why);
			}
			continue;
		}
		counts->lines++;
		r.line[n] = '\n';
		if (fn(ctx, r.line, n + 1) != 0) {
			rc = -1;
			break;
		}
	}
out:
	if (f.binary)
		counts->unknown_refs = f.bin.conv.unknown_eps;
	if (f.stream_cut)
		diag(&r, "socktrace: %s: %s; read up to there\n", SHOWN(&f), ins_damage(f.in));
	file_close(&f);
	if (f.binary)
		bin_file_free(&f.bin);
	free(r.line);
	return rc;
}

json_t *tr_file_header(const struct tr_file *file)
{
	struct tr_reader r = { .diag = NULL };
	struct tr_file f = { .in = NULL };
	json_t *j = NULL;
	size_t n = 0;
	int bin;

	f.path = file->path;
	if (file_open(&r, &f, INS_AGAIN) != 0)
		return NULL;
	bin = sniff_binary(&r, &f);
	if ((bin == 0 || bin == 1) && next_line(&r, &f, &n) == LN_LINE)
		j = json_loadb(r.line, n, JSON_ALLOW_NUL, NULL);
	file_close(&f);
	if (f.binary)
		bin_file_free(&f.bin);
	free(r.line);
	if (!json_is_object(j)) {
		json_decref(j);
		return NULL;
	}
	return j;
}

const char *tr_shown_path(const char *path)
{
	return ins_shown(path);
}

int tr_expand_paths(const char *const *paths, size_t npaths, FILE *diagf, char ***list,
		    size_t *n)
{
	struct tr_reader r = { .diag = diagf };
	size_t cap = 0;

	*list = NULL;
	*n = 0;
	for (size_t i = 0; i < npaths; i++)
		if (expand(&r, paths[i], list, n, &cap) != 0)
			return -1;
	return 0;
}

/* ---- the merge ---- */

static bool heap_less(const struct tr_file *a, const struct tr_file *b)
{
	if (a->next_key != b->next_key)
		return a->next_key < b->next_key;
	return a->index < b->index;
}

static void heap_down(struct tr_reader *r, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, m = i;
		if (l < r->nheap && heap_less(r->heap[l], r->heap[m]))
			m = l;
		if (l + 1 < r->nheap && heap_less(r->heap[l + 1], r->heap[m]))
			m = l + 1;
		if (m == i)
			return;
		struct tr_file *t = r->heap[i];
		r->heap[i] = r->heap[m];
		r->heap[m] = t;
		i = m;
	}
}

static void heap_pop(struct tr_reader *r)
{
	r->heap[0] = r->heap[--r->nheap];
	if (r->nheap)
		heap_down(r, 0);
}

/* Inserts rec into f's look-ahead, after records with the same key. */
static void la_insert(struct tr_file *f, const struct tr_record *rec)
{
	size_t i = f->nla;

	while (i > 0 && f->la[i - 1].key > rec->key) {
		f->la[i] = f->la[i - 1];
		i--;
	}
	f->la[i] = *rec;
	f->nla++;
}

static int la_fill(struct tr_reader *r, struct tr_file *f)
{
	while (f->nla < TR_LOOKAHEAD) {
		struct tr_record rec;
		int rc = read_record(r, f, &rec, true);
		if (rc < 0)
			return -1;
		if (rc == 0)
			break;
		la_insert(f, &rec);
	}
	return 0;
}

static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* Reads f's header and the key of its first record, then closes it until
 * the merge gets there. Returns 1 (in the merge), 0 (skipped), -1. */
static int scan_file(struct tr_reader *r, struct tr_file *f, int64_t *first)
{
	struct tr_record rec;
	int rc;

	f->first_ts = INT64_MAX;
	if (file_open(r, f, INS_AGAIN) != 0)
		return -1;
	rc = read_header(r, f);
	if (rc <= 0) {
		file_close(f);
		return rc;
	}
	f->resume = f->consumed;
	rc = read_record(r, f, &rec, false);
	if (rc > 0) {
		*first = rec.key; /* host offset not yet applied */
		f->first_ts = rec.ts;
		tr_record_free(&rec);
	}
	file_close(f);
	return rc < 0 ? -1 : 1;
}

/* One offset per host, from its first file: events of one host keep their
 * exact monotonic order, and hosts are aligned on wall-clock time. */
static void align_hosts(struct tr_reader *r)
{
	for (size_t i = 1; i < r->nfiles; i++)
		if (strcmp(r->files[i]->host, r->files[0]->host) != 0)
			r->multihost = true;
	if (!r->multihost)
		return;
	for (size_t i = 0; i < r->nfiles; i++) {
		struct tr_file *f = r->files[i];
		struct tr_file *ref = NULL;
		for (size_t k = 0; k <= i && !ref; k++)
			if (strcmp(r->files[k]->host, f->host) == 0 && r->files[k]->has_clock)
				ref = r->files[k];
		if (!ref) {
			if (!r->quiet)
				diag(r, "socktrace: %s: no clock pair in the header: its times cannot be aligned with other hosts'\n",
				     SHOWN(f));
			continue;
		}
		if (__builtin_sub_overflow(ref->clock_real, ref->clock_mono, &f->offset))
			f->offset = 0; /* a clock pair no machine reads */
	}
}

int tr_open(struct tr_reader *r, const char *const *paths, size_t npaths, FILE *diagf,
	    unsigned flags)
{
	char **list = NULL;
	size_t n = 0, cap = 0;
	int64_t *first = NULL;
	bool *in_merge = NULL;
	int rc = -1;

	memset(r, 0, sizeof(*r));
	r->diag = diagf;
	r->quiet = (flags & TR_QUIET) != 0;
	r->fast = (flags & (TR_FAST | TR_LAZY)) != 0;
	r->keep_lines = (flags & TR_LAZY) != 0;
	raise_fd_limit();
	for (size_t i = 0; i < npaths; i++)
		if (expand(r, paths[i], &list, &n, &cap) != 0)
			goto out;
	r->files = calloc(n ? n : 1, sizeof(*r->files));
	first = calloc(n ? n : 1, sizeof(*first));
	r->heap = calloc(n ? n : 1, sizeof(*r->heap));
	in_merge = calloc(n ? n : 1, sizeof(*in_merge));
	if (!r->files || !first || !r->heap || !in_merge) {
		diag(r, "socktrace: out of memory\n");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct tr_file *f = calloc(1, sizeof(*f));
		int64_t key = INT64_MAX;
		int got;
		if (!f)
			goto out;
		f->reader = r;
		f->path = list[i];
		list[i] = NULL;
		got = scan_file(r, f, &key);
		if (got < 0) {
			file_free(f);
			goto out;
		}
		if (got == 0) {
			file_free(f);
			continue;
		}
		f->index = r->nfiles;
		first[r->nfiles] = key;
		in_merge[r->nfiles] = key != INT64_MAX;
		r->files[r->nfiles++] = f;
	}
	align_hosts(r);
	r->base = INT64_MAX;
	for (size_t i = 0; i < r->nfiles; i++) {
		struct tr_file *f = r->files[i];
		if (!in_merge[i])
			continue; /* a header and nothing else */
		int64_t start;
		if (__builtin_add_overflow(first[i], f->offset, &f->next_key))
			f->next_key = INT64_MAX;
		if (__builtin_add_overflow(f->first_ts, f->offset, &f->first_ts))
			f->first_ts = INT64_MAX;
		if (f->next_key < r->base)
			r->base = f->next_key;
		if (f->start >= 0 && !__builtin_add_overflow(f->start, f->offset, &start) &&
		    start < r->base)
			r->base = start;
		r->heap[r->nheap++] = f;
	}
	if (r->base == INT64_MAX)
		r->base = 0;
	for (size_t i = 0; i < r->nfiles; i++) {
		struct tr_file *f = r->files[i];
		int64_t t;
		if (f->forked != INT64_MIN && !__builtin_add_overflow(f->forked, f->offset, &t) &&
		    !__builtin_sub_overflow(t, r->base, &t))
			f->forked = t;
		else
			f->forked = INT64_MIN;
	}
	for (size_t i = r->nheap; i-- > 0;)
		heap_down(r, i);
	rc = 0;
out:
	for (size_t i = 0; i < n; i++)
		free(list[i]);
	free(list);
	free(first);
	free(in_merge);
	if (rc != 0)
		r->failed = true;
	return rc;
}

int tr_next(struct tr_reader *r, struct tr_record *rec)
{
	while (r->nheap) {
		struct tr_file *f = r->heap[0];
		bool produced = false;
		if (!f->started) {
			f->started = true;
			if (file_open(r, f, INS_AGAIN) != 0)
				goto fatal;
			/* Past the header: read again (a pipe's copy, or
			 * decompressed) where it cannot be seeked. */
			if (ins_skip(f->in, (uint64_t)f->resume) != 0) {
				diag(r, "socktrace: cannot read %s: %s\n", SHOWN(f), strerror(errno));
				goto fatal;
			}
			f->consumed = f->resume;
			f->line = 1;
			if (la_fill(r, f) != 0)
				goto fatal;
		} else {
			*rec = f->la[0];
			produced = true;
			f->nla--;
			memmove(&f->la[0], &f->la[1], f->nla * sizeof(f->la[0]));
			if (la_fill(r, f) != 0) {
				tr_record_free(rec);
				goto fatal;
			}
		}
		if (f->nla == 0) {
			file_close(f);
			heap_pop(r);
		} else {
			f->next_key = f->la[0].key;
			heap_down(r, 0);
		}
		if (produced) {
			r->records++;
			return 1;
		}
	}
	return 0;
fatal:
	r->failed = true;
	return -1;
}

void tr_report(const struct tr_reader *r, const char *prog)
{
	if (!r->diag || r->quiet)
		return;
	if (r->skipped_cut)
		diag(r, "%s: skipped %lu incomplete record%s, as a process killed while writing leaves (first at %s)\n",
		     prog, r->skipped_cut, r->skipped_cut == 1 ? "" : "s", r->first_cut);
	if (r->damaged_streams > 1)
		diag(r, "%s: %lu compressed files end early, read up to there (the first: %s)\n",
		     prog, r->damaged_streams, r->first_damaged);
	else if (r->damaged_streams)
		diag(r, "%s: %s: read up to there\n", prog, r->first_damaged);
	if (r->skipped_invalid)
		diag(r, "%s: skipped %lu line%s that %s not socktrace records (first at %s)\n", prog,
		     r->skipped_invalid, r->skipped_invalid == 1 ? "" : "s",
		     r->skipped_invalid == 1 ? "is" : "are", r->first_invalid);
	if (r->skipped_unknown)
		diag(r, "%s: skipped %lu record%s of a kind this reader does not know\n", prog,
		     r->skipped_unknown, r->skipped_unknown == 1 ? "" : "s");
	if (r->dropped)
		diag(r, "%s: the shim could not write %lu record%s (a full disk, a file size limit, or a seccomp sandbox: see its warnings): the trace is incomplete (first in %s)\n",
		     prog, r->dropped, r->dropped == 1 ? "" : "s", r->first_dropped);
	if (r->newest_minor > SOCKTRACE_FORMAT_MINOR)
		diag(r, "%s: %s is trace format %d.%d, newer than this reader's %s: fields it does not know were ignored\n",
		     prog, r->newest_file, SOCKTRACE_FORMAT_MAJOR, r->newest_minor,
		     SOCKTRACE_FORMAT_VERSION);
}

void tr_close(struct tr_reader *r)
{
	tr_fields_free(r->bin_fields);
	r->bin_fields = NULL;
	for (size_t i = 0; i < r->nfiles; i++)
		file_free(r->files[i]);
	free(r->files);
	free(r->heap);
	free(r->line);
	r->files = NULL;
	r->heap = NULL;
	r->line = NULL;
	r->nfiles = r->nheap = 0;
}
