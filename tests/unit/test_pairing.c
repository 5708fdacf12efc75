/* pairing: connections across processes, data by byte ranges, teardown,
 * datagrams, forked servers, IPv6, unix sockets and peers not traced. Each
 * test writes a small trace, reads it through the reader and the model as
 * `socktrace view` does, and checks what was paired with what. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "render/diagram.h"
#include "model/pairing.h"
#include "model/pipeline.h"
#include "trace_fixture.h"

/* A call record: ts, pid, fn, fd, ret, then more fields (",\"k\":v"). */
#define C(ts, pid, fn, fd, ret, more) \
	"{\"rec\":\"call\",\"ts\":" #ts ",\"dur\":0,\"pid\":" #pid ",\"tid\":" #pid \
	",\"fn\":\"" fn "\",\"fd\":" #fd ",\"ret\":" #ret more "}\n"
/* The same with a duration. */
#define CD(ts, dur, pid, fn, fd, ret, more) \
	"{\"rec\":\"call\",\"ts\":" #ts ",\"dur\":" #dur ",\"pid\":" #pid ",\"tid\":" #pid \
	",\"fn\":\"" fn "\",\"fd\":" #fd ",\"ret\":" #ret more "}\n"
/* A fork child's header: forked at ts. */
#define HDRF(pid, ppid, prog, ts) \
	"{\"rec\":\"header\",\"format\":\"socktrace\",\"version\":\"1.3\",\"tool\":\"t\"," \
	"\"pid\":" #pid ",\"ppid\":" #ppid ",\"uid\":0,\"prog\":\"" prog "\",\"exe\":\"/x\"," \
	"\"argv\":[],\"host\":\"h\",\"clock\":{\"mono\":0,\"real\":1000000000},\"start\":0," \
	"\"forked\":" #ts ",\"payload\":0}\n"
#define LP(l, p) ",\"local\":\"" l "\",\"peer\":\"" p "\""
#define B(n) ",\"bytes\":" #n
#define SOCK(type) ",\"family\":\"AF_INET\",\"type\":\"" type "\""

#define MAXEV 4096

struct got {
	uint64_t seq;
	int pid;
	char fn[24];
	uint32_t conn;
	int side;
	enum vev_link link;
	bool out;
	size_t np;
	uint64_t p[VEV_MAXP];
	int64_t off;
	struct arrow a;
	char label[160];
	bool error;
};

struct run {
	char *dir;
	struct pass pass;
	struct got ev[MAXEV];
	int n;
};

static void collect(void *p, struct vev *ev)
{
	struct run *r = p;
	struct got *g;

	assert_true(r->n < MAXEV);
	g = &r->ev[r->n++];
	memset(g, 0, sizeof(*g));
	g->seq = ev->seq;
	g->pid = ev->pid;
	snprintf(g->fn, sizeof(g->fn), "%s", ev->fn);
	g->conn = ev->conn ? ev->conn->id : 0;
	g->side = ev->side;
	g->link = ev->link;
	g->out = ev->out;
	g->np = ev->npartners;
	for (size_t i = 0; i < ev->npartners && i < VEV_MAXP; i++)
		g->p[i] = ev->partners[i].seq;
	g->off = ev->off;
	ev_arrow(ev, r->pass.model, &g->a);
	ev_label(ev, g->label, sizeof(g->label), 0);
	g->error = vev_is_error(ev);
	/* The causal order: every link names an earlier event. */
	for (size_t i = 0; i < g->np && i < VEV_MAXP; i++)
		assert_true(g->p[i] > 0 && g->p[i] < g->seq);
	assert_int_equal(g->seq, (uint64_t)r->n);
}

/* Writes the files (name, content, name, content, ..., NULL) and runs. */
static struct run *run(const char *name, ...)
{
	struct run *r = calloc(1, sizeof(*r));
	const char *paths[1];
	va_list ap;

	assert_non_null(r);
	r->dir = fixture_dir();
	va_start(ap, name);
	for (const char *n = name; n; n = va_arg(ap, const char *))
		fixture_write(r->dir, n, va_arg(ap, const char *), 0);
	va_end(ap);
	paths[0] = r->dir;
	assert_int_equal(pass_open(&r->pass, paths, 1, TR_QUIET), 0);
	assert_int_equal(pass_run(&r->pass, NULL, collect, r), 0);
	return r;
}

static void done(struct run *r)
{
	pass_close(&r->pass);
	fixture_rm(r->dir);
	free(r);
}

/* The nth (from 0) event of pid calling fn. */
static struct got *find(struct run *r, int pid, const char *fn, int nth)
{
	for (int i = 0; i < r->n; i++)
		if (r->ev[i].pid == pid && strcmp(r->ev[i].fn, fn) == 0 && nth-- == 0)
			return &r->ev[i];
	fail_msg("no %s #%d of pid %d", fn, nth, pid);
	return NULL;
}

static bool paired(const struct got *a, const struct got *b)
{
	for (size_t i = 0; i < a->np && i < VEV_MAXP; i++)
		if (a->p[i] == b->seq)
			return true;
	for (size_t i = 0; i < b->np && i < VEV_MAXP; i++)
		if (b->p[i] == a->seq)
			return true;
	return false;
}

static const struct conn *conn_of(struct run *r, const struct got *g)
{
	assert_true(g->conn > 0);
	return model_conn(r->pass.model, g->conn - 1);
}

#define SRV "127.0.0.1:7000"
#define CLI "127.0.0.1:40000"

static const char server_trace[] =
	HDR(10, 1, "server")
	C(100, 10, "socket", 3, 3, SOCK("SOCK_STREAM"))
	C(110, 10, "bind", 3, 0, ",\"addr\":\"" SRV "\",\"local\":\"" SRV "\"")
	C(120, 10, "listen", 3, 0, ",\"local\":\"" SRV "\"")
	C(310, 10, "accept4", 3, 4, LP(SRV, CLI))
	C(330, 10, "recv", 4, 5, B(5) LP(SRV, CLI))
	C(340, 10, "send", 4, 9, B(9) LP(SRV, CLI))
	C(400, 10, "close", 4, 0, LP(SRV, CLI));

static const char client_trace[] =
	HDR(20, 1, "client")
	C(200, 20, "socket", 3, 3, SOCK("SOCK_STREAM"))
	C(300, 20, "connect", 3, 0, ",\"addr\":\"" SRV "\"" LP(CLI, SRV))
	C(320, 20, "send", 3, 5, B(5) LP(CLI, SRV))
	C(350, 20, "recv", 3, 4, B(4) LP(CLI, SRV))
	C(360, 20, "recv", 3, 5, B(5) LP(CLI, SRV))
	C(410, 20, "recv", 3, 0, B(0) LP(CLI, SRV))
	C(420, 20, "close", 3, 0, LP(CLI, SRV));

static void tcp_two_processes(void **state)
{
	struct run *r = run("server.10.jsonl", server_trace, "client.20.jsonl", client_trace, NULL);
	struct got *acc = find(r, 10, "accept4", 0), *con = find(r, 20, "connect", 0);

	(void)state;
	assert_true(paired(acc, con));
	assert_int_equal(acc->conn, con->conn);
	assert_int_equal(con->side, 0);
	assert_int_equal(acc->side, 1);
	assert_int_equal(acc->link, LINK_CONNECT);
	/* 5 bytes up; 9 bytes down, read as 4 + 5. */
	assert_true(paired(find(r, 20, "send", 0), find(r, 10, "recv", 0)));
	struct got *down = find(r, 10, "send", 0);
	struct got *r1 = find(r, 20, "recv", 0), *r2 = find(r, 20, "recv", 1);
	assert_true(paired(down, r1));
	assert_true(paired(down, r2));
	assert_int_equal(r1->off, 0);
	assert_int_equal(r2->off, 4);
	assert_true(r1->out == false && down->out == true);
	/* The server's close is the client's EOF. */
	struct got *eof = find(r, 20, "recv", 2);
	assert_int_equal(eof->link, LINK_CLOSE);
	assert_true(paired(eof, find(r, 10, "close", 0)));
	const struct conn *c = conn_of(r, acc);
	char end[64];
	assert_string_equal(conn_end_text(c, end, sizeof(end)), "server closed first (client read EOF)");
	assert_int_equal(conn_bytes(c, 0, NULL), 5);
	assert_int_equal(conn_bytes(c, 1, NULL), 9);
	assert_int_equal(model_nconns(r->pass.model), 1);
	/* Both ends traced: no arrow to a remote endpoint. */
	arrow_final(&con->a, conn_final(c), c->fail);
	assert_int_equal(con->a.kind, AR_NONE);
	done(r);
}

