/* instream: the byte streams the trace reader reads (viewer/read/
 * instream.c): files as they are, gzip (members one after the other) and
 * zstd (frames likewise) told by their first bytes, data cut short or
 * corrupt read as far as they are valid, standard input and pipes read
 * again from their copy; and the reader over them: compressed files in a
 * directory, a cut compressed file reported as a cut trace. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "trace_fixture.h"
#include "read/instream.h"
#include "read/trace_reader.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <zlib.h>
#include <zstd.h>

struct bytes {
	unsigned char *p;
	size_t n;
	size_t cap;
};

static void bytes_add(struct bytes *b, const void *p, size_t n)
{
	if (b->n + n + 1 > b->cap) {
		b->cap = (b->n + n + 1) * 2;
		b->p = realloc(b->p, b->cap);
		assert_non_null(b->p);
	}
	memcpy(b->p + b->n, p, n);
	b->n += n;
}

/* Some text like a trace: lines that differ, so compression has work. */
static struct bytes sample_text(size_t lines)
{
	struct bytes b = { NULL, 0, 0 };
	char line[128];

	for (size_t i = 0; i < lines; i++) {
		int n = snprintf(line, sizeof(line), "{\"rec\":\"call\",\"ts\":%zu,\"n\":%zu}\n",
				 i * 7919 % 100003, i);
		bytes_add(&b, line, (size_t)n);
	}
	return b;
}

static struct bytes gzip_of(const unsigned char *p, size_t n)
{
	struct bytes out = { NULL, 0, 0 };
	unsigned char buf[4096];
	z_stream z;
	int rc;

	memset(&z, 0, sizeof(z));
	assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
	z.next_in = (unsigned char *)p;
	z.avail_in = (uInt)n;
	do {
		z.next_out = buf;
		z.avail_out = sizeof(buf);
		rc = deflate(&z, Z_FINISH);
		assert_true(rc == Z_OK || rc == Z_STREAM_END || rc == Z_BUF_ERROR);
		bytes_add(&out, buf, sizeof(buf) - z.avail_out);
	} while (rc != Z_STREAM_END);
	deflateEnd(&z);
	return out;
}

static struct bytes zstd_of(const unsigned char *p, size_t n)
{
	struct bytes out;
	size_t cap = ZSTD_compressBound(n);

	out.p = malloc(cap);
	assert_non_null(out.p);
	out.cap = cap;
	out.n = ZSTD_compress(out.p, cap, p, n, 3);
	assert_false(ZSTD_isError(out.n));
	return out;
}

static char *write_tmp(const char *dir, const char *name, const struct bytes *b, size_t n)
{
	char *path = malloc(PATH_MAX);

	assert_non_null(path);
	snprintf(path, PATH_MAX, "%s/%s", dir, name);
	fixture_write(dir, name, (const char *)b->p, n);
	return path;
}

/* Everything the stream gives, chunk bytes at a time. */
static struct bytes read_all(struct instream *s, size_t chunk)
{
	struct bytes b = { NULL, 0, 0 };
	unsigned char buf[8192];
	ssize_t got;

	assert_true(chunk <= sizeof(buf));
	while ((got = ins_read(s, buf, chunk)) > 0)
		bytes_add(&b, buf, (size_t)got);
	assert_int_equal(got, 0);
	return b;
}

static void assert_bytes_equal(const struct bytes *a, const struct bytes *b)
{
	assert_int_equal(a->n, b->n);
	assert_memory_equal(a->p, b->p, a->n);
}

static void names(void **state)
{
	size_t stem = 0;

	(void)state;
	assert_true(ins_is_stdin("-"));
	assert_false(ins_is_stdin("./-"));
	assert_string_equal(ins_shown("-"), "stdin");
	assert_string_equal(ins_shown("a/b.trace"), "a/b.trace");
	assert_true(ins_compressed_name("x.jsonl.gz", &stem));
	assert_int_equal(stem, strlen("x.jsonl"));
	assert_true(ins_compressed_name("x.trace.zst", &stem));
	assert_int_equal(stem, strlen("x.trace"));
	assert_false(ins_compressed_name("x.trace", &stem));
	assert_false(ins_compressed_name(".gz", &stem));
	assert_true(tr_is_any_trace_name("trace-123.jsonl.gz"));
	assert_true(tr_is_any_trace_name("trace-123.trace.zst"));
	assert_true(tr_is_any_trace_name("prog.1.jsonl"));
	assert_false(tr_is_any_trace_name("notes.txt.gz"));
	assert_false(tr_is_any_trace_name(".hidden.jsonl.gz"));
	assert_false(tr_is_any_trace_name("x.gz"));
	/* What the shim writes, and what `run` tidies, stays uncompressed. */
	assert_false(tr_is_trace_name("trace-123.jsonl.gz"));
}

