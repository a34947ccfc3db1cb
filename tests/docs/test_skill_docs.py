"""SKILL.md and the other documents are tested like code.

An agent copies the command lines it reads, so every `scripts/send_sms.sh ...` line in
SKILL.md, README.md and references/*.md (fenced code blocks and inline code spans) must run.
Rule for running an extracted line in-process through ``sms_skill.cli.run``:

* a line that already asks for help (``-h``/``--help``) runs as written and must exit 0;
* ``explain`` is local (no aliyun call) and refuses ``--dry-run``: it runs as written;
* ``precheck``, ``history`` and ``campaign ...`` call no SMS API (or refuse ``--dry-run``), and a
  ``--resume ID`` needs a campaign journal that a test cannot have: these are parse-only
  checks, run with ``--help`` appended. ``--help`` is eager, so the command and every option
  name must still exist (an unknown one exits 2), but values are not checked;
* every other line runs with ``--dry-run`` appended (unless present) and must exit 0. Unless it
  is ``explain``, it must show at least one ``aliyun dysmsapi`` command
  (an output line, or a string in the JSON plan that a file-based send prints instead), and
  each such command must carry the three compliance flags.

Files the documents name as placeholders (``phones.txt``, ``recipients.csv``) are created in
the temporary working directory of the test.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import click
import pytest

from sms_skill import builder
from sms_skill import cli as cli_module
from sms_skill.references import parse_error_codes
from tests.conftest import every_command

ROOT = Path(__file__).resolve().parents[2]
SKILL_MD = ROOT / "SKILL.md"
README_MD = ROOT / "README.md"
REFERENCES = ROOT / "references"
SKILL_NAME = "alibabacloud-sms-send-short-message"
USER_AGENT = f"AlibabaCloud-Agent-Skills/{SKILL_NAME}"
COMPLIANCE_FLAGS = ("--api-version 2017-05-25", f"--user-agent {USER_AGENT}", "--read-timeout 3")
SCRIPT = "scripts/send_sms.sh"
ALLOWED_KEYS = {"name", "description", "license", "compatibility", "metadata", "allowed-tools"}
#: The contract's codes, plus 7 (safety policy confirm) and 8 (per-number limit) of issue 14.
CONTRACT_EXIT_CODES = (0, 1, 2, 3, 4, 5, 6, 7, 8, 130, 143, 129, 141)

#: Common options that take a value (they may stand before the command).
VALUE_OPTIONS = {"-r", "--region", "--profile", "--format", "--query"}
#: Commands that call no SMS API or refuse --dry-run: parse-only (see the module docstring).
PARSE_ONLY_COMMANDS = {"precheck", "history", "campaign", "reconcile", "suppression"}
#: Options whose value is local state a test cannot have: parse-only as well.
PARSE_ONLY_OPTIONS = {"--resume", "--confirm"}
#: Placeholder files that the documents name, created for the dry runs.
PLACEHOLDER_FILES = {
    "phones.txt": "13800138000\n13900139000\n",
    "recipients.csv": "phone,name\n13800138000,Alice\n13900139000,Bob\n",
}


# --- reading the documents -------------------------------------------------------------------

def split_frontmatter(text: str) -> tuple[str, str]:
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        raise ValueError("SKILL.md must start with a '---' line")
    for index in range(1, len(lines)):
        if lines[index].strip() == "---":
            return "\n".join(lines[1:index]), "\n".join(lines[index + 1:])
    raise ValueError("the frontmatter has no closing '---' line")


def _scalar(raw: str, where: str) -> str:
    value = raw.strip()
    if value.startswith('"'):
        if len(value) < 2 or not value.endswith('"'):
            raise ValueError(f"{where}: unterminated double-quoted string")
        return json.loads(value)
    if value.startswith("'"):
        if len(value) < 2 or not value.endswith("'"):
            raise ValueError(f"{where}: unterminated single-quoted string")
        return value[1:-1].replace("''", "'")
    if value[:1] in set(">|[]{}&*!%@`#,?-") or ": " in value or " #" in value:
        raise ValueError(f"{where}: {value[:30]!r}... is not a plain YAML scalar; quote it")
    return value


def parse_frontmatter(block: str) -> dict:
    """A tiny YAML subset: ``key: scalar`` lines and one level of ``key:`` + indented
    ``key: scalar`` mappings. Anything else is an error, not a guess."""
    data: dict = {}
    mapping: str | None = None
    for number, line in enumerate(block.split("\n"), 2):
        where = f"SKILL.md line {number}"
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        indented = line[:1] in (" ", "\t")
        key, colon, value = line.strip().partition(":")
        key = key.strip()
        if not colon or not key or (value and not value.startswith(" ")):
            raise ValueError(f"{where}: expected 'key: value', got {line!r}")
        if indented:
            if mapping is None:
                raise ValueError(f"{where}: indented line outside a mapping")
            if key in data[mapping]:
                raise ValueError(f"{where}: duplicate key {key!r}")
            data[mapping][key] = _scalar(value, where)
            continue
        if key in data:
            raise ValueError(f"{where}: duplicate key {key!r}")
        if value.strip():
            data[key], mapping = _scalar(value, where), None
        else:
            data[key], mapping = {}, key
    return data


SKILL_TEXT = SKILL_MD.read_text(encoding="utf-8")
FRONTMATTER_BLOCK, BODY = split_frontmatter(SKILL_TEXT)
FRONTMATTER = parse_frontmatter(FRONTMATTER_BLOCK)

_FENCE = re.compile(r"^\s*(```|~~~)")
_SPAN = re.compile(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)", re.DOTALL)


def fenced_blocks(text: str) -> list[tuple[int, str, list[str]]]:
    """(line number of the opening fence, info string, lines) for every fenced block."""
    blocks, current = [], None
    for number, line in enumerate(text.split("\n"), 1):
        if _FENCE.match(line):
            if current is None:
                current = (number, line.strip().lstrip("`~").strip(), [])
            else:
                blocks.append(current)
                current = None
        elif current is not None:
            current[2].append(line)
    return blocks


def prose(text: str) -> str:
    """The text with fenced blocks blanked (line numbers kept)."""
    out, inside = [], False
    for line in text.split("\n"):
        if _FENCE.match(line):
            inside = not inside
            out.append("")
        else:
            out.append("" if inside else line)
    return "\n".join(out)


def code_spans(text: str) -> list[tuple[int, str]]:
    """(line number, content) of inline code spans outside fenced blocks; whitespace
    inside a span that wraps lines is folded to single spaces."""
    plain = prose(text)
    return [(plain.count("\n", 0, m.start()) + 1, " ".join(m.group(2).split()))
            for m in _SPAN.finditer(plain)]


def _is_script_line(line: str) -> bool:
    line = line[2:] if line.startswith("./") else line
    return line.startswith(SCRIPT + " ")


def script_lines(path: Path) -> list[tuple[int, str]]:
    """Every `scripts/send_sms.sh ...` command line of a document: fenced lines (with
    backslash continuations joined) and inline spans. A bare mention of the script is not a
    command line."""
    text = path.read_text(encoding="utf-8")
    found = []
    for start, _info, lines in fenced_blocks(text):
        pending, first = "", 0
        for offset, raw in enumerate(lines, start + 1):
            line = raw.strip()
            if pending:
                line, pending = pending + " " + line, ""
            else:
                first = offset
            if line.endswith("\\"):
                pending = line[:-1].strip()
                continue
            if _is_script_line(line):
                found.append((first, line))
    found += [(number, span) for number, span in code_spans(text) if _is_script_line(span)]
    return sorted(found)


def argv_of(line: str) -> list[str]:
    words = shlex.split(line, comments=True)
    assert words[0] in (SCRIPT, "./" + SCRIPT), line
    return words[1:]


def command_words(argv: list[str]) -> list[str]:
    """The command and its subcommand (if any), skipping options and their values:
    ``['--dry-run', 'campaign', 'show', 'ID']`` -> ``['campaign', 'show']``."""
    words, index = [], 0
    while index < len(argv) and len(words) < 2:
        word = argv[index]
        if word in VALUE_OPTIONS:
            index += 2
            continue
        if word.startswith("-"):
            if len(words) == 1:
                break  # options of the command come before any positional argument
            index += 1
            continue
        words.append(word)
        index += 1
    return words


def document_paths() -> list[Path]:
    return [SKILL_MD, README_MD, *sorted(REFERENCES.glob("*.md"))]


@dataclass
class ScriptLine:
    line: str
    places: list[str] = field(default_factory=list)


def collect_lines() -> list[ScriptLine]:
    """One entry per distinct command line, with every place it appears."""
    seen: dict[str, ScriptLine] = {}
    for path in document_paths():
        if not path.exists():
            continue
        for number, line in script_lines(path):
            entry = seen.setdefault(line, ScriptLine(line))
            entry.places.append(f"{path.relative_to(ROOT)}:{number}")
    return list(seen.values())


ALL_LINES = collect_lines()
SKILL_LINES = [line for _, line in script_lines(SKILL_MD)]


def h2_sections(body: str) -> list[tuple[str, str]]:
    """(heading, text) of every ``## `` section of the body."""
    parts = re.split(r"^## +(.+)$", body, flags=re.MULTILINE)
    return [(parts[i].strip(), parts[i + 1]) for i in range(1, len(parts) - 1, 2)]