static void recv_returns_before_send(void **state)
{
	/* On loopback the receiver may return before the sender does: the
	 * output puts the send first (the causal order), and the recv, the
	 * effect, links back to it. */
	static const char a[] = HDR(10, 1, "a")
		C(100, 10, "accept", 3, 4, LP(SRV, CLI))
		C(200, 10, "recv", 4, 3, B(3) LP(SRV, CLI));
	static const char b[] = HDR(20, 1, "b")
		C(90, 20, "connect", 3, 0, LP(CLI, SRV))
		C(210, 20, "send", 3, 3, B(3) LP(CLI, SRV));
	struct run *r = run("a.10.jsonl", a, "b.20.jsonl", b, NULL);
	struct got *send = find(r, 20, "send", 0), *recv = find(r, 10, "recv", 0);

	(void)state;
	assert_true(send->seq < recv->seq);
	assert_true(paired(send, recv));
	assert_int_equal(recv->np, 1);
	assert_int_equal(recv->p[0], send->seq);
	assert_true(send->out);
	assert_true(paired(find(r, 20, "connect", 0), find(r, 10, "accept", 0)));
	done(r);
}

/* The kernel's copies: sendfile is a send; splice a send or a receive as
 * its "dir" says, and nothing the model can place without one. */
static void sendfile_and_splice(void **state)
{
	static const char srv[] = HDR(10, 1, "server")
		C(100, 10, "accept", 3, 4, LP(SRV, CLI))
		C(200, 10, "recv", 4, 6, B(6) LP(SRV, CLI))
		C(300, 10, "sendfile64", 4, 100, ",\"in_fd\":5,\"offset\":0" B(100) LP(SRV, CLI))
		C(310, 10, "splice", 4, 50, ",\"dir\":\"out\",\"fd_in\":6" B(50) LP(SRV, CLI))
		C(320, 10, "splice", 4, 7, ",\"fd_in\":6" B(7) LP(SRV, CLI));
	static const char cli[] = HDR(20, 1, "client")
		C(90, 20, "connect", 3, 0, LP(CLI, SRV))
		C(190, 20, "splice", 3, 6, ",\"dir\":\"out\",\"fd_in\":7" B(6) LP(CLI, SRV))
		C(400, 20, "splice", 3, 120, ",\"dir\":\"in\",\"fd_out\":8" B(120) LP(CLI, SRV))
		C(410, 20, "recv", 3, 30, B(30) LP(CLI, SRV));
	struct run *r = run("server.10.jsonl", srv, "client.20.jsonl", cli, NULL);
	struct got *file = find(r, 10, "sendfile64", 0), *out = find(r, 10, "splice", 0);
	struct got *nodir = find(r, 10, "splice", 1);
	struct got *up = find(r, 20, "splice", 0), *in = find(r, 20, "splice", 1);
	struct got *tail = find(r, 20, "recv", 0);

	(void)state;
	assert_true(paired(up, find(r, 10, "recv", 0)));
	assert_true(up->out);
	assert_int_equal(file->link, LINK_DATA);
	assert_true(file->out);
	assert_true(in->out == false && in->link == LINK_DATA);
	/* 100 bytes by sendfile and 50 by splice, read as 120 + 30. */
	assert_true(paired(file, in));
	assert_true(paired(out, in));
	assert_true(paired(out, tail));
	assert_int_equal(in->off, 0);
	assert_int_equal(tail->off, 120);
	/* Which way the last splice went, its record does not say. */
	assert_int_equal(nodir->link, LINK_NONE);
	const struct conn *c = conn_of(r, file);
	assert_int_equal(conn_bytes(c, 0, NULL), 6);
	assert_int_equal(conn_bytes(c, 1, NULL), 150);
	done(r);
}

static void three_processes_through_a_proxy(void **state)
{
	static const char cli[] = HDR(20, 1, "client")
		C(100, 20, "connect", 3, 0, LP("127.0.0.1:40000", "127.0.0.1:8080"))
		C(110, 20, "send", 3, 4, B(4) LP("127.0.0.1:40000", "127.0.0.1:8080"));
	static const char proxy[] = HDR(30, 1, "proxy")
		C(50, 30, "listen", 3, 0, ",\"local\":\"127.0.0.1:8080\"")
		C(105, 30, "accept", 3, 4, LP("127.0.0.1:8080", "127.0.0.1:40000"))
		C(120, 30, "recv", 4, 4, B(4) LP("127.0.0.1:8080", "127.0.0.1:40000"))
		C(130, 30, "connect", 5, 0, LP("127.0.0.1:40001", "127.0.0.1:9090"))
		C(140, 30, "send", 5, 4, B(4) LP("127.0.0.1:40001", "127.0.0.1:9090"));
	static const char srv[] = HDR(40, 1, "server")
		C(60, 40, "listen", 3, 0, ",\"local\":\"127.0.0.1:9090\"")
		C(135, 40, "accept", 3, 7, LP("127.0.0.1:9090", "127.0.0.1:40001"))
		C(150, 40, "recv", 7, 4, B(4) LP("127.0.0.1:9090", "127.0.0.1:40001"));
	struct run *r = run("client.20.jsonl", cli, "proxy.30.jsonl", proxy, "server.40.jsonl",
			    srv, NULL);

	(void)state;
	assert_int_equal(model_nconns(r->pass.model), 2);
	assert_true(paired(find(r, 20, "connect", 0), find(r, 30, "accept", 0)));
	assert_true(paired(find(r, 30, "connect", 0), find(r, 40, "accept", 0)));
	assert_true(paired(find(r, 20, "send", 0), find(r, 30, "recv", 0)));
	assert_true(paired(find(r, 30, "send", 0), find(r, 40, "recv", 0)));
	assert_int_not_equal(find(r, 30, "recv", 0)->conn, find(r, 30, "send", 0)->conn);
	/* The proxy is the server of one connection and the client of the other. */
	assert_int_equal(find(r, 30, "accept", 0)->side, 1);
	assert_int_equal(find(r, 30, "connect", 0)->side, 0);
	done(r);
}

static void fork_per_connection_server(void **state)
{
	/* The parent accepts, forks, closes its copy; the child serves. */
	static const char parent[] = HDR(10, 1, "srv")
		C(50, 10, "listen", 3, 0, ",\"local\":\"" SRV "\"")
		C(100, 10, "accept", 3, 4, LP(SRV, CLI))
		C(120, 10, "close", 4, 0, LP(SRV, CLI));
	static const char child[] = HDR(11, 10, "srv")
		C(130, 11, "recv", 4, 2, B(2) LP(SRV, CLI))
		C(140, 11, "send", 4, 2, B(2) LP(SRV, CLI))
		C(160, 11, "close", 4, 0, LP(SRV, CLI));
	static const char client[] = HDR(20, 1, "cli")
		C(90, 20, "connect", 3, 0, LP(CLI, SRV))
		C(110, 20, "send", 3, 2, B(2) LP(CLI, SRV))
		C(150, 20, "recv", 3, 2, B(2) LP(CLI, SRV))
		/* returns before the child's close does: its EOF waits */
		C(155, 20, "recv", 3, 0, B(0) LP(CLI, SRV));
	struct run *r = run("srv.10.jsonl", parent, "srv.11.jsonl", child, "cli.20.jsonl", client,
			    NULL);
	struct got *eof = find(r, 20, "recv", 1);
	struct got *child_close = find(r, 11, "close", 0);

	(void)state;
	assert_int_equal(model_nconns(r->pass.model), 1);
	assert_true(paired(find(r, 20, "send", 0), find(r, 11, "recv", 0)));
	assert_true(paired(find(r, 11, "send", 0), find(r, 20, "recv", 0)));
	assert_int_equal(find(r, 11, "recv", 0)->side, 1);
	/* Not the parent's close, which more data followed. */
	assert_false(paired(eof, find(r, 10, "close", 0)));
	assert_true(paired(eof, child_close));
	assert_true(child_close->out);
	/* The child serves what its parent accepted: a server too. */
	assert_string_equal(model_role(r->pass.model, 11), "server");
	assert_string_equal(model_role(r->pass.model, 10), "server");
	assert_string_equal(model_role(r->pass.model, 20), "client");
	done(r);
}

