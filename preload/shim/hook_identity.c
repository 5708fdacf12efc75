/* A process that gives up its identity (nginx's and PostgreSQL's workers
 * become nobody or postgres after the fork) could no longer create its
 * trace file: the trace directory must belong to the user who writes in
 * it (writer.c, open_dir). So before the user changes, the file is made
 * under the identity the process still has; once open, it stays writable
 * whoever the process becomes. The call itself is not traced. */
#include "real.h"
#include "shim.h"
#include "writer.h"

#include <errno.h>
#include <unistd.h>

static void before_identity_change(void)
{
	int saved = errno;

	if (st_enter() && st_tracing_on() && !st_in_borrowed_memory())
		st_writer_map_ahead(0);
	errno = saved;
}

ST_EXPORT int setuid(uid_t uid)
{
	before_identity_change();
	return real_setuid(uid);
}

ST_EXPORT int seteuid(uid_t uid)
{
	before_identity_change();
	return real_seteuid(uid);
}

ST_EXPORT int setreuid(uid_t ruid, uid_t euid)
{
	before_identity_change();
	return real_setreuid(ruid, euid);
}

ST_EXPORT int setresuid(uid_t ruid, uid_t euid, uid_t suid)
{
	before_identity_change();
	return real_setresuid(ruid, euid, suid);
}
