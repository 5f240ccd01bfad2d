#!/usr/bin/env bash
# Create .venv with Python >= 3.11 and install Steward into it.
#   scripts/venv.sh run   what `make run` needs: the server and the demo (steward[demo]);
#                         no browser, no Java, no test libraries.
#   scripts/venv.sh test  everything the test suite needs (steward[dev]) and the system
#                         packages of its browser, PDF and Spark tests, and MLflow
#                         servers for the MLflow bridge's tests (default): MLflow 3 in
#                         .venv-mlflow, the newest MLflow 2.x in .venv-mlflow2.
# Used by `make`; safe to re-run. On a fresh Debian machine it installs the python3-venv
# package first when it is missing and we are root. Packages are installed with uv (itself
# installed from the package index) because it is several times faster; pip is the fallback.
set -euo pipefail
cd "$(dirname "$0")/.."
PROFILE="${1:-test}"
case "$PROFILE" in
  run) EXTRAS=demo; STAMP=.venv/.installed-run ;;
  test) EXTRAS=dev; STAMP=.venv/.installed ;;
  *) echo "usage: scripts/venv.sh [run|test]" >&2; exit 2 ;;
esac

PY="${PYTHON:-}"
if [ -z "$PY" ]; then
  for candidate in python3.11 python3.12 python3.13 python3; do
    if command -v "$candidate" >/dev/null 2>&1 && \
       "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      PY="$candidate"; break
    fi
  done
fi
if [ -z "$PY" ]; then
  echo "Steward needs Python >= 3.11; install it (Debian: apt-get install python3)." >&2
  exit 1
fi

if ! "$PY" -c 'import ensurepip, venv' >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing python3-venv (needed to create .venv)..." >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv
  else
    echo "Python's venv module is missing: run 'sudo apt-get install python3-venv' first." >&2
    exit 1
  fi
fi

install_test_system_packages() {
  # The web UI's browser tests drive Debian's Chromium (/usr/bin/chromium) with Playwright;
  # the Traditional Chinese pages (and their screenshots) need a CJK font.
  if [ ! -x /usr/bin/chromium ] || [ ! -d /usr/share/fonts/opentype/noto ]; then
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
      echo "Installing chromium and fonts-noto-cjk (for the web UI's browser tests)..." >&2
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        chromium fonts-noto-cjk
    else
      echo "Note: /usr/bin/chromium or fonts-noto-cjk is missing, so the browser tests will be" \
           "skipped; install them with 'sudo apt-get install chromium fonts-noto-cjk'." >&2
    fi
  fi

  # Model card PDFs: WeasyPrint needs Pango; the tests render pages with poppler's pdftoppm.
  if ! command -v pdftoppm >/dev/null 2>&1 || ! ldconfig -p 2>/dev/null | grep -q libpangoft2-1.0; then
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
      echo "Installing Pango and poppler-utils (model card PDFs and their tests)..." >&2
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        libpango-1.0-0 libpangoft2-1.0-0 poppler-utils
    else
      echo "Note: model card PDFs need Pango and the PDF tests poppler's pdftoppm; install" \
           "them with 'sudo apt-get install libpango-1.0-0 libpangoft2-1.0-0 poppler-utils'." >&2
    fi
  fi

  # PySpark (the monitoring engine's Spark path, tested in local mode) needs a Java runtime.
  if ! command -v java >/dev/null 2>&1; then
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
      echo "Installing a Java runtime (default-jre-headless, needed by PySpark)..." >&2
      { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq default-jre-headless; } \
        || echo "Could not install Java; the Spark tests will be skipped." >&2
    else
      echo "PySpark needs Java: run 'sudo apt-get install default-jre-headless' (the Spark tests are skipped without it)." >&2
    fi
  fi
}

install_test_node_packages() {
  # The single sign-on tests start a real OpenID provider (oidc-provider on Node.js), pinned
  # by tests/oidc/package-lock.json. Without Node they are skipped, saying so.
  if command -v npm >/dev/null 2>&1; then
    (cd tests/oidc && npm ci --no-audit --no-fund --loglevel=error) \
      || echo "npm ci in tests/oidc failed; the single sign-on tests will fail." >&2
  else
    echo "Note: Node.js/npm is missing, so the single sign-on tests will be skipped;" \
         "install them with 'sudo apt-get install nodejs npm'." >&2
  fi
}

install_python_packages() {
  if [ ! -x .venv/bin/python ]; then
    "$PY" -m venv .venv
  fi
  # uv resolves and installs in seconds where pip takes minutes; pip still works without it.
  if [ -x .venv/bin/uv ] || .venv/bin/python -m pip install -q uv >/dev/null 2>&1; then
    VIRTUAL_ENV="$PWD/.venv" .venv/bin/uv pip install -q --compile-bytecode \
      --python .venv/bin/python -e ".[$EXTRAS]"
  else
    echo "uv is unavailable; installing with pip (slower)." >&2
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q -e ".[$EXTRAS]"
  fi
}

install_mlflow_server() {
  # The MLflow bridge's tests run a real `mlflow server`, as a peer in a virtualenv of its
  # own: the full mlflow package brings Flask, gunicorn and pins Steward's venv does not
  # need. (The tests' MLflow 3 *client* comes from Steward's `mlflow` extra, in .venv; an
  # older release's server is filled by the client in its own venv.)
  #   install_mlflow_server DIR WHAT REQUIREMENT...
  local dir="$1" what="$2"
  shift 2
  if [ -x "$dir/bin/mlflow" ]; then
    return
  fi
  if [ ! -x "$dir/bin/python" ]; then
    "$PY" -m venv "$dir"
  fi
  if [ -x .venv/bin/uv ]; then
    VIRTUAL_ENV="$PWD/$dir" .venv/bin/uv pip install -q --python "$dir/bin/python" "$@"
  else
    "$dir/bin/python" -m pip install -q "$@"
  fi || echo "Could not install $what into $dir (is the package index reachable?);" \
            "the MLflow bridge tests that need it will be skipped." >&2
}

if [ "$PROFILE" = "test" ]; then
  install_test_system_packages
  install_test_node_packages
fi
install_python_packages
if [ "$PROFILE" = "test" ]; then
  install_mlflow_server .venv-mlflow "the MLflow server" 'mlflow>=2.10,<4'
  # MLflow 2.x, for the import tests' second server: its newest release (2.22 when this was
  # written) needs SQLAlchemy < 2.1 (2.1 dropped a pool class its SQL store imports).
  install_mlflow_server .venv-mlflow2 "the MLflow 2.x server" 'mlflow>=2.21,<3' 'sqlalchemy<2.1'
fi
touch "$STAMP"
if [ "$PROFILE" = "test" ]; then
  touch .venv/.installed-run  # dev includes everything `make run` needs
fi
