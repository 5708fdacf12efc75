#include "suggest.h"

#include <ctype.h>
#include <stdbool.h>
#include <string.h>

static bool same_letter(char a, char b)
{
	return toupper((unsigned char)a) == toupper((unsigned char)b);
}

/* Optimal string alignment: Levenshtein plus the swap of two adjacent
 * letters as one edit, the commonest typo ("prot" for "port"). Three rows:
 * a swap looks two back. */
unsigned st_edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned rows[3][64];
	unsigned *prev2 = rows[0], *prev = rows[1], *cur = rows[2];

	if (la >= 63 || lb >= 63)
		return 255;
	for (size_t j = 0; j <= lb; j++)
		prev[j] = (unsigned)j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = (unsigned)i;
		for (size_t j = 1; j <= lb; j++) {
			unsigned best = prev[j - 1] + !same_letter(a[i - 1], b[j - 1]);
			if (prev[j] + 1 < best)
				best = prev[j] + 1;
			if (cur[j - 1] + 1 < best)
				best = cur[j - 1] + 1;
			if (i > 1 && j > 1 && same_letter(a[i - 1], b[j - 2]) &&
			    same_letter(a[i - 2], b[j - 1]) && prev2[j - 2] + 1 < best)
				best = prev2[j - 2] + 1;
			cur[j] = best;
		}
		unsigned *t = prev2;
		prev2 = prev;
		prev = cur;
		cur = t;
	}
	return prev[lb] > 255 ? 255 : prev[lb];
}

/* The same letters in another order (case folded): "prot" and "port". */
static bool anagram(const char *a, const char *b)
{
	unsigned count[256] = { 0 };

	if (strlen(a) != strlen(b))
		return false;
	for (; *a; a++, b++) {
		count[(unsigned char)toupper((unsigned char)*a)]++;
		count[(unsigned char)toupper((unsigned char)*b)]--;
	}
	for (size_t i = 0; i < 256; i++)
		if (count[i])
			return false;
	return true;
}

const char *st_suggest(const char *word, const char *const *candidates, size_t n)
{
	const char *best = NULL;
	unsigned best_d = 255;
	bool best_anagram = false;
	unsigned limit = (unsigned)strlen(word) / 3;

	if (limit < 1)
		limit = 1;
	for (size_t i = 0; i < n; i++) {
		unsigned d = st_edit_distance(word, candidates[i]);
		/* Equally close: letters swapped are likelier than a letter
		 * mistyped ("prot" is "port" before "prob"); then the first
		 * listed. */
		bool ana = d == best_d && !best_anagram && anagram(word, candidates[i]);
		if (d < best_d || ana) {
			best_d = d;
			best = candidates[i];
			best_anagram = anagram(word, candidates[i]);
		}
	}
	return best_d <= limit ? best : NULL;
}
