# Signals first: a Ctrl-C while the CLI is still being imported must end in the one-line
# message and exit 130, not in a traceback.
from sms_skill.lifecycle import Interrupted, install_signal_handlers, quiet_exit

try:
    install_signal_handlers()
    from sms_skill.cli import main
except ImportError as exc:  # the interpreter remembered by the shim lost click or jmespath
    import sys

    sys.exit(f"error: {exc}; remove the skill folder's .runtime-python file (the shim then "
             "looks for a suitable python3 again) or install click and jmespath.")
except (Interrupted, KeyboardInterrupt) as exc:
    quiet_exit(exc)

main()
