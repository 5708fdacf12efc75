/* race_canary: a planted data race, for tests/robust/run-tsan.sh to prove
 * that a ThreadSanitizer report fails its run (a check that cannot fail
 * proves nothing). Not part of any Meson suite.
 *
 * Two threads add to a plain global counter without a lock while making
 * socket calls through the shim; then prints "done". Built with
 * -fsanitize=thread, ThreadSanitizer must report the race on `counter`.
 */
#include <pthread.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

static long counter; /* the race: written by both threads, no lock */

static void *work(void *arg)
{
	int sv[2];
	char c;

	(void)arg;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		return NULL;
	for (int i = 0; i < 1000; i++) {
		counter++;
		if (send(sv[0], "x", 1, 0) != 1 || recv(sv[1], &c, 1, 0) != 1)
			break;
	}
	close(sv[0]);
	close(sv[1]);
	return NULL;
}

int main(void)
{
	pthread_t t[2];

	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, work, NULL);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	printf("counter %ld\ndone\n", counter);
	return 0;
}
