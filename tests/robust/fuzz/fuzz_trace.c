/* Fuzz target: the trace reader (viewer/trace_reader.c) and everything
 * that consumes its records: decoding, the pairing model, statistics and
 * the renderers of `socktrace view`, through the same command entry points
 * the tool runs.
 *
 * Input: byte 0 picks what reads the trace (see run_tool) and, with its
 * top bit, that each file is written compressed (bit 6: zstd, else
 * gzip; bit 5 with gzip: as two members), so the reader's decompression
 * (viewer/read/instream.c) is fuzzed with traces inside; the rest is the
 * trace. A line "=====" splits it into up to MAX_FILES files of one trace
 * directory (a.1.jsonl, b.2.jsonl, ...), so the merge of several processes'
 * files is reached too. Files are written into a private temporary
 * directory, as the tool reads files, not memory.
 *
 * Files may be binary (docs/trace-format.md, "Binary files": a file is
 * one when it starts with the prologue, whatever its name) or JSON Lines,
 * and gzip or zstd data (told by their first bytes too): the seeds
 * gzip-* and zstd-* are compressed already, for the fuzzer to damage.
 *
 * Always: each file read alone in file order (tr_file_lines, `socktrace
 * cat`), and the reader on its own (tr_open / tr_next / tr_report / tr_close),
 * twice side by side: records decoded by jansson, and by the fast scanner
 * keeping each line (TR_LAZY: what `socktrace stats` and `view -f
 * text|mermaid` use). The two must agree: the same records in the same
 * order, decoded to the same fields, the tree built later from the kept
 * line equal to jansson's, the same lines skipped, the same messages
 * word for word; a difference aborts, naming the field. The fast path's records are fed to the pairing model and
 * the statistics. Then one of `socktrace view -f text|html|mermaid|
 * perfetto|jsonl` or `socktrace stats -a` on the same directory, output
 * to /dev/null. Nothing may crash, leak, read out of bounds or hang; no
 * other property is checked (a malformed trace is the tool's to report).
 *
 * Built with FUZZ_READER_ONLY (no viewer library yet): the reader alone,
 * its two decoders compared on what the reader itself gives. */
#include "read/trace_reader.h"
#include "read/binrec.h"
#include "read/trace_fields.h"
#include "recframe.h"
#ifndef FUZZ_READER_ONLY
#include "cmd/commands.h"
#include "model/causal.h"
#include "model/pairing.h"
#include "stats/stats.h"
#include "read/vev.h"
#endif

#include <errno.h>
#include <fcntl.h>
#include <zlib.h>
#include <zstd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_FILES 4
static const char separator[] = "\n=====\n";

static char dir[64];
static char paths[MAX_FILES][128];
static FILE *devnull;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	snprintf(dir, sizeof(dir), "/tmp/socktrace-fuzz-trace.XXXXXX");
	if (!mkdtemp(dir)) {
		perror("fuzz_trace: mkdtemp");
		exit(1);
	}
	for (int i = 0; i < MAX_FILES; i++)
		snprintf(paths[i], sizeof(paths[i]), "%s/%c.%d.jsonl", dir, 'a' + i, i + 1);
	devnull = fopen("/dev/null", "w");
	if (!devnull) {
		perror("fuzz_trace: /dev/null");
		exit(1);
	}
	return 0;
}

static void cleanup(void)
{
	for (int i = 0; i < MAX_FILES; i++)
		unlink(paths[i]);
	rmdir(dir);
}

/* Files compressed as they are written (byte 0's top bits). */
enum { PACK_NONE, PACK_GZIP, PACK_GZIP2, PACK_ZSTD };
static int pack;

/* p as a gzip member appended to out (of cap bytes, *len used). */
static void gzip_into(uint8_t *out, size_t cap, size_t *len, const uint8_t *p, size_t n)
{
	z_stream z;

	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		abort();
	z.next_in = (uint8_t *)p;
	z.avail_in = (uInt)n;
	z.next_out = out + *len;
	z.avail_out = (uInt)(cap - *len);
	if (deflate(&z, Z_FINISH) != Z_STREAM_END)
		abort();
	*len = cap - z.avail_out;
	deflateEnd(&z);
}

