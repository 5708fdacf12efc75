/* jsonl: the merged stream, one record per line as the trace has it, with
 * what the pairing found added:
 *   "seq"   position in the merged stream (1, 2, ...)
 *   "prog"  the program (from its file's header)
 *   "conn"  connection id (the c3 of the other formats), "side" "client"
 *           or "server" ("sender"/"receiver" for datagrams)
 *   "link"  "connect", "data" or "close" for calls that pair across sides
 *   "off"   data: offset of its first byte in that direction's stream, so
 *           a send and the recv calls that read it have overlapping ranges
 *   "pair"  seqs of the earlier events it pairs with ("pair_more": how many
 *           more were not listed). The later of two paired events names
 *           the earlier, so the stream needs no look-ahead. */
#include "render/render.h"

#include "read/trace_fields.h"
#include "strbuf.h"

#include <stdlib.h>
#include <string.h>

struct jsonl {
	struct view_ctx *ctx;
	FILE *out;
};

static void *jl_begin(struct view_ctx *ctx)
{
	struct jsonl *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->ctx = ctx;
	s->out = ctx->o->out;
	return s;
}

static const char *link_name(enum vev_link l)
{
	switch (l) {
	case LINK_CONNECT:
		return "connect";
	case LINK_DATA:
		return "data";
	case LINK_CLOSE:
		return "close";
	default:
		return NULL;
	}
}

/* Whether text is printed by jansson (JSON_COMPACT | JSON_ENSURE_ASCII)
 * exactly as it stands: printable ASCII, and no escapes but those jansson
 * writes the same (\" \\ \n \r \t). The shim writes every other byte as
 * \u00XX, which jansson would write otherwise. */
static bool as_jansson_prints(const char *text, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)text[i];
		if (c < 0x20 || c >= 0x7f)
			return false;
		if (c == '\\') {
			if (i + 1 >= n || !strchr("\"\\nrt", text[i + 1]))
				return false;
			i++;
		}
	}
	return true;
}

/* The pairing's fields, after the record's own (see the top). */
static void add_fields(char *buf, size_t cap, size_t *o, const struct vev *ev)
{
	st_appendf(buf, cap, o, ",\"seq\":%llu,\"prog\":\"%s\"", (unsigned long long)ev->seq,
		   ev->file->prog);
	if (ev->conn)
		st_appendf(buf, cap, o, ",\"conn\":%d,\"side\":\"%s\"", (int)ev->conn->id,
			   conn_side_name(ev->conn, ev->side));
	if (link_name(ev->link)) {
		st_appendf(buf, cap, o, ",\"link\":\"%s\"%s", link_name(ev->link),
			   ev->out ? ",\"out\":true" : "");
	}
	if (ev->op == OP_CONNECT && ev->conn && ev->conn->kind == CONN_STREAM &&
	    conn_outcome(ev->conn) != OUT_UNKNOWN)
		st_appendf(buf, cap, o, ",\"outcome\":\"%s\"", conn_outcome_text(ev->conn));
	if (ev->off >= 0)
		st_appendf(buf, cap, o, ",\"off\":%lld", (long long)ev->off);
	if (ev->npartners) {
		size_t n = vev_nlinks(ev);
		st_appendf(buf, cap, o, ",\"pair\":[");
		for (size_t i = 0; i < n; i++)
			st_appendf(buf, cap, o, "%s%llu", i ? "," : "",
				   (unsigned long long)ev->partners[i].seq);
		st_appendf(buf, cap, o, "]");
		if (ev->npartners > n)
			st_appendf(buf, cap, o, ",\"pair_more\":%zu", ev->npartners - n);
	}
}

/* Longest line printed from its text; longer ones go through jansson. */
#define RAW_MAX 8192

static void jl_event(void *p, struct vev *ev)
{
	struct jsonl *s = p;
	const struct tr_fields *tf = ev->rec ? ev->rec->fields : NULL;

	/* The line as it came, with the pairing's fields added: what jansson
	 * would print of it, without parsing and printing it again. */
	if (tf && tf->raw && tf->raw_len > 1 && tf->raw_len <= RAW_MAX &&
	    tf->raw[tf->raw_len - 1] == '}' && as_jansson_prints(tf->raw, tf->raw_len) &&
	    as_jansson_prints(ev->file->prog, strlen(ev->file->prog)) &&
	    !strpbrk(ev->file->prog, "\\\"")) {
		char buf[RAW_MAX + 512];
		size_t o = tf->raw_len - 1;
		memcpy(buf, tf->raw, o);
		add_fields(buf, sizeof(buf) - 2, &o, ev);
		buf[o++] = '}';
		buf[o++] = '\n';
		fwrite(buf, 1, o, s->out);
		return;
	}
	json_t *j = vev_json(ev);
	/* The record is ours until the pass frees it. */
	json_object_set_new(j, "seq", json_integer((json_int_t)ev->seq));
	json_object_set_new(j, "prog", json_string(ev->file->prog));
	if (ev->conn) {
		json_object_set_new(j, "conn", json_integer(ev->conn->id));
		json_object_set_new(j, "side", json_string(conn_side_name(ev->conn, ev->side)));
	}
	if (link_name(ev->link)) {
		json_object_set_new(j, "link", json_string(link_name(ev->link)));
		/* The cause's end: the effects link back to it (pair). */
		if (ev->out)
			json_object_set_new(j, "out", json_true());
	}
	if (ev->op == OP_CONNECT && ev->conn && ev->conn->kind == CONN_STREAM &&
	    conn_outcome(ev->conn) != OUT_UNKNOWN)
		json_object_set_new(j, "outcome", json_string(conn_outcome_text(ev->conn)));
	if (ev->off >= 0)
		json_object_set_new(j, "off", json_integer(ev->off));
	if (ev->npartners) {
		json_t *a = json_array();
		size_t n = vev_nlinks(ev);
		for (size_t i = 0; i < n; i++)
			json_array_append_new(a, json_integer((json_int_t)ev->partners[i].seq));
		json_object_set_new(j, "pair", a);
		if (ev->npartners > n)
			json_object_set_new(j, "pair_more", json_integer((json_int_t)(ev->npartners - n)));
	}
	json_dumpf(j, s->out, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_PRESERVE_ORDER);
	fputc('\n', s->out);
}

static int jl_finish(void *p, bool draw)
{
	struct jsonl *s = p;
	int rc = draw && ferror(s->out) ? 1 : 0;

	free(s);
	return rc;
}

const struct renderer render_jsonl = {
	/* Lines kept (TR_LAZY): most records are printed from theirs. */
	.begin = jl_begin,
	.event = jl_event,
	.finish = jl_finish,
};
