/* The reader's fast-path schema (viewer/read/trace_fields.c) against the
 * declarations: every key it scans for is a declared field's
 * (preload/core/fields.def for calls, recfields.def for the other
 * records), and the binary fast path decodes the call fields the JSON one
 * does, into the same slots. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "fields.h"
#include "read/trace_fields.h"

#include <stdio.h>
#include <string.h>

static const struct st_field_info *call_field(const char *key)
{
	for (unsigned id = 1; id <= ST_FIELD_ID_MAX; id++) {
		const struct st_field_info *fi = st_field_info(id);
		if (fi && strcmp(fi->key, key) == 0)
			return fi;
	}
	return NULL;
}

/* A field of a record, not of an object inside one. */
static const struct st_rfield_info *record_field(const char *key)
{
	for (size_t i = 0; i < ST_R_COUNT; i++) {
		const struct st_rfield_info *f = &st_rfield_table[i];
		bool in_obj = false;
		for (size_t o = 0; o < st_robj_count; o++)
			in_obj |= strcmp(st_robj_table[o].obj, f->rec) == 0;
		if (!in_obj && strcmp(f->key, key) == 0)
			return f;
	}
	return NULL;
}

static void test_every_key_is_declared(void **state)
{
	const struct js_schema *s = tf_record_schema();
	unsigned subs = 0;

	(void)state;
	assert_non_null(s);
	for (unsigned i = 0; i < s->nfields; i++) {
		const struct js_field *f = &s->fields[i];
		if (!call_field(f->name) && !record_field(f->name))
			fail_msg("trace_fields.c scans for \"%s\", a key neither fields.def nor "
				 "recfields.def declares", f->name);
		if (!f->sub)
			continue;
		/* An object of a call (the fault): its fields are call fields. */
		assert_non_null(call_field(f->name));
		for (unsigned k = 0; k < f->sub->nfields; k++)
			if (!call_field(f->sub->fields[k].name))
				fail_msg("trace_fields.c scans \"%s\" for \"%s\", which fields.def does not "
					 "declare", f->name, f->sub->fields[k].name);
		subs++;
	}
	assert_int_equal(subs, 1);
}

/* Each call field the schema names has the slot of its key in the binary
 * fast path (binrec.c), and no other field has one. */
static void test_binary_slots_are_the_schema(void **state)
{
	const struct js_schema *s = tf_record_schema();
	const unsigned char *slots = tf_call_slots();
	unsigned named = 0;

	(void)state;
	assert_non_null(slots);
	for (unsigned id = 1; id <= ST_FIELD_ID_MAX; id++) {
		const struct st_field_info *fi = st_field_info(id);
		const struct js_field *want = NULL;
		for (unsigned i = 0; fi && i < s->nfields; i++)
			if (strcmp(s->fields[i].name, fi->key) == 0)
				want = &s->fields[i];
		if (!fi || !want) {
			assert_int_equal(slots[id], 0);
			continue;
		}
		assert_int_equal(slots[id], want->slot);
		named++;
	}
	/* Both flags fields (send's MSG_* and accept4's) share one slot. */
	assert_int_equal(slots[ST_F_msgflags], TF_FLAGS);
	assert_int_equal(slots[ST_F_flags], TF_FLAGS);
	assert_true(named > 30);
}

/* A record of each kind, written with the declared keys, reads into the
 * slots: the reader's key is the writer's. */
static void test_records_read_by_declared_keys(void **state)
{
	char line[512];
	struct tr_fields *f;
	int64_t v;

	(void)state;
	snprintf(line, sizeof(line), "{\"%s\":\"end\",\"%s\":12,\"%s\":7,\"%s\":\"exit\",\"%s\":3}",
		 ST_RKEY(end, rec), ST_RKEY(end, ts), ST_RKEY(end, pid), ST_RKEY(end, reason),
		 ST_RKEY(end, dropped));
	f = tr_fields_parse(line, strlen(line), false);
	assert_non_null(f);
	assert_string_equal(tf_str(f, TF_REC), "end");
	assert_true(tf_int(f, TF_TS, &v) && v == 12);
	assert_true(tf_int(f, TF_PID, &v) && v == 7);
	assert_string_equal(tf_str(f, TF_REASON), "exit");
	assert_true(tf_int(f, TF_DROPPED, &v) && v == 3);
	tr_fields_free(f);

	snprintf(line, sizeof(line), "{\"%s\":\"warning\",\"%s\":\"seccomp\",\"%s\":\"m\"}",
		 ST_RKEY(warning, rec), ST_RKEY(warning, kind), ST_RKEY(warning, message));
	f = tr_fields_parse(line, strlen(line), false);
	assert_non_null(f);
	assert_string_equal(tf_str(f, TF_KIND), "seccomp");
	assert_string_equal(tf_str(f, TF_MESSAGE), "m");
	tr_fields_free(f);

	snprintf(line, sizeof(line), "{\"%s\":\"ctl\",\"%s\":\"add\",\"%s\":\"m2\"}", ST_RKEY(ctl, rec),
		 ST_RKEY(ctl, op), ST_RKEY(ctl, message));
	f = tr_fields_parse(line, strlen(line), false);
	assert_non_null(f);
	assert_string_equal(tf_str(f, TF_OP), "add");
	assert_string_equal(tf_str(f, TF_MESSAGE), "m2");
	tr_fields_free(f);

	snprintf(line, sizeof(line), "{\"%s\":\"exec\",\"%s\":\"/bin/x\",\"%s\":-1}", ST_RKEY(exec, rec),
		 ST_RKEY(exec, path), ST_RKEY(exec, ret));
	f = tr_fields_parse(line, strlen(line), false);
	assert_non_null(f);
	assert_string_equal(tf_str(f, TF_PATH), "/bin/x");
	assert_true(tf_int(f, TF_RET, &v) && v == -1);
	tr_fields_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_key_is_declared),
		cmocka_unit_test(test_binary_slots_are_the_schema),
		cmocka_unit_test(test_records_read_by_declared_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
