"""The compatibility matrix: the skill on every supported Python, click and jmespath.

Each cell builds its own environment with uv (seconds, from the package registry), then runs,
with the cell's interpreter behind the shim (``SMS_SKILL_TEST_PYTHON``):
- tests/e2e: every command through scripts/send_sms.sh against the fake aliyun;
- tests/docs: every command line in SKILL.md, README.md and references/ as a dry run;
- tests/unit: the library and the CLI in-process, on the cell's click and jmespath;
- tests/test_installed.py: the installed wheel's sms-skill script.

    nox -l                  list the cells
    nox -s click-8.4.0      one cell
    nox                     all of them (tests/run does this)

Interpreters are found on PATH or among pyenv's versions (tests/interpreters.py), never by
one machine's paths. A missing one fails the cell under CI and skips it elsewhere.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nox

sys.path.insert(0, str(Path(__file__).parent))
from tests.interpreters import find_python  # noqa: E402

nox.options.default_venv_backend = "none"  # each cell builds its environment with uv
nox.options.error_on_missing_interpreters = True

ROOT = Path(__file__).parent
TOOLS = ["pytest>=7", "pytest-subprocess>=1.5", "pytest-xdist>=3",
         "skills-ref; python_version >= '3.11'"]
#: The runtime dependency no cell varies: checks international numbers, imported lazily.
RUNTIME = ["phonenumbers>=8.13"]
SUITES = ["tests/e2e", "tests/docs", "tests/unit", "tests/test_installed.py"]


def _stock_python() -> str | None:
    """The python3 a user's shell finds first: tests/run records it before putting .venv on
    PATH; otherwise the first python3 on PATH outside this project's virtual environments."""
    if os.environ.get("SMS_SKILL_STOCK_PYTHON"):
        return os.environ["SMS_SKILL_STOCK_PYTHON"]
    dirs = [d for d in os.environ.get("PATH", "").split(os.pathsep)
            if d and not (Path(d).parent / "pyvenv.cfg").exists()]
    return shutil.which("python3", path=os.pathsep.join(dirs))


def _cell(session: nox.Session, python: str | None, pins: list[str], *,
          system_site: bool = False) -> None:
    if python is None:
        message = f"{session.name}: interpreter not found on PATH or among pyenv's versions"
        if os.environ.get("CI"):
            session.error(message)
        session.skip(message)
    uv = (shutil.which("uv") or shutil.which("uv", path=str(Path(sys.executable).parent))
          or session.error("uv is required: pip install uv"))
    env_dir = ROOT / ".nox" / session.name
    shutil.rmtree(env_dir, ignore_errors=True)
    venv = [uv, "venv", "--quiet", "--python", python, str(env_dir)]
    session.run(*venv, *(["--system-site-packages"] if system_site else []), external=True)
    cell_python = str(env_dir / "bin" / "python")
    session.run(uv, "pip", "install", "--quiet", "--python", cell_python, *pins, *RUNTIME,
                *TOOLS, external=True)
    # The package as a user installs it (a built wheel: the sms-skill script, the LICENSE),
    # on the cell's click and jmespath.
    session.run(uv, "pip", "install", "--quiet", "--no-deps", "--python", cell_python,
                str(ROOT), external=True)
    # Behind the shim, the cell's own interpreter: the stock cell's sees the stock click and
    # jmespath (system site packages) and the phonenumbers that the shim requires as well.
    shim_python = cell_python
    versions = subprocess.run(
        [shim_python, "-c", "import sys, importlib.metadata as m; print('Python %d.%d.%d' % "
         "sys.version_info[:3], 'click', m.version('click'), 'jmespath', m.version('jmespath'))"],
        capture_output=True, text=True, check=True).stdout.strip()
    session.log(f"cell {session.name}: {versions}; behind the shim: {shim_python}")
    # -p no:benchmark: a stock interpreter's own pytest plugins stay out of the run.
    session.run(cell_python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p",
                "no:benchmark", "-n", "2", *SUITES, *session.posargs, external=True,
                env={"SMS_SKILL_TEST_PYTHON": shim_python, "PYTHONDONTWRITEBYTECODE": "1",
                     "PYTEST_ADDOPTS": None})


@nox.session(name="stock")
def stock(session: nox.Session) -> None:
    """The python3 on PATH with whatever click and jmespath it has installed (plus
    phonenumbers: without it the shim would build .runtime instead, which
    tests/test_shim_bootstrap.py and the bats suite cover)."""
    python = _stock_python()
    pins = []
    if python is not None:
        probe = subprocess.run([python, "-c", "import importlib.metadata as m; "
                                "print(m.version('click'), m.version('jmespath'))"],
                               capture_output=True, text=True, check=False)
        if probe.returncode != 0:
            session.skip(f"{python} has no click or jmespath: the shim builds .runtime for it "
                         "(tests/test_shim_bootstrap.py and the bats suite cover that)")
        click_version, jmespath_version = probe.stdout.split()
        # The same releases in-process as behind the shim, whatever the test tools require.
        pins = [f"click=={click_version}", f"jmespath=={jmespath_version}"]
    _cell(session, python, pins, system_site=True)


@nox.session(name="oldest")
def oldest(session: nox.Session) -> None:
    """Python 3.9 with the oldest supported click and jmespath."""
    _cell(session, find_python("3.9"), ["click==8.1.0", "jmespath==1.0.0"])


@nox.session(name="click-8.4.0")
def click_840(session: nox.Session) -> None:
    """click 8.4.0 exactly (it reports no parameter source inside callbacks)."""
    _cell(session, find_python("3.11"), ["click==8.4.0", "jmespath"])


@nox.session(name="newest")
def newest(session: nox.Session) -> None:
    """Python 3.13 with the newest click and jmespath."""
    _cell(session, find_python("3.13"), ["--upgrade", "click", "jmespath"])
