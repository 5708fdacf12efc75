/* What a binary trace file writes once and refers to after (docs/
 * trace-format.md, "Binary files"): a socket's endpoints, a stack's module
 * paths and function names, the acting rule's texts. The object that
 * holds one keeps a tag saying under which id the file has it, and in
 * which version of the object (seq << 32 | id); the tag is set only once
 * the record defining it is in the file, so no record refers to a
 * definition a killed process did not finish copying, or the writer
 * dropped. */
#ifndef SOCKTRACE_INTERN_H
#define SOCKTRACE_INTERN_H

#include "recbuf.h"

#include <stdatomic.h>
#include <stdint.h>

/* The ids of one trace file: those from first on are defined in it; next
 * is the file's counter (shared with raw-clone children that write into
 * the same file). A fork child's file starts above every id its parent
 * gave out, so the tags its copied memory holds are not taken for its
 * own. */
struct st_intern_ids {
	uint32_t first;
	_Atomic uint64_t *next;
};

/* The id tag says the file has for version ver of its object, else 0. */
static inline uint32_t st_intern_valid(const struct st_intern_ids *ids, uint64_t tag, uint32_t ver)
{
	return ids && tag && (uint32_t)(tag >> 32) == ver && (uint32_t)tag >= ids->first
		       ? (uint32_t)tag : 0;
}

/* A new id of the file. */
static inline uint32_t st_intern_new_id(const struct st_intern_ids *ids)
{
	return (uint32_t)atomic_fetch_add_explicit(ids->next, 1, memory_order_relaxed);
}

#define ST_INTERN_PENDING 32

/* What one record defines, remembered once it is written. */
struct st_interns {
	const struct st_intern_ids *ids; /* NULL: everything in full (jsonl, no file yet) */
	unsigned n;
	struct {
		_Atomic uint64_t *tag;
		uint64_t value;
	} pending[ST_INTERN_PENDING];
};

/* Whether the file has the string under tag, in version ver: its id, else 0. */
static inline uint32_t st_intern_id(const struct st_interns *in, _Atomic uint64_t *tag, uint32_t ver)
{
	if (!in || !tag)
		return 0;
	return st_intern_valid(in->ids, atomic_load_explicit(tag, memory_order_relaxed), ver);
}

/* Remembers, once the record is written, that tag's object is id in
 * version ver; false when the record can remember no more. */
static inline bool st_intern_pending(struct st_interns *in, _Atomic uint64_t *tag, uint32_t ver,
				     uint32_t id)
{
	if (in->n >= ST_INTERN_PENDING)
		return false;
	in->pending[in->n].tag = tag;
	in->pending[in->n].value = (uint64_t)ver << 32 | id;
	in->n++;
	return true;
}

/* A reference to a string the file has (st_intern_id's id). */
static inline void st_intern_ref(struct rb *b, enum st_field f, uint32_t id)
{
	rb_u64(b, f, (uint64_t)id << 1);
}

/* The string s as field f: its definition under a new id when it can be
 * remembered, else the text alone. */
static inline void st_intern_def(struct rb *b, struct st_interns *in, enum st_field f,
				 const char *s, size_t n, _Atomic uint64_t *tag, uint32_t ver)
{
	if (in && in->ids && tag && in->n < ST_INTERN_PENDING) {
		uint32_t id = st_intern_new_id(in->ids);
		uint8_t *before = b->p;
		rb_u64(b, f, (uint64_t)id << 1 | 1);
		rb_text(b, f, s, n);
		if (b->overflow) {
			b->p = before;
			return;
		}
		st_intern_pending(in, tag, ver, id);
		return;
	}
	rb_text(b, f, s, n);
}

/* The record is in the file: later ones may refer to its definitions. */
static inline void st_interns_commit(struct st_interns *in)
{
	for (unsigned i = 0; i < in->n; i++)
		atomic_store_explicit(in->pending[i].tag, in->pending[i].value, memory_order_relaxed);
	in->n = 0;
}

#endif
