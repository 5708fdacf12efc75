/* Strings written once per trace file and referred to after (docs/
 * trace-format.md, "Binary files"): a stack's module paths and function
 * names. The object that holds a string keeps a tag saying under which id
 * the file has it, and in which version of the object; the tag is set
 * only once the record defining it has been written, so no record refers
 * to a definition a killed process did not finish copying. */
#ifndef SOCKTRACE_INTERN_H
#define SOCKTRACE_INTERN_H

#include "fdtable.h"
#include "recbuf.h"

#include <stdatomic.h>
#include <stdint.h>

#define ST_INTERN_PENDING 32

struct st_interns {
	struct st_ep_ids *ids; /* NULL: strings in full (jsonl, no file yet) */
	unsigned n;
	struct {
		_Atomic uint64_t *tag;
		uint64_t value;
	} pending[ST_INTERN_PENDING];
};

/* Whether the file has the string under tag, in version ver: its id, else 0. */
static inline uint32_t st_intern_id(const struct st_interns *in, _Atomic uint64_t *tag, uint32_t ver)
{
	uint64_t t;

	if (!in || !in->ids || !tag)
		return 0;
	t = atomic_load_explicit(tag, memory_order_relaxed);
	return t && (uint32_t)(t >> 32) == ver && (uint32_t)t >= in->ids->first ? (uint32_t)t : 0;
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
		uint32_t id = (uint32_t)atomic_fetch_add_explicit(in->ids->next, 1, memory_order_relaxed);
		uint8_t *before = b->p;
		rb_u64(b, f, (uint64_t)id << 1 | 1);
		rb_text(b, f, s, n);
		if (b->overflow) {
			b->p = before;
			return;
		}
		in->pending[in->n].tag = tag;
		in->pending[in->n].value = (uint64_t)ver << 32 | id;
		in->n++;
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