static void write_raw(const char *path, const uint8_t *p, size_t n);

static void write_file(const char *path, const uint8_t *p, size_t n)
{
	size_t cap, len = 0;
	uint8_t *out;

	if (pack == PACK_NONE) {
		write_raw(path, p, n);
		return;
	}
	cap = pack == PACK_ZSTD ? ZSTD_compressBound(n) : 2 * compressBound((uLong)n) + 64;
	out = malloc(cap);
	if (!out)
		abort();
	if (pack == PACK_ZSTD) {
		len = ZSTD_compress(out, cap, p, n, 1);
		if (ZSTD_isError(len))
			abort();
	} else if (pack == PACK_GZIP2) {
		gzip_into(out, cap, &len, p, n / 2);
		gzip_into(out, cap, &len, p + n / 2, n - n / 2);
	} else {
		gzip_into(out, cap, &len, p, n);
	}
	write_raw(path, out, len);
	free(out);
}

static void write_raw(const char *path, const uint8_t *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0) {
		perror(path);
		abort();
	}
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			perror(path);
			abort();
		}
		p += w;
		n -= (size_t)w;
	}
	close(fd);
}

static int split_into_files(const uint8_t *data, size_t size)
{
	size_t sl = sizeof(separator) - 1;
	int nfiles = 0;

	for (int i = 0; i < MAX_FILES; i++)
		unlink(paths[i]);
	while (nfiles < MAX_FILES) {
		const uint8_t *sep = nfiles < MAX_FILES - 1 ? memmem(data, size, separator, sl) : NULL;
		size_t n = sep ? (size_t)(sep - data) + 1 : size; /* keep the '\n' */
		write_file(paths[nfiles++], data, n);
		if (!sep)
			break;
		data += n - 1 + sl;
		size -= n - 1 + sl;
	}
	return nfiles;
}

/* A difference between the two decoders: a bug, reported as a crash. */
static void disagree(const char *what, const struct tr_record *rec, const char *detail)
{
	fprintf(stderr, "fuzz_trace: the decoders disagree on %s%s%s (%s:%ld)\n", what,
		detail ? ": " : "", detail ? detail : "", rec && rec->file ? rec->file->path : "-",
		rec ? rec->line : 0L);
	abort();
}

/* One record from each reader: the same one, decoded alike. */
static void compare_records(struct tr_record *rec, const struct tr_reader *r)
{
	if (rec[0].key != rec[1].key || rec[0].ts != rec[1].ts || rec[0].dur != rec[1].dur ||
	    rec[0].kind != rec[1].kind || rec[0].line != rec[1].line ||
	    rec[0].file->index != rec[1].file->index)
		disagree("a record's place or time", &rec[0], NULL);
	if (!json_equal(rec[0].j, tr_record_json(&rec[1])))
		disagree("the tree built from the kept line", &rec[0], NULL);
#ifndef FUZZ_READER_ONLY
	static uint64_t seq;
	struct vev ev[2];
	char why[32];

	vev_decode(&ev[0], &rec[0], ++seq, r[0].base);
	vev_decode(&ev[1], &rec[1], seq, r[1].base);
	if (!vev_same_fields(&ev[0], &ev[1], why, sizeof(why)))
		disagree("a field", &rec[0], why);
#else
	(void)r;
#endif
}

static void compare_readers(const struct tr_reader *r, char *const *text)
{
	if (r[0].records != r[1].records || r[0].skipped_cut != r[1].skipped_cut ||
	    r[0].skipped_invalid != r[1].skipped_invalid ||
	    r[0].skipped_unknown != r[1].skipped_unknown || r[0].dropped != r[1].dropped ||
	    r[0].failed != r[1].failed)
		disagree("what was skipped", NULL, NULL);
	if (strcmp(text[0] ? text[0] : "", text[1] ? text[1] : "") != 0)
		disagree("the messages", NULL, text[1]);
}

