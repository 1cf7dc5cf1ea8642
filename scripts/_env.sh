# Shared by scripts/*: make .venv (Python 3.11+) and install the project into it.
# usage: . scripts/_env.sh EXTRA   e.g. EXTRA = test, or "" for none (always pass one: a
# sourced file without arguments sees the calling script's own, e.g. serve's --port)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
pick_python() {
  for candidate in "${PYTHON:-}" python3.13 python3.12 python3.11 python3; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      echo "$candidate"; return 0
    fi
  done
  echo "Python 3.11 or newer is needed" >&2; return 1
}
if [ ! -x .venv/bin/python ]; then
  "$(pick_python)" -m venv .venv
fi
extra="${1:-}"
spec="."
[ -n "$extra" ] && spec=".[$extra]"
stamp=".venv/.installed-${extra:-base}"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null 2>&1 || true
  if ! .venv/bin/python -m pip install -q --disable-pip-version-check -e "$spec" >.venv/pip.log 2>&1; then
    cat .venv/pip.log >&2
    echo "installing the project failed (log above)" >&2
    exit 1
  fi
  .venv/bin/python -c "import events" && touch "$stamp"
fi
export PATH="$PWD/.venv/bin:$PATH"

# need_debian FILE PACKAGE...: install Debian's PACKAGEs when FILE is missing and we are root
# with apt-get (as on CI); else say so and return 1. For the browser (tests/test_browser.py,
# scripts/screenshots): Debian's chromium, which Playwright drives without a download.
need_debian() {
  local file="$1"; shift
  [ -e "$file" ] && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing $* (Debian)" >&2
    if apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null; then
      return 0
    fi
  fi
  echo "$* could not be installed (root with apt-get is needed); $file is missing" >&2
  return 1
}
