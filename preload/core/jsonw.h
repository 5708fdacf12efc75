/* Bounded JSON writer for trace records.
 *
 * The shim formats every event on its hot path, inside other people's
 * programs and possibly inside their signal handlers, so this writer never
 * allocates, never calls the printf family and never touches errno. When the
 * buffer runs out it stops writing and remembers it; the caller decides
 * whether a cut record is worth emitting. */
#ifndef SOCKTRACE_JSONW_H
#define SOCKTRACE_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct jw {
	char *p;
	char *end;
	bool overflow;
	bool need_comma;
};

static inline void jw_init(struct jw *w, char *buf, size_t cap)
{
	w->p = buf;
	w->end = buf + cap;
	w->overflow = false;
	w->need_comma = false;
}

static inline size_t jw_len(const struct jw *w, const char *buf)
{
	return (size_t)(w->p - buf);
}

static inline void jw_raw(struct jw *w, const char *s, size_t n)
{
	if ((size_t)(w->end - w->p) < n) {
		w->overflow = true;
		return;
	}
	memcpy(w->p, s, n);
	w->p += n;
}

static inline void jw_char(struct jw *w, char c)
{
	if (w->p >= w->end) {
		w->overflow = true;
		return;
	}
	*w->p++ = c;
}

/* Keys are compile-time identifiers, never user data: no escaping. With
 * a literal key, strlen is a constant and the whole key is a few moves
 * after one bounds check. */
static inline void jw_key(struct jw *w, const char *key)
{
	size_t n = strlen(key);

	if (__builtin_expect((size_t)(w->end - w->p) >= n + 4, 1)) {
		char *p = w->p;
		*p = ',';
		p += w->need_comma;
		*p++ = '"';
		memcpy(p, key, n);
		p += n;
		p[0] = '"';
		p[1] = ':';
		w->p = p + 2;
		w->need_comma = true;
		return;
	}
	if (w->need_comma)
		jw_char(w, ',');
	jw_char(w, '"');
	jw_raw(w, key, n);
	jw_raw(w, "\":", 2);
	w->need_comma = true;
}

static inline void jw_obj_begin(struct jw *w)
{
	jw_char(w, '{');
	w->need_comma = false;
}

static inline void jw_obj_end(struct jw *w)
{
	jw_char(w, '}');
	w->need_comma = true;
}

static inline void jw_arr_begin(struct jw *w)
{
	jw_char(w, '[');
	w->need_comma = false;
}

static inline void jw_arr_end(struct jw *w)
{
	jw_char(w, ']');
	w->need_comma = true;
}

/* Separator before an array element. */
static inline void jw_elem(struct jw *w)
{
	if (w->need_comma)
		jw_char(w, ',');
	w->need_comma = true;
}

/* Unchecked writers for callers that have checked the room themselves:
 * write the number at dst (at most 20 or 21 bytes) and return its end. */
char *jw_put_u64(char *dst, uint64_t v);
char *jw_put_i64(char *dst, int64_t v);
/* Exactly eight digits of v < 10^8, leading zeros included. */
char *jw_put_8digits(char *dst, uint32_t v);

void jw_u64(struct jw *w, uint64_t v);
void jw_i64(struct jw *w, int64_t v);
void jw_bool(struct jw *w, bool v);
/* Length of the valid UTF-8 sequence starting at s (n bytes there), or 0
 * if invalid: a stray continuation byte, C0/C1 or F5..FF, a missing
 * continuation byte, an overlong form, a surrogate, or beyond U+10FFFF,
 * the same set strict JSON parsers such as jansson reject. */
size_t jw_utf8_len(const unsigned char *s, size_t n);
/* A string already valid as JSON string content (no quotes added inside). */
void jw_str_trusted(struct jw *w, const char *s, size_t n);
/* Text: valid UTF-8 kept, control characters escaped, invalid bytes
 * replaced by U+FFFD so any reader's JSON parser accepts the record. */
void jw_str(struct jw *w, const char *s, size_t n);
static inline void jw_cstr(struct jw *w, const char *s)
{
	jw_str(w, s, strlen(s));
}
/* Bytes: printable ASCII kept, every other byte escaped (\n, \r, \t, \",
 * \\ or \u00XX), so the string's code points U+0000..U+00FF are exactly
 * the bytes. */
void jw_bytes(struct jw *w, const void *data, size_t n);

/* Escapes text into dst as JSON string content (no quotes), never cutting
 * an escape sequence; returns the length written and, in *consumed when
 * not NULL, how much of s fitted. */
size_t json_escape_text(char *dst, size_t cap, const char *s, size_t n,
			size_t *consumed);

/* Convenience for "key":value pairs. */
static inline void jw_kv_u64(struct jw *w, const char *k, uint64_t v)
{
	jw_key(w, k);
	jw_u64(w, v);
}

static inline void jw_kv_i64(struct jw *w, const char *k, int64_t v)
{
	jw_key(w, k);
	jw_i64(w, v);
}

static inline void jw_kv_str(struct jw *w, const char *k, const char *s)
{
	jw_key(w, k);
	jw_cstr(w, s);
}

static inline void jw_kv_name(struct jw *w, const char *k, const char *trusted)
{
	jw_key(w, k);
	jw_str_trusted(w, trusted, strlen(trusted));
}

#endif
