/* The strict record scanner (see jscan.h). Recursive descent over a
 * bounded depth; every check mirrors one of jansson's load.c and utf.c,
 * the source of truth for what a valid line is. */
#include "read/jscan.h"

#include "jsonw.h"

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct sc {
	const unsigned char *p, *end;
	char *arena;      /* next free byte */
	unsigned depth;   /* containers open */
};

/* ---- the schema's key index ---- */

static inline unsigned key_hash(const char *k, size_t len)
{
	const unsigned char *u = (const unsigned char *)k;

	/* Our keys differ in length, first or last letter: enough here. */
	if (len == 0)
		return 0;
	return ((unsigned)len * 31u + u[0] * 7u + u[len - 1]) & (JS_INDEX_SIZE - 1);
}

int js_schema_prepare(struct js_schema *schema)
{
	if (schema->ready)
		return 0;
	if (schema->nfields >= JS_INDEX_SIZE / 2)
		return -1;
	memset(schema->index, 0, sizeof(schema->index));
	schema->nslots = 0;
	for (unsigned i = 0; i < schema->nfields; i++) {
		const struct js_field *f = &schema->fields[i];
		size_t len = strlen(f->name);
		unsigned h = key_hash(f->name, len);
		unsigned top = f->slot + 1 + f->elems;
		if (len > UINT8_MAX)
			return -1;
		while (schema->index[h])
			h = (h + 1) & (JS_INDEX_SIZE - 1);
		schema->index[h] = (uint8_t)(i + 1);
		schema->klen[h] = (uint8_t)len;
		if (f->sub) {
			/* Prepared once by whoever owns it; const for the scan. */
			struct js_schema *sub = (struct js_schema *)f->sub;
			if (js_schema_prepare(sub) != 0)
				return -1;
			if (sub->nslots > top)
				top = sub->nslots;
		}
		if (top > schema->nslots)
			schema->nslots = top;
	}
	schema->ready = true;
	return 0;
}

static bool same_bytes(const char *a, const char *b, size_t len)
{
	/* Keys are a few bytes long: cheaper than a call to memcmp. */
	for (size_t i = 0; i < len; i++)
		if (a[i] != b[i])
			return false;
	return true;
}

static inline const struct js_field *lookup(const struct js_schema *schema, const char *k,
					    size_t len)
{
	unsigned h = key_hash(k, len);

	while (schema->index[h]) {
		const struct js_field *f = &schema->fields[schema->index[h] - 1];
		if (schema->klen[h] == len && same_bytes(f->name, k, len))
			return f;
		h = (h + 1) & (JS_INDEX_SIZE - 1);
	}
	return NULL;
}

/* Empties the slots a field's nested values use: a key given again
 * replaces the whole earlier value, as in jansson. */
static void clear_nested(const struct js_field *f, struct js_val *slots)
{
	if (f->elems)
		memset(&slots[f->slot + 1], 0, f->elems * sizeof(slots[0]));
	if (f->sub)
		for (unsigned i = 0; i < f->sub->nfields; i++) {
			const struct js_field *g = &f->sub->fields[i];
			memset(&slots[g->slot], 0, sizeof(slots[0]));
			clear_nested(g, slots);
		}
}

/* ---- lexical pieces ---- */

static inline void skip_ws(struct sc *s)
{
	const unsigned char *p = s->p;

	/* Records have no whitespace between tokens: test that case first. */
	if (p < s->end && *p > ' ')
		return;
	while (p < s->end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	s->p = p;
}

/* 1 for the bytes a string holds as they are: printable ASCII but the
 * quote and the backslash. */
static const uint8_t plain[256] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x00 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x20: '"' */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x40 */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, /* 0x50: '\\' */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x60 */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	/* 0x80..0xff: UTF-8, checked on the way */
};

static inline bool is_plain(unsigned char c)
{
	return plain[c];
}