/* Issue #7, as Python's ForkingTCPServer, socat's fork and inetd do it:
 * the client sends and shuts its side down; the parent accepts, forks,
 * and closes its copy only then; the child reads it all afterwards and
 * answers. The parent's close ends nothing: every byte is paired. */
static void fork_server_parent_closes_after_client_shutdown(void **state)
{
	static const char parent[] = HDR(10, 1, "srv")
		C(50, 10, "listen", 3, 0, ",\"local\":\"" SRV "\"")
		C(100, 10, "accept", 3, 4, LP(SRV, CLI))
		C(130, 10, "close", 4, 0, LP(SRV, CLI));
	static const char child[] = HDR(11, 10, "srv")
		C(105, 11, "close", 3, 0, ",\"local\":\"" SRV "\"")
		C(140, 11, "recv", 4, 3, B(3) LP(SRV, CLI))
		C(150, 11, "recv", 4, 2, B(2) LP(SRV, CLI))
		C(160, 11, "recv", 4, 0, B(0) LP(SRV, CLI))
		C(170, 11, "send", 4, 4, B(4) LP(SRV, CLI))
		C(190, 11, "close", 4, 0, LP(SRV, CLI));
	static const char client[] = HDR(20, 1, "cli")
		C(90, 20, "connect", 3, 0, LP(CLI, SRV))
		C(110, 20, "send", 3, 5, B(5) LP(CLI, SRV))
		C(120, 20, "shutdown", 3, 0, ",\"how\":\"SHUT_WR\"" LP(CLI, SRV))
		C(200, 20, "recv", 3, 4, B(4) LP(CLI, SRV))
		C(210, 20, "recv", 3, 0, B(0) LP(CLI, SRV))
		C(220, 20, "close", 3, 0, LP(CLI, SRV));
	struct run *r = run("srv.10.jsonl", parent, "srv.11.jsonl", child, "cli.20.jsonl", client,
			    NULL);
	struct got *up = find(r, 20, "send", 0), *parent_close = find(r, 10, "close", 0);

	(void)state;
	assert_int_equal(model_nconns(r->pass.model), 1);
	assert_true(paired(up, find(r, 11, "recv", 0)));
	assert_true(paired(up, find(r, 11, "recv", 1)));
	assert_true(paired(find(r, 11, "send", 0), find(r, 20, "recv", 0)));
	/* The client's shutdown is the child's EOF; the child's close, not the
	 * parent's, is the client's. */
	assert_true(paired(find(r, 11, "recv", 2), find(r, 20, "shutdown", 0)));
	assert_true(paired(find(r, 20, "recv", 1), find(r, 11, "close", 1)));
	assert_int_equal(parent_close->link, LINK_NONE);
	assert_int_equal(parent_close->np, 0);
	assert_int_equal(conn_of(r, up)->side[1].fin->ref.seq, find(r, 11, "close", 1)->seq);
	done(r);
}

/* The child answers, shuts down and closes before the client has read
 * the answer, the client having only shut down its sending side: the
 * connection is not over, the answer is still paired. */
static void fork_server_child_closes_before_client_reads(void **state)
{
	static const char parent[] = HDR(10, 1, "srv")
		C(50, 10, "listen", 3, 0, ",\"local\":\"" SRV "\"")
		C(100, 10, "accept", 3, 4, LP(SRV, CLI))
		C(105, 10, "close", 4, 0, LP(SRV, CLI));
	static const char child[] = HDR(11, 10, "srv")
		C(120, 11, "recv", 4, 5, B(5) LP(SRV, CLI))
		C(125, 11, "recv", 4, 0, B(0) LP(SRV, CLI))
		C(130, 11, "send", 4, 4, B(4) LP(SRV, CLI))
		C(135, 11, "shutdown", 4, 0, ",\"how\":\"SHUT_WR\"" LP(SRV, CLI))
		C(140, 11, "close", 4, 0, LP(SRV, CLI));
	static const char client[] = HDR(20, 1, "cli")
		C(90, 20, "connect", 3, 0, LP(CLI, SRV))
		C(110, 20, "send", 3, 5, B(5) LP(CLI, SRV))
		C(115, 20, "shutdown", 3, 0, ",\"how\":\"SHUT_WR\"" LP(CLI, SRV))
		C(150, 20, "recv", 3, 4, B(4) LP(CLI, SRV))
		C(155, 20, "recv", 3, 0, B(0) LP(CLI, SRV))
		C(160, 20, "close", 3, 0, LP(CLI, SRV));
	struct run *r = run("srv.10.jsonl", parent, "srv.11.jsonl", child, "cli.20.jsonl", client,
			    NULL);

	(void)state;
	assert_true(paired(find(r, 20, "send", 0), find(r, 11, "recv", 0)));
	assert_true(paired(find(r, 11, "send", 0), find(r, 20, "recv", 0)));
	/* The FIN went with the shutdown; the close after it sends nothing. */
	assert_true(paired(find(r, 20, "recv", 1), find(r, 11, "shutdown", 0)));
	assert_false(paired(find(r, 20, "recv", 1), find(r, 11, "close", 0)));
	done(r);
}

/* A client that sends and closes at once, before the forking server's
 * parent closes its copy: the child still reads what it sent. */
static void fork_server_client_gone_first(void **state)
{
	static const char parent[] = HDR(10, 1, "srv")
		C(50, 10, "listen", 3, 0, ",\"local\":\"" SRV "\"")
		C(100, 10, "accept", 3, 4, LP(SRV, CLI))
		C(130, 10, "close", 4, 0, LP(SRV, CLI));
	static const char child[] = HDR(11, 10, "srv")
		C(140, 11, "recv", 4, 6, B(6) LP(SRV, CLI))
		C(150, 11, "recv", 4, 0, B(0) LP(SRV, CLI))
		C(160, 11, "close", 4, 0, LP(SRV, CLI));
	static const char client[] = HDR(20, 1, "cli")
		C(90, 20, "connect", 3, 0, LP(CLI, SRV))
		C(110, 20, "send", 3, 6, B(6) LP(CLI, SRV))
		C(120, 20, "close", 3, 0, LP(CLI, SRV));
	struct run *r = run("srv.10.jsonl", parent, "srv.11.jsonl", child, "cli.20.jsonl", client,
			    NULL);

	(void)state;
	assert_true(paired(find(r, 20, "send", 0), find(r, 11, "recv", 0)));
	assert_true(paired(find(r, 11, "recv", 1), find(r, 20, "close", 0)));
	done(r);
}

/* Children that began before the connection existed cannot have it: the
 * server's own close is the end, and the client's EOF pairs with it. */
static void earlier_children_do_not_hold(void **state)
{
	static const char parent[] = HDR(10, 1, "srv")
		C(50, 10, "listen", 3, 0, ",\"local\":\"" SRV "\"")
		C(100, 10, "accept", 3, 4, LP(SRV, CLI))
		C(120, 10, "close", 4, 0, LP(SRV, CLI));
	static const char worker[] = HDR(11, 10, "srv")
		C(60, 11, "socket", 5, 5, SOCK("SOCK_DGRAM"))
		C(200, 11, "close", 5, 0, "");
	static const char client[] = HDR(20, 1, "cli")
		C(90, 20, "connect", 3, 0, LP(CLI, SRV))
		C(130, 20, "recv", 3, 0, B(0) LP(CLI, SRV));
	struct run *r = run("srv.10.jsonl", parent, "srv.11.jsonl", worker, "cli.20.jsonl", client,
			    NULL);

	(void)state;
	assert_true(paired(find(r, 20, "recv", 0), find(r, 10, "close", 0)));
	done(r);
}

/* A descriptor dup'ed, then closed: the socket stays open under the copy,
 * whose close is the end. */
static void close_of_a_dup_is_not_the_end(void **state)
{
	static const char srv[] = HDR(10, 1, "srv")
		C(100, 10, "accept", 3, 4, LP(SRV, CLI))
		C(110, 10, "dup", 4, 5, LP(SRV, CLI))
		C(120, 10, "close", 4, 0, LP(SRV, CLI))
		C(140, 10, "close", 5, 0, LP(SRV, CLI));
	static const char cli[] = HDR(20, 1, "cli")
		C(90, 20, "connect", 3, 0, LP(CLI, SRV))
		C(130, 20, "recv", 3, 0, B(0) LP(CLI, SRV));
	struct run *r = run("srv.10.jsonl", srv, "cli.20.jsonl", cli, NULL);
	struct got *eof = find(r, 20, "recv", 0);

	(void)state;
	assert_false(paired(eof, find(r, 10, "close", 0)));
	assert_true(paired(eof, find(r, 10, "close", 1)));
	done(r);
}