def section(body: str, pattern: str, level: str = "#{2,4}") -> str:
    """The text under the first heading matching ``pattern`` up to the next heading of the
    same or a higher level."""
    match = re.search(rf"^({level}) +.*{pattern}.*$", body, re.MULTILINE | re.IGNORECASE)
    assert match, f"SKILL.md has no heading matching {pattern!r}"
    depth = len(match.group(1))
    rest = body[match.end():]
    end = re.search(rf"^#{{1,{depth}}} ", rest, re.MULTILINE)
    return rest[:end.start()] if end else rest


def table_rows(text: str) -> list[list[str]]:
    """Cells of every markdown table row (header and separator rows included)."""
    rows = []
    for line in text.split("\n"):
        line = line.strip()
        if line.startswith("|") and line.endswith("|"):
            cells = re.split(r"(?<!\\)\|", line[1:-1])
            rows.append([cell.strip() for cell in cells])
    return rows


# --- frontmatter -----------------------------------------------------------------------------

def test_frontmatter_matches_strictyaml_when_available():
    """Our tiny parser must read the frontmatter as a real YAML parser does."""
    strictyaml = pytest.importorskip("strictyaml")
    assert strictyaml.load(FRONTMATTER_BLOCK).data == FRONTMATTER


def test_name():
    assert FRONTMATTER.get("name") == SKILL_NAME
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", SKILL_NAME) and len(SKILL_NAME) <= 64


