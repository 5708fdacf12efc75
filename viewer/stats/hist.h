/* Durations in bounded memory: a log-linear histogram (64 buckets per
 * power of two, so any percentile is within 1/64 = 1.6% of the exact
 * value), with the exact count, sum, minimum and maximum. */
#ifndef SOCKTRACE_HIST_H
#define SOCKTRACE_HIST_H

#include <stdint.h>

#define HIST_SUB_BITS 6
#define HIST_SUB (1u << HIST_SUB_BITS)
#define HIST_BUCKETS ((64 - HIST_SUB_BITS + 1) * HIST_SUB)

struct hist {
	uint64_t count;
	uint64_t sum;    /* saturates */
	uint64_t min, max;
	uint64_t *b;     /* HIST_BUCKETS counters, allocated on first use */
};

void hist_add(struct hist *h, uint64_t v);
/* The value at percentile p (0 < p <= 100), nearest rank: exact for the
 * maximum and for values below 64, else the middle of its bucket, never
 * outside [min, max]. 0 when empty. */
uint64_t hist_percentile(const struct hist *h, double p);
void hist_free(struct hist *h);

/* Bucket arithmetic, exposed for the tests. */
unsigned hist_index(uint64_t v);
uint64_t hist_low(unsigned index);
uint64_t hist_width(unsigned index);

#endif
