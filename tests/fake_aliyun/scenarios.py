"""Mock records for common aliyun CLI scenarios, and helpers to run the fake CLI.

The records use the real CLI's mock format (``ALIBABA_CLOUD_CLI_MOCK=true``, a JSON array in
``$ALIBABA_CLOUD_CLI_MOCK_PATH`` or ``$HOME/.aliyun/mocks.json``), so the same scenario runs
against the fake in ``tests/fake_aliyun/aliyun`` or against a real aliyun CLI >= 3.4.7.

Import it from any test with::

    sys.path.insert(0, str(REPO / "tests" / "fake_aliyun"))
    import scenarios
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import json
import os
import subprocess
from pathlib import Path
from typing import Any

FAKE_DIR = Path(__file__).resolve().parent
FAKE_ALIYUN = FAKE_DIR / "aliyun"

RED = "\x1b[1;31m"
YELLOW = "\x1b[1;33m"
RESET = "\x1b[0m"

SEND_SMS = "dysmsapi send-sms *"
ANY_DYSMSAPI = "dysmsapi *"
USER_AGENT = "AlibabaCloud-Agent-Skills/alibabacloud-sms-send-short-message"
#: A compliant send of one verification code to the fake service's approved names.
SEND_ARGV = [
    "dysmsapi", "send-sms", "--api-version", "2017-05-25", "--phone-numbers", "13800138000",
    "--sign-name", "AliyunDemo", "--template-code", "SMS_123456",
    "--template-param", '{"code":"123456"}', "--user-agent", USER_AGENT, "--read-timeout", "3",
]  # fmt: skip
DEFAULT_REQUEST_ID = "7A1F3C2B-9D4E-5F60-8A7B-1C2D3E4F5A6B"


# ---- building records -------------------------------------------------------------------------


def mock_record(
    cmd: str,
    *,
    name: str | None = None,
    stdout: str = "",
    stderr: str = "",
    exit_code: int = 0,
    times: int = 1,
    delay_ms: int | None = None,
    response_body_size: int | None = None,
) -> dict[str, Any]:
    """One mock record. ``times=0`` means unlimited; ``cmd`` is the match rule (no 'aliyun')."""
    rec: dict[str, Any] = {
        "name": name or cmd,
        "cmd": cmd,
        "exit_code": exit_code,
        "stdout": stdout,
        "stderr": stderr,
        "times": times,
    }
    if delay_ms:
        rec["delay_ms"] = delay_ms
    if response_body_size:
        rec["response_body_size"] = response_body_size
    return rec


def json_response(body: dict[str, Any]) -> str:
    """A plugin response as the dysmsapi plugin prints it: 2-space JSON + newline."""
    return json.dumps(body, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def error_text(message: str, *, color: bool = True) -> str:
    """stderr of a top-level CLI error: ``ERROR: <message>\\n`` in bold red (unless NO_COLOR)."""
    text = f"ERROR: {message}\n"
    return RED + text + RESET if color else text


def api_url(action: str = "SendSms", *, region: str = "cn-hangzhou") -> str:
    """A plausible signed RPC URL as it appears in Go's network errors."""
    return (
        f"https://dysmsapi.aliyuncs.com/?AccessKeyId=LTAI5tFakeKey123&Action={action}&Format=JSON"
        f"&RegionId={region}&Signature=Zm9vYmFyYmF6&SignatureMethod=HMAC-SHA1"
        "&SignatureNonce=4f5d8a1c2b3e4f60&SignatureType=&SignatureVersion=1.0"
        "&Timestamp=2026-03-26T02%3A15%3A31Z&Version=2017-05-25"
    )


def send_ok(
    cmd: str = SEND_SMS, *, biz_id: str = "900619746936498440^0", times: int = 1, **kw: Any
) -> dict[str, Any]:
    """SendSms accepted by the gateway (Code OK, a BizId)."""
    body = {"BizId": biz_id, "Code": "OK", "Message": "OK", "RequestId": DEFAULT_REQUEST_ID}
    return mock_record(cmd, name="send-ok", stdout=json_response(body), times=times, **kw)


