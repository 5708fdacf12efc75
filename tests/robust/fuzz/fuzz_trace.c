/* Fuzz target: the trace reader (viewer/trace_reader.c) and everything
 * that consumes its records: decoding, the pairing model, statistics and
 * the renderers of `socktrace view`, through the same command entry points
 * the tool runs.
 *
 * Input: byte 0 picks what reads the trace (see run_tool), the rest is the
 * trace. A line "=====" splits it into up to MAX_FILES files of one trace
 * directory (a.1.jsonl, b.2.jsonl, ...), so the merge of several processes'
 * files is reached too. Files are written into a private temporary
 * directory, as the tool reads files, not memory.
 *
 * Always: the reader on its own (tr_open / tr_next / tr_report / tr_close),
 * with every record decoded and fed to the pairing model and the
 * statistics. Then one of `socktrace view -f text|html|mermaid|perfetto|
 * jsonl` or `socktrace stats -a` on the same directory, output to
 * /dev/null. Neither may crash, leak, read out of bounds or hang; no other
 * property is checked (a malformed trace is the tool's to report).
 *
 * Built with FUZZ_READER_ONLY (no viewer library yet): the reader alone. */
#include "trace_reader.h"
#ifndef FUZZ_READER_ONLY
#include "commands.h"
#include "pairing.h"
#include "stats.h"
#include "vev.h"
#endif

#include <errno.h>
#include <fcntl.h>
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

static void write_file(const char *path, const uint8_t *p, size_t n)
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

static void read_directly(void)
{
	const char *const in[] = { dir };
	struct tr_reader r;
	struct tr_record rec;

	memset(&r, 0, sizeof(r));
	if (tr_open(&r, in, 1, devnull, 0) == 0) {
#ifndef FUZZ_READER_ONLY
		struct model *m = model_new();
		struct stats *st = stats_new();
		uint64_t seq = 0;
		struct vev ev;
#endif
		while (tr_next(&r, &rec) > 0) {
#ifndef FUZZ_READER_ONLY
			vev_decode(&ev, &rec, ++seq, r.base);
			model_feed(m, &ev);
			stats_add(st, &ev);
#endif
			tr_record_free(&rec);
		}
		tr_report(&r, "fuzz_trace");
#ifndef FUZZ_READER_ONLY
		stats_print(st, m, 50, devnull);
		stats_free(st);
		model_free(m);
#endif
	}
	tr_close(&r);
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
	split_into_files(data + 1, size - 1);
	read_directly();
#ifndef FUZZ_READER_ONLY
	run_tool(how);
#else
	(void)how;
#endif
	return 0;
}
