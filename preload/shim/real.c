#include "real.h"

#include "log.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REAL(ret, name, params) ret(*real_##name) params;
#include "real.def"
#undef REAL

/* Any object of ours tells dladdr which module we are. */
static const char self_anchor;

static void *our_base(void)
{
	Dl_info self;

	return dladdr(&self_anchor, &self) ? self.dli_fbase : NULL;
}

static void *bind_one(const char *name, void *base)
{
	void *sym = dlsym(RTLD_NEXT, name);
	Dl_info where;

	if (sym && base && dladdr(sym, &where) && where.dli_fbase == base) {
		/* Calling it would call ourselves until the stack overflows:
		 * stop now with a message instead of a mysterious crash. */
		st_log_fatal_symbol(name);
		abort();
	}
	return sym;
}

void st_real_bind_all(void)
{
	void *base = our_base();

	/* A symbol the libc lacks (closefrom before glibc 2.34) stays NULL;
	 * its hook answers ENOSYS, as an old libc would have. */
	/* memcpy: ISO C has no cast from object to function pointer. */
#define REAL(ret, name, params) \
	do { \
		void *sym = bind_one(#name, base); \
		memcpy(&real_##name, &sym, sizeof(sym)); \
	} while (0);
#include "real.def"
#undef REAL
}