def test_only_allowed_keys():
    assert set(FRONTMATTER) <= ALLOWED_KEYS, set(FRONTMATTER) - ALLOWED_KEYS


def test_description():
    description = FRONTMATTER.get("description")
    assert isinstance(description, str) and description.strip()
    assert len(description) < 1024, len(description)
    assert "<" not in description and ">" not in description
    # What it does and when to use it.
    assert "Use it" in description or "use it" in description
    assert "SMS" in description


def test_license_compatibility_metadata():
    assert FRONTMATTER.get("license") == "Apache-2.0"
    compatibility = FRONTMATTER.get("compatibility")
    assert isinstance(compatibility, str) and len(compatibility) <= 500
    assert "aliyun CLI 3.3.3" in compatibility and "python3" in compatibility
    metadata = FRONTMATTER.get("metadata")
    assert isinstance(metadata, dict) and metadata
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items())
    assert metadata.get("version") and metadata.get("api-version") == builder.API_VERSION


def test_body_under_500_lines():
    assert len(BODY.split("\n")) < 500


def test_agentskills_validate(tmp_path):
    """The reference validator (PyPI skills-ref) accepts the skill folder."""
    exe = Path(sys.executable).with_name("agentskills")
    found = str(exe) if exe.exists() else shutil.which("agentskills")
    if found is None:
        if sys.version_info < (3, 11):
            pytest.skip("agentskills (PyPI skills-ref) needs Python >= 3.11 and is not "
                        "installed")
        pytest.fail("agentskills is missing: install the test extra (pip install -e '.[test]')")
    skill = tmp_path / SKILL_NAME
    skill.mkdir()
    for name in ("SKILL.md", "scripts", "references"):
        (skill / name).symlink_to(ROOT / name)
    result = subprocess.run([found, "validate", str(skill)], capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


# --- body structure --------------------------------------------------------------------------

def test_sections_in_order():
    """Compliance, confirmation, workflows, results, recovery, references: in that order."""
    headings = [heading.lower() for heading, _ in h2_sections(BODY)]
    wanted = ["compliance", "confirmation", "workflow", "result", "recovery", "reference"]
    positions = []
    for word in wanted:
        hits = [i for i, heading in enumerate(headings) if word in heading]
        assert hits, f"no '## ' heading mentions {word!r}: {headings}"
        positions.append(hits[0])
    assert positions == sorted(positions), list(zip(wanted, positions))


@pytest.mark.parametrize("phrase", [
    "--api-version 2017-05-25", f"--user-agent {USER_AGENT}", "--read-timeout 3",
    "aliyun configure ai-mode enable", "aliyun configure ai-mode disable",
    "set-user-agent", "scripts/send_sms.sh precheck", "24 hours",
    "list-signs --approved", "list-templates --approved", "--dry-run", "--verify", "--force",
    "Code=OK", "ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
    "aliyun configure get", "RAM role", "scripts/send_sms.sh send --help", "explicit yes",
    "Mask phone numbers",
])
def test_skill_states(phrase):
    assert phrase in " ".join(BODY.split()), phrase


def test_script_lines_are_one_line_in_code_blocks():
    """Command lines an agent copies: one line each, no continuations, always from the
    skill folder as `scripts/send_sms.sh`."""
    bad = []
    for start, _info, lines in fenced_blocks(SKILL_TEXT):
        for offset, raw in enumerate(lines, start + 1):
            line = raw.strip()
            if "send_sms.sh" in line and not line.startswith(SCRIPT + " "):
                bad.append(f"line {offset}: does not start with '{SCRIPT} ': {line}")
            if line.endswith("\\"):
                bad.append(f"line {offset}: backslash continuation: {line}")
    assert not bad, "\n".join(bad)
    assert len(SKILL_LINES) >= 20


def test_direct_aliyun_calls_in_skill_are_compliant():
    """Any `aliyun dysmsapi ...` the agent might copy carries the compliance flags."""
    candidates = [span for _, span in code_spans(SKILL_TEXT)]
    for _start, _info, lines in fenced_blocks(SKILL_TEXT):
        candidates += [line.strip() for line in lines]
    for line in candidates:
        if line.startswith("aliyun dysmsapi"):
            for flag in COMPLIANCE_FLAGS:
                assert flag in line, (flag, line)


def test_reference_files_named_and_present():
    named = set(re.findall(r"references/[\w.-]+\.md", SKILL_TEXT))
    present = {f"references/{path.name}" for path in REFERENCES.glob("*.md")}
    assert named <= present, named - present
    assert present <= named, f"SKILL.md never says when to read {present - named}"
    table = section(BODY, "when to read")
    for name in present:
        assert name in table, f"{name} is missing from the reference table"


# --- exit codes ------------------------------------------------------------------------------

def exit_code_rows() -> dict[int, list[str]]:
    rows = table_rows(section(BODY, "exit codes"))
    assert rows and [cell.lower() for cell in rows[0]] == [
        "code", "meaning", "what the agent does"], rows[:1]
    table: dict[int, list[str]] = {}
    for cells in rows[2:]:
        assert len(cells) == 3, cells
        for code in re.findall(r"\d+", cells[0]):
            assert int(code) not in table, f"exit code {code} listed twice"
            table[int(code)] = cells
    return table


@pytest.mark.parametrize("code", CONTRACT_EXIT_CODES)
def test_exit_code_has_next_step(code):
    table = exit_code_rows()
    assert code in table, f"exit code {code} is missing from SKILL.md's exit-code table"
    _, meaning, action = table[code]
    assert meaning and len(action.split()) >= 3, table[code]


#: Exit codes the script never returns itself but an agent can see: 137 is SIGKILL.
SHELL_EXIT_CODES = (137,)


def test_no_invented_exit_codes():
    assert set(exit_code_rows()) <= set(CONTRACT_EXIT_CODES) | set(SHELL_EXIT_CODES)


@pytest.mark.parametrize("code", SHELL_EXIT_CODES)
def test_shell_exit_code_has_next_step(code):
    assert len(exit_code_rows()[code][2].split()) >= 3


# --- commands --------------------------------------------------------------------------------

def named_commands(lines: list[str]) -> dict[str, set[str]]:
    """Command -> subcommands named, from `scripts/send_sms.sh ...` lines."""
    named: dict[str, set[str]] = {}
    for line in lines:
        words = command_words(argv_of(line))
        if words:
            subs = named.setdefault(words[0], set())
            if len(words) > 1:
                subs.add(words[1])
    return named


SKILL_COMMANDS = named_commands(SKILL_LINES)


@pytest.mark.parametrize("command", sorted(SKILL_COMMANDS))
def test_named_command_exists(command):
    commands = every_command()
    assert command in commands, f"SKILL.md names `{SCRIPT} {command}`, which the CLI lacks"
    found = commands[command]
    if isinstance(found, click.Group):
        missing = SKILL_COMMANDS[command] - set(found.commands)
        assert not missing, f"`{command}` has no subcommand {sorted(missing)}"


#: Subcommands SKILL.md (kept under 5,000 tokens) leaves to a reference file it names.
REFERENCE_ONLY = {"suppression": "references/per-number-limits.md",
                  "campaign": "references/campaigns.md"}


def test_every_cli_command_in_skill():
    for name, command in every_command().items():
        assert name in SKILL_COMMANDS, f"SKILL.md never shows `{SCRIPT} {name}`"
        if isinstance(command, click.Group):
            missing = set(command.commands) - SKILL_COMMANDS[name]
            if name in REFERENCE_ONLY:
                assert REFERENCE_ONLY[name] in SKILL_TEXT
                shown = named_commands(
                    [line for _, line in script_lines(ROOT / REFERENCE_ONLY[name])])
                missing -= shown.get(name, set())
            assert not missing, f"SKILL.md never shows `{SCRIPT} {name}` {sorted(missing)}"


def test_recovery_codes_are_explained():
    """Every error code that the recovery section names is in the references table, so
    `explain CODE` answers for it."""
    known = parse_error_codes((REFERENCES / "sms-error-codes.md").read_text(encoding="utf-8"))
    code_like = re.compile(r"(?:isv|isp)\.[A-Z_]+|[A-Z][A-Za-z]+(?:\.[A-Z][A-Za-z]+)+"
                           r"|[A-Z][a-z]+(?:[A-Z][a-z]+){2,}")
    recovery = section(BODY, "recovery")
    codes = {span for _, span in code_spans(recovery) if code_like.fullmatch(span)}
    assert len(codes) >= 10, codes
    assert codes <= set(known), codes - set(known)


# --- every documented command line runs ------------------------------------------------------

@pytest.fixture
def docs_sandbox(tmp_path, monkeypatch):
    """A working directory with the placeholder files, and an `aliyun` on PATH that must
    never run (a dry run calls nothing)."""
    work = tmp_path / "work"
    work.mkdir()
    for name, content in PLACEHOLDER_FILES.items():
        (work / name).write_text(content, encoding="utf-8")
    monkeypatch.chdir(work)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    marker = tmp_path / "aliyun-was-run"
    fake = bin_dir / "aliyun"
    fake.write_text(f"#!/bin/sh\necho \"$@\" >> '{marker}'\necho 'docs tests must not run "
                    "aliyun' >&2\nexit 99\n", encoding="utf-8")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAI-docs-test")
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "docs-test-secret")
    return marker


