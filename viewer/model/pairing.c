/* The pairing model (see pairing.h). */
#include "model/pairing.h"

#include "util/addr.h"
#include "util/hmap.h"
#include "util/oom.h"
#include "model/ptree.h"
#include "util/textutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* Ancestors searched for a socket a forked child inherited. */
#define INHERIT_DEPTH 4

enum sock_type {
	SOCK_UNKNOWN_TYPE,
	SOCK_IS_STREAM,
	SOCK_IS_DGRAM,
};

/* What a process's descriptor is known to be. */
struct fdent {
	enum sock_type type;
	bool listening;
	bool closed;         /* kept so a forked child can still find it */
	bool held;           /* counted in its connection side's holders */
	struct conn *conn;
	int side;
	int64_t since;       /* when it was opened; INT64_MIN: inherited at fork */
	int64_t until;       /* when it was closed or replaced; INT64_MAX: not */
	struct fdent *prev;  /* what the number stood for before (FD_HISTORY) */
};

/* Earlier sockets kept per descriptor number: a forking server accepts the
 * next connection under the same number while the child that got the
 * previous one has not used it yet; the child finds the one its fork saw. */
#define FD_HISTORY 16

struct proc {
	int pid, ppid;
	int64_t forked;      /* tr_file.forked: INT64_MIN when not known */
	char *prog;
	char *name;          /* tr_file.name of that image */
	unsigned sides;      /* bit s: made calls on side s of a connection */
	struct hmap fds;     /* int fd -> struct fdent */
};

/* Connections waiting for their other half, first come first served. */
struct cqueue {
	struct conn **v;
	size_t len, cap;
};

struct model {
	struct hmap procs;      /* int pid -> struct proc */
	struct conn **conns;
	size_t nconns, cap;
	struct hmap live;       /* "s" addrA "\n" addrB (sorted) -> conn */
	struct hmap wait_accept;  /* ambiguous key -> cqueue of connects */
	struct hmap wait_connect; /* ambiguous key -> cqueue of accepts */
	struct hmap dgram;      /* port key -> cqueue of datagram flows */
	struct hmap listeners;  /* address, or "*:PORT" -> pid */
	struct ptree *tree;     /* the traced processes, from the reader's files */
	bool tree_built;
	int64_t window;         /* model_new */
	int64_t now;            /* the latest end of a call fed */
	unsigned long late;     /* model_late_links */
	struct conn_prior *prior; /* model_take_prior */
	size_t nprior;
	unsigned long bound_drops;
};

/* ---- small helpers ---- */

static void xput(struct hmap *h, const void *key, size_t klen, void *val)
{
	if (hmap_put(h, key, klen, val) != 0)
		oom_exit();
}

static void cq_push(struct cqueue *q, struct conn *c)
{
	if (q->len == q->cap) {
		q->cap = q->cap ? q->cap * 2 : 4;
		q->v = xrealloc(q->v, q->cap * sizeof(*q->v));
	}
	q->v[q->len++] = c;
}

static struct conn *cq_take(struct cqueue *q, size_t i)
{
	struct conn *c = q->v[i];

	memmove(&q->v[i], &q->v[i + 1], (q->len - i - 1) * sizeof(q->v[0]));
	q->len--;
	return c;
}

/* The first connection of q waiting for its other half, among those
 * whose times allow it (an accept returns after the connect it answered
 * began): for a connect by pid, the first accept that names pid as its
 * client, else the first that names none; for an accept naming its client
 * (pid not 0), the connect by it that began first; else the one that
 * began first. */
static struct conn *cq_pop(struct cqueue *q, int me, int pid, const struct vev *ev)
{
	size_t any = SIZE_MAX, best = SIZE_MAX;

	/* The kernel's own word: the client socket's inode, from both ends. */
	int64_t ino = me == 0 ? ev->ino : ev->peer_ino;
	for (size_t i = 0; ino && q && i < q->len; i++)
		if (q->v[i]->client_ino == ino)
			return cq_take(q, i);
	for (size_t i = 0; q && i < q->len; i++) {
		const struct conn *c = q->v[i];
		/* Both know the inode, and it differs: another connection. */
		if (ino && c->client_ino && c->client_ino != ino)
			continue;
		/* An accept returns after the connect it answered began. */
		if (me == 0 ? c->accepted_at < ev->t : c->connect_t > ev->tend)
			continue;
		if (me == 0 && c->client_pid == pid)
			return cq_take(q, i);
		if (me == 0 && c->client_pid == 0 && any == SIZE_MAX)
			any = i;
		/* Threads of one client connecting at once: the connect that
		 * began first was queued first (the reader has them in the
		 * order they returned). */
		if (me == 1 && (pid == 0 || c->side[0].pid == pid) &&
		    (best == SIZE_MAX || c->connect_t < q->v[best]->connect_t))
			best = i;
	}
	if (best != SIZE_MAX)
		return cq_take(q, best);
	return any != SIZE_MAX ? cq_take(q, any) : NULL;
}

static void cq_free(void *p)
{
	struct cqueue *q = p;

	free(q->v);
	free(q);
}

static struct cqueue *cq_get(struct hmap *h, const char *key, bool create)
{
	struct cqueue *q = hmap_gets(h, key);

	if (!q && create) {
		q = xcalloc(1, sizeof(*q));
		xput(h, key, strlen(key), q);
	}
	return q;
}

/* ---- byte-range queues ---- */

/* Takes a reference to s->node. */
static void segq_push(struct segq *q, const struct seg *s)
{
	if (q->len == q->cap) {
		size_t ncap = q->cap ? q->cap * 2 : 4;
		struct seg *nv = xcalloc(ncap, sizeof(*nv));
		for (size_t i = 0; i < q->len; i++)
			nv[i] = q->v[(q->head + i) % q->cap];
		free(q->v);
		q->v = nv;
		q->cap = ncap;
		q->head = 0;
	}
	q->v[(q->head + q->len) % q->cap] = *s;
	evnode_ref(s->node);
	q->len++;
}

static struct seg *segq_at(struct segq *q, size_t i)
{
	return &q->v[(q->head + i) % q->cap];
}

static void segq_drop_front(struct segq *q)
{
	evnode_unref(segq_at(q, 0)->node);
	q->head = (q->head + 1) % q->cap;
	q->len--;
}

/* Removes entry i, keeping the order of the others. */
static void segq_remove(struct segq *q, size_t i)
{
	evnode_unref(segq_at(q, i)->node);
	for (size_t k = i; k + 1 < q->len; k++)
		*segq_at(q, k) = *segq_at(q, k + 1);
	q->len--;
}

static void segq_free(struct segq *q)
{
	while (q->len)
		segq_drop_front(q);
	free(q->v);
	memset(q, 0, sizeof(*q));
}

/* cause is one of the causes of ev, which has not gone out. */
static void add_cause(struct vev *ev, struct evnode *cause)
{
	if (ev->npartners < VEV_MAXP)
		ev->causes[ev->npartners] = evnode_ref(cause);
	ev->npartners++;
}

/* cause (being fed) caused the effect, fed earlier: linked if the effect
 * is still held, else too late (it went out past its window). Returns
 * whether the effect was still held. */
static bool link_back(struct model *m, struct evnode *effect, struct vev *cause)
{
	if (!effect)
		return false;
	if (!effect->ev) {
		m->late++;
		return false;
	}
	add_cause(effect->ev, cause->node);
	return true;
}

