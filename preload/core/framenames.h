/* Function names of stack frames by instruction address: resolving one
 * reads symbol tables, so each address is resolved once and kept here.
 * Lock-free: one writer per slot at a time (a sequence number, odd while
 * it writes), any number of readers, who retry or give up on a torn copy. */
#ifndef SOCKTRACE_FRAMENAMES_H
#define SOCKTRACE_FRAMENAMES_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define ST_FRAME_FUNC_MAX 54

/* A copy of one address's entry. */
struct st_frame_info {
	unsigned module;
	uint32_t off;
	uint32_t seq; /* the slot's version the copy is of */
	_Atomic uint64_t *tag; /* intern.h: the trace file's id for "func+0xoff" at seq */
	char func[ST_FRAME_FUNC_MAX];
};

/* Whether ip has an entry (the stack's fast path: all frames named). */
bool st_frame_known(uintptr_t ip);
/* Records ip's name (empty when it has none) and module. Addresses that
 * hash alike take the next free of a few slots; when all are taken, the
 * first is replaced (a later call names the other again). */
void st_frame_remember(uintptr_t ip, const char *func, uint32_t off, unsigned module);
/* Copies ip's entry into fi; false when there is none or it changed
 * while being read. */
bool st_frame_lookup(uintptr_t ip, struct st_frame_info *fi);

#endif
