#include "util/oom.h"
#include "util/msg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Noreturn void oom_exit(void)
{
	fprintf(stderr, "%s: out of memory\n", msg_who());
	exit(1);
}

void *oom_check(void *p)
{
	if (!p)
		oom_exit();
	return p;
}

void *xmalloc(size_t size)
{
	return oom_check(malloc(size ? size : 1));
}

void *xcalloc(size_t n, size_t size)
{
	return oom_check(calloc(n ? n : 1, size ? size : 1));
}

void *xrealloc(void *p, size_t size)
{
	return oom_check(realloc(p, size ? size : 1));
}

char *xstrdup(const char *s)
{
	return oom_check(strdup(s ? s : ""));
}
