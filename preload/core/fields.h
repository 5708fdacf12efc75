/* The fields of call records, declared once in fields.def, and the wire
 * encoding of binary traces (docs/trace-format.md, "Binary files").
 *
 * A record's body is its kind byte, then fields. A field is a tag, the
 * varint id << 3 | wire type, then its value. The wire type says how to
 * skip and how to print the value, so a reader can pass over fields a
 * newer shim added; the field's kind (fields.def) says what it means. */
#ifndef SOCKTRACE_FIELDS_H
#define SOCKTRACE_FIELDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum st_field {
	ST_F_NONE = 0, /* an array element: no key */
#define ST_FIELD(name, key, id, kind, doc) ST_F_##name = id,
#include "fields.def"
#undef ST_FIELD
};

enum st_field_kind {
	ST_FK_PLAIN,
	ST_FK_TIME,
	ST_FK_FN,
	ST_FK_ERRNO,
	ST_FK_HEX,
	ST_FK_MSGFLAGS,
	ST_FK_EP,
	ST_FK_STR,
};

enum st_wire {
	ST_W_UINT = 0,  /* varint */
	ST_W_SINT = 1,  /* zigzag varint */
	ST_W_NAME = 2,  /* varint length, bytes already valid as JSON string content */
	ST_W_TEXT = 3,  /* varint length, text (escaped, invalid UTF-8 replaced, when printed) */
	ST_W_BYTES = 4, /* varint length, bytes (one code point per byte when printed) */
	ST_W_BOOL = 5,  /* varint 0 or 1 */
	ST_W_OBJ = 6,   /* fields up to ST_TAG_END */
	ST_W_ARR = 7,   /* elements (id 0) up to ST_TAG_END */
};

/* Ends an object or an array: id 0 with the array wire type, which no
 * element can have (arrays do not nest directly). */
#define ST_TAG_END 0x07u

/* Record kinds: the body's first byte. 0 never starts a record: NUL
 * bytes are the holes a killed writer leaves. */
enum st_rec_kind {
	ST_K_JSON = 1, /* the rest is one JSON object, as the jsonl format writes it */
	ST_K_CALL = 2, /* a call record's fields */
};

struct st_field_info {
	const char *name;
	const char *key;
	uint8_t key_len;
	uint8_t kind;  /* enum st_field_kind */
	uint8_t id;
	const char *doc;
};

/* The keys of fields.def by C name, as constants: ST_FKEY(ts) is "ts",
 * an address constant (static tables may hold it) whose length is
 * sizeof(ST_FKEY(ts)) - 1. A name fields.def does not declare does not
 * compile. */
struct st_field_keys {
#define ST_FIELD(name, key, id, kind, doc) char k_##name[sizeof(key)];
#include "fields.def"
#undef ST_FIELD
};
extern const struct st_field_keys st_field_keys;
#define ST_FKEY(name) (st_field_keys.k_##name)

/* The fields of the other records (recfields.def): ST_R_<rec>_<name>,
 * in the order of the declaration. */
enum st_rfield {
#define ST_RFIELD(rec, name, key, type, doc) ST_R_##rec##_##name,
#include "recfields.def"
#undef ST_RFIELD
	ST_R_COUNT
};

/* Their keys, as ST_FKEY's: ST_RKEY(header, argv) is "argv". */
struct st_rfield_keys {
#define ST_RFIELD(rec, name, key, type, doc) char k_##rec##_##name[sizeof(key)];
#include "recfields.def"
#undef ST_RFIELD
};
extern const struct st_rfield_keys st_rfield_keys;
#define ST_RKEY(rec, name) (st_rfield_keys.k_##rec##_##name)

struct st_rfield_info {
	const char *rec;  /* "header", ..., or an object's name ("header_clock") */
	const char *name; /* the C name */
	const char *key;
	uint8_t key_len;
	const char *type; /* the document's type column */
	const char *doc;  /* its meaning column; NULL: in the row of the field before */
};

/* Indexed by enum st_rfield. */
extern const struct st_rfield_info st_rfield_table[ST_R_COUNT];

/* The objects inside records (ST_ROBJ): obj's fields are those of the
 * value of rec's field. */
struct st_robj_info {
	const char *obj, *rec;
	enum st_rfield field;
};

extern const struct st_robj_info st_robj_table[];
extern const size_t st_robj_count;

/* Ids are below this (fields.c checks). */
#define ST_FIELD_ID_MAX 127

/* Indexed by id: unused ids have no name. */
extern const struct st_field_info st_field_table[ST_FIELD_ID_MAX + 1];

/* The field of that id, or NULL when this build does not know it. */
static inline const struct st_field_info *st_field_info(unsigned id)
{
	return id <= ST_FIELD_ID_MAX && st_field_table[id].name ? &st_field_table[id] : NULL;
}

/* Varints (LEB128): at most 10 bytes. */
static inline uint8_t *st_put_varint(uint8_t *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*p++ = (uint8_t)v;
	return p;
}

static inline uint64_t st_zigzag(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static inline int64_t st_unzigzag(uint64_t v)
{
	return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

/* Reads a varint at *p (before end): false when it runs past end or
 * past 10 bytes. */
static inline bool st_get_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	const uint8_t *q = *p;
	uint64_t r = 0;

	for (unsigned shift = 0; q < end && shift < 64; shift += 7) {
		uint8_t b = *q++;
		r |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*p = q;
			*v = r;
			return true;
		}
	}
	return false;
}

/* Passes over one value of wire type wt at *p (an object or an array
 * whole, by its tags): false when it runs past end. How a reader passes
 * over the fields it does not know. */
bool st_tlv_skip(const uint8_t **p, const uint8_t *end, unsigned wt);

#endif
