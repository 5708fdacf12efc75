/* Call stacks of the program at a hooked call.
 *
 * The only module that knows libunwind. libunwind is loaded with
 * dlopen(RTLD_LOCAL) when stacks are first needed, never linked: its
 * _Unwind_* symbols must not replace the ones C++ programs use for their
 * exceptions, and programs that never ask for stacks never load it. */
#ifndef SOCKTRACE_STACK_H
#define SOCKTRACE_STACK_H

#include "recbuf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ST_STACK_MAX 64

struct st_stack {
	unsigned n;
	bool cut;                   /* stopped early: no unwind info, nested */
	uintptr_t ip[ST_STACK_MAX]; /* return addresses, innermost first */
};

/* Loads libunwind; false (with a message) when it is not there. */
bool st_stack_init(void);
bool st_stack_ready(void);
/* True while this thread is inside libunwind: descriptors made now are
 * libunwind's (its memory-validation pipe), not the program's. */
bool st_stack_unwinding(void);
/* Unwinds up to max frames of the program, from the caller of the
 * interposed function: the shim's own frames are left out. Never fails
 * the program: a frame without unwind info ends the stack. */
void st_stack_capture(struct st_stack *s, unsigned max);
/* "stack":[{"ip":..,"module":..,"offset":..,"func":..},...], within the
 * room left in w minus reserve. */
struct st_interns;
/* Module paths and function names once per file (intern.h), with in. */
void st_stack_rec(struct rb *b, struct st_interns *in, const struct st_stack *s,
		  size_t reserve);
/* Whether a frame's function matches func_glob (and, when module_glob is
 * not NULL, its module's file name matches module_glob). */
bool st_stack_has_caller(const struct st_stack *s, const char *module_glob,
			 const char *func_glob);

#endif
