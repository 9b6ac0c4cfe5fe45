#!/usr/bin/env bash
# Fetches the header-only httplib.h from Debian trixie's source package
# cpp-httplib 0.18.7-1+deb13u1, applies Debian's patches (the fixes for
# CVE-2025-46728, CVE-2025-52887, CVE-2025-53629) and caches the result.
#
# The package comes through apt, from the mirror this machine is already
# configured with: no host name is written here. Both tarballs are pinned by
# sha256; a mismatch fails the build.
#
# usage: fetch-httplib.sh CACHE_DIR     (prints the include dir on success)
set -euo pipefail

readonly PKG=cpp-httplib
readonly VERSION=0.18.7-1+deb13u1
readonly UPSTREAM=0.18.7
readonly ORIG_SHA256=c88f6495da71e778c82c22995b547a92ceb41cc4016f9028df67106a24b9210d
readonly DEBIAN_SHA256=00ea33189a7421a434b6d9ccb431ef4debce086534d249e8efa89050e7593198
readonly ORIG=${PKG}_${UPSTREAM}.orig.tar.xz
readonly DEBIAN=${PKG}_${VERSION}.debian.tar.xz

cache=${1:?usage: fetch-httplib.sh CACHE_DIR}
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)
log() { printf 'fetch-httplib: %s\n' "$*" >&2; }

verify() {  # file expected-sha256
  local got
  got=$(sha256sum "$1" | cut -d' ' -f1)
  if [ "$got" != "$2" ]; then
    log "CHECKSUM MISMATCH for $(basename "$1"): expected $2, got $got"
    return 1
  fi
}

if [ -f "$cache/$ORIG" ] && [ -f "$cache/$DEBIAN" ] && [ -f "$cache/include/httplib.h" ]; then
  verify "$cache/$ORIG" "$ORIG_SHA256" && verify "$cache/$DEBIAN" "$DEBIAN_SHA256" || exit 1
  log "$PKG $VERSION (cached): sha256 verified (orig $ORIG_SHA256, debian $DEBIAN_SHA256)"
  echo "$cache/include"
  exit 0
fi

# The mirror URIs this machine already uses, read from its apt configuration.
uris=$( { cat /etc/apt/sources.list.d/*.sources 2>/dev/null | sed -n 's/^URIs:[[:space:]]*//p';
          cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | grep -E '^[[:space:]]*deb[[:space:]]' |
            sed -E 's/^[[:space:]]*deb[[:space:]]+(\[[^]]*\][[:space:]]+)?//' | awk '{print $1}'; } |
        tr ' ' '\n' | grep -E '^(https?|file)://' | sort -u || true)
main_uri=$(printf '%s\n' "$uris" | grep -E '/debian/?$' | head -1 || true)
security_uri=$(printf '%s\n' "$uris" | grep -E '/debian-security/?$' | head -1 || true)
if [ -z "$main_uri" ]; then
  log "no Debian mirror found in /etc/apt/sources.list{,.d}; cannot fetch $PKG"
  exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/src"
{
  echo "deb-src $main_uri trixie main"
  echo "deb-src $main_uri trixie-updates main"
  [ -n "$security_uri" ] && echo "deb-src $security_uri trixie-security main"
} > "$work/sources.list"
apt_opts=(-o "Dir::Etc::SourceList=$work/sources.list" -o Dir::Etc::SourceParts=/dev/null
          -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache"
          -o APT::Sandbox::User=root -o Debug::NoLocking=1 -qq)

log "fetching $PKG $VERSION source through apt (trixie) ..."
apt-get "${apt_opts[@]}" update >&2
(cd "$work/src" && apt-get "${apt_opts[@]}" source --download-only "$PKG=$VERSION" >&2)
verify "$work/src/$ORIG" "$ORIG_SHA256"
verify "$work/src/$DEBIAN" "$DEBIAN_SHA256"
log "$PKG $VERSION: sha256 verified (orig $ORIG_SHA256, debian $DEBIAN_SHA256)"

mkdir -p "$work/tree"
tar -xJf "$work/src/$ORIG" -C "$work/tree"
tar -xJf "$work/src/$DEBIAN" -C "$work/tree"
top=$(find "$work/tree" -mindepth 1 -maxdepth 1 -type d ! -name debian | head -1)
while read -r patch; do
  case "$patch" in ''|\#*) continue ;; esac
  log "applying debian/patches/$patch"
  patch -d "$top" -p1 --forward --quiet < "$work/tree/debian/patches/$patch"
done < "$work/tree/debian/patches/series"
grep -q "#define CPPHTTPLIB_VERSION \"$UPSTREAM\"" "$top/httplib.h" || { log "unexpected httplib.h version"; exit 1; }

mkdir -p "$cache/include"
cp "$top/httplib.h" "$cache/include/httplib.h.tmp" && mv "$cache/include/httplib.h.tmp" "$cache/include/httplib.h"
cp "$work/src/$ORIG" "$work/src/$DEBIAN" "$cache/"
echo "$cache/include"
