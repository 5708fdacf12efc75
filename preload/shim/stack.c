#include "stack.h"

#include "framenames.h"
#include "intern.h"

#include "log.h"
#include "shim.h"

#include <dlfcn.h>
#include <fnmatch.h>
#include <link.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#ifdef ST_HAVE_LIBUNWIND
#define UNW_LOCAL_ONLY
#include <libunwind.h>

#define STR2(x) #x
#define STR(x) STR2(x)

static struct {
	int (*getcontext)(unw_context_t *);
	int (*init_local)(unw_cursor_t *, unw_context_t *);
	int (*step)(unw_cursor_t *);
	int (*get_reg)(unw_cursor_t *, unw_regnum_t, unw_word_t *);
	int (*get_proc_name)(unw_cursor_t *, char *, size_t, unw_word_t *);
	int (*set_caching_policy)(unw_addr_space_t, unw_caching_policy_t);
	unw_addr_space_t *local_space;
	/* unw_backtrace: libunwind's fast trace (frames described once per
	 * thread, then followed without DWARF); NULL in a libunwind without it. */
	int (*backtrace)(void **, int);
} unw;
#endif

static _Atomic int ready; /* 0 not tried, 1 ready, 2 unavailable */
/* Unwinding takes locks inside libunwind and the dynamic loader; a fork in
 * the middle would leave them held in the child for ever. Unwinds hold
 * this for reading; the fork prepare handler takes it for writing, so a
 * fork waits for the unwinds in flight, and none starts meanwhile (a
 * thread that cannot get it records its stack as cut). */
static pthread_rwlock_t fork_guard;
static uintptr_t self_start, self_end;
/* A signal handler that interrupts this thread's own unwinding must not
 * unwind again through libunwind's per-thread state. */
static ST_TLS bool unwinding;

/* Modules, by load address: the paths are copied because a module can be
 * unloaded while its name is still needed. */
#define MODULES_MAX 256
static struct {
	/* Stored last, with release: a slot whose base reads 0 is still
	 * being filled, and its path is not to be read yet. */
	_Atomic uintptr_t base;
	_Atomic uint64_t tag; /* intern.h: the trace file's id for path */
	char path[224];
} modules[MODULES_MAX];
static _Atomic unsigned nmodules;

static int find_self(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size;
	(void)arg;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X) &&
		    (uintptr_t)find_self >= lo && (uintptr_t)find_self < lo + ph->p_memsz) {
			self_start = lo;
			self_end = lo + ph->p_memsz;
			return 1;
		}
	}
	return 0;
}

static void fork_prepare(void)
{
	pthread_rwlock_wrlock(&fork_guard);
}

static void fork_parent(void)
{
	pthread_rwlock_unlock(&fork_guard);
}

static void fork_child(void)
{
	/* Only this thread exists now, and no unwind is under way. */
	pthread_rwlock_init(&fork_guard, NULL);
}

bool st_stack_init(void)
{
#ifdef ST_HAVE_LIBUNWIND
	int expected = 0;
	void *h;

	if (!atomic_compare_exchange_strong(&ready, &expected, 2))
		return atomic_load(&ready) == 1;
	dl_iterate_phdr(find_self, NULL);
	h = dlopen("libunwind.so.8", RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		st_log("stacks are not recorded: cannot load libunwind.so.8 (install libunwind8)");
		return false;
	}
	/* dlsym returns void *; ISO C has no cast to a function pointer. */
#define BIND(field, sym) \
	do { \
		void *p = dlsym(h, sym); \
		memcpy(&unw.field, &p, sizeof(p)); \
		if (!p) { \
			st_log("stacks are not recorded: libunwind lacks %s", sym); \
			return false; \
		} \
	} while (0)
	BIND(getcontext, STR(unw_tdep_getcontext));
	BIND(init_local, STR(unw_init_local));
	BIND(step, STR(unw_step));
	BIND(get_reg, STR(unw_get_reg));
	BIND(get_proc_name, STR(unw_get_proc_name));
	BIND(set_caching_policy, STR(unw_set_caching_policy));
	BIND(local_space, STR(unw_local_addr_space));
#undef BIND
	/* Not under ThreadSanitizer: the fast trace's per-thread cache is
	 * freed by a thread-specific-data destructor that takes a mutex,
	 * which TSan's interceptor cannot take any more at that point of a
	 * thread's exit (a crash in __tsan::MutexPreLock). */
	if (!dlsym(RTLD_DEFAULT, "__tsan_init")) {
		void *p = dlsym(h, "unw_backtrace");
		memcpy(&unw.backtrace, &p, sizeof(p));
	}
	/* The global cache takes a lock; a per-thread one is safe to use
	 * from any thread and from signal handlers of other threads. */
	unwinding = true; /* libunwind's first call makes its pipe (pipe2 hook) */
	unw.set_caching_policy(*unw.local_space, UNW_CACHE_PER_THREAD);
	unwinding = false;
	pthread_rwlockattr_t attr;
	pthread_rwlockattr_init(&attr);
	pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&fork_guard, &attr);
	pthread_atfork(fork_prepare, fork_parent, fork_child);
	atomic_store(&ready, 1);
	return true;
