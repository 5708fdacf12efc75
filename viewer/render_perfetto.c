/* perfetto: Chrome Trace Event JSON, as ui.perfetto.dev and
 * chrome://tracing open it. One track per process and thread, each call a
 * complete slice ("X") with the record as its args, injected faults as
 * instant events, and flow arrows ("s" -> "f") from connect to accept,
 * send to recv and close to the peer's EOF. Written as the events come:
 * a flow is written when its second end is read, naming the first. */
#include "render.h"

#include "diagram.h"
#include "hmap.h"
#include "textutil.h"

#include <stdlib.h>
#include <string.h>

struct perfetto {
	struct view_ctx *ctx;
	FILE *out;
	struct hmap seen;    /* pid, or pid+tid: names written */
	uint64_t flow_id;
	bool first;
};

static void *pf_begin(struct view_ctx *ctx)
{
	struct perfetto *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->ctx = ctx;
	s->out = ctx->o->out;
	s->first = true;
	fputs("{\"displayTimeUnit\":\"ns\",\"traceEvents\":[", s->out);
	return s;
}

/* Microseconds with the nanoseconds kept. */
static void put_us(FILE *out, int64_t ns)
{
	const char *sign = ns < 0 ? "-" : "";
	uint64_t a = ns < 0 ? (uint64_t)0 - (uint64_t)ns : (uint64_t)ns;

	fprintf(out, "%s%llu.%03llu", sign, (unsigned long long)(a / 1000),
		(unsigned long long)(a % 1000));
}

static void sep(struct perfetto *s)
{
	fputs(s->first ? "\n" : ",\n", s->out);
	s->first = false;
}

static void put_jstr(FILE *out, const char *str)
{
	json_t *j = json_string(str ? str : "");

	json_dumpf(j, out, JSON_ENCODE_ANY | JSON_ENSURE_ASCII);
	json_decref(j);
}

static void names(struct perfetto *s, const struct vev *ev)
{
	int key[2] = { ev->pid, 0 };
	char label[160];

	if (!hmap_get(&s->seen, key, sizeof(int))) {
		hmap_put(&s->seen, key, sizeof(int), s);
		snprintf(label, sizeof(label), "%s %d", ev->file->prog, ev->pid);
		sanitize_ascii(label);
		sep(s);
		fprintf(s->out, "{\"ph\":\"M\",\"pid\":%d,\"name\":\"process_name\",\"args\":{\"name\":",
			ev->pid);
		put_jstr(s->out, label);
		fputs("}}", s->out);
	}
	key[1] = ev->tid;
	if (!hmap_get(&s->seen, key, sizeof(key))) {
		hmap_put(&s->seen, key, sizeof(key), s);
		if (ev->tid == ev->pid)
			snprintf(label, sizeof(label), "%s %d", ev->file->prog, ev->tid);
		else
			snprintf(label, sizeof(label), "thread %d", ev->tid);
		sanitize_ascii(label);
		sep(s);
		fprintf(s->out, "{\"ph\":\"M\",\"pid\":%d,\"tid\":%d,\"name\":\"thread_name\",\"args\":{\"name\":",
			ev->pid, ev->tid);
		put_jstr(s->out, label);
		fputs("}}", s->out);
	}
}

static const char *flow_name(enum vev_link l)
{
	return l == LINK_CONNECT ? "connect" : l == LINK_DATA ? "data" : "close";
}

/* One end of a flow, on the slice of ref. */
static void flow_end(struct perfetto *s, const char *ph, uint64_t id, const char *name,
		     const struct evref *ref)
{
	sep(s);
	fprintf(s->out, "{\"ph\":\"%s\",%s\"id\":%llu,\"cat\":\"pairing\",\"name\":\"%s\",\"pid\":%d,\"tid\":%d,\"ts\":",
		ph, ph[0] == 'f' ? "\"bp\":\"e\"," : "", (unsigned long long)id, name, ref->pid,
		ref->tid);
	/* Inside the slice, not on its edge: a flow binds to the slice that
	 * encloses its timestamp. */
	put_us(s->out, sat_add64(ref->t, ref->dur / 2));
	fputs("}", s->out);
}

static void pf_event(void *p, struct vev *ev)
{
	struct perfetto *s = p;
	char name[96];

	names(s, ev);
	if (ev->kind == TR_WARNING) {
		/* Not a call: a mark on the process. */
		sep(s);
		fprintf(s->out, "{\"ph\":\"i\",\"s\":\"p\",\"cat\":\"warning\",\"pid\":%d,\"tid\":%d,\"ts\":",
			ev->pid, ev->tid);
		put_us(s->out, ev->t);
		snprintf(name, sizeof(name), "warning %s", ev->warning);
		fputs(",\"name\":", s->out);
		put_jstr(s->out, name);
		fputs(",\"args\":", s->out);
		json_dumpf(ev->j, s->out, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_PRESERVE_ORDER);
		fputs("}", s->out);
		return;
	}
	if (ev->err)
		snprintf(name, sizeof(name), "%s %s", ev->fn, ev->err);
	else
		snprintf(name, sizeof(name), "%s", ev->fn);
	sep(s);
	fprintf(s->out, "{\"ph\":\"X\",\"cat\":\"%s\",\"pid\":%d,\"tid\":%d,\"ts\":",
		ev->kind == TR_CALL ? "call" : "process", ev->pid, ev->tid);
	put_us(s->out, ev->t);
	fputs(",\"dur\":", s->out);
	put_us(s->out, ev->dur);
	fputs(",\"name\":", s->out);
	put_jstr(s->out, name);
	fputs(",\"args\":", s->out);
	if (ev->conn)
		json_object_set_new(ev->j, "conn", json_integer(ev->conn->id));
	json_dumpf(ev->j, s->out, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_PRESERVE_ORDER);
	fputs("}", s->out);
	if (ev->fault) {
		sep(s);
		fprintf(s->out, "{\"ph\":\"i\",\"s\":\"t\",\"cat\":\"fault\",\"pid\":%d,\"tid\":%d,\"ts\":",
			ev->pid, ev->tid);
		put_us(s->out, ev->t);
		fputs(",\"name\":", s->out);
		snprintf(name, sizeof(name), "fault %s", ev->fault_action ? ev->fault_action : ev->fn);
		put_jstr(s->out, name);
		fputs(",\"args\":{\"rule\":", s->out);
		put_jstr(s->out, ev->fault_rule);
		fputs(",\"action\":", s->out);
		put_jstr(s->out, ev->fault_action);
		fputs("}}", s->out);
	}
	size_t n = ev->npartners < VEV_MAXP ? ev->npartners : VEV_MAXP;
	for (size_t i = 0; i < n; i++) {
		struct evref me = vev_ref(ev);
		const struct evref *from = ev->out ? &me : &ev->partners[i];
		const struct evref *to = ev->out ? &ev->partners[i] : &me;
		s->flow_id++;
		flow_end(s, "s", s->flow_id, flow_name(ev->link), from);
		flow_end(s, "f", s->flow_id, flow_name(ev->link), to);
	}
}

static int pf_finish(void *p, bool draw)
{
	struct perfetto *s = p;
	int rc = 0;

	if (draw) {
		fputs("\n]}\n", s->out);
		rc = ferror(s->out) ? 1 : 0;
	}
	hmap_free(&s->seen, NULL);
	free(s);
	return rc;
}

const struct renderer render_perfetto = {
	.begin = pf_begin,
	.event = pf_event,
	.finish = pf_finish,
};