def business_error(
    code: str = "isv.BUSINESS_LIMIT_CONTROL",
    message: str = "触发分钟级流控Permits:1",
    *,
    cmd: str = SEND_SMS,
    times: int = 1,
    request_id: str = DEFAULT_REQUEST_ID,
    **kw: Any,
) -> dict[str, Any]:
    """A business error (HTTP 200): JSON body on stdout, exit 0; only ``Code`` tells."""
    body = {"Code": code, "Message": message, "RequestId": request_id}
    return mock_record(cmd, name=code, stdout=json_response(body), times=times, **kw)


def read_timeout(
    cmd: str = SEND_SMS,
    *,
    action: str = "SendSms",
    method: str = "Post",
    times: int = 1,
    color: bool = True,
    delay_ms: int | None = None,
) -> dict[str, Any]:
    """The request may have reached the service: the outcome of a send is unknown (exit 1)."""
    msg = (
        f'{method} "{api_url(action)}": context deadline exceeded '
        "(Client.Timeout exceeded while awaiting headers)"
    )
    return mock_record(
        cmd, name="read-timeout", stderr=error_text(msg, color=color), exit_code=1, times=times,
        delay_ms=delay_ms,
    )  # fmt: skip


def connect_timeout(
    cmd: str = SEND_SMS,
    *,
    action: str = "SendSms",
    method: str = "Post",
    ip: str = "106.11.43.118",
    times: int = 1,
    color: bool = True,
) -> dict[str, Any]:
    """Nothing reached the service (exit 1)."""
    msg = f'{method} "{api_url(action)}": dial tcp {ip}:443: i/o timeout'
    return mock_record(
        cmd, name="connect-timeout", stderr=error_text(msg, color=color), exit_code=1, times=times
    )


def dns_failure(
    cmd: str = SEND_SMS,
    *,
    action: str = "SendSms",
    method: str = "Post",
    times: int = 1,
    color: bool = True,
) -> dict[str, Any]:
    """The endpoint name did not resolve: nothing reached the service (exit 1)."""
    msg = (
        f'{method} "{api_url(action)}": '
        "dial tcp: lookup dysmsapi.aliyuncs.com on 127.0.0.53:53: no such host"
    )
    return mock_record(
        cmd, name="dns-failure", stderr=error_text(msg, color=color), exit_code=1, times=times
    )


def server_error(
    error_code: str,
    message: str,
    *,
    cmd: str = ANY_DYSMSAPI,
    http_status: int = 400,
    request_id: str = DEFAULT_REQUEST_ID,
    recommend: str | None = None,
    access_denied_detail: dict[str, str] | None = None,
    times: int = 1,
    color: bool = True,
) -> dict[str, Any]:
    """An HTTP error answer: ``ERROR: SDK.ServerError`` with its multi-line details (exit 1)."""
    if recommend is None:
        recommend = f"https://api.aliyun.com/troubleshoot?q={error_code}&product=Dysmsapi&requestId={request_id}"
    body = {"RequestId": request_id, "Message": message, "Recommend": recommend,
            "HostId": "dysmsapi.aliyuncs.com", "Code": error_code}  # fmt: skip
    headers = {
        "Access-Control-Allow-Origin": "*",
        "Access-Control-Expose-Headers": "*",
        "Connection": "keep-alive",
        "Content-Length": str(len(json.dumps(body, ensure_ascii=False).encode())),
        "Content-Type": "application/json;charset=utf-8",
        "Date": "Thu, 26 Mar 2026 02:15:31 GMT",
        "Keep-Alive": "timeout=25",
        "X-Acs-Request-Id": request_id,
        "X-Acs-Trace-Id": "3f9c0a7d1b2e4c5d6e7f8a9b0c1d2e3f",
    }
    resp_headers = "map[{}]".format(" ".join(f"{k}:[{headers[k]}]" for k in sorted(headers)))
    text = (
        f"SDK.ServerError\nErrorCode: {error_code}\nRecommend: {recommend}\n"
        f"RequestId: {request_id}\nMessage: {message}\nRespHeaders: {resp_headers}"
    )
    if access_denied_detail:
        text += "\nAccessDeniedDetail: map[{}]".format(
            " ".join(f"{k}:{access_denied_detail[k]}" for k in sorted(access_denied_detail))
        )
    rec = mock_record(
        cmd, name=error_code, stderr=error_text(text, color=color), exit_code=1, times=times
    )
    return rec


