/* early_ctor: a shared library whose constructor makes socket calls. It
 * is a dependency of the program, so the loader runs this constructor
 * before the preloaded shim's own: the shim's hooks must initialise on
 * first use, and take the program's arguments from the kernel, since
 * its constructor has not received them yet. Before its sockets it reads
 * a file with stdio, as libselinux's constructor reads /proc/filesystems
 * with getline (sed crashed there once: the shim's stdio hooks called a
 * real function not yet bound). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int early_ctor_ok(void);

static int ok;

__attribute__((constructor)) static void early_sockets(void)
{
	int sv[2];
	char *line = NULL, buf[64];
	size_t cap = 0;
	FILE *f = fopen("/proc/self/stat", "r");
	int lines_ok = 0;

	if (f) {
		lines_ok = getline(&line, &cap, f) > 0 && !fgets(buf, sizeof(buf), f) &&
			   fgetc(f) == EOF && fread(buf, 1, 1, f) == 0;
		lines_ok = fclose(f) == 0 && lines_ok;
		free(line);
	}
	if (lines_ok && socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) == 0) {
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
