#!/usr/bin/env bash
# Obtains libvirt 9.0.0's QEMU XML-to-XML test documents into .build/libvirt-tests/, idempotently:
#   qemuxml2argvdata/    what a user writes (the inputs)
#   qemuxml2xmloutdata/  what libvirt stores after parsing and formatting them (the outputs)
#   qemuxml2xmltest.c    which input maps to which output
#   qemuxml2argvtest.c   which inputs libvirt refuses to define (parse errors with the define-time parse flags)
# They come from Debian's source package of the libvirt this machine runs (upstream 9.0.0 plus Debian's
# patches, which add and remove test cases), fetched with apt-get source through a private deb-src list:
# the system's apt configuration, lists and caches are not touched. Nothing is downloaded when the
# documents are already there. The documents are libvirt's (LGPL-2.1-or-later) and are never committed.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
dest=$repo/.build/libvirt-tests
upstream_version=9.0.0

files=(qemuxml2argvdata qemuxml2xmloutdata qemuxml2xmltest.c qemuxml2argvtest.c SOURCE)
complete=yes
for file in "${files[@]}"; do [ -e "$dest/$file" ] || complete=no; done
if [ "$complete" = yes ]; then
    echo "libvirt-tests: already in $dest ($(cat "$dest/SOURCE"))"
    exit 0
fi
if ! command -v dpkg-source >/dev/null; then
    echo "libvirt-tests: dpkg-source is missing (apt-get install dpkg-dev; scripts/setup-host.sh installs it)" >&2
    exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
chmod 0755 "$work"
sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources > "$work/src.sources"
mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/src"
# apt downloads as its _apt user where it can write the target folder (else it warns and downloads as root).
if [ "$(id -u)" = 0 ] && id _apt >/dev/null 2>&1; then chown _apt "$work/src"; fi
apt_options=(-o "Dir::Etc::SourceList=$work/src.sources" -o Dir::Etc::SourceParts=/dev/null
             -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache")
apt-get "${apt_options[@]}" update -qq
(cd "$work/src" && apt-get "${apt_options[@]}" -qq source libvirt >/dev/null)

source_tree=$(find "$work/src" -mindepth 1 -maxdepth 1 -type d -name "libvirt-*")
dsc=$(find "$work/src" -mindepth 1 -maxdepth 1 -name "libvirt_*.dsc")
debian_version=$(basename "$dsc" .dsc)
debian_version=${debian_version#libvirt_}
case "$debian_version" in
    "$upstream_version"-*) ;;
    *) echo "libvirt-tests: the mirror has libvirt $debian_version, not $upstream_version" >&2; exit 1 ;;
esac

rm -rf "$dest.partial"
mkdir -p "$dest.partial"
cp -a "$source_tree/tests/qemuxml2argvdata" "$source_tree/tests/qemuxml2xmloutdata" \
      "$source_tree/tests/qemuxml2xmltest.c" "$source_tree/tests/qemuxml2argvtest.c" "$dest.partial/"
echo "libvirt $debian_version, Debian's source package" > "$dest.partial/SOURCE"
rm -rf "$dest"
mv "$dest.partial" "$dest"
echo "libvirt-tests: $(find "$dest" -name '*.xml' | wc -l) documents of libvirt $debian_version in $dest"
