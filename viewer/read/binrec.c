#include "read/binrec.h"

#include "fields.h"
#include "jsonw.h"
#include "util/oom.h"

#include <stdlib.h>
#include <string.h>

/* Definitions by id. A file's ids run up from the first it uses, so they
 * are kept in an array from that one; the rare id far from it (a damaged
 * file) in the hash map. */
#define DENSE_MAX (1u << 22)

static void *defs_get(const struct bin_defs *d, uint64_t id)
{
	if (d->cap && id >= d->base && id - d->base < d->cap)
		return d->slot[id - d->base];
	return hmap_get(&d->far, &id, sizeof(id));
}

/* Stores v for id, freeing what it replaces. */
static void defs_put(struct bin_defs *d, uint64_t id, void *v)
{
	/* From a little below the first: threads take ids in one order and
	 * may write their records in another. */
	if (!d->cap && !d->far.len)
		d->base = id > 1024 ? id - 1024 : 0;
	if (id >= d->base && id - d->base < DENSE_MAX) {
		size_t i = (size_t)(id - d->base);
		if (i >= d->cap) {
			size_t ncap = d->cap ? d->cap : 64;
			while (ncap <= i)
				ncap *= 2;
			void **ns = realloc(d->slot, ncap * sizeof(*ns));
			if (!ns)
				oom_exit();
			memset(ns + d->cap, 0, (ncap - d->cap) * sizeof(*ns));
			d->slot = ns;
			d->cap = ncap;
		}
		free(d->slot[i]);
		d->slot[i] = v;
		return;
	}
	free(hmap_del(&d->far, &id, sizeof(id)));
	if (hmap_put(&d->far, &id, sizeof(id), v) != 0)
		oom_exit();
}

static void defs_free(struct bin_defs *d)
{
	for (size_t i = 0; i < d->cap; i++)
		free(d->slot[i]);
	free(d->slot);
	hmap_free(&d->far, free);
	*d = (struct bin_defs){ .far = HMAP_INIT };
}

struct bin_ep {
	size_t local_len, peer_len;
	char text[]; /* local, then peer */
};

static void ep_define(void *ctx, uint64_t id, const struct st_epdef *d)
{
	struct bin_file *b = ctx;
	struct bin_ep *e = malloc(sizeof(*e) + d->local_len + d->peer_len);

	if (!e)
		oom_exit();
	e->local_len = d->local_len;
	e->peer_len = d->peer_len;
	if (d->local_len)
		memcpy(e->text, d->local, d->local_len);
	if (d->peer_len)
		memcpy(e->text + d->local_len, d->peer, d->peer_len);
	/* A later definition of the same id (two threads defined it at once)
	 * holds the same endpoints: keep the newest. */
	defs_put(&b->eps, id, e);
}

static bool ep_lookup(void *ctx, uint64_t id, struct st_epdef *d)
{
	struct bin_file *b = ctx;
	const struct bin_ep *e = defs_get(&b->eps, id);

	if (!e)
		return false;
	d->local = e->text;
	d->local_len = e->local_len;
	d->peer = e->text + e->local_len;
	d->peer_len = e->peer_len;
	return true;
}

struct bin_str {
	size_t len;
	char text[];
};

static void str_define(void *ctx, uint64_t id, const char *text, size_t n)
{
	struct bin_file *b = ctx;
	struct bin_str *e = malloc(sizeof(*e) + n);

	if (!e)
		oom_exit();
	e->len = n;
	memcpy(e->text, text, n);
	defs_put(&b->strs, id, e);
}

static bool str_lookup(void *ctx, uint64_t id, const char **text, size_t *n)
{
	struct bin_file *b = ctx;
	const struct bin_str *e = defs_get(&b->strs, id);

	if (!e)
		return false;
	*text = e->text;
	*n = e->len;
	return true;
}

void bin_file_init(struct bin_file *b, int64_t base)
{
	memset(b, 0, sizeof(*b));
	b->conv.base = base;
	b->conv.ep_define = ep_define;
	b->conv.ep_lookup = ep_lookup;
	b->conv.str_define = str_define;
	b->conv.str_lookup = str_lookup;
	b->conv.ctx = b;
}

