/* A small hash map from byte-string keys to pointers, for the tables the
 * viewer keeps per process, socket and connection. Keys are copied; values
 * belong to the caller. */
#ifndef SOCKTRACE_HMAP_H
#define SOCKTRACE_HMAP_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct hmap_ent {
	char *key; /* NULL: empty slot; always followed by a NUL byte */
	size_t klen;
	uint64_t hash;
	void *val;
};

struct hmap {
	struct hmap_ent *tab;
	size_t cap; /* a power of two, or 0 */
	size_t len;
};

#define HMAP_INIT { NULL, 0, 0 }

void *hmap_get(const struct hmap *m, const void *key, size_t klen);
/* Inserts or replaces; returns 0, or -1 when out of memory. */
int hmap_put(struct hmap *m, const void *key, size_t klen, void *val);
/* Removes the key; returns its value, or NULL when absent. */
void *hmap_del(struct hmap *m, const void *key, size_t klen);
/* Iteration: start with *pos = 0; returns the next entry or NULL. The map
 * must not change while iterating. */
const struct hmap_ent *hmap_next(const struct hmap *m, size_t *pos);
/* Frees the table (and each value with free_val when not NULL). */
void hmap_free(struct hmap *m, void (*free_val)(void *));

static inline void *hmap_gets(const struct hmap *m, const char *key)
{
	return hmap_get(m, key, strlen(key));
}

/* A map of counts (the value is the count itself): adds one to the count
 * of the string key. Exits when memory runs out (util/oom.h). */
void hmap_count(struct hmap *m, const char *key);
/* The count of key (0: never counted). */
static inline uintptr_t hmap_counted(const struct hmap *m, const char *key)
{
	return (uintptr_t)hmap_gets(m, key);
}

#endif
