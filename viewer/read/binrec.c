#include "read/binrec.h"

#include "fields.h"
#include "util/oom.h"

#include <stdlib.h>
#include <string.h>

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
	free(hmap_del(&b->eps, &id, sizeof(id)));
	if (hmap_put(&b->eps, &id, sizeof(id), e) != 0)
		oom_exit();
}

static bool ep_lookup(void *ctx, uint64_t id, struct st_epdef *d)
{
	struct bin_file *b = ctx;
	const struct bin_ep *e = hmap_get(&b->eps, &id, sizeof(id));

	if (!e)
		return false;
	d->local = e->text;
	d->local_len = e->local_len;
	d->peer = e->text + e->local_len;
	d->peer_len = e->peer_len;
	return true;
}

void bin_file_init(struct bin_file *b, int64_t base)
{
	memset(b, 0, sizeof(*b));
	b->conv.base = base;
	b->conv.ep_define = ep_define;
	b->conv.ep_lookup = ep_lookup;
	b->conv.ctx = b;
}

void bin_file_reset(struct bin_file *b)
{
	hmap_free(&b->eps, free);
	b->eps = (struct hmap)HMAP_INIT;
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