/* socat writes 256 KiB in 8 KiB calls before its peer reads anything: a
 * sender far ahead of its receiver keeps its calls paired. */
static void sender_far_ahead(void **state)
{
	enum { CALLS = 48 };
	char *cli = malloc(64 * 1024), *srv = malloc(64 * 1024);
	size_t nc = 0, ns = 0;
	struct run *r;

	(void)state;
	assert_non_null(cli);
	assert_non_null(srv);
	nc += (size_t)snprintf(cli + nc, 4096, "%s", HDR(20, 1, "cli") C(90, 20, "connect", 3, 0, LP(CLI, SRV)));
	ns += (size_t)snprintf(srv + ns, 4096, "%s", HDR(10, 1, "srv") C(100, 10, "accept", 3, 4, LP(SRV, CLI)));
	for (int i = 0; i < CALLS; i++) {
		nc += (size_t)snprintf(cli + nc, 512,
				       "{\"rec\":\"call\",\"ts\":%d,\"pid\":20,\"fn\":\"write\",\"fd\":3,"
				       "\"ret\":8192,\"bytes\":8192" LP(CLI, SRV) "}\n", 200 + i);
		ns += (size_t)snprintf(srv + ns, 512,
				       "{\"rec\":\"call\",\"ts\":%d,\"pid\":10,\"fn\":\"read\",\"fd\":4,"
				       "\"ret\":8192,\"bytes\":8192" LP(SRV, CLI) "}\n", 1000 + i);
	}
	r = run("srv.10.jsonl", srv, "cli.20.jsonl", cli, NULL);
	for (int i = 0; i < CALLS; i++)
		assert_true(paired(find(r, 20, "write", i), find(r, 10, "read", i)));
	done(r);
	free(cli);
	free(srv);
}

static void fork_inherits_unix_socketpair(void **state)
{
	static const char parent[] = HDR(10, 1, "p")
		C(100, 10, "socketpair", -1, 0, ",\"family\":\"AF_UNIX\",\"type\":\"SOCK_STREAM\",\"fds\":[3,4]")
		C(200, 10, "recv", 3, 6, B(6) LP("unix:", "unix:"));
	static const char child[] = HDR(11, 10, "p")
		C(150, 11, "send", 4, 6, B(6) LP("unix:", "unix:"));
	struct run *r = run("p.10.jsonl", parent, "p.11.jsonl", child, NULL);

	(void)state;
	assert_true(paired(find(r, 11, "send", 0), find(r, 10, "recv", 0)));
	assert_int_equal(find(r, 11, "send", 0)->side, 1);
	assert_int_equal(find(r, 10, "recv", 0)->side, 0);
	done(r);
}

static void udp_exchange(void **state)
{
	/* Unconnected sockets: the client bound to any address, the server
	 * sees the client's real one. */
	static const char srv[] = HDR(10, 1, "udp_server")
		C(10, 10, "socket", 3, 3, SOCK("SOCK_DGRAM"))
		C(20, 10, "bind", 3, 0, ",\"addr\":\"0.0.0.0:5353\",\"local\":\"0.0.0.0:5353\"")
		C(200, 10, "recvfrom", 3, 7, B(7) ",\"addr\":\"127.0.0.1:41000\",\"local\":\"0.0.0.0:5353\"")
		C(210, 10, "sendto", 3, 3, B(3) ",\"addr\":\"127.0.0.1:41000\",\"local\":\"0.0.0.0:5353\"");
	static const char cli[] = HDR(20, 1, "udp_client")
		C(100, 20, "socket", 5, 5, SOCK("SOCK_DGRAM"))
		C(150, 20, "sendto", 5, 7, B(7) ",\"addr\":\"127.0.0.1:5353\",\"local\":\"0.0.0.0:41000\"")
		C(160, 20, "sendto", 5, 7, B(7) ",\"addr\":\"127.0.0.1:5353\",\"local\":\"0.0.0.0:41000\"")
		C(220, 20, "recvfrom", 5, 3, B(3) ",\"addr\":\"127.0.0.1:5353\",\"local\":\"0.0.0.0:41000\"");
	struct run *r = run("s.10.jsonl", srv, "c.20.jsonl", cli, NULL);

	(void)state;
	assert_int_equal(model_nconns(r->pass.model), 1);
	assert_true(paired(find(r, 20, "sendto", 0), find(r, 10, "recvfrom", 0)));
	assert_true(paired(find(r, 10, "sendto", 0), find(r, 20, "recvfrom", 0)));
	/* The second datagram was never received. */
	assert_int_equal(find(r, 20, "sendto", 1)->np, 0);
	const struct conn *c = conn_of(r, find(r, 20, "sendto", 0));
	assert_int_equal(c->kind, CONN_DGRAM);
	assert_string_equal(conn_proto(c), "udp");
	int64_t msgs;
	assert_int_equal(conn_bytes(c, 0, &msgs), 14);
	assert_int_equal(msgs, 2);
	done(r);
}

static void unpaired_peer(void **state)
{
	static const char cli[] = HDR(20, 1, "curl")
		C(100, 20, "connect", 5, -1, ",\"errno\":\"EINPROGRESS\",\"addr\":\"93.184.216.34:80\""
					     LP("10.0.0.2:50000", "93.184.216.34:80"))
		C(110, 20, "send", 5, 78, B(78) LP("10.0.0.2:50000", "93.184.216.34:80"))
		C(120, 20, "recv", 5, 400, B(400) LP("10.0.0.2:50000", "93.184.216.34:80"))
		C(130, 20, "close", 5, 0, LP("10.0.0.2:50000", "93.184.216.34:80"))
		C(200, 20, "connect", 6, -1, ",\"errno\":\"ECONNREFUSED\",\"addr\":\"127.0.0.1:9\"");
	struct run *r = run("curl.20.jsonl", cli, NULL);
	struct got *send = find(r, 20, "send", 0);
	const struct conn *c = conn_of(r, send);
	char end[64];

	(void)state;
	assert_false(c->side[1].seen);
	arrow_final(&send->a, conn_final(c), c->fail);
	assert_int_equal(send->a.kind, AR_DATA);
	assert_true(send->a.out);
	assert_int_equal(send->a.pid, 0);
	assert_string_equal(send->a.remote, "93.184.216.34:80");
	struct got *recv = find(r, 20, "recv", 0);
	arrow_final(&recv->a, conn_final(c), c->fail);
	assert_false(recv->a.out);
	assert_string_equal(recv->a.text, "c1 400 B");
	assert_int_equal(conn_bytes(c, 1, NULL), 400);
	/* The refused one. */
	struct got *bad = find(r, 20, "connect", 1);
	const struct conn *rc = conn_of(r, bad);
	arrow_final(&bad->a, conn_final(rc), rc->fail);
	assert_int_equal(bad->a.kind, AR_FAIL);
	assert_string_equal(bad->a.remote, "127.0.0.1:9");
	assert_string_equal(conn_end_text(rc, end, sizeof(end)), "refused (ECONNREFUSED)");
	done(r);
}

static void ipv6_and_v4_mapped(void **state)
{
	/* A dual-stack server sees its IPv4 client as ::ffff:127.0.0.1. */
	static const char srv[] = HDR(10, 1, "srv6")
		C(50, 10, "listen", 3, 0, ",\"local\":\"[::]:7000\"")
		C(100, 10, "accept", 3, 4, LP("[::ffff:127.0.0.1]:7000", "[::ffff:127.0.0.1]:40000"))
		C(120, 10, "recv", 4, 1, B(1) LP("[::ffff:127.0.0.1]:7000", "[::ffff:127.0.0.1]:40000"))
		C(200, 10, "accept", 3, 5, LP("[::1]:7000", "[::1]:40002"))
		C(220, 10, "recv", 5, 2, B(2) LP("[::1]:7000", "[::1]:40002"));
	static const char cli[] = HDR(20, 1, "cli4")
		C(90, 20, "connect", 3, 0, LP("127.0.0.1:40000", "127.0.0.1:7000"))
		C(110, 20, "send", 3, 1, B(1) LP("127.0.0.1:40000", "127.0.0.1:7000"))
		C(190, 20, "connect", 4, 0, LP("[::1]:40002", "[::1]:7000"))
		C(210, 20, "send", 4, 2, B(2) LP("[::1]:40002", "[::1]:7000"));
	struct run *r = run("srv6.10.jsonl", srv, "cli4.20.jsonl", cli, NULL);

	(void)state;
	assert_int_equal(model_nconns(r->pass.model), 2);
	assert_true(paired(find(r, 20, "connect", 0), find(r, 10, "accept", 0)));
	assert_true(paired(find(r, 20, "send", 0), find(r, 10, "recv", 0)));
	assert_true(paired(find(r, 20, "connect", 1), find(r, 10, "accept", 1)));
	assert_true(paired(find(r, 20, "send", 1), find(r, 10, "recv", 1)));
	assert_string_equal(conn_proto(conn_of(r, find(r, 20, "send", 1))), "tcp6");
	/* The listener on [::]:7000 also answers for 127.0.0.1:7000. */
	assert_int_equal(model_listener(r->pass.model, "127.0.0.1:7000"), 10);
	done(r);
}

