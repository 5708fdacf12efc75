/* Addresses as the trace writes them ("127.0.0.1:80", "[::1]:80",
 * "unix:/path", "unix:", ...), compared the way the kernel pairs them. */
#ifndef SOCKTRACE_ADDR_H
#define SOCKTRACE_ADDR_H

#include <stdbool.h>
#include <stddef.h>

/* Room for any address the trace writes, normalised. */
#define ADDR_MAX 160

/* Copies a into out (cap > 0), with an IPv4-mapped IPv6 address
 * ("[::ffff:1.2.3.4]:80") written as the IPv4 one ("1.2.3.4:80"), so the
 * two ends of a dual-stack connection name it alike. NULL gives "". */
void addr_norm(const char *a, char *out, size_t cap);
/* The port of an inet address, -1 for anything else. */
int addr_port(const char *a);
/* The host part of an inet address ("127.0.0.1", "[::1]"), else a copy. */
void addr_host(const char *a, char *out, size_t cap);
/* 0.0.0.0:P or [::]:P (any address). */
bool addr_is_wildcard(const char *a);
/* True when a names one endpoint: not missing, not an unnamed unix
 * socket, not a wildcard or port 0. Connections are keyed by the pair of
 * addresses only when both are specific. */
bool addr_is_specific(const char *a);
/* Same endpoint, a wildcard host matching any host with the same port. */
bool addr_compatible(const char *a, const char *b);

#endif