def planned_argv(argv: list[str]) -> tuple[str, list[str]]:
    """How a documented line is checked: ('help' | 'parse-only' | 'explain' | 'dry-run', argv)."""
    if "-h" in argv or "--help" in argv:
        return "help", argv
    words = command_words(argv)
    if (words and words[0] in PARSE_ONLY_COMMANDS) or PARSE_ONLY_OPTIONS & set(argv):
        return "parse-only", [*argv, "--help"]
    if words and words[0] == "explain":  # local: runs as written (it refuses --dry-run)
        return "explain", argv
    extra = [] if "--dry-run" in argv else ["--dry-run"]
    return "dry-run", [*argv, *extra]


def _strings(data: object) -> list[str]:
    if isinstance(data, str):
        return [data]
    if isinstance(data, dict):
        data = list(data.values())
    if isinstance(data, list):
        return [text for item in data for text in _strings(item)]
    return []


def planned_calls(out: str) -> list[str]:
    """The aliyun product commands a dry run shows: one per line, or (for a campaign) as
    strings inside the JSON plan."""
    try:
        texts = _strings(json.loads(out))
    except ValueError:
        texts = out.splitlines()
    return [text for text in texts if text.startswith("aliyun dysmsapi")]


@pytest.mark.parametrize("entry", ALL_LINES, ids=[entry.line for entry in ALL_LINES])
def test_documented_line_runs(entry, docs_sandbox, capsys, isolated_home):
    kind, argv = planned_argv(argv_of(entry.line))
    code = cli_module.run(argv)
    out, err = capsys.readouterr()
    where = ", ".join(entry.places)
    assert code == 0, f"{where}: `{entry.line}` ({kind}) exited {code}\n{err}"
    assert not docs_sandbox.exists(), f"{where}: aliyun was run: {docs_sandbox.read_text()}"
    if kind != "dry-run":
        return
    calls = planned_calls(out)
    assert calls, f"{where}: the dry run printed no aliyun dysmsapi command:\n{out}"
    for call in calls:
        for flag in COMPLIANCE_FLAGS:
            assert flag in call, f"{where}: {flag} missing from {call}"
    assert not (isolated_home / ".aliyun" / "ai-mode.json").exists(), "a dry run touched AI mode"


