/* fields.def, the framing and the JSON printer of binary records: the
 * document's field table is the declaration's, a frame checks whole and
 * fails torn or changed, and the printer reads what the encoder writes
 * (endpoint references, fields it does not know, damage). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "calls.h"
#include "event.h"
#include "fields.h"
#include "intern.h"
#include "recbuf.h"
#include "recframe.h"
#include "recjson.h"

#include <socktrace/trace_format.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *kind_name(unsigned kind)
{
	static const char *const names[] = { "plain", "time", "fn", "errno", "hex", "msgflags", "ep", "str" };
	return kind < sizeof(names) / sizeof(names[0]) ? names[kind] : "?";
}

/* docs/trace-format.md lists every field with its id, key, kind and
 * meaning, and no other: the table is the declaration's. */
static void test_doc_table_is_the_declaration(void **state)
{
	char path[4096], line[1024], want[1024];
	unsigned rows = 0, fields = 0;
	bool in_table = false;
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/docs/trace-format.md", SOURCE_ROOT);
	f = fopen(path, "r");
	assert_non_null(f);
	unsigned next = 1;
	while (fgets(line, sizeof(line), f)) {
		if (strstr(line, "<!-- fields table:")) {
			in_table = true;
			continue;
		}
		if (strstr(line, "<!-- end of fields table -->"))
			break;
		if (!in_table || strncmp(line, "| id ", 5) == 0 || strncmp(line, "|---", 4) == 0)
			continue;
		const struct st_field_info *fi = NULL;
		while (next <= ST_FIELD_ID_MAX && !(fi = st_field_info(next)))
			next++;
		if (!fi)
			fail_msg("a row the declaration does not have: %s", line);
		snprintf(want, sizeof(want), "| %u | `%s` | %s | %s |\n", fi->id, fi->key,
			 kind_name(fi->kind), fi->doc);
		if (strcmp(line, want) != 0)
			fail_msg("docs/trace-format.md says\n  %s  fields.def says\n  %s", line, want);
		rows++;
		next++;
	}
	fclose(f);
	for (unsigned id = 1; id <= ST_FIELD_ID_MAX; id++)
		fields += st_field_info(id) != NULL;
	assert_true(in_table);
	assert_int_equal(rows, fields);
}

/* Whether rec is an object inside a record (ST_ROBJ), not a record. */
static const struct st_robj_info *robj(const char *rec)
{
	for (size_t i = 0; i < st_robj_count; i++)
		if (strcmp(st_robj_table[i].obj, rec) == 0)
			return &st_robj_table[i];
	return NULL;
}

/* The document's row of the record field at *i, and of the fields after
 * it that share the row (doc NULL); *i moves past them. */
static void rfield_row(size_t *i, char *row, size_t cap)
{
	const struct st_rfield_info *first = &st_rfield_table[*i];
	char keys[512] = "", types[256] = "";
	size_t k = *i;

	do {
		const struct st_rfield_info *f = &st_rfield_table[k];
		snprintf(keys + strlen(keys), sizeof(keys) - strlen(keys), "%s`%s`",
			 k == *i ? "" : ", ", f->key);
		if (f->type[0] && !strstr(types, f->type))
			snprintf(types + strlen(types), sizeof(types) - strlen(types), "%s%s",
				 types[0] ? ", " : "", f->type);
		k++;
	} while (k < ST_R_COUNT && !st_rfield_table[k].doc &&
		 strcmp(st_rfield_table[k].rec, first->rec) == 0);
	*i = k;
	/* An empty cell is one space, as the document writes it. */
	snprintf(row, cap, "| %s |%s%s%s|%s%s%s|\n", keys, types[0] ? " " : "", types,
		 types[0] ? " " : " ", first->doc[0] ? " " : "", first->doc, first->doc[0] ? " " : " ");
}

/* The document's table for record rec (between its markers) is the
 * declaration's, row for row. Returns the rows checked. */
