#include "stats/hist.h"
#include "util/oom.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

unsigned hist_index(uint64_t v)
{
	unsigned e;

	if (v < HIST_SUB)
		return (unsigned)v;
	e = 63u - (unsigned)__builtin_clzll(v); /* 2^e <= v < 2^(e+1), e >= 6 */
	return (e - HIST_SUB_BITS + 1) * HIST_SUB +
	       (unsigned)((v >> (e - HIST_SUB_BITS)) & (HIST_SUB - 1));
}

uint64_t hist_low(unsigned index)
{
	unsigned e, sub;

	if (index < HIST_SUB)
		return index;
	e = index / HIST_SUB + HIST_SUB_BITS - 1;
	sub = index % HIST_SUB;
	return (uint64_t)(HIST_SUB + sub) << (e - HIST_SUB_BITS);
}

uint64_t hist_width(unsigned index)
{
	if (index < HIST_SUB)
		return 1;
	return (uint64_t)1 << (index / HIST_SUB - 1);
}

void hist_add(struct hist *h, uint64_t v)
{
	if (!h->b) {
		h->b = calloc(HIST_BUCKETS, sizeof(*h->b));
		if (!h->b) {
			oom_exit();
		}
	}
	if (h->count == 0 || v < h->min)
		h->min = v;
	if (h->count == 0 || v > h->max)
		h->max = v;
	h->count++;
	h->sum = h->sum + v < h->sum ? UINT64_MAX : h->sum + v;
	h->b[hist_index(v)]++;
}

uint64_t hist_percentile(const struct hist *h, double p)
{
	uint64_t rank, seen = 0;

	if (!h->count || !h->b)
		return 0;
	if (p >= 100)
		return h->max;
	rank = (uint64_t)ceil(p / 100.0 * (double)h->count);
	if (rank < 1)
		rank = 1;
	if (rank >= h->count)
		return h->max;
	for (unsigned i = 0; i < HIST_BUCKETS; i++) {
		seen += h->b[i];
		if (seen < rank)
			continue;
		uint64_t v = hist_low(i) + hist_width(i) / 2;
		if (v < h->min)
			v = h->min;
		if (v > h->max)
			v = h->max;
		return v;
	}
	return h->max;
}

void hist_free(struct hist *h)
{
	free(h->b);
	h->b = NULL;
}
