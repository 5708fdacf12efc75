/* stdio_client: a conversation over TCP on loopback made only with stdio
 * on the sockets, as git's upload-pack and many small servers do: the
 * bytes go through glibc's internal system calls, which no hook sees.
 *
 * Usage: stdio_client talk     client and server, both with stdio
 *        stdio_client threads  8 threads fprintf to one stream
 *        stdio_client exit     a child's stdout is the socket; it
 *                              printf()s and exits without a flush
 *        stdio_client broken   fflush to a peer that reset the
 *                              connection: prints the errno it got
 *
 * talk: the client (the parent) writes with fprintf and fputs to a
 * stream on the socket, flushes it (fflush), goes on with fwrite
 * (100,000 bytes), fputc, putc and putc_unlocked (inline: __overflow),
 * flushes every stream (fflush(NULL)), shuts its side down and reads the
 * reply with
 * fgets, getc_unlocked (inline: __uflow), fread and fgetc (end of file).
 * The server (a forked child) reads with fgets, getline and fread until
 * the end, then replies with fprintf and a 70,000-byte fwrite, and
 * closes both its streams with fclose.
 *
 * Each side prints what it counted: "client sent S received R" and
 * "server received N sent M" (sums computed by the program itself, the
 * numbers the trace must hold). Exits 1 on any failure.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define BIG_OUT 100000
#define BIG_BACK 70000
#define THREADS 8
#define LINES 500

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static int listener(struct sockaddr_in *a)
{
	socklen_t len = sizeof(*a);
	int l = socket(AF_INET, SOCK_STREAM, 0);

	memset(a, 0, sizeof(*a));
	a->sin_family = AF_INET;
	a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (l < 0 || bind(l, (struct sockaddr *)a, sizeof(*a)) < 0 || listen(l, 1) < 0 ||
	    getsockname(l, (struct sockaddr *)a, &len) < 0)
		die("listener");
	return l;
}

static int dial(const struct sockaddr_in *a)
{
	int c = socket(AF_INET, SOCK_STREAM, 0);

	if (c < 0 || connect(c, (const struct sockaddr *)a, sizeof(*a)) < 0)
		die("connect");
	return c;
}

static void fill(char *buf, size_t n, char seed)
{
	for (size_t i = 0; i < n; i++)
		buf[i] = (char)('a' + (seed + i * 7) % 26);
}

/* Reads everything up to the end of the stream: a line with fgets, one
 * with getline, the rest with fread. Returns the bytes read. */
static size_t drain(FILE *in)
{
	char line[256], block[8192];
	char *gl = NULL;
	size_t cap = 0, total = 0, n;
	ssize_t got;

	if (!fgets(line, sizeof(line), in))
		die("fgets");
	total += strlen(line);
	if ((got = getline(&gl, &cap, in)) < 0)
		die("getline");
	total += (size_t)got;
	free(gl);
	while ((n = fread(block, 1, sizeof(block), in)) > 0)
		total += n;
	if (ferror(in))
		die("fread");
	return total;
}

static int serve(int l)
{
	int s = accept(l, NULL, NULL);
	static char back[BIG_BACK];
	FILE *in, *out;
	size_t received;
	int sent;

	if (s < 0)
		die("accept");
	in = fdopen(s, "r");
	out = fdopen(dup(s), "w");
	if (!in || !out)
		die("fdopen");
	received = drain(in);
	fill(back, sizeof(back), 3);
	sent = fprintf(out, "got %zu\n", received);
	if (sent < 0 || fwrite(back, 1, sizeof(back), out) != sizeof(back))
		die("reply");
	sent += (int)sizeof(back);
	if (fclose(out) != 0 || fclose(in) != 0)
		die("fclose");
	printf("server received %zu sent %d\n", received, sent);
	return 0;
}

