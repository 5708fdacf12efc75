#include "recjson.h"

#include "calls.h"
#include "jsonw.h"
#include "names.h"

#include <socktrace/trace_format.h>

#include <stdio.h>

#define DEPTH_MAX 8

struct walk {
	struct jw *w;
	const uint8_t *p, *end;
	struct st_conv *cv;
	bool head_only;
	const char *why;
};

/* The head every record keeps when cut. */
static bool in_head(unsigned id)
{
	switch (id) {
	case ST_F_ts: case ST_F_dur: case ST_F_pid: case ST_F_tid: case ST_F_fn:
	case ST_F_via: case ST_F_fd: case ST_F_ret: case ST_F_errno:
		return true;
	}
	return false;
}

static bool bad(struct walk *k, const char *why)
{
	k->why = why;
	return false;
}

static bool get_len(struct walk *k, const uint8_t **s, size_t *n)
{
	uint64_t v;

	if (!st_get_varint(&k->p, k->end, &v) || v > (uint64_t)(k->end - k->p))
		return bad(k, "a string runs past the record");
	*s = k->p;
	*n = (size_t)v;
	k->p += v;
	return true;
}

static void put_hex(struct jw *w, uint64_t v)
{
	char buf[2 + 16];
	char digits[16];
	size_t n = 0;

	do {
		digits[n++] = "0123456789abcdef"[v & 15];
		v >>= 4;
	} while (v);
	buf[0] = '0';
	buf[1] = 'x';
	for (size_t i = 0; i < n; i++)
		buf[2 + i] = digits[n - 1 - i];
	jw_str_trusted(w, buf, n + 2);
}

/* Whether s is valid JSON string content as it stands: no control
 * characters, quotes only escaped, valid escapes, valid UTF-8. */
static bool json_content_ok(const uint8_t *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		uint8_t c = s[i];
		if (c < 0x20 || c == '"')
			return false;
		if (c == '\\') {
			if (i + 1 >= n)
				return false;
			c = s[i + 1];
			if (c == 'u') {
				if (i + 6 > n)
					return false;
				for (size_t h = i + 2; h < i + 6; h++)
					if (!((s[h] >= '0' && s[h] <= '9') || (s[h] >= 'a' && s[h] <= 'f') ||
					      (s[h] >= 'A' && s[h] <= 'F')))
						return false;
				i += 6;
			} else if (strchr("\"\\/bfnrt", c) && c) {
				i += 2;
			} else {
				return false;
			}
		} else if (c < 0x80) {
			i++;
		} else {
			size_t u = jw_utf8_len(s + i, n - i);
			if (!u)
				return false;
			i += u;
		}
	}
	return true;
}

/* Looks past an ep definition for the local and peer that follow it. */
static void define_ep(struct walk *k, uint64_t id)
{
	struct st_epdef d = { 0 };
	const uint8_t *q = k->p;

	for (int i = 0; i < 2; i++) {
		const uint8_t *save = q;
		uint64_t tag, len;
		if (!st_get_varint(&q, k->end, &tag) || (tag & 7) != ST_W_NAME ||
		    ((tag >> 3) != ST_F_local && (tag >> 3) != ST_F_peer) ||
		    !st_get_varint(&q, k->end, &len) || len > (uint64_t)(k->end - q)) {
			q = save;
			break;
		}
		if ((tag >> 3) == ST_F_local) {
			d.local = (const char *)q;
			d.local_len = (size_t)len;
		} else {
			d.peer = (const char *)q;
			d.peer_len = (size_t)len;
		}
		q += len;
	}
	if (k->cv->ep_define)
		k->cv->ep_define(k->cv->ctx, id, &d);
}

/* A string definition: the same field follows with the text. */
static void define_str(struct walk *k, unsigned field, uint64_t id)
{
	const uint8_t *q = k->p;
	uint64_t tag, len;

	if (!st_get_varint(&q, k->end, &tag) || (tag >> 3) != field ||
	    ((tag & 7) != ST_W_TEXT && (tag & 7) != ST_W_NAME) ||
	    !st_get_varint(&q, k->end, &len) || len > (uint64_t)(k->end - q))
		return;
	if (k->cv->str_define)
		k->cv->str_define(k->cv->ctx, id, (const char *)q, (size_t)len);
}

static void print_ep(struct walk *k, uint64_t id)
{
	struct st_epdef d;

	if (!k->cv->ep_lookup || !k->cv->ep_lookup(k->cv->ctx, id, &d)) {
		k->cv->unknown_eps++;
		return;
	}
	if (d.local_len) {
		jw_key(k->w, ST_FKEY(local));
		jw_str_trusted(k->w, d.local, d.local_len);
	}
	if (d.peer_len) {
		jw_key(k->w, ST_FKEY(peer));
		jw_str_trusted(k->w, d.peer, d.peer_len);
	}
}

/* A number field, as its kind prints it. */
static bool put_number(struct walk *k, const struct st_field_info *fi, unsigned wt, uint64_t raw)
{
	int64_t v = wt == ST_W_SINT ? st_unzigzag(raw) : (int64_t)raw;
	unsigned kind = fi ? fi->kind : ST_FK_PLAIN;

	switch (kind) {
	case ST_FK_TIME:
		if (wt != ST_W_SINT || __builtin_add_overflow(v, k->cv->base, &v) || v < 0)
			return bad(k, "a time out of range");
		jw_i64(k->w, v);
		return true;
	case ST_FK_FN: {
		const struct st_call_info *ci = raw < ST_FN_COUNT && wt == ST_W_UINT
							? st_call_info((enum st_fn)raw) : NULL;
		if (!ci)
			return bad(k, "an unknown call");
		jw_str_trusted(k->w, ci->name, strlen(ci->name));
		return true;
	}
	case ST_FK_ERRNO: {
		const char *name = v > 0 && v < 4096 ? st_errno_name((int)v) : NULL;
		if (name)
			jw_str_trusted(k->w, name, strlen(name));
		else
			jw_i64(k->w, v);
		return true;
	}
	case ST_FK_HEX:
		put_hex(k->w, raw);
		return true;
	case ST_FK_MSGFLAGS: {
		char text[160];
		size_t n = st_msgflags_str(text, sizeof(text), (int)raw);
		jw_str_trusted(k->w, text, n);
		return true;
	}
	}
	if (wt == ST_W_UINT)
		jw_u64(k->w, raw);
	else
		jw_i64(k->w, v);
	return true;
}

