#!/usr/bin/env bash
# deploy/runtime-packages.sh BINARY...: the Debian packages that provide the
# shared libraries the binaries load (ldd, so dependencies of dependencies
# too), one per line -- the runtime counterparts of the -dev packages that
# `make deps` installs. The Dockerfile's build stage runs it on peermatchd and
# peermatch; the runtime stage installs exactly this list.
set -euo pipefail
(($# > 0)) || { echo "usage: $0 BINARY..." >&2; exit 2; }
for bin in "$@"; do
  ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// {print $3}'
done | sort -u | while read -r lib; do
  real=$(readlink -f "$lib")
  owner=""
  # usrmerge: a library found as /lib/... may be registered as /usr/lib/...
  for path in "$lib" "$real" "/usr$lib" "/usr$real"; do
    owner=$(dpkg -S "$path" 2>/dev/null | head -n 1) && [[ -n $owner ]] && break
  done
  [[ -n $owner ]] || { echo "runtime-packages: no Debian package owns $lib" >&2; exit 1; }
  echo "${owner%%:*}"
done | sort -u
