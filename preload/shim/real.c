#include "real.h"

#include "log.h"

#include <dlfcn.h>
#include <link.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REAL(ret, name, params) ret(*real_##name) params;
#include "real.def"
#undef REAL

/* Our own loaded segments: a real symbol found inside them would be one
 * of our hooks. One dl_iterate_phdr at start-up instead of a dladdr per
 * symbol (each dladdr walks every symbol table). */
static uintptr_t self_lo = UINTPTR_MAX, self_hi;

static int find_self(struct dl_phdr_info *info, size_t size, void *arg)
{
	uintptr_t lo = UINTPTR_MAX, hi = 0;
	bool ours = false;

	(void)size;
	(void)arg;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD)
			continue;
		uintptr_t start = info->dlpi_addr + ph->p_vaddr;
		uintptr_t end = start + ph->p_memsz;
		if (start < lo)
			lo = start;
		if (end > hi)
			hi = end;
		if ((uintptr_t)find_self >= start && (uintptr_t)find_self < end)
			ours = true;
	}
	if (!ours)
		return 0;
	self_lo = lo;
	self_hi = hi;
	return 1;
}

static void *bind_one(const char *name)
{
	void *sym = dlsym(RTLD_NEXT, name);

	if (sym && (uintptr_t)sym >= self_lo && (uintptr_t)sym < self_hi) {
		/* Calling it would call ourselves until the stack overflows:
		 * stop now with a message instead of a mysterious crash. */
		st_log_fatal_symbol(name);
		abort();
	}
	return sym;
}

void st_real_bind_all(void)
{
	dl_iterate_phdr(find_self, NULL);

	/* A symbol the libc lacks (closefrom before glibc 2.34) stays NULL;
	 * its hook answers ENOSYS, as an old libc would have. */
	/* memcpy: ISO C has no cast from object to function pointer. */
#define REAL(ret, name, params) \
	do { \
		void *sym = bind_one(#name); \
		memcpy(&real_##name, &sym, sizeof(sym)); \
	} while (0);
#include "real.def"
#undef REAL
}
