/* retitle: overwrites its own argument and environment strings before
 * its first socket call, as programs that set their process title do
 * (they reuse that memory for the title). The shim must have copied its
 * settings and the arguments at start-up: the trace still goes where
 * SOCKTRACE_OUT said, with SOCKTRACE_PAYLOAD's payloads, and the header
 * shows the original arguments.
 *
 * Built twice (see meson.build): "retitle", and "early", which also links
 * early_ctor, a library whose constructor makes socket calls before the
 * shim's constructor has run.
 *
 * Usage: retitle ARG...
 * Prints "title set" once the memory is overwritten, then "done" ("early"
 * first prints "constructor ok" if the library's calls worked).
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

extern char **environ;

#ifdef WITH_EARLY_CTOR
int early_ctor_ok(void);
#endif

int main(int argc, char **argv)
{
	char buf[32];
	int sv[2];

#ifdef WITH_EARLY_CTOR
	printf("constructor %s\n", early_ctor_ok() ? "ok" : "failed");
#endif
	/* The strings are one block in memory: scribble over all of it. */
	for (int i = 0; i < argc; i++)
		memset(argv[i], 'x', strlen(argv[i]));
	for (char **e = environ; *e; e++)
		memset(*e, 'y', strlen(*e));
	printf("title set\n");
	fflush(stdout);

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		return 1;
	if (send(sv[0], "payload after retitle", 21, 0) != 21 ||
	    recv(sv[1], buf, sizeof(buf), 0) != 21)
		return 1;
	close(sv[0]);
	close(sv[1]);
	printf("done\n");
	return 0;
}