#else
	st_log("stacks are not recorded: this libsocktrace was built without libunwind");
	atomic_store(&ready, 2);
	return false;
#endif
}

bool st_stack_unwinding(void)
{
	return unwinding;
}

bool st_stack_ready(void)
{
	return atomic_load_explicit(&ready, memory_order_relaxed) == 1;
}

static unsigned module_of(uintptr_t ip)
{
	Dl_info info;
	unsigned n = atomic_load(&nmodules);

	if (!dladdr((void *)ip, &info) || !info.dli_fbase)
		return UINT16_MAX;
	/* Two threads may add the same module at once: the first slot
	 * found serves, the other is never looked up again. */
	for (unsigned i = 0; i < n && i < MODULES_MAX; i++)
		if (atomic_load_explicit(&modules[i].base, memory_order_acquire) ==
		    (uintptr_t)info.dli_fbase)
			return i;
	unsigned slot = atomic_fetch_add(&nmodules, 1);
	if (slot >= MODULES_MAX) {
		atomic_store(&nmodules, MODULES_MAX);
		return UINT16_MAX;
	}
	/* The main program may be named as it was invoked ("./app", or ""):
	 * the absolute path from /proc/self/exe is what addr2line needs. */
	const char *path = info.dli_fname && info.dli_fname[0] == '/' ? info.dli_fname : st_shim.exe;
	size_t len = strnlen(path, sizeof(modules[slot].path) - 1);
	memcpy(modules[slot].path, path, len);
	modules[slot].path[len] = '\0';
	atomic_store_explicit(&modules[slot].base, (uintptr_t)info.dli_fbase,
			      memory_order_release);
	return slot;
}

#ifdef ST_HAVE_LIBUNWIND
static void remember(uintptr_t ip, unw_cursor_t *cursor)
{
	char func[ST_FRAME_FUNC_MAX];
	unw_word_t off = 0;

	if (st_frame_known(ip))
		return;
	if (unw.get_proc_name(cursor, func, sizeof(func), &off) != 0)
		func[0] = '\0';
	st_frame_remember(ip, func, (uint32_t)off, module_of(ip));
}
#endif

#ifdef ST_HAVE_LIBUNWIND
/* The stack through unw_backtrace, when every frame of it has been named
 * before: stepping frame by frame with unw_step costs a dl_iterate_phdr
 * under a blocked signal mask (two rt_sigprocmask calls) per frame, most
 * of the 6 us a stack of 8 took. A frame not named yet (its name needs
 * the cursor) sends the stack the slow way once. */
static bool fast_capture(struct st_stack *s, unsigned max)
{
	void *ips[ST_STACK_MAX + 16];
	int got;
	unsigned n = 0;

	if (!unw.backtrace)
		return false;
	got = unw.backtrace(ips, (int)(max + 16));
	if (got <= 0)
		return false;
	for (int k = 0; k < got && n < max; k++) {
		uintptr_t ip = (uintptr_t)ips[k];
		if (ip >= self_start && ip < self_end)
			continue; /* the shim's own frames are not the program's */
		if (!st_frame_known(ip))
			return false;
		s->ip[n++] = ip;
	}
	s->n = n;
	return true;
}
#endif