static void unix_sockets(void **state)
{
	/* Two clients on one path: unnamed client sockets all look alike, so
	 * connects and accepts pair in order, data by descriptor. */
	static const char srv[] = HDR(10, 1, "usrv")
		C(50, 10, "listen", 3, 0, ",\"local\":\"unix:/run/s.sock\"")
		C(100, 10, "accept", 3, 4, LP("unix:/run/s.sock", "unix:"))
		C(110, 10, "accept", 3, 5, LP("unix:/run/s.sock", "unix:"))
		C(200, 10, "recv", 5, 2, B(2) LP("unix:/run/s.sock", "unix:"))
		C(210, 10, "recv", 4, 1, B(1) LP("unix:/run/s.sock", "unix:"));
	static const char c1[] = HDR(20, 1, "c1")
		C(90, 20, "connect", 3, 0, ",\"addr\":\"unix:/run/s.sock\"" LP("unix:", "unix:/run/s.sock"))
		C(150, 20, "send", 3, 1, B(1) LP("unix:", "unix:/run/s.sock"));
	static const char c2[] = HDR(30, 1, "c2")
		C(105, 30, "connect", 7, 0, ",\"addr\":\"unix:/run/s.sock\"" LP("unix:", "unix:/run/s.sock"))
		C(140, 30, "send", 7, 2, B(2) LP("unix:", "unix:/run/s.sock"));
	struct run *r = run("usrv.10.jsonl", srv, "c1.20.jsonl", c1, "c2.30.jsonl", c2, NULL);

	(void)state;
	assert_int_equal(model_nconns(r->pass.model), 2);
	assert_true(paired(find(r, 20, "connect", 0), find(r, 10, "accept", 0)));
	assert_true(paired(find(r, 30, "connect", 0), find(r, 10, "accept", 1)));
	assert_true(paired(find(r, 30, "send", 0), find(r, 10, "recv", 0)));
	assert_true(paired(find(r, 20, "send", 0), find(r, 10, "recv", 1)));
	assert_string_equal(conn_proto(conn_of(r, find(r, 20, "send", 0))), "unix");
	done(r);
}

static void reset_and_reuse(void **state)
{
	static const char srv[] = HDR(10, 1, "srv")
		C(100, 10, "accept", 3, 4, LP(SRV, CLI))
		C(110, 10, "close", 4, 0, LP(SRV, CLI))
		/* the same pair of addresses again, a new connection */
		C(300, 10, "accept", 3, 4, LP(SRV, CLI))
		C(310, 10, "recv", 4, 1, B(1) LP(SRV, CLI));
	static const char cli[] = HDR(20, 1, "cli")
		C(90, 20, "connect", 3, 0, LP(CLI, SRV))
		C(120, 20, "recv", 3, -1, ",\"errno\":\"ECONNRESET\"" LP(CLI, SRV))
		C(130, 20, "close", 3, 0, LP(CLI, SRV))
		C(290, 20, "connect", 3, 0, LP(CLI, SRV))
		C(305, 20, "send", 3, 1, B(1) LP(CLI, SRV));
	struct run *r = run("srv.10.jsonl", srv, "cli.20.jsonl", cli, NULL);
	struct got *rst = find(r, 20, "recv", 0);
	char end[64];

	(void)state;
	assert_int_equal(model_nconns(r->pass.model), 2);
	assert_int_equal(rst->link, LINK_CLOSE);
	assert_true(paired(rst, find(r, 10, "close", 0)));
	assert_string_equal(conn_end_text(conn_of(r, rst), end, sizeof(end)), "reset by server");
	assert_true(paired(find(r, 20, "connect", 1), find(r, 10, "accept", 1)));
	assert_true(paired(find(r, 20, "send", 0), find(r, 10, "recv", 0)));
	assert_int_not_equal(find(r, 20, "send", 0)->conn, rst->conn);
	done(r);
}

static void exec_keeps_the_process(void **state)
{
	/* One pid, two images: env exec'd the server. One process, named by
	 * the image that made the calls. */
	static const char env[] = HDR(10, 1, "env")
		"{\"rec\":\"exec\",\"ts\":50,\"pid\":10,\"tid\":10,\"path\":\"/bin/srv\"}\n"
		"{\"rec\":\"end\",\"ts\":51,\"pid\":10,\"reason\":\"exec\",\"dropped\":0}\n";
	static const char srv[] = HDR(10, 1, "srv")
		C(60, 10, "listen", 3, 0, ",\"local\":\"" SRV "\"")
		C(100, 10, "accept", 3, 4, LP(SRV, CLI));
	static const char cli[] = HDR(20, 1, "cli")
		C(90, 20, "connect", 3, 0, LP(CLI, SRV));
	struct run *r = run("env.10.jsonl", env, "srv.10-2.jsonl", srv, "cli.20.jsonl", cli, NULL);

	(void)state;
	assert_string_equal(model_prog(r->pass.model, 10), "srv");
	assert_true(paired(find(r, 20, "connect", 0), find(r, 10, "accept", 0)));
	assert_string_equal(find(r, 10, "exec", 0)->fn, "exec");
	done(r);
}


/* The causal order: a blocking recv returns before the send that fed it
 * returns, a close returns after the peer read the EOF it caused, an
 * accept before the connect it answered: each effect comes out after its
 * cause (collect() checks that links point back). */
static void effects_after_causes(void **state)
{
	static const char srv[] = HDR(10, 1, "srv")
		CD(100, 500, 10, "accept", 3, 4, LP(SRV, CLI))
		CD(610, 100, 10, "recv", 4, 5, B(5) LP(SRV, CLI))
		CD(720, 300, 10, "close", 4, 0, LP(SRV, CLI));
	static const char cli[] = HDR(20, 1, "cli")
		CD(550, 100, 20, "connect", 3, 0, LP(CLI, SRV))
		CD(700, 50, 20, "send", 3, 5, B(5) LP(CLI, SRV))
		CD(760, 100, 20, "recv", 3, 0, LP(CLI, SRV));
	struct run *r = run("srv.10.jsonl", srv, "cli.20.jsonl", cli, NULL);
	struct got *conn = find(r, 20, "connect", 0), *acc = find(r, 10, "accept", 0);
	struct got *send = find(r, 20, "send", 0), *recv = find(r, 10, "recv", 0);
	struct got *close = find(r, 10, "close", 0), *eof = find(r, 20, "recv", 0);

	(void)state;
	/* In the order the calls returned: accept 600, recv 710, connect
	 * 650, send 750, eof 860, close 1020. */
	assert_true(conn->seq < acc->seq);
	assert_true(send->seq < recv->seq);
	assert_true(close->seq < eof->seq);
	assert_true(paired(acc, conn) && acc->p[0] == conn->seq);
	assert_true(paired(recv, send) && recv->p[0] == send->seq);
	assert_true(paired(eof, close) && eof->p[0] == close->seq);
	/* Each thread's own order stays. */
	assert_true(acc->seq < recv->seq && recv->seq < close->seq);
	done(r);
}

/* More sends ahead of the reader than the model once kept (256): every
 * one is paired, none is dropped. */
