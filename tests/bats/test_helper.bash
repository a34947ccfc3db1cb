# Shared set-up for the shim's bats tests: a temp HOME, a copy of the fake aliyun first on
# PATH (logging every call), the project's .venv python, credentials only in the environment
# and the dysmsapi plugin preinstalled.

# shellcheck disable=SC2034  # SHIM and UA are used by the .bats files
REPO="$(cd "$BATS_TEST_DIRNAME/../.." && pwd)"
SHIM="$REPO/scripts/send_sms.sh"
FAKE_DIR="$REPO/tests/fake_aliyun"
UA="AlibabaCloud-Agent-Skills/alibabacloud-sms-send-short-message"

common_setup() {
  # Nothing from the host may leak in (credentials, mocks, state folders, colour).
  local name
  for name in $(compgen -e); do
    case "$name" in
      ALIBABA_CLOUD_* | ALIBABACLOUD_* | ALICLOUD_* | SMS_SKILL_* | XDG_* | FAKE_ALIYUN_*)
        unset "$name" ;;
    esac
  done
  unset NO_COLOR ACCESS_KEY_ID REGION PYTHONPATH VIRTUAL_ENV

  export HOME="$BATS_TEST_TMPDIR/home"
  mkdir -p "$HOME"
  FAKE_BIN="$BATS_TEST_TMPDIR/bin"
  mkdir -p "$FAKE_BIN"
  cp "$FAKE_DIR/aliyun" "$FAKE_BIN/aliyun"
  export FAKE_ALIYUN_LOG="$BATS_TEST_TMPDIR/aliyun-calls.jsonl"
  BASE_PATH="$REPO/.venv/bin:/usr/local/bin:/usr/bin:/bin"
  export PATH="$FAKE_BIN:$BASE_PATH"
  export LANG=C.UTF-8
  export ALIBABA_CLOUD_ACCESS_KEY_ID="LTAI5tBatsTestKey"
  export ALIBABA_CLOUD_ACCESS_KEY_SECRET="bats-secret-value"
  export ALIBABA_CLOUD_REGION_ID="cn-hangzhou"
  # The interpreter under test, whatever .runtime or .runtime-python earlier runs left in the
  # repo (tests/run points it at the matrix cell's Python).
  export SMS_SKILL_PYTHON="${SMS_SKILL_TEST_PYTHON:-$REPO/.venv/bin/python}"
  python3 -c 'import sys; sys.path.insert(0, "'"$FAKE_DIR"'"); import scenarios; scenarios.preinstall_plugin(sys.argv[1])' "$HOME"
}

# mock EXPR: answer aliyun calls from the records of a Python expression evaluated with the
# names of tests/fake_aliyun/scenarios.py, e.g. mock '[send_ok()]'.
mock() {
  local path="$BATS_TEST_TMPDIR/mocks.json"
  python3 - "$FAKE_DIR" "$path" "$1" <<'PY'
import sys
sys.path.insert(0, sys.argv[1])
import scenarios
scenarios.write_mocks(sys.argv[2], eval(sys.argv[3], vars(scenarios)))
PY
  export ALIBABA_CLOUD_CLI_MOCK=true
  export ALIBABA_CLOUD_CLI_MOCK_PATH="$path"
}

# logged_calls: one line per aliyun call in the fake's log, its argv joined by spaces.
logged_calls() {
  [ -s "$FAKE_ALIYUN_LOG" ] || return 0
  python3 - "$FAKE_ALIYUN_LOG" <<'PY'
import json, sys
for line in open(sys.argv[1], encoding="utf-8"):
    entry = json.loads(line)
    if "argv" in entry:
        print(" ".join(entry["argv"]))
PY
}

# assert_logged_arg ACTION FLAG: the value after FLAG in the one `aliyun dysmsapi ACTION`
# call equals, byte for byte, the value of the environment variable EXPECTED.
assert_logged_arg() {
  python3 - "$FAKE_ALIYUN_LOG" "$1" "$2" <<'PY'
import json, os, sys
log, action, flag = sys.argv[1:]
with open(log, "rb") as handle:
    entries = [json.loads(line.decode("utf-8", "surrogateescape")) for line in handle]
calls = [e["argv"] for e in entries if e.get("argv", [])[:2] == ["dysmsapi", action]]
if len(calls) != 1:
    sys.exit(f"expected one {action} call, found {len(calls)}: {calls}")
argv = calls[0]
if flag not in argv:
    sys.exit(f"{flag} not in {argv}")
got = argv[argv.index(flag) + 1].encode("utf-8", "surrogateescape")
want = os.environb[b"EXPECTED"]
if got != want:
    sys.exit(f"{flag}: got {got!r}, want {want!r}")
if "--user-agent" not in argv or "--api-version" not in argv or "--read-timeout" not in argv:
    sys.exit(f"not compliant: {argv}")
PY
}

# product_calls ACTION: how many `aliyun dysmsapi ACTION` calls the fake logged.
product_calls() {
  logged_calls | grep -c "^dysmsapi $1 " || true
}
