"""The name of the program the user ran, for usage lines, help examples and next-step hints."""

from __future__ import annotations

import os
import sys

from sms_skill.builder import shell_line


def name() -> str:
    """``SMS_SKILL_PROG`` (the shim sets it to the path it was run as), else
    ``python -m sms_skill`` or the installed ``sms-skill`` script, by how Python was started."""
    given = os.environ.get("SMS_SKILL_PROG", "").strip()
    if given:
        return shell_line([given])  # as typed, quoted only where a shell needs it
    started = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    if started in ("__main__.py", "-m", "-c", ""):
        return "python -m sms_skill"
    return "sms-skill"