def test_lines_were_found_in_every_document():
    places = {place.split(":")[0] for entry in ALL_LINES for place in entry.places}
    assert {"SKILL.md", "README.md"} <= places, places


# --- references ------------------------------------------------------------------------------

ERROR_CODES_TEXT = (REFERENCES / "sms-error-codes.md").read_text(encoding="utf-8")


def test_error_codes_parse():
    codes = parse_error_codes(ERROR_CODES_TEXT)
    assert len(codes) >= 50, len(codes)
    for entry in codes.values():
        assert entry.code and entry.meaning and entry.action, entry


def test_error_codes_unique_and_all_rows_parsed():
    rows = re.findall(r"^\|\s*`([^`]+)`\s*\|", ERROR_CODES_TEXT, re.MULTILINE)
    duplicates = [code for code, count in Counter(rows).items() if count > 1]
    assert not duplicates, duplicates
    assert set(rows) == set(parse_error_codes(ERROR_CODES_TEXT)), \
        "some table rows do not parse (a pipe inside a cell?)"


def policy_blocks() -> dict[str, dict]:
    """Each ```json block of ram-policies.md, keyed by the ``## `` heading above it."""
    text = (REFERENCES / "ram-policies.md").read_text(encoding="utf-8")
    heading_at = [(m.start(), m.group(1).strip())
                  for m in re.finditer(r"^## +(.+)$", text, re.MULTILINE)]
    offsets = [0]
    for line in text.split("\n"):
        offsets.append(offsets[-1] + len(line) + 1)
    policies: dict[str, dict] = {}
    for start, info, lines in fenced_blocks(text):
        if info != "json":
            continue
        position = offsets[start - 1]
        heading = [name for at, name in heading_at if at < position][-1]
        assert heading not in policies, f"two policies under {heading!r}"
        policies[heading] = json.loads("\n".join(lines))
    return policies


