"""Score `kensa dedup` pairs against generated ids (`G…-dup-G<original>`): prints
{"truth", "found", "precision", "recall", "f1"} as JSON."""

import itertools
import json
import sys
from collections import defaultdict


def person(record_id):
    return record_id.split("-dup-")[1] if "-dup-" in record_id else record_id


def main():
    records, pairs = sys.argv[1], sys.argv[2]
    people = defaultdict(list)
    with open(records, encoding="utf-8") as f:
        for line in f:
            rid = json.loads(line)["id"]
            people[person(rid)].append(rid)
    truth = {tuple(sorted(p)) for ids in people.values() for p in itertools.combinations(ids, 2)}
    found = set()
    with open(pairs, encoding="utf-8") as f:
        for line in f:
            v = json.loads(line)
            if "left" in v:
                found.add(tuple(sorted((v["left"], v["right"]))))
    tp = len(found & truth)
    precision = tp / len(found) if found else 0.0
    recall = tp / len(truth) if truth else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    print(json.dumps({"truth": len(truth), "found": len(found), "precision": precision, "recall": recall, "f1": f1}))


if __name__ == "__main__":
    main()
