#include "framenames.h"

#include <string.h>

#define SLOTS 4096
/* Linear probing this far: two frames of one stack that hash alike keep
 * both their names (one slot each, before, lost one of them). */
#define PROBES 4

static struct {
	_Atomic uint32_t seq; /* odd while one writer fills the slot */
	_Atomic uintptr_t ip;
	uint32_t off;
	uint16_t module;
	_Atomic uint64_t tag;
	char func[ST_FRAME_FUNC_MAX];
} names[SLOTS];

static unsigned slot_of(uintptr_t ip)
{
	return (unsigned)((ip >> 2) ^ (ip >> 14)) & (SLOTS - 1);
}

static int find(uintptr_t ip)
{
	unsigned i = slot_of(ip);

	for (unsigned k = 0; k < PROBES; k++) {
		unsigned j = (i + k) & (SLOTS - 1);
		uintptr_t at = atomic_load_explicit(&names[j].ip, memory_order_relaxed);
		if (at == ip)
			return (int)j;
		if (at == 0)
			return -1; /* entries are never removed: it would be here */
	}
	return -1;
}

bool st_frame_known(uintptr_t ip)
{
	return ip && find(ip) >= 0;
}

void st_frame_remember(uintptr_t ip, const char *func, uint32_t off, unsigned module)
{
	unsigned i = slot_of(ip), j = i;

	if (!ip || find(ip) >= 0)
		return;
	for (unsigned k = 0; k < PROBES; k++) {
		unsigned t = (i + k) & (SLOTS - 1);
		if (atomic_load_explicit(&names[t].ip, memory_order_relaxed) == 0) {
			j = t;
			break;
		}
	}
	/* One writer per slot: a thread that finds it taken leaves this
	 * frame's name to a later call (the stack keeps the address). */
	uint32_t seq = atomic_load_explicit(&names[j].seq, memory_order_relaxed);
	if ((seq & 1) ||
	    !atomic_compare_exchange_strong_explicit(&names[j].seq, &seq, seq + 1,
						     memory_order_acquire, memory_order_relaxed))
		return;
	atomic_thread_fence(memory_order_release);
	atomic_store_explicit(&names[j].ip, ip, memory_order_relaxed);
	names[j].off = off;
	names[j].module = (uint16_t)module;
	size_t len = strnlen(func, ST_FRAME_FUNC_MAX - 1);
	memcpy(names[j].func, func, len);
	names[j].func[len] = '\0';
	atomic_store_explicit(&names[j].seq, seq + 2, memory_order_release);
}

bool st_frame_lookup(uintptr_t ip, struct st_frame_info *fi)
{
	int i = find(ip);

	if (i < 0)
		return false;
	uint32_t s1 = atomic_load_explicit(&names[i].seq, memory_order_acquire);
	if (s1 & 1 || atomic_load_explicit(&names[i].ip, memory_order_relaxed) != ip)
		return false;
	fi->module = names[i].module;
	fi->off = names[i].off;
	fi->seq = s1;
	fi->tag = &names[i].tag;
	memcpy(fi->func, names[i].func, sizeof(fi->func));
	fi->func[sizeof(fi->func) - 1] = '\0';
	/* The copy above must be complete before the number is read again. */
	atomic_thread_fence(memory_order_acquire);
	return atomic_load_explicit(&names[i].seq, memory_order_relaxed) == s1 &&
	       atomic_load_explicit(&names[i].ip, memory_order_relaxed) == ip;
}