/* Each format whole, read in chunks of many sizes; the format is told by
 * the bytes, whatever the name. */
static void whole_streams(void **state)
{
	char *dir = fixture_dir();
	struct bytes text = sample_text(1000);
	struct bytes gz = gzip_of(text.p, text.n), zs = zstd_of(text.p, text.n);
	char *plain = write_tmp(dir, "p.jsonl", &text, text.n);
	char *gzp = write_tmp(dir, "g.jsonl", &gz, gz.n);
	char *zsp = write_tmp(dir, "z.data", &zs, zs.n);
	const char *paths[] = { plain, gzp, zsp };
	const char *formats[] = { NULL, "gzip", "zstd" };
	static const size_t chunks[] = { 1, 7, 8192 };

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
			struct instream *s = ins_open(paths[i], 0);
			assert_non_null(s);
			if (formats[i])
				assert_string_equal(ins_format(s), formats[i]);
			else
				assert_null(ins_format(s));
			struct bytes got = read_all(s, chunks[c]);
			assert_bytes_equal(&got, &text);
			assert_null(ins_damage(s));
			/* The end stays the end. */
			char one;
			assert_int_equal(ins_read(s, &one, 1), 0);
			ins_close(s);
			free(got.p);
		}
		/* Skipping goes where reading would. */
		struct instream *s = ins_open(paths[i], INS_AGAIN);
		assert_non_null(s);
		assert_int_equal(ins_skip(s, 12345), 0);
		struct bytes rest = read_all(s, 4096);
		assert_int_equal(rest.n, text.n - 12345);
		assert_memory_equal(rest.p, text.p + 12345, rest.n);
		free(rest.p);
		ins_close(s);
		/* Past the end: EIO, where it is read (a file as it is is
		 * seeked: its end comes with the next read). */
		s = ins_open(paths[i], 0);
		if (formats[i]) {
			assert_int_equal(ins_skip(s, text.n + 1), -1);
			assert_int_equal(errno, EIO);
		}
		ins_close(s);
	}
	errno = 0;
	snprintf(plain, PATH_MAX, "%s/missing", dir);
	assert_null(ins_open(plain, 0));
	assert_int_equal(errno, ENOENT);
	free(plain);
	free(gzp);
	free(zsp);
	free(text.p);
	free(gz.p);
	free(zs.p);
	fixture_rm(dir);
}

/* gzip members one after the other (gzip a b > c, or appended with >>)
 * and zstd frames likewise are read whole. */
static void concatenated(void **state)
{
	char *dir = fixture_dir();
	struct bytes text = sample_text(3000);
	size_t half = text.n / 3;
	struct bytes a = gzip_of(text.p, half), b = gzip_of(text.p + half, text.n - half);
	struct bytes e = gzip_of(text.p, 0);
	struct bytes za = zstd_of(text.p, half), zb = zstd_of(text.p + half, text.n - half);
	struct bytes gz = { NULL, 0, 0 }, zs = { NULL, 0, 0 };

	(void)state;
	bytes_add(&gz, a.p, a.n);
	bytes_add(&gz, e.p, e.n); /* an empty member between */
	bytes_add(&gz, b.p, b.n);
	bytes_add(&zs, za.p, za.n);
	bytes_add(&zs, zb.p, zb.n);
	char *gzp = write_tmp(dir, "m.gz", &gz, gz.n);
	char *zsp = write_tmp(dir, "m.zst", &zs, zs.n);
	const char *paths[] = { gzp, zsp };
	for (size_t i = 0; i < 2; i++) {
		struct instream *s = ins_open(paths[i], 0);
		assert_non_null(s);
		struct bytes got = read_all(s, 1000);
		assert_bytes_equal(&got, &text);
		assert_null(ins_damage(s));
		ins_close(s);
		free(got.p);
	}
	free(gzp);
	free(zsp);
	free(text.p);
	free(a.p);
	free(b.p);
	free(e.p);
	free(za.p);
	free(zb.p);
	free(gz.p);
	free(zs.p);
	fixture_rm(dir);
}

/* Compressed data cut short, corrupt, or followed by something else:
 * what is valid is given, a prefix of the original, then the end, and
 * ins_damage says why. */
