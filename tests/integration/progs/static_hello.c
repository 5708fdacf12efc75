/* Linked statically for the launcher's warning test: it calls no shared
 * libc, so the shim cannot see it. */
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

int main(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	printf("static socket %d\n", fd >= 0);
	close(fd);
	return 0;
}
