/* trace_reader: the streaming reader of trace files and directories:
 * merge order, NUL padding, cut records, corrupt files, versions. Every
 * test runs twice, with records decoded by jansson and by the fast
 * scanner (TR_FAST); the two must agree on every record and message. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "trace_fixture.h"
#include "read/trace_reader.h"
#include "read/vev.h"
#include "recframe.h"

#include <sys/stat.h>

#define REC(ts, dur, pid, fn) \
	"{\"rec\":\"call\",\"ts\":" #ts ",\"dur\":" #dur ",\"pid\":" #pid ",\"tid\":" #pid \
	",\"fn\":\"" fn "\",\"fd\":3,\"ret\":0}\n"

/* tr_open's flags for the group of tests running: 0 or TR_FAST. */
static unsigned mode;

struct capture {
	char *text;
	size_t len;
	FILE *f;
};

static void capture_open(struct capture *c)
{
	c->text = NULL;
	c->len = 0;
	c->f = open_memstream(&c->text, &c->len);
	assert_non_null(c->f);
}

static const char *capture_text(struct capture *c)
{
	fflush(c->f);
	return c->text ? c->text : "";
}

static void capture_close(struct capture *c)
{
	fclose(c->f);
	free(c->text);
}

/* Reads everything; returns the count, the keys (ts + dur) in *keys. */
static int read_all(struct tr_reader *r, int64_t *keys, int max)
{
	struct tr_record rec;
	int n = 0, rc;

	while ((rc = tr_next(r, &rec)) > 0) {
		if (n < max)
			keys[n] = rec.ts + rec.dur;
		n++;
		tr_record_free(&rec);
	}
	return rc < 0 ? -1 : n;
}

static int open_dir(struct tr_reader *r, const char *dir, struct capture *c)
{
	const char *paths[] = { dir };

	return tr_open(r, paths, 1, c->f, mode);
}

static void merges_files_by_return_time(void **state)
{
	char *dir = fixture_dir();
	struct tr_reader r;
	struct capture c;
	int64_t k[8];

	(void)state;
	/* b's first call started first but returned last. */
	fixture_write(dir, "a.1.jsonl", HDR(1, 0, "a") REC(100, 0, 1, "socket") REC(300, 0, 1, "bind"), 0);
	fixture_write(dir, "b.2.jsonl", HDR(2, 0, "b") REC(50, 1000, 2, "accept") REC(2000, 5, 2, "recv"), 0);
	capture_open(&c);
	assert_int_equal(open_dir(&r, dir, &c), 0);
	assert_int_equal(read_all(&r, k, 8), 4);
	assert_int_equal(k[0], 100);
	assert_int_equal(k[1], 300);
	assert_int_equal(k[2], 1050);
	assert_int_equal(k[3], 2005);
	assert_int_equal(r.skipped_cut + r.skipped_invalid + r.skipped_unknown, 0);
	tr_close(&r);
	capture_close(&c);
	fixture_rm(dir);
}

static void lookahead_orders_threads(void **state)
{
	char *dir = fixture_dir();
	struct tr_reader r;
	struct capture c;
	int64_t k[8];

	(void)state;
	/* Threads wrote their records in a different order than they returned. */
	fixture_write(dir, "a.1.jsonl",
		      HDR(1, 0, "a") REC(50, 0, 1, "send") REC(10, 0, 1, "recv") REC(30, 0, 1, "send")
			      REC(20, 0, 1, "recv"),
		      0);
	capture_open(&c);
	assert_int_equal(open_dir(&r, dir, &c), 0);
	assert_int_equal(read_all(&r, k, 8), 4);
	assert_int_equal(k[0], 10);
	assert_int_equal(k[1], 20);
	assert_int_equal(k[2], 30);
	assert_int_equal(k[3], 50);
	tr_close(&r);
	capture_close(&c);
	fixture_rm(dir);
}

static void nul_padding_and_cut_records(void **state)
{
	static const char data[] = HDR(1, 0, "a") REC(10, 0, 1, "socket")
		"\0\0\0\0"
		/* a thread killed while copying, then another thread's record */
		"{\"rec\":\"call\",\"ts\":15,\"du\0\0\0\0\0\0" REC(20, 0, 1, "bind")
		/* padding, then a last line cut short */
		"\0\0\0\0\0\0\0\0{\"rec\":\"call\",\"ts\":30";
	char *dir = fixture_dir();
	struct tr_reader r;
	struct capture c;
	int64_t k[8];

	(void)state;
	fixture_write(dir, "a.1.jsonl", data, sizeof(data) - 1);
	capture_open(&c);
	assert_int_equal(open_dir(&r, dir, &c), 0);
	assert_int_equal(read_all(&r, k, 8), 2);
	assert_int_equal(k[0], 10);
	assert_int_equal(k[1], 20);
	assert_int_equal(r.skipped_cut, 2);
	assert_false(r.failed);
	tr_report(&r, "t");
	assert_non_null(strstr(capture_text(&c), "skipped 2 incomplete records"));
	assert_non_null(strstr(capture_text(&c), "a.1.jsonl:3"));
	tr_close(&r);
	capture_close(&c);
	fixture_rm(dir);
}

