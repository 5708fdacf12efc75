/* Bounded writer of binary record bodies (fields.h gives the encoding).
 *
 * Like jsonw.h, for the shim's hot path: no allocation, no errno, no
 * library call but memcpy. When the buffer runs out it stops and
 * remembers it; the caller decides what a cut record keeps. */
#ifndef SOCKTRACE_RECBUF_H
#define SOCKTRACE_RECBUF_H

#include "fields.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct rb {
	uint8_t *p;
	uint8_t *end;
	bool overflow;
};

/* A tag and a varint take at most this much. */
#define RB_SCALAR_MAX 12

static inline void rb_init(struct rb *b, uint8_t *buf, size_t cap)
{
	b->p = buf;
	b->end = buf + cap;
	b->overflow = false;
}

static inline bool rb_room(struct rb *b, size_t n)
{
	if (__builtin_expect((size_t)(b->end - b->p) >= n, 1))
		return true;
	b->overflow = true;
	return false;
}

static inline uint8_t *rb_put_tag(uint8_t *p, enum st_field f, enum st_wire wt)
{
	return st_put_varint(p, (uint64_t)f << 3 | wt);
}

static inline void rb_scalar(struct rb *b, enum st_field f, enum st_wire wt, uint64_t v)
{
	if (rb_room(b, RB_SCALAR_MAX))
		b->p = st_put_varint(rb_put_tag(b->p, f, wt), v);
}

static inline void rb_u64(struct rb *b, enum st_field f, uint64_t v)
{
	rb_scalar(b, f, ST_W_UINT, v);
}

static inline void rb_i64(struct rb *b, enum st_field f, int64_t v)
{
	rb_scalar(b, f, ST_W_SINT, st_zigzag(v));
}

static inline void rb_bool(struct rb *b, enum st_field f, bool v)
{
	rb_scalar(b, f, ST_W_BOOL, v);
}

static inline void rb_lenval(struct rb *b, enum st_field f, enum st_wire wt, const void *s,
			     size_t n)
{
	if (rb_room(b, RB_SCALAR_MAX + n)) {
		b->p = st_put_varint(rb_put_tag(b->p, f, wt), n);
		memcpy(b->p, s, n);
		b->p += n;
	}
}

/* A string already valid as JSON string content (names, formatted
 * addresses). */
static inline void rb_name(struct rb *b, enum st_field f, const char *s, size_t n)
{
	rb_lenval(b, f, ST_W_NAME, s, n);
}

static inline void rb_cname(struct rb *b, enum st_field f, const char *s)
{
	rb_name(b, f, s, strlen(s));
}

/* A name when there is one, else the number (unknown constants). */
static inline void rb_name_or_i64(struct rb *b, enum st_field f, const char *name, int64_t v)
{
	if (name)
		rb_cname(b, f, name);
	else
		rb_i64(b, f, v);
}

/* Text from the program or the system (host names, paths): escaped when
 * printed. */
static inline void rb_text(struct rb *b, enum st_field f, const char *s, size_t n)
{
	rb_lenval(b, f, ST_W_TEXT, s, n);
}

static inline void rb_ctext(struct rb *b, enum st_field f, const char *s)
{
	rb_text(b, f, s, strlen(s));
}

/* Bytes (payload). */
static inline void rb_bytes(struct rb *b, enum st_field f, const void *s, size_t n)
{
	rb_lenval(b, f, ST_W_BYTES, s, n);
}

static inline void rb_obj(struct rb *b, enum st_field f)
{
	if (rb_room(b, RB_SCALAR_MAX))
		b->p = rb_put_tag(b->p, f, ST_W_OBJ);
}

static inline void rb_arr(struct rb *b, enum st_field f)
{
	if (rb_room(b, RB_SCALAR_MAX))
		b->p = rb_put_tag(b->p, f, ST_W_ARR);
}

static inline void rb_end(struct rb *b)
{
	if (rb_room(b, 1))
		*b->p++ = ST_TAG_END;
}

#endif
