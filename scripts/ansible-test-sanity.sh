#!/usr/bin/env bash
# Runs the real `ansible-test sanity` on the collection. ansible-test needs the collection at
# .../ansible_collections/virt/libvirt and resolves symlinks, and under a git checkout it checks only the
# files git lists, so the checkout's files (tracked and untracked, not ignored) are copied to a temporary
# directory outside it. Extra arguments go to ansible-test (e.g. --test validate-modules).
#   --collection DIR   test the collection installed in DIR (.../ansible_collections/virt/libvirt) instead
#   VENV=DIR           the virtual environment whose ansible-test runs (default .venv; scripts/ansible-matrix.sh
#                      passes one per ansible-core version)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
VENV=${VENV:-.venv}
case $VENV in /*) ;; *) VENV=$ROOT/$VENV ;; esac
PYTHON=$VENV/bin/python
# ansible-test finds the controller's python<X.Y> on PATH: the venv's own first.
export PATH=$VENV/bin:$PATH
INSTALLED=
if [ "${1:-}" = --collection ]; then
    INSTALLED=$(cd "$2" && pwd)
    shift 2
fi

# ansible-test bootstraps pip into each sanity venv with a get-pip.py from ci-files.testing.ansible.com, which
# CI cannot reach; it uses ~/.ansible/test/cache/get_pip_<version>.py when that file exists. Put our stand-in
# there (scripts/get_pip_standin.py), with the pip wheel it installs from, downloaded from PyPI.
PIP_VERSION=$("$PYTHON" -c '
import types
from ansible_test._internal.python_requirements import get_venv_packages
print(get_venv_packages(types.SimpleNamespace(version="%d.%d" % __import__("sys").version_info[:2]))["pip"])')
CACHE=$HOME/.ansible/test/cache
GET_PIP=$CACHE/get_pip_${PIP_VERSION//./_}.py
mkdir -p "$CACHE"
(   # several versions of the matrix prepare the cache at once
    flock 9
    if [ ! -e "$CACHE/pip-$PIP_VERSION-py3-none-any.whl" ]; then
        "$PYTHON" -m pip download -q --no-deps --only-binary=:all: -d "$CACHE" "pip==$PIP_VERSION"
    fi
    if [ ! -e "$GET_PIP" ] || grep -q 'Stand-in for the get-pip.py' "$GET_PIP"; then
        cp scripts/get_pip_standin.py "$GET_PIP"
    fi
) 9>"$CACHE/.virt-libvirt.lock"

if [ -n "$INSTALLED" ]; then
    COPY=$INSTALLED
else
    WORKDIR=$(mktemp -d "${TMPDIR:-/tmp}/virt-libvirt-sanity.XXXXXX")
    trap 'rm -rf "$WORKDIR"' EXIT
    COPY=$WORKDIR/ansible_collections/virt/libvirt
    mkdir -p "$COPY"
    git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' path; do
        [ -e "$path" ] && printf '%s\0' "$path"
    done | tar --null --files-from=- -cf - | tar -xf - -C "$COPY"
fi

cd "$COPY"
CONTROLLER_PYTHON=$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
"$VENV/bin/ansible-test" sanity --color no --python "$CONTROLLER_PYTHON" "$@"

# Modules run on managed hosts with Python 3.8 to 3.13 (ansible-core 2.18's targets): compile and import them
# with every one of those interpreters this machine has (pyenv's included), not only the controller's.
if [ "$#" -eq 0 ] && [ -z "$INSTALLED" ]; then
    for version in 3.8 3.9 3.10 3.11 3.12 3.13; do
        [ "$version" = "$CONTROLLER_PYTHON" ] && continue
        # pyenv's shims answer to every name but run only the selected version: ask each one to run.
        interpreter=
        for candidate in /root/.pyenv/versions/"$version".*/bin/python"$version" "$(command -v "python$version")"; do
            if [ -z "$interpreter" ] && [ -x "$candidate" ] && "$candidate" -c pass 2>/dev/null; then
                interpreter=$candidate
            fi
        done
        if [ -z "$interpreter" ]; then
            echo "ansible-test sanity: no python$version here, its compile and import tests are not run"
            continue
        fi
        PATH=$(dirname "$interpreter"):$PATH "$VENV/bin/ansible-test" sanity --color no --python "$version" \
            --test compile --test import
    done
fi