def invalid_access_key(cmd: str = ANY_DYSMSAPI, **kw: Any) -> dict[str, Any]:
    """HTTP 404 InvalidAccessKeyId.NotFound."""
    return server_error(
        "InvalidAccessKeyId.NotFound", "Specified access key is not found.", cmd=cmd,
        http_status=404, **kw,
    )  # fmt: skip


def signature_mismatch(cmd: str = ANY_DYSMSAPI, **kw: Any) -> dict[str, Any]:
    """HTTP 400 SignatureDoesNotMatch (wrong AccessKey secret)."""
    message = (
        "Specified signature is not matched with our calculation. server string to sign is:"
        "POST&%2F&AccessKeyId%3DLTAI5tFakeKey123%26Action%3DSendSms%26Format%3DJSON"
    )
    return server_error(
        "SignatureDoesNotMatch", message, cmd=cmd, http_status=400,
        recommend="InvalidAccessKeySecret: Please check you AccessKeySecret", **kw,
    )  # fmt: skip


def forbidden_ram(cmd: str = ANY_DYSMSAPI, *, action: str = "SendSms", **kw: Any) -> dict[str, Any]:
    """HTTP 403 Forbidden.RAM (the RAM user lacks the dysms permission)."""
    detail = {
        "AuthAction": f"dysms:{action}",
        "AuthPrincipalDisplayName": "sms-bot",
        "AuthPrincipalOwnerId": "1234567890123456",
        "AuthPrincipalType": "SubUser",
        "NoPermissionType": "ImplicitDeny",
        "PolicyType": "AccountLevelIdentityBasedPolicy",
    }
    kw.setdefault("access_denied_detail", detail)
    return server_error(
        "Forbidden.RAM",
        "User not authorized to operate on the specified resource, "
        "or this API doesn't support RAM.",
        cmd=cmd, http_status=403, **kw,
    )  # fmt: skip


def hang(
    cmd: str = SEND_SMS, *, delay_ms: int = 3_600_000, stdout: str | None = None, times: int = 1
) -> dict[str, Any]:
    """A call that does not come back (until killed). Max delay the CLI accepts: 1 hour."""
    if stdout is None:
        stdout = send_ok(cmd)["stdout"]
    return mock_record(cmd, name="hang", stdout=stdout, delay_ms=delay_ms, times=times)


