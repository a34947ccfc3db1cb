"""``python -m sms_skill``. Kept runnable on any Python, so that an old one gets one line."""

import os
import sys

_CHOSEN = os.environ.get("SMS_SKILL_PYTHON")
_WHICH = "SMS_SKILL_PYTHON=%s" % _CHOSEN if _CHOSEN else "this python (%s)" % sys.executable
_ENVIRONMENT = 3  # the exit code of an environment problem (sms_skill.errors)


def _refuse(problem, fix_chosen, fix_found):
    fix = fix_chosen if _CHOSEN else fix_found
    sys.stderr.write("error: %s %s; %s.\n" % (_WHICH, problem, fix))
    sys.exit(_ENVIRONMENT)


if sys.version_info < (3, 9):
    _refuse("is Python %d.%d; 3.9 or newer is required" % tuple(sys.version_info[:2]),
            "point SMS_SKILL_PYTHON at a newer python3, or unset it",
            "install Python 3.9 or newer as python3, or set SMS_SKILL_PYTHON to one")

# Signals first: a Ctrl-C while the CLI is still being imported must end in the one-line
# message and exit 130, not in a traceback.
from sms_skill.lifecycle import Interrupted, install_signal_handlers, quiet_exit  # noqa: E402

_INSTALL = "install click>=8.1 and jmespath>=1.0 for it"
try:
    install_signal_handlers()
    # The shim probed any other interpreter for both; jmespath loads lazily. Asked of the
    # import system's finders directly: importlib.util would cost start-up time.
    if _CHOSEN and not any(finder.find_spec("jmespath", None) for finder in sys.meta_path
                           if hasattr(finder, "find_spec")):
        raise ImportError("No module named 'jmespath'")
    from sms_skill.cli import main
except ImportError as exc:
    _refuse("cannot run the skill (%s)" % exc, _INSTALL + ", or unset it",
            _INSTALL + ", or remove the skill folder's .runtime-python file so that the shim "
            "looks for a suitable python3 again")
except (Interrupted, KeyboardInterrupt) as exc:
    quiet_exit(exc)

main()
