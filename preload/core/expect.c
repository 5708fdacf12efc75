/* The parser of `expect` lines. The calls and selection words go through
 * the rule parser (ruleparse.h), so they read and fail exactly as in
 * rules; the conditions are parsed here. */
#include "expect.h"

#include "names.h"
#include "ruleparse.h"
#include "strbuf.h"
#include "suggest.h"

#include <stdio.h>
#include <string.h>

static const char *const condition_words[] = {
	"count", "ok", "failed", "faults", "bytes", "recovery", "succeeds", "never",
};
#define NCONDITIONS (sizeof(condition_words) / sizeof(condition_words[0]))

#define CONDITIONS_HELP \
	"conditions: count>=N, ok>=N, failed<=N, faults>=N, bytes>=SIZE, recovery<DURATION, succeeds, never=ERRNO"

bool st_cmp_holds(enum st_cmp cmp, uint64_t seen, uint64_t want)
{
	switch (cmp) {
	case ST_CMP_EQ:
		return seen == want;
	case ST_CMP_LT:
		return seen < want;
	case ST_CMP_LE:
		return seen <= want;
	case ST_CMP_GT:
		return seen > want;
	case ST_CMP_GE:
		return seen >= want;
	}
	return false;
}

const char *st_cmp_text(enum st_cmp cmp)
{
	static const char *const text[] = { "=", "<", "<=", ">", ">=" };

	return text[cmp];
}

/* "count>=4": the key's length, the operator and where the value starts;
 * 0 when the word has no comparison operator. */
static size_t split_comparison(const char *w, enum st_cmp *cmp, const char **value)
{
	size_t klen = strcspn(w, "<>=!");
	const char *op = w + klen;

	if (!*op)
		return 0;
	if (op[0] == '>' && op[1] == '=') {
		*cmp = ST_CMP_GE;
		*value = op + 2;
	} else if (op[0] == '<' && op[1] == '=') {
		*cmp = ST_CMP_LE;
		*value = op + 2;
	} else if (op[0] == '=' && op[1] == '=') {
		*cmp = ST_CMP_EQ;
		*value = op + 2;
	} else if (op[0] == '>') {
		*cmp = ST_CMP_GT;
		*value = op + 1;
	} else if (op[0] == '<') {
		*cmp = ST_CMP_LT;
		*value = op + 1;
	} else if (op[0] == '=') {
		*cmp = ST_CMP_EQ;
		*value = op + 1;
	} else {
		return 0;
	}
	return klen;
}

static enum st_check_kind kind_of(const char *key, size_t klen, bool *known)
{
	static const struct { const char *name; enum st_check_kind kind; } kinds[] = {
		{ "count", ST_CHECK_COUNT }, { "ok", ST_CHECK_OK }, { "failed", ST_CHECK_FAILED },
		{ "faults", ST_CHECK_FAULTS }, { "bytes", ST_CHECK_BYTES },
		{ "recovery", ST_CHECK_RECOVERY },
	};

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (strlen(kinds[i].name) == klen && strncmp(kinds[i].name, key, klen) == 0) {
			*known = true;
			return kinds[i].kind;
		}
	}
	*known = false;
	return ST_CHECK_COUNT;
}

static bool parse_number_value(struct st_parser *p, struct st_check *c, const char *key,
			       const char *v, unsigned col)
{
	if (c->kind == ST_CHECK_BYTES) {
		if (st_parse_size(v, &c->value))
			return true;
		st_parse_fail(p, col, "%s: '%s' is not a size; write e.g. bytes>=100, bytes>=4kB, bytes>=1MiB",
			      key, v);
		return false;
	}
	if (c->kind == ST_CHECK_RECOVERY) {
		if (c->cmp != ST_CMP_LT && c->cmp != ST_CMP_LE) {
			st_parse_fail(p, col - 1, "recovery is a bound: write recovery<DURATION or recovery<=DURATION");
			return false;
		}
		if (st_parse_duration(v, &c->value) && c->value > 0)
			return true;
		st_parse_fail(p, col, "recovery: '%s' is not a duration; write e.g. recovery<2s, recovery<=500ms ("
			      ST_DURATION_EXAMPLES ")",
			      v);
		return false;
	}
	if (st_parse_u64(v, &c->value))
		return true;
	st_parse_fail(p, col, "%s: '%s' is not a count; write e.g. %s>=3", key, v, key);
	return false;
}