void st_stack_capture(struct st_stack *s, unsigned max)
{
	s->n = 0;
	s->cut = false;
	if (max > ST_STACK_MAX)
		max = ST_STACK_MAX;
#ifdef ST_HAVE_LIBUNWIND
	unw_context_t uc;
	unw_cursor_t cursor;

	if (!st_stack_ready() || unwinding || pthread_rwlock_tryrdlock(&fork_guard) != 0) {
		s->cut = true;
		return;
	}
	unwinding = true;
	if (fast_capture(s, max))
		goto out;
	if (unw.getcontext(&uc) != 0 || unw.init_local(&cursor, &uc) != 0) {
		s->cut = true;
		goto out;
	}
	while (s->n < max) {
		unw_word_t ip = 0;
		int rc = unw.step(&cursor);
		if (rc <= 0) {
			s->cut = rc < 0;
			break;
		}
		if (unw.get_reg(&cursor, UNW_REG_IP, &ip) != 0 || ip == 0)
			break;
		/* The shim's own frames are not the program's. */
		if (ip >= self_start && ip < self_end)
			continue;
		remember((uintptr_t)ip, &cursor);
		s->ip[s->n++] = (uintptr_t)ip;
	}
out:
	unwinding = false;
	pthread_rwlock_unlock(&fork_guard);
#else
	s->cut = true;
#endif
}

void st_stack_rec(struct rb *b, struct st_interns *in, const struct st_stack *s,
		  size_t reserve)
{
	unsigned shown = 0;

	rb_arr(b, ST_F_stack);
	for (unsigned k = 0; k < s->n; k++) {
		struct st_frame_info fi;
		bool known = st_frame_lookup(s->ip[k], &fi);
		bool in_module = known && fi.module < MODULES_MAX;
		const char *module = in_module ? modules[fi.module].path : "";
		_Atomic uint64_t *mtag = in_module ? &modules[fi.module].tag : NULL;
		uint32_t mid = in_module ? st_intern_id(in, mtag, 0) : 0;
		uint32_t fid = known && fi.func[0] ? st_intern_id(in, fi.tag, fi.seq) : 0;
		char func[sizeof(fi.func) + 24];
		size_t func_len = 0;

		/* The name is formatted only where the file does not have it. */
		if (known && fi.func[0] && !fid)
			func_len = (size_t)snprintf(func, sizeof(func), "%s+0x%x", fi.func, fi.off);
		if (func_len >= sizeof(func))
			func_len = sizeof(func) - 1;
		if ((size_t)(b->end - b->p) <
		    reserve + 5 * RB_SCALAR_MAX + (mid ? 0 : strlen(module)) + func_len)
			break;
		rb_obj(b, ST_F_NONE);
		rb_u64(b, ST_F_ip, s->ip[k]);
		if (in_module) {
			if (mid)
				st_intern_ref(b, ST_F_module, mid);
			else
				st_intern_def(b, in, ST_F_module, module, strlen(module), mtag, 0);
			/* The call instruction, not the return address: what
			 * addr2line needs to name the calling line. */
			rb_u64(b, ST_F_frame_offset, s->ip[k] - modules[fi.module].base - 1);
		}
		if (fid)
			st_intern_ref(b, ST_F_func, fid);
		else if (func_len)
			st_intern_def(b, in, ST_F_func, func, func_len, fi.tag, fi.seq);
		rb_end(b);
		shown++;
	}
	rb_end(b);
	if (shown < s->n || s->cut)
		rb_u64(b, ST_F_stack_cut, s->n - shown);
}

bool st_stack_has_caller(const struct st_stack *s, const char *module_glob,
			 const char *func_glob)
{
	for (unsigned k = 0; k < s->n; k++) {
		struct st_frame_info fi;
		if (!st_frame_lookup(s->ip[k], &fi) || !fi.func[0] ||
		    fnmatch(func_glob, fi.func, 0) != 0)
			continue;
		if (!module_glob)
			return true;
		if (fi.module >= MODULES_MAX)
			continue;
		const char *path = modules[fi.module].path;
		const char *base = strrchr(path, '/');
		if (fnmatch(module_glob, base ? base + 1 : path, 0) == 0)
			return true;
	}
	return false;
}