static void last_line_without_newline(void **state)
{
	char *dir = fixture_dir();
	struct tr_reader r;
	struct capture c;
	int64_t k[8];
	/* Complete but for its newline: kept. */
	static const char whole[] = HDR(1, 0, "a") "{\"rec\":\"call\",\"ts\":5,\"pid\":1,\"fn\":\"close\"}";

	(void)state;
	fixture_write(dir, "a.1.jsonl", whole, 0);
	capture_open(&c);
	assert_int_equal(open_dir(&r, dir, &c), 0);
	assert_int_equal(read_all(&r, k, 8), 1);
	assert_int_equal(r.skipped_cut, 0);
	tr_close(&r);
	capture_close(&c);
	fixture_rm(dir);
}

static void bad_json_in_the_middle_is_an_error(void **state)
{
	char *dir = fixture_dir();
	struct tr_reader r;
	struct capture c;
	int64_t k[8];

	(void)state;
	fixture_write(dir, "a.1.jsonl",
		      HDR(1, 0, "a") REC(10, 0, 1, "socket") REC(11, 0, 1, "socket")
			      REC(12, 0, 1, "socket") "{\"rec\":\"call\",\"ts\":1x}\n" REC(20, 0, 1, "bind"),
		      0);
	capture_open(&c);
	assert_int_equal(open_dir(&r, dir, &c), 0);
	assert_int_equal(read_all(&r, k, 8), -1);
	assert_true(r.failed);
	assert_non_null(strstr(capture_text(&c), "a.1.jsonl:5: not valid JSON"));
	tr_close(&r);
	capture_close(&c);
	fixture_rm(dir);
}

static void not_a_trace(void **state)
{
	char *dir = fixture_dir();
	char path[PATH_MAX];
	const char *paths[] = { path };
	struct tr_reader r;
	struct capture c;

	(void)state;
	snprintf(path, sizeof(path), "%s/x.jsonl", dir);
	capture_open(&c);
	fixture_write(dir, "x.jsonl", "{\"hello\":1}\n", 0);
	assert_int_equal(tr_open(&r, paths, 1, c.f, mode), -1);
	assert_non_null(strstr(capture_text(&c), "x.jsonl:1: not a socktrace trace"));
	tr_close(&r);
	fixture_write(dir, "x.jsonl", "\x7f" "ELF\x02\x01\x01\0\0\0binary junk\n\xff\xfe", 24);
	assert_int_equal(tr_open(&r, paths, 1, c.f, mode), -1);
	tr_close(&r);
	fixture_write(dir, "x.jsonl", "[1,2,3]\n", 0);
	assert_int_equal(tr_open(&r, paths, 1, c.f, mode), -1);
	tr_close(&r);
	/* Another major version. */
	fixture_write(dir, "x.jsonl",
		      "{\"rec\":\"header\",\"format\":\"socktrace\",\"version\":\"2.0\",\"pid\":1}\n", 0);
	assert_int_equal(tr_open(&r, paths, 1, c.f, mode), -1);
	assert_non_null(strstr(capture_text(&c), "trace format 2.0"));
	tr_close(&r);
	/* Missing file. */
	snprintf(path, sizeof(path), "%s/missing.jsonl", dir);
	assert_int_equal(tr_open(&r, paths, 1, c.f, mode), -1);
	assert_non_null(strstr(capture_text(&c), "missing.jsonl"));
	tr_close(&r);
	capture_close(&c);
	fixture_rm(dir);
}

static void newer_minor_and_unknown_things(void **state)
{
	char *dir = fixture_dir();
	struct tr_reader r;
	struct capture c;
	int64_t k[8];

	(void)state;
	fixture_write(dir, "a.1.jsonl",
		      "{\"rec\":\"header\",\"format\":\"socktrace\",\"version\":\"1.7\",\"pid\":1,"
		      "\"new_field\":[1,2]}\n"
		      "{\"rec\":\"call\",\"ts\":10,\"dur\":1,\"pid\":1,\"fn\":\"socket\",\"shiny\":{\"a\":1}}\n"
		      "{\"rec\":\"hologram\",\"ts\":11}\n"
		      "{\"rec\":\"call\",\"pid\":1,\"fn\":\"bind\"}\n"
		      "{\"rec\":\"call\",\"ts\":12,\"pid\":1,\"fn\":\"sock_of_the_future\"}\n",
		      0);
	capture_open(&c);
	assert_int_equal(open_dir(&r, dir, &c), 0);
	assert_int_equal(read_all(&r, k, 8), 2);
	assert_int_equal(r.skipped_unknown, 1);
	assert_int_equal(r.skipped_invalid, 1);
	tr_report(&r, "t");
	assert_non_null(strstr(capture_text(&c), "trace format 1.7"));
	assert_non_null(strstr(capture_text(&c), "a.1.jsonl:4: no integer \"ts\""));
	tr_close(&r);
	capture_close(&c);
	fixture_rm(dir);
}

