#!/bin/sh
# Install prompt-sandbox from this folder with no network, then start it.
#   ./install.sh              check every file, install, prepare the models, start http://127.0.0.1:8501
#   ./install.sh --no-start   install only; start it later with ./start.sh
cd "$(dirname "$0")" || exit 2
for python in python@PYTHON@ python3; do
    if command -v "$python" >/dev/null 2>&1; then
        exec "$python" install.py "$@"
    fi
done
echo "prompt-sandbox install: Python @PYTHON@ is not installed on this computer; install it first (Debian/Ubuntu: the python3 and python3-venv packages)." >&2
exit 2