/* ev waits until the reader is past its end plus a window (none: 0). */
static void await(struct vev *ev, int64_t window)
{
	if (window <= 0)
		return;
	ev->awaiting = true;
	ev->hold_until = sat_add64(ev->tend, window);
}

/* How long an effect on c waits for a cause from side s: the window when
 * a traced process is known on that side, nothing when a first pass said
 * none ever is, else the short window (its first call may come yet). */
static int64_t wait_for(const struct model *m, const struct conn *c, int s)
{
	if (c->prior)
		return c->prior->seen[s] ? m->window : 0;
	return c->side[s].seen ? m->window : WINDOW_SHORT;
}

/* A cause ev waited for has come. */
static void arrived(struct evnode *effect)
{
	if (effect && effect->ev)
		effect->ev->awaiting = false;
}

/* ---- processes and descriptors ---- */

static void fdent_free(void *p)
{
	struct fdent *e = p;

	while (e) {
		struct fdent *prev = e->prev;
		free(e);
		e = prev;
	}
}

static void proc_free(void *p)
{
	struct proc *pr = p;

	hmap_free(&pr->fds, fdent_free);
	free(pr->prog);
	free(pr->name);
	free(pr);
}

static struct proc *proc_find(const struct model *m, int pid)
{
	return hmap_get(&m->procs, &pid, sizeof(pid));
}

static struct proc *proc_of(struct model *m, const struct vev *ev)
{
	struct proc *p = proc_find(m, ev->pid);

	if (!p) {
		p = xcalloc(1, sizeof(*p));
		p->pid = ev->pid;
		p->ppid = ev->file->ppid;
		p->forked = ev->file->forked;
		p->prog = xstrdup(ev->file->prog);
		p->name = xstrdup(ev->file->name);
		xput(&m->procs, &p->pid, sizeof(p->pid), p);
	} else if (ev->kind == TR_CALL && strcmp(p->prog, ev->file->prog) != 0) {
		/* After exec: the image that makes the calls names it. */
		free(p->prog);
		free(p->name);
		p->prog = xstrdup(ev->file->prog);
		p->name = xstrdup(ev->file->name);
	}
	return p;
}

static struct fdent *fd_get(struct proc *p, int fd)
{
	return fd >= 0 ? hmap_get(&p->fds, &fd, sizeof(fd)) : NULL;
}

static bool let_go(struct model *m, int pid, int fd, struct fdent *e);

/* A new socket under a descriptor number: whatever the number stood for
 * was closed without our seeing it. */
static struct fdent *fd_new(struct model *m, struct proc *p, int fd)
{
	struct fdent *old = fd_get(p, fd), *e = xcalloc(1, sizeof(*e));
	int depth = 0;

	if (old) {
		let_go(m, p->pid, fd, old);
		if (old->until == INT64_MAX)
			old->until = m->now;
	}
	e->prev = old;
	e->until = INT64_MAX;
	for (struct fdent *h = e; h; h = h->prev) {
		if (++depth == FD_HISTORY) {
			fdent_free(h->prev);
			h->prev = NULL;
		}
	}
	xput(&p->fds, &fd, sizeof(fd), e);
	return e;
}

/* The entry of descriptor fd that a child forked at t inherited: open
 * then (the latest such when t is not known). */
static struct fdent *fd_at_fork(struct proc *p, int fd, int64_t t)
{
	struct fdent *e = fd_get(p, fd);

	if (t == INT64_MIN)
		return e;
	for (; e; e = e->prev)
		if (e->since <= t && t < e->until)
			return e;
	return NULL;
}

/* e holds its connection's side from since on. */
static void hold(struct fdent *e, int64_t since)
{
	struct cside *sd = &e->conn->side[e->side];

	e->held = true;
	e->since = since;
	sd->holders++;
	sd->closed = false;
	/* A close that might have been the end was a copy's: someone holds
	 * the socket still (a forked child, using what it inherited). */
	if (sd->fin_tentative) {
		evnode_set(&sd->fin, NULL);
		sd->fin_tentative = false;
	}
}

static void fd_bind(struct model *m, struct proc *p, int fd, struct conn *c, int side,
		    enum sock_type type, int64_t since)
{
	struct fdent *e;

	if (fd < 0)
		return;
	e = fd_new(m, p, fd);
	e->conn = c;
	e->side = side;
	e->type = type;
	if (c)
		hold(e, since);
}

/* The descriptor as the process or, for a forked child, an ancestor had
 * it. */
static struct fdent *fd_lookup(const struct model *m, struct proc *p, int fd, bool *inherited)
{
	struct fdent *e = fd_get(p, fd);

	*inherited = false;
	for (int depth = 0; !e && depth < INHERIT_DEPTH && p->ppid > 0; depth++) {
		int64_t forked = p->forked;
		p = proc_find(m, p->ppid);
		if (!p)
			break;
		e = fd_at_fork(p, fd, forked);
		*inherited = e != NULL;
	}
	return e;
}

/* ---- connections ---- */

static struct conn *conn_new(struct model *m, enum conn_kind kind, const char *a0,
			     const char *a1)
{
	struct conn *c = xcalloc(1, sizeof(*c));

	if (m->nconns == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 64;
		m->conns = xrealloc(m->conns, m->cap * sizeof(*m->conns));
	}
	m->conns[m->nconns++] = c;
	c->id = (uint32_t)m->nconns;
	c->kind = kind;
	c->side[0].addr = xstrdup(a0);
	c->side[1].addr = xstrdup(a1);
	c->first_t = INT64_MAX;
	c->connect_t = c->established_t = -1;
	c->accepted_at = INT64_MAX;
	if (c->id <= m->nprior)
		c->prior = &m->prior[c->id - 1];
	c->first_data_t[0] = c->first_data_t[1] = -1;
	return c;
}

/* The set-up of c is known to have ended: the connect in progress, if
 * one waits, may go out. */
static void conclude(struct conn *c, enum conn_outcome o, int64_t t)
{
	if (c->outcome == OUT_UNKNOWN) {
		c->outcome = o;
		if (o == OUT_ESTABLISHED)
			c->established_t = t;
	}
	arrived(c->in_progress);
	evnode_set(&c->in_progress, NULL);
}

static void conn_set_addr(struct conn *c, int side, const char *a)
{
	if (!a || !*a || strcmp(c->side[side].addr, a) == 0)
		return;
	/* A more specific address replaces an unknown or wildcard one. */
	if (!c->side[side].addr[0] || addr_is_wildcard(c->side[side].addr) ||
	    strcmp(c->side[side].addr, "unix:") == 0) {
		free(c->side[side].addr);
		c->side[side].addr = xstrdup(a);
	}
}

/* The live-table key of a pair of addresses: both orders give one key. */
static void pair_key(char *key, size_t cap, char kind, const char *a, const char *b)
{
	if (strcmp(a, b) > 0) {
		const char *t = a;
		a = b;
		b = t;
	}
	snprintf(key, cap, "%c%s\n%s", kind, a, b);
}

/* Which side of c has local address l and peer p (NULL: not known). */
static int side_of(const struct conn *c, const char *l, const char *p)
{
	for (int s = 0; s < 2; s++) {
		const char *mine = c->side[s].addr, *theirs = c->side[1 - s].addr;
		if (l && *mine && strcmp(mine, l) != 0)
			continue;
		if (p && *theirs && strcmp(theirs, p) != 0)
			continue;
		return s;
	}
	return -1;
}

