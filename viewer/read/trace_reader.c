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
/* ... when an input is read through for the traces it joins. */
#define TR_SCAN_BUF (128 * 1024)

/* A file as messages name it: standard input is "stdin", a trace joined
 * with others in one input "stdin (trace 2, pid 1234)". */
#define SHOWN(f) tr_file_shown(f)

/* Where another trace begins in an input that joins several (checked
 * where a line or a binary frame may start): a binary prologue, or a
 * header line as the shim writes it (so as `socktrace cat` prints it). */
#define HEADER_LINE "{\"rec\":\"" SOCKTRACE_REC_HEADER "\""
#define HEADER_LINE_LEN (sizeof(HEADER_LINE) - 1)
/* ... and inside a line: what a header the shim writes starts with, the
 * line before it cut short without its newline (a writer killed, a
 * file copied while written). No record holds it: in a JSON string, its
 * quotes would be escaped. */
#define HEADER_START "{\"rec\":\"" SOCKTRACE_REC_HEADER "\",\"format\":\"" SOCKTRACE_FORMAT_NAME "\""
#define HEADER_START_LEN (sizeof(HEADER_START) - 1)
/* Bytes looked at where a trace may begin. */
#define TRACE_PEEK (HEADER_LINE_LEN > 8 ? HEADER_LINE_LEN : 8)

