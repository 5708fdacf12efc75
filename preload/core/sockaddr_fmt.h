/* Socket addresses as trace text: "127.0.0.1:8080", "[::1]:8080",
 * "[fe80::1%2]:53", "unix:/run/x.sock", "unix:@abstract", "unix:" for an
 * unnamed unix socket, "netlink:PID", "af:NN" for other families. */
#ifndef SOCKTRACE_SOCKADDR_FMT_H
#define SOCKTRACE_SOCKADDR_FMT_H

#include <stddef.h>
#include <sys/socket.h>

/* Longest address text kept per endpoint, escapes included. A unix path
 * that does not fit is cut on a character boundary and ends in "..." so a
 * cut name can never be mistaken for a real one. */
#define ST_ADDR_MAX 128

/* Writes the address as JSON string content (escaped, no quotes) and NUL
 * terminates it; returns the length, 0 when len cannot hold a family. */
size_t st_sockaddr_json(char *dst, size_t cap, const struct sockaddr *sa,
			socklen_t len);

/* Port of an inet address, -1 for other families. */
int st_sockaddr_port(const struct sockaddr *sa, socklen_t len);

#endif
