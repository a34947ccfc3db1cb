#!/usr/bin/env bats
# shellcheck disable=SC2016  # literal $HOME, $(whoami) and backticks are the point
# scripts/send_sms.sh as a user's shell runs it: help, quoting, exit codes, symlinks,
# dry runs and the first-run bootstrap, against the fake aliyun.

bats_require_minimum_version 1.5.0

setup() {
  load '../../node_modules/bats-support/load'
  load '../../node_modules/bats-assert/load'
  load 'test_helper'
  common_setup
}

SEND_ARGS=(send -p 13800138000 -s AliyunDemo -t SMS_123456 -tp '{"code":"123456"}')

# ---- help and usage ---------------------------------------------------------------------------

@test "--help exits 0 with examples and the exit codes" {
  run --separate-stderr "$SHIM" --help
  assert_success
  assert_output --partial "Usage: $SHIM "
  assert_output --partial "Examples"
  assert_output --partial "Exit codes"
  [ -z "$stderr" ]
  [ ! -e "$FAKE_ALIYUN_LOG" ]
}

@test "a command's --help has examples too" {
  run --separate-stderr "$SHIM" send --help
  assert_success
  assert_output --partial "Examples"
  assert_output --partial "--phone-file"
  [ ! -e "$FAKE_ALIYUN_LOG" ]
}

@test "bare invocation prints the usage and calls nothing" {
  run --separate-stderr "$SHIM"
  assert_success
  assert_output --partial "Usage: $SHIM "
  assert_output --partial "Commands:"
  [ ! -e "$FAKE_ALIYUN_LOG" ]
}

@test "an unknown command exits 2 with a one-line error on stderr" {
  run --separate-stderr "$SHIM" frobnicate
  assert_failure 2
  [ -z "$output" ]
  [ "${#stderr_lines[@]}" -eq 1 ]
  [[ "$stderr" == error:* ]]
  [[ "$stderr" == *frobnicate* ]]
  [ ! -e "$FAKE_ALIYUN_LOG" ]
}

# ---- arguments arrive at aliyun byte for byte -------------------------------------------------

@test "spaces, quotes, unicode, \$HOME, \$(whoami) and backticks in -s reach aliyun unchanged" {
  mock '[send_ok()]'
  local sign='签名 My "double" '"'"'single'"'"' $HOME $(whoami) `whoami` 😀 \n	tab'
  run --separate-stderr "$SHIM" send -p 13800138000 -s "$sign" -t SMS_123456 -tp '{"code":"1"}'
  assert_success
  assert_output --partial '"Code": "OK"'
  EXPECTED="$sign" run assert_logged_arg send-sms --sign-name
  assert_success
}

@test "the same characters in -tp JSON values reach aliyun unchanged" {
  mock '[send_ok()]'
  local param='{"code":"12 34","name":"签名 😀","q":"it'"'"'s \"quoted\"","h":"$HOME","w":"$(whoami)","b":"`whoami`","s":"a\\b"}'
  run --separate-stderr "$SHIM" send -p 13800138000 -s AliyunDemo -t SMS_123456 -tp "$param"
  assert_success
  EXPECTED="$param" run assert_logged_arg send-sms --template-param
  assert_success
}

@test "--dry-run prints shell-quoted commands that split back into the same arguments" {
  local sign='签名 "a" '"'"'b'"'"' $HOME `x`'
  run --separate-stderr "$SHIM" --dry-run --format table send -p 13800138000 -s "$sign" -t SMS_123456
  assert_success
  EXPECTED="$sign" run python3 -c '
import os, shlex, sys
argv = shlex.split(sys.argv[1])
assert argv[:3] == ["aliyun", "dysmsapi", "send-sms"], argv
got, want = argv[argv.index("--sign-name") + 1], os.environ["EXPECTED"]
sys.exit(0 if got == want else "%r != %r" % (got, want))
' "$output"
  assert_success
}

# ---- exit codes pass through the shim ---------------------------------------------------------

@test "a business error (aliyun exit 0) exits 1" {
  mock '[business_error("isv.SMS_SIGN_NAME_ILLEGAL", "签名不合法")]'
  run --separate-stderr "$SHIM" "${SEND_ARGS[@]}"
  assert_failure 1
  [ -z "$output" ]
  [[ "$stderr" == *isv.SMS_SIGN_NAME_ILLEGAL* ]]
  [[ "$stderr" == *list-signs* ]]
  [ "$(product_calls send-sms)" -eq 1 ]
}

