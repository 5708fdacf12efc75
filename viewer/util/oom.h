/* The tool's one policy when memory runs out: say so and exit 1. Traces
 * are read in bounded memory, so running out means the machine is out,
 * and there is nothing to save by limping on. */
#ifndef SOCKTRACE_OOM_H
#define SOCKTRACE_OOM_H

#include <stddef.h>

/* Exits with "socktrace: out of memory" unless p is not NULL; returns p. */
void *oom_check(void *p);
void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t size);
/* A copy of s ("" for NULL). */
char *xstrdup(const char *s);
/* The tool's exit on memory exhaustion (for allocators that report it
 * their own way, such as hmap_put). */
_Noreturn void oom_exit(void);

#endif