def write_mocks(path: str | os.PathLike[str], records: list[dict[str, Any]]) -> Path:
    """Writes records like the CLI does (2-space JSON + newline, mode 0600)."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(json.dumps(records, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    p.chmod(0o600)
    return p


def read_mocks(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    return json.loads(Path(path).read_text(encoding="utf-8"))


# ---- state on disk ----------------------------------------------------------------------------


def _fake_module():
    loader = importlib.machinery.SourceFileLoader("fake_aliyun_cli", str(FAKE_ALIYUN))
    spec = importlib.util.spec_from_loader("fake_aliyun_cli", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def preinstall_plugin(
    home: str | os.PathLike[str], *, plugins_dir: str | None = None, version: str = "0.1.0"
) -> Path:
    """Leaves on disk what ``aliyun plugin install --names dysmsapi`` leaves (no subprocess)."""
    root = Path(plugins_dir) if plugins_dir else Path(home) / ".aliyun" / "plugins"
    _fake_module().install_plugin_files(str(root), version)
    return root


def write_config(
    home: str | os.PathLike[str],
    *,
    profile: str = "default",
    region: str = "cn-hangzhou",
    access_key_id: str = "LTAI5tFakeKey123",
    access_key_secret: str = "FakeSecret0123456789",
    auto_plugin_install: bool = False,
    **extra: Any,
) -> Path:
    """A config.json with one AK profile (current), as ``aliyun configure set`` writes it."""
    prof: dict[str, Any] = {"name": profile, "mode": "AK"}
    if access_key_id:
        prof["access_key_id"] = access_key_id
    if access_key_secret:
        prof["access_key_secret"] = access_key_secret
    if region:
        prof["region_id"] = region
    prof.update({"output_format": "json", "language": "en", "site": "china"})
    if auto_plugin_install:
        prof["auto_plugin_install"] = True
    prof.update(extra)
    path = Path(home) / ".aliyun" / "config.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    conf = {"current": profile, "profiles": [prof], "meta_path": ""}
    path.write_text(json.dumps(conf, indent="\t", ensure_ascii=False), encoding="utf-8")
    path.chmod(0o600)
    return path


def read_ai_mode(home: str | os.PathLike[str]) -> dict[str, Any]:
    """ai-mode.json as a dict ({} when absent)."""
    path = Path(home) / ".aliyun" / "ai-mode.json"
    if not path.exists():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))


# ---- running the fake -------------------------------------------------------------------------


def fake_env(
    home: str | os.PathLike[str], *, log: bool = True, cli_dir: str | None = None, **extra: str
) -> dict[str, str]:
    """A clean environment: the CLI first on PATH, HOME, a call log; nothing from the host.

    The CLI is this fake unless ``cli_dir`` (or the folder of ``$E2E_ALIYUN``) names the directory
    of a real aliyun binary.
    """
    real = os.environ.get("E2E_ALIYUN")
    cli_dir = cli_dir or (os.path.dirname(os.path.abspath(real)) if real else str(FAKE_DIR))
    env = {
        "PATH": f"{cli_dir}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(home),
        "LANG": "C.UTF-8",
    }
    if log:
        env["FAKE_ALIYUN_LOG"] = str(Path(home) / "aliyun-calls.jsonl")
    env.update(extra)
    return env


def run_fake(
    *args: str,
    env: dict[str, str],
    stdin: Any = None,
    timeout: float = 30,
    executable: str = "aliyun",
) -> tuple[int, str, str]:
    """Runs ``aliyun <args>`` (resolved on env PATH) as a real subprocess.

    ``stdin``: None -> /dev/null (a character device, like a cron job); a str -> piped input;
    anything else (fd, file) is passed to subprocess as is.
    """
    kwargs: dict[str, Any] = {}
    if stdin is None:
        kwargs["stdin"] = subprocess.DEVNULL
    elif isinstance(stdin, str):
        kwargs["input"] = stdin.encode()
    else:
        kwargs["stdin"] = stdin
    exe = executable
    if os.sep not in exe:
        for d in env.get("PATH", "").split(os.pathsep):
            cand = os.path.join(d, exe)
            if os.access(cand, os.X_OK):
                exe = cand
                break
    proc = subprocess.run(
        [exe, *args], env=env, capture_output=True, timeout=timeout, check=False, **kwargs
    )
    return proc.returncode, proc.stdout.decode(), proc.stderr.decode()


def read_log(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """All whole lines of the call log ($FAKE_ALIYUN_LOG): the last one may be in the middle
    of being written by a call still running."""
    p = Path(path)
    if not p.exists():
        return []
    whole = p.read_text(encoding="utf-8").split("\n")[:-1]
    return [json.loads(line) for line in whole if line]


def log_calls(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Only the start lines (one per invocation), each with ``argv``."""
    return [e for e in entries if "argv" in e]