@test "--verify refused exits 4 and sends nothing" {
  mock '[mock_record("dysmsapi get-sms-sign *", stdout=json_response({"Code": "OK", "SignName": "AliyunDemo", "SignStatus": 0}))]'
  run --separate-stderr "$SHIM" "${SEND_ARGS[@]}" --verify
  assert_failure 4
  [[ "$stderr" == *"under review"* ]]
  [ "$(product_calls get-sms-sign)" -eq 1 ]
  [ "$(product_calls send-sms)" -eq 0 ]
}

@test "--dry-run exits 0 and prints one JSON document off a terminal" {
  run --separate-stderr "$SHIM" --dry-run "${SEND_ARGS[@]}"
  assert_success
  python3 -c 'import json, sys; assert json.loads(sys.argv[1])["dry_run"] is True' "$output"
  assert_output --partial "aliyun dysmsapi send-sms --api-version 2017-05-25 "
  assert_output --partial "--user-agent $UA --read-timeout 3 --region cn-hangzhou"
}

@test "bad input exits 2 and calls nothing" {
  run --separate-stderr "$SHIM" send -p 12ab -s AliyunDemo -t SMS_123456
  assert_failure 2
  [[ "$stderr" == *--phone-numbers* ]]
  [ ! -e "$FAKE_ALIYUN_LOG" ]
}

@test "aliyun missing from PATH exits 3" {
  PATH="$BASE_PATH" run --separate-stderr "$SHIM" "${SEND_ARGS[@]}"
  assert_failure 3
  [ -z "$output" ]
  [[ "$stderr" == *"aliyun CLI is not installed"* ]]
  [ ! -e "$FAKE_ALIYUN_LOG" ]
}

@test "a successful send exits 0 with AI mode switched off afterwards" {
  run --separate-stderr "$SHIM" "${SEND_ARGS[@]}"
  assert_success
  assert_output --partial '"Code": "OK"'
  run logged_calls
  assert_line --index 0 "version"
  assert_line "configure ai-mode enable"
  assert_line "configure ai-mode set-user-agent --user-agent $UA"
  assert_line --regexp "^dysmsapi send-sms --api-version 2017-05-25 .* --user-agent $UA --read-timeout 3 --region cn-hangzhou$"
  assert_line --index -1 "configure ai-mode disable"
}

# ---- symlinks ---------------------------------------------------------------------------------

@test "a symlink to the shim in another folder works" {
  mkdir -p "$BATS_TEST_TMPDIR/elsewhere"
  ln -s "$SHIM" "$BATS_TEST_TMPDIR/elsewhere/sms"
  run --separate-stderr "$BATS_TEST_TMPDIR/elsewhere/sms" --dry-run "${SEND_ARGS[@]}"
  assert_success
  assert_output --partial "aliyun dysmsapi send-sms --api-version 2017-05-25 "
}

@test "a relative symlink to a symlink to the shim works" {
  mkdir -p "$BATS_TEST_TMPDIR/one" "$BATS_TEST_TMPDIR/two/deeper"
  ln -s "$SHIM" "$BATS_TEST_TMPDIR/one/sms"
  ln -s ../../one/sms "$BATS_TEST_TMPDIR/two/deeper/sms"
  cd "$BATS_TEST_TMPDIR"
  run --separate-stderr two/deeper/sms explain isv.SMS_SIGN_NAME_ILLEGAL
  assert_success
  assert_output --partial '"Code": "isv.SMS_SIGN_NAME_ILLEGAL"'
  PATH="$BATS_TEST_TMPDIR/two/deeper:$PATH" run --separate-stderr sms --dry-run "${SEND_ARGS[@]}"
  assert_success
  assert_output --partial "aliyun dysmsapi send-sms "
}

# ---- dry run ----------------------------------------------------------------------------------

@test "--dry-run makes no aliyun call and leaves AI mode alone" {
  run --separate-stderr "$SHIM" --dry-run --format table "${SEND_ARGS[@]}"
  assert_success
  [ "${#lines[@]}" -eq 1 ]
  [[ "$stderr" == *"nothing was sent"* ]]
  [ ! -s "$FAKE_ALIYUN_LOG" ]
  [ ! -e "$HOME/.aliyun/ai-mode.json" ]
  run --separate-stderr "$SHIM" list-signs --approved --dry-run
  assert_success
  [ ! -s "$FAKE_ALIYUN_LOG" ]
}

# ---- first run on a python3 without click -----------------------------------------------------

