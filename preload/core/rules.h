/* Fault rules: their model, parser, validator and pretty-printer.
 *
 * A rule is one line of whitespace-separated words: first the calls it
 * applies to (comma-separated call or group names), then key=value words
 * and bare action words:
 *
 *   connect port=5432 error=ECONNREFUSED when=1..3
 *   recv,read peer=10.1.2.0/24 delay=200ms jitter=50ms prob=0.25
 *   recv port=6379 reset after=2s
 *
 * The parser writes into caller-provided memory and never allocates, so
 * the shim can parse at start-up without touching the program's heap. */
#ifndef SOCKTRACE_RULES_H
#define SOCKTRACE_RULES_H

#include "calls.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ST_RULE_TEXT_MAX 1024
#define ST_RULE_ORIGIN_MAX 128
#define ST_RULE_GLOB_MAX 108

/* An address filter: an IP network (with optional port), or a unix path
 * glob. */
struct st_addr_filter {
	bool set;
	uint8_t family;        /* AF_INET, AF_INET6 or AF_UNIX */
	uint8_t prefix;        /* network prefix length in bits */
	uint8_t addr[16];      /* network byte order */
	bool has_port;
	uint16_t port;
	char path[ST_RULE_GLOB_MAX]; /* AF_UNIX: glob; "@name" for abstract */
};

enum st_when_kind {
	ST_WHEN_ALWAYS,
	ST_WHEN_RANGE, /* first..last, last may be UINT64_MAX ("N+"), every step */
};

struct st_rule {
	/* selection */
	char calls[96];        /* the call list as written: "recv,read" */
	uint64_t fns;          /* bit per enum st_fn */
	/* Of the calls in fns whose direction depends on their arguments
	 * (ST_DATA_BOTH: splice), those selected when they write to the
	 * socket and those selected when they read from it. A call's name
	 * selects it both ways, "sends" only writing, "receives" only
	 * reading; the close action keeps only the reading (rules.c). */
	uint64_t fns_sending, fns_receiving;
	struct st_addr_filter peer;
	struct st_addr_filter local;
	bool has_port;
	uint16_t port_lo, port_hi;
	char host[ST_RULE_GLOB_MAX]; /* glob; empty: any */
	char prog[64];               /* glob; empty: any */
	char caller_module[64];      /* glob on a module's file name; empty: any */
	char caller_func[ST_RULE_GLOB_MAX]; /* glob; empty: no caller= */
	uint64_t when_first, when_last, when_step; /* 0 first: always */
	double prob;                 /* 1.0: always */
	uint64_t prob_threshold;     /* prob scaled to 2^64, for the PRNG */
	uint64_t after_ns;
	uint64_t for_ns;             /* 0: no end */

	/* actions (delay may combine with one of the others) */
	bool has_error;
	int error;             /* errno, or an EAI_* code for getaddrinfo */
	uint64_t delay_ns, jitter_ns;
	int64_t short_bytes;   /* -1: none */
	bool reset;
	bool eof;              /* the `close` action */
	bool hang;
	uint64_t hang_ns;      /* 0: until the socket's timeout, or for ever */
	uint32_t corrupt_count;
	double corrupt_rate;
	uint64_t bandwidth;    /* bytes per second, 0: none */

	/* A scenario with expectations fails when a rule never acts, unless
	 * it is marked optional (faults that may or may not be reached). */
	bool optional;

	/* where it came from, for messages and the trace */
	char origin[ST_RULE_ORIGIN_MAX]; /* "file:line" */
	char text[ST_RULE_TEXT_MAX];     /* normalised (pretty-printed) */
};

struct st_expectset;

struct st_ruleset {
	struct st_rule *rules;
	size_t count;
	size_t cap;
	/* Where `expect` lines go (expect.h); NULL: they are skipped, as the
	 * shim does (the tool checks them). */
	struct st_expectset *expects;
};

/* Receives each error: "FILE:LINE:COL: what is wrong; the fix". */
typedef void (*st_rule_report)(void *ctx, const char *message);

/* Parses text (rules separated by newlines; with split_semicolons also by
 * ';', as in SOCKTRACE_FAULTS) and appends them to set. name is the file
 * name used in messages. Comments start with '#'. Returns the number of
 * errors reported (0: every rule parsed and appended). */
int st_rules_parse(struct st_ruleset *set, const char *name, const char *text,
		   size_t len, bool split_semicolons, st_rule_report report, void *ctx);

/* One error in its parts, for callers that show errors otherwise than as
 * lines of text (socktrace check --json). Valid during the call only. */
struct st_parse_error {
	const char *name;       /* as given to the parser: a file, SOCKTRACE_FAULTS */
	unsigned line, col;     /* 1-based */
	const char *message;    /* what is wrong and the fix, without the place */
	const char *suggestion; /* the word it suggests ("port"), or NULL */
	const char *text;       /* all of it, as st_rule_report gets it */
};
typedef void (*st_rule_report_error)(void *ctx, const struct st_parse_error *e);

/* st_rules_parse, each error given in its parts. */
int st_rules_parse_detailed(struct st_ruleset *set, const char *name, const char *text,
			    size_t len, bool split_semicolons, st_rule_report_error report,
			    void *ctx);

/* The line of an origin ("file:line"), 0 when it names none; with
 * file_len, the length of its file part. */
unsigned st_origin_line(const char *origin, size_t *file_len);

/* The rule as text that parses back to the same rule. */
size_t st_rule_format(const struct st_rule *rule, char *buf, size_t cap);

/* Durations, one grammar for rules, expect lines and every option of the
 * tool: a number is seconds ("1.5"), or takes a unit: ns, us (or µs), ms,
 * s, m, h ("200ms", "30us", "2m"); false on error. */
bool st_parse_duration(const char *s, uint64_t *ns);
size_t st_format_duration(uint64_t ns, char *buf, size_t cap);
/* What an error about a duration shows as examples of the grammar. */
#define ST_DURATION_EXAMPLES "1.5 (seconds), 200ms, 30us, 2m"
/* Rates: "100kB/s", "1MB/s", "512B/s", "1Mbit/s"; bytes per second. */
bool st_parse_rate(const char *s, uint64_t *bytes_per_sec);
/* The largest unit that shows the rate exactly: "100kB/s", "1MiB/s". */
size_t st_format_rate(uint64_t bytes_per_sec, char *buf, size_t cap);
/* Sizes: "512", "4k", "4kB", "4KiB", "1MB", "1MiB", "1G": whole bytes. */
bool st_parse_size(const char *s, uint64_t *bytes);
size_t st_format_size(uint64_t bytes, char *buf, size_t cap);

#endif
