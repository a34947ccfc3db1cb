#!/usr/bin/env bash
# Alibaba Cloud SMS skill: a thin shim over the sms_skill Python package.
#
# Finds the skill folder (symlinks resolved) and execs Python on sms_skill/__main__.py, so that
# signals reach the program that switches AI mode off. The interpreter, first match wins:
#   1. $SMS_SKILL_PYTHON: used as given, never skipped; an unusable one is an error;
#   2. <skill>/.runtime: the private environment an earlier first run built;
#   3. <skill>/.runtime-python: the interpreter that `python3` on PATH resolved to last time,
#      while `python3` still names the same command (a version-manager shim costs ~50 ms);
#   4. `python3` on PATH, if it is 3.9+ with click, jmespath and phonenumbers (then
#      remembered as in 3);
#      if it is 3.9+ without them, a private environment is built in .runtime once.
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

# The skill folder, without a process on the usual path (the shim runs on every agent step):
# symlinks to the script are followed; the folder is <script's folder>/.. as given.
source_path="${BASH_SOURCE[0]}"
while [ -L "$source_path" ]; do
  link_dir="$(cd -P "$(dirname "$source_path")" && pwd)"
  source_path="$(readlink "$source_path")"
  case "$source_path" in /*) ;; *) source_path="$link_dir/$source_path" ;; esac
done
case "$source_path" in */*) script_dir="${source_path%/*}" ;; *) script_dir=. ;; esac
case "$script_dir" in /*) ;; *) script_dir="$PWD/$script_dir" ;; esac
case "$script_dir" in
  */scripts) skill_dir="${script_dir%/scripts}" ;;
  *) skill_dir="$script_dir/.." ;;
esac
skill_dir="${skill_dir:-/}"

# Python starts with these signals blocked (GNU env >= 8.31) and unblocks them once its
# handlers are in place: one arriving while the interpreter starts is held, not a traceback.
# Whether this env can is probed once and remembered in <skill>/.env-block-signal while env
# is the same file, not newer than that note (a probe on every run costs a process).
start=()
case "${OSTYPE:-}" in
  linux*)
    env_note="$skill_dir/.env-block-signal"
    env_path=""
    hash env 2>/dev/null && env_path="${BASH_CMDS[env]:-}"
    noted=""
    if [ -n "$env_path" ] && [ -f "$env_note" ] && [ ! "$env_path" -nt "$env_note" ]; then
      read -r noted < "$env_note" 2>/dev/null || noted=""
    fi
    if [ -n "$env_path" ] && [ "$noted" = "$env_path" ]; then
      start=("$env_path" "--block-signal=INT,TERM,HUP")
    elif [ -n "$env_path" ] && "$env_path" --block-signal=INT true 2>/dev/null; then
      start=("$env_path" "--block-signal=INT,TERM,HUP")
      # Written whole then renamed; a read-only skill folder just probes every time.
      { printf '%s\n' "$env_path" > "$env_note.$$" && mv -f "$env_note.$$" "$env_note"; } \
        2>/dev/null || rm -f "$env_note.$$" 2>/dev/null || true
    fi
    ;;
esac
runtime="$skill_dir/.runtime"
remembered="$skill_dir/.runtime-python"
requirements=("click>=8.1" "jmespath>=1.0" "phonenumbers>=8.13")

export PYTHONPATH="$skill_dir${PYTHONPATH:+:$PYTHONPATH}"
# Usage lines and next-step hints name the program as the user ran it.
export SMS_SKILL_PROG="$0"

fail() {
  echo "error: $*" >&2
  exit 3
}

# What `python -m sms_skill` runs, minus the current folder on sys.path (a json.py or
# sqlite3.py where the user happens to stand must never run in place of the standard
# library), and without runpy (a few ms of imports on every start).
launch='import sys
if sys.path and sys.path[0] in ("", "."):
    del sys.path[0]
import sms_skill.__main__'

# is_python PATH: an executable named like a Python interpreter. Costs no process: the
# version and the dependencies are checked by sms_skill/__main__.py, which names the source.
is_python() {
  case "${1##*/}" in python*) ;; *) return 1 ;; esac
  [ -f "$1" ] && [ -x "$1" ] || command -v "$1" >/dev/null 2>&1
}

if [ -n "${SMS_SKILL_PYTHON:-}" ]; then
  is_python "$SMS_SKILL_PYTHON" ||
    fail "SMS_SKILL_PYTHON=$SMS_SKILL_PYTHON is not a Python interpreter; point it at python3 (3.9 or newer) or unset it."
  exec ${start[@]+"${start[@]}"} "$SMS_SKILL_PYTHON" -c "$launch" "$@"