static unsigned check_rec_table(const char *rec, char *doc)
{
	char start[128], end[128], row[4096];
	unsigned rows = 0;

	snprintf(start, sizeof(start), "<!-- %s fields: generated from preload/core/recfields.def -->\n",
		 rec);
	snprintf(end, sizeof(end), "<!-- end of %s fields -->", rec);
	char *p = strstr(doc, start), *stop = p ? strstr(p, end) : NULL;
	if (!p || !stop)
		fail_msg("docs/trace-format.md has no table for %s records (%s ... %s)", rec, start, end);
	p += strlen(start);
	const char *head = "| field | type | meaning |\n|---|---|---|\n";
	if (strncmp(p, head, strlen(head)) != 0)
		fail_msg("the %s table does not start with %s", rec, head);
	p += strlen(head);
	for (size_t i = 0; i < ST_R_COUNT;) {
		if (strcmp(st_rfield_table[i].rec, rec) != 0) {
			i++;
			continue;
		}
		if (!st_rfield_table[i].doc)
			fail_msg("%s.%s: the first field of a record has no row to share", rec,
				 st_rfield_table[i].name);
		rfield_row(&i, row, sizeof(row));
		char *nl = strchr(p, '\n');
		if (p >= stop || !nl)
			fail_msg("the %s table ends before the row\n  %s", rec, row);
		if ((size_t)(nl + 1 - p) != strlen(row) || strncmp(p, row, strlen(row)) != 0)
			fail_msg("docs/trace-format.md says\n  %.*s\n  recfields.def says\n  %s", (int)(nl - p), p,
				 row);
		p = nl + 1;
		rows++;
	}
	if (p != stop)
		fail_msg("rows the declaration of %s does not have: %.*s", rec, (int)(stop - p), p);
	return rows;
}

