"""The realistic mix of W9: the records of a JSONL file repeated to N records, each with a fresh
id (`<id>-<n>`), written as JSON lines (the text of each record otherwise unchanged)."""

import json
import sys


def main() -> None:
    path, n = sys.argv[1], int(sys.argv[2])
    with open(path, encoding="utf-8") as f:
        records = [json.loads(line) for line in f if line.strip()]
    out = sys.stdout
    for i in range(n):
        r = dict(records[i % len(records)])
        r["id"] = f"{r.get('id', 'R')}-{i:07d}"
        out.write(json.dumps(r, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