void bin_file_reset(struct bin_file *b)
{
	defs_free(&b->eps);
	defs_free(&b->strs);
	b->conv.unknown_eps = 0;
}

void bin_file_free(struct bin_file *b)
{
	bin_file_reset(b);
}

size_t bin_body_json(struct bin_file *b, const uint8_t *body, size_t n, char *out, size_t cap,
		     const char **why)
{
	*why = NULL;
	switch (body[0]) {
	case ST_K_JSON:
		if (n < 2 || n > cap) {
			*why = "an empty JSON record";
			return 0;
		}
		memcpy(out, body + 1, n - 1);
		out[n - 1] = '\n';
		return n;
	case ST_K_CALL: {
		size_t len = st_call_json(out, cap, body + 1, n - 1, &b->conv, why);
		if (!len && !*why)
			*why = "a record longer than a line may be";
		return len;
	}
	}
	/* A kind a newer minor version added: skipped, as the format says. */
	return 0;
}

/* ---- call records straight into the fast path's slots ---- */

#include "calls.h"
#include "names.h"


struct dec {
	struct tr_fields *f;
	char *arena, *arena_end;
	const uint8_t *p, *end;
	struct bin_file *b;
};

/* A string into the arena, NUL-terminated. */
static bool put_str(struct dec *d, unsigned slot, const char *s, size_t n)
{
	if ((size_t)(d->arena_end - d->arena) < n + 1)
		return false;
	memcpy(d->arena, s, n);
	d->arena[n] = '\0';
	d->f->v[slot] = (struct js_val){ .s = d->arena, .len = (uint32_t)n, .type = JS_STR };
	d->arena += n + 1;
	return true;
}

/* A string as the JSON printer would write it and the scanner read it
 * back: false when that needs more than a copy (escapes in a name,
 * invalid UTF-8 in a text): the line then decides. */
static bool put_wire_str(struct dec *d, unsigned slot, unsigned wt, const uint8_t *s, size_t n)
{
	if (wt == ST_W_BYTES) {
		/* One code point per byte: UTF-8 of U+0000..U+00FF. */
		if ((size_t)(d->arena_end - d->arena) < 2 * n + 1)
			return false;
		char *start = d->arena, *o = d->arena;
		for (size_t i = 0; i < n; i++) {
			if (s[i] < 0x80) {
				*o++ = (char)s[i];
			} else {
				*o++ = (char)(0xc0 | s[i] >> 6);
				*o++ = (char)(0x80 | (s[i] & 0x3f));
			}
		}
		*o = '\0';
		d->f->v[slot] = (struct js_val){ .s = start, .len = (uint32_t)(o - start), .type = JS_STR };
		d->arena = o + 1;
		return true;
	}
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] == '"' || s[i] == '\\' || s[i] >= 0x80)
			goto careful;
	return put_str(d, slot, (const char *)s, n);
careful:
	if (wt == ST_W_NAME)
		return false;
	for (size_t i = 0; i < n;) {
		if (s[i] >= 0x80) {
			size_t u = jw_utf8_len(s + i, n - i);
			if (!u)
				return false;
			i += u;
		} else {
			i++;
		}
	}
	return put_str(d, slot, (const char *)s, n); /* text: escapes come back as they were */
}

static void put_int(struct dec *d, unsigned slot, int64_t v)
{
	d->f->v[slot] = (struct js_val){ .i = v, .type = JS_INT };
}

