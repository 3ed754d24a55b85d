#!/usr/bin/env bash
# Run ansible-test (sanity or units) locally, without containers, from the namespaced
# collection tree. ansible-test bootstraps pip into each venv it makes with a get-pip
# script it downloads from a host we cannot reach (ansible/ansible#77304); it uses a
# file already at its cache path, so put a stand-in there that bootstraps pip with the
# standard library's ensurepip and installs the rest from PyPI.
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

pip_version=$("$bin/python" - "$py_version" <<'PY'
import sys, types
from ansible_test._internal.python_requirements import get_venv_packages
print(get_venv_packages(types.SimpleNamespace(version=sys.argv[1]))["pip"])
PY
)
shim="$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"
mkdir -p "$(dirname "$shim")"
cat >"$shim" <<'PY'
# Stand-in for get-pip.py written by bulwark.hardening's scripts/ansible-test.sh.
import ensurepip
import os
import subprocess
import sys

config = os.environ.get("PIP_CONFIG_FILE")
ensurepip.bootstrap(upgrade=True)
# ensurepip before Python 3.13 leaves PIP_CONFIG_FILE=/dev/null in the environment, which would
# hide the machine's pip configuration (its CA bundle, its mirrors) from the install below.
if config is None:
    os.environ.pop("PIP_CONFIG_FILE", None)
args = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
sys.exit(subprocess.call([sys.executable, "-m", "pip", "install", *args]))
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
