"""Exactly once: every number gets each message once, across kills, resumes, overlapping
runs, re-runs after a fix and number spellings.

The service is the fake's stand-in (``FAKE_ALIYUN_SERVICE_RECORD``): it records every
request it accepts and answers query-send-details from that record, OutIds included.
Sends are counted per number from that record, never from what the tool says.

The randomized trials print their seed when they fail; ``EXACTLY_ONCE_SEED=N`` replays
one, ``EXACTLY_ONCE_TRIALS=N`` runs more of them.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.e2e.conftest import HANG_TIMEOUT, SHIM, Service, handset, needs_fake_log
from tests.fake_aliyun import scenarios

pytestmark = needs_fake_log

SIGN, TEMPLATE = "AliyunDemo", "SMS_123456"
PARAM = '{"code":"123456"}'
TRIALS = int(os.environ.get("EXACTLY_ONCE_TRIALS") or 3)
FIGURES = Path(os.environ.get("EXACTLY_ONCE_FIGURES") or os.devnull)


def start(world, *args: str, **env: str) -> subprocess.Popen:
    """A run in its own process group, so that kill -9 takes its aliyun calls too."""
    return subprocess.Popen([str(SHIM), *args], env={**world.env, **env},
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def kill_9(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.communicate(timeout=30)


def latest_campaign(world) -> str | None:
    listed = world.run("campaign", "list")
    assert listed.code == 0, listed.stderr
    campaigns = listed.json()
    return campaigns[0]["id"] if campaigns else None


def exactly_once(service: Service, numbers: list[str], context: str) -> dict:
    counts = service.sends_per_number()
    twice = sorted(n for n, c in counts.items() if c > 1)
    lost = sorted(set(map(handset, numbers)) - set(counts))
    extra = sorted(set(counts) - set(map(handset, numbers)))
    assert not twice and not lost and not extra, (
        f"{context}: {len(twice)} number(s) sent twice {twice[:5]}, {len(lost)} lost "
        f"{lost[:5]}, {len(extra)} never asked for {extra[:5]}")
    return {"numbers": len(numbers), "twice": len(twice), "lost": len(lost)}


def record_figures(name: str, **figures: object) -> None:
    with FIGURES.open("a") as out:
        out.write(json.dumps({"trial": name, **figures}) + "\n")


def phone_file(tmp_path: Path, numbers: list[str]) -> Path:
    path = tmp_path / "numbers.txt"
    path.write_text("\n".join(numbers) + "\n")
    return path


def csv_file(tmp_path: Path, numbers: list[str]) -> Path:
    path = tmp_path / "people.csv"
    path.write_text("phone,code\n" + "".join(f"{n},{i % 9000 + 1000}\n"
                                             for i, n in enumerate(numbers)))
    return path


def finish_campaign(world, campaign_id: str, resume: str, rng: random.Random,
                    context: str, kills: int, verdicts: Counter | None = None) -> int:
    """Reconcile and resume (killing some resumes too) until every chunk is sent; returns
    the number of runs it took. ``verdicts`` counts reconcile's findings: "sent" for a
    chunk accepted by the service although its run died before hearing so."""
    runs = 0
    for _ in range(12):
        settled = world.run("campaign", "reconcile", campaign_id, "--min-age", "0")
        assert settled.code == 0, f"{context}: {settled.stderr}"
        if verdicts is not None:
            verdicts.update(s["now"] for s in settled.json()["settled"])
        if settled.json()["chunks"]["sent"] == sum(settled.json()["chunks"].values()):
            return runs
        runs += 1
        if kills and rng.random() < 0.5:
            kills -= 1
            proc = start(world, resume, "--resume", campaign_id, "--parallel", "3")
            time.sleep(rng.uniform(0.2, 1.5))
            kill_9(proc)
            continue
        resumed = world.run(resume, "--resume", campaign_id, "--parallel", "3")
        assert resumed.code in (0, 5), f"{context}: {resumed.stderr}"
    raise AssertionError(f"{context}: campaign {campaign_id} never completed")


def test_randomized_kill_9_and_resume_trials(world, service, tmp_path):
    seed = int(os.environ.get("EXACTLY_ONCE_SEED") or random.SystemRandom().randrange(10**6))
    rng = random.Random(seed)
    total = {"runs": 0, "numbers": 0, "twice": 0, "lost": 0}
    verdicts: Counter = Counter()
    previous = None
    for trial in range(TRIALS):
        context = f"seed {seed}, trial {trial}"
        base = 13000000000 + trial * 100_000
        if trial % 2:
            numbers = [str(base + i) for i in range(3000)]  # 3 SendSms chunks
            resume, command = "send", ["send", "--phone-file", str(phone_file(
                tmp_path, numbers)), "-s", SIGN, "-t", TEMPLATE, "-tp", PARAM]
            chunks = 3
        else:
            numbers = [str(base + i) for i in range(1200)]  # 12 SendBatchSms chunks
            resume, command = "batch-send", ["batch-send", "--csv", str(csv_file(
                tmp_path, numbers)), "-s", SIGN, "-t", TEMPLATE]
            chunks = 12
        delay = rng.choice(["0", "100", "400"])  # accepted, then this long without answer
        before = len(service.requests())
        proc = start(world, *command, "--parallel", "3", FAKE_ALIYUN_SERVICE_DELAY_MS=delay)
        target = before + rng.randrange(chunks)
        while len(service.requests()) < target and proc.poll() is None:
            time.sleep(0.01)
        time.sleep(rng.uniform(0, 0.3))
        kill_9(proc)
        runs = 1
        campaign_id = latest_campaign(world)
        if campaign_id is None or campaign_id == previous:
            done = world.run(*command)  # killed before the campaign was stored
            assert done.code == 0, f"{context}: {done.stderr}"
            runs += 1
            campaign_id = latest_campaign(world)
        runs += finish_campaign(world, campaign_id, resume, rng, context, kills=2,
                                verdicts=verdicts)
        previous = campaign_id
        service_numbers = [n for r in service.requests()[before:] for n in r["phones"]]
        assert set(map(handset, service_numbers)) <= set(map(handset, numbers)), context
        counts = Counter(handset(n) for n in service_numbers)
        twice = sum(1 for c in counts.values() if c > 1)
        lost = len(set(map(handset, numbers)) - set(counts))
        assert (twice, lost) == (0, 0), f"{context}: {twice} sent twice, {lost} lost"
        total = {"runs": total["runs"] + runs, "numbers": total["numbers"] + len(numbers),
                 "twice": total["twice"] + twice, "lost": total["lost"] + lost}
    record_figures("kill -9 and resume", seed=seed, trials=TRIALS, **total,
                   reconciled_as_sent=verdicts["sent"],
                   reconciled_as_never_sent=verdicts["planned"])


def test_a_resume_while_the_first_run_sends_is_refused_and_nothing_is_sent_twice(
        world, service, tmp_path):
    numbers = [str(13100000000 + i) for i in range(2000)]
    command = ["batch-send", "--csv", str(csv_file(tmp_path, numbers)), "-s", SIGN,
               "-t", TEMPLATE, "--parallel", "2"]
    first = start(world, *command, FAKE_ALIYUN_SERVICE_DELAY_MS="500")  # ~5 s of sending
    while not service.requests():
        assert first.poll() is None, first.communicate()
        time.sleep(0.01)
    campaign_id = latest_campaign(world)
    early = world.run("batch-send", "--resume", campaign_id)
    assert world.run("campaign", "show", campaign_id).json()["sending_pid"] == first.pid
    out, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    assert early.code == 6, early.stderr
    assert f"campaign {campaign_id} is being sent by another run" in early.stderr
    assert early.stdout == ""
    assert json.loads(out)["chunks"]["sent"] == 20
    assert world.run("campaign", "show", campaign_id).json()["sending_pid"] is None
    figures = exactly_once(service, numbers, "resume during the first run")
    record_figures("resume while sending", runs=2, **figures)


def test_concurrent_resumes_after_a_kill_send_each_chunk_once(world, service, tmp_path):
    numbers = [str(13200000000 + i) for i in range(2000)]
    command = ["batch-send", "--csv", str(csv_file(tmp_path, numbers)), "-s", SIGN,
               "-t", TEMPLATE, "--parallel", "2"]
    first = start(world, *command, FAKE_ALIYUN_SERVICE_DELAY_MS="200")
    while len(service.requests()) < 3:
        assert first.poll() is None, first.communicate()
        time.sleep(0.01)
    kill_9(first)
    campaign_id = latest_campaign(world)
    # A slow service keeps the first resume busy for seconds: the others start meanwhile.
    resumes = [start(world, "batch-send", "--resume", campaign_id, "--parallel", "2",
                     FAKE_ALIYUN_SERVICE_DELAY_MS="300") for _ in range(3)]
    outcomes = []
    for proc in resumes:
        out, err = proc.communicate(timeout=120)
        outcomes.append((proc.returncode, err))
    codes = sorted(code for code, _ in outcomes)
    assert set(codes) <= {0, 5, 6}, outcomes
    assert codes.count(6) >= 1, outcomes  # at least one found the campaign taken
    for code, err in outcomes:
        if code == 6:
            assert "being sent by another run" in err
    runs = 4 + finish_campaign(world, campaign_id, "batch-send", random.Random(0),
                               "concurrent resumes", kills=0)
    figures = exactly_once(service, numbers, "concurrent resumes")
    record_figures("concurrent resumes", runs=runs, **figures)


def test_a_re_run_after_fixing_the_file_is_refused_then_sends_only_the_rest(
        world, service, tmp_path):
    good = [str(13300000000 + i) for i in range(2000)]
    broken = list(good)
    broken[1500] = "13999999999"  # a number the tool accepts and the service rejects
    path = phone_file(tmp_path, broken)
    first = world.run("send", "--phone-file", str(path), "-s", SIGN, "-t", TEMPLATE,
                      "-tp", PARAM, "--parallel", "1",
                      FAKE_ALIYUN_REFUSED_NUMBERS="13999999999")
    assert first.code == 1, first.stderr
    # The refused chunk was split until the bad number was alone: the other 999 went out.
    assert first.json()["recipients"]["sent"] == 1999
    assert first.json()["recipients"]["failed"] == 1
    path.write_text("\n".join(good) + "\n")  # the user fixes the file
    requests = len(service.requests())

    again = world.run("send", "--phone-file", str(path), "-s", SIGN, "-t", TEMPLATE,
                      "-tp", PARAM)
    assert again.code == 6, again.stderr
    assert again.stdout == ""
    line = again.stderr.splitlines()[-1]
    assert "1999 of 2000 recipient(s): 1999 already got this message" in line
    assert f"campaign {first.json()['campaign']}" in line
    assert "133****0000" in line and "13300000000" not in line  # masked samples
    assert "--skip-sent" in line and "--force" in line
    assert len(service.requests()) == requests

    rest = world.run("send", "--phone-file", str(path), "-s", SIGN, "-t", TEMPLATE,
                     "-tp", PARAM, "--skip-sent")
    assert rest.code == 0, rest.stderr
    assert rest.json()["already_sent"] == 1999 and rest.json()["total_recipients"] == 1
    assert "left out 1999" in rest.stderr
    figures = exactly_once(service, good, "re-run after a fix")
    record_figures("re-run after a fix", runs=3, **figures)


@pytest.mark.parametrize(("first", "others"), [
    ("+8613800138000", ["13800138000", "8613800138000", "008613800138000"]),
    ("13800138000", ["+8613800138000"]),
    ("+85261234567", ["0085261234567", "85261234567"]),
])
def test_other_spellings_of_a_number_are_the_same_recipient(world, service, first, others):
    send = ["send", "-s", SIGN, "-t", TEMPLATE, "-tp", PARAM]
    assert world.run(*send, "-p", first).code == 0
    for spelling in others:
        again = world.run(*send, "-p", spelling)
        assert again.code == 6, (spelling, again.stderr)
        assert "already got this message" in again.stderr
    both = world.run(*send, "-p", f"{first},{others[0]}", "--force")
    assert both.code == 2 and "listed twice" in both.stderr
    assert service.sends_per_number() == Counter({handset(first): 1})


def test_a_campaign_skips_numbers_a_single_send_reached_in_another_spelling(
        world, service, tmp_path):
    send = ["-s", SIGN, "-t", TEMPLATE, "-tp", PARAM]
    assert world.run("send", "-p", "13800138000", *send).code == 0
    path = phone_file(tmp_path, ["008613800138000", "13700137000", "+85261234567"])
    refused = world.run("send", "--phone-file", str(path), *send)
    assert refused.code == 6, refused.stderr
    assert "1 of 3 recipient(s): 1 already got this message (BizId " in refused.stderr
    rest = world.run("send", "--phone-file", str(path), *send, "--skip-sent")
    assert rest.code == 0, rest.stderr
    exactly_once(service, ["13800138000", "13700137000", "85261234567"], "spellings")


def test_reconcile_never_settles_a_chunk_on_another_campaigns_receipts(
        world, service, tmp_path):
    numbers = [str(13400000000 + i) for i in range(300)]
    path = phone_file(tmp_path, numbers)
    promo = ["send", "--phone-file", str(path), "-s", SIGN, "-t", TEMPLATE, "-tp", PARAM,
             "-o", "promo"]
    first = world.run(*promo)
    assert first.code == 0, first.stderr
    world.mock(scenarios.hang())  # the second campaign's call never reaches the service
    second = start(world, *promo, "--force")
    while len([e for e in world.product_calls() if e["argv"][1] == "send-sms"]) < 2:
        assert second.poll() is None, second.communicate()
        time.sleep(0.01)
    kill_9(second)
    del world.env["ALIBABA_CLOUD_CLI_MOCK"]
    second_id = latest_campaign(world)
    assert second_id != first.json()["campaign"]

    settled = world.run("campaign", "reconcile", second_id, "--min-age", "0")
    assert settled.code == 0, settled.stderr  # it settled all it could
    assert settled.json()["settled"] == [{"chunk": 0, "was": "unknown", "now": "planned"}]
    resumed = world.run("send", "--resume", second_id)
    assert resumed.code == 0, resumed.stderr
    assert set(service.sends_per_number().values()) == {2}  # both messages, once each
    assert sorted(r["out_id"] for r in service.requests()) == sorted(
        [f"promo.{first.json()['campaign']}.0", f"promo.{second_id}.0"])


def test_every_single_send_carries_its_own_out_id(world, service):
    send = ["send", "-p", "13800138000", "-s", SIGN, "-t", TEMPLATE, "-tp", PARAM]
    assert world.run(*send).code == 0
    assert world.run(*send, "--force").code == 0
    assert world.run(*send, "--force", "-o", "order-7").code == 0
    out_ids = [r["out_id"] for r in service.requests()]
    assert out_ids[0].startswith("sms-") and out_ids[1].startswith("sms-")
    assert len(set(out_ids)) == 3 and out_ids[2] == "order-7"
    receipts = world.run("query-status", "-p", "13800138000").json()
    assert sorted(r["OutId"] for r in receipts["SmsSendDetailDTOs"]["SmsSendDetailDTO"]) == \
        sorted(out_ids)


SYSTEM_ERROR = scenarios.json_response({"Code": "isp.SYSTEM_ERROR", "Message": "系统错误",
                                        "RequestId": "R"})
HOSTILE = {
    "garbage": {"stdout": "<html>502 Bad Gateway</html>\n"},
    "truncated JSON": {"stdout": '{\n  "BizId": "9006197469364984'},
    "empty output": {"stdout": ""},
    "null": {"stdout": "null\n"},
    "stderr only": {"stderr": "panic: something\n", "exit_code": 2},
    "OK body with exit 1": {"stdout": scenarios.json_response(
        {"Code": "OK", "BizId": "1^0", "Message": "OK", "RequestId": "R"}), "exit_code": 1},
    "empty object": {"stdout": "{}\n"},
    "body without Code": {"stdout": scenarios.json_response({"BizId": "1^0"})},
    "isp.SYSTEM_ERROR": {"stdout": SYSTEM_ERROR},
    "isp.GATEWAY_ERROR": {"stdout": SYSTEM_ERROR.replace("isp.SYSTEM_ERROR",
                                                         "isp.GATEWAY_ERROR")},
    "deeply nested JSON": {"stdout": "[" * 200_000 + "]" * 200_000 + "\n"},
    "a code the tool does not know": {"stdout": SYSTEM_ERROR.replace(
        "isp.SYSTEM_ERROR", "isv.SOMETHING_NEW_2027")},
    "OK in lower case": {"stdout": scenarios.json_response(
        {"Code": "ok", "BizId": "1^0", "Message": "OK", "RequestId": "R"})},
    "OK body, an error on stderr, exit 1": {
        "stdout": scenarios.json_response({"Code": "OK", "BizId": "1^0", "Message": "OK",
                                           "RequestId": "R"}),
        "stderr": scenarios.error_text("dial tcp: lookup dysmsapi.aliyuncs.com: no such host"),
        "exit_code": 1},
    "two JSON documents": {"stdout": SYSTEM_ERROR.replace(
        "isp.SYSTEM_ERROR", "isv.BUSINESS_LIMIT_CONTROL") + scenarios.json_response(
        {"Code": "OK", "BizId": "1^0", "Message": "OK", "RequestId": "R"})},
    "Code given twice": {
        "stdout": '{"Code": "isv.BUSINESS_LIMIT_CONTROL", "BizId": "1^0", "Code": "OK"}\n'},
}


@pytest.mark.parametrize("answer", HOSTILE.values(), ids=HOSTILE.keys())
def test_a_hostile_answer_is_unknown_and_the_resend_never_reaches_aliyun(world, answer):
    world.mock(scenarios.mock_record("dysmsapi send-sms *", times=0, **answer))
    send = ["send", "-p", "13800138000", "-s", SIGN, "-t", TEMPLATE, "-tp", PARAM]
    first = world.run(*send)
    assert first.code == 5, first.stderr
    assert "internal error" not in first.stderr
    assert world.run("history").json()[0]["Outcome"] == "unknown"
    again = world.run(*send)
    assert again.code == 6, again.stderr
    sends = [e for e in world.product_calls() if e["argv"][1] == "send-sms"]
    assert len(sends) == 1


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130),
                                              (signal.SIGHUP, 129)])
def test_a_signal_stops_a_campaign_at_once_with_its_summary_and_next_step(
        world, tmp_path, signum, code):
    path = phone_file(tmp_path, [str(13500000000 + i) for i in range(2500)])
    world.mock(scenarios.hang(times=0))
    # Waiting for the hung calls to time out would take minutes: the run must not wait.
    proc = world.start("send", "--phone-file", str(path), "-s", SIGN, "-t", TEMPLATE,
                       "-tp", PARAM, "--parallel", "2", SMS_SKILL_CALL_TIMEOUT="600")
    world.wait_for_call("send-sms")
    result = world.interrupt(proc, signum, timeout=60)
    assert result.code == code, result.stderr
    summary = result.json()
    assert summary["interrupted"] == signal.Signals(signum).name
    assert summary["chunks"]["unknown"] >= 1 and summary["chunks"]["in_flight"] == 0
    assert summary["chunks"]["sent"] == 0
    unknown = [e for e in summary["errors"] if e["state"] == "unknown"]
    assert unknown and all("interrupted by signal" in e["message"] for e in unknown)
    last = result.stderr.strip().splitlines()[-1]
    campaign_id = summary["campaign"]
    assert f"campaign reconcile {campaign_id}" in last and f"send --resume {campaign_id}" in last
    assert world.ai_mode()["enabled"] is False


def test_reconcile_settles_unknown_single_sends_from_their_receipts(world, service):
    send = ["send", "-s", SIGN, "-t", TEMPLATE, "-tp", PARAM]
    # accepted by the service, but its answer came too late: the call was stopped
    slow = world.run(*send, "-p", "13800138000", FAKE_ALIYUN_SERVICE_DELAY_MS="30000",
                     SMS_SKILL_CALL_TIMEOUT=HANG_TIMEOUT)
    assert slow.code == 5, slow.stderr
    world.mock(scenarios.read_timeout())  # this one never reached the service
    lost = world.run(*send, "-p", "13900139000")
    assert lost.code == 5, lost.stderr
    del world.env["ALIBABA_CLOUD_CLI_MOCK"]
    assert world.run(*send, "-p", "13900139000").code == 6  # unknown: refused

    young = world.run("reconcile")
    assert young.code == 5, young.stderr
    verdicts = [(s["now"], s.get("note", "")) for s in young.json()["settled"]]
    assert verdicts[0] == ("ok", "") and verdicts[1][0] == "unknown"
    assert "no receipt yet" in verdicts[1][1]

    settled = world.run("reconcile", "--min-age", "0")
    assert settled.code == 0, settled.stderr
    assert [s["now"] for s in settled.json()["settled"]] == ["failed"]
    assert [e["Outcome"] for e in world.run("history").json()] == ["failed", "ok"]
    assert world.run(*send, "-p", "13900139000").code == 0  # never arrived: may be sent
    assert world.run(*send, "-p", "13800138000").code == 6  # it did arrive
    exactly_once(service, ["13800138000", "13900139000"], "reconciled single sends")


def test_a_dry_run_of_a_campaign_sees_what_was_already_sent(world, service, tmp_path):
    send = ["-s", SIGN, "-t", TEMPLATE, "-tp", PARAM]
    assert world.run("send", "-p", "13800138000", *send).code == 0
    path = phone_file(tmp_path, ["+8613800138000", "13700137000"])
    refused = world.run("--dry-run", "send", "--phone-file", str(path), *send)
    assert refused.code == 6 and "1 of 2 recipient(s)" in refused.stderr
    plan = world.run("--dry-run", "send", "--phone-file", str(path), *send, "--skip-sent")
    assert plan.code == 0, plan.stderr
    assert (plan.json()["recipients"], plan.json()["already_sent"]) == (1, 1)
    assert len(service.requests()) == 1  # the dry runs sent nothing


def test_a_chunk_answered_with_an_unknown_code_is_unknown_and_never_sent_again(
        world, service, tmp_path):
    numbers = [str(13600000000 + i) for i in range(2000)]
    path = phone_file(tmp_path, numbers)
    send = ["send", "--phone-file", str(path), "-s", SIGN, "-t", TEMPLATE, "-tp", PARAM,
            "--parallel", "1"]
    # the first chunk is answered with a code no table knows (a mocked answer: the
    # stand-in does not record it, so none of its numbers may reach the service later)
    world.mock(scenarios.mock_record("dysmsapi send-sms *", stdout=SYSTEM_ERROR.replace(
        "isp.SYSTEM_ERROR", "isv.SOMETHING_NEW_2027")))
    first = world.run(*send)
    assert first.code == 5, first.stderr
    assert first.json()["chunks"] == {**first.json()["chunks"], "unknown": 1, "sent": 1,
                                      "failed": 0}
    del world.env["ALIBABA_CLOUD_CLI_MOCK"]
    path.write_text("\n".join([*numbers, "13700000001"]) + "\n")
    rest = world.run(*send, "--skip-sent")
    assert rest.code == 0, rest.stderr
    assert rest.json()["already_sent"] == 2000 and rest.json()["total_recipients"] == 1
    assert service.sends_per_number()[handset(numbers[0])] == 0  # the mocked chunk
    assert max(service.sends_per_number().values()) == 1


PROVES_NOTHING = {
    "empty object": "{}\n",
    "OK without SmsSendDetailDTOs": scenarios.json_response(
        {"Code": "OK", "Message": "OK", "RequestId": "R"}),
    "TotalCount 5, SmsSendDetailDTOs null": scenarios.json_response(
        {"Code": "OK", "Message": "OK", "RequestId": "R", "TotalCount": "5",
         "SmsSendDetailDTOs": None}),
}


@pytest.mark.parametrize("body", PROVES_NOTHING.values(), ids=PROVES_NOTHING.keys())
def test_receipts_that_prove_nothing_settle_nothing_and_nothing_goes_out_twice(
        world, service, tmp_path, body):
    late = {"FAKE_ALIYUN_SERVICE_DELAY_MS": "30000", "SMS_SKILL_CALL_TIMEOUT": "1"}
    send = ["send", "-s", SIGN, "-t", TEMPLATE, "-tp", PARAM]
    # both reach the service, but their answers come too late: in doubt
    assert world.run(*send, "-p", "13800138000", **late).code == 5
    numbers = [str(13700000000 + i) for i in range(300)]
    campaign = world.run(*send, "--phone-file", str(phone_file(tmp_path, numbers)), **late)
    assert campaign.code == 5, campaign.stderr
    campaign_id = campaign.json()["campaign"]

    world.mock(scenarios.mock_record("dysmsapi query-send-details *", stdout=body, times=0))
    single = world.run("reconcile", "--min-age", "0")
    assert single.code == 5, single.stderr
    [item] = single.json()["settled"]
    assert item["now"] == "unknown" and "could not tell" in item["note"]
    chunks = world.run("campaign", "reconcile", campaign_id, "--min-age", "0")
    assert chunks.code == 5, chunks.stderr
    assert chunks.json()["settled"][0]["now"] == "unknown"
    assert "could not tell" in chunks.json()["settled"][0]["note"]
    assert world.run(*send, "-p", "13800138000").code == 6
    assert world.run("send", "--resume", campaign_id).code in (0, 5)
    exactly_once(service, ["13800138000", *numbers], "receipts that prove nothing")

    del world.env["ALIBABA_CLOUD_CLI_MOCK"]  # the real receipts settle both
    assert world.run("reconcile", "--min-age", "0").json()["settled"][0]["now"] == "ok"
    settled = world.run("campaign", "reconcile", campaign_id, "--min-age", "0")
    assert settled.json()["settled"][0]["now"] == "sent"
    exactly_once(service, ["13800138000", *numbers], "after the real receipts")


def test_reconcile_never_settles_a_send_on_the_receipt_of_another_with_the_same_out_id(
        world, service):
    send = ["send", "-p", "13800138000", "-s", SIGN, "-t", TEMPLATE, "-tp", PARAM,
            "-o", "order-7"]
    assert world.run(*send).code == 0
    world.mock(scenarios.read_timeout())  # the second one never reaches the service
    lost = world.run(*send, "--force")
    assert lost.code == 5, lost.stderr
    del world.env["ALIBABA_CLOUD_CLI_MOCK"]

    result = world.run("reconcile", "--min-age", "0")
    assert result.code == 5, result.stderr
    [item] = result.json()["settled"]
    assert item["now"] == "unknown"
    assert "shared by 2 sends" in item["note"] and "query-status -p 13800138000" in \
        item["note"] and "--force" in item["note"]
    assert [e["Outcome"] for e in world.run("history").json()] == ["unknown", "ok"]
    assert len(service.requests()) == 1
