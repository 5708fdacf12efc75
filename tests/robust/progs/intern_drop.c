/* A dropped record defines nothing (docs/trace-format.md, "Binary
 * files": endpoints and strings are defined once, by the first record
 * that carries them, and referred to by id after).
 *
 * Under a file size limit below the writer's first segment, the shim
 * appends record by record, each only if it fits below the limit (less
 * 256 bytes kept for the end record): a long record is dropped while a
 * shorter one after it may still get in. This program watches its own
 * trace file grow and fills it, with sends of chosen lengths (their
 * payloads recorded), until the room left is a few bytes less than the
 * record of a connect, which defines the new socket's endpoints: that
 * connect is dropped, and the calls on the socket after it, shorter,
 * fit if they define the endpoints themselves, and easily if they were
 * to refer to the lost definition.
 *
 * Run traced, binary format, SOCKTRACE_PAYLOAD >= 64, under
 * `ulimit -f` of 8 to 60 KiB. Prints the descriptors and what became of
 * each call after the drop ("written N" or "dropped"), then "done".
 * Exits 0 when the connect was dropped with room left for shorter
 * records, 3 when the room could not be brought there, 2 on a setup
 * failure. */
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define END_ROOM 256 /* writer.c: APPEND_END_RESERVE */

static char trace_path[4096];
static long long limit;

static void die(const char *what)
{
	perror(what);
	exit(2);
}

/* The file this process traces into: SOCKTRACE_OUT/NAME.PID.trace. */
static void find_trace(void)
{
	const char *dir = getenv("SOCKTRACE_OUT");
	char suffix[64];
	struct dirent *de;
	DIR *d;

	if (!dir || !(d = opendir(dir)))
		die("SOCKTRACE_OUT");
	snprintf(suffix, sizeof(suffix), ".%d.trace", (int)getpid());
	while ((de = readdir(d))) {
		size_t n = strlen(de->d_name), k = strlen(suffix);
		if (n > k && strcmp(de->d_name + n - k, suffix) == 0) {
			snprintf(trace_path, sizeof(trace_path), "%s/%s", dir, de->d_name);
			closedir(d);
			return;
		}
	}
	fprintf(stderr, "no *%s in %s (a binary trace is needed)\n", suffix, dir);
	exit(2);
}

static long long size_now(void)
{
	struct stat st;

	if (stat(trace_path, &st) != 0)
		die(trace_path);
	return (long long)st.st_size;
}

/* Bytes a record may take now and still be written. */
static long long room(void)
{
	return limit - END_ROOM - size_now();
}

static int connect_to(const struct sockaddr_in *sa)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) != 0)
		die("connect");
	return fd;
}

/* What the last call's record did to the file. */
static void said(const char *what, int fd, long long before)
{
	long long grew = size_now() - before;
	if (grew)
		printf("%s %d: written %lld\n", what, fd, grew);
	else
		printf("%s %d: dropped\n", what, fd);
}

int main(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	struct rlimit rl;
	char buf[64], got[64];
	long long before, conn_len, send1;
	int lis, a, b, t, bt, c, bc;

	memset(buf, 'x', sizeof(buf));
	if (getrlimit(RLIMIT_FSIZE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) {
		fprintf(stderr, "run under ulimit -f\n");
		return 2;
	}
	limit = (long long)rl.rlim_cur;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lis = socket(AF_INET, SOCK_STREAM, 0);
	if (lis < 0 || bind(lis, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(lis, 8) != 0 ||
	    getsockname(lis, (struct sockaddr *)&sa, &len) != 0)
		die("listen");
	find_trace();
	/* A connection to fill the file with, and the lengths of the two
	 * records this depends on, measured: a connect (with its
	 * definition), and a one-byte send that refers to one. */
	a = connect_to(&sa);
	b = accept(lis, NULL, NULL);
	if (b < 0)
		die("accept");
	send(a, buf, 1, 0);
	before = size_now();
	send(a, buf, 1, 0);
	send1 = size_now() - before;
	t = socket(AF_INET, SOCK_STREAM, 0);
	before = size_now();
	if (t < 0 || connect(t, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		die("connect");
	conn_len = size_now() - before;
	bt = accept(lis, NULL, NULL);
	if (bt < 0 || send1 <= 0 || conn_len <= send1 + 20) {
		fprintf(stderr, "records of %lld and %lld bytes: not a binary trace?\n", send1, conn_len);
		return 2;
	}
	/* The socket whose connect is to be dropped. */
	c = socket(AF_INET, SOCK_STREAM, 0);
	if (c < 0)
		die("socket");
	/* Room down to a few bytes under a connect's record (lengths vary by
	 * a byte with the duration's varint): each send's own length is
	 * learnt as it goes. */
	long long target = conn_len - 5, r;
	while ((r = room()) > target) {
		long long gap = r - target, k;
		if (gap >= 2 * send1 + 59)
			k = 60;
		else if (gap >= 2 * send1)
			k = gap - 2 * send1 + 1;
		else if (gap >= send1)
			k = gap - send1 + 1;
		else
			break;
		before = size_now();
		if (send(a, buf, (size_t)k, 0) != k)
			die("send");
		long long used = size_now() - before;
		if (used <= 0) {
			fprintf(stderr, "a send of %lld bytes was dropped with %lld bytes of room\n", k, r);
			return 3;
		}
		send1 = used - (k - 1);
	}
	r = room();
	printf("fds a %d c %d; connect %lld bytes, send %lld; room %lld\n", a, c, conn_len, send1, r);
	if (r >= conn_len - 2 || r < send1 + 8) {
		fprintf(stderr, "room %lld: not between a send's %lld and a connect's %lld bytes\n", r,
			send1, conn_len);
		return 3;
	}
	before = size_now();
	if (connect(c, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		die("connect");
	if (size_now() != before) {
		printf("connect %d: written %lld\n", c, size_now() - before);
		return 3;
	}
	printf("connect %d: dropped\n", c);
	/* The calls after it, on its socket and on the server's side. */
	before = size_now();
	send(c, buf, 1, 0);
	said("send", c, before);
	before = size_now();
	bc = accept(lis, NULL, NULL);
	if (bc < 0)
		die("accept");
	said("accept", bc, before);
	before = size_now();
	recv(bc, got, 1, 0);
	said("recv", bc, before);
	before = size_now();
	send(c, buf, 1, 0);
	said("send", c, before);
	/* And on the first connection, whose endpoints the file has. */
	before = size_now();
	send(a, buf, 1, 0);
	said("send", a, before);
	close(c);
	close(bc);
	close(t);
	close(bt);
	printf("done\n");
	return 0;
}