/* Whether some selected call can fail with err (an errno, or an EAI_*
 * code for getaddrinfo): a condition that cannot fail tests nothing. */
static bool some_call_fails_with(const struct st_rule *sel, int err, bool eai)
{
	for (unsigned i = 0; i < ST_FN_COUNT; i++) {
		if (!(sel->fns & ((uint64_t)1 << i)))
			continue;
		if (eai ? i == ST_FN_getaddrinfo : st_call_may_fail_with((enum st_fn)i, err))
			return true;
	}
	return false;
}

static bool parse_never(struct st_parser *p, const struct st_rule *sel, struct st_check *c,
			const char *v, unsigned col)
{
	char copy[160];
	char *save = NULL;

	c->kind = ST_CHECK_NEVER;
	if (strcmp(v, "any") == 0)
		return true;
	if (!*v || strlen(v) >= sizeof(copy)) {
		st_parse_fail(p, col, "never= needs errno names, e.g. never=ECONNRESET,EPIPE, or never=any");
		return false;
	}
	strcpy(copy, v);
	for (char *name = strtok_r(copy, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
		unsigned ncol = col + (unsigned)(name - copy);
		bool eai = strncmp(name, "EAI_", 4) == 0;
		int err = eai ? st_eai_from_name(name) : st_errno_from_name(name);

		if (eai ? err == 1 : err < 0) {
			st_parse_fail(p, ncol, "unknown %s '%s'; write a name such as %s", eai ? "getaddrinfo error" : "errno",
				      name, eai ? "EAI_AGAIN" : "ECONNRESET");
			return false;
		}
		if (!some_call_fails_with(sel, err, eai)) {
			st_parse_fail(p, ncol, "none of %s ever fails with %s: this condition could not fail",
				      sel->calls, name);
			return false;
		}
		if (c->nnever == ST_EXPECT_NEVER_MAX) {
			st_parse_fail(p, ncol, "at most %d errnos in one never=", ST_EXPECT_NEVER_MAX);
			return false;
		}
		c->never[c->nnever] = err;
		c->never_eai[c->nnever] = eai;
		c->nnever++;
	}
	return true;
}

static void format_check(struct st_check *c)
{
	char v[48];

	switch (c->kind) {
	case ST_CHECK_SUCCEEDS:
		snprintf(c->text, sizeof(c->text), "succeeds");
		return;
	case ST_CHECK_NEVER: {
		size_t o = 0;
		st_appendf(c->text, sizeof(c->text), &o, "never=%s", c->nnever ? "" : "any");
		for (size_t i = 0; i < c->nnever; i++) {
			const char *name = c->never_eai[i] ? st_eai_name(c->never[i])
							   : st_errno_name(c->never[i]);
			st_appendf(c->text, sizeof(c->text), &o, "%s%s", i ? "," : "",
				   name ? name : "?");
		}
		return;
	}
	case ST_CHECK_BYTES:
		st_format_size(c->value, v, sizeof(v));
		break;
	case ST_CHECK_RECOVERY:
		st_format_duration(c->value, v, sizeof(v));
		break;
	default:
		snprintf(v, sizeof(v), "%llu", (unsigned long long)c->value);
	}
	static const char *const names[] = { "count", "ok", "failed", "faults", "bytes", "recovery" };
	snprintf(c->text, sizeof(c->text), "%s%s%s", names[c->kind], st_cmp_text(c->cmp), v);
}

static void unknown_word(struct st_parser *p, const struct st_word *w, const char *key)
{
	const char *hint = st_suggest(key, condition_words, NCONDITIONS);

	if (hint)
		st_parse_fail_hint(p, w->col, hint, "unknown condition '%s'; did you mean '%s'?", key,
				   hint);
	else
		st_parse_fail(p, w->col, "'%s' is not a selection word or a condition; selection: peer=, local=, port=, host=, prog=, after=, for=; " CONDITIONS_HELP,
			      w->text);
}

static bool parse_condition(struct st_parser *p, struct st_expect *e, const struct st_word *w)
{
	struct st_check *c;
	enum st_cmp cmp = ST_CMP_EQ;
	const char *value = NULL;
	size_t klen = split_comparison(w->text, &cmp, &value);
	char key[24];
	bool known;

	if (e->nchecks == ST_EXPECT_CHECKS_MAX) {
		st_parse_fail(p, w->col, "at most %d conditions on one expect line; write a second line",
			      ST_EXPECT_CHECKS_MAX);
		return false;
	}
	c = &e->checks[e->nchecks];
	memset(c, 0, sizeof(*c));
	if (strcmp(w->text, "succeeds") == 0) {
		c->kind = ST_CHECK_SUCCEEDS;
	} else if (strncmp(w->text, "never=", 6) == 0) {
		if (!parse_never(p, &e->sel, c, w->text + 6, w->col + 6))
			return false;
	} else {
		snprintf(key, sizeof(key), "%.*s", (int)(klen ? klen : strcspn(w->text, "=")), w->text);
		c->kind = kind_of(key, strlen(key), &known);
		if (!known || !klen) {
			if (known)
				st_parse_fail(p, w->col, "%s needs a comparison: %s>=N, %s<=N or %s=N",
					      key, key, key, key);
			else
				unknown_word(p, w, key);
			return false;
		}
		c->cmp = cmp;
		if (!parse_number_value(p, c, key, value, w->col + (unsigned)(value - w->text)))
			return false;
	}
	format_check(c);
	e->nchecks++;
	return true;
}

/* A word of a rule that has no place on an expect line. */
static bool is_rule_word(const char *key)
{
	static const char *const words[] = { "error", "delay", "jitter", "short", "reset",
					     "close", "hang", "corrupt", "bandwidth", "when",
					     "prob", "caller", "optional" };

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strcmp(words[i], key) == 0)
			return true;
	return false;
}