static bool side_matches(const struct conn *c, int s, const char *l, const char *p)
{
	const char *mine = c->side[s].addr, *theirs = c->side[1 - s].addr;

	if (l && *mine && strcmp(mine, l) != 0 && !addr_compatible(mine, l))
		return false;
	if (p && *theirs && strcmp(theirs, p) != 0 && !addr_compatible(theirs, p))
		return false;
	return true;
}

static void touch(struct conn *c, int s, struct vev *ev)
{
	struct cside *sd = &c->side[s];

	sd->seen = true;
	if (!sd->pid)
		sd->pid = ev->pid;
	if (ev->t < c->first_t)
		c->first_t = ev->t;
	if (ev->tend > c->last_t)
		c->last_t = ev->tend;
	ev->conn = c;
	ev->side = s;
}

static enum sock_type type_of(const char *type)
{
	if (!type)
		return SOCK_UNKNOWN_TYPE;
	if (strncmp(type, "SOCK_DGRAM", 10) == 0)
		return SOCK_IS_DGRAM;
	if (strncmp(type, "SOCK_STREAM", 11) == 0 || strncmp(type, "SOCK_SEQPACKET", 14) == 0)
		return SOCK_IS_STREAM;
	return SOCK_UNKNOWN_TYPE;
}

struct addrs {
	char l[ADDR_MAX], p[ADDR_MAX];
	bool has_l, has_p;
};

static void addrs_of(struct addrs *a, const char *local, const char *peer)
{
	a->has_l = local != NULL;
	a->has_p = peer != NULL;
	addr_norm(local, a->l, sizeof(a->l));
	addr_norm(peer, a->p, sizeof(a->p));
}

/* Whether the event names side s of c by exactly the addresses c has for
 * it: then it is on c, without normalising anything (addresses in c are
 * normalised, and normalising is idempotent). The usual case, checked
 * first because it is cheap. */
static bool same_endpoints(const struct conn *c, int s, const struct vev *ev)
{
	return ev->local && ev->peer && strcmp(ev->local, c->side[s].addr) == 0 &&
	       strcmp(ev->peer, c->side[1 - s].addr) == 0;
}

/* The stream connection an event on fd is about, creating it when the
 * event names one nobody has seen yet and create is set. */
static struct conn *stream_resolve(struct model *m, struct proc *pr, const struct vev *ev,
				   int fd, bool create, int *side)
{
	struct addrs a;
	bool inherited;
	struct fdent *e = fd_lookup(m, pr, fd, &inherited);
	bool known = e && e->conn && e->conn->kind == CONN_STREAM && (!e->closed || inherited);
	const char *l, *p;
	char key[2 * ADDR_MAX + 4];
	struct conn *c;

	if (known && same_endpoints(e->conn, e->side, ev)) {
		if (inherited)
			fd_bind(m, pr, fd, e->conn, e->side, SOCK_IS_STREAM, INT64_MIN);
		*side = e->side;
		return e->conn;
	}
	addrs_of(&a, ev->local, ev->peer);
	l = a.has_l ? a.l : NULL;
	p = a.has_p ? a.p : NULL;
	if (known && side_matches(e->conn, e->side, l, p)) {
		if (inherited)
			fd_bind(m, pr, fd, e->conn, e->side, SOCK_IS_STREAM, INT64_MIN);
		*side = e->side;
		return e->conn;
	}
	if (!l || !p)
		return NULL;
	pair_key(key, sizeof(key), 's', l, p);
	if (addr_is_specific(l) && addr_is_specific(p)) {
		c = hmap_gets(&m->live, key);
		if (c && (*side = side_of(c, l, p)) >= 0) {
			fd_bind(m, pr, fd, c, *side, SOCK_IS_STREAM, ev->tend);
			return c;
		}
	}
	if (!create)
		return NULL;
	/* Nothing seen of its start: the listener's side is the server. */
	*side = model_listener(m, l) ? 1 : 0;
	c = conn_new(m, CONN_STREAM, *side == 0 ? l : p, *side == 0 ? p : l);
	if (addr_is_specific(l) && addr_is_specific(p))
		xput(&m->live, key, strlen(key), c);
	fd_bind(m, pr, fd, c, *side, SOCK_IS_STREAM, ev->tend);
	return c;
}

/* ---- events ---- */

static void on_socket(struct model *m, struct proc *pr, const struct vev *ev)
{
	struct fdent *e;

	if (ev->err || ev->ret < 0 || ev->ret > (1 << 30))
		return;
	e = fd_new(m, pr, (int)ev->ret);
	e->type = type_of(ev->type);
}

static void on_socketpair(struct model *m, struct proc *pr, struct vev *ev)
{
	enum sock_type t = type_of(ev->type);
	const int *fd = ev->fds;
	struct conn *c;

	if (ev->err || !ev->has_fds)
		return;
	c = conn_new(m, t == SOCK_IS_DGRAM ? CONN_DGRAM : CONN_STREAM, "unix:", "unix:");
	c->side[0].connected = true;
	c->side[1].accepted = true;
	c->linked = true;
	c->socketpair = true;
	c->outcome = OUT_ESTABLISHED;
	touch(c, 0, ev);
	touch(c, 1, ev);
	fd_bind(m, pr, fd[0], c, 0, t, ev->tend);
	fd_bind(m, pr, fd[1], c, 1, t, ev->tend);
	ev->conn = c;
	ev->side = 0;
}

static void on_listen(struct model *m, struct proc *pr, const struct vev *ev)
{
	struct fdent *e = fd_get(pr, ev->fd);
	char a[ADDR_MAX];

	if (ev->err || !ev->local)
		return;
	if (e)
		e->listening = true;
	addr_norm(ev->local, a, sizeof(a));
	xput(&m->listeners, a, strlen(a), (void *)(intptr_t)ev->pid);
	if (addr_is_wildcard(a)) {
		char k[32];
		snprintf(k, sizeof(k), "*:%d", addr_port(a));
		xput(&m->listeners, k, strlen(k), (void *)(intptr_t)ev->pid);
	}
}

