#include "strbuf.h"

#include <stdarg.h>
#include <stdio.h>

void st_appendf(char *buf, size_t cap, size_t *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*o >= cap)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *o, cap - *o, fmt, ap);
	va_end(ap);
	if (n > 0)
		*o += (size_t)n < cap - *o ? (size_t)n : cap - *o - 1;
}