static int talk(void)
{
	struct sockaddr_in a;
	int l = listener(&a), c;
	static char big[BIG_OUT], back[BIG_BACK + 16];
	char line[256];
	FILE *out, *in;
	size_t sent = 0, received = 0;
	pid_t pid;
	int status, ch;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0)
		exit(serve(l));
	close(l);
	c = dial(&a);
	out = fdopen(c, "w");
	in = fdopen(dup(c), "r");
	if (!out || !in)
		die("fdopen");
	fill(big, sizeof(big), 1);
	int n = fprintf(out, "HELLO %d\n", 42);
	if (n < 0 || fputs("second line\n", out) < 0)
		die("fprintf");
	sent += (size_t)n + strlen("second line\n");
	if (fflush(out) != 0)
		die("fflush");
	if (fwrite(big, 10, BIG_OUT / 10, out) != BIG_OUT / 10)
		die("fwrite");
	sent += BIG_OUT;
	if (fputc('x', out) == EOF || putc('y', out) == EOF || putc_unlocked('z', out) == EOF)
		die("fputc");
	for (int i = 0; i < 5000; i++)
		if (putc_unlocked('0' + i % 10, out) == EOF)
			die("putc_unlocked");
	sent += 3 + 5000;
	if (fflush(NULL) != 0)
		die("fflush(NULL)");
	if (shutdown(c, SHUT_WR) < 0)
		die("shutdown");

	if (!fgets(line, sizeof(line), in))
		die("fgets");
	received += strlen(line);
	for (int i = 0; i < 100; i++) {
		if ((ch = getc_unlocked(in)) == EOF)
			die("getc_unlocked");
		received++;
	}
	received += fread(back, 1, sizeof(back), in);
	if ((ch = fgetc(in)) != EOF)
		die("fgetc: more than expected");
	if (fclose(in) != 0 || fclose(out) != 0)
		die("fclose");
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
		die("server");
	printf("client sent %zu received %zu\n", sent, received);
	return 0;
}

/* threads: each thread fprintf()s lines of its own length to the one
 * stream; the server (a thread) counts what arrives. */
static FILE *shared_out;

static void *writer(void *arg)
{
	long id = (long)arg;
	char pad[64];

	memset(pad, 'a' + (int)id, sizeof(pad));
	for (int i = 0; i < LINES; i++)
		if (fprintf(shared_out, "%ld %d %.*s\n", id, i, (int)(id * 5 + i % 7), pad) < 0)
			die("fprintf");
	return NULL;
}

static void *counter(void *arg)
{
	int s = accept(*(int *)arg, NULL, NULL);
	char buf[65536];
	size_t *total = calloc(1, sizeof(*total));
	ssize_t n;

	if (s < 0 || !total)
		die("accept");
	while ((n = recv(s, buf, sizeof(buf), 0)) > 0)
		*total += (size_t)n;
	close(s);
	return total;
}

static int threads(void)
{
	struct sockaddr_in a;
	int l = listener(&a);
	pthread_t srv, t[THREADS];
	void *total;

	if (pthread_create(&srv, NULL, counter, &l))
		die("pthread_create");
	shared_out = fdopen(dial(&a), "w");
	if (!shared_out)
		die("fdopen");
	for (long i = 0; i < THREADS; i++)
		if (pthread_create(&t[i], NULL, writer, (void *)i))
			die("pthread_create");
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	if (fclose(shared_out) != 0)
		die("fclose");
	pthread_join(srv, &total);
	printf("server received %zu\n", *(size_t *)total);
	return 0;
}

/* exit: the child's standard output is the socket; what it printf()s is
 * still buffered when it calls exit, and glibc flushes it after the
 * destructors ran. */
static int at_exit(void)
{
	struct sockaddr_in a;
	int l = listener(&a), s, status;
	char buf[4096];
	size_t total = 0;
	ssize_t n;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		int c = dial(&a);
		if (dup2(c, 1) < 0)
			die("dup2");
		close(c);
		printf("hello from %s\n", "the child");
		puts("and goodbye");
		putchar('!');
		exit(0);
	}
	if ((s = accept(l, NULL, NULL)) < 0)
		die("accept");
	while ((n = recv(s, buf, sizeof(buf), 0)) > 0)
		total += (size_t)n;
	close(s);
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
		die("child");
	printf("server received %zu\n", total);
	return 0;
}

/* broken: the peer resets the connection (SO_LINGER 0) before the
 * client's flush; the flush fails, as the trace must say. */
static int broken(void)
{
	struct sockaddr_in a;
	int l = listener(&a), c, s;
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	char buf[16];
	FILE *out;

	signal(SIGPIPE, SIG_IGN);
	c = dial(&a);
	if ((s = accept(l, NULL, NULL)) < 0 ||
	    setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) < 0)
		die("accept");
	close(s);
	/* Wait for the reset to arrive: a read sees it. */
	if (recv(c, buf, sizeof(buf), 0) >= 0)
		die("recv: no reset");
	out = fdopen(c, "w");
	if (!out)
		die("fdopen");
	fprintf(out, "too late\n");
	int ret = fflush(out);
	printf("fflush %d %s\n", ret, ret ? strerrorname_np(errno) : "-");
	fclose(out);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "talk") == 0)
		return talk();
	if (argc == 2 && strcmp(argv[1], "threads") == 0)
		return threads();
	if (argc == 2 && strcmp(argv[1], "exit") == 0)
		return at_exit();
	if (argc == 2 && strcmp(argv[1], "broken") == 0)
		return broken();
	fprintf(stderr, "usage: stdio_client talk|threads|exit|broken\n");
	return 2;
}