@test "first run without click builds .runtime once, with one notice, then dry-runs" {
  local bare="$BATS_TEST_TMPDIR/bare"
  python3 -m venv --without-pip "$bare"
  run "$bare/bin/python3" -c 'import click'
  assert_failure
  local skill="$BATS_TEST_TMPDIR/skill"
  mkdir -p "$skill"
  cp -R "$REPO/scripts" "$REPO/sms_skill" "$REPO/references" "$skill/"
  rm -rf "$skill/sms_skill/__pycache__"
  export PATH="$bare/bin:/usr/bin:/bin"
  unset SMS_SKILL_PYTHON

  run --separate-stderr "$skill/scripts/send_sms.sh" --dry-run --format table "${SEND_ARGS[@]}"
  assert_success
  assert_output --regexp "^aliyun dysmsapi send-sms --api-version 2017-05-25 "
  [ "$(grep -c 'first run' <<<"$stderr")" -eq 1 ]
  [ -x "$skill/.runtime/bin/python" ]
  run ls -d "$skill"/.runtime.build.*
  assert_failure
  run --separate-stderr "$skill/scripts/send_sms.sh" --dry-run --format table "${SEND_ARGS[@]}"
  assert_success
  [[ "$stderr" != *"first run"* ]]
  assert_output --regexp "^aliyun dysmsapi send-sms --api-version 2017-05-25 "
  [ ! -e "$FAKE_ALIYUN_LOG" ]
}

# ---- which interpreter: SMS_SKILL_PYTHON, .runtime, the remembered one, python3 --------------

# skill_copy: a copy of the skill folder (no .runtime, no .runtime-python) in $skill.
skill_copy() {
  skill="$BATS_TEST_TMPDIR/skill"
  mkdir -p "$skill"
  cp -R "$REPO/scripts" "$REPO/sms_skill" "$REPO/references" "$skill/"
  rm -rf "$skill/sms_skill/__pycache__"
}

# fake_python DIR VERSION: a `python3` in DIR that answers the shim's probe as VERSION with
# click and jmespath, and fails any real work (exit 99): only the shim's probe mentions deps.
fake_python() {
  mkdir -p "$1"
  printf '#!/bin/sh\ncase "$2" in *deps*) echo "%s yes %s/python3"; exit 0 ;; esac\nexit 99\n' \
    "$2" "$1" > "$1/python3"
  chmod +x "$1/python3"
}

@test "a bad SMS_SKILL_PYTHON is named and never skipped, even when .runtime exists" {
  skill_copy
  mkdir -p "$skill/.runtime/bin"
  ln -s "$REPO/.venv/bin/python" "$skill/.runtime/bin/python"
  SMS_SKILL_PYTHON=/nonexistent/python run --separate-stderr "$skill/scripts/send_sms.sh" --help
  assert_failure 3
  [ -z "$output" ]
  [ "${#stderr_lines[@]}" -eq 1 ]
  [[ "$stderr" == "error: SMS_SKILL_PYTHON=/nonexistent/python is not a Python interpreter;"* ]]
}

@test "an SMS_SKILL_PYTHON without click is named, with what to do" {
  local bare="$BATS_TEST_TMPDIR/bare"
  python3 -m venv --without-pip "$bare"
  SMS_SKILL_PYTHON="$bare/bin/python" run --separate-stderr "$SHIM" --help
  assert_failure 3
  [ "${#stderr_lines[@]}" -eq 1 ]
  [[ "$stderr" == *"SMS_SKILL_PYTHON=$bare/bin/python cannot run the skill"* ]]
  [[ "$stderr" == *"install click>=8.1 and jmespath>=1.0"* ]]
}

@test "a python3 older than 3.9 on PATH is refused in one line, and nothing is built" {
  skill_copy
  unset SMS_SKILL_PYTHON
  fake_python "$BATS_TEST_TMPDIR/old" 3.8
  PATH="$BATS_TEST_TMPDIR/old:/usr/bin:/bin" run --separate-stderr \
    "$skill/scripts/send_sms.sh" --dry-run "${SEND_ARGS[@]}"
  assert_failure 3
  [ "${#stderr_lines[@]}" -eq 1 ]
  [[ "$stderr" == *"is Python 3.8; 3.9 or newer is required"* ]]
  [ ! -e "$skill/.runtime" ] && [ ! -e "$skill/.runtime-python" ]
}

@test "the remembered interpreter is used only while python3 names the same command" {
  skill_copy
  unset SMS_SKILL_PYTHON
  local venv_bin="$REPO/.venv/bin"
  PATH="$venv_bin:/usr/bin:/bin" run --separate-stderr "$skill/scripts/send_sms.sh" --dry-run "${SEND_ARGS[@]}"
  assert_success
  [ "$(sed -n 1p "$skill/.runtime-python")" = "$venv_bin/python3" ]
  # Another python3 first on PATH: the memory does not apply, that python3 is probed.
  fake_python "$BATS_TEST_TMPDIR/other" 3.12
  PATH="$BATS_TEST_TMPDIR/other:/usr/bin:/bin" run --separate-stderr "$skill/scripts/send_sms.sh" --help
  assert_failure 99
  [ "$(sed -n 1p "$skill/.runtime-python")" = "$BATS_TEST_TMPDIR/other/python3" ]
}

