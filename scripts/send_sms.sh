#!/usr/bin/env bash
# Alibaba Cloud SMS skill: a thin shim over the sms_skill Python package.
#
# Finds the skill folder (symlinks resolved) and execs Python on `-m sms_skill`, so that
# signals reach the program that switches AI mode off. On a machine whose python3 lacks
# click or jmespath it creates a private virtual environment in <skill>/.runtime once.
set -euo pipefail
# A signal before Python starts: the program's one-line message and exit code (exec resets
# these traps, and Python installs its own handlers first thing).
early_exit() {
  echo "error: interrupted by $1 before the program started; nothing was called or sent." >&2
  exit "$2"
}
trap 'early_exit SIGINT 130' INT
trap 'early_exit SIGTERM 143' TERM
trap 'early_exit SIGHUP 129' HUP
# Python starts with these signals blocked (GNU env >= 9.1) and unblocks them once its
# handlers are in place: one arriving while the interpreter starts is held, not a traceback.
start=()
case "${OSTYPE:-}" in
  linux*) if env --block-signal=INT true 2>/dev/null; then start=(env "--block-signal=INT,TERM,HUP"); fi ;;
esac

source_path="${BASH_SOURCE[0]}"
while [ -L "$source_path" ]; do
  link_dir="$(cd -P "$(dirname "$source_path")" && pwd)"
  source_path="$(readlink "$source_path")"
  case "$source_path" in /*) ;; *) source_path="$link_dir/$source_path" ;; esac
done
skill_dir="$(cd -P "$(dirname "$source_path")/.." && pwd)"
runtime="$skill_dir/.runtime"

export PYTHONPATH="$skill_dir${PYTHONPATH:+:$PYTHONPATH}"
export SMS_SKILL_PROG="${SMS_SKILL_PROG:-send_sms.sh}"

remembered="$skill_dir/.runtime-python"

if [ -x "$runtime/bin/python" ]; then
  exec ${start[@]+"${start[@]}"} "$runtime/bin/python" -m sms_skill "$@"
fi
# The real interpreter found on an earlier run: no version-manager shim (pyenv adds ~50 ms)
# and no second interpreter start to probe for click on every run.
if [ -z "${SMS_SKILL_PYTHON:-}" ] && [ -f "$remembered" ]; then
  read -r python < "$remembered" || python=""
  if [ -n "$python" ] && [ -x "$python" ]; then
    exec ${start[@]+"${start[@]}"} "$python" -m sms_skill "$@"
  fi
fi

python="${SMS_SKILL_PYTHON:-python3}"
if ! command -v "$python" >/dev/null 2>&1; then
  echo "error: python3 is required (3.9 or newer); install it and run again." >&2
  exit 3
fi
if real="$("$python" -c 'import os, sys, click, jmespath; print(os.path.abspath(sys.executable))' 2>/dev/null)" &&
   [ -x "$real" ]; then
  [ -n "${SMS_SKILL_PYTHON:-}" ] || printf '%s\n' "$real" > "$remembered" 2>/dev/null || true
  exec ${start[@]+"${start[@]}"} "$real" -m sms_skill "$@"
fi

# First run on this machine: a private environment with the two dependencies, built in a
# temporary folder and moved into place, so that runs starting together do not collide.
echo "send_sms.sh: first run: creating a private Python environment in $runtime (once)..." >&2
building="$(mktemp -d "$skill_dir/.runtime.build.XXXXXX")"
trap 'rm -rf "$building"' EXIT
if ! "$python" -m venv "$building" >&2 ||
   ! "$building/bin/python" -m pip install --quiet --disable-pip-version-check \
       "click>=8.1" "jmespath>=1.0" >&2; then
  echo "error: could not create $runtime; install click and jmespath for $python instead." >&2
  exit 3
fi
mv -T "$building" "$runtime" 2>/dev/null || true
trap - EXIT
rm -rf "$building"
echo "send_sms.sh: environment ready; later runs use it directly." >&2
exec ${start[@]+"${start[@]}"} "$runtime/bin/python" -m sms_skill "$@"
