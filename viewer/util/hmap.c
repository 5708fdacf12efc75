/* Open addressing with linear probing and backward-shift deletion: no
 * tombstones, so lookups stay short however many keys come and go. */
#include "util/hmap.h"

#include "util/oom.h"

#include <stdlib.h>
#include <string.h>

static uint64_t hash_bytes(const void *key, size_t len)
{
	/* FNV-1a, then a final mix: keys here are short and often similar
	 * ("127.0.0.1:40855 ..."), and the table masks the low bits. */
	const unsigned char *p = key;
	uint64_t h = 1469598103934665603ULL;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 1099511628211ULL;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h;
}

static size_t find_slot(const struct hmap *m, const void *key, size_t klen, uint64_t h)
{
	size_t mask = m->cap - 1;
	size_t i = (size_t)h & mask;

	while (m->tab[i].key) {
		if (m->tab[i].hash == h && m->tab[i].klen == klen &&
		    memcmp(m->tab[i].key, key, klen) == 0)
			return i;
		i = (i + 1) & mask;
	}
	return i;
}

void *hmap_get(const struct hmap *m, const void *key, size_t klen)
{
	size_t i;

	if (m->cap == 0)
		return NULL;
	i = find_slot(m, key, klen, hash_bytes(key, klen));
	return m->tab[i].key ? m->tab[i].val : NULL;
}

static int grow(struct hmap *m)
{
	size_t ncap = m->cap ? m->cap * 2 : 16;
	struct hmap_ent *ntab = calloc(ncap, sizeof(*ntab));
	struct hmap old = *m;

	if (!ntab)
		return -1;
	m->tab = ntab;
	m->cap = ncap;
	for (size_t i = 0; i < old.cap; i++) {
		if (!old.tab[i].key)
			continue;
		size_t j = find_slot(m, old.tab[i].key, old.tab[i].klen, old.tab[i].hash);
		m->tab[j] = old.tab[i];
	}
	free(old.tab);
	return 0;
}

int hmap_put(struct hmap *m, const void *key, size_t klen, void *val)
{
	uint64_t h = hash_bytes(key, klen);
	size_t i;

	if ((m->len + 1) * 4 > m->cap * 3 && grow(m) != 0)
		return -1;
	i = find_slot(m, key, klen, h);
	if (m->tab[i].key) {
		m->tab[i].val = val;
		return 0;
	}
	m->tab[i].key = malloc(klen + 1);
	if (!m->tab[i].key)
		return -1;
	memcpy(m->tab[i].key, key, klen);
	m->tab[i].key[klen] = '\0';
	m->tab[i].klen = klen;
	m->tab[i].hash = h;
	m->tab[i].val = val;
	m->len++;
	return 0;
}

void *hmap_del(struct hmap *m, const void *key, size_t klen)
{
	size_t mask, i, j;
	void *val;

	if (m->cap == 0)
		return NULL;
	mask = m->cap - 1;
	i = find_slot(m, key, klen, hash_bytes(key, klen));
	if (!m->tab[i].key)
		return NULL;
	val = m->tab[i].val;
	free(m->tab[i].key);
	m->tab[i].key = NULL;
	m->len--;
	/* Shift back the entries of the run that follows into the hole. */
	j = i;
	for (;;) {
		j = (j + 1) & mask;
		if (!m->tab[j].key)
			break;
		size_t home = (size_t)m->tab[j].hash & mask;
		/* Entry j may move to i if its home is not in (i, j]. */
		if ((j > i && (home <= i || home > j)) || (j < i && (home <= i && home > j))) {
			m->tab[i] = m->tab[j];
			m->tab[j].key = NULL;
			i = j;
		}
	}
	return val;
}

const struct hmap_ent *hmap_next(const struct hmap *m, size_t *pos)
{
	while (*pos < m->cap) {
		const struct hmap_ent *e = &m->tab[(*pos)++];
		if (e->key)
			return e;
	}
	return NULL;
}

void hmap_free(struct hmap *m, void (*free_val)(void *))
{
	for (size_t i = 0; i < m->cap; i++) {
		if (!m->tab[i].key)
			continue;
		free(m->tab[i].key);
		if (free_val)
			free_val(m->tab[i].val);
	}
	free(m->tab);
	m->tab = NULL;
	m->cap = m->len = 0;
}

void hmap_count(struct hmap *m, const char *key)
{
	uintptr_t n = hmap_counted(m, key);

	if (hmap_put(m, key, strlen(key), (void *)(n + 1)) != 0)
		oom_exit();
}