static void sender_thousand_ahead(void **state)
{
	enum { CALLS = 1000 };
	size_t cap = 256 * CALLS;
	char *cli = malloc(cap), *srv = malloc(cap);
	size_t nc = 0, ns = 0;
	struct run *r;

	(void)state;
	assert_non_null(cli);
	assert_non_null(srv);
	nc += (size_t)snprintf(cli + nc, cap - nc, "%s", HDR(20, 1, "cli") C(90, 20, "connect", 3, 0, LP(CLI, SRV)));
	ns += (size_t)snprintf(srv + ns, cap - ns, "%s", HDR(10, 1, "srv") C(100, 10, "accept", 3, 4, LP(SRV, CLI)));
	for (int i = 0; i < CALLS; i++) {
		nc += (size_t)snprintf(cli + nc, cap - nc,
				       "{\"rec\":\"call\",\"ts\":%d,\"pid\":20,\"fn\":\"write\",\"fd\":3,"
				       "\"ret\":4096,\"bytes\":4096" LP(CLI, SRV) "}\n", 200 + i);
		ns += (size_t)snprintf(srv + ns, cap - ns,
				       "{\"rec\":\"call\",\"ts\":%d,\"pid\":10,\"fn\":\"read\",\"fd\":4,"
				       "\"ret\":4096,\"bytes\":4096" LP(SRV, CLI) "}\n", 100000 + i);
	}
	r = run("srv.10.jsonl", srv, "cli.20.jsonl", cli, NULL);
	for (int i = 0; i < CALLS; i++)
		assert_true(paired(find(r, 20, "write", i), find(r, 10, "read", i)));
	assert_int_equal(model_bound_drops(r->pass.model), 0);
	done(r);
	free(cli);
	free(srv);
}

/* A recv with MSG_PEEK sees bytes and consumes none: it and the recv
 * after it both pair with the send, and the bytes are counted once. */
static void peek_consumes_nothing(void **state)
{
	static const char srv[] = HDR(10, 1, "srv")
		C(100, 10, "accept", 3, 4, LP(SRV, CLI))
		C(300, 10, "recv", 4, 4, B(4) ",\"flags\":\"MSG_PEEK\"" LP(SRV, CLI))
		C(310, 10, "recv", 4, 10, B(10) LP(SRV, CLI));
	static const char cli[] = HDR(20, 1, "cli")
		C(90, 20, "connect", 3, 0, LP(CLI, SRV))
		C(200, 20, "send", 3, 10, B(10) LP(CLI, SRV));
	struct run *r = run("srv.10.jsonl", srv, "cli.20.jsonl", cli, NULL);
	struct got *send = find(r, 20, "send", 0);
	struct got *peek = find(r, 10, "recv", 0), *recv = find(r, 10, "recv", 1);

	(void)state;
	assert_true(paired(peek, send));
	assert_true(paired(recv, send));
	assert_int_equal(peek->off, 0);
	assert_int_equal(recv->off, 0);
	assert_non_null(strstr(peek->label, "MSG_PEEK"));
	assert_int_equal(conn_of(r, recv)->side[1].bytes_in, 10);
	done(r);
}

/* Unix clients are unnamed: the accept says which client it took
 * (peer_pid, SO_PEERCRED), and the server took the second one first. */
static void unix_accept_names_its_client(void **state)
{
	static const char srv[] = HDR(10, 1, "usrv")
		C(50, 10, "listen", 3, 0, ",\"local\":\"unix:/run/s.sock\"")
		C(120, 10, "accept", 3, 4, ",\"peer_pid\":30" LP("unix:/run/s.sock", "unix:"))
		C(130, 10, "accept", 3, 5, ",\"peer_pid\":20" LP("unix:/run/s.sock", "unix:"))
		C(200, 10, "recv", 4, 2, B(2) LP("unix:/run/s.sock", "unix:"))
		C(210, 10, "recv", 5, 1, B(1) LP("unix:/run/s.sock", "unix:"));
	static const char c1[] = HDR(20, 1, "c1")
		C(90, 20, "connect", 3, 0, ",\"addr\":\"unix:/run/s.sock\"" LP("unix:", "unix:/run/s.sock"))
		C(150, 20, "send", 3, 1, B(1) LP("unix:", "unix:/run/s.sock"));
	static const char c2[] = HDR(30, 1, "c2")
		C(105, 30, "connect", 7, 0, ",\"addr\":\"unix:/run/s.sock\"" LP("unix:", "unix:/run/s.sock"))
		C(140, 30, "send", 7, 2, B(2) LP("unix:", "unix:/run/s.sock"));
	struct run *r = run("usrv.10.jsonl", srv, "c1.20.jsonl", c1, "c2.30.jsonl", c2, NULL);

	(void)state;
	assert_int_equal(model_nconns(r->pass.model), 2);
	assert_true(paired(find(r, 30, "connect", 0), find(r, 10, "accept", 0)));
	assert_true(paired(find(r, 20, "connect", 0), find(r, 10, "accept", 1)));
	assert_true(paired(find(r, 30, "send", 0), find(r, 10, "recv", 0)));
	assert_true(paired(find(r, 20, "send", 0), find(r, 10, "recv", 1)));
	done(r);
}

/* A forking server accepts the next connection under the same number
 * before the child that got the previous one first uses it: the child
 * holds the socket its fork saw (the header's forked), not the latest. */
static void child_holds_what_its_fork_saw(void **state)
{
	static const char parent[] = HDR(10, 1, "srv")
		C(50, 10, "listen", 3, 0, ",\"local\":\"" SRV "\"")
		C(100, 10, "accept", 3, 4, LP(SRV, CLI))
		C(120, 10, "close", 4, 0, LP(SRV, CLI))
		C(200, 10, "accept", 3, 4, LP(SRV, "127.0.0.1:40001"))
		C(220, 10, "close", 4, 0, LP(SRV, "127.0.0.1:40001"));
	static const char child1[] = HDRF(11, 10, "srv", 110)
		C(300, 11, "recv", 4, 1, B(1) "")
		C(310, 11, "close", 4, 0, "");
	static const char child2[] = HDRF(12, 10, "srv", 210)
		C(320, 12, "recv", 4, 2, B(2) "")
		C(330, 12, "close", 4, 0, "");
	static const char a[] = HDR(20, 1, "a")
		C(90, 20, "connect", 3, 0, LP(CLI, SRV))
		C(150, 20, "send", 3, 1, B(1) LP(CLI, SRV));
	static const char b[] = HDR(30, 1, "b")
		C(190, 30, "connect", 3, 0, LP("127.0.0.1:40001", SRV))
		C(250, 30, "send", 3, 2, B(2) LP("127.0.0.1:40001", SRV));
	struct run *r = run("srv.10.jsonl", parent, "srv.11.jsonl", child1, "srv.12.jsonl", child2,
			    "a.20.jsonl", a, "b.30.jsonl", b, NULL);

	(void)state;
	assert_int_equal(model_nconns(r->pass.model), 2);
	assert_true(paired(find(r, 20, "send", 0), find(r, 11, "recv", 0)));
	assert_true(paired(find(r, 30, "send", 0), find(r, 12, "recv", 0)));
	assert_int_equal(find(r, 11, "recv", 0)->conn, find(r, 20, "send", 0)->conn);
	done(r);
}

/* A process that exits holding a connection closes it (the kernel does):
 * its end is the FIN the peer's EOF came from, and who closed first
 * follows. */
static void exit_is_the_fin(void **state)
{
	static const char srv[] = HDR(10, 1, "srv")
		C(100, 10, "accept", 3, 4, LP(SRV, CLI))
		C(200, 10, "send", 4, 3, B(3) LP(SRV, CLI))
		"{\"rec\":\"end\",\"ts\":300,\"pid\":10,\"tid\":10,\"reason\":\"exit\"}\n";
	static const char cli[] = HDR(20, 1, "cli")
		C(90, 20, "connect", 3, 0, LP(CLI, SRV))
		C(250, 20, "recv", 3, 3, B(3) LP(CLI, SRV))
		CD(260, 100, 20, "recv", 3, 0, LP(CLI, SRV))
		C(400, 20, "close", 3, 0, LP(CLI, SRV));
	struct run *r = run("srv.10.jsonl", srv, "cli.20.jsonl", cli, NULL);
	struct got *eof = find(r, 20, "recv", 1), *end = find(r, 10, "end", 0);
	char text[64];

	(void)state;
	assert_int_equal(eof->link, LINK_CLOSE);
	assert_true(paired(eof, end));
	assert_string_equal(conn_end_text(conn_of(r, eof), text, sizeof(text)),
			    "server exited first (client read EOF)");
	done(r);
}

/* A connect in progress is not a failure: it gets the outcome of what
 * followed (SO_ERROR), on its label and in vev_is_error. */
