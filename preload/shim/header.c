#include "header.h"

#include "fault.h"
#include "fields.h"
#include "jsonw.h"
#include "recframe.h"
#include "shim.h"

#include <socktrace/trace_format.h>

#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

/* Room for the binary prologue and the frame around the line. */
#define HEADER_PRE (ST_PROLOGUE_LEN + ST_JSON_PRE)
static char header_buf[HEADER_PRE + ST_ARGV_MAX * 2 + 4096 +
		       ST_RULES_MAX * (ST_RULE_TEXT_MAX * 2 + ST_RULE_ORIGIN_MAX) + ST_JSON_POST];

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

char *st_header_build(size_t *len)
{
	struct jw w;
	struct utsname un;
	uint64_t mono, real;
	size_t o = 0;

	jw_init(&w, header_buf + HEADER_PRE, sizeof(header_buf) - HEADER_PRE - ST_JSON_POST);
	jw_obj_begin(&w);
	jw_kv_name(&w, ST_RKEY(header, rec), SOCKTRACE_REC_HEADER);
	jw_kv_name(&w, ST_RKEY(header, format), SOCKTRACE_FORMAT_NAME);
	jw_kv_name(&w, ST_RKEY(header, version), SOCKTRACE_FORMAT_VERSION);
	jw_kv_name(&w, ST_RKEY(header, tool), "socktrace " SOCKTRACE_VERSION);
	jw_kv_i64(&w, ST_RKEY(header, pid), st_shim.pid);
	jw_kv_i64(&w, ST_RKEY(header, ppid), st_shim.ppid);
	jw_kv_i64(&w, ST_RKEY(header, uid), (int64_t)getuid());
	jw_kv_str(&w, ST_RKEY(header, prog), st_shim.prog);
	jw_kv_str(&w, ST_RKEY(header, exe), st_shim.exe);
	jw_key(&w, ST_RKEY(header, argv));
	jw_arr_begin(&w);
	for (int i = 0; i < st_shim.argc && o < st_shim.argv_len; i++) {
		size_t n = strnlen(st_shim.argv + o, st_shim.argv_len - o);
		jw_elem(&w);
		jw_str(&w, st_shim.argv + o, n);
		o += n + 1;
	}
	jw_arr_end(&w);
	if (uname(&un) == 0)
		jw_kv_str(&w, ST_RKEY(header, host), un.nodename);
	/* Read back to back: the pair maps this host's monotonic clock,
	 * which event timestamps use, onto wall-clock time. */
	mono = clock_ns(CLOCK_MONOTONIC);
	real = clock_ns(CLOCK_REALTIME);
	jw_key(&w, ST_RKEY(header, clock));
	jw_obj_begin(&w);
	jw_kv_u64(&w, ST_RKEY(header_clock, mono), mono);
	jw_kv_u64(&w, ST_RKEY(header_clock, real), real);
	jw_obj_end(&w);
	jw_kv_u64(&w, ST_RKEY(header, start), st_shim.start_mono);
	if (st_shim.fork_mono)
		jw_kv_u64(&w, ST_RKEY(header, forked), st_shim.fork_mono);
	jw_kv_u64(&w, ST_RKEY(header, payload), st_shim.cfg.payload);
	if (st_shim.cfg.backtrace) {
		jw_kv_u64(&w, ST_RKEY(header, backtrace), st_shim.cfg.backtrace);
		jw_key(&w, ST_RKEY(header, backtrace_errors));
		jw_bool(&w, st_shim.cfg.backtrace_errors);
	}
	if (st_faults_count()) {
		/* Enough to replay the run: the same rules and seed give the
		 * same faults on the same calls. */
		jw_kv_u64(&w, ST_RKEY(header, seed), st_faults_seed());
		jw_key(&w, ST_RKEY(header, rules));
		jw_arr_begin(&w);
		for (size_t i = 0; i < st_faults_count(); i++) {
			const struct st_rule *r = st_fault_rule(i);
			jw_elem(&w);
			jw_obj_begin(&w);
			jw_kv_str(&w, ST_RKEY(header_rule, rule), r->origin);
			jw_kv_str(&w, ST_RKEY(header_rule, text), r->text);
			jw_obj_end(&w);
		}
		jw_arr_end(&w);
	}
	jw_obj_end(&w);
	jw_char(&w, '\n');
	*len = w.overflow ? 0 : jw_len(&w, header_buf + HEADER_PRE);
	if (!*len || st_shim.cfg.format == ST_FORMAT_JSONL)
		return header_buf + HEADER_PRE;
	/* The prologue, then the line as the first frame. */
	uint8_t *frame = st_frame_json((uint8_t *)header_buf + ST_PROLOGUE_LEN, *len, len);
	frame -= ST_PROLOGUE_LEN;
	st_prologue_write(frame, (int64_t)st_shim.start_mono);
	*len += ST_PROLOGUE_LEN;
	return (char *)frame;
}
