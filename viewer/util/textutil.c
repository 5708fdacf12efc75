#include "util/textutil.h"

#include "rules.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *fmt_dur(char *buf, size_t cap, int64_t ns)
{
	if (ns < 0)
		ns = 0;
	if (ns < 1000)
		snprintf(buf, cap, "%lldns", (long long)ns);
	else if (ns < 1000000)
		snprintf(buf, cap, "%.1fus", (double)ns / 1e3);
	else if (ns < 1000000000)
		snprintf(buf, cap, "%.1fms", (double)ns / 1e6);
	else
		snprintf(buf, cap, "%.2fs", (double)ns / 1e9);
	return buf;
}

char *fmt_secs(char *buf, size_t cap, int64_t ns)
{
	const char *sign = ns < 0 ? "-" : "";
	uint64_t a = ns < 0 ? (uint64_t)0 - (uint64_t)ns : (uint64_t)ns;

	a = (a + 500) / 1000; /* microseconds, rounded */
	snprintf(buf, cap, "%s%llu.%06llu", sign, (unsigned long long)(a / 1000000),
		 (unsigned long long)(a % 1000000));
	return buf;
}

bool parse_time(const char *s, int64_t *ns)
{
	uint64_t v;

	if (!st_parse_duration(s, &v) || v > INT64_MAX)
		return false;
	*ns = (int64_t)v;
	return true;
}

size_t fmt_preview(char *buf, size_t cap, const unsigned char *b, size_t n, size_t max,
		   bool more)
{
	size_t len = 0, shown = 0;
	char esc[8];

	if (cap < 8)
		return 0;
	buf[len++] = '"';
	for (size_t i = 0; i < n; i++) {
		unsigned c = b[i];
		const char *e = esc;
		if (c == '\n')
			e = "\\n";
		else if (c == '\r')
			e = "\\r";
		else if (c == '\t')
			e = "\\t";
		else if (c == '\\')
			e = "\\\\";
		else if (c == '"')
			e = "\\\"";
		else if (c >= 0x20 && c < 0x7f)
			snprintf(esc, sizeof(esc), "%c", c);
		else
			snprintf(esc, sizeof(esc), "\\x%02x", c);
		size_t el = strlen(e);
		if (shown + el > max || len + el + 5 > cap) {
			more = true;
			break;
		}
		memcpy(buf + len, e, el);
		len += el;
		shown += el;
	}
	buf[len++] = '"';
	if (more && len + 4 <= cap) {
		memcpy(buf + len, "...", 3);
		len += 3;
	}
	buf[len] = '\0';
	return len;
}

/* xml: newlines and tabs as character references too (an attribute value
 * would turn them into spaces), and the control characters XML 1.0 cannot
 * carry at all, even escaped, as '?'. */
static void escape_markup(FILE *out, const char *s, bool xml)
{
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		switch (c) {
		case '&':
			fputs("&amp;", out);
			break;
		case '<':
			fputs("&lt;", out);
			break;
		case '>':
			fputs("&gt;", out);
			break;
		case '"':
			fputs("&quot;", out);
			break;
		case '\'':
			fputs("&#39;", out);
			break;
		case '\n':
		case '\t':
			if (xml)
				fprintf(out, "&#%d;", c);
			else
				fputc(c, out);
			break;
		default:
			fputc(xml && (c < 0x20 || c == 0x7f) ? '?' : c, out);
		}
	}
}

void html_escape(FILE *out, const char *s)
{
	escape_markup(out, s, false);
}

void xml_escape(FILE *out, const char *s)
{
	escape_markup(out, s, true);
}

bool color_when_valid(const char *when)
{
	return strcmp(when, "auto") == 0 || strcmp(when, "always") == 0 ||
	       strcmp(when, "never") == 0;
}

bool color_wanted(const char *when, int fd)
{
	const char *nc = getenv("NO_COLOR");

	if (strcmp(when, "always") == 0)
		return true;
	return strcmp(when, "auto") == 0 && isatty(fd) && !(nc && *nc);
}

void sanitize_ascii(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			*s = '?';
}
