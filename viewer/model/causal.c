/* The causal order (see causal.h). */
#include "model/causal.h"

#include "util/oom.h"

#include <stdlib.h>
#include <string.h>

struct held {
	struct tr_record rec;
	struct vev ev;
	struct held *next;
};

/* The held events of one thread, oldest first. A thread has a queue only
 * while it has held events: the queues are few (the threads waiting on a
 * cause), so they are found by a scan. */
struct thq {
	int pid, tid;
	struct held *head, *tail;
};

struct causal {
	struct model *m;
	causal_emit_fn emit;
	void *st;
	struct thq *q;
	size_t nq, cap;
	uint64_t out;          /* events written out */
	int64_t frontier;      /* the latest end of a call read */
	size_t held;
	unsigned long forced;
	struct held *spare;    /* freed holders, for the next events */
};

struct causal *causal_new(struct model *m, causal_emit_fn emit, void *st)
{
	struct causal *c = xcalloc(1, sizeof(*c));

	c->m = m;
	c->emit = emit;
	c->st = st;
	c->frontier = INT64_MIN;
	return c;
}

/* Whether every cause linked to ev so far is out. */
static bool causes_out(const struct vev *ev)
{
	size_t n = vev_nlinks(ev);

	for (size_t i = 0; i < n; i++)
		if (ev->causes[i] && ev->causes[i]->ev)
			return false;
	return true;
}

/* Whether a thread of pid other than self's queue (NULL: any) holds
 * events. */
static bool others_of_pid_held(const struct causal *c, int pid, const struct thq *self)
{
	for (size_t i = 0; i < c->nq; i++)
		if (&c->q[i] != self && c->q[i].pid == pid)
			return true;
	return false;
}

/* Whether ev, first of its thread (self: its queue, NULL when it has
 * none), may go out: its causes are out, it waits for none the reader may
 * still give (final: the input has ended), and, the end of a process or
 * its exec, all its threads' calls are out. */
static bool ready(const struct causal *c, const struct vev *ev, const struct thq *self,
		  bool final)
{
	if (ev->awaiting && !final && c->frontier <= ev->hold_until)
		return false;
	if (!causes_out(ev))
		return false;
	if ((ev->kind == TR_END || ev->kind == TR_EXEC) && others_of_pid_held(c, ev->pid, self))
		return false;
	return true;
}

/* Let out before its causes: the links to those not out are dropped;
 * returns how many. */
static size_t drop_held_causes(struct vev *ev)
{
	size_t n = vev_nlinks(ev), k = 0;
	size_t extra = ev->npartners - n;

	for (size_t i = 0; i < n; i++) {
		if (ev->causes[i] && ev->causes[i]->ev)
			evnode_unref(ev->causes[i]);
		else
			ev->causes[k++] = ev->causes[i];
	}
	for (size_t i = k; i < n; i++)
		ev->causes[i] = NULL;
	ev->npartners = k + extra;
	return n - k;
}

/* Writes ev out: its number, its links as they are now, then the
 * renderer. */
static void write_out(struct causal *c, struct held *h)
{
	struct vev *ev = &h->ev;
	struct evnode *node = ev->node;
	size_t n;

	if (ev->awaiting)
		model_settle(c->m, ev); /* may link one more cause */
	n = vev_nlinks(ev);
	ev->awaiting = false;
	ev->seq = ++c->out;
	node->ref = vev_ref(ev);
	node->ev = NULL;
	for (size_t i = 0; i < n; i++) {
		ev->partners[i] = ev->causes[i]->ref;
		evnode_unref(ev->causes[i]);
		ev->causes[i] = NULL;
	}
	c->emit(c->st, ev);
	tr_record_free(&h->rec);
	evnode_unref(node);
	/* Kept for the next event: one allocation fewer per event. */
	h->next = c->spare;
	c->spare = h;
}

