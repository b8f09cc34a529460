#!/usr/bin/env bash
# Builds the local invoke image for `sam local invoke --invoke-image TAG --skip-pull-image`, offline: no image
# registry is needed, only a Debian mirror (for debootstrap) and PyPI (for the wheels).
#
#   Debian trixie, minbase, with python3 (Python 3.13, the functions' Runtime)
#   /var/runtime: awslambdaric (requirements.txt here) and exactly what the managed python3.13 runtime provides
#                 (functions/runtime-provided.txt: boto3, botocore and their dependencies), plus ./bootstrap
#   /var/task:    empty; sam mounts the built function there
#
# The SAM CLI adds its own Runtime Interface Emulator (samcli/local/rapid/aws-lambda-rie-*) on top.
# Idempotent: the image carries a label with the hash of every input; a build with the same inputs is skipped.
# The image has the machine's architecture (x86_64 here): see docs/lambda-runtime.md for how local runs of the
# arm64 template get it.
#
# Needs root (debootstrap), a running Docker engine, debootstrap and the project's venv (its pip downloads wheels).
# Environment: DEBIAN_MIRROR (default: the first Debian mirror of the apt sources), PIP (default: .venv/bin/pip),
# DOCKER (default: docker), BREAKWATER_IMAGE_FORCE=1 to rebuild anyway.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
TAG="$(tr -d '[:space:]' <"$HERE/tag")"
SUITE=trixie
PYTHON_MINOR=3.13
LABEL=org.breakwater.lambda-image.inputs
PIP="${PIP:-$ROOT/.venv/bin/pip}"
DOCKER="${DOCKER:-docker}"
INPUTS=("$HERE/build.sh" "$HERE/bootstrap" "$HERE/requirements.txt" "$HERE/tag" "$ROOT/functions/runtime-provided.txt")

fail() {
  echo "sam-local-image: $*" >&2
  exit 1
}

debian_mirror() {
  if [[ -n "${DEBIAN_MIRROR:-}" ]]; then
    echo "$DEBIAN_MIRROR"
    return
  fi
  local found
  found="$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '/^URIs:/ && $2 ~ /\/debian\/?$/ {print $2; exit}')"
  if [[ -z "$found" ]]; then
    found="$(awk '$1 == "deb" && $3 ~ /^[a-z]+$/ && $2 ~ /\/debian\/?$/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)"
  fi
  echo "${found:-http://deb.debian.org/debian}"
}

pip_platform() {
  case "$(uname -m)" in
    x86_64) echo manylinux2014_x86_64 ;;
    aarch64) echo manylinux2014_aarch64 ;;
    *) fail "no Lambda architecture for this machine ($(uname -m)); Lambda runs x86_64 and arm64" ;;
  esac
}

[[ "$(id -u)" == 0 ]] || fail "run as root (debootstrap needs it)"
command -v debootstrap >/dev/null || fail "debootstrap is missing: apt-get install -y debootstrap"
"$DOCKER" version >/dev/null 2>&1 || fail "no Docker engine answers ($DOCKER version failed); start dockerd first"
[[ -x "$PIP" ]] || fail "$PIP is missing: run \`make install\` first"

INPUTS_HASH="$(cat "${INPUTS[@]}" | sha256sum | cut -c1-16)"
if [[ "${BREAKWATER_IMAGE_FORCE:-0}" != 1 ]] &&
  [[ "$("$DOCKER" image inspect --format "{{ index .Config.Labels \"$LABEL\" }}" "$TAG" 2>/dev/null || true)" == "$INPUTS_HASH" ]]; then
  echo "sam-local-image: $TAG is up to date (inputs $INPUTS_HASH)"
  exit 0
fi

started=$SECONDS
WORK="$(mktemp -d /var/tmp/breakwater-lambda-image.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
ROOTFS="$WORK/rootfs"
MIRROR="$(debian_mirror)"

echo "sam-local-image: debootstrap $SUITE (minbase, python3) from $MIRROR"
if ! debootstrap --variant=minbase --include=python3,ca-certificates "$SUITE" "$ROOTFS" "$MIRROR" \
  >"$WORK/debootstrap.log" 2>&1; then
  tail -n 20 "$WORK/debootstrap.log" >&2
  fail "debootstrap $SUITE failed (log above)"
fi
found_minor="$(chroot "$ROOTFS" python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
[[ "$found_minor" == "$PYTHON_MINOR" ]] || fail "$SUITE's python3 is $found_minor, not $PYTHON_MINOR"

echo "sam-local-image: /var/runtime: awslambdaric and functions/runtime-provided.txt ($(pip_platform))"
# --no-deps: exactly the pinned files, nothing a resolver adds; the smoke test below imports them all.
"$PIP" install --quiet --disable-pip-version-check --no-compile --no-deps --only-binary=:all: \
  --platform "$(pip_platform)" --python-version "$PYTHON_MINOR" --implementation cp \
  --target "$ROOTFS/var/runtime" -r "$HERE/requirements.txt" -r "$ROOT/functions/runtime-provided.txt"
install -m 0755 "$HERE/bootstrap" "$ROOTFS/var/runtime/bootstrap"
mkdir -p "$ROOTFS/var/task" "$ROOTFS/opt"
# Byte-compile with the image's own interpreter, as the managed runtime ships its files.
chroot "$ROOTFS" python3 -m compileall -q /var/runtime >/dev/null
rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/usr/share/doc/* "$ROOTFS"/usr/share/man/*

echo "sam-local-image: docker import $TAG"
tar --numeric-owner -C "$ROOTFS" -c . | "$DOCKER" import \
  -c "WORKDIR /var/task" \
  -c "ENV LANG=C.UTF-8 TZ=:/etc/localtime LAMBDA_TASK_ROOT=/var/task LAMBDA_RUNTIME_DIR=/var/runtime" \
  -c "LABEL $LABEL=$INPUTS_HASH" \
  -c 'ENTRYPOINT ["/var/runtime/bootstrap"]' \
  - "$TAG" >/dev/null

"$DOCKER" run --rm --network none --entrypoint /usr/bin/python3 -e PYTHONPATH=/var/runtime "$TAG" -c \
    'import awslambdaric.bootstrap, boto3, botocore, sys; print("python", sys.version.split()[0], "boto3", boto3.__version__)' ||
  fail "the image $TAG does not import awslambdaric and boto3"
echo "sam-local-image: built $TAG (inputs $INPUTS_HASH) in $((SECONDS - started)) s"
