#!/bin/sh
# Meson install script (meson.build): refreshes the loader's cache after
# `meson install`, so that LD_PRELOAD=libsocktrace.so, the bare name,
# finds the shim just installed. Meson never runs ldconfig itself.
#
# Usage: install-ldconfig.sh PREFIX LIBDIR   (absolute; DESTDIR from the environment)
#
# Runs ldconfig only for a system prefix (/usr, /usr/local) and not into a
# DESTDIR: a staged install (a package build) is not the system's, and
# dpkg's ldconfig trigger runs when the package is installed. Elsewhere
# it says how to preload the shim by its path instead. Never fails the
# install: the shim is in place either way.
set -u

prefix=$1
libdir=$2
shim=libsocktrace.so

if [ -n "${DESTDIR:-}" ]; then
	echo "socktrace: installed into DESTDIR=$DESTDIR: ldconfig not run"
	exit 0
fi
case $prefix in
/usr | /usr/ | /usr/local | /usr/local/) ;;
*)
	echo "socktrace: $prefix is not a system prefix: ldconfig not run; preload the shim by its path:"
	echo "           LD_PRELOAD=\"\$($prefix/bin/socktrace shim)\" CMD  (or LD_PRELOAD=$libdir/$shim)"
	exit 0
	;;
esac
if ! ldconfig; then
	echo "socktrace: ldconfig failed: LD_PRELOAD=$shim may not find the new shim until it runs" >&2
	exit 0
fi
# ldconfig caches only the directories /etc/ld.so.conf names: a libdir
# outside them (-Dlibdir=lib64 on Debian) is installed but not found.
if ! ldconfig -p | grep -q " => $libdir/$shim\$"; then
	echo "socktrace: $libdir is not in the loader's search path (/etc/ld.so.conf.d):" >&2
	echo "           LD_PRELOAD=$shim will not find the shim; use LD_PRELOAD=$libdir/$shim" >&2
fi
exit 0
