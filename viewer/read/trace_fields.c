/* The record schema of the fast path (see trace_fields.h): which fields
 * of docs/trace-format.md the reader, vev_decode and the pairing model
 * use, each named by its declaration (fields.def: ST_FKEY; recfields.def:
 * ST_RKEY), so that the key the reader scans for is the key the shim
 * writes. A key is one slot whichever record has it: "ts" of a call and
 * of an exec alike (the unit test fields checks that fields of one name
 * have one key). */
#include "read/trace_fields.h"

#include "fields.h"

#include <stdlib.h>
#include <string.h>

static const struct js_field fault_fields[] = {
	{ ST_FKEY(rule), TF_FAULT_RULE, NULL, 0 },
	{ ST_FKEY(action), TF_FAULT_ACTION, NULL, 0 },
	{ ST_FKEY(made), TF_FAULT_MADE, NULL, 0 },
};

static struct js_schema fault_schema = {
	.fields = fault_fields,
	.nfields = sizeof(fault_fields) / sizeof(fault_fields[0]),
};

static const struct js_field record_fields[] = {
	{ ST_RKEY(call, rec), TF_REC, NULL, 0 },
	{ ST_FKEY(ts), TF_TS, NULL, 0 },
	{ ST_FKEY(dur), TF_DUR, NULL, 0 },
	{ ST_FKEY(pid), TF_PID, NULL, 0 },
	{ ST_FKEY(tid), TF_TID, NULL, 0 },
	{ ST_FKEY(fn), TF_FN, NULL, 0 },
	{ ST_FKEY(fd), TF_FD, NULL, 0 },
	{ ST_FKEY(ret), TF_RET, NULL, 0 },
	{ ST_FKEY(errno), TF_ERRNO, NULL, 0 },
	{ ST_FKEY(local), TF_LOCAL, NULL, 0 },
	{ ST_FKEY(peer), TF_PEER, NULL, 0 },
	{ ST_FKEY(addr), TF_ADDR, NULL, 0 },
	{ ST_FKEY(bytes), TF_BYTES, NULL, 0 },
	{ ST_FKEY(data), TF_DATA, NULL, 0 },
	{ ST_FKEY(data_cut), TF_DATA_CUT, NULL, 0 },
	{ ST_FKEY(how), TF_HOW, NULL, 0 },
	{ ST_RKEY(warning, kind), TF_KIND, NULL, 0 },
	{ ST_RKEY(warning, message), TF_MESSAGE, NULL, 0 },
	{ ST_RKEY(ctl, op), TF_OP, NULL, 0 },
	{ ST_FKEY(type), TF_TYPE, NULL, 0 },
	{ ST_FKEY(opt), TF_OPT, NULL, 0 },
	{ ST_FKEY(value), TF_VALUE, NULL, 0 },
	{ ST_RKEY(end, dropped), TF_DROPPED, NULL, 0 },
	{ ST_RKEY(end, reason), TF_REASON, NULL, 0 },
	{ ST_FKEY(fds), TF_FDS, NULL, 2 },
	{ ST_FKEY(dir), TF_DIR, NULL, 0 },
	{ ST_FKEY(flags), TF_FLAGS, NULL, 0 },
	{ ST_FKEY(peer_pid), TF_PEER_PID, NULL, 0 },
	{ ST_FKEY(ino), TF_INO, NULL, 0 },
	{ ST_FKEY(peer_ino), TF_PEER_INO, NULL, 0 },
	{ ST_RKEY(exec, path), TF_PATH, NULL, 0 },
	{ ST_FKEY(family), TF_FAMILY, NULL, 0 },
	{ ST_FKEY(backlog), TF_BACKLOG, NULL, 0 },
	{ ST_FKEY(vlen), TF_VLEN, NULL, 0 },
	{ ST_FKEY(newfd), TF_NEWFD, NULL, 0 },
	{ ST_FKEY(cmd), TF_CMD, NULL, 0 },
	{ ST_FKEY(value_us), TF_VALUE_US, NULL, 0 },
	{ ST_FKEY(host), TF_HOST, NULL, 0 },
	{ ST_FKEY(service), TF_SERVICE, NULL, 0 },
	{ ST_FKEY(addrs), TF_ADDRS, NULL, 1 },
	{ ST_FKEY(fault), TF_FAULT, &fault_schema, 0 },
};