/* connect (side 0) or accept (side 1) of a stream. */
static void on_setup(struct model *m, struct proc *pr, struct vev *ev, int me, int fd)
{
	struct addrs a;
	char key[2 * ADDR_MAX + 4];
	struct conn *c = NULL;
	bool specific;
	struct fdent *e = fd_get(pr, fd);

	addrs_of(&a, ev->local, ev->peer ? ev->peer : (me == 0 ? ev->addr : NULL));
	if (!a.has_l || !a.has_p) {
		/* The shim did not know the endpoints: a connection of its own. */
		c = conn_new(m, CONN_STREAM, me == 0 ? a.l : a.p, me == 0 ? a.p : a.l);
		goto joined;
	}
	/* connect again on a socket in progress (EALREADY, EISCONN, 0). */
	if (me == 0 && e && e->conn && !e->closed && e->conn->side[0].connected &&
	    side_matches(e->conn, 0, a.l, a.p)) {
		touch(e->conn, 0, ev);
		if (!ev->err || strcmp(ev->err, "EISCONN") == 0)
			conclude(e->conn, OUT_ESTABLISHED, ev->tend);
		return;
	}
	pair_key(key, sizeof(key), 's', a.l, a.p);
	specific = addr_is_specific(a.l) && addr_is_specific(a.p);
	if (specific) {
		c = hmap_gets(&m->live, key);
		if (c && (side_of(c, a.l, a.p) != me ||
			  (me == 0 ? c->side[0].connected : c->side[1].accepted)))
			c = NULL; /* the same pair of addresses, a new connection */
	} else {
		c = cq_pop(cq_get(me == 0 ? &m->wait_connect : &m->wait_accept, key, false), me,
			   me == 0 ? ev->pid : ev->peer_pid, ev);
	}
	if (!c) {
		c = conn_new(m, CONN_STREAM, me == 0 ? a.l : a.p, me == 0 ? a.p : a.l);
		if (specific)
			xput(&m->live, key, strlen(key), c);
		else
			cq_push(cq_get(me == 0 ? &m->wait_accept : &m->wait_connect, key, true), c);
	}
	conn_set_addr(c, me, a.l);
	conn_set_addr(c, 1 - me, a.p);
	if (me == 1 && ev->peer_pid)
		c->client_pid = ev->peer_pid;
	if (!c->client_ino)
		c->client_ino = me == 0 ? ev->ino : ev->peer_ino;
	if (me == 1 && c->accepted_at == INT64_MAX)
		c->accepted_at = ev->tend;
joined:
	if (me == 0)
		c->side[0].connected = true;
	else
		c->side[1].accepted = true;
	touch(c, me, ev);
	fd_bind(m, pr, fd, c, me, SOCK_IS_STREAM, ev->tend);
	ev->link = LINK_CONNECT;
	ev->out = me == 0;
	if (me == 0 && c->connect_t < 0)
		c->connect_t = ev->t;
	if (me == 1) {
		/* The accept is the effect of the connect it answered. */
		conclude(c, OUT_ESTABLISHED, ev->tend);
		if (c->connect_ev && !c->linked) {
			add_cause(ev, c->connect_ev);
			c->linked = true;
		} else if (!c->linked) {
			evnode_set(&c->accept_ev, ev->node);
			/* A traced client's connect may return after it. */
			await(ev, wait_for(m, c, 0));
		}
		return;
	}
	if (!c->linked && !c->connect_ev) {
		evnode_set(&c->connect_ev, ev->node);
		if (c->accept_ev) {
			if (link_back(m, c->accept_ev, ev))
				arrived(c->accept_ev);
			c->linked = true;
			evnode_set(&c->accept_ev, NULL);
		}
	}
	if (!ev->err || strcmp(ev->err, "EISCONN") == 0) {
		conclude(c, OUT_ESTABLISHED, ev->tend);
	} else if ((ev->pending || strcmp(ev->err, "EINTR") == 0) && c->outcome == OUT_UNKNOWN &&
		   !c->in_progress && !c->prior) {
		/* Held until what follows says how it went. */
		evnode_set(&c->in_progress, ev->node);
		await(ev, m->window);
	}
}

static void on_failed_connect(struct model *m, struct proc *pr, struct vev *ev)
{
	struct fdent *e = fd_get(pr, ev->fd);
	char l[ADDR_MAX], p[ADDR_MAX];
	struct conn *c;

	addr_norm(ev->local, l, sizeof(l));
	addr_norm(ev->addr ? ev->addr : ev->peer, p, sizeof(p));
	if (e && e->conn && !e->closed && e->conn->side[0].connected &&
	    side_matches(e->conn, 0, NULL, p)) {
		c = e->conn; /* the result of a connect in progress */
	} else {
		c = conn_new(m, CONN_STREAM, l, p);
		c->side[0].connected = true;
		fd_bind(m, pr, ev->fd, c, 0, SOCK_IS_STREAM, ev->tend);
	}
	snprintf(c->fail, sizeof(c->fail), "%s", ev->err);
	c->fail_injected = vev_is_fake(ev);
	if (c->connect_t < 0)
		c->connect_t = ev->t;
	conclude(c, OUT_FAILED, ev->tend);
	touch(c, 0, ev);
}

/* Which datagram flow: by the pair of ports, a wildcard host matching any. */
static struct conn *dgram_resolve(struct model *m, struct proc *pr, const struct vev *ev,
				  bool sending, int *side)
{
	const char *remote = ev->addr ? ev->addr : ev->peer;
	char l[ADDR_MAX], r[ADDR_MAX], kl[ADDR_MAX], kr[ADDR_MAX], key[2 * ADDR_MAX + 4];
	struct fdent *e;
	bool inherited;
	struct cqueue *q;
	struct conn *c;

	addr_norm(ev->local, l, sizeof(l));
	addr_norm(remote, r, sizeof(r));
	e = fd_lookup(m, pr, ev->fd, &inherited);
	if (!remote) {
		/* A connected datagram socket's send without an address. */
		if (e && e->conn && e->conn->kind == CONN_DGRAM) {
			*side = e->side;
			return e->conn;
		}
		return NULL;
	}
	if (addr_port(l) > 0)
		snprintf(kl, sizeof(kl), "%d", addr_port(l));
	else
		snprintf(kl, sizeof(kl), "%s", l);
	if (addr_port(r) > 0)
		snprintf(kr, sizeof(kr), "%d", addr_port(r));
	else
		snprintf(kr, sizeof(kr), "%s", r);
	pair_key(key, sizeof(key), 'd', kl, kr);
	q = cq_get(&m->dgram, key, true);
	for (size_t i = 0; i < q->len; i++) {
		c = q->v[i];
		for (int s = 0; s < 2; s++) {
			if ((!ev->local || !*c->side[s].addr || addr_compatible(c->side[s].addr, l)) &&
			    addr_compatible(c->side[1 - s].addr, r)) {
				conn_set_addr(c, s, ev->local ? l : NULL);
				conn_set_addr(c, 1 - s, r);
				*side = s;
				return c;
			}
		}
	}
	/* A new flow: whoever sends first is side 0. */
	*side = sending ? 0 : 1;
	c = conn_new(m, CONN_DGRAM, sending ? l : r, sending ? r : l);
	cq_push(q, c);
	return c;
}

/* Drops sends from the front of q that no recv can consume any more:
 * INFLIGHT_MAX bytes behind the last one sent (counted), or, when nobody
 * traced has been seen on the receiving side, older than the window. */
static void prune_sends(struct model *m, struct segq *q, int64_t sent, bool reader_seen)
{
	while (q->len) {
		const struct seg *o = segq_at(q, 0);
		if (sent - o->end > INFLIGHT_MAX)
			m->bound_drops++;
		else if (reader_seen || o->tend >= sat_sub64(m->now, m->window))
			break;
		segq_drop_front(q);
	}
}

/* Drops receives from the front of q that went out without their causes
 * and that no send fed later can be linked to: nobody traced seen on the
 * sending side (its sends would have come within the short window), or
 * INFLIGHT_MAX behind. */
static void prune_recvs(struct model *m, struct segq *q, int64_t recvd, bool sender_seen)
{
	while (q->len) {
		const struct seg *o = segq_at(q, 0);
		if (o->node->ev)
			break;
		if (recvd - o->end <= INFLIGHT_MAX &&
		    (sender_seen || o->tend >= sat_sub64(m->now, WINDOW_SHORT)))
			break;
		segq_drop_front(q);
	}
}

