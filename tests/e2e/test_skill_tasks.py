"""SKILL.md's task paths stay true: each task's documented command sequence is kept here and
run, in order, against the fake aliyun, and what the document tells the agent to read from
the output is checked.

A change to a task's commands in SKILL.md fails ``test_task_sequence_is_as_kept`` until the
sequence here is updated too, deliberately, so that the command counts stay known.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.e2e.conftest import USING_FAKE, scenarios

SKILL_MD = ROOT / "SKILL.md"
SCRIPT = "scripts/send_sms.sh"

#: Each task's documented path: the command and option names of each line, in order.
TASKS = {
    "T1": ["list-signs --approved", "list-templates --approved",
           "send -p -s -t -tp --dry-run", "send -p -s -t -tp --verify"],
    "T2": ["list-templates --all --query"],
    "T3": [],
    "T4": ["query-status -p --biz-id --wait --timeout"],
    "T5": ["batch-send --csv -s -t --skip-invalid --dry-run",
           "batch-send --csv -s -t --skip-invalid --verify --confirm"],
    "T6": ["reconcile", "campaign reconcile", "batch-send --resume"],
    "T7": ["list-qualifications --all", "query-qualification --qualification-group-id",
           "query-sign -s"],
    "T8": ["precheck"],
}

pytestmark = pytest.mark.skipif(not USING_FAKE, reason="runs against the fake's catalogue")


def task_lines() -> dict[str, list[str]]:
    """``### Tn.`` section -> its fenced ``scripts/send_sms.sh`` lines."""
    text = SKILL_MD.read_text(encoding="utf-8")
    found: dict[str, list[str]] = {}
    for match in re.finditer(r"^### (T\d)\.(.*?)(?=^#{2,3} )", text, re.M | re.S):
        blocks = re.findall(r"^```bash\n(.*?)^```", match.group(2), re.M | re.S)
        found[match.group(1)] = [line.strip() for block in blocks
                                 for line in block.splitlines()
                                 if line.strip().startswith(SCRIPT + " ")]
    return found


def shape(line: str) -> str:
    """The command words and option names of a documented line, without values."""
    words = shlex.split(line)[1:]
    kept = [w for i, w in enumerate(words)
            if w.startswith("-") or (i < 2 and not any(x.startswith("-") for x in words[:i]))
            and re.fullmatch(r"[a-z-]+", w)]
    return " ".join(kept)


def test_every_task_is_documented():
    assert sorted(task_lines()) == sorted(TASKS)


@pytest.mark.parametrize("task", sorted(TASKS))
def test_task_sequence_is_as_kept(task):
    assert [shape(line) for line in task_lines()[task]] == TASKS[task]


class Agent:
    """Runs a task's lines with the placeholders replaced by the fake account's values."""

    def __init__(self, world, tmp_path: Path) -> None:
        self.world = world
        self.values = {"YourSign": "AliyunDemo"}
        self.csv = tmp_path / "recipients.csv"
        self.csv.write_text("phone,code\n13800138000,111111\nnot-a-phone,222222\n"
                            "13900139000,333333\n")

    def run(self, line: str, **env: str):
        args = shlex.split(line)[1:]
        args = [self.values.get(arg, arg) for arg in args]
        args = [str(self.csv) if arg == "recipients.csv" else arg for arg in args]
        return self.world.run(*args, **env)

    def steps(self, task: str, *codes: int, **env: str) -> list:
        lines = task_lines()[task]
        assert len(lines) == len(codes)
        results = []
        for line, code in zip(lines, codes):
            result = self.run(line, **env)
            assert result.code == code, f"{line}: exit {result.code}\n{result.stderr}"
            results.append(result)
        return results


@pytest.fixture
def agent(world, tmp_path):
    return Agent(world, tmp_path)