static void pop(struct causal *c, size_t qi)
{
	struct thq *q = &c->q[qi];
	struct held *h = q->head;

	q->head = h->next;
	c->held--;
	if (!q->head)
		c->q[qi] = c->q[--c->nq];
	write_out(c, h);
}

/* Writes out every head that may go, oldest first; with final (the end
 * of the input) or past the held limit, lets the oldest head go when
 * nothing may (a cycle of wrong links). */
static void drain(struct causal *c, bool final)
{
	for (;;) {
		size_t best = c->nq, oldest = c->nq;
		for (size_t i = 0; i < c->nq; i++) {
			uint64_t in = c->q[i].head->ev.in;
			if (oldest == c->nq || in < c->q[oldest].head->ev.in)
				oldest = i;
			if ((best == c->nq || in < c->q[best].head->ev.in) &&
			    ready(c, &c->q[i].head->ev, &c->q[i], final))
				best = i;
		}
		if (best == c->nq) {
			if (oldest == c->nq || (!final && c->held <= CAUSAL_HELD_MAX))
				return;
			best = oldest;
			c->forced += drop_held_causes(&c->q[best].head->ev);
		}
		pop(c, best);
	}
}

static struct thq *queue_of(struct causal *c, int pid, int tid)
{
	for (size_t i = 0; i < c->nq; i++)
		if (c->q[i].pid == pid && c->q[i].tid == tid)
			return &c->q[i];
	return NULL;
}

void causal_feed(struct causal *c, struct tr_record *rec, uint64_t in, int64_t base)
{
	struct held *h = c->spare;
	struct evnode *node = xmalloc(sizeof(*node));
	struct vev *ev;
	struct thq *q;

	if (h)
		c->spare = h->next;
	else
		h = xmalloc(sizeof(*h));
	ev = &h->ev;
	h->next = NULL;
	h->rec = *rec;
	memset(rec, 0, sizeof(*rec));
	vev_decode(ev, &h->rec, in, base); /* sets every field */
	memset(node, 0, sizeof(*node));
	node->in = in;
	node->ev = ev;
	node->refs = 1; /* ours, until it is out */
	ev->node = node;
	if (ev->tend > c->frontier)
		c->frontier = ev->tend;
	model_feed(c->m, ev);
	/* What was waiting for this event, or for the reader to get here. */
	drain(c, false);
	q = queue_of(c, ev->pid, ev->tid);
	if (!q && ready(c, ev, NULL, false)) {
		/* The usual case: nothing to wait for. */
		write_out(c, h);
		if (c->nq)
			drain(c, false);
		return;
	}
	if (!q) {
		if (c->nq == c->cap) {
			c->cap = c->cap ? c->cap * 2 : 8;
			c->q = xrealloc(c->q, c->cap * sizeof(*c->q));
		}
		q = &c->q[c->nq++];
		q->pid = ev->pid;
		q->tid = ev->tid;
		q->head = q->tail = h;
	} else {
		q->tail->next = h;
		q->tail = h;
	}
	c->held++;
	drain(c, false);
}

void causal_flush(struct causal *c)
{
	drain(c, true);
}

unsigned long causal_forced(const struct causal *c)
{
	return c->forced;
}

void causal_free(struct causal *c)
{
	if (!c)
		return;
	/* Held events left (an early stop) go unwritten. */
	for (size_t i = 0; i < c->nq; i++) {
		struct held *h = c->q[i].head;
		while (h) {
			struct held *next = h->next;
			size_t n = vev_nlinks(&h->ev);
			for (size_t k = 0; k < n; k++)
				evnode_unref(h->ev.causes[k]);
			h->ev.node->ev = NULL;
			evnode_unref(h->ev.node);
			tr_record_free(&h->rec);
			free(h);
			h = next;
		}
	}
	while (c->spare) {
		struct held *next = c->spare->next;
		free(c->spare);
		c->spare = next;
	}
	free(c->q);
	free(c);
}