enum line_status {
	LN_LINE,  /* a whole line, ended by '\n' */
	LN_CUT,   /* bytes ended by NUL or by the end of the file */
	LN_END,   /* nothing more */
	LN_ERR,   /* read error or a line too long (printed) */
	LN_BAD,   /* a whole binary record this reader cannot use (r->bad_why) */
	LN_NEXT,  /* another trace begins here (f->detect): nothing read of it */
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

/* Adds the trace files path names; *named: path itself (a file, "-"),
 * not a directory's files. */
static int expand(const struct tr_reader *r, const char *path, char ***list, size_t *n,
		  size_t *cap, bool *named)
{
	struct stat st;
	size_t found;
	char latest[PATH_MAX];

	*named = true;
	if (ins_is_stdin(path))
		return add_path(list, n, cap, path);
	if (stat(path, &st) != 0) {
		diag(r, "socktrace: cannot read %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return add_path(list, n, cap, path);
	*named = false;
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

/* Up to n bytes of f's content (decompressed), 0 at the end (of its
 * part of the input): where compressed data stop early, f->stream_cut
 * says so. */
static ssize_t file_read(struct tr_file *f, void *buf, size_t n)
{
	ssize_t got;

	if (f->left != UINT64_MAX) {
		if (f->left == 0)
			return 0;
		if (n > f->left)
			n = (size_t)f->left;
	}
	got = ins_read(f->in, buf, n);
	if (got > 0 && f->left != UINT64_MAX)
		f->left -= (uint64_t)got;
	if (got == 0 && ins_damage(f->in))
		f->stream_cut = true;
	return got;
}

/* Whether another trace begins at p (avail bytes there). */
static bool trace_begins(const char *p, size_t avail)
{
	return (avail >= 8 && memcmp(p, ST_PROLOGUE_MAGIC, 8) == 0) ||
	       (avail >= HEADER_LINE_LEN && memcmp(p, HEADER_LINE, HEADER_LINE_LEN) == 0);
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
static int fill(struct tr_reader *r, struct tr_file *f, size_t want);

/* Where, in the k bytes of a line at p (avail in the buffer), another
 * trace starts after from: a header the shim writes, or a binary
 * prologue (whose newline no line holds): its offset; k when none does.
 * *more: a byte too near the end of the buffer to tell, at the offset
 * returned. */
static size_t header_inside(const char *p, size_t k, size_t from, size_t avail, bool eof,
			    bool *more)
{
	*more = false;
	while (from < k) {
		const char *b = memchr(p + from, '{', k - from);
		const char *m = memchr(p + from, ST_PROLOGUE_MAGIC[0], (b ? (size_t)(b - p) : k) - from);
		const char *c = m ? m : b;
		size_t need = m ? 8 : HEADER_START_LEN;
		if (!c)
			break;
		size_t at = (size_t)(c - p);
		if (avail - at < need && !eof) {
			*more = true;
			return at;
		}
		if (avail - at >= need && memcmp(c, m ? ST_PROLOGUE_MAGIC : HEADER_START, need) == 0)
			return at;
		from = at + 1;
	}
	return k;
}

/* next_line for scan_only JSON Lines: where another trace begins as
 * next_line with detect would find it, but without making lines (a
 * header where a line starts, as the shim writes it inside one, a
 * prologue anywhere): LN_NEXT, LN_END or LN_ERR. */
static enum line_status scan_text(struct tr_reader *r, struct tr_file *f)
{
	for (;;) {
		size_t avail = f->len - f->pos;
		if (avail < HEADER_START_LEN && !f->eof) {
			if (fill(r, f, f->cap) != 0)
				return LN_ERR;
			continue;
		}
		if (avail == 0)
			return LN_END;
		const char *p = f->buf + f->pos;
		if (f->part_fresh) {
			/* The trace's own header, after NUL bytes maybe. */
			size_t z = 0;
			while (z < avail && p[z] == '\0')
				z++;
			f->pos += z;
			f->consumed += (off_t)z;
			if (z == avail)
				continue;
			f->part_fresh = false;
			f->line_start = false;
			f->pos++;
			f->consumed++;
			continue;
		}
		const char *b = memchr(p, '{', avail);
		const char *m = memchr(p, ST_PROLOGUE_MAGIC[0], b ? (size_t)(b - p) : avail);
		const char *c = m ? m : b;
		size_t at = c ? (size_t)(c - p) : avail;
		if (at)
			f->line_start = p[at - 1] == '\n' || p[at - 1] == '\0';
		f->pos += at;
		f->consumed += (off_t)at;
		if (!c || (avail - at < HEADER_START_LEN && !f->eof))
			continue; /* more to read first */
		avail -= at;
		if (m ? avail >= 8 && memcmp(c, ST_PROLOGUE_MAGIC, 8) == 0
		      : f->line_start ? avail >= HEADER_LINE_LEN &&
						memcmp(c, HEADER_LINE, HEADER_LINE_LEN) == 0
				      : avail >= HEADER_START_LEN &&
						memcmp(c, HEADER_START, HEADER_START_LEN) == 0)
			return LN_NEXT;
		f->line_start = false;
		f->pos++;
		f->consumed++;
	}
}

static enum line_status next_line(struct tr_reader *r, struct tr_file *f, size_t *len)
{
	size_t n = 0;

	if (f->binary)
		return next_frame(r, f, len);
	if (f->scan_only)
		return scan_text(r, f);

	if (r->line_cap)
		r->line[0] = '\0';
	for (;;) {
		if (f->pos == f->len) {
			ssize_t got;
			if (f->eof)
				goto at_end;
			got = file_read(f, f->buf, f->cap);
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
			if (f->detect && !f->part_fresh) {
				if (avail < TRACE_PEEK && !f->eof) {
					if (fill(r, f, TRACE_PEEK) != 0)
						return LN_ERR;
					continue;
				}
				if (trace_begins(p, avail))
					return LN_NEXT;
			}
		}
		char *nl = memchr(p, '\n', avail);
		size_t k = nl ? (size_t)(nl - p) : avail;
		char *nul = memchr(p, '\0', k);
		bool glued = false, more = false;
		if (nul)
			k = (size_t)(nul - p);
		if (f->detect) {
			/* A line cut short, and the next trace's header after it. */
			size_t at = header_inside(p, k, n == 0, avail, f->eof, &more);
			if (at < k) {
				glued = !more;
				k = at;
				nl = nul = NULL;
			}
		}
		if (f->scan_only)
			n += k;
		else if (line_append(r, f, &n, p, k) != 0)
			return LN_ERR;
		f->pos += k;
		f->consumed += (off_t)k;
		if (k || nl)
			f->part_fresh = false;
		if (nul || glued) {
			*len = n;
			return LN_CUT;
		}
		if (more && fill(r, f, HEADER_START_LEN) != 0)
			return LN_ERR;
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
		if (avail < (f->detect && want < TRACE_PEEK ? TRACE_PEEK : want) && !f->eof) {
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
		if (f->detect && !f->part_fresh && trace_begins((const char *)p, avail)) {
			if (!damaged)
				return LN_NEXT;
			f->line++;
			return LN_CUT; /* the next call finds the next trace */
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
			f->part_fresh = false;
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
		f->part_fresh = false;
		if (f->scan_only)
			return LN_LINE;
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
	f->part_fresh = false;
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
		/* A newer minor version may add kinds: ignore them. */
		if (count && strcmp(h->rec, SOCKTRACE_REC_HEADER) != 0) {
			r->skipped_unknown++;
		} else if (count) {
			/* Traces joined in a file not read through for them (a
			 * directory's), or a header not as the shim writes it. */
			if (!r->inner_headers++)
				snprintf(r->first_inner_header, sizeof(r->first_inner_header),
					 "%s:%ld", SHOWN(f), lineno);
			r->inner_named |= f->named;
		}
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

		if (st == LN_END || st == LN_NEXT) {
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
	f->left = UINT64_MAX;
	f->part_fresh = true;
	f->line_start = true;
	return 0;
}

static void file_close(struct tr_file *f);

/* Opens f's part of its input (all of it when it holds one trace), skip
 * bytes into it: 0, or -1 after printing why. */
static int part_open(struct tr_reader *r, struct tr_file *f, uint64_t skip)
{
	uint64_t at = f->part_start + skip;

	if (file_open(r, f, INS_AGAIN) != 0)
		return -1;
	if (at && ins_skip(f->in, at) != 0) {
		diag(r, "socktrace: cannot read %s: %s\n", SHOWN(f), strerror(errno));
		file_close(f);
		return -1;
	}
	if (f->part_len)
		f->left = f->part_len > skip ? f->part_len - skip : 0;
	f->consumed = (off_t)skip;
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
	free(f->shown);
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
	if (st == LN_END || st == LN_NEXT) {
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

/* "stdin (trace 2, pid 1234)": the name of a trace joined with others in
 * path; pid < 0: not known. NULL when memory runs out. */
static char *part_name(const char *path, int part, long pid)
{
	const char *shown = ins_shown(path);
	size_t cap = strlen(shown) + 64;
	char *name = malloc(cap);

	if (!name)
		return NULL;
	if (pid >= 0)
		snprintf(name, cap, "%s (trace %d, pid %ld)", shown, part, pid);
	else
		snprintf(name, cap, "%s (trace %d)", shown, part);
	return name;
}

static void set_part_name(struct tr_file *f, long pid)
{
	char *name = part_name(f->path, f->part, pid);

	if (name) {
		free(f->shown);
		f->shown = name;
	}
}

const char *tr_file_shown(const struct tr_file *f)
{
	return f->shown ? f->shown : ins_shown(f->path);
}

/* Where another trace begins (LN_NEXT): f reads it from its start. */
static void part_restart(struct tr_file *f)
{
	if (f->binary) {
		bin_file_free(&f->bin);
		f->binary = false;
	}
	f->part_fresh = true;
	f->line_start = true;
	f->line = 0;
	f->nul_holes = f->nul_pending = 0;
}

/* The pid in a header line, -1 when there is none. */
static long header_pid(const char *line, size_t n)
{
	json_t *j = json_loadb(line, n, JSON_ALLOW_NUL, NULL);
	int64_t v;
	long pid = -1;

	if (str_is(json_object_get(j, "rec"), SOCKTRACE_REC_HEADER) && get_i64(j, "pid", &v) &&
	    v >= 0 && v <= INT_MAX)
		pid = (long)v;
	json_decref(j);
	return pid;
}

/* The lines of path trace by trace: fn gets each line, done each trace's
 * counts. */
static int read_traces(const char *path, FILE *diagf, tr_line_fn fn, void *fn_ctx,
		       tr_trace_fn done, void *done_ctx)
{
	struct tr_reader r = { .diag = diagf };
	struct tr_file f = { .in = NULL };
	struct tr_line_counts c;
	enum line_status st = LN_END;
	int rc = 0;

	f.path = (char *)path;
	if (file_open(&r, &f, 0) != 0)
		return -1;
	f.detect = true;
	for (int rank = 1;; rank++) {
		long pid = -1;
		int bin = sniff_binary(&r, &f);

		memset(&c, 0, sizeof(c));
		if (bin < 0) {
			rc = -1;
			break;
		}
		c.binary = bin != 0;
		st = LN_END;
		if (bin == 2)
			c.cut++;
		while (bin != 2) {
			size_t n = 0;
			st = next_line(&r, &f, &n);
			if (st == LN_END || st == LN_NEXT) {
				c.nul_holes = f.nul_holes;
				c.nul_padding = f.nul_pending;
				break;
			}
			if (st == LN_ERR) {
				rc = -1;
				break;
			}
			if (st == LN_CUT) {
				c.cut++;
				if (!c.first_cut)
					c.first_cut = f.line;
				continue;
			}
			if (st == LN_BAD) {
				c.invalid++;
				if (!c.first_invalid) {
					c.first_invalid = f.line;
					snprintf(c.why, sizeof(c.why), "%s", r.bad_why);
				}
				continue;
			}
			if (!c.lines++)
				pid = header_pid(r.line, n); /* for its name */
			r.line[n] = '\n';
			if (fn(fn_ctx, r.line, n + 1) != 0) {
				rc = -1;
				break;
			}
		}
		if (f.binary)
			c.unknown_refs = f.bin.conv.unknown_eps;
		if (st == LN_NEXT || rank > 1) {
			f.part = rank;
			set_part_name(&f, pid);
			c.part = rank;
		}
		c.shown = SHOWN(&f);
		if (st != LN_NEXT && f.stream_cut)
			diag(&r, "socktrace: %s: %s; read up to there\n", SHOWN(&f), ins_damage(f.in));
		if (done && done(done_ctx, &c) != 0)
			rc = -1;
		if (rc != 0 || st != LN_NEXT)
			break;
		/* The next trace: named so in what is said of it before its
		 * header is read. */
		part_restart(&f);
		f.part = rank + 1;
		set_part_name(&f, -1);
	}
	file_close(&f);
	if (f.binary)
		bin_file_free(&f.bin);
	free(f.shown);
	free(r.line);
	return rc;
}

int tr_file_traces(const char *path, FILE *diagf, tr_line_fn fn, tr_trace_fn done, void *ctx)
{
	return read_traces(path, diagf, fn, ctx, done, ctx);
}

/* Adds a trace's counts to the file's. */
static int sum_counts(void *ctx, const struct tr_line_counts *c)
{
	struct tr_line_counts *sum = ctx;

	if (!sum->lines && !sum->cut && !sum->invalid)
		sum->binary = c->binary;
	if (!sum->first_cut && c->first_cut)
		sum->first_cut = c->first_cut;
	if (!sum->first_invalid && c->first_invalid) {
		sum->first_invalid = c->first_invalid;
		snprintf(sum->why, sizeof(sum->why), "%s", c->why);
	}
	sum->lines += c->lines;
	sum->cut += c->cut;
	sum->invalid += c->invalid;
	sum->nul_holes += c->nul_holes;
	sum->nul_padding += c->nul_padding;
	sum->unknown_refs += c->unknown_refs;
	return 0;
}

int tr_file_lines(const char *path, FILE *diagf, tr_line_fn fn, void *ctx,
		  struct tr_line_counts *counts)
{
	memset(counts, 0, sizeof(*counts));
	int rc = read_traces(path, diagf, fn, ctx, sum_counts, counts);
	counts->shown = ins_shown(path);
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
	f.part_start = file->part_start;
	f.part_len = file->part_len;
	if (part_open(&r, &f, 0) != 0)
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
	for (size_t i = 0; i < npaths; i++) {
		bool named;
		if (expand(&r, paths[i], list, n, &cap, &named) != 0)
			return -1;
	}
	return 0;
}

/* ---- traces joined in one input ---- */

/* Where the traces an input joins begin, found once per process: the
 * input may be standard input, read once (its copy is instream's), and
 * view opens it twice. */
struct joined {
	struct joined *next;
	bool is_stdin;       /* "-"; else the input is the file dev, ino */
	dev_t dev;
	ino_t ino;
	off_t size;          /* ... of this size, modified then: a file */
	struct timespec mtime;
	uint64_t *starts;    /* offsets in the content, the first 0 */
	size_t n;
};

static struct joined *joined_inputs;

static struct joined *joined_find(const char *path, bool *is_stdin, struct stat *st)
{
	*is_stdin = ins_is_stdin(path);
	if (!*is_stdin && stat(path, st) != 0)
		return NULL;
	for (struct joined *j = joined_inputs; j; j = j->next)
		if (*is_stdin ? j->is_stdin
			      : !j->is_stdin && j->dev == st->st_dev && j->ino == st->st_ino &&
					(!S_ISREG(st->st_mode) ||
					 (j->size == st->st_size &&
					  j->mtime.tv_sec == st->st_mtim.tv_sec &&
					  j->mtime.tv_nsec == st->st_mtim.tv_nsec)))
			return j;
	return NULL;
}

/* The traces path holds, from its start to its end: a header line, or
 * a binary prologue, where a line or a record may start begins another
 * (the reader's own lines and frames: NUL padding, cut records and damage
 * as it sees them). The input read through once, its records found, not
 * decoded. NULL when memory runs out (said); what cannot be read is said
 * when the traces are. */
static const struct joined *find_joined(struct tr_reader *r, const char *path)
{
	struct tr_reader q = { .diag = NULL };
	struct tr_file f = { .in = NULL };
	struct stat st = { 0 };
	bool in;
	struct joined *j = joined_find(path, &in, &st);
	size_t cap = 4;

	if (j)
		return j;
	j = calloc(1, sizeof(*j));
	if (!j || !(j->starts = malloc(cap * sizeof(*j->starts)))) {
		free(j);
		diag(r, "socktrace: out of memory\n");
		return NULL;
	}
	j->is_stdin = in;
	j->dev = st.st_dev;
	j->ino = st.st_ino;
	j->size = st.st_size;
	j->mtime = st.st_mtim;
	j->starts[j->n++] = 0;
	f.path = (char *)path;
	if (file_open(&q, &f, INS_AGAIN) == 0) {
		char *big = realloc(f.buf, TR_SCAN_BUF);
		if (big) {
			f.buf = big;
			f.cap = TR_SCAN_BUF;
		}
		f.detect = f.scan_only = true;
		/* A binary version this reader does not take: one trace, said
		 * when read. */
		while (sniff_binary(&q, &f) >= 0) {
			size_t len;
			enum line_status ls;
			while ((ls = next_line(&q, &f, &len)) != LN_END && ls != LN_ERR &&
			       ls != LN_NEXT)
				;
			if (ls != LN_NEXT)
				break;
			if (j->n == cap) {
				uint64_t *more = realloc(j->starts, 2 * cap * sizeof(*more));
				if (!more) {
					diag(r, "socktrace: out of memory\n");
					file_close(&f);
					free(j->starts);
					free(j);
					free(q.line);
					return NULL;
				}
				j->starts = more;
				cap *= 2;
			}
			j->starts[j->n++] = (uint64_t)f.consumed;
			part_restart(&f);
		}
		file_close(&f);
		if (f.binary)
			bin_file_free(&f.bin);
	}
	free(q.line);
	/* When it cannot be opened, its one trace says why. */
	j->next = joined_inputs;
	joined_inputs = j;
	return j;
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
	if (f->part)
		set_part_name(f, -1);
	if (part_open(r, f, 0) != 0)
		return -1;
	rc = read_header(r, f);
	if (rc <= 0) {
		file_close(f);
		return rc;
	}
	if (f->part)
		set_part_name(f, f->pid);
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
	bool *named = NULL;
	size_t n = 0, cap = 0, nt = 0;
	struct tr_file **todo = NULL;
	int64_t *first = NULL;
	bool *in_merge = NULL;
	int rc = -1;

	memset(r, 0, sizeof(*r));
	r->diag = diagf;
	r->quiet = (flags & TR_QUIET) != 0;
	r->fast = (flags & (TR_FAST | TR_LAZY)) != 0;
	r->keep_lines = (flags & TR_LAZY) != 0;
	raise_fd_limit();
	for (size_t i = 0; i < npaths; i++) {
		size_t before = n;
		bool one;
		if (expand(r, paths[i], &list, &n, &cap, &one) != 0)
			goto out;
		bool *more = realloc(named, (cap ? cap : 1) * sizeof(*named));
		if (!more) {
			diag(r, "socktrace: out of memory\n");
			goto out;
		}
		named = more;
		for (size_t k = before; k < n; k++)
			named[k] = one;
	}
	/* A file of each trace: one per input, or per trace joined in an
	 * input named. */
	for (size_t i = 0; i < n; i++) {
		const struct joined *j = named[i] ? find_joined(r, list[i]) : NULL;
		size_t parts = j ? j->n : 1;
		if (named[i] && !j)
			goto out; /* out of memory (said) */
		struct tr_file **more = realloc(todo, (nt + parts) * sizeof(*todo));
		if (!more) {
			diag(r, "socktrace: out of memory\n");
			goto out;
		}
		todo = more;
		for (size_t k = 0; k < parts; k++) {
			struct tr_file *f = calloc(1, sizeof(*f));
			if (!f || !(f->path = strdup(list[i]))) {
				free(f);
				diag(r, "socktrace: out of memory\n");
				goto out;
			}
			f->reader = r;
			f->named = named[i];
			if (parts > 1) {
				f->part = (int)k + 1;
				f->part_start = j->starts[k];
				f->part_len = k + 1 < parts ? j->starts[k + 1] - j->starts[k] : 0;
			}
			todo[nt++] = f;
		}
	}
	r->files = calloc(nt ? nt : 1, sizeof(*r->files));
	first = calloc(nt ? nt : 1, sizeof(*first));
	r->heap = calloc(nt ? nt : 1, sizeof(*r->heap));
	in_merge = calloc(nt ? nt : 1, sizeof(*in_merge));
	if (!r->files || !first || !r->heap || !in_merge) {
		diag(r, "socktrace: out of memory\n");
		goto out;
	}
	for (size_t i = 0; i < nt; i++) {
		struct tr_file *f = todo[i];
		int64_t key = INT64_MAX;
		int got;
		todo[i] = NULL;
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
	free(named);
	for (size_t i = 0; i < nt; i++)
		file_free(todo[i]);
	free(todo);
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
			/* Past the header: read again (a pipe's copy, or
			 * decompressed) where it cannot be seeked. */
			if (part_open(r, f, (uint64_t)f->resume) != 0)
				goto fatal;
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
	if (r->inner_headers)
		diag(r, "%s: %s: %s in the middle of a trace (traces joined in one file?): what follows %s read as part of the trace before; %s\n",
		     prog, r->first_inner_header,
		     r->inner_headers == 1 ? "a header" : "headers, the first",
		     r->inner_headers == 1 ? "it is" : "them is",
		     r->inner_named ? "a header line not as the shim writes it ({\"rec\":\"header\",... first) does not start a trace"
				    : "name the file, not its directory, to read the traces it joins apart");
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