static bool walk(struct walk *k)
{
	bool in_arr[DEPTH_MAX];
	unsigned depth = 0;

	in_arr[0] = false;
	jw_obj_begin(k->w);
	jw_kv_name(k->w, ST_RKEY(call, rec), SOCKTRACE_REC_CALL);
	while (k->p < k->end) {
		uint64_t tag, v;
		const struct st_field_info *fi = NULL;
		const uint8_t *s;
		size_t n;

		if (!st_get_varint(&k->p, k->end, &tag))
			return bad(k, "a tag runs past the record");
		if (tag == ST_TAG_END) {
			if (depth == 0)
				return bad(k, "an end without a start");
			if (in_arr[depth])
				jw_arr_end(k->w);
			else
				jw_obj_end(k->w);
			depth--;
			continue;
		}
		unsigned wt = tag & 7;
		uint64_t id = tag >> 3;
		if (in_arr[depth]) {
			if (id != 0 || wt == ST_W_ARR)
				return bad(k, "an array element with a key");
		} else {
			fi = id ? st_field_info((unsigned)id) : NULL;
			if (!fi) {
				if (!id)
					return bad(k, "a field without a key");
				/* A newer shim's field. */
				if (!st_tlv_skip(&k->p, k->end, wt))
					return bad(k, "a field this reader does not know runs past the record");
				continue;
			}
			if (k->head_only && (depth > 0 || !in_head(fi->id)))
				break;
			if (fi->kind == ST_FK_STR && wt == ST_W_UINT) {
				if (!st_get_varint(&k->p, k->end, &v))
					return bad(k, "a malformed string reference");
				if (v & 1) {
					define_str(k, fi->id, v >> 1);
					continue; /* the text follows, printed as it is */
				}
				const char *text;
				size_t len;
				if (!k->cv->str_lookup || !k->cv->str_lookup(k->cv->ctx, v >> 1, &text, &len)) {
					k->cv->unknown_eps++;
					continue;
				}
				jw_key(k->w, fi->key);
				jw_str(k->w, text, len);
				continue;
			}
			if (fi->kind == ST_FK_EP) {
				if (wt != ST_W_UINT || !st_get_varint(&k->p, k->end, &v))
					return bad(k, "a malformed ep");
				if (v & 1)
					define_ep(k, v >> 1);
				else
					print_ep(k, v >> 1);
				continue;
			}
		}
		if (fi)
			jw_key(k->w, fi->key);
		else
			jw_elem(k->w);
		switch (wt) {
		case ST_W_UINT:
		case ST_W_SINT:
			if (!st_get_varint(&k->p, k->end, &v))
				return bad(k, "a number runs past the record");
			if (!put_number(k, fi, wt, v))
				return false;
			break;
		case ST_W_BOOL:
			if (!st_get_varint(&k->p, k->end, &v) || v > 1)
				return bad(k, "a malformed boolean");
			jw_bool(k->w, v);
			break;
		case ST_W_NAME:
		case ST_W_TEXT:
		case ST_W_BYTES:
			if (!get_len(k, &s, &n))
				return false;
			if (wt == ST_W_NAME) {
				/* Trusted as far as it is JSON string content: a
				 * damaged file's is printed escaped instead. */
				if (json_content_ok(s, n))
					jw_str_trusted(k->w, (const char *)s, n);
				else
					jw_str(k->w, (const char *)s, n);
			} else if (wt == ST_W_TEXT) {
				jw_str(k->w, (const char *)s, n);
			} else {
				jw_bytes(k->w, s, n);
			}
			break;
		case ST_W_OBJ:
		case ST_W_ARR:
			if (depth + 1 >= DEPTH_MAX)
				return bad(k, "objects nested too deep");
			depth++;
			in_arr[depth] = wt == ST_W_ARR;
			if (wt == ST_W_ARR)
				jw_arr_begin(k->w);
			else
				jw_obj_begin(k->w);
			break;
		}
	}
	if (depth != 0 && !k->head_only)
		return bad(k, "an object without its end");
	return true;
}

size_t st_call_json(char *out, size_t cap, const uint8_t *body, size_t n, struct st_conv *cv,
		    const char **why)
{
	struct jw w;
	struct walk k = { &w, body, body + n, cv, false, NULL };
	unsigned long eps = cv->unknown_eps;

	jw_init(&w, out, cap);
	if (!walk(&k)) {
		if (why)
			*why = k.why;
		return 0;
	}
	jw_obj_end(&w);
	jw_char(&w, '\n');
	if (!w.overflow)
		return jw_len(&w, out);
	/* Too long as JSON: its head, as the writer cuts a record that does
	 * not fit. */
	cv->unknown_eps = eps;
	jw_init(&w, out, cap);
	k = (struct walk){ &w, body, body + n, cv, true, NULL };
	walk(&k);
	jw_key(&w, ST_FKEY(cut));
	jw_bool(&w, true);
	jw_obj_end(&w);
	jw_char(&w, '\n');
	return w.overflow ? 0 : jw_len(&w, out);
}