static void data_stream(struct model *m, struct conn *c, int s, struct vev *ev, int64_t n)
{
	bool sending = ev->op == OP_SEND;
	int d = sending ? s : 1 - s; /* the sending side */
	struct segq *sends = &c->sendq[d], *recvs = &c->recvq[d];
	int64_t start = sending ? c->sent_off[d] : c->recv_off[d];
	struct seg sg = { ev->node, start, sat_add64(start, n), ev->tend };

	ev->link = LINK_DATA;
	ev->out = sending;
	ev->off = sg.start;
	if (sending) {
		c->sent_off[d] = sg.end;
		/* Receives read before this send that got some of its bytes:
		 * it is one of their causes. Their ranges are in stream order. */
		for (size_t i = 0; i < recvs->len; i++) {
			struct seg *o = segq_at(recvs, i);
			if (o->start >= sg.end)
				break;
			if (o->end > sg.start && link_back(m, o->node, ev) && o->end <= c->sent_off[d])
				arrived(o->node);
		}
		while (recvs->len && segq_at(recvs, 0)->end <= c->sent_off[d])
			segq_drop_front(recvs);
		if (c->recv_off[d] < sg.end) {
			segq_push(sends, &sg);
			prune_sends(m, sends, c->sent_off[d], c->side[1 - d].seen);
		}
		return;
	}
	if (c->first_data_t[d] < 0)
		c->first_data_t[d] = ev->tend;
	for (size_t i = 0; i < sends->len; i++) {
		struct seg *o = segq_at(sends, i);
		if (o->start >= sg.end)
			break;
		if (o->end > sg.start)
			add_cause(ev, o->node);
	}
	if (!ev->peek) {
		c->recv_off[d] = sg.end;
		while (sends->len && segq_at(sends, 0)->end <= c->recv_off[d])
			segq_drop_front(sends);
	}
	if (c->sent_off[d] < sg.end) {
		/* Bytes the reader has not given the send of yet. */
		prune_recvs(m, recvs, c->recv_off[d], c->side[d].seen);
		segq_push(recvs, &sg);
		await(ev, wait_for(m, c, d));
	}
}

/* Datagrams pair one to one, first in first out among those of the same
 * size. */
static void data_dgram(struct model *m, struct conn *c, int s, struct vev *ev, int64_t n)
{
	bool sending = ev->op == OP_SEND;
	int d = sending ? s : 1 - s;
	struct segq *sends = &c->sendq[d], *recvs = &c->recvq[d];
	struct seg sg = { ev->node, 0, n, ev->tend };

	ev->link = LINK_DATA;
	ev->out = sending;
	if (sending) {
		for (size_t i = 0; i < recvs->len; i++) {
			struct seg *o = segq_at(recvs, i);
			if (o->end == n) {
				if (link_back(m, o->node, ev))
					arrived(o->node);
				segq_remove(recvs, i);
				return;
			}
		}
		/* Unread datagrams go after a while: their reader was not
		 * traced, or they were lost. */
		while (sends->len && segq_at(sends, 0)->tend < sat_sub64(m->now, m->window))
			segq_drop_front(sends);
		segq_push(sends, &sg);
		return;
	}
	for (size_t i = 0; i < sends->len; i++) {
		struct seg *o = segq_at(sends, i);
		if (o->end == n) {
			add_cause(ev, o->node);
			segq_remove(sends, i);
			return;
		}
	}
	while (recvs->len && !segq_at(recvs, 0)->node->ev &&
	       segq_at(recvs, 0)->tend < sat_sub64(m->now, WINDOW_SHORT))
		segq_drop_front(recvs);
	segq_push(recvs, &sg);
	/* Its sender's record may come a little after it. */
	await(ev, wait_for(m, c, d));
}

/* ---- who holds a connection ----
 *
 * An end of a connection is closed when the last descriptor on it is:
 * a close with another descriptor still open (a dup, a forked child's
 * copy) is not the end, and sends no FIN. Descriptors are counted as they
 * are seen; a forked child's copies are seen only when it uses them, so a
 * close that leaves none known may still leave one to a child that has
 * not used it yet: such a close is the end only if no traced descendant of
 * the process may hold it (ptree.h), and it is looked at again when that
 * matters. */

struct heir_ask {
	struct model *m;
	const struct conn *c;
	int fd;
};

/* A descendant that never used the descriptor number may have it from
 * the fork; one that did knows what it is. */
static bool may_hold(void *ctx, int pid)
{
	const struct heir_ask *a = ctx;
	struct proc *pr = proc_find(a->m, pid);
	struct fdent *e = pr ? fd_get(pr, a->fd) : NULL;

	return !e || (e->conn == a->c && e->held);
}

/* Whether side s, released by its last known holder, may be held still. */
static bool heirs_remain(struct model *m, struct conn *c, int s)
{
	const struct cside *sd = &c->side[s];
	struct heir_ask ask = { m, c, sd->last_fd };

	return ptree_heir(m->tree, sd->last_pid, sd->last_since, may_hold, &ask);
}

/* Whether nobody holds side s of c any more (looked at again while a
 * forked child may). */
static bool side_closed(struct model *m, struct conn *c, int s)
{
	struct cside *sd = &c->side[s];

	if (!sd->closed && sd->holders == 0 && sd->last_pid)
		sd->closed = !heirs_remain(m, c, s);
	return sd->closed;
}

/* Both ends closed: the queues go (a late call still finds the
 * connection by its addresses, which stay in the live table until a new
 * connect or accept reuses them: another thread's recv may return after
 * the close, or fall outside the reader's look-ahead). */
static void conn_done(struct conn *c)
{
	for (int d = 0; d < 2; d++) {
		segq_free(&c->sendq[d]);
		segq_free(&c->recvq[d]);
	}
}

/* Descriptor fd of pid, e, no longer holds its side (closed, replaced, or
 * its process exited). Returns true when it was the last one known. */
static bool let_go(struct model *m, int pid, int fd, struct fdent *e)
{
	struct conn *c = e->conn;
	struct cside *sd;

	if (!e->held)
		return true;
	e->held = false;
	sd = &c->side[e->side];
	if (--sd->holders > 0)
		return false;
	sd->last_pid = pid;
	sd->last_fd = fd;
	sd->last_since = e->since;
	sd->closed = !heirs_remain(m, c, e->side);
	if (sd->closed && side_closed(m, c, 1 - e->side))
		conn_done(c);
	return true;
}

/* Whether side s's FIN is the end of it: its first shutdown(SHUT_WR),
 * or a close after which no forked child may hold the socket. */
static bool fin_final(struct model *m, struct conn *c, int s)
{
	struct cside *sd = &c->side[s];

	if (sd->fin_tentative && side_closed(m, c, s))
		sd->fin_tentative = false;
	return sd->fin && !sd->fin_tentative;
}

/* Side s's FIN (or its reset) is ev: a close/shutdown(SHUT_WR) that left
 * no descriptor known open (a shutdown acts on the socket: always), or
 * the end of its last holder. It causes the peer's EOF, if read. */
static void fin_by(struct model *m, struct conn *c, int s, struct vev *ev, bool tentative)
{
	struct cside *me = &c->side[s], *peer = &c->side[1 - s];

	/* A FIN goes once: a close after shutdown(SHUT_WR) sends nothing. */
	if (me->fin && !me->fin_tentative)
		return;
	evnode_set(&me->fin, ev->node);
	me->fin_kind = ev->kind == TR_END ? FIN_EXIT : ev->op == OP_SHUTDOWN ? FIN_SHUTDOWN : FIN_CLOSE;
	me->fin_tentative = tentative;
	if (!tentative && peer->eof && !peer->eof_paired) {
		if (ev->conn == c) {
			ev->link = LINK_CLOSE;
			ev->out = true;
		}
		if (link_back(m, peer->eof, ev))
			arrived(peer->eof);
		peer->eof_paired = true;
	}
}