static struct js_schema record_schema = {
	.fields = record_fields,
	.nfields = sizeof(record_fields) / sizeof(record_fields[0]),
};

/* The slot of each call field by id, from the schema by key (a key two
 * fields share, "flags", is one slot): what the binary fast path decodes
 * is what the JSON one does. */
static unsigned char call_slots[ST_FIELD_ID_MAX + 1];
_Static_assert(TF_NSLOTS <= 256, "a slot in a byte");

static bool prepare(void)
{
	if (record_schema.ready)
		return true;
	if (js_schema_prepare(&record_schema) != 0)
		return false;
	for (unsigned id = 1; id <= ST_FIELD_ID_MAX; id++) {
		const struct st_field_info *fi = st_field_info(id);
		for (unsigned i = 0; fi && i < record_schema.nfields; i++)
			if (strcmp(record_fields[i].name, fi->key) == 0)
				call_slots[id] = (unsigned char)record_fields[i].slot;
	}
	return true;
}

const struct js_schema *tf_record_schema(void)
{
	return prepare() ? &record_schema : NULL;
}

const unsigned char *tf_call_slots(void)
{
	return prepare() ? call_slots : NULL;
}

struct tr_fields *tr_fields_parse(const char *line, size_t n, bool keep_line)
{
	struct tr_fields *f;

	if (!record_schema.ready && !prepare())
		return NULL;
	/* Unescaped strings are never longer than the line they came from. */
	f = malloc(sizeof(*f) + n + 1 + (keep_line ? n : 0));
	if (!f)
		return NULL;
	if (js_scan(line, n, &record_schema, f->v, f->arena) != 0) {
		free(f);
		return NULL;
	}
	f->raw = NULL;
	f->raw_len = 0;
	if (keep_line) {
		memcpy(f->arena + n + 1, line, n);
		f->raw = f->arena + n + 1;
		f->raw_len = n;
	}
	return f;
}

void tr_fields_free(struct tr_fields *f)
{
	free(f);
}

/* Where slot s is in the tree j under schema: a member, an element of an
 * array member, or a member of an object member. */
static json_t *json_at(json_t *j, const struct js_schema *schema, enum tf_slot s)
{
	for (unsigned i = 0; i < schema->nfields; i++) {
		const struct js_field *f = &schema->fields[i];
		if (f->slot == (unsigned)s)
			return json_object_get(j, f->name);
		if (f->elems && (unsigned)s > f->slot && (unsigned)s <= f->slot + f->elems)
			return json_array_get(json_object_get(j, f->name), s - f->slot - 1);
		if (f->sub) {
			json_t *x = json_at(json_object_get(j, f->name), f->sub, s);
			if (x)
				return x;
		}
	}
	return NULL;
}

struct js_val tf_json_val(json_t *j, enum tf_slot s)
{
	json_t *x = json_at(j, &record_schema, s);
	struct js_val v;

	memset(&v, 0, sizeof(v));
	if (!x)
		return v;
	switch (json_typeof(x)) {
	case JSON_OBJECT:
		v.type = JS_OBJ;
		break;
	case JSON_ARRAY:
		v.type = JS_ARR;
		v.len = (uint32_t)json_array_size(x);
		break;
	case JSON_STRING:
		v.type = JS_STR;
		v.s = json_string_value(x);
		v.len = (uint32_t)json_string_length(x);
		break;
	case JSON_INTEGER:
		v.type = JS_INT;
		v.i = (int64_t)json_integer_value(x);
		break;
	case JSON_REAL:
		v.type = JS_REAL;
		break;
	case JSON_TRUE:
		v.type = JS_TRUE;
		break;
	case JSON_FALSE:
		v.type = JS_FALSE;
		break;
	case JSON_NULL:
		v.type = JS_NULL;
		break;
	}
	return v;
}
