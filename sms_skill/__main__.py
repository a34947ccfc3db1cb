"""``python -m sms_skill``. Kept runnable on any Python, so that an old one gets one line."""

import os
import sys

_CHOSEN = os.environ.get("SMS_SKILL_PYTHON")
_WHICH = "SMS_SKILL_PYTHON=%s" % _CHOSEN if _CHOSEN else "this python (%s)" % sys.executable
_ENVIRONMENT = 3  # the exit code of an environment problem (sms_skill.errors)


def _refuse(message):
    sys.stderr.write("error: %s\n" % message)
    sys.exit(_ENVIRONMENT)


if sys.version_info < (3, 9):
    _refuse("%s is Python %d.%d; 3.9 or newer is required: point SMS_SKILL_PYTHON "
            "at a newer python3, or unset it." % ((_WHICH,) + tuple(sys.version_info[:2])))

try:
    from sms_skill.cli import main
except ImportError as exc:  # click or jmespath missing for this interpreter
    if _CHOSEN:
        hint = "install click>=8.1 and jmespath>=1.0 for it, or unset it"
    else:
        hint = ("install click>=8.1 and jmespath>=1.0 for it, or remove the skill folder's "
                ".runtime-python file so that the shim looks for a suitable python3 again")
    _refuse("%s cannot run the skill (%s); %s." % (_WHICH, exc, hint))

main()