/* A close/shutdown(SHUT_WR) by side s; last: it left no descriptor known
 * open. */
static void on_fin(struct model *m, struct conn *c, int s, struct vev *ev, bool last)
{
	if (!last)
		return; /* a copy closed: the socket stays open */
	fin_by(m, c, s, ev, ev->op == OP_CLOSE && !c->side[s].closed);
}

/* The peer's FIN may be the cause of side s's EOF: final, and not a close
 * that more data from the same side followed (a forking server's copy,
 * before the holders were known). */
static bool fin_caused_eof(struct model *m, struct conn *c, int s)
{
	struct cside *peer = &c->side[1 - s];

	return fin_final(m, c, 1 - s) && peer->fin->in > peer->last_send;
}

/* A recv on side s that returned 0 (or failed with ECONNRESET). */
static void on_eof(struct model *m, struct conn *c, int s, struct vev *ev)
{
	struct cside *me = &c->side[s], *peer = &c->side[1 - s];

	if (me->eof_paired || me->eof)
		return; /* only the first one is the peer's doing */
	ev->link = LINK_CLOSE;
	ev->out = false;
	if (fin_caused_eof(m, c, s)) {
		add_cause(ev, peer->fin);
		me->eof_paired = true;
		return;
	}
	evnode_set(&me->eof, ev->node);
	await(ev, wait_for(m, c, 1 - s));
}

void model_settle(struct model *m, struct vev *ev)
{
	struct conn *c = ev->conn;
	int s = ev->side;

	/* An EOF whose FIN was tentative (a forked child might have held the
	 * socket) when it was read: it went out since, if it is final now. */
	if (!c || s < 0 || ev->link != LINK_CLOSE || ev->out || c->side[s].eof != ev->node ||
	    c->side[s].eof_paired)
		return;
	if (fin_caused_eof(m, c, s) && !c->side[1 - s].fin->ev) {
		add_cause(ev, c->side[1 - s].fin);
		c->side[s].eof_paired = true;
	}
}

/* pid exited (ev, its end record): each of its descriptors is let go,
 * and the kernel closes a stream socket it was the last to hold: its end
 * is that side's FIN. */
static void proc_exited(struct model *m, struct proc *pr, struct vev *ev)
{
	size_t pos = 0;
	const struct hmap_ent *he;

	ptree_exited(m->tree, pr->pid);
	while ((he = hmap_next(&pr->fds, &pos))) {
		struct fdent *e = he->val;
		struct conn *c = e->conn;
		bool held = e->held;
		int fd;
		memcpy(&fd, he->key, sizeof(fd));
		if (let_go(m, pr->pid, fd, e) && held && c && c->kind == CONN_STREAM &&
		    c->side[e->side].closed && !fin_final(m, c, e->side))
			fin_by(m, c, e->side, ev, false);
	}
	hmap_free(&pr->fds, fdent_free);
}

/* A descriptor known to be a datagram socket (from its socket() call). */
static bool known_dgram(const struct model *m, struct proc *pr, int fd)
{
	bool inherited;
	struct fdent *e = fd_lookup(m, pr, fd, &inherited);

	return e && (e->type == SOCK_IS_DGRAM || (e->conn && e->conn->kind == CONN_DGRAM));
}

static bool is_dgram_event(const struct model *m, struct proc *pr, const struct vev *ev)
{
	bool inherited;
	struct fdent *e = fd_lookup(m, pr, ev->fd, &inherited);

	if (e && e->type != SOCK_UNKNOWN_TYPE)
		return e->type == SOCK_IS_DGRAM;
	if (e && e->conn)
		return e->conn->kind == CONN_DGRAM;
	/* Never saw its socket(): an address on each datagram and no peer. */
	return ev->addr && !ev->peer;
}

/* The set-up of c, a connect in progress, failed with err. */
static void connect_failed(struct conn *c, const char *err, bool injected, int64_t t)
{
	if (c->outcome != OUT_UNKNOWN)
		return;
	snprintf(c->fail, sizeof(c->fail), "%s", err);
	c->fail_injected = injected;
	conclude(c, OUT_FAILED, t);
}

static void on_getsockopt(struct proc *pr, const struct vev *ev)
{
	struct fdent *e = fd_get(pr, ev->fd);
	struct conn *c = e ? e->conn : NULL;

	/* The outcome of a non-blocking connect: SO_ERROR is an errno name,
	 * or 0 (a number) once the connection is up. */
	if (ev->err || !c || c->kind != CONN_STREAM || !ev->opt ||
	    strcmp(ev->opt, "SO_ERROR") != 0 || !c->side[0].connected || e->side != 0 ||
	    c->outcome != OUT_UNKNOWN)
		return;
	if (ev->value)
		connect_failed(c, ev->value, false, ev->tend);
	else
		conclude(c, OUT_ESTABLISHED, ev->tend);
}

/* What a data call on the connecting side says of a connect in progress. */
static void data_concludes(struct conn *c, int s, const struct vev *ev)
{
	if (c->outcome != OUT_UNKNOWN || s != 0 || !c->side[0].connected)
		return;
	if (!ev->err)
		conclude(c, OUT_ESTABLISHED, ev->tend);
	else if (!ev->pending && strcmp(ev->err, "ENOTCONN") != 0 && strcmp(ev->err, "EINTR") != 0)
		connect_failed(c, ev->err, vev_is_fake(ev), ev->tend);
}

/* Counts n bytes of one data call on side sd (a peek moved none). */
static void count_data(struct cside *sd, const struct vev *ev, int64_t n)
{
	if (ev->op == OP_SEND) {
		sd->bytes = sat_add64(sd->bytes, n);
		sd->msgs++;
	} else if (!ev->peek) {
		sd->bytes_in = sat_add64(sd->bytes_in, n);
		sd->msgs_in++;
	}
}

/* Bytes one call can move (a count above it is damage, not data). */
#define MAX_CALL_BYTES ((int64_t)1 << 48)

static void on_data(struct model *m, struct proc *pr, struct vev *ev)
{
	bool sending = ev->op == OP_SEND;
	int64_t n = ev->bytes >= 0 ? ev->bytes : ev->ret;

	struct conn *c;
	int s;

	if (n > MAX_CALL_BYTES)
		return;

	if (is_dgram_event(m, pr, ev)) {
		if (ev->err)
			return;
		c = dgram_resolve(m, pr, ev, sending, &s);
		if (!c)
			return;
		touch(c, s, ev);
		count_data(&c->side[s], ev, n);
		if (!ev->peek)
			data_dgram(m, c, s, ev, n);
		return;
	}
	c = stream_resolve(m, pr, ev, ev->fd, true, &s);
	if (!c)
		return;
	touch(c, s, ev);
	data_concludes(c, s, ev);
	if (ev->err) {
		/* The reset rule really aborts the connection (preload/shim/
		 * fault.c, reset_connection): the peer's ECONNRESET or EOF is
		 * its doing, whichever call it acted on. */
		if (vev_is_fake(ev) && ev->fault_action && strcmp(ev->fault_action, "reset") == 0) {
			c->side[s].reset_injected = true;
			fin_by(m, c, s, ev, false);
			return;
		}
		if (!sending && strcmp(ev->err, "ECONNRESET") == 0) {
			/* A made-up reset says nothing of the peer: no pairing. */
			if (vev_is_fake(ev)) {
				c->side[s].reset_injected = true;
			} else {
				c->side[s].reset = true;
				on_eof(m, c, s, ev);
			}
		}
		return;
	}
	if (n < 0)
		return;
	if (sending) {
		if (n == 0)
			return;
		count_data(&c->side[s], ev, n);
		c->side[s].last_send = ev->in;
		data_stream(m, c, s, ev, n);
	} else if (n == 0) {
		/* A made-up end of stream says nothing of the peer either. */
		if (vev_is_fake(ev))
			c->side[s].eof_injected = true;
		else if (!ev->peek)
			on_eof(m, c, s, ev);
	} else {
		count_data(&c->side[s], ev, n);
		data_stream(m, c, s, ev, n);
	}
}