def dysms_actions(policy: dict) -> set[str]:
    assert policy.get("Version") == "1", policy
    statements = policy.get("Statement")
    assert isinstance(statements, list) and statements, policy
    actions: set[str] = set()
    for statement in statements:
        assert statement.get("Effect") in ("Allow", "Deny"), statement
        assert statement.get("Resource"), statement
        listed = statement.get("Action")
        listed = [listed] if isinstance(listed, str) else listed
        assert isinstance(listed, list) and listed, statement
        actions |= {action for action in listed if action.startswith("dysms:")}
    return actions


ALL_ACTIONS = {"dysms:" + action for action in builder.ACTIONS}


def test_ram_policies_parse():
    policies = policy_blocks()
    assert len(policies) >= 2, list(policies)
    union = set()
    for policy in policies.values():
        union |= dysms_actions(policy)
    assert union == ALL_ACTIONS, union ^ ALL_ACTIONS


def test_full_policy_has_every_action():
    policies = policy_blocks()
    full = [name for name in policies if "full" in name.lower()]
    assert len(full) == 1, list(policies)
    assert dysms_actions(policies[full[0]]) == ALL_ACTIONS


def test_send_only_policy():
    policies = policy_blocks()
    send_only = [name for name in policies if "send-only" in name.lower()]
    assert len(send_only) == 1, list(policies)
    actions = dysms_actions(policies[send_only[0]])
    assert {"dysms:SendSms", "dysms:SendBatchSms"} <= actions
    assert actions < ALL_ACTIONS
