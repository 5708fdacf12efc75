/* LTTng-UST tracepoint provider of the benchmark's LTTng variants
 * (sp_loop_lttng, threads_lttng): what a tracer built on LTTng-UST would
 * record per socket call, with the fields a socktrace "call" record has
 * (docs/trace-format.md): the descriptor, the return value, errno (0 when
 * the call succeeded; the field is "errnum": a field named errno would be
 * the C library's errno macro, expanded), the time in the real call (ns),
 * the length asked for, the flags, and the peer's address as a string. The
 * timestamp is LTTng's own (the event header); the pid and the tid are the
 * vpid and vtid contexts bench/run.py adds to the channel.
 *
 * One event class, one event per function (socktrace_bench:send, :recv,
 * :write, :read, :close), and socketpair with its two descriptors.
 * LTTng-UST 2.13 API (LTTNG_UST_TRACEPOINT_*); the provider is linked
 * statically into the program (bench/lttng_tp.c). Built only when
 * pkg-config finds lttng-ust (bench/meson.build). */
#undef LTTNG_UST_TRACEPOINT_PROVIDER
#define LTTNG_UST_TRACEPOINT_PROVIDER socktrace_bench

#undef LTTNG_UST_TRACEPOINT_INCLUDE
#define LTTNG_UST_TRACEPOINT_INCLUDE "./lttng_tp.h"

#if !defined(SOCKTRACE_BENCH_LTTNG_TP_H) || defined(LTTNG_UST_TRACEPOINT_HEADER_MULTI_READ)
#define SOCKTRACE_BENCH_LTTNG_TP_H

#include <stdint.h>

#include <lttng/tracepoint.h>

LTTNG_UST_TRACEPOINT_EVENT_CLASS(socktrace_bench, call,
	LTTNG_UST_TP_ARGS(int, fd, int64_t, ret, int, err, uint64_t, dur,
			  uint64_t, len, int, flags, const char *, peer),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_integer(int, fd, fd)
		lttng_ust_field_integer(int64_t, ret, ret)
		lttng_ust_field_integer(int, errnum, err)
		lttng_ust_field_integer(uint64_t, dur, dur)
		lttng_ust_field_integer(uint64_t, len, len)
		lttng_ust_field_integer_hex(int, flags, flags)
		lttng_ust_field_string(peer, peer)
	)
)

#define SOCKTRACE_BENCH_CALL_EVENT(name)					\
	LTTNG_UST_TRACEPOINT_EVENT_INSTANCE(socktrace_bench, call,		\
		socktrace_bench, name,						\
		LTTNG_UST_TP_ARGS(int, fd, int64_t, ret, int, err, uint64_t, dur, \
				  uint64_t, len, int, flags, const char *, peer))

SOCKTRACE_BENCH_CALL_EVENT(send)
SOCKTRACE_BENCH_CALL_EVENT(recv)
SOCKTRACE_BENCH_CALL_EVENT(write)
SOCKTRACE_BENCH_CALL_EVENT(read)
SOCKTRACE_BENCH_CALL_EVENT(close)

LTTNG_UST_TRACEPOINT_EVENT(socktrace_bench, socketpair,
	LTTNG_UST_TP_ARGS(int, fd0, int, fd1, int64_t, ret, int, err, uint64_t, dur),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_integer(int, fd0, fd0)
		lttng_ust_field_integer(int, fd1, fd1)
		lttng_ust_field_integer(int64_t, ret, ret)
		lttng_ust_field_integer(int, errnum, err)
		lttng_ust_field_integer(uint64_t, dur, dur)
	)
)

#endif /* SOCKTRACE_BENCH_LTTNG_TP_H */

#include <lttng/tracepoint-event.h>