static char *read_doc(void)
{
	char path[4096];
	static char buf[1 << 18];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/docs/trace-format.md", SOURCE_ROOT);
	f = fopen(path, "r");
	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	assert_true(n < sizeof(buf) - 1);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* The records other than the call (recfields.def): each has its table in
 * docs/trace-format.md, as declared; an object's fields are named in the
 * row of the field that holds them; its rec is trace_format.h's name. */
static void test_doc_record_tables(void **state)
{
	static const struct {
		const char *rec, *value;
	} recs[] = {
		{ "header", SOCKTRACE_REC_HEADER }, { "call", SOCKTRACE_REC_CALL },
		{ "exec", SOCKTRACE_REC_EXEC },     { "warning", SOCKTRACE_REC_WARNING },
		{ "ctl", SOCKTRACE_REC_CTL },       { "end", SOCKTRACE_REC_END },
	};
	char *doc = read_doc(), row[4096];
	unsigned rows = 0, fields = 0;

	(void)state;
	for (size_t r = 0; r < sizeof(recs) / sizeof(recs[0]); r++) {
		/* Every record names itself first, as trace_format.h does. */
		bool seen = false;
		for (size_t i = 0; i < ST_R_COUNT && !seen; i++) {
			const struct st_rfield_info *f = &st_rfield_table[i];
			if (strcmp(f->rec, recs[r].rec) != 0)
				continue;
			seen = true;
			char want[64];
			snprintf(want, sizeof(want), "`\"%s\"`", recs[r].value);
			if (strcmp(f->key, "rec") != 0 || strcmp(f->type, want) != 0)
				fail_msg("the first field of %s is %s (%s), not rec (%s)", recs[r].rec,
					 f->key, f->type, want);
		}
		if (!seen)
			fail_msg("recfields.def does not declare the %s record", recs[r].rec);
		if (strcmp(recs[r].rec, "call") == 0) {
			/* The call's other fields are fields.def's: its rec is the
			 * first row of its common fields. */
			size_t i = ST_R_call_rec;
			rfield_row(&i, row, sizeof(row));
			if (!strstr(doc, row))
				fail_msg("docs/trace-format.md has no row\n  %s", row);
			fields++;
			continue;
		}
		rows += check_rec_table(recs[r].rec, doc);
	}
	/* Every field is of one of those records, or of an object of one. */
	for (size_t i = 0; i < ST_R_COUNT; i++) {
		const struct st_rfield_info *f = &st_rfield_table[i];
		const struct st_robj_info *o = robj(f->rec);
		bool known = false;
		for (size_t r = 0; r < sizeof(recs) / sizeof(recs[0]); r++)
			known |= strcmp(f->rec, recs[r].rec) == 0 || (o && strcmp(o->rec, recs[r].rec) == 0);
		if (!known)
			fail_msg("%s.%s: %s is no record of trace_format.h", f->rec, f->name, f->rec);
		if (!o)
			continue;
		/* The row of the field holding the object names the field. */
		size_t at = (size_t)o->field;
		assert_string_equal(st_rfield_table[at].rec, o->rec);
		rfield_row(&at, row, sizeof(row));
		char quoted[64];
		snprintf(quoted, sizeof(quoted), "\"%s\"", f->key);
		if (!strstr(row, quoted))
			fail_msg("%s.%s: the row of %s.%s does not name %s:\n  %s", f->rec, f->name, o->rec,
				 st_rfield_table[o->field].key, quoted, row);
	}
	assert_true(rows > 0);
	assert_int_equal(fields, 1);
}

/* A field that two records have, or a record and the call, is one field:
 * the same C name is the same key (the reader takes "ts" of every record
 * alike, trace_fields.c). */
static void test_same_name_same_key(void **state)
{
	(void)state;
	for (size_t i = 0; i < ST_R_COUNT; i++) {
		const struct st_rfield_info *a = &st_rfield_table[i];
		assert_int_equal(strlen(a->key), a->key_len);
		for (size_t j = 0; j < i; j++) {
			const struct st_rfield_info *b = &st_rfield_table[j];
			if (strcmp(a->name, b->name) == 0 && strcmp(a->key, b->key) != 0)
				fail_msg("%s.%s is \"%s\" but %s.%s \"%s\"", a->rec, a->name, a->key, b->rec,
					 b->name, b->key);
		}
		for (unsigned id = 1; id <= ST_FIELD_ID_MAX; id++) {
			const struct st_field_info *c = st_field_info(id);
			if (c && strcmp(c->name, a->name) == 0 && strcmp(c->key, a->key) != 0)
				fail_msg("%s.%s is \"%s\" but the call's %s (fields.def) \"%s\"", a->rec,
					 a->name, a->key, c->name, c->key);
		}
	}
	/* The constants are the table's. */
	assert_string_equal(ST_FKEY(msgflags), "flags");
	assert_int_equal(sizeof(ST_FKEY(frame_offset)) - 1, 6);
	assert_string_equal(ST_RKEY(header_clock, mono), "mono");
	assert_ptr_equal(st_rfield_table[ST_R_end_dropped].key, ST_RKEY(end, dropped));
	for (unsigned id = 1; id <= ST_FIELD_ID_MAX; id++) {
		const struct st_field_info *c = st_field_info(id);
		if (c)
			assert_int_equal(strlen(c->key), c->key_len);
	}
}

static uint8_t frame_buf[ST_FRAME_HEAD_MAX + 20000 + ST_FRAME_TAIL];

static size_t make_frame(size_t body_len, uint8_t **start)
{
	for (size_t i = 0; i < body_len; i++)
		frame_buf[ST_FRAME_HEAD_MAX + i] = (uint8_t)(i * 37 + 11);
	size_t len;
	*start = st_frame_close(frame_buf, body_len, &len);
	return len;
}

/* Whole frames check, of every length form; a frame torn at any point
 * (the rest still zero), or with any one byte changed, does not. */
static void test_frames_check_whole_only(void **state)
{
	static const size_t lens[] = { 1, 2, 7, 8, 9, 40, 127, 128, 300, 16383, 16384, 20000 };

	(void)state;
	for (size_t li = 0; li < sizeof(lens) / sizeof(lens[0]); li++) {
		uint8_t *start;
		size_t len = make_frame(lens[li], &start), flen, boff, blen;
		uint8_t copy[sizeof(frame_buf)];

		assert_int_equal(st_frame_parse(start, len, &flen, &boff, &blen), ST_FRAME_OK);
		assert_int_equal(flen, len);
		assert_int_equal(blen, lens[li]);
		assert_int_equal(st_frame_parse(start, len - 1, &flen, &boff, &blen), ST_FRAME_MORE);
		if (lens[li] > 300)
			continue; /* every byte of the short ones */
		for (size_t cut = 1; cut < len; cut++) {
			memcpy(copy, start, len);
			memset(copy + cut, 0, len - cut);
			if (memcmp(copy, start, len) == 0)
				continue; /* the frame ended in zeros there */
			assert_int_not_equal(st_frame_parse(copy, len, &flen, &boff, &blen), ST_FRAME_OK);
		}
		for (size_t at = 0; at < len; at++) {
			memcpy(copy, start, len);
			copy[at] ^= 0x41;
			enum st_frame_res res = st_frame_parse(copy, len, &flen, &boff, &blen);
			assert_true(res != ST_FRAME_OK || flen != len);
		}
	}
}

/* A prologue reads back, and another major version is refused. */
static void test_prologue(void **state)
{
	uint8_t p[ST_PROLOGUE_LEN];
	int64_t base;
	unsigned major, minor;

	(void)state;
	st_prologue_write(p, 123456789012345);
	assert_true(st_prologue_is(p, 3));
	assert_int_equal(st_prologue_read(p, &base, &major, &minor), 0);
	assert_int_equal(base, 123456789012345);
	assert_int_equal(major, ST_BINARY_MAJOR);
	p[8] = ST_BINARY_MAJOR + 1;
	assert_int_equal(st_prologue_read(p, &base, &major, &minor), -1);
	p[0] = '{';
	assert_false(st_prologue_is(p, 8));
}

/* Endpoint definitions, as a reader keeps them. */
static struct {
	uint64_t id;
	char local[64], peer[64];
	size_t llen, plen;
	bool set;
} eps[4];

static void ep_define(void *ctx, uint64_t id, const struct st_epdef *d)
{
	(void)ctx;
	eps[id % 4].id = id;
	eps[id % 4].llen = d->local_len;
	eps[id % 4].plen = d->peer_len;
	memcpy(eps[id % 4].local, d->local, d->local_len);
	memcpy(eps[id % 4].peer, d->peer, d->peer_len);
	eps[id % 4].set = true;
}

static bool ep_lookup(void *ctx, uint64_t id, struct st_epdef *d)
{
	(void)ctx;
	if (!eps[id % 4].set || eps[id % 4].id != id)
		return false;
	d->local = eps[id % 4].local;
	d->local_len = eps[id % 4].llen;
	d->peer = eps[id % 4].peer;
	d->peer_len = eps[id % 4].plen;
	return true;
}

static uint8_t body[ST_EV_MAX];

static size_t send_record(struct rb *b, uint64_t ep, bool define)
{
	struct st_ev_head h = { .ts = 5000, .dur = 7, .base = 1000, .pid = 9, .tid = 10,
				.fn = ST_FN_send, .fd = 3, .ret = 4 };

	st_ev_begin(b, body, sizeof(body), &h);
	rb_i64(b, ST_F_len, 4);
	rb_u64(b, ST_F_msgflags, 0x4000); /* MSG_NOSIGNAL */
	rb_i64(b, ST_F_bytes, 4);
	rb_u64(b, ST_F_ep, ep << 1 | define);
	if (define) {
		rb_cname(b, ST_F_local, "127.0.0.1:1");
		rb_cname(b, ST_F_peer, "127.0.0.1:2");
	}
	return st_ev_end(b, body, sizeof(body), &h);
}

static void test_endpoints_once_per_socket(void **state)
{
	static const char want[] =
		"{\"rec\":\"call\",\"ts\":5000,\"dur\":7,\"pid\":9,\"tid\":10,\"fn\":\"send\",\"fd\":3,"
		"\"ret\":4,\"len\":4,\"flags\":\"MSG_NOSIGNAL\",\"bytes\":4,"
		"\"local\":\"127.0.0.1:1\",\"peer\":\"127.0.0.1:2\"}\n";
	struct st_conv cv = { .base = 1000, .ep_define = ep_define, .ep_lookup = ep_lookup };
	char out[ST_JSON_LINE_MAX];
	struct rb b;
	size_t n, len;

	(void)state;
	memset(eps, 0, sizeof(eps));
	len = send_record(&b, 7, true);
	n = st_call_json(out, sizeof(out), body + 1, len - 1, &cv, NULL);
	assert_int_equal(n, sizeof(want) - 1);
	assert_memory_equal(out, want, n);
	/* The reference prints the same, and is short. */
	len = send_record(&b, 7, false);
	assert_true(len + ST_FRAME_HEAD_MAX + ST_FRAME_TAIL <= 48);
	n = st_call_json(out, sizeof(out), body + 1, len - 1, &cv, NULL);
	assert_int_equal(n, sizeof(want) - 1);
	assert_memory_equal(out, want, n);
	/* An id never defined: the record without endpoints, counted. */
	len = send_record(&b, 8, false);
	n = st_call_json(out, sizeof(out), body + 1, len - 1, &cv, NULL);
	assert_true(n > 0);
	assert_non_null(memmem(out, n, "\"bytes\":4}", 10));
	assert_null(memmem(out, n, "local", 5));
	assert_int_equal(cv.unknown_eps, 1);
}

/* A field of a newer shim is passed over by its wire type, objects and
 * arrays included; damage is refused with a reason, never read past. */
static void test_unknown_fields_and_damage(void **state)
{
	struct st_conv cv = { .base = 0 };
	char out[ST_JSON_LINE_MAX];
	const char *why;
	struct rb b;
	size_t len, n;
	struct st_ev_head h = { .ts = 1, .fn = ST_FN_close, .fd = 4 };

	(void)state;
	st_ev_begin(&b, body, sizeof(body), &h);
	rb_u64(&b, (enum st_field)120, 99);
	rb_obj(&b, (enum st_field)121);
	rb_ctext(&b, ST_F_text, "x");
	rb_arr(&b, ST_F_addrs);
	rb_i64(&b, ST_F_NONE, 1);
	rb_end(&b);
	rb_end(&b);
	rb_cname(&b, (enum st_field)122, "y");
	rb_cname(&b, ST_F_how, "SHUT_WR");
	len = st_ev_end(&b, body, sizeof(body), &h);
	n = st_call_json(out, sizeof(out), body + 1, len - 1, &cv, &why);
	assert_true(n > 0);
	out[n] = '\0';
	assert_non_null(strstr(out, "\"ret\":0,\"how\":\"SHUT_WR\"}\n"));
	/* Every truncation is refused or read as far as it goes: never a
	 * crash, never a byte past the end (ASan). */
	for (size_t cut = 1; cut < len; cut++) {
		uint8_t *copy = malloc(cut);
		memcpy(copy, body, cut);
		why = NULL;
		n = st_call_json(out, sizeof(out), copy + 1, cut - 1, &cv, &why);
		assert_true(n > 0 || why != NULL);
		free(copy);
	}
	/* A string in a name field that is not valid JSON is printed escaped. */
	st_ev_begin(&b, body, sizeof(body), &h);
	rb_name(&b, ST_F_how, "a\"b\\q\n", 6);
	len = st_ev_end(&b, body, sizeof(body), &h);
	n = st_call_json(out, sizeof(out), body + 1, len - 1, &cv, &why);
	out[n] = '\0';
	assert_non_null(strstr(out, "\"how\":\"a\\\"b\\\\q\\n\""));
}

/* Strings as a reader keeps them. */
static struct {
	uint64_t id;
	char text[64];
	size_t len;
	bool set;
} strs[4];

static void str_define(void *ctx, uint64_t id, const char *text, size_t n)
{
	(void)ctx;
	strs[id % 4].id = id;
	strs[id % 4].len = n < 64 ? n : 64;
	memcpy(strs[id % 4].text, text, strs[id % 4].len);
	strs[id % 4].set = true;
}

static bool str_lookup(void *ctx, uint64_t id, const char **text, size_t *n)
{
	(void)ctx;
	if (!strs[id % 4].set || strs[id % 4].id != id)
		return false;
	*text = strs[id % 4].text;
	*n = strs[id % 4].len;
	return true;
}

/* A record with the fault's rule interned under tag. */
static size_t rule_record(struct rb *b, struct st_interns *in, _Atomic uint64_t *tag, size_t cap)
{
	static const char rule[] = "faults.rules:3";
	struct st_ev_head h = { .ts = 1, .fn = ST_FN_send, .fd = 3, .ret = -1, .err = 104 };
	uint32_t id;

	in->n = 0;
	st_ev_begin(b, body, cap, &h);
	rb_obj(b, ST_F_fault);
	if ((id = st_intern_id(in, tag, 1)))
		st_intern_ref(b, ST_F_rule, id);
	else
		st_intern_def(b, in, ST_F_rule, rule, sizeof(rule) - 1, tag, 1);
	rb_end(b);
	return st_ev_end(b, body, cap, &h);
}

/* A dropped record defines nothing: what it would have defined stays
 * undefined for the records after it, which define it again (the writer
 * commits a record's definitions once the record is in the file:
 * shim/call.c; the integration side is tests/robust's
 * test_dropped_record_defines_nothing). A definition that does not fit
 * is left out whole, and remembered by nobody. */
static void test_dropped_record_defines_nothing(void **state)
{
	_Atomic uint64_t next = 100, tag = 0;
	struct st_intern_ids ids = { .first = 100, .next = &next };
	struct st_interns in = { .ids = &ids };
	struct st_conv cv = { .str_define = str_define, .str_lookup = str_lookup };
	char out[ST_JSON_LINE_MAX];
	struct rb b;
	size_t len, n;

	(void)state;
	memset(strs, 0, sizeof(strs));
	/* Record 1 defines string 100, and is dropped: not committed, not
	 * read. */
	len = rule_record(&b, &in, &tag, sizeof(body));
	assert_true(len > 0);
	assert_int_equal(in.n, 1);
	assert_int_equal(atomic_load(&tag), 0);
	/* Record 2 defines it again, under a new id, and is written. */
	len = rule_record(&b, &in, &tag, sizeof(body));
	assert_int_equal(in.n, 1);
	assert_int_equal(in.pending[0].value & 0xffffffffu, 101);
	st_interns_commit(&in);
	n = st_call_json(out, sizeof(out), body + 1, len - 1, &cv, NULL);
	assert_non_null(memmem(out, n, "\"fault\":{\"rule\":\"faults.rules:3\"}", 33));
	/* Record 3 refers to it. */
	len = rule_record(&b, &in, &tag, sizeof(body));
	assert_int_equal(in.n, 0);
	n = st_call_json(out, sizeof(out), body + 1, len - 1, &cv, NULL);
	assert_non_null(memmem(out, n, "\"fault\":{\"rule\":\"faults.rules:3\"}", 33));
	assert_int_equal(cv.unknown_eps, 0);
	/* A definition with no room is left out, and nothing is pending. */
	atomic_store(&tag, 0);
	st_ev_begin(&b, body, 24, &(struct st_ev_head){ .ts = 1, .fn = ST_FN_send, .fd = 3 });
	in.n = 0;
	st_intern_def(&b, &in, ST_F_rule, "a-rule-much-longer-than-the-room-left.rules:1", 45, &tag, 1);
	assert_int_equal(in.n, 0);
	/* A reader that never saw record 2 counts record 3's reference. */
	memset(strs, 0, sizeof(strs));
	len = rule_record(&b, &in, &(_Atomic uint64_t){ (uint64_t)1 << 32 | 101 }, sizeof(body));
	n = st_call_json(out, sizeof(out), body + 1, len - 1, &cv, NULL);
	assert_true(n > 0);
	assert_int_equal(cv.unknown_eps, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_doc_table_is_the_declaration),
		cmocka_unit_test(test_doc_record_tables),
		cmocka_unit_test(test_same_name_same_key),
		cmocka_unit_test(test_frames_check_whole_only),
		cmocka_unit_test(test_prologue),
		cmocka_unit_test(test_endpoints_once_per_socket),
		cmocka_unit_test(test_unknown_fields_and_damage),
		cmocka_unit_test(test_dropped_record_defines_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
