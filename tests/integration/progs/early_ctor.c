/* early_ctor: a shared library whose constructor makes socket calls. It
 * is a dependency of the program, so the loader runs this constructor
 * before the preloaded shim's own: the shim's hooks must initialise on
 * first use, and take the program's arguments from the kernel, since
 * its constructor has not received them yet. */
#include <sys/socket.h>
#include <unistd.h>

int early_ctor_ok(void);

static int ok;

__attribute__((constructor)) static void early_sockets(void)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) == 0) {
		ok = send(sv[0], "ctor", 4, 0) == 4;
		close(sv[0]);
		close(sv[1]);
	}
}

/* The program calls this, or the linker (--as-needed) would drop a
 * library it uses nothing of, constructor and all. */
__attribute__((visibility("default"))) int early_ctor_ok(void)
{
	return ok;
}