static void warnings_and_dropped_records(void **state)
{
	char *dir = fixture_dir();
	struct tr_reader r;
	struct capture c;
	struct tr_record rec;
	int kinds[4] = { 0 }, rc;

	(void)state;
	fixture_write(dir, "a.1.jsonl",
		      HDR(1, 0, "a") REC(10, 0, 1, "socket")
		      "{\"rec\":\"warning\",\"ts\":20,\"pid\":1,\"tid\":1,\"kind\":\"io_uring\"}\n"
		      "{\"rec\":\"end\",\"ts\":30,\"pid\":1,\"reason\":\"exit\",\"dropped\":5}\n",
		      0);
	capture_open(&c);
	assert_int_equal(open_dir(&r, dir, &c), 0);
	while ((rc = tr_next(&r, &rec)) > 0) {
		kinds[rec.kind]++;
		tr_record_free(&rec);
	}
	assert_int_equal(rc, 0);
	assert_int_equal(kinds[TR_CALL], 1);
	assert_int_equal(kinds[TR_WARNING], 1);
	assert_int_equal(kinds[TR_END], 1);
	assert_int_equal(r.skipped_unknown, 0);
	assert_int_equal(r.dropped, 5);
	tr_report(&r, "t");
	assert_non_null(strstr(capture_text(&c), "could not write 5 records"));
	tr_close(&r);
	capture_close(&c);
	fixture_rm(dir);
}

