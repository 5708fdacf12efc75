#include "fields.h"

const struct st_field_info st_field_table[ST_FIELD_ID_MAX + 1] = {
#define ST_FIELD(name, key, id, kind, doc) \
	[id] = { #name, key, sizeof(key) - 1, ST_FK_##kind, id, doc },
#include "fields.def"
#undef ST_FIELD
};

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
