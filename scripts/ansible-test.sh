#!/usr/bin/env bash
# Run ansible-test (sanity or units) locally, without containers, from the namespaced
# collection tree. ansible-test bootstraps pip into each venv it makes with a get-pip
# script it downloads from a host we cannot reach (ansible/ansible#77304); it uses a
# file already at its cache path, so put a stand-in there: it installs the pip (and for older
# releases setuptools and wheel) that ansible-test asks for from wheels fetched once from the
# package index.
#   usage: scripts/ansible-test.sh sanity|units [extra ansible-test args]
# With CORE=2.16 (a line of requirements-matrix.txt) it runs that ansible-core release from a
# venv of its own (.venv-core-2.16, made on first use with the Python the line names).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
bin="$repo/.venv/bin"
if [ -n "${CORE:-}" ]; then
  line=$(grep -E "^ansible-core==${CORE//./\\.}\\." "$repo/requirements-matrix.txt") \
    || { echo "ansible-test.sh: no ansible-core $CORE in requirements-matrix.txt" >&2; exit 2; }
  pin=${line%% *} python=${line##* }
  venv="$repo/.venv-core-$CORE"
  if [ "$(cat "$venv/.pin" 2>/dev/null)" != "$pin" ]; then
    interpreter=$(PYENV_VERSION="${python#python}" pyenv which python 2>/dev/null || command -v "$python") \
      || { echo "ansible-test.sh: $python is needed for $pin" >&2; exit 2; }
    rm -rf "$venv" && "$interpreter" -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check "$pin"
    echo "$pin" >"$venv/.pin"
  fi
  bin="$venv/bin"
  echo "ansible-test.sh: $("$bin/ansible" --version | head -1) on $("$bin/python" -V)"
fi
py_version=$("$bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')

# The packages ansible-test bootstraps into each venv it makes (pip, and for older releases
# setuptools and wheel), as name==version lines.
packages=$("$bin/python" - "$py_version" <<'PY'
import sys, types
from ansible_test._internal.python_requirements import get_venv_packages
for name, version in get_venv_packages(types.SimpleNamespace(version=sys.argv[1])).items():
    if version:
        print("%s==%s" % (name, version))
PY
)
pip_version=$(sed -n 's/^pip==//p' <<<"$packages")
cache="$HOME/.ansible/test/cache"
shim="$cache/get_pip_${pip_version//./_}.py"
# Their wheels, fetched once, and pip's unpacked: the stand-in installs them from there with
# that pip, about 1 s a venv. (Through ensurepip and a second pip install from the index it was
# 6.6 s, and a fresh sanity run makes nine venvs per release.)
wheels="$cache/bulwark-wheels"
if [ ! -d "$wheels/pip-$pip_version" ]; then
  # shellcheck disable=SC2086 # one package per word
  "$bin/python" -m pip download -q --disable-pip-version-check --no-deps --only-binary=:all: \
    --dest "$wheels" $packages \
    || { echo "ansible-test.sh: could not fetch $packages from the package index" >&2; exit 1; }
  # Unpacked beside, then renamed: a run killed midway leaves no half a pip to be used.
  rm -rf "$wheels/pip-$pip_version.tmp"
  "$bin/python" -m zipfile -e "$wheels/pip-$pip_version-py3-none-any.whl" "$wheels/pip-$pip_version.tmp"
  mv "$wheels/pip-$pip_version.tmp" "$wheels/pip-$pip_version"
fi
mkdir -p "$cache"
cat >"$shim" <<'PY'
# Stand-in for get-pip.py written by bulwark.hardening's scripts/ansible-test.sh: the pip asked
# for installs itself (and setuptools, wheel) into the new venv from the wheels fetched beside
# this file. --ignore-installed: it sees its own copy on PYTHONPATH as installed. get-pip's
# --no-setuptools and --no-wheel are not pip options.
import os
import subprocess
import sys

args = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
wheels = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bulwark-wheels")
pip = next(arg[len("pip==") :] for arg in args if arg.startswith("pip=="))
env = dict(os.environ, PYTHONPATH=os.path.join(wheels, "pip-" + pip))
command = [sys.executable, "-m", "pip", "install", "--ignore-installed", "--no-index", "--find-links", wheels, *args]
sys.exit(subprocess.call(command, env=env))
PY

what=$1
shift
mkdir -p "$repo/.tmp"
root=$(mktemp -d "$repo/.tmp/ansible-test-$what.XXXXXX")
trap 'rm -rf "$root"' EXIT
tree=$("$repo/scripts/collection-tree.sh" "$root")
cd "$tree"
case "$what" in
  sanity) "$bin/ansible-test" sanity --venv --python "$py_version" --color no "$@" ;;
  units)  "$bin/ansible-test" units --venv --python "$py_version" --color no "$@" ;;
  *) echo "usage: $0 sanity|units" >&2; exit 2 ;;
esac