#ifndef FUZZ_READER_ONLY
struct consumers {
	struct model *m;
	struct stats *st;
	uint64_t seq;
	struct causal *order;
};

static void to_stats(void *p, struct vev *ev)
{
	struct consumers *c = p;

	stats_add(c->st, ev);
}

/* As `socktrace stats` does: the model, the causal order, the statistics.
 * The record becomes the causal order's. */
static void consume(struct consumers *c, struct tr_record *rec, int64_t base)
{
	if (!c->order)
		c->order = causal_new(c->m, to_stats, c);
	causal_feed(c->order, rec, ++c->seq, base);
}
#endif

/* Reader 0 decodes with jansson, reader 1 with the fast scanner. */
static void read_directly(void)
{
	const char *const in[] = { dir };
	struct tr_reader r[2];
	char *text[2] = { NULL, NULL };
	size_t len[2];
	FILE *diagf[2];
	int rc[2];

	for (int i = 0; i < 2; i++) {
		diagf[i] = open_memstream(&text[i], &len[i]);
		if (!diagf[i])
			abort();
		memset(&r[i], 0, sizeof(r[i]));
		rc[i] = tr_open(&r[i], in, 1, diagf[i], i ? TR_LAZY : 0);
	}
	if (rc[0] != rc[1])
		disagree("opening", NULL, NULL);
	if (rc[0] == 0) {
#ifndef FUZZ_READER_ONLY
		struct consumers c = { model_new(0), stats_new(), 0, NULL };
#endif
		struct tr_record rec[2];
		for (;;) {
			int got0 = tr_next(&r[0], &rec[0]), got1 = tr_next(&r[1], &rec[1]);
			if (got0 != got1)
				disagree("the end", got0 > 0 ? &rec[0] : got1 > 0 ? &rec[1] : NULL, NULL);
			if (got0 <= 0)
				break;
			compare_records(rec, r);
#ifndef FUZZ_READER_ONLY
			consume(&c, &rec[1], r[1].base);
#endif
			tr_record_free(&rec[0]);
			tr_record_free(&rec[1]);
		}
		tr_report(&r[0], "fuzz_trace");
		tr_report(&r[1], "fuzz_trace");
#ifndef FUZZ_READER_ONLY
		if (c.order)
			causal_flush(c.order);
		causal_free(c.order);
		stats_print(c.st, c.m, 50, devnull);
		stats_print_json(c.st, c.m, "", devnull);
		stats_free(c.st);
		model_free(c.m);
#endif
	}
	for (int i = 0; i < 2; i++)
		fclose(diagf[i]);
	compare_readers(r, text);
	for (int i = 0; i < 2; i++) {
		tr_close(&r[i]);
		free(text[i]);
	}
}

static int count_line(void *ctx, const char *line, size_t n)
{
	/* A whole JSON line, newline last, nothing after it. */
	if (n == 0 || line[n - 1] != '\n' || memchr(line, '\n', n - 1))
		abort();
	(*(size_t *)ctx)++;
	return 0;
}

/* The two decoders of a binary call record agree: its fields taken
 * straight from the record (what `socktrace stats` reads) are those the
 * scanner takes from the line the printer makes of it. */
static void same_slots(const struct tr_fields *a, const struct tr_fields *b)
{
	for (unsigned s = 0; s < TF_NSLOTS; s++) {
		const struct js_val *x = &a->v[s], *y = &b->v[s];
		if (x->type != y->type)
			abort();
		if ((x->type == JS_STR && (x->len != y->len || memcmp(x->s, y->s, x->len) != 0)) ||
		    (x->type == JS_INT && x->i != y->i) || (x->type == JS_ARR && x->len != y->len))
			abort();
	}
}

