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