static void on_close(struct model *m, struct proc *pr, struct vev *ev)
{
	struct fdent *e = fd_get(pr, ev->fd);
	struct conn *c;
	bool last = true;
	int s;

	if (ev->err)
		return;
	if (ev->op == OP_SHUTDOWN && ev->how && strcmp(ev->how, "SHUT_RD") == 0)
		return;
	if (e && e->type == SOCK_IS_DGRAM && !(e->conn && e->conn->kind == CONN_STREAM)) {
		if (ev->op == OP_CLOSE) {
			let_go(m, pr->pid, ev->fd, e);
			e->closed = true;
			e->until = ev->tend;
		}
		return;
	}
	c = stream_resolve(m, pr, ev, ev->fd, false, &s);
	if (ev->op == OP_CLOSE) {
		e = fd_get(pr, ev->fd);
		if (e) {
			last = let_go(m, pr->pid, ev->fd, e);
			e->closed = true;
			e->until = ev->tend;
		}
	}
	if (!c || c->kind != CONN_STREAM)
		return;
	touch(c, s, ev);
	if (ev->op == OP_CLOSE && last && s == 0 && c->in_progress)
		conclude(c, OUT_ABANDONED, ev->tend);
	on_fin(m, c, s, ev, last);
}

static void on_dup(struct model *m, struct proc *pr, const struct vev *ev)
{
	bool inherited;
	struct fdent *e = fd_lookup(m, pr, ev->fd, &inherited), *n;

	if (ev->err || !e || ev->ret < 0 || ev->ret > (1 << 30) || ev->ret == ev->fd)
		return;
	if (inherited) {
		/* A forked child's copy (socat's EXEC: dup2 of an inherited
		 * socketpair onto 0 and 1, then exec): its own from now on. */
		if (!e->conn)
			return;
		fd_bind(m, pr, ev->fd, e->conn, e->side, e->type, INT64_MIN);
		e = fd_get(pr, ev->fd);
	}
	struct fdent copy = *e;
	n = fd_new(m, pr, (int)ev->ret);
	copy.prev = n->prev;
	copy.until = INT64_MAX;
	*n = copy;
	n->held = false;
	n->since = ev->tend;
	/* Another descriptor on the same socket: one more to close. */
	if (copy.held)
		hold(n, ev->tend);
}

void model_feed(struct model *m, struct vev *ev)
{
	struct proc *pr;

	if (!m->tree_built) {
		/* Which processes exist: from the files, before their calls. */
		m->tree_built = true;
		if (ev->file && ev->file->reader)
			m->tree = ptree_new(ev->file->reader);
	}
	pr = proc_of(m, ev);
	if (ev->tend > m->now)
		m->now = ev->tend;

	if (ev->kind == TR_END) {
		/* Its descriptors are gone (their copies in its children stay);
		 * not at exec, which keeps those without close-on-exec. */
		if (!ev->reason || strcmp(ev->reason, "exec") != 0)
			proc_exited(m, pr, ev);
		return;
	}
	if (ev->kind != TR_CALL)
		return;
	switch (ev->op) {
	case OP_SOCKET:
		on_socket(m, pr, ev);
		break;
	case OP_SOCKETPAIR:
		on_socketpair(m, pr, ev);
		break;
	case OP_LISTEN:
		on_listen(m, pr, ev);
		break;
	case OP_ACCEPT:
		if (!ev->err && ev->ret >= 0 && ev->ret <= (1 << 30))
			on_setup(m, pr, ev, 1, (int)ev->ret);
		break;
	case OP_CONNECT:
		if (ev->fd < 0)
			break;
		if (known_dgram(m, pr, ev->fd)) {
			int s;
			struct conn *c;
			if (ev->err)
				break;
			c = dgram_resolve(m, pr, ev, true, &s);
			if (c) {
				touch(c, s, ev);
				fd_bind(m, pr, ev->fd, c, s, SOCK_IS_DGRAM, ev->tend);
			}
		} else if (!ev->err || strcmp(ev->err, "EINPROGRESS") == 0 ||
			   strcmp(ev->err, "EALREADY") == 0 || strcmp(ev->err, "EISCONN") == 0 ||
			   strcmp(ev->err, "EINTR") == 0) {
			on_setup(m, pr, ev, 0, ev->fd);
		} else {
			on_failed_connect(m, pr, ev);
		}
		break;
	case OP_SEND:
	case OP_RECV:
		if (ev->fd >= 0)
			on_data(m, pr, ev);
		break;
	case OP_SHUTDOWN:
	case OP_CLOSE:
		if (ev->fd >= 0)
			on_close(m, pr, ev);
		break;
	case OP_DUP:
		on_dup(m, pr, ev);
		break;
	case OP_OPT:
		if (ev->call == ST_FN_getsockopt)
			on_getsockopt(pr, ev);
		break;
	default:
		break;
	}
	/* Its role: a forked child serving what its parent accepted is a
	 * server too; both ends of a socketpair are its own. */
	if (ev->conn && ev->side >= 0 && !ev->conn->socketpair)
		pr->sides |= 1u << ev->side;
}

/* ---- the model ---- */

struct model *model_new(int64_t window)
{
	struct model *m = xcalloc(1, sizeof(struct model));

	m->window = window > 0 ? window : WINDOW_DEFAULT;
	m->now = INT64_MIN;
	return m;
}

unsigned long model_late_links(const struct model *m)
{
	return m->late;
}

unsigned long model_bound_drops(const struct model *m)
{
	return m->bound_drops;
}

void model_free(struct model *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->nconns; i++) {
		struct conn *c = m->conns[i];
		for (int d = 0; d < 2; d++) {
			segq_free(&c->sendq[d]);
			segq_free(&c->recvq[d]);
			free(c->side[d].addr);
			evnode_unref(c->side[d].fin);
			evnode_unref(c->side[d].eof);
		}
		evnode_unref(c->connect_ev);
		evnode_unref(c->accept_ev);
		evnode_unref(c->in_progress);
		free(c);
	}
	free(m->conns);
	free(m->prior);
	hmap_free(&m->procs, proc_free);
	hmap_free(&m->live, NULL);
	hmap_free(&m->wait_accept, cq_free);
	hmap_free(&m->wait_connect, cq_free);
	hmap_free(&m->dgram, cq_free);
	hmap_free(&m->listeners, NULL);
	ptree_free(m->tree);
	free(m);
}

size_t model_nconns(const struct model *m)
{
	return m->nconns;
}

const struct conn *model_conn(const struct model *m, size_t i)
{
	return i < m->nconns ? m->conns[i] : NULL;
}