static void cut_and_corrupt(void **state)
{
	char *dir = fixture_dir();
	struct bytes text = sample_text(20000);
	struct bytes gz = gzip_of(text.p, text.n), zs = zstd_of(text.p, text.n);
	struct {
		const struct bytes *data;
		const char *fmt;
	} cases[] = { { &gz, "gzip" }, { &zs, "zstd" } };

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		const struct bytes *c = cases[i].data;
		/* Cut: at 60 %, and in the header right after the magic. */
		size_t cuts[] = { c->n * 6 / 10, c->n - 1, 4 };
		for (size_t k = 0; k < 3; k++) {
			char *p = write_tmp(dir, "cut", c, cuts[k]);
			struct instream *s = ins_open(p, 0);
			assert_non_null(s);
			assert_string_equal(ins_format(s), cases[i].fmt);
			struct bytes got = read_all(s, 4096);
			/* Without its last byte, all but the check is there. */
			assert_true(k == 1 ? got.n <= text.n : got.n < text.n);
			if (got.n)
				assert_memory_equal(got.p, text.p, got.n);
			if (k == 0)
				assert_true(got.n > text.n / 4); /* what was there was read */
			assert_non_null(ins_damage(s));
			assert_non_null(strstr(ins_damage(s), "cut short"));
			assert_non_null(strstr(ins_damage(s), cases[i].fmt));
			ins_close(s);
			free(got.p);
			free(p);
		}
		/* A byte changed in the middle. */
		struct bytes bad = { NULL, 0, 0 };
		bytes_add(&bad, c->p, c->n);
		for (size_t k = c->n / 2; k < c->n / 2 + 64; k++)
			bad.p[k] ^= 0x55;
		char *p = write_tmp(dir, "bad", &bad, bad.n);
		struct instream *s = ins_open(p, 0);
		struct bytes got = read_all(s, 4096);
		assert_true(got.n < text.n);
		assert_non_null(ins_damage(s));
		assert_non_null(strstr(ins_damage(s), "corrupt"));
		ins_close(s);
		free(got.p);
		/* Something after the end. */
		memcpy(bad.p, c->p, c->n);
		bytes_add(&bad, "trailing junk\n", 14);
		fixture_write(dir, "bad", (const char *)bad.p, bad.n);
		s = ins_open(p, 0);
		got = read_all(s, 4096);
		assert_bytes_equal(&got, &text);
		assert_non_null(ins_damage(s));
		ins_close(s);
		free(got.p);
		free(bad.p);
		free(p);
	}
	free(text.p);
	free(gz.p);
	free(zs.p);
	fixture_rm(dir);
}

struct writer {
	int fd;
	const struct bytes *data;
};

static void *write_and_close(void *arg)
{
	struct writer *w = arg;
	size_t off = 0;

	while (off < w->data->n) {
		ssize_t n = write(w->fd, w->data->p + off, w->data->n - off);
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	close(w->fd);
	return NULL;
}

/* A pipe through its /dev/fd name: read once as a stream, or, with
 * INS_AGAIN, kept, so that every later open of the name reads it all
 * again (as the reader does: twice per pass, and view makes two). */
static void pipes_read_again(void **state)
{
	struct bytes text = sample_text(20000); /* more than a pipe holds */
	struct bytes zs = zstd_of(text.p, text.n);
	const struct bytes *inputs[] = { &text, &zs };

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		int fds[2];
		pthread_t t;
		char name[64];
		assert_int_equal(pipe(fds), 0);
		struct writer w = { fds[1], inputs[i] };
		assert_int_equal(pthread_create(&t, NULL, write_and_close, &w), 0);
		snprintf(name, sizeof(name), "/dev/fd/%d", fds[0]);
		for (int pass = 0; pass < 3; pass++) {
			struct instream *s = ins_open(name, INS_AGAIN);
			assert_non_null(s);
			if (pass == 1) {
				/* A skip into what the copy holds, then the rest. */
				assert_int_equal(ins_skip(s, 1000), 0);
				struct bytes got = read_all(s, 777);
				assert_int_equal(got.n, text.n - 1000);
				assert_memory_equal(got.p, text.p + 1000, got.n);
				free(got.p);
			} else {
				struct bytes got = read_all(s, pass ? 8192 : 100);
				assert_bytes_equal(&got, &text);
				free(got.p);
			}
			ins_close(s);
		}
		pthread_join(t, NULL);
		close(fds[0]);
	}
	free(text.p);
	free(zs.p);
}

/* "-": standard input, as a pipe (read as it comes, and kept when it
 * will be read again) or a regular file (read in place). */