static void format_expect(struct st_expect *e)
{
	size_t o = 0;

	st_appendf(e->text, sizeof(e->text), &o, "expect ");
	o += st_rule_format(&e->sel, e->text + o, sizeof(e->text) - o);
	for (size_t i = 0; i < e->nchecks; i++)
		st_appendf(e->text, sizeof(e->text), &o, " %s", e->checks[i].text);
}

void st_expect_parse_line(struct st_parser *p, const struct st_word *words, size_t nwords)
{
	struct st_expectset *set = p->set->expects;
	struct st_expect *e;

	if (nwords < 2) {
		st_parse_fail(p, words[0].col, "expect what? e.g. 'expect connect port=5432 succeeds'; " CONDITIONS_HELP);
		return;
	}
	if (set->count == set->cap) {
		st_parse_fail(p, words[0].col, "too many expect lines (at most %zu)", set->cap);
		return;
	}
	e = &set->v[set->count];
	memset(e, 0, sizeof(*e));
	e->sel.prob = 1.0;
	e->sel.short_bytes = -1;
	if (!st_parse_calls(p, &e->sel, &words[1]))
		return;
	for (size_t i = 2; i < nwords; i++) {
		char key[24];
		snprintf(key, sizeof(key), "%.*s", (int)strcspn(words[i].text, "=<>!"), words[i].text);
		if (st_is_selector_key(key) && strchr(words[i].text, '=') == words[i].text + strlen(key)) {
			if (e->nchecks) {
				st_parse_fail(p, words[i].col, "selection words come before the conditions: move %s before %s",
					      words[i].text, e->checks[0].text);
				return;
			}
			if (!st_parse_keyword(p, &e->sel, &words[i]))
				return;
		} else if (is_rule_word(key)) {
			st_parse_fail(p, words[i].col, "%s is a word of fault rules; an expect line selects calls and states conditions (" CONDITIONS_HELP ")",
				      key);
			return;
		} else if (!parse_condition(p, e, &words[i])) {
			return;
		}
	}
	if (e->nchecks == 0) {
		st_parse_fail(p, words[nwords - 1].col + (unsigned)strlen(words[nwords - 1].text),
			      "no condition; add one: " CONDITIONS_HELP);
		return;
	}
	snprintf(e->sel.origin, sizeof(e->sel.origin), "%s:%u", p->name, p->line);
	st_rule_format(&e->sel, e->sel.text, sizeof(e->sel.text));
	format_expect(e);
	set->count++;
}