static size_t utf8_put(uint32_t v, char *out)
{
	if (v < 0x80) {
		out[0] = (char)v;
		return 1;
	}
	if (v < 0x800) {
		out[0] = (char)(0xc0 | (v >> 6));
		out[1] = (char)(0x80 | (v & 0x3f));
		return 2;
	}
	if (v < 0x10000) {
		out[0] = (char)(0xe0 | (v >> 12));
		out[1] = (char)(0x80 | ((v >> 6) & 0x3f));
		out[2] = (char)(0x80 | (v & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (v >> 18));
	out[1] = (char)(0x80 | ((v >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((v >> 6) & 0x3f));
	out[3] = (char)(0x80 | (v & 0x3f));
	return 4;
}

static int32_t hex4(const unsigned char *p, const unsigned char *end)
{
	int32_t v = 0;

	if (end - p < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		unsigned c = p[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v += (int32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v += (int32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v += (int32_t)(c - 'A' + 10);
		else
			return -1;
	}
	return v;
}

/* The escape at p (a backslash): its code point and length. A \u escape
 * of a surrogate must be the high half directly followed by the low
 * half's \u escape, as jansson requires. */
static int scan_escape(const unsigned char *p, const unsigned char *end, uint32_t *v,
		       size_t *used)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *e;
	int32_t hi, lo;

	if (end - p < 2)
		return -1;
	if (p[1] != 'u') {
		e = p[1] ? strchr(from, p[1]) : NULL;
		if (!e)
			return -1;
		*v = (unsigned char)to[e - from];
		*used = 2;
		return 0;
	}
	hi = hex4(p + 2, end);
	if (hi < 0 || (hi >= 0xdc00 && hi <= 0xdfff))
		return -1;
	if (hi < 0xd800 || hi > 0xdbff) {
		*v = (uint32_t)hi;
		*used = 6;
		return 0;
	}
	if (end - p < 12 || p[6] != '\\' || p[7] != 'u')
		return -1;
	lo = hex4(p + 8, end);
	if (lo < 0xdc00 || lo > 0xdfff)
		return -1;
	*v = 0x10000 + (((uint32_t)hi - 0xd800) << 10) + ((uint32_t)lo - 0xdc00);
	*used = 12;
	return 0;
}

/* A string, s->p just past its opening quote. out: where it is unescaped
 * to, NUL-terminated (NULL: only checked); *len its length, *nul whether
 * it holds U+0000. The output never outgrows the input: an escape is
 * longer than what it stands for, and the quotes leave room for the NUL. */
static int scan_string(struct sc *s, char *out, size_t *len, bool *nul)
{
	const unsigned char *p = s->p, *end = s->end;
	size_t n = 0;
	bool z = false;

	for (;;) {
		const unsigned char *run = p;
		while (p < end && is_plain(*p))
			p++;
		if (out && p > run)
			memcpy(out + n, run, (size_t)(p - run));
		n += (size_t)(p - run);
		if (p == end)
			return -1;
		if (*p == '"')
			break;
		if (*p == '\\') {
			uint32_t v;
			size_t used;
			char tmp[4];
			if (scan_escape(p, end, &v, &used) != 0)
				return -1;
			p += used;
			z |= v == 0;
			n += utf8_put(v, out ? out + n : tmp);
			continue;
		}
		if (*p < 0x20)
			return -1; /* a control character */
		/* Past the checks above, a byte of 0x80 or more: the whole
		 * sequence as jansson takes it, or refused. */
		size_t k = jw_utf8_len(p, (size_t)(end - p));
		if (!k)
			return -1;
		if (out)
			memcpy(out + n, p, k);
		n += k;
		p += k;
	}
	if (out)
		out[n] = '\0';
	s->p = p + 1;
	*len = n;
	*nul = z;
	return 0;
}

static bool is_digit(const unsigned char *p, const unsigned char *end)
{
	return p < end && *p >= '0' && *p <= '9';
}

/* Whether a real in JSON syntax overflows a double, as jansson's
 * jsonp_strtod tells (strtod in the C locale: jansson adapts the decimal
 * point to the locale, the result is the same). */
static bool real_overflows(const unsigned char *tok, size_t n, bool *unknown)
{
	static locale_t c_locale;
	char buf[64];
	double d;

	if (!c_locale)
		c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
	if (!c_locale || n >= sizeof(buf)) {
		*unknown = true; /* left to jansson */
		return false;
	}
	memcpy(buf, tok, n);
	buf[n] = '\0';
	errno = 0;
	d = strtod_l(buf, NULL, c_locale);
	return (d == HUGE_VAL || d == -HUGE_VAL) && errno == ERANGE;
}

/* A number in JSON syntax: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
 * An integer must fit int64_t (strtoll's range), a real a double. */
static int scan_number(struct sc *s, struct js_val *v)
{
	const unsigned char *start = s->p, *p = s->p, *end = s->end;
	bool neg = false, unknown = false, big = false;
	uint64_t mag = 0;

	if (p < end && *p == '-') {
		neg = true;
		p++;
	}
	if (!is_digit(p, end))
		return -1;
	if (*p == '0') {
		p++;
		if (is_digit(p, end))
			return -1; /* leading zero */
	} else {
		int digits = 0;
		while (is_digit(p, end)) {
			unsigned d = *p++ - '0';
			/* 18 digits always fit; past them, check each step. */
			if (++digits <= 18)
				mag = mag * 10 + d;
			else if (__builtin_mul_overflow(mag, 10, &mag) ||
				 __builtin_add_overflow(mag, d, &mag))
				big = true; /* fine for a real */
		}
	}
	if (p == end || (*p != '.' && *p != 'e' && *p != 'E')) {
		if (big || mag > (uint64_t)INT64_MAX + neg)
			return -1; /* strtoll's ERANGE */
		s->p = p;
		if (v) {
			v->type = JS_INT;
			v->i = neg ? (int64_t)(0 - mag) : (int64_t)mag;
		}
		return 0;
	}
	if (*p == '.') {
		p++;
		if (!is_digit(p, end))
			return -1;
		while (is_digit(p, end))
			p++;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		if (!is_digit(p, end))
			return -1;
		while (is_digit(p, end))
			p++;
	}
	if (real_overflows(start, (size_t)(p - start), &unknown) || unknown)
		return -1;
	s->p = p;
	if (v)
		v->type = JS_REAL;
	return 0;
}

static int scan_literal(struct sc *s, const char *word, enum js_type type, struct js_val *v)
{
	size_t n = strlen(word);

	if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0)
		return -1;
	s->p += n;
	if (v)
		v->type = (uint8_t)type;
	return 0;
}

/* ---- values ---- */

static int scan_value(struct sc *s, struct js_val *v, const struct js_schema *sub,
		      struct js_val *slots, unsigned elems);

/* A key, s->p just past its quote: the field it names in schema (NULL:
 * none, or no schema). */
static int scan_key(struct sc *s, const struct js_schema *schema, const struct js_field **f)
{
	const unsigned char *start = s->p, *q = s->p;
	size_t len;
	bool nul;

	*f = NULL;
	while (q < s->end && is_plain(*q))
		q++;
	if (q < s->end && *q == '"') {
		/* The usual key: nothing to unescape. */
		s->p = q + 1;
		if (schema)
			*f = lookup(schema, (const char *)start, (size_t)(q - start));
		return 0;
	}
	/* Unescaped into the arena's free space, which is not kept. */
	if (scan_string(s, schema ? s->arena : NULL, &len, &nul) != 0 || nul)
		return -1; /* jansson: "NUL byte in object key not supported" */
	if (schema)
		*f = lookup(schema, s->arena, len);
	return 0;
}

static int enter(struct sc *s)
{
	s->p++;
	if (++s->depth > JS_MAX_DEPTH)
		return -1;
	skip_ws(s);
	return 0;
}

/* After a member or element: ',' (1: another follows) or the closing
 * bracket (0). */
static int next_item(struct sc *s, unsigned char close)
{
	skip_ws(s);
	if (s->p == s->end)
		return -1;
	if (*s->p == ',') {
		s->p++;
		skip_ws(s);
		return 1;
	}
	if (*s->p != close)
		return -1;
	s->p++;
	s->depth--;
	return 0;
}

/* An object, s->p at '{'; schema (may be NULL) names the members to
 * decode into slots. */
static int scan_object(struct sc *s, const struct js_schema *schema, struct js_val *slots)
{
	int more;

	if (enter(s) != 0)
		return -1;
	if (s->p < s->end && *s->p == '}') {
		s->p++;
		s->depth--;
		return 0;
	}
	do {
		const struct js_field *f;
		if (s->p == s->end || *s->p != '"')
			return -1;
		s->p++;
		if (scan_key(s, schema, &f) != 0)
			return -1;
		skip_ws(s);
		if (s->p == s->end || *s->p != ':')
			return -1;
		s->p++;
		skip_ws(s);
		if (f) {
			if (f->sub || f->elems)
				clear_nested(f, slots);
			if (scan_value(s, &slots[f->slot], f->sub, slots, f->elems) != 0)
				return -1;
		} else if (scan_value(s, NULL, NULL, NULL, 0) != 0) {
			return -1;
		}
		more = next_item(s, '}');
	} while (more > 0);
	return more;
}

/* An array, s->p at '['; its first elems elements go to v[1..elems]. */
static int scan_array(struct sc *s, struct js_val *v, unsigned elems)
{
	uint32_t count = 0;
	int more;

	if (enter(s) != 0)
		return -1;
	if (s->p < s->end && *s->p == ']') {
		s->p++;
		s->depth--;
		more = 0;
	} else {
		do {
			struct js_val *e = v && count < elems ? &v[1 + count] : NULL;
			if (scan_value(s, e, NULL, NULL, 0) != 0)
				return -1;
			count++;
			more = next_item(s, ']');
		} while (more > 0);
	}
	if (more == 0 && v) {
		v->type = JS_ARR;
		v->len = count;
	}
	return more;
}

/* The value at s->p into v (NULL: checked and skipped). */
static int scan_value(struct sc *s, struct js_val *v, const struct js_schema *sub,
		      struct js_val *slots, unsigned elems)
{
	size_t len;
	bool nul;

	if (v)
		memset(v, 0, sizeof(*v));
	if (s->p == s->end)
		return -1;
	switch (*s->p) {
	case '"':
		s->p++;
		if (scan_string(s, v ? s->arena : NULL, &len, &nul) != 0)
			return -1;
		if (v) {
			v->type = JS_STR;
			v->s = s->arena;
			v->len = (uint32_t)len;
			s->arena += len + 1;
		}
		return 0;
	case '{':
		if (scan_object(s, v ? sub : NULL, slots) != 0)
			return -1;
		if (v)
			v->type = JS_OBJ;
		return 0;
	case '[':
		return scan_array(s, v, elems);
	case 't':
		return scan_literal(s, "true", JS_TRUE, v);
	case 'f':
		return scan_literal(s, "false", JS_FALSE, v);
	case 'n':
		return scan_literal(s, "null", JS_NULL, v);
	default:
		return scan_number(s, v);
	}
}

int js_scan(const char *line, size_t n, const struct js_schema *schema, struct js_val *slots,
	    char *arena)
{
	struct sc s = { (const unsigned char *)line, (const unsigned char *)line + n, arena, 0 };

	if (!schema->ready)
		return -1;
	memset(slots, 0, schema->nslots * sizeof(slots[0]));
	skip_ws(&s);
	if (s.p == s.end || *s.p != '{')
		return -1; /* an array is JSON too: jansson says what it is */
	if (scan_object(&s, schema, slots) != 0)
		return -1;
	skip_ws(&s);
	return s.p == s.end ? 0 : -1;
}