static void empty_files_and_directories(void **state)
{
	char *dir = fixture_dir();
	char sub[PATH_MAX];
	const char *paths[] = { dir };
	struct tr_reader r;
	struct capture c;
	int64_t k[8];

	(void)state;
	capture_open(&c);
	/* No trace files at all. */
	assert_int_equal(tr_open(&r, paths, 1, c.f, mode), -1);
	assert_non_null(strstr(capture_text(&c), "no trace files"));
	tr_close(&r);
	/* socktrace-out/latest stands for the directory. */
	snprintf(sub, sizeof(sub), "%s/run-1", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	fixture_write(sub, "a.1.jsonl", HDR(1, 0, "a") REC(1, 0, 1, "socket"), 0);
	fixture_write(sub, "b.2.jsonl", "", 1); /* one NUL: killed at once */
	fixture_write(sub, "notes.txt", "not a trace", 0);
	char link[PATH_MAX];
	snprintf(link, sizeof(link), "%s/latest", dir);
	assert_int_equal(symlink("run-1", link), 0);
	assert_int_equal(tr_open(&r, paths, 1, c.f, mode), 0);
	assert_int_equal(r.nfiles, 1);
	assert_int_equal(r.skipped_files, 1);
	assert_int_equal(read_all(&r, k, 8), 1);
	tr_close(&r);
	unlink(link);
	capture_close(&c);
	fixture_rm(dir);
}

static void aligns_hosts_on_wall_clock(void **state)
{
	char *dir = fixture_dir();
	struct tr_reader r;
	struct capture c;
	int64_t k[8];

	(void)state;
	/* Host x's monotonic clock is 1000 s ahead of host y's; on the wall
	 * clock y's call (real 1000000500) came before x's (1000000700). */
	fixture_write(dir, "x.1.jsonl",
		      "{\"rec\":\"header\",\"format\":\"socktrace\",\"version\":\"1.0\",\"pid\":1,\"host\":\"x\","
		      "\"clock\":{\"mono\":1000000000000,\"real\":1000000000}}\n"
		      "{\"rec\":\"call\",\"ts\":1000000000700,\"pid\":1,\"fn\":\"send\"}\n",
		      0);
	fixture_write(dir, "y.2.jsonl",
		      "{\"rec\":\"header\",\"format\":\"socktrace\",\"version\":\"1.0\",\"pid\":2,\"host\":\"y\","
		      "\"clock\":{\"mono\":0,\"real\":1000000000}}\n"
		      "{\"rec\":\"call\",\"ts\":500,\"pid\":2,\"fn\":\"recv\"}\n",
		      0);
	capture_open(&c);
	assert_int_equal(open_dir(&r, dir, &c), 0);
	assert_true(r.multihost);
	assert_int_equal(read_all(&r, k, 8), 2);
	assert_int_equal(k[0], 500);
	assert_int_equal(k[1], 1000000000700LL);
	tr_close(&r);
	capture_close(&c);
	fixture_rm(dir);
}

static void many_files_in_bounded_descriptors(void **state)
{
	char *dir = fixture_dir();
	struct tr_reader r;
	struct capture c;
	int64_t k[4];
	char name[64], body[1024];

	(void)state;
	/* 300 short-lived processes one after the other: each file is opened
	 * when the merge reaches it and closed when it is used up. */
	for (int i = 0; i < 300; i++) {
		snprintf(name, sizeof(name), "child.%d.jsonl", 1000 + i);
		snprintf(body, sizeof(body),
			 "{\"rec\":\"header\",\"format\":\"socktrace\",\"version\":\"1.0\",\"pid\":%d}\n"
			 "{\"rec\":\"call\",\"ts\":%d,\"pid\":%d,\"fn\":\"socket\"}\n"
			 "{\"rec\":\"end\",\"ts\":%d,\"pid\":%d,\"reason\":\"exit\"}\n",
			 1000 + i, 100 * i + 1, 1000 + i, 100 * i + 2, 1000 + i);
		fixture_write(dir, name, body, 0);
	}
	capture_open(&c);
	assert_int_equal(open_dir(&r, dir, &c), 0);
	assert_int_equal(read_all(&r, k, 4), 600);
	assert_int_equal(k[0], 1);
	tr_close(&r);
	capture_close(&c);
	fixture_rm(dir);
}

/* Reads dir with both decoders side by side: the same records in the
 * same order, decoded to the same fields, the same lines skipped, the
 * same messages. */
static void decoders_agree(const char *dir)
{
	const char *paths[] = { dir };
	struct tr_reader r[2];
	struct capture c[2];
	int rc[2];
	uint64_t seq = 0;

	for (int i = 0; i < 2; i++) {
		capture_open(&c[i]);
		rc[i] = tr_open(&r[i], paths, 1, c[i].f, i ? TR_FAST : 0);
	}
	assert_int_equal(rc[0], rc[1]);
	while (rc[0] == 0) {
		struct tr_record rec[2];
		struct vev ev[2];
		char why[32];
		int got0 = tr_next(&r[0], &rec[0]), got1 = tr_next(&r[1], &rec[1]);
		assert_int_equal(got0, got1);
		if (got0 <= 0)
			break;
		seq++;
		assert_int_equal(rec[0].key, rec[1].key);
		assert_int_equal(rec[0].kind, rec[1].kind);
		vev_decode(&ev[0], &rec[0], seq, r[0].base);
		vev_decode(&ev[1], &rec[1], seq, r[1].base);
		if (!vev_same_fields(&ev[0], &ev[1], why, sizeof(why)))
			fail_msg("%s:%ld: %s differs", rec[0].file->path, rec[0].line, why);
		tr_record_free(&rec[0]);
		tr_record_free(&rec[1]);
	}
	if (rc[0] == 0) {
		tr_report(&r[0], "t");
		tr_report(&r[1], "t");
	}
	assert_string_equal(capture_text(&c[0]), capture_text(&c[1]));
	assert_int_equal(r[0].records, r[1].records);
	assert_int_equal(r[0].skipped_cut, r[1].skipped_cut);
	assert_int_equal(r[0].skipped_invalid, r[1].skipped_invalid);
	assert_int_equal(r[0].skipped_unknown, r[1].skipped_unknown);
	assert_int_equal(r[0].dropped, r[1].dropped);
	assert_int_equal(r[0].failed, r[1].failed);
	for (int i = 0; i < 2; i++) {
		tr_close(&r[i]);
		capture_close(&c[i]);
	}
}

/* Records that stress the fast scanner's agreement with jansson: escapes,
 * reals and big numbers where integers go, duplicate keys, nested and
 * unknown values, lines only jansson takes, and lines nobody takes. */
static void both_decoders_agree(void **state)
{
	static const char *const traces[] = {
		HDR(1, 0, "a")
		"{\"rec\":\"call\",\"ts\":10,\"dur\":2,\"pid\":1,\"tid\":1,\"fn\":\"send\",\"fd\":3,\"ret\":3,"
		"\"bytes\":3,\"data\":\"a\\u0000\\u00ff\",\"data_cut\":7,\"local\":\"unix:\",\"peer\":\"unix:\","
		"\"fault\":{\"rule\":\"s:1\",\"text\":\"send error=EPIPE\",\"action\":\"error\",\"made\":true}}\n"
		"{\"rec\":\"call\",\"ts\":11,\"pid\":1,\"fn\":\"socketpair\",\"ret\":0,\"type\":\"SOCK_DGRAM\","
		"\"fds\":[4,5]}\n"
		"{\"rec\":\"call\",\"ts\":12,\"pid\":1,\"fn\":\"getsockopt\",\"fd\":4,\"ret\":0,\"level\":\"SOL_SOCKET\","
		"\"opt\":\"SO_ERROR\",\"value\":\"ECONNREFUSED\"}\n"
		"{\"rec\":\"call\",\"ts\":13,\"pid\":1,\"fn\":\"setsockopt\",\"fd\":4,\"ret\":0,"
		"\"opt\":\"SO_LINGER\",\"value\":{\"onoff\":1,\"linger\":0}}\n"
		"{\"rec\":\"call\",\"ts\":14,\"pid\":1,\"fn\":\"connect\",\"fd\":4,\"ret\":-1,\"errno\":99999,"
		"\"fault\":\"odd\",\"stack\":[{\"ip\":\"0x1\"}],\"stack_cut\":2}\n"
		"{\"rec\":\"call\",\"ts\":15,\"pid\":1,\"fn\":\"close\",\"fd\":4,\"ret\":0,\"fault\":null,"
		"\"fds\":[1,2,3],\"fd\":1073741824}\n"
		"{\"rec\":\"warning\",\"ts\":16,\"pid\":1,\"tid\":1,\"kind\":\"io_uring\",\"how\":\"fd\","
		"\"message\":\"\\ud83d\\ude00\"}\n"
		"{\"rec\":\"ctl\",\"ts\":17,\"pid\":1,\"op\":\"add\",\"message\":\"x\"}\n"
		"{\"rec\":\"exec\",\"ts\":18,\"pid\":1,\"tid\":1,\"path\":\"/bin/x\",\"errno\":\"ENOENT\",\"ret\":-1}\n"
		"{\"rec\":\"end\",\"ts\":19,\"pid\":1,\"reason\":\"exit\",\"dropped\":3}\n",
		/* Skipped lines of every kind, with the real records between. */
		HDR(1, 0, "a")
		"{\"rec\":\"call\",\"ts\":1.5,\"pid\":1,\"fn\":\"x\"}\n"
		"{\"rec\":\"call\",\"ts\":-4,\"pid\":1,\"fn\":\"x\"}\n"
		"{\"rec\":\"call\",\"ts\":4,\"pid\":\"1\",\"fn\":\"x\"}\n"
		"{\"rec\":\"call\",\"ts\":4,\"pid\":1,\"fn\":7}\n"
		"{\"rec\":\"call\",\"ts\":9223372036854775807,\"dur\":1,\"pid\":1,\"fn\":\"x\"}\n"
		"{\"rec\":\"call\",\"ts\":5,\"dur\":-1,\"pid\":1,\"fn\":\"x\"}\n"
		"{\"rec\":\"call\",\"ts\":6,\"dur\":1e3,\"pid\":1,\"tid\":2.0,\"fn\":\"recv\",\"bytes\":-0}\n"
		"{\"rec\":7,\"ts\":4,\"pid\":1}\n"
		"{\"ts\":4,\"pid\":1}\n"
		"{\"rec\":\"call\\u0000x\",\"ts\":8,\"pid\":1,\"fn\":\"x\\u0000y\"}\n"
		"{\"rec\":\"hologram\",\"ts\":4}\n"
		"[1,2]\n"
		"{\"rec\":\"call\",\"ts\":9,\"pid\":1,\"fn\":\"send\",\"ts\":10,\"fn\":\"recv\"}\n"
		"{\"rec\":\"call\",\"ts\":11,\"pid\":1,\"fn\":\"x\",\"deep\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
		"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"
		"]]]]]]]]]]]]]}\n"
		"{\"rec\":\"call\",\"ts\":12,\"pid\":1,\"fn\":\"x\",\"r\":1.0000000000000000000000000000000000000"
		"0000000000000000000000000000000001}\n"
		"{\"rec\":\"call\",\"ts\":13,\"pid\":1,\"fn\":\"cut\"",
		/* A corrupt line in the middle: the same error, at the same column. */
		HDR(1, 0, "a") REC(10, 0, 1, "socket") "{\"rec\":\"call\",\"ts\":11,\"pid\":1,\"fn\":\"\\ud800\"}\n"
		REC(20, 0, 1, "bind"),
		HDR(1, 0, "a") REC(10, 0, 1, "socket") "{\"rec\":\"call\",\"ts\":99999999999999999999}\n",
		HDR(1, 0, "a") REC(10, 0, 1, "socket") "{\"rec\":\"call\",\"ts\":1e999}\n",
		HDR(1, 0, "a") REC(10, 0, 1, "socket") "{\"rec\":\"call\",\"ts\":11,\"f\\u0000\":1}\n",
		HDR(1, 0, "a") REC(10, 0, 1, "socket") "{\"rec\":\"call\",\"ts\":11}}\n",
		HDR(1, 0, "a") REC(10, 0, 1, "socket") "\n" REC(20, 0, 1, "bind"),
		HDR(1, 0, "a") REC(10, 0, 1, "socket") "{\"rec\":\"call\",\"local\":\"\xc0\xaf\"}\n",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(traces) / sizeof(traces[0]); i++) {
		char *dir = fixture_dir();
		fixture_write(dir, "a.1.jsonl", traces[i], 0);
		decoders_agree(dir);
		fixture_rm(dir);
	}
}

/* Garbage must never crash the reader: every prefix of a trace with
 * every byte flipped, read to the end. */
static void survives_mutations(void **state)
{
	static const char base[] = HDR(1, 0, "a") REC(10, 0, 1, "socket")
		"{\"rec\":\"call\",\"ts\":20,\"pid\":1,\"fn\":\"send\",\"data\":\"a\\u0000b\",\"bytes\":3}\n"
		"\0\0{\"rec\":\"end\",\"ts\":30,\"pid\":1}\n";
	char *dir = fixture_dir();
	char buf[sizeof(base)];
	struct tr_reader r;
	struct capture c;
	int64_t k[8];

	(void)state;
	capture_open(&c);
	for (size_t i = 0; i < sizeof(base) - 1; i += 3) {
		static const unsigned char flips[] = { 0x00, 0x0a, 0x22, 0x7b, 0x7d, 0xff, 0x5c };
		for (size_t f = 0; f < sizeof(flips); f++) {
			memcpy(buf, base, sizeof(base));
			buf[i] = (char)flips[f];
			fixture_write(dir, "m.1.jsonl", buf, sizeof(base) - 1);
			if (open_dir(&r, dir, &c) == 0)
				(void)read_all(&r, k, 8);
			tr_close(&r);
			decoders_agree(dir);
		}
	}
	capture_close(&c);
	fixture_rm(dir);
}

/* ---- traces joined in one input ---- */

#define JOIN_A HDR(1, 0, "a") REC(100, 0, 1, "socket") REC(300, 0, 1, "bind")
#define JOIN_B                                                                            \
	"{\"rec\":\"header\",\"format\":\"socktrace\",\"version\":\"1.0\",\"tool\":\"t\","     \
	"\"pid\":2,\"ppid\":1,\"uid\":0,\"prog\":\"b\",\"exe\":\"/y\",\"argv\":[],\"host\":\"h\","  \
	"\"clock\":{\"mono\":0,\"real\":1000000000},\"start\":0,\"payload\":0}\n"             \
	REC(50, 1000, 2, "accept") REC(2000, 5, 2, "recv")

/* A binary trace of the JSON lines text: its prologue, each line a JSON
 * record's frame (as the shim frames headers); cut: bytes left off its
 * end. Appended to buf. */
static void bin_append(char *buf, size_t *n, const char *text, size_t cut)
{
	size_t start = *n;

	st_prologue_write((uint8_t *)buf + *n, 0);
	*n += ST_PROLOGUE_LEN;
	for (const char *line = text; *line;) {
		const char *nl = strchr(line, '\n');
		size_t len = (size_t)(nl - line) + 1, flen;
		uint8_t frame[4096];
		memcpy(frame + ST_JSON_PRE, line, len);
		uint8_t *f = st_frame_json(frame, len, &flen);
		memcpy(buf + *n, f, flen);
		*n += flen;
		line = nl + 1;
	}
	assert_true(*n - start > cut);
	*n -= cut;
}

/* What dir's files read: the keys, each record's file's pid and part,
 * the reader's counts and messages. */
struct reading {
	int n;
	int64_t keys[16];
	int pids[16];
	size_t nfiles;
	unsigned long cut, invalid, unknown, inner;
	char *said;
};

static void read_inputs(const char *const *paths, size_t npaths, struct reading *out)
{
	struct tr_reader r;
	struct capture c;
	struct tr_record rec;
	int rc;

	memset(out, 0, sizeof(*out));
	capture_open(&c);
	assert_int_equal(tr_open(&r, paths, npaths, c.f, mode), 0);
	while ((rc = tr_next(&r, &rec)) > 0) {
		assert_true(out->n < 16);
		out->keys[out->n] = rec.ts + rec.dur;
		out->pids[out->n++] = rec.file->pid;
		tr_record_free(&rec);
	}
	assert_int_equal(rc, 0);
	tr_report(&r, "t");
	out->nfiles = r.nfiles;
	out->cut = r.skipped_cut;
	out->invalid = r.skipped_invalid;
	out->unknown = r.skipped_unknown;
	out->inner = r.inner_headers;
	out->said = strdup(capture_text(&c));
	tr_close(&r);
	capture_close(&c);
}

static void same_reading(const struct reading *a, const struct reading *b)
{
	assert_int_equal(a->n, b->n);
	for (int i = 0; i < a->n; i++) {
		assert_int_equal(a->keys[i], b->keys[i]);
		assert_int_equal(a->pids[i], b->pids[i]);
	}
	assert_int_equal(a->nfiles, b->nfiles);
	assert_int_equal(a->cut, b->cut);
	assert_int_equal(a->invalid, b->invalid);
	assert_int_equal(a->unknown, b->unknown);
	assert_int_equal(a->inner, b->inner);
}

/* A file (or a stream) holding traces one after the other reads as the
 * files they were: JSON Lines, binary, mixed; each trace a file of the
 * reader with its own header's identity; nothing skipped. */
static void joined_traces_read_as_files(void **state)
{
	static char buf[8192];
	char *dir = fixture_dir(), *sep = fixture_dir();
	char path[PATH_MAX];
	const char *paths[] = { sep };
	struct reading want, got;
	size_t n;

	(void)state;
	fixture_write(sep, "a.1.jsonl", JOIN_A, 0);
	fixture_write(sep, "b.2.jsonl", JOIN_B, 0);
	read_inputs(paths, 1, &want);
	assert_int_equal(want.n, 4);
	assert_int_equal(want.pids[2], 2); /* accept: returned at 1050 */
	assert_string_equal(want.said, "");
	for (int kind = 0; kind < 4; kind++) {
		n = 0;
		if (kind == 0) { /* JSON Lines */
			memcpy(buf, JOIN_A JOIN_B, n = strlen(JOIN_A JOIN_B));
		} else if (kind == 1) { /* binary */
			bin_append(buf, &n, JOIN_A, 0);
			bin_append(buf, &n, JOIN_B, 0);
		} else if (kind == 2) { /* JSON Lines, then binary */
			memcpy(buf, JOIN_A, n = strlen(JOIN_A));
			bin_append(buf, &n, JOIN_B, 0);
		} else { /* binary, then NUL padding, then JSON Lines */
			bin_append(buf, &n, JOIN_A, 0);
			memset(buf + n, 0, 40);
			n += 40;
			memcpy(buf + n, JOIN_B, strlen(JOIN_B));
			n += strlen(JOIN_B);
		}
		fixture_write(dir, "ab.trace", buf, n);
		snprintf(path, sizeof(path), "%s/ab.trace", dir);
		const char *joined[] = { path };
		/* Twice: the second tr_open takes what the first found. */
		for (int again = 0; again < 2; again++) {
			read_inputs(joined, 1, &got);
			same_reading(&want, &got);
			assert_string_equal(got.said, "");
			free(got.said);
		}
		/* The identity of each, and its name in messages. */
		struct tr_reader r;
		struct capture c;
		char name[PATH_MAX + 64];
		capture_open(&c);
		assert_int_equal(tr_open(&r, joined, 1, c.f, mode), 0);
		assert_int_equal(r.nfiles, 2);
		assert_int_equal(r.files[0]->pid, 1);
		assert_int_equal(r.files[0]->ppid, 0);
		assert_string_equal(r.files[0]->prog, "a");
		assert_string_equal(r.files[0]->exe, "/x");
		assert_int_equal(r.files[0]->part, 1);
		assert_int_equal(r.files[1]->pid, 2);
		assert_int_equal(r.files[1]->ppid, 1);
		assert_string_equal(r.files[1]->prog, "b");
		assert_string_equal(r.files[1]->exe, "/y");
		assert_int_equal(r.files[1]->part, 2);
		assert_int_equal(r.files[1]->binary, kind == 1 || kind == 2);
		snprintf(name, sizeof(name), "%s (trace 2, pid 2)", path);
		assert_string_equal(tr_file_shown(r.files[1]), name);
		json_t *h = tr_file_header(r.files[1]);
		assert_non_null(h);
		assert_string_equal(json_string_value(json_object_get(h, "prog")), "b");
		json_decref(h);
		tr_close(&r);
		capture_close(&c);
	}
	/* A file of one trace is no part. */
	snprintf(path, sizeof(path), "%s/a.1.jsonl", sep);
	const char *one[] = { path };
	struct tr_reader r;
	struct capture c;
	capture_open(&c);
	assert_int_equal(tr_open(&r, one, 1, c.f, mode), 0);
	assert_int_equal(r.nfiles, 1);
	assert_int_equal(r.files[0]->part, 0);
	assert_string_equal(tr_file_shown(r.files[0]), path);
	tr_close(&r);
	capture_close(&c);
	free(want.said);
	fixture_rm(dir);
	fixture_rm(sep);
}

/* A joined trace cut short reads as the file cut there would: its cut
 * record counted and named by which trace it is, the next trace whole
 * (its header right after the cut, without a newline between, too). */
static void joined_traces_cut_short(void **state)
{
	static char buf[8192];
	static const char cut_a[] = HDR(1, 0, "a") REC(100, 0, 1, "socket")
		"{\"rec\":\"call\",\"ts\":300,\"dur\":0,\"pid\":1,\"fn\":\"bi";
	char *dir = fixture_dir(), *sep = fixture_dir();
	char path[PATH_MAX], where[PATH_MAX + 64];
	const char *paths[] = { sep };
	struct reading want, got;

	(void)state;
	for (int kind = 0; kind < 3; kind++) {
		size_t n = 0, na;
		if (kind == 0) {
			memcpy(buf, cut_a, n = strlen(cut_a));
		} else if (kind == 1) { /* padding after the cut: a killed writer */
			memcpy(buf, cut_a, n = strlen(cut_a));
			memset(buf + n, 0, 16);
			n += 16;
		} else { /* a binary trace whose last frame lacks its end */
			bin_append(buf, &n, JOIN_A, 3);
		}
		na = n;
		fixture_write(sep, kind == 2 ? "a.1.trace" : "a.1.jsonl", buf, na);
		fixture_write(sep, "b.2.jsonl", JOIN_B, 0);
		read_inputs(paths, 1, &want);
		assert_int_equal(want.cut, 1);
		memcpy(buf + n, JOIN_B, strlen(JOIN_B));
		n += strlen(JOIN_B);
		fixture_write(dir, "ab.jsonl", buf, n);
		snprintf(path, sizeof(path), "%s/ab.jsonl", dir);
		const char *joined[] = { path };
		read_inputs(joined, 1, &got);
		same_reading(&want, &got);
		snprintf(where, sizeof(where), "(first at %s (trace 1, pid 1):%d)", path,
			 3);
		if (!strstr(got.said, where))
			fail_msg("said %s, not %s", got.said, where);
		free(want.said);
		free(got.said);
		fixture_rm(sep);
		sep = fixture_dir();
		paths[0] = sep;
	}
	fixture_rm(dir);
	fixture_rm(sep);
}

struct traces_seen {
	int n;
	int part[4];
	unsigned long lines[4], cut[4];
	char shown[4][PATH_MAX + 64];
};

static int count_nothing(void *ctx, const char *line, size_t n)
{
	(void)ctx;
	(void)line;
	(void)n;
	return 0;
}

static int trace_seen(void *ctx, const struct tr_line_counts *c)
{
	struct traces_seen *t = ctx;

	assert_true(t->n < 4);
	t->part[t->n] = c->part;
	t->lines[t->n] = c->lines;
	t->cut[t->n] = c->cut;
	snprintf(t->shown[t->n++], sizeof(t->shown[0]), "%s", c->shown);
	return 0;
}

/* tr_file_traces (cat): trace by trace, in the file's order, as it
 * comes; tr_file_lines the sum. */
static void file_traces_one_by_one(void **state)
{
	static char buf[8192];
	char *dir = fixture_dir();
	char path[PATH_MAX], name[PATH_MAX + 64];
	struct traces_seen t = { 0 };
	struct tr_line_counts sum;
	size_t n = 0;

	(void)state;
	bin_append(buf, &n, JOIN_A, 3);
	memcpy(buf + n, JOIN_B, strlen(JOIN_B));
	n += strlen(JOIN_B);
	bin_append(buf, &n, HDR(3, 1, "c") REC(70, 0, 3, "close"), 0);
	fixture_write(dir, "abc.trace", buf, n);
	snprintf(path, sizeof(path), "%s/abc.trace", dir);
	assert_int_equal(tr_file_traces(path, NULL, count_nothing, trace_seen, &t), 0);
	assert_int_equal(t.n, 3);
	for (int i = 0; i < 3; i++)
		assert_int_equal(t.part[i], i + 1);
	assert_int_equal(t.lines[0], 2);
	assert_int_equal(t.cut[0], 1);
	assert_int_equal(t.lines[1], 3);
	assert_int_equal(t.cut[1], 0);
	assert_int_equal(t.lines[2], 2);
	snprintf(name, sizeof(name), "%s (trace 3, pid 3)", path);
	assert_string_equal(t.shown[2], name);
	assert_int_equal(tr_file_lines(path, NULL, count_nothing, NULL, &sum), 0);
	assert_int_equal(sum.lines, 7);
	assert_int_equal(sum.cut, 1);
	/* One trace: part 0, the file's name. */
	memset(&t, 0, sizeof(t));
	fixture_write(dir, "b.jsonl", JOIN_B, 0);
	snprintf(path, sizeof(path), "%s/b.jsonl", dir);
	assert_int_equal(tr_file_traces(path, NULL, count_nothing, trace_seen, &t), 0);
	assert_int_equal(t.n, 1);
	assert_int_equal(t.part[0], 0);
	assert_string_equal(t.shown[0], path);
	fixture_rm(dir);
}

/* A directory's files are one trace each, as the shim writes them: a
 * file of joined traces there is read as one, and said so. */
static void joined_file_in_a_directory(void **state)
{
	char *dir = fixture_dir();
	const char *paths[] = { dir };
	struct reading got;

	(void)state;
	fixture_write(dir, "ab.jsonl", JOIN_A JOIN_B, 0);
	read_inputs(paths, 1, &got);
	assert_int_equal(got.nfiles, 1);
	assert_int_equal(got.n, 4);
	assert_int_equal(got.inner, 1);
	assert_int_equal(got.unknown, 0);
	assert_non_null(strstr(got.said, "ab.jsonl:4: a header in the middle of a trace"));
	assert_non_null(strstr(got.said, "name the file, not its directory"));
	free(got.said);
	fixture_rm(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(merges_files_by_return_time),
		cmocka_unit_test(lookahead_orders_threads),
		cmocka_unit_test(nul_padding_and_cut_records),
		cmocka_unit_test(last_line_without_newline),
		cmocka_unit_test(bad_json_in_the_middle_is_an_error),
		cmocka_unit_test(not_a_trace),
		cmocka_unit_test(newer_minor_and_unknown_things),
		cmocka_unit_test(warnings_and_dropped_records),
		cmocka_unit_test(empty_files_and_directories),
		cmocka_unit_test(aligns_hosts_on_wall_clock),
		cmocka_unit_test(many_files_in_bounded_descriptors),
		cmocka_unit_test(survives_mutations),
		cmocka_unit_test(both_decoders_agree),
		cmocka_unit_test(joined_traces_read_as_files),
		cmocka_unit_test(joined_traces_cut_short),
		cmocka_unit_test(file_traces_one_by_one),
		cmocka_unit_test(joined_file_in_a_directory),
	};
	int failed;

	mode = 0;
	failed = cmocka_run_group_tests_name("jansson", tests, NULL, NULL);
	mode = TR_FAST;
	failed += cmocka_run_group_tests_name("fast", tests, NULL, NULL);
	return failed;
}
