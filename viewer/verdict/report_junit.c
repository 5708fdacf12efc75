/* JUnit XML: one test case per check, in the shape Jenkins, GitLab and
 * GitHub's test reporters read (testsuites > testsuite > testcase, a
 * failure element for each check that failed), valid against Jenkins'
 * junit-10.xsd. */
#include "verdict/report.h"

#include "util/textutil.h"

#include <string.h>
#include <time.h>

static void attr(FILE *out, const char *name, const char *value)
{
	fprintf(out, " %s=\"", name);
	xml_escape(out, value);
	fputc('"', out);
}

static void testcase(FILE *out, const struct result *r)
{
	char file[256], name[sizeof(file) + sizeof(r->name) + 16];
	size_t file_len;
	unsigned line = st_origin_line(r->origin, &file_len);

	snprintf(file, sizeof(file), "%.*s", (int)file_len, r->origin);
	snprintf(name, sizeof(name), "%s:%u %s", file, line, r->name);
	fputs("    <testcase", out);
	attr(out, "name", name);
	/* The file:line goes in the name: Jenkins' schema (junit-10.xsd)
	 * allows no file or line attribute on a test case. */
	attr(out, "classname", file);
	fputs(" time=\"0\">\n", out);
	if (!r->pass) {
		char message[sizeof(r->expected) + sizeof(r->seen) + 16];
		snprintf(message, sizeof(message), "expected %s; seen %s", r->expected, r->seen);
		fputs("      <failure", out);
		attr(out, "message", message);
		attr(out, "type", r->kind == RESULT_RULE ? "rule-never-acted" : "expectation");
		fputs(">", out);
		fputs("expected: ", out);
		xml_escape(out, r->expected);
		fputs("&#10;seen: ", out);
		xml_escape(out, r->seen);
		fputs("</failure>\n", out);
	} else {
		fputs("      <system-out>seen: ", out);
		xml_escape(out, r->seen);
		fputs("</system-out>\n", out);
	}
	fputs("    </testcase>\n", out);
}

int report_junit(FILE *out, const struct report_input *in)
{
	const struct verdict *v = in->verdict;
	char secs[32], stamp[32], counts[96];
	time_t now = time(NULL);
	struct tm tm;

	snprintf(secs, sizeof(secs), "%.6f", (double)v->span_ns / 1e9);
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(counts, sizeof(counts), " tests=\"%zu\" failures=\"%zu\" errors=\"0\"", v->count,
		 v->failed);
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites", out);
	attr(out, "name", "socktrace");
	fprintf(out, "%s", counts);
	attr(out, "time", secs);
	fputs(">\n  <testsuite", out);
	attr(out, "name", in->scenario_path);
	fprintf(out, "%s skipped=\"0\"", counts);
	attr(out, "time", secs);
	attr(out, "timestamp", stamp);
	fputs(">\n    <properties>\n", out);
	for (size_t i = 0; i < in->npaths; i++) {
		fputs("      <property", out);
		attr(out, "name", "trace");
		attr(out, "value", in->paths[i]);
		fputs("/>\n", out);
	}
	fputs("    </properties>\n", out);
	for (size_t i = 0; i < v->count; i++)
		testcase(out, &v->results[i]);
	fputs("  </testsuite>\n</testsuites>\n", out);
	return 0;
}