int model_listener(const struct model *m, const char *addr)
{
	char k[ADDR_MAX];
	void *v;

	if (!addr || !*addr)
		return 0;
	addr_norm(addr, k, sizeof(k));
	v = hmap_gets(&m->listeners, k);
	if (!v && addr_port(k) > 0) {
		snprintf(k, sizeof(k), "*:%d", addr_port(addr));
		v = hmap_gets(&m->listeners, k);
	}
	return (int)(intptr_t)v;
}

int model_parent(const struct model *m, int pid)
{
	const struct proc *p = proc_find(m, pid);

	return p && p->ppid > 0 && p->ppid != pid && proc_find(m, p->ppid) ? p->ppid : 0;
}

void proc_caption(const struct model *m, int pid, char *buf, size_t cap)
{
	int parent = model_parent(m, pid);

	if (parent)
		snprintf(buf, cap, "pid %d ppid %d", pid, parent);
	else
		snprintf(buf, cap, "pid %d", pid);
}

const char *model_prog(const struct model *m, int pid)
{
	struct proc *p = proc_find(m, pid);

	return p ? p->prog : "?";
}

const char *model_name(const struct model *m, int pid)
{
	struct proc *p = proc_find(m, pid);

	return p ? p->name : "?";
}

const char *model_role(const struct model *m, int pid)
{
	const struct proc *p = proc_find(m, pid);
	unsigned sides = p ? p->sides : 0;

	return sides == 3 ? "client and server" : sides == 1 ? "client" : sides == 2 ? "server" : "";
}

void model_take_prior(struct model *m, const struct model *first)
{
	free(m->prior);
	m->nprior = first->nconns;
	m->prior = xcalloc(m->nprior, sizeof(*m->prior));
	for (size_t i = 0; i < m->nprior; i++) {
		const struct conn *c = first->conns[i];
		struct conn_prior *p = &m->prior[i];
		p->outcome = c->outcome;
		memcpy(p->fail, c->fail, sizeof(p->fail));
		p->fail_injected = c->fail_injected;
		p->seen[0] = c->side[0].seen;
		p->seen[1] = c->side[1].seen;
	}
}

enum conn_outcome conn_outcome(const struct conn *c)
{
	if (c->outcome == OUT_UNKNOWN && c->prior)
		return c->prior->outcome;
	return c->outcome;
}

const char *conn_fail(const struct conn *c)
{
	if (!c->fail[0] && c->prior)
		return c->prior->fail;
	return c->fail;
}

const char *conn_outcome_text(const struct conn *c)
{
	const char *fail = conn_fail(c);

	switch (conn_outcome(c)) {
	case OUT_ESTABLISHED:
		return "established";
	case OUT_FAILED:
		if (strcmp(fail, "ECONNREFUSED") == 0)
			return "refused";
		if (strcmp(fail, "ETIMEDOUT") == 0)
			return "timed out";
		if (strcmp(fail, "ENETUNREACH") == 0 || strcmp(fail, "EHOSTUNREACH") == 0)
			return "unreachable";
		return "failed";
	case OUT_ABANDONED:
		return "abandoned";
	default:
		return c->side[0].connected ? "in progress" : "unknown";
	}
}

/* Which of two FINs came first: the call that began first sent it (the
 * output order puts a thread held for a cause after others, so it does
 * not tell), the output order breaking ties; before they are out, the
 * reader's order. */
static bool fin_before(const struct evnode *a, const struct evnode *b)
{
	if (!b)
		return true;
	if (a->ref.seq && b->ref.seq) {
		if (a->ref.t != b->ref.t)
			return a->ref.t < b->ref.t;
		return a->ref.seq < b->ref.seq;
	}
	return a->in < b->in;
}

const char *conn_end_text(const struct conn *c, char *buf, size_t cap)
{
	const struct evnode *f0 = c->side[0].fin, *f1 = c->side[1].fin;

	if (c->fail[0]) {
		snprintf(buf, cap, "%s (%s%s)",
			 strcmp(c->fail, "ECONNREFUSED") == 0 ? "refused" : "failed", c->fail,
			 c->fail_injected ? ", injected" : "");
	} else if (c->side[0].reset || c->side[1].reset) {
		snprintf(buf, cap, "reset by %s",
			 conn_side_name(c, c->side[0].reset ? 1 : 0));
	} else if (c->side[0].reset_injected || c->side[1].reset_injected) {
		snprintf(buf, cap, "reset injected at %s",
			 conn_side_name(c, c->side[0].reset_injected ? 0 : 1));
	} else if ((c->side[0].eof_injected || c->side[1].eof_injected) &&
		   !(c->side[0].fin && c->side[1].fin)) {
		snprintf(buf, cap, "EOF injected at %s",
			 conn_side_name(c, c->side[0].eof_injected ? 0 : 1));
	} else if (c->kind == CONN_DGRAM) {
		snprintf(buf, cap, "datagrams");
	} else if (!f0 && !f1) {
		snprintf(buf, cap, "open at end of trace");
	} else {
		/* Who sent the first FIN, how, and whether the other end read
		 * the end of the stream. */
		static const char *const how[] = { "closed", "shut down", "exited" };
		int s = f0 && fin_before(f0, f1) ? 0 : 1;
		const struct cside *peer = &c->side[1 - s];
		bool eof = peer->eof || peer->eof_paired;
		snprintf(buf, cap, "%s %s first%s%s%s", conn_side_name(c, s), how[c->side[s].fin_kind],
			 eof ? " (" : "", eof ? conn_side_name(c, 1 - s) : "", eof ? " read EOF)" : "");
	}
	return buf;
}

int64_t conn_bytes(const struct conn *c, int d, int64_t *msgs)
{
	const struct cside *from = &c->side[d], *to = &c->side[1 - d];

	if (msgs)
		*msgs = from->msgs > to->msgs_in ? from->msgs : to->msgs_in;
	return from->bytes > to->bytes_in ? from->bytes : to->bytes_in;
}

const char *vev_result_err(const struct vev *ev)
{
	if (!ev->pending || ev->op != OP_CONNECT || !ev->conn)
		return ev->err;
	switch (conn_outcome(ev->conn)) {
	case OUT_ESTABLISHED:
		return NULL;
	case OUT_FAILED:
		return conn_fail(ev->conn);
	default:
		return ev->err;
	}
}

bool vev_is_error(const struct vev *ev)
{
	const char *err = vev_result_err(ev);

	if (ev->fault || ev->warning != NULL)
		return true;
	return err && !vev_errno_pending(err);
}

void proc_label(const struct model *m, int pid, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s %d", model_name(m, pid), pid);
	sanitize_ascii(buf);
}

const char *conn_side_name(const struct conn *c, int side)
{
	if (c->kind == CONN_DGRAM)
		return side == 0 ? "sender" : "receiver";
	return side == 0 ? "client" : "server";
}

const char *conn_proto(const struct conn *c)
{
	const char *a = *c->side[0].addr ? c->side[0].addr : c->side[1].addr;
	bool dgram = c->kind == CONN_DGRAM;

	if (strncmp(a, "unix:", 5) == 0)
		return dgram ? "unix-dgram" : "unix";
	if (a[0] == '[')
		return dgram ? "udp6" : "tcp6";
	if (a[0] >= '0' && a[0] <= '9')
		return dgram ? "udp" : "tcp";
	return dgram ? "dgram" : "stream";
}