@test "an SMS_SKILL_PYTHON that is not a Python is refused, not run" {
  SMS_SKILL_PYTHON=/bin/true run --separate-stderr "$SHIM" --dry-run "${SEND_ARGS[@]}"
  assert_failure 3
  [ -z "$output" ]
  [[ "$stderr" == "error: SMS_SKILL_PYTHON=/bin/true is not a Python interpreter;"* ]]
}

@test "an SMS_SKILL_PYTHON with click but not jmespath is named before any command runs" {
  local bare="$BATS_TEST_TMPDIR/bare" only_click="$BATS_TEST_TMPDIR/only-click"
  python3 -m venv --without-pip "$bare"
  mkdir -p "$only_click"
  cp -R "$(python3 -c 'import click, os; print(os.path.dirname(click.__file__))')" "$only_click/"
  PYTHONPATH="$only_click" SMS_SKILL_PYTHON="$bare/bin/python" run --separate-stderr \
    "$SHIM" --dry-run "${SEND_ARGS[@]}"
  assert_failure 3
  [ -z "$output" ]
  [[ "$stderr" == *"SMS_SKILL_PYTHON=$bare/bin/python cannot run the skill (No module named 'jmespath')"* ]]
}

@test "a .runtime whose Python is gone is rebuilt, not run" {
  skill_copy
  unset SMS_SKILL_PYTHON
  local bare="$BATS_TEST_TMPDIR/bare"
  python3 -m venv --without-pip "$bare"
  mkdir -p "$skill/.runtime/bin"
  ln -s "$BATS_TEST_TMPDIR/removed/python3" "$skill/.runtime/bin/python"
  PATH="$bare/bin:/usr/bin:/bin" run --separate-stderr "$skill/scripts/send_sms.sh" --dry-run --format table "${SEND_ARGS[@]}"
  assert_success
  assert_output --regexp "^aliyun dysmsapi send-sms --api-version 2017-05-25 "
  [[ "$stderr" == *"no longer runs; rebuilding it"* ]]
  [ -x "$skill/.runtime/bin/python" ]
  run ls -d "$skill"/.runtime.stale.* "$skill"/.runtime.build.*
  assert_failure
}

@test "modules in the current folder never stand in for the standard library or click" {
  mkdir -p "$BATS_TEST_TMPDIR/cwd"
  cd "$BATS_TEST_TMPDIR/cwd"
  local name
  for name in json sqlite3 click jmespath os re shlex; do
    printf 'open("%s/ran-%s", "w").close()\nraise SystemExit(0)\n' "$BATS_TEST_TMPDIR" "$name" > "$name.py"
  done
  run --separate-stderr "$SHIM" --dry-run "${SEND_ARGS[@]}"
  assert_success
  assert_output --partial "aliyun dysmsapi send-sms "
  unset SMS_SKILL_PYTHON
  run --separate-stderr "$SHIM" explain DELIVERED
  assert_success
  assert_output --partial '"Code": "DELIVERED"'
  run ls "$BATS_TEST_TMPDIR"/ran-*
  assert_failure
}

@test "a closed stdout is refused before anything runs; a full one gets the result on stderr" {
  run bash -c '"$0" --dry-run "${@}" >&-' "$SHIM" "${SEND_ARGS[@]}"
  assert_failure 3
  assert_output "error: stdout is closed; nothing was run: give it a file or a pipe (e.g. > result.json)."
  run --separate-stderr bash -c '"$0" explain DELIVERED > /dev/full' "$SHIM"
  assert_failure 3
  [[ "$stderr" == *'"Code": "DELIVERED"'* ]]
  [[ "${stderr_lines[-1]}" == "error: could not write the result to stdout (No space left on device); it is on stderr above;"* ]]
}

@test "a result the disk takes only in part is not cut short in silence: it goes to stderr whole" {
  # A file size limit of 2 KiB, a dry-run result of about 4 KiB: the first write is short.
  # (stderr goes through a pipe, which the limit does not apply to.)
  numbers="$(seq -s, 13800000000 13800000099)"
  run --separate-stderr bash -c 'set -o pipefail
    (ulimit -f 2; exec "$0" --dry-run send -p "$1" -s AliyunDemo -t SMS_123456 > "$2") 2>&1 | cat >&2' \
    "$SHIM" "$numbers" "$BATS_TEST_TMPDIR/result.json"
  assert_failure 3
  [ "$(stat -c %s "$BATS_TEST_TMPDIR/result.json")" -le 2048 ]
  [[ "$stderr" == *'"dry_run": true'*"13800000099"* ]]
  [[ "${stderr_lines[-1]}" == "error: could not write the result to stdout (File too large); it is on stderr above;"* ]]
}