/* The fault object: rule, action, made. */
static bool fault_obj(struct dec *d)
{
	d->f->v[TF_FAULT].type = JS_OBJ;
	for (;;) {
		uint64_t tag, v;
		if (!st_get_varint(&d->p, d->end, &tag))
			return false;
		if (tag == ST_TAG_END)
			return true;
		unsigned wt = tag & 7, id = (unsigned)(tag >> 3);
		unsigned slot = id == ST_F_rule ? TF_FAULT_RULE : id == ST_F_action ? TF_FAULT_ACTION
			      : id == ST_F_made ? TF_FAULT_MADE : 0;
		if (slot == TF_FAULT_RULE && wt == ST_W_UINT) {
			/* A reference to the rule's text (definitions went through
			 * the printer: defines()). */
			const char *text;
			size_t len;
			if (!st_get_varint(&d->p, d->end, &v) || (v & 1) ||
			    !d->b->conv.str_lookup(d->b, v >> 1, &text, &len) ||
			    !put_wire_str(d, slot, ST_W_TEXT, (const uint8_t *)text, len))
				return false;
			continue;
		}
		if (!slot || (slot == TF_FAULT_MADE) != (wt == ST_W_BOOL) ||
		    (slot != TF_FAULT_MADE && wt != ST_W_NAME && wt != ST_W_TEXT)) {
			if (!st_tlv_skip(&d->p, d->end, wt))
				return false;
			continue;
		}
		if (wt == ST_W_BOOL) {
			if (!st_get_varint(&d->p, d->end, &v) || v > 1)
				return false;
			d->f->v[slot].type = v ? JS_TRUE : JS_FALSE;
			continue;
		}
		if (!st_get_varint(&d->p, d->end, &v) || v > (uint64_t)(d->end - d->p) ||
		    !put_wire_str(d, slot, wt, d->p, (size_t)v))
			return false;
		d->p += v;
	}
}

/* An array: its length, and its first elements into the slots after it
 * (fds: two ints; addrs: the first string). */
static bool array(struct dec *d, unsigned slot, unsigned keep)
{
	uint32_t len = 0;

	for (;;) {
		uint64_t tag, v;
		if (!st_get_varint(&d->p, d->end, &tag))
			return false;
		if (tag == ST_TAG_END)
			break;
		unsigned wt = tag & 7;
		if (tag >> 3)
			return false;
		if (len < keep && wt == ST_W_SINT) {
			if (!st_get_varint(&d->p, d->end, &v))
				return false;
			put_int(d, slot + 1 + len, st_unzigzag(v));
		} else if (len < keep && wt == ST_W_NAME) {
			if (!st_get_varint(&d->p, d->end, &v) || v > (uint64_t)(d->end - d->p) ||
			    !put_wire_str(d, slot + 1 + len, wt, d->p, (size_t)v))
				return false;
			d->p += v;
		} else if (len < keep) {
			return false; /* another shape: the line decides */
		} else if (!st_tlv_skip(&d->p, d->end, wt)) {
			return false;
		}
		len++;
	}
	d->f->v[slot] = (struct js_val){ .len = len, .type = JS_ARR };
	return true;
}

/* Whether the fields from p on define an endpoint or a string anywhere
 * (a stack's frames included): such a record goes through the printer,
 * which keeps the definitions for the records after it. */
static bool defines(const uint8_t *p, const uint8_t *end)
{
	while (p < end) {
		uint64_t tag, v;
		if (!st_get_varint(&p, end, &tag))
			return true; /* damaged: the printer says how */
		if (tag == ST_TAG_END)
			continue;
		unsigned wt = tag & 7;
		const struct st_field_info *fi = st_field_info((unsigned)(tag >> 3));
		if (wt >= ST_W_OBJ)
			continue; /* containers: their fields follow */
		if (wt <= ST_W_SINT || wt == ST_W_BOOL) {
			if (!st_get_varint(&p, end, &v))
				return true;
			if (wt == ST_W_UINT && fi && (fi->kind == ST_FK_EP || fi->kind == ST_FK_STR) &&
			    (v & 1))
				return true;
			continue;
		}
		if (!st_get_varint(&p, end, &v) || v > (uint64_t)(end - p))
			return true;
		p += v;
	}
	return false;
}

struct tr_fields *bin_call_fields(struct bin_file *b, const uint8_t *body, size_t n)
{
	/* Bytes double at most; names (calls, errnos, flags) are short. */
	size_t cap = 2 * n + 640;
	struct tr_fields *f;
	struct dec d;

	/* The slot of each field the fast path decodes, by id: those of
	 * trace_fields.c's schema. */
	const unsigned char *slot_of = tf_call_slots();

