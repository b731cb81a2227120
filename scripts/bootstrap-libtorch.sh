#!/usr/bin/env bash
# Installs libtorch (from the PyPI wheel torch==2.11.0, which matches tch 0.24.0) into a
# git-ignored virtualenv inside the repo, and links it at a stable path (.libtorch) that
# .cargo/config.toml points LIBTORCH at. Idempotent: a second run is a no-op.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
TORCH_VERSION="2.11.0"
PYTHON="${PYTHON:-python3}"

have_torch() {
  [ -x "$VENV/bin/python" ] &&
    "$VENV/bin/python" -c "import torch,sys; sys.exit(0 if torch.__version__.split('+')[0]=='$TORCH_VERSION' else 1)" 2>/dev/null
}

if ! have_torch; then
  echo "bootstrap-libtorch: installing torch==$TORCH_VERSION into $VENV (about 4.6 GB, once)" >&2
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "torch==$TORCH_VERSION"
fi

# The JPEG decoder (turbojpeg-sys) builds its bundled libjpeg-turbo with cmake and nasm.
if ! command -v cmake >/dev/null || ! command -v nasm >/dev/null; then
  echo "bootstrap: installing cmake and nasm (Debian packages) for libjpeg-turbo" >&2
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq cmake nasm >/dev/null
fi

# Pillow: the reference decoder the pixel tests compare with (libjpeg-turbo inside).
PILLOW_VERSION="13.0.0"
if ! "$VENV/bin/python" -c "import PIL,sys; sys.exit(0 if PIL.__version__=='$PILLOW_VERSION' else 1)" 2>/dev/null; then
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "pillow==$PILLOW_VERSION"
fi

TORCH_DIR="$("$VENV/bin/python" -c "import torch,os; print(os.path.dirname(torch.__file__))" 2>/dev/null)"
ln -sfn "$TORCH_DIR" "$ROOT/.libtorch"
echo "bootstrap-libtorch: libtorch at $ROOT/.libtorch -> $TORCH_DIR" >&2
