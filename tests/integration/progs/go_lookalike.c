/* Stands in for a Go program in the launcher's warning test: Go binaries
 * carry a .go.buildinfo section (which starts with this magic) whether
 * they are linked statically or with the C library for cgo, and their
 * runtime makes its socket calls without libc. No Go toolchain needed. */
#include <stdio.h>

__attribute__((used, section(".go.buildinfo"))) static const char buildinfo[32] =
	"\xff Go buildinf:";

int main(void)
{
	printf("go lookalike %d\n", (int)sizeof(buildinfo));
	return 0;
}