	if (n < 2 || body[0] != ST_K_CALL || !slot_of || defines(body + 1, body + n))
		return NULL;
	f = malloc(sizeof(*f) + cap);
	if (!f)
		return NULL;
	/* The slots absent; the arena is written before it is read. */
	memset(f->v, 0, sizeof(f->v));
	f->raw = NULL;
	f->raw_len = 0;
	d = (struct dec){ f, f->arena, f->arena + cap, body + 1, body + n, b };
	put_str(&d, TF_REC, "call", 4);
	while (d.p < d.end) {
		uint64_t tag, v;
		const uint8_t *s;
		if (!st_get_varint(&d.p, d.end, &tag) || tag == ST_TAG_END)
			goto refuse;
		unsigned wt = tag & 7, id = (unsigned)(tag >> 3);
		const struct st_field_info *fi = st_field_info(id);
		unsigned slot = id <= ST_FIELD_ID_MAX ? slot_of[id] : 0;
		if (fi && fi->kind == ST_FK_EP) {
			struct st_epdef e;
			if (wt != ST_W_UINT || !st_get_varint(&d.p, d.end, &v))
				goto refuse;
			if (!(v & 1)) {
				if (!b->conv.ep_lookup(b, v >> 1, &e))
					goto refuse; /* counted by the printer */
				if ((e.local_len && !put_wire_str(&d, TF_LOCAL, ST_W_NAME,
								  (const uint8_t *)e.local, e.local_len)) ||
				    (e.peer_len && !put_wire_str(&d, TF_PEER, ST_W_NAME,
								 (const uint8_t *)e.peer, e.peer_len)))
					goto refuse;
				continue;
			}
			/* A definition: the printer's walk keeps it. */
			goto refuse;
		}
		if (!slot || !fi) {
			if (!st_tlv_skip(&d.p, d.end, wt))
				goto refuse;
			continue;
		}
		if (wt == ST_W_OBJ) {
			if (slot == TF_FAULT ? !fault_obj(&d) : !st_tlv_skip(&d.p, d.end, wt))
				goto refuse;
			if (slot != TF_FAULT)
				f->v[slot].type = JS_OBJ;
			continue;
		}
		if (wt == ST_W_ARR) {
			if (!array(&d, slot, slot == TF_FDS ? 2 : slot == TF_ADDRS ? 1 : 0))
				goto refuse;
			continue;
		}
		if (wt == ST_W_UINT || wt == ST_W_SINT) {
			if (!st_get_varint(&d.p, d.end, &v))
				goto refuse;
			int64_t x = wt == ST_W_SINT ? st_unzigzag(v) : (int64_t)v;
			if (fi->kind == ST_FK_TIME) {
				if (wt != ST_W_SINT || __builtin_add_overflow(x, b->conv.base, &x) || x < 0)
					goto refuse;
				put_int(&d, slot, x);
			} else if (fi->kind == ST_FK_FN) {
				const struct st_call_info *ci = wt == ST_W_UINT && v < ST_FN_COUNT
									? st_call_info((enum st_fn)v) : NULL;
				if (!ci || !put_str(&d, slot, ci->name, strlen(ci->name)))
					goto refuse;
			} else if (fi->kind == ST_FK_ERRNO) {
				const char *name = x > 0 && x < 4096 ? st_errno_name((int)x) : NULL;
				if (!name)
					put_int(&d, slot, x); /* printed as the number */
				else if (!put_str(&d, slot, name, strlen(name)))
					goto refuse;
			} else if (fi->kind == ST_FK_MSGFLAGS) {
				char text[160];
				size_t k = st_msgflags_str(text, sizeof(text), (int)v);
				if (!put_str(&d, slot, text, k))
					goto refuse;
			} else if (fi->kind == ST_FK_PLAIN && (wt == ST_W_SINT || v <= INT64_MAX)) {
				put_int(&d, slot, x);
			} else {
				goto refuse;
			}
			continue;
		}
		if (wt == ST_W_BOOL) {
			if (!st_get_varint(&d.p, d.end, &v) || v > 1)
				goto refuse;
			f->v[slot].type = v ? JS_TRUE : JS_FALSE;
			continue;
		}
		if (!st_get_varint(&d.p, d.end, &v) || v > (uint64_t)(d.end - d.p))
			goto refuse;
		s = d.p;
		d.p += v;
		if (!put_wire_str(&d, slot, wt, s, (size_t)v))
			goto refuse;
	}
	return f;
refuse:
	free(f);
	return NULL;
}
