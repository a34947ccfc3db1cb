from sms_skill.cli import main

main()