fi

if [ -x "$runtime/bin/python" ]; then
  exec ${start[@]+"${start[@]}"} "$runtime/bin/python" -c "$launch" "$@"
fi
if [ -e "$runtime" ]; then
  # Its Python is gone (e.g. a version manager removed the base interpreter): rebuild it.
  echo "$0: the private environment $runtime no longer runs; rebuilding it." >&2
  if ! stale="$(mktemp -d "$skill_dir/.runtime.stale.XXXXXX" 2>/dev/null)" ||
     ! mv -T "$runtime" "$stale/runtime" 2>/dev/null; then
    fail "cannot replace $runtime; delete it and run again."
  fi
  rm -rf "$stale"
fi

found="$(command -v python3 || true)"
[ -n "$found" ] || fail "python3 (3.9 or newer) is required; install it, or set SMS_SKILL_PYTHON to one."

if [ -f "$remembered" ]; then
  { read -r was_found && read -r python; } < "$remembered" || python=""
  if [ "${was_found:-}" = "$found" ] && [ -n "$python" ] && is_python "$python"; then
    exec ${start[@]+"${start[@]}"} "$python" -c "$launch" "$@"
  fi
fi

# One probe: version, whether click and jmespath import (and phonenumbers is installed: it is
# imported only for international numbers), the real executable. Written to run on any
# Python, 2.7 included, so that an old one is named rather than crashing.
probe='import sys
if sys.path and sys.path[0] in ("", "."):
    del sys.path[0]
import os
try:
    import click, jmespath
    import importlib.util
    deps = "yes" if importlib.util.find_spec("phonenumbers") else "no"
except Exception:
    deps = "no"
print("%d.%d %s %s" % (sys.version_info[0], sys.version_info[1], deps, os.path.abspath(sys.executable)))'
read -r version deps real < <("$found" -c "$probe" 2>/dev/null || true) || true
[ -n "${version:-}" ] || fail "$found does not run; install python3 (3.9 or newer), or set SMS_SKILL_PYTHON to one."
major="${version%%.*}" minor="${version#*.}"
if [ "$major" -lt 3 ] || { [ "$major" -eq 3 ] && [ "$minor" -lt 9 ]; }; then
  fail "python3 on PATH ($found) is Python $version; 3.9 or newer is required: install it, or set SMS_SKILL_PYTHON to one."
fi

if [ "$deps" = yes ] && is_python "$real"; then
  # Written whole then renamed: runs starting together never read half a file.
  if tmp="$(mktemp "$remembered.XXXXXX" 2>/dev/null)"; then
    { printf '%s\n%s\n' "$found" "$real" > "$tmp" && mv -fT "$tmp" "$remembered"; } 2>/dev/null ||
      rm -f "$tmp"
  fi
  exec ${start[@]+"${start[@]}"} "$real" -c "$launch" "$@"
fi

# First run on this machine: a private environment with the dependencies, built in a
# temporary folder and moved into place, so that runs starting together do not collide.
echo "$0: first run: creating a private Python environment in $runtime (once; needs the package registry)..." >&2
building=""
trap '[ -z "$building" ] || rm -rf "$building" "$building.log"' EXIT
building="$(mktemp -d "$skill_dir/.runtime.build.XXXXXX" 2>/dev/null)" ||
  fail "cannot write to $skill_dir; make it writable, or set SMS_SKILL_PYTHON to a python3 with ${requirements[*]}."
# Built from inside the skill folder (files in the user's current folder could stand in
# for venv or pip), with the output in a log shown only on failure: an interrupt gives the
# one-line message, not the tracebacks of the tools it stopped.
if ! (cd "$skill_dir" && "$found" -m venv "$building" &&
      "$building/bin/python" -m pip install --quiet --disable-pip-version-check \
        "${requirements[@]}") > "$building.log" 2>&1; then
  grep -v '^WARNING: Location' "$building.log" | tail -n 5 >&2 || true
  fail "could not create $runtime; install ${requirements[*]} for $found, or set SMS_SKILL_PYTHON to a python3 that has them."
fi
mv -T "$building" "$runtime" 2>/dev/null || true  # a run starting with us may have won
rm -rf "$building" "$building.log"
trap - EXIT
echo "$0: environment ready; later runs use it directly." >&2
exec ${start[@]+"${start[@]}"} "$runtime/bin/python" -c "$launch" "$@"