def test_t1_send_a_code_when_nothing_is_named(agent):
    signs, templates, plan, sent = agent.steps("T1", 0, 0, 0, 0)
    sign = {s["SignName"]: s for s in signs.json()["SmsSignList"]}["AliyunDemo"]
    assert sign["Scene"] and sign["CarrierRegistration"]
    template = {t["TemplateCode"]: t for t in templates.json()["SmsTemplateList"]}["SMS_123456"]
    assert template["Variables"] == ["code"]  # no query-template needed
    assert [argv[2] for argv in plan.json()["argv"]] == ["send-sms"]
    assert sent.json()["BizId"]


def test_t2_a_template_under_review_is_found_and_explained(agent):
    (listed,) = agent.steps("T2", 0)
    waiting = {t["TemplateCode"]: t for t in listed.json()}
    assert waiting["SMS_345678"]["AuditStatus"] == "AUDIT_STATE_INIT"
    assert "Variables" in waiting["SMS_345678"]
    assert "SMS_123456" not in waiting
    assert "AUDIT_STATE_INIT" in "".join(task_lines_text("T2"))


def test_t3_business_limit_control_needs_no_further_command(agent):
    assert task_lines()["T3"] == []
    agent.world.mock(scenarios.business_error())
    send = task_lines()["T1"][-1]
    result = agent.run(send + " --format json")
    assert result.code == 1 and result.stdout == "", result.stderr
    error = json.loads(result.stderr.splitlines()[-1])["error"]
    assert error["exit_code"] == 1 and error["api_code"] == "isv.BUSINESS_LIMIT_CONTROL"
    assert error["next"]


def test_t4_did_it_arrive(agent):
    sent = agent.run(task_lines()["T1"][-1])
    agent.values["'900619746936498440^0'"] = sent.json()["BizId"]
    agent.values["900619746936498440^0"] = sent.json()["BizId"]
    (status,) = agent.steps("T4", 0)
    (record,) = status.json()["SmsSendDetailDTOs"]["SmsSendDetailDTO"]
    assert record["SendStatus"] == 3 and record["PhoneNum"] == "138****8000"


def test_t5_campaign_from_a_csv_with_bad_rows_then_t6(agent):
    dry, send = task_lines()["T5"]
    plan = agent.run(dry)
    assert plan.code == 0, plan.stderr
    assert plan.json()["dry_run"] is True and "not-a-phone" in plan.stdout + plan.stderr
    assert plan.json()["recipients"] == 2
    agent.values["PLAN_ID"] = plan.json()["plan_id"]
    summary = agent.run(send)
    assert summary.code == 0, summary.stderr
    campaign = re.search(r"campaign (\S+):", summary.stderr).group(1)
    agent.values["CAMPAIGN_ID"] = campaign
    reconciled_sends, reconciled, resumed = agent.steps("T6", 0, 0, 0)
    assert reconciled_sends.json() == {"settled": []}
    assert resumed.code == 0


def test_t7_qualifications_and_a_new_signature(agent):
    listed, detail, sign = agent.steps("T7", 0, 0, 0)
    records = listed.json()["Data"]["List"]
    assert [r["Index"] for r in records] == list(range(1, len(records) + 1)) and records
    assert "http" not in detail.stdout  # image URLs withheld
    assert sign.json()["SignStatus"] == 0  # NewBrand: under review


def test_t8_aliyun_missing_or_too_old(agent, world):
    path_without_aliyun = world.env["PATH"].replace(str(world.bin) + ":", "")
    (missing,) = agent.steps("T8", 3, PATH=path_without_aliyun)
    assert missing.json()["failed_step"] == "aliyun"
    (old,) = agent.steps("T8", 3, FAKE_ALIYUN_VERSION="3.3.0")
    assert old.json()["failed_step"] == "version"
    assert "3.3.3" in old.stderr


def task_lines_text(task: str) -> str:
    text = SKILL_MD.read_text(encoding="utf-8")
    return re.search(rf"^### {task}\.(.*?)(?=^#{{2,3}} )", text, re.M | re.S).group(1)
