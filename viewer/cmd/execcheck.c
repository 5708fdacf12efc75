#include "cmd/execcheck.h"
#include "util/msg.h"

#include <elf.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int find_in_path(const char *cmd, char *out, size_t cap)
{
	const char *path = getenv("PATH");

	if (strchr(cmd, '/')) {
		snprintf(out, cap, "%s", cmd);
		return access(out, X_OK) == 0 ? 0 : -1;
	}
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		const char *end = strchr(path, ':');
		size_t len = end ? (size_t)(end - path) : strlen(path);
		if ((size_t)snprintf(out, cap, "%.*s/%s", (int)len, len ? path : ".", cmd) < cap &&
		    access(out, X_OK) == 0)
			return 0;
		if (!end)
			break;
		path = end + 1;
	}
	return -1;
}

/* 1: ELF without a program interpreter (static), 0: dynamic or not ELF. */
static int is_static_elf(const char *file)
{
	Elf64_Ehdr eh;
	int fd = open(file, O_RDONLY | O_CLOEXEC);
	int result = 0;

	if (fd < 0)
		return 0;
	if (pread(fd, &eh, sizeof(eh), 0) != (ssize_t)sizeof(eh) ||
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    (eh.e_type != ET_EXEC && eh.e_type != ET_DYN) || eh.e_phentsize != sizeof(Elf64_Phdr))
		goto out;
	result = 1;
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		if (pread(fd, &ph, sizeof(ph), (off_t)(eh.e_phoff + i * sizeof(ph))) !=
		    (ssize_t)sizeof(ph)) {
			result = 0;
			break;
		}
		if (ph.p_type == PT_INTERP) {
			result = 0;
			break;
		}
	}
out:
	close(fd);
	return result;
}

/* 1: an ELF file with a section named name. */
static int has_section(const char *file, const char *name)
{
	Elf64_Ehdr eh;
	Elf64_Shdr names;
	char buf[4096];
	int fd = open(file, O_RDONLY | O_CLOEXEC);
	int result = 0;
	size_t want = strlen(name) + 1;

	if (fd < 0)
		return 0;
	if (pread(fd, &eh, sizeof(eh), 0) != (ssize_t)sizeof(eh) ||
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_shentsize != sizeof(Elf64_Shdr) || eh.e_shstrndx >= eh.e_shnum ||
	    pread(fd, &names, sizeof(names), (off_t)(eh.e_shoff + eh.e_shstrndx * sizeof(names))) !=
		    (ssize_t)sizeof(names))
		goto out;
	for (unsigned i = 0; i < eh.e_shnum && !result; i++) {
		Elf64_Shdr sh;
		if (pread(fd, &sh, sizeof(sh), (off_t)(eh.e_shoff + i * sizeof(sh))) !=
			    (ssize_t)sizeof(sh) ||
		    sh.sh_name >= names.sh_size || sh.sh_name + want > sizeof(buf))
			continue;
		if (pread(fd, buf, want, (off_t)(names.sh_offset + sh.sh_name)) == (ssize_t)want &&
		    memcmp(buf, name, want) == 0)
			result = 1;
	}
out:
	close(fd);
	return result;
}

int st_warn_untraceable(const char *cmd)
{
	char file[PATH_MAX];
	struct stat st;

	if (find_in_path(cmd, file, sizeof(file)) != 0 || stat(file, &st) != 0)
		return 0;
	if (((st.st_mode & S_ISUID) && st.st_uid != geteuid()) ||
	    ((st.st_mode & S_ISGID) && st.st_gid != getegid())) {
		fprintf(stderr,
			"%s: warning: %s is set-user/group-ID: the dynamic loader ignores\n"
			"  LD_PRELOAD for it, so its own socket calls will not be traced\n",
			msg_who(), file);
		return 1;
	}
	/* Go's runtime makes its own system calls, even when linked with
	 * the C library for cgo (which then sees name resolution only). */
	if (has_section(file, ".go.buildinfo")) {
		fprintf(stderr,
			"%s: warning: %s is a Go program: Go makes its socket calls\n"
			"  without the C library, so its connections will not be traced\n"
			"  (only name resolution through cgo's getaddrinfo may be)\n",
			msg_who(), file);
		return 1;
	}
	if (is_static_elf(file)) {
		fprintf(stderr,
			"%s: warning: %s is statically linked: it never calls the C\n"
			"  library's socket functions, so nothing it does will be traced\n",
			msg_who(), file);
		return 1;
	}
	return 0;
}
