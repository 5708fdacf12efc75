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

#include <stdlib.h>

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

static void jl_event(void *p, struct vev *ev)
{
	struct jsonl *s = p;
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
	.whole_records = true,
	.begin = jl_begin,
	.event = jl_event,
	.finish = jl_finish,
};
