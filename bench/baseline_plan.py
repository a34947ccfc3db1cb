"""The plain-script baseline of planning (issue 16): read the file, check each line with a
regex, drop duplicates with a set, insert the rows into SQLite in one executemany transaction.

    python bench/baseline_plan.py NUMBERS_FILE DATABASE
"""

import re
import sqlite3
import sys

NUMBER = re.compile(r"(?:\+?86)?(1[3-9]\d{9})")

source, database = sys.argv[1], sys.argv[2]
seen = set()
rows = []
with open(source, encoding="utf-8") as lines:
    for line in lines:
        match = NUMBER.fullmatch(line.strip())
        if match and match.group(1) not in seen:
            seen.add(match.group(1))
            rows.append((match.group(1), len(rows) // 1000))
db = sqlite3.connect(database)
with db:
    db.execute("CREATE TABLE IF NOT EXISTS recipients (phone TEXT PRIMARY KEY, chunk INTEGER)")
    db.executemany("INSERT INTO recipients VALUES (?, ?)", rows)
db.close()
print(len(rows))
