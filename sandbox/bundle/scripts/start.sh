#!/bin/sh
# Start prompt-sandbox, installed before by ./install.sh, from this folder.
#   ./start.sh                     http://127.0.0.1:8501 on this computer
#   ./start.sh --host 0.0.0.0      for the classroom's network as well
cd "$(dirname "$0")" || exit 2
for python in python@PYTHON@ python3; do
    if command -v "$python" >/dev/null 2>&1; then
        exec "$python" install.py --start "$@"
    fi
done
echo "prompt-sandbox: Python @PYTHON@ is not installed on this computer." >&2
exit 2