static void compare_binary_decoders(const char *path)
{
	static uint8_t buf[1 << 20];
	static char line[ST_JSON_LINE_MAX + 1];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf)) : -1;
	struct bin_file bin;
	int64_t base;
	unsigned major, minor;

	if (fd >= 0)
		close(fd);
	if (n < (ssize_t)ST_PROLOGUE_LEN || st_prologue_read(buf, &base, &major, &minor) != 0)
		return;
	bin_file_init(&bin, base);
	for (size_t pos = ST_PROLOGUE_LEN; pos < (size_t)n;) {
		size_t flen, boff, blen;
		const char *why;
		if (st_frame_parse(buf + pos, (size_t)n - pos, &flen, &boff, &blen) != ST_FRAME_OK) {
			pos++;
			continue;
		}
		const uint8_t *body = buf + pos + boff;
		size_t len = bin_body_json(&bin, body, blen, line, sizeof(line) - 1, &why);
		struct tr_fields *direct = body[0] == ST_K_CALL ? bin_call_fields(&bin, body, blen) : NULL;
		if (direct) {
			struct tr_fields *scanned = len ? tr_fields_parse(line, len - 1, false) : NULL;
			if (!scanned)
				abort(); /* taken straight, but its line is not */
			same_slots(direct, scanned);
			tr_fields_free(scanned);
			tr_fields_free(direct);
		}
		pos += flen;
	}
	bin_file_free(&bin);
}

/* Each file on its own, in file order: what `socktrace cat` prints. */
static void read_each_file(void)
{
	for (size_t i = 0; i < MAX_FILES; i++) {
		struct tr_line_counts counts;
		size_t lines = 0;

		if (access(paths[i], F_OK) != 0)
			continue;
		compare_binary_decoders(paths[i]);
		if (tr_file_lines(paths[i], NULL, count_line, &lines, &counts) == 0 &&
		    lines != counts.lines)
			abort();
	}
}

#ifndef FUZZ_READER_ONLY
static void run_tool(uint8_t how)
{
	static const char *const formats[] = { "text", "html", "mermaid", "perfetto", "jsonl" };
	char *argv[16];
	int argc = 0;
	FILE *saved = stderr;

	/* The tool's warnings about a bad trace are expected here: keep them
	 * out of the fuzzer's output. Sanitizer reports use the descriptor,
	 * not this stream, and still show. */
	stderr = devnull;
	how %= 12;
	if (how < 10) {
		argv[argc++] = "view";
		argv[argc++] = "-f";
		argv[argc++] = (char *)formats[how % 5];
		argv[argc++] = "-o";
		argv[argc++] = "/dev/null";
		argv[argc++] = "--addr2line";
		argv[argc++] = "none";
		if (how % 5 == 0) {
			argv[argc++] = "--width";
			argv[argc++] = how >= 5 ? "60" : "200";
			argv[argc++] = "--color";
			argv[argc++] = how >= 5 ? "always" : "never";
			if (how >= 5)
				argv[argc++] = "--ascii";
		} else if (how >= 5) {
			argv[argc++] = "--errors";
		}
		argv[argc++] = dir;
		argv[argc] = NULL;
		cmd_view(argc, argv);
	} else {
		argv[argc++] = "stats";
		argv[argc++] = "-a";
		argv[argc++] = "-o";
		argv[argc++] = "/dev/null";
		if (how == 11)
			argv[argc++] = "--errors";
		argv[argc++] = dir;
		argv[argc] = NULL;
		cmd_stats(argc, argv);
	}
	stderr = saved;
}
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int registered;
	uint8_t how;

	if (!dir[0])
		LLVMFuzzerInitialize(NULL, NULL);
	if (!registered) {
		atexit(cleanup);
		registered = 1;
	}
	if (size == 0)
		return 0;
	how = data[0];
	pack = !(how & 0x80) ? PACK_NONE : (how & 0x40) ? PACK_ZSTD : (how & 0x20) ? PACK_GZIP2 : PACK_GZIP;
	split_into_files(data + 1, size - 1);
	read_directly();
	read_each_file();
#ifndef FUZZ_READER_ONLY
	run_tool(how);
#else
	(void)how;
#endif
	return 0;
}
