try:
    from sms_skill.cli import main
except ImportError as exc:  # the interpreter remembered by the shim lost click or jmespath
    import sys

    sys.exit(f"error: {exc}; remove the skill folder's .runtime-python file (the shim then "
             "looks for a suitable python3 again) or install click and jmespath.")

main()