static void standard_input(void **state)
{
	char *dir = fixture_dir();
	struct bytes text = sample_text(2000);
	struct bytes gz = gzip_of(text.p, text.n);
	int saved = dup(STDIN_FILENO);
	int fds[2];
	pthread_t t;

	(void)state;
	assert_true(saved >= 0);
	/* A pipe of gzip data, read once (no copy). */
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(dup2(fds[0], STDIN_FILENO), STDIN_FILENO);
	close(fds[0]);
	struct writer w = { fds[1], &gz };
	assert_int_equal(pthread_create(&t, NULL, write_and_close, &w), 0);
	struct instream *s = ins_open("-", 0);
	assert_non_null(s);
	assert_string_equal(ins_format(s), "gzip");
	struct bytes got = read_all(s, 4096);
	assert_bytes_equal(&got, &text);
	free(got.p);
	ins_close(s);
	pthread_join(t, NULL);
	/* Standard input stays open. */
	assert_true(fcntl(STDIN_FILENO, F_GETFD) >= 0);

	/* A regular file on standard input, from where it stands, twice. */
	char *p = write_tmp(dir, "in", &text, text.n);
	int fd = open(p, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(lseek(fd, 10, SEEK_SET), 10);
	assert_int_equal(dup2(fd, STDIN_FILENO), STDIN_FILENO);
	close(fd);
	for (int pass = 0; pass < 2; pass++) {
		s = ins_open("-", INS_AGAIN);
		assert_non_null(s);
		got = read_all(s, 4096);
		assert_int_equal(got.n, text.n - 10);
		assert_memory_equal(got.p, text.p + 10, got.n);
		free(got.p);
		ins_close(s);
	}
	assert_int_equal(dup2(saved, STDIN_FILENO), STDIN_FILENO);
	close(saved);
	free(p);
	free(text.p);
	free(gz.p);
	fixture_rm(dir);
}

static int count_line(void *ctx, const char *line, size_t n)
{
	(void)line;
	(void)n;
	(*(unsigned long *)ctx)++;
	return 0;
}

#define HDR1 HDR(1, 0, "a")

/* The reader over compressed files: a directory lists *.gz and *.zst
 * trace files; a cut one is read up to the cut, its end counted as a cut
 * record and said, as for a trace a killed process left. */
static void reader_over_compressed(void **state)
{
	char *dir = fixture_dir();
	struct bytes text = { NULL, 0, 0 };
	char line[256];
	char *msg = NULL;
	size_t msglen = 0;

	(void)state;
	bytes_add(&text, HDR1, strlen(HDR1));
	for (int i = 0; i < 20000; i++) {
		int n = snprintf(line, sizeof(line),
				 "{\"rec\":\"call\",\"ts\":%d,\"dur\":1,\"pid\":1,\"tid\":1,\"fn\":\"close\",\"fd\":%d,\"ret\":0}\n",
				 1000 + i * 10, i % 1000);
		bytes_add(&text, line, (size_t)n);
	}
	struct bytes zs = zstd_of(text.p, text.n);
	char *whole = write_tmp(dir, "a.1.jsonl.zst", &zs, zs.n);
	const char *in[] = { dir };
	struct tr_reader r;
	struct tr_record rec;
	FILE *diagf = open_memstream(&msg, &msglen);
	unsigned long n = 0;

	assert_int_equal(tr_open(&r, in, 1, diagf, TR_FAST), 0);
	while (tr_next(&r, &rec) > 0) {
		n++;
		tr_record_free(&rec);
	}
	assert_int_equal(n, 20000);
	tr_report(&r, "t");
	tr_close(&r);
	fflush(diagf);
	assert_int_equal(msglen, 0);

	/* Cut at 60 %: a prefix, one cut record, the reason. */
	struct bytes gz = gzip_of(text.p, text.n);
	unlink(whole);
	free(whole);
	whole = write_tmp(dir, "a.1.jsonl.gz", &gz, gz.n * 6 / 10);
	n = 0;
	assert_int_equal(tr_open(&r, in, 1, diagf, 0), 0);
	while (tr_next(&r, &rec) > 0) {
		n++;
		tr_record_free(&rec);
	}
	assert_true(n > 5000 && n < 20000);
	assert_int_equal(r.skipped_cut, 1);
	assert_int_equal(r.damaged_streams, 1);
	tr_report(&r, "t");
	tr_close(&r);
	fflush(diagf);
	assert_non_null(strstr(msg, "t: skipped 1 incomplete record"));
	assert_non_null(strstr(msg, "a.1.jsonl.gz: the gzip data are cut short: read up to there"));

	/* The same file alone, in file order (cat). */
	struct tr_line_counts counts;
	unsigned long lines = 0;
	assert_int_equal(tr_file_lines(whole, diagf, count_line, &lines, &counts), 0);
	assert_int_equal(lines, n + 1); /* and the header */
	assert_int_equal(counts.cut, 1);
	free(whole);
	fclose(diagf);
	free(msg);
	free(text.p);
	free(zs.p);
	free(gz.p);
	fixture_rm(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(names),
		cmocka_unit_test(whole_streams),
		cmocka_unit_test(concatenated),
		cmocka_unit_test(cut_and_corrupt),
		cmocka_unit_test(pipes_read_again),
		cmocka_unit_test(standard_input),
		cmocka_unit_test(reader_over_compressed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
