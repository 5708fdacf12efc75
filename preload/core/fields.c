#include "fields.h"

#include <stddef.h>

/* The keys, once: the tables and the ST_FKEY and ST_RKEY constants point
 * at them. */
const struct st_field_keys st_field_keys = {
#define ST_FIELD(name, key, id, kind, doc) .k_##name = key,
#include "fields.def"
#undef ST_FIELD
};

const struct st_field_info st_field_table[ST_FIELD_ID_MAX + 1] = {
#define ST_FIELD(name, key, id, kind, doc) \
	[id] = { #name, st_field_keys.k_##name, sizeof(key) - 1, ST_FK_##kind, id, doc },
#include "fields.def"
#undef ST_FIELD
};

const struct st_rfield_keys st_rfield_keys = {
#define ST_RFIELD(rec, name, key, type, doc) .k_##rec##_##name = key,
#include "recfields.def"
#undef ST_RFIELD
};

const struct st_rfield_info st_rfield_table[ST_R_COUNT] = {
#define ST_RFIELD(rec, name, key, type, doc) \
	[ST_R_##rec##_##name] = { #rec, #name, st_rfield_keys.k_##rec##_##name, sizeof(key) - 1, \
				  type, doc },
#include "recfields.def"
#undef ST_RFIELD
};

const struct st_robj_info st_robj_table[] = {
#define ST_RFIELD(rec, name, key, type, doc)
#define ST_ROBJ(obj, rec, field) { #obj, #rec, ST_R_##rec##_##field },
#include "recfields.def"
#undef ST_ROBJ
#undef ST_RFIELD
};

const size_t st_robj_count = sizeof(st_robj_table) / sizeof(st_robj_table[0]);

/* A record declares a field once (a duplicate is a duplicate member of
 * st_rfield_keys), and its key fits key_len. */
#define ST_RFIELD(rec, name, key, type, doc) \
	_Static_assert(sizeof(key) > 1 && sizeof(key) < 256, "bad key: " #rec "." #name);
#include "recfields.def"
#undef ST_RFIELD

/* Ids are unique (a duplicate is a duplicate case label) and in range. */
static inline __attribute__((unused)) void ids_unique(unsigned id)
{
	switch (id) {
#define ST_FIELD(name, key, id, kind, doc) case id:
#include "fields.def"
#undef ST_FIELD
		break;
	}
}

#define ST_FIELD(name, key, id, kind, doc) \
	_Static_assert(id > 0 && id <= ST_FIELD_ID_MAX, "field id out of range: " #name);
#include "fields.def"
#undef ST_FIELD

bool st_tlv_skip(const uint8_t **p, const uint8_t *end, unsigned wt)
{
	unsigned depth = 0;
	uint64_t v;

	for (;;) {
		if (wt <= ST_W_SINT || wt == ST_W_BOOL) {
			if (!st_get_varint(p, end, &v))
				return false;
		} else if (wt <= ST_W_BYTES) {
			if (!st_get_varint(p, end, &v) || v > (uint64_t)(end - *p))
				return false;
			*p += v;
		} else {
			depth++;
		}
		if (!depth)
			return true;
		/* Inside a container: the next tag. */
		for (;;) {
			uint64_t tag;
			if (!st_get_varint(p, end, &tag))
				return false;
			if (tag != ST_TAG_END) {
				wt = tag & 7;
				break;
			}
			if (--depth == 0)
				return true;
		}
	}
}