static void connect_in_progress_outcome(void **state)
{
	static const char cli[] = HDR(20, 1, "cli")
		C(90, 20, "connect", 3, -1, ",\"errno\":\"EINPROGRESS\",\"addr\":\"" SRV "\"" LP(CLI, SRV))
		C(95, 20, "getsockopt", 3, 0, ",\"opt\":\"SO_ERROR\",\"value\":0" LP(CLI, SRV))
		C(100, 20, "send", 3, 3, B(3) LP(CLI, SRV))
		C(190, 20, "connect", 4, -1, ",\"errno\":\"EINPROGRESS\",\"addr\":\"" SRV "\"" LP("127.0.0.1:40001", SRV))
		C(195, 20, "getsockopt", 4, 0, ",\"opt\":\"SO_ERROR\",\"value\":\"ECONNREFUSED\"" LP("127.0.0.1:40001", SRV))
		C(200, 20, "recv", 5, -1, ",\"errno\":\"EAGAIN\"");
	struct run *r = run("cli.20.jsonl", cli, NULL);
	struct got *up = find(r, 20, "connect", 0), *down = find(r, 20, "connect", 1);
	char text[64];

	(void)state;
	assert_false(up->error);
	assert_non_null(strstr(up->label, "EINPROGRESS -> established"));
	assert_int_equal(conn_outcome(conn_of(r, up)), OUT_ESTABLISHED);
	assert_true(down->error);
	assert_non_null(strstr(down->label, "EINPROGRESS -> refused"));
	assert_string_equal(conn_end_text(conn_of(r, down), text, sizeof(text)), "refused (ECONNREFUSED)");
	assert_int_equal(down->a.kind, AR_FAIL);
	assert_string_equal(down->a.text, "c2 ECONNREFUSED");
	/* EAGAIN: not yet, not an error. */
	assert_false(find(r, 20, "recv", 0)->error);
	done(r);
}

/* The parent's close of a forking server's connection may leave it to a
 * child that never uses it: the client's EOF waits, and once the child has
 * exited the close was the FIN after all; the EOF goes out linked to it
 * (the link made as it goes out was once written as seq 0). */
static void eof_settled_when_it_goes_out(void **state)
{
	static const char parent[] = HDR(10, 1, "srv")
		C(50, 10, "listen", 3, 0, ",\"local\":\"" SRV "\"")
		C(100, 10, "accept", 3, 4, LP(SRV, CLI))
		C(120, 10, "close", 4, 0, LP(SRV, CLI));
	static const char child[] = HDRF(11, 10, "srv", 110)
		"{\"rec\":\"end\",\"ts\":400,\"pid\":11,\"tid\":11,\"reason\":\"exit\"}\n";
	static const char cli[] = HDR(20, 1, "cli")
		C(90, 20, "connect", 3, 0, LP(CLI, SRV))
		C(200, 20, "recv", 3, 0, LP(CLI, SRV));
	struct run *r = run("srv.10.jsonl", parent, "srv.11.jsonl", child, "cli.20.jsonl", cli, NULL);
	struct got *eof = find(r, 20, "recv", 0);

	(void)state;
	assert_int_equal(eof->link, LINK_CLOSE);
	assert_int_equal(eof->np, 1);
	assert_int_equal(eof->p[0], find(r, 10, "close", 0)->seq);
	done(r);
}

/* socat's EXEC: a forked child dup2s the socketpair it inherited onto its
 * standard output and execs; what it writes there reaches the parent
 * (the dup of an inherited descriptor was once not followed). */
static void child_dups_an_inherited_socket(void **state)
{
	static const char parent[] = HDR(10, 1, "socat")
		C(100, 10, "socketpair", -1, 0, ",\"family\":\"AF_UNIX\",\"type\":\"SOCK_STREAM\",\"fds\":[3,4]")
		C(300, 10, "read", 3, 6, B(6) "");
	static const char child[] = HDRF(11, 10, "socat", 110)
		C(120, 11, "dup2", 4, 1, "")
		C(200, 11, "write", 1, 6, B(6) "");
	struct run *r = run("socat.10.jsonl", parent, "socat.11.jsonl", child, NULL);

	(void)state;
	assert_true(paired(find(r, 11, "write", 0), find(r, 10, "read", 0)));
	assert_int_equal(find(r, 11, "write", 0)->conn, find(r, 10, "socketpair", 0)->conn);
	done(r);
}

/* Two threads of one client connect to a unix socket at once (pgbench -j2):
 * the accept names the process only, and the connect that began first was
 * queued first, though it returned last. */
static void unix_threads_connect_at_once(void **state)
{
	static const char srv[] = HDR(10, 1, "usrv")
		C(50, 10, "listen", 3, 0, ",\"local\":\"unix:/run/s.sock\"")
		C(200, 10, "accept", 3, 4, ",\"peer_pid\":20" LP("unix:/run/s.sock", "unix:"))
		C(210, 10, "accept", 3, 5, ",\"peer_pid\":20" LP("unix:/run/s.sock", "unix:"))
		C(300, 10, "recv", 4, 1, B(1) LP("unix:/run/s.sock", "unix:"))
		C(310, 10, "recv", 5, 2, B(2) LP("unix:/run/s.sock", "unix:"));
	static const char cli[] = HDR(20, 1, "cli")
		"{\"rec\":\"call\",\"ts\":100,\"dur\":50,\"pid\":20,\"tid\":21,\"fn\":\"connect\",\"fd\":3,\"ret\":0,"
		"\"addr\":\"unix:/run/s.sock\"" LP("unix:", "unix:/run/s.sock") "}\n"
		"{\"rec\":\"call\",\"ts\":120,\"dur\":10,\"pid\":20,\"tid\":22,\"fn\":\"connect\",\"fd\":4,\"ret\":0,"
		"\"addr\":\"unix:/run/s.sock\"" LP("unix:", "unix:/run/s.sock") "}\n"
		"{\"rec\":\"call\",\"ts\":250,\"dur\":0,\"pid\":20,\"tid\":21,\"fn\":\"send\",\"fd\":3,\"ret\":1,"
		"\"bytes\":1" LP("unix:", "unix:/run/s.sock") "}\n"
		"{\"rec\":\"call\",\"ts\":260,\"dur\":0,\"pid\":20,\"tid\":22,\"fn\":\"send\",\"fd\":4,\"ret\":2,"
		"\"bytes\":2" LP("unix:", "unix:/run/s.sock") "}\n";
	struct run *r = run("usrv.10.jsonl", srv, "cli.20.jsonl", cli, NULL);

	(void)state;
	assert_true(paired(find(r, 20, "connect", 1), find(r, 10, "accept", 0)));
	assert_true(paired(find(r, 20, "send", 0), find(r, 10, "recv", 0)));
	assert_true(paired(find(r, 20, "send", 1), find(r, 10, "recv", 1)));
	done(r);
}

/* Both accepts return before either connect does (pgbench's threads on
 * a busy machine): the first accept returned before one connect began, so
 * it cannot have answered that one. */
static void unix_accept_before_connect_began(void **state)
{
	static const char srv[] = HDR(10, 1, "usrv")
		C(50, 10, "listen", 3, 0, ",\"local\":\"unix:/run/s.sock\"")
		C(110, 10, "accept", 3, 4, ",\"peer_pid\":20" LP("unix:/run/s.sock", "unix:"))
		C(140, 10, "accept", 3, 5, ",\"peer_pid\":20" LP("unix:/run/s.sock", "unix:"))
		C(300, 10, "recv", 4, 1, B(1) LP("unix:/run/s.sock", "unix:"))
		C(310, 10, "recv", 5, 2, B(2) LP("unix:/run/s.sock", "unix:"));
	static const char cli[] = HDR(20, 1, "cli")
		"{\"rec\":\"call\",\"ts\":120,\"dur\":80,\"pid\":20,\"tid\":22,\"fn\":\"connect\",\"fd\":4,\"ret\":0,"
		"\"addr\":\"unix:/run/s.sock\"" LP("unix:", "unix:/run/s.sock") "}\n"
		"{\"rec\":\"call\",\"ts\":100,\"dur\":110,\"pid\":20,\"tid\":21,\"fn\":\"connect\",\"fd\":3,\"ret\":0,"
		"\"addr\":\"unix:/run/s.sock\"" LP("unix:", "unix:/run/s.sock") "}\n"
		"{\"rec\":\"call\",\"ts\":250,\"dur\":0,\"pid\":20,\"tid\":21,\"fn\":\"send\",\"fd\":3,\"ret\":1,"
		"\"bytes\":1" LP("unix:", "unix:/run/s.sock") "}\n"
		"{\"rec\":\"call\",\"ts\":260,\"dur\":0,\"pid\":20,\"tid\":22,\"fn\":\"send\",\"fd\":4,\"ret\":2,"
		"\"bytes\":2" LP("unix:", "unix:/run/s.sock") "}\n";
	struct run *r = run("usrv.10.jsonl", srv, "cli.20.jsonl", cli, NULL);

	(void)state;
	assert_true(paired(find(r, 20, "send", 0), find(r, 10, "recv", 0)));
	assert_true(paired(find(r, 20, "send", 1), find(r, 10, "recv", 1)));
	done(r);
}

