/* The tracepoint provider of bench/lttng_tp.h, linked statically into the
 * LTTng variants of the workloads: the probes (CREATE_PROBES) and the
 * tracepoint definitions (DEFINE) in this one translation unit. */
#define LTTNG_UST_TRACEPOINT_CREATE_PROBES
#define LTTNG_UST_TRACEPOINT_DEFINE
#include "lttng_tp.h"
