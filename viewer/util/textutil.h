/* Formatting shared by the renderers and stats: durations, times, byte
 * previews, escaping for HTML and Mermaid. */
#ifndef SOCKTRACE_TEXTUTIL_H
#define SOCKTRACE_TEXTUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* "850ns", "12.4us", "3.1ms", "2.05s". */
char *fmt_dur(char *buf, size_t cap, int64_t ns);
/* Seconds with microseconds: "0.307423". */
char *fmt_secs(char *buf, size_t cap, int64_t ns);
/* A duration in st_parse_duration's grammar (the one rules use), as the
 * int64_t ns the model counts in; false when it is not one. */
bool parse_time(const char *s, int64_t *ns);
/* Bytes as a quoted C-like string, printable ASCII kept, \n \r \t \\ \"
 * and \xNN for the rest, cut to at most max characters (then "...");
 * more, when true, adds "..." for bytes transferred but not recorded. */
size_t fmt_preview(char *buf, size_t cap, const unsigned char *b, size_t n, size_t max,
		   bool more);
/* Writes s with &, <, >, " and ' escaped. */
void html_escape(FILE *out, const char *s);
/* The same for XML text and attributes: newlines and tabs kept as
 * character references, other control characters as '?'. */
void xml_escape(FILE *out, const char *s);
/* --color WHEN: auto, always or never. */
bool color_when_valid(const char *when);
/* Whether output to fd gets colours: always, never, or auto: when fd is a
 * terminal and NO_COLOR is unset or empty (no-color.org). */
bool color_wanted(const char *when, int fd);
/* Replaces every byte outside printable ASCII with '?' in place (program
 * names come from the traced programs). */
void sanitize_ascii(char *s);

#endif