/* A fault rule's close makes a recv return 0 though the peer sent no FIN:
 * that EOF pairs with nothing, and the connection says it was injected. */
static void injected_eof_pairs_with_nothing(void **state)
{
	static const char srv[] = HDR(10, 1, "srv")
		C(100, 10, "accept", 3, 4, LP(SRV, CLI))
		C(150, 10, "close", 4, 0, LP(SRV, CLI));
	static const char cli[] = HDR(20, 1, "cli")
		C(90, 20, "connect", 3, 0, LP(CLI, SRV))
		C(120, 20, "recv", 3, 0, ",\"fault\":{\"rule\":\"SOCKTRACE_FAULTS:1\",\"action\":\"close\",\"made\":false}" LP(CLI, SRV));
	struct run *r = run("srv.10.jsonl", srv, "cli.20.jsonl", cli, NULL);
	struct got *eof = find(r, 20, "recv", 0);
	char text[64];

	(void)state;
	assert_int_equal(eof->np, 0);
	assert_false(paired(eof, find(r, 10, "close", 0)));
	assert_string_equal(conn_end_text(conn_of(r, eof), text, sizeof(text)), "EOF injected at client");
	done(r);
}

/* A reset rule on the server's recv really aborts the connection: the
 * client's ECONNRESET is its effect, drawn from it, and not from the
 * server's close that came after it. */
static void injected_reset_causes_the_peers_reset(void **state)
{
	static const char srv[] = HDR(10, 1, "srv")
		C(100, 10, "accept", 3, 4, LP(SRV, CLI))
		C(110, 10, "recv", 4, -1, ",\"errno\":\"ECONNRESET\",\"fault\":{\"rule\":\"SOCKTRACE_FAULTS:1\",\"action\":\"reset\",\"made\":false}" LP(SRV, CLI))
		C(200, 10, "close", 4, 0, LP(SRV, CLI));
	static const char cli[] = HDR(20, 1, "cli")
		C(90, 20, "connect", 3, 0, LP(CLI, SRV))
		C(120, 20, "recv", 3, -1, ",\"errno\":\"ECONNRESET\"" LP(CLI, SRV));
	struct run *r = run("srv.10.jsonl", srv, "cli.20.jsonl", cli, NULL);
	struct got *rst = find(r, 20, "recv", 0), *fault = find(r, 10, "recv", 0);
	char text[64];

	(void)state;
	assert_true(paired(rst, fault));
	assert_false(paired(rst, find(r, 10, "close", 0)));
	assert_true(rst->seq > fault->seq);
	assert_int_equal(rst->a.kind, AR_CLOSE);
	assert_string_equal(conn_end_text(conn_of(r, rst), text, sizeof(text)), "reset by server");
	done(r);
}

/* Two threads connect to a unix socket at the same instant: the inodes
 * the shim records (the connect's own, the accept's peer) pair them. */
static void unix_inodes_pair_exactly(void **state)
{
	static const char srv[] = HDR(10, 1, "usrv")
		C(50, 10, "listen", 3, 0, ",\"local\":\"unix:/run/s.sock\"")
		C(200, 10, "accept", 3, 4, ",\"peer_pid\":20,\"peer_ino\":902" LP("unix:/run/s.sock", "unix:"))
		C(210, 10, "accept", 3, 5, ",\"peer_pid\":20,\"peer_ino\":901" LP("unix:/run/s.sock", "unix:"))
		C(300, 10, "recv", 4, 2, B(2) LP("unix:/run/s.sock", "unix:"))
		C(310, 10, "recv", 5, 1, B(1) LP("unix:/run/s.sock", "unix:"));
	static const char cli[] = HDR(20, 1, "cli")
		"{\"rec\":\"call\",\"ts\":100,\"dur\":10,\"pid\":20,\"tid\":21,\"fn\":\"connect\",\"fd\":3,\"ret\":0,"
		"\"addr\":\"unix:/run/s.sock\",\"ino\":901" LP("unix:", "unix:/run/s.sock") "}\n"
		"{\"rec\":\"call\",\"ts\":100,\"dur\":10,\"pid\":20,\"tid\":22,\"fn\":\"connect\",\"fd\":4,\"ret\":0,"
		"\"addr\":\"unix:/run/s.sock\",\"ino\":902" LP("unix:", "unix:/run/s.sock") "}\n"
		"{\"rec\":\"call\",\"ts\":250,\"dur\":0,\"pid\":20,\"tid\":21,\"fn\":\"send\",\"fd\":3,\"ret\":1,"
		"\"bytes\":1" LP("unix:", "unix:/run/s.sock") "}\n"
		"{\"rec\":\"call\",\"ts\":260,\"dur\":0,\"pid\":20,\"tid\":22,\"fn\":\"send\",\"fd\":4,\"ret\":2,"
		"\"bytes\":2" LP("unix:", "unix:/run/s.sock") "}\n";
	struct run *r = run("usrv.10.jsonl", srv, "cli.20.jsonl", cli, NULL);

	(void)state;
	assert_true(paired(find(r, 20, "send", 0), find(r, 10, "recv", 1)));
	assert_true(paired(find(r, 20, "send", 1), find(r, 10, "recv", 0)));
	done(r);
}

/* A cause read after its effect went out (a send that returned more than
 * the window after the recv it fed) is not linked, and counted. */
static void late_cause_is_counted(void **state)
{
	static const char srv[] = HDR(10, 1, "srv")
		C(100, 10, "accept", 3, 4, LP(SRV, CLI))
		C(300, 10, "recv", 4, 3, B(3) LP(SRV, CLI))
		C(20000000000, 10, "close", 4, 0, LP(SRV, CLI));
	static const char cli[] = HDR(20, 1, "cli")
		C(90, 20, "connect", 3, 0, LP(CLI, SRV))
		CD(200, 30000000000, 20, "send", 3, 3, B(3) LP(CLI, SRV));
	struct run *r = run("srv.10.jsonl", srv, "cli.20.jsonl", cli, NULL);

	(void)state;
	assert_false(paired(find(r, 20, "send", 0), find(r, 10, "recv", 0)));
	assert_int_equal(model_late_links(r->pass.model), 1);
	done(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tcp_two_processes),
		cmocka_unit_test(recv_returns_before_send),
		cmocka_unit_test(sendfile_and_splice),
		cmocka_unit_test(three_processes_through_a_proxy),
		cmocka_unit_test(fork_per_connection_server),
		cmocka_unit_test(fork_server_parent_closes_after_client_shutdown),
		cmocka_unit_test(fork_server_child_closes_before_client_reads),
		cmocka_unit_test(fork_server_client_gone_first),
		cmocka_unit_test(earlier_children_do_not_hold),
		cmocka_unit_test(close_of_a_dup_is_not_the_end),
		cmocka_unit_test(sender_far_ahead),
		cmocka_unit_test(fork_inherits_unix_socketpair),
		cmocka_unit_test(udp_exchange),
		cmocka_unit_test(unpaired_peer),
		cmocka_unit_test(ipv6_and_v4_mapped),
		cmocka_unit_test(unix_sockets),
		cmocka_unit_test(reset_and_reuse),
		cmocka_unit_test(exec_keeps_the_process),
		cmocka_unit_test(effects_after_causes),
		cmocka_unit_test(sender_thousand_ahead),
		cmocka_unit_test(peek_consumes_nothing),
		cmocka_unit_test(unix_accept_names_its_client),
		cmocka_unit_test(child_holds_what_its_fork_saw),
		cmocka_unit_test(exit_is_the_fin),
		cmocka_unit_test(connect_in_progress_outcome),
		cmocka_unit_test(late_cause_is_counted),
		cmocka_unit_test(eof_settled_when_it_goes_out),
		cmocka_unit_test(child_dups_an_inherited_socket),
		cmocka_unit_test(unix_threads_connect_at_once),
		cmocka_unit_test(unix_accept_before_connect_began),
		cmocka_unit_test(injected_eof_pairs_with_nothing),
		cmocka_unit_test(injected_reset_causes_the_peers_reset),
		cmocka_unit_test(unix_inodes_pair_exactly),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
