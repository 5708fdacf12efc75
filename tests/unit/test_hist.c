/* hist: the log-linear duration histogram behind `socktrace stats`:
 * bucket arithmetic, percentiles within 1/64 of the exact nearest-rank
 * value, exact maximum, bounded memory. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "stats/hist.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void buckets_cover_every_value(void **state)
{
	(void)state;
	for (unsigned i = 0; i + 1 < HIST_BUCKETS; i++)
		assert_int_equal(hist_low(i) + hist_width(i), hist_low(i + 1));
	for (uint64_t v = 0; v < 100000; v++) {
		unsigned i = hist_index(v);
		assert_true(hist_low(i) <= v && v < hist_low(i) + hist_width(i));
	}
	uint64_t big[] = { 1ull << 40, (1ull << 40) + 12345, UINT64_MAX, INT64_MAX };
	for (size_t k = 0; k < sizeof(big) / sizeof(big[0]); k++) {
		unsigned i = hist_index(big[k]);
		assert_true(i < HIST_BUCKETS);
		assert_true(hist_low(i) <= big[k] && big[k] - hist_low(i) < hist_width(i));
		/* relative width at most 1/64 */
		assert_true(hist_width(i) <= hist_low(i) / 64 + 1);
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* xorshift: the same numbers on every run. */
static uint64_t rng(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void percentiles_are_close(void **state)
{
	enum { N = 200000 };
	uint64_t *v = malloc(N * sizeof(*v)), seed = 42;
	struct hist h;
	static const double ps[] = { 1, 50, 90, 99, 99.9 };

	(void)state;
	memset(&h, 0, sizeof(h));
	for (int i = 0; i < N; i++) {
		/* log-uniform from 100 ns to 10 s, like call durations */
		double x = 2.0 + 8.0 * (double)(rng(&seed) % 1000000) / 1e6;
		v[i] = (uint64_t)pow(10.0, x);
		hist_add(&h, v[i]);
	}
	qsort(v, N, sizeof(*v), cmp_u64);
	for (size_t k = 0; k < sizeof(ps) / sizeof(ps[0]); k++) {
		size_t rank = (size_t)ceil(ps[k] / 100.0 * N);
		double exact = (double)v[rank - 1], got = (double)hist_percentile(&h, ps[k]);
		assert_true(fabs(got - exact) <= exact / 64.0);
	}
	assert_int_equal(hist_percentile(&h, 100), v[N - 1]);
	assert_int_equal(h.max, v[N - 1]);
	assert_int_equal(h.min, v[0]);
	assert_int_equal(h.count, N);
	hist_free(&h);
	free(v);
}

static void small_and_edge_cases(void **state)
{
	struct hist h;

	(void)state;
	memset(&h, 0, sizeof(h));
	assert_int_equal(hist_percentile(&h, 50), 0);
	hist_add(&h, 7);
	assert_int_equal(hist_percentile(&h, 50), 7);
	assert_int_equal(hist_percentile(&h, 99), 7);
	/* below 64 every value has its own bucket: exact */
	for (uint64_t x = 0; x < 60; x++)
		hist_add(&h, x);
	assert_int_equal(hist_percentile(&h, 50), 29);
	/* one huge outlier: max exact, p50 untouched */
	hist_add(&h, 5000000000ull);
	assert_int_equal(h.max, 5000000000ull);
	assert_int_equal(hist_percentile(&h, 100), 5000000000ull);
	assert_int_equal(hist_percentile(&h, 50), 29);
	/* the sum saturates instead of wrapping */
	hist_add(&h, UINT64_MAX);
	hist_add(&h, UINT64_MAX);
	assert_int_equal(h.sum, UINT64_MAX);
	hist_free(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(buckets_cover_every_value),
		cmocka_unit_test(percentiles_are_close),
		cmocka_unit_test(small_and_edge_cases),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
