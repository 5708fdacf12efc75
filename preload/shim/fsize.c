#include "fsize.h"

#include <errno.h>
#include <sys/resource.h>

uint64_t st_fsize_limit(void)
{
	struct rlimit rl;
	int saved = errno;
	uint64_t limit = UINT64_MAX;

	/* Asked each time: the program may change it (rarely, and never on
	 * a hot path of ours). */
	if (getrlimit(RLIMIT_FSIZE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		limit = (uint64_t)rl.rlim_cur;
	errno = saved;
	return limit;
}

bool st_fsize_allows(uint64_t end)
{
	return end <= st_fsize_limit();
}
