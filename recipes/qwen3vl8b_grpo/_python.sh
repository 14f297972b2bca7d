# The interpreter the run scripts use: $PYTHON when set, else the checkout's virtual environment
# (made by `make setup`), else python3 from PATH. Sourced by run_*.sh.
repo="$(cd "$here/../.." && pwd)"
if [ -n "${PYTHON:-}" ]; then
    python="$PYTHON"
elif [ -x "$repo/.venv/bin/python" ]; then
    python="$repo/.venv/bin/python"
else
    python="python3"
fi
