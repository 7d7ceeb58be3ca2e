#!/usr/bin/env bash
# The tested-versions matrix beside .venv's ansible-core 2.18: for every other ansible-core from
# meta/runtime.yml's requires_ansible up to the newest, in its own virtual environment (made once, kept under
# .build/matrix/ and made again only when a requirements file changes):
#   - ansible-test sanity's compile, import, validate-modules and ansible-doc tests (the version-dependent ones;
#     the full sanity run is `make ansible-sanity` on 2.18),
#   - the unit tests (tests/unit, less the checkout's own ecosystem and artifact checks),
#   - with INTEGRATION=1, the oldest and the newest version also run every integration target through
#     `ansible-test integration --local` (tests/integration/targets/) against the real daemon.
# Two versions run at a time (the machine has two cores); each writes .build/matrix/<version>.log, and the
# script ends with one line per version and its time. Usage: scripts/ansible-matrix.sh [VERSION...]
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
MATRIX=$ROOT/.build/matrix
# ansible-core 2.20 and later run their controller on Python 3.12 or later only.
declare -A CONTROLLER_PYTHON=([2.16]=3.11 [2.17]=3.11 [2.19]=3.11 [2.20]=3.12 [2.21]=3.12)
ALL_VERSIONS=(2.16 2.17 2.19 2.20 2.21)
VERSIONS=("$@")
[ ${#VERSIONS[@]} -gt 0 ] || VERSIONS=("${ALL_VERSIONS[@]}")
OLDEST=${ALL_VERSIONS[0]}
NEWEST=${ALL_VERSIONS[-1]}
LIBVIRT_VERSION=$(pkg-config --modversion libvirt)
# What each environment gets beside its ansible-core; a change of it (or of the requirements files) remakes them.
INSTALL_RECIPE="-r tests/unit/requirements.txt libvirt-python==$LIBVIRT_VERSION pytest-timeout"
mkdir -p "$MATRIX"

interpreter() {  # interpreter X.Y: a Python X.Y that runs (pyenv's shims answer to every name, run one only)
    local candidate
    for candidate in "$(command -v "python$1" || true)" /root/.pyenv/versions/"$1".*/bin/python"$1"; do
        if [ -n "$candidate" ] && [ -x "$candidate" ] && "$candidate" -c pass 2>/dev/null; then
            echo "$candidate"
            return 0
        fi
    done
    return 1
}

make_venv() {  # make_venv VERSION: .build/matrix/ansible-core-VERSION, kept while the requirements stay the same
    local version=$1 venv=$MATRIX/ansible-core-$1 python stamp
    stamp=$venv/.installed-$( (cat requirements.txt tests/unit/requirements.txt; echo "$INSTALL_RECIPE") | sha256sum | cut -c1-16)
    [ -e "$stamp" ] && return 0
    python=$(interpreter "${CONTROLLER_PYTHON[$version]}") || {
        echo "no Python ${CONTROLLER_PYTHON[$version]} for ansible-core $version" >&2
        return 1
    }
    rm -rf "$venv"
    "$python" -m venv "$venv"
    # shellcheck disable=SC2086 # the recipe is words
    "$venv/bin/python" -m pip install -q --disable-pip-version-check "ansible-core==$version.*" $INSTALL_RECIPE 2>&1 |
        { grep -v '^WARNING: Location' || true; }
    touch "$stamp"
}

run_version() {  # run_version VERSION: every check of one version, output in .build/matrix/VERSION.log
    local version=$1 venv=$MATRIX/ansible-core-$1 started status=0
    started=$(date +%s)
    {
        make_venv "$version"
        echo "== ansible-core $("$venv/bin/python" -c 'import ansible; print(ansible.__version__)') on $("$venv/bin/python" -V)"
        echo "== ansible-test sanity (compile, import, validate-modules, ansible-doc)"
        VENV=$venv bash scripts/ansible-test-sanity.sh --test compile --test import --test validate-modules \
            --test ansible-doc
        echo "== unit tests"
        "$venv/bin/python" -m pytest tests/unit -q -p no:cacheprovider \
            --ignore tests/unit/sanity/test_ecosystem.py --ignore tests/unit/sanity/test_collection_artifact.py
        if [ "${INTEGRATION:-0}" = 1 ] && { [ "$version" = "$OLDEST" ] || [ "$version" = "$NEWEST" ]; }; then
            echo "== integration targets (ansible-test integration --local)"
            "$venv/bin/python" -m pytest tests/integration/test_targets.py -q -p no:cacheprovider
        fi
    } >"$MATRIX/$version.log" 2>&1 || status=$?
    printf 'ansible-core %s: %s in %ss (log: .build/matrix/%s.log)\n' "$version" \
        "$([ $status = 0 ] && echo passed || echo FAILED)" "$(($(date +%s) - started))" "$version"
    return $status
}

started=$(date +%s)
# The oldest and the newest first when they run the integration targets too: they take longest.
if [ "${INTEGRATION:-0}" = 1 ]; then
    ordered=()
    for version in "$OLDEST" "$NEWEST" "${VERSIONS[@]}"; do
        case " ${VERSIONS[*]} " in *" $version "*) ;; *) continue ;; esac
        case " ${ordered[*]-} " in *" $version "*) continue ;; esac
        ordered+=("$version")
    done
    VERSIONS=("${ordered[@]}")
fi
running=0
for version in "${VERSIONS[@]}"; do
    [ -n "${CONTROLLER_PYTHON[$version]:-}" ] || { echo "unknown version $version" >&2; exit 2; }
    rm -f "$MATRIX/$version.status"
    ( status=0; run_version "$version" || status=$?; echo "$status" >"$MATRIX/$version.status" ) &
    running=$((running + 1))
    if [ $running -ge 2 ]; then  # two at a time: the next starts when either ends
        wait -n || true
        running=$((running - 1))
    fi
done
wait
echo "ansible-core matrix (${VERSIONS[*]}): $(($(date +%s) - started))s in all"
failed=0
for version in "${VERSIONS[@]}"; do
    if [ "$(cat "$MATRIX/$version.status" 2>/dev/null)" != 0 ]; then
        failed=1
        echo "== ansible-core $version failed; the end of .build/matrix/$version.log:"
        grep -v '^WARNING: Location' "$MATRIX/$version.log" | tail -n 40
    fi
done
exit $failed
