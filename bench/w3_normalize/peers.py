"""W3, the Python side: time the peers over the same names as kensa, compare their outputs
with kensa's, and write the workload's result JSON (see bench/README.md).

    python peers.py edges OUT.txt
        write the hand-picked edge cases (one per line) for `bench_normalize apply`
    python peers.py report --names F --kensa-dir D --out W3.json --rounds R [--scale S]
        time every peer pipeline over F (one name per line), read kensa's timings and outputs
        from D (written by `bench_normalize time` and `apply`), and write the result

Timing: each pipeline is called once per string in a plain `for s in names: f(s)` loop, one
thread, garbage collector off, `time.perf_counter()` around the loop only; the best of
`--rounds` passes counts (the median is kept in the notes). The outputs for the agreement check
come from one more, untimed pass.
"""

import argparse
import difflib
import functools
import gc
import json
import os
import statistics
import sys
import time
import unicodedata
from collections import Counter

import jaconv
import mojimoji
import neologdn

# ------------------------------------------------------------------------------- pipelines
#
# Each peer pipeline is the closest the library allows to what kensa's function does on kana
# names (docs/NORMALIZATION.md). What a pipeline cannot do is listed in PIPELINES below.

# Hiragana → katakana for the pipelines of libraries that have no such step (mojimoji):
# U+3041–3096 → U+30A1–30F6 and ゝゞ → ヽヾ, as kensa's step 4.
HIRA2KATA = {c: c + 0x60 for c in range(0x3041, 0x3097)}
HIRA2KATA.update({0x309D: 0x30FD, 0x309E: 0x30FE})


def collapse(s):
    """Trim and collapse every run of Unicode whitespace (incl. U+3000) to one U+0020."""
    return " ".join(s.split())


def jaconv_kana_key(s):
    return collapse(jaconv.hira2kata(jaconv.h2z(s, kana=True)))


def mojimoji_kana_key(s):
    return collapse(mojimoji.han_to_zen(s, ascii=False, digit=False).translate(HIRA2KATA))


def mojimoji_han_to_zen(s):
    return mojimoji.han_to_zen(s)


# Bank form (DOMAIN §2.5): small kana large, ヰヱヲ → イエオ, long vowel / dashes → '-',
# middle dot → space, Latin upper case, half-width katakana with ﾞﾟ separate.
_SMALL = "ァアィイゥウェエォオッツャヤュユョヨヮワヵカヶケ" "ぁアぃイぅウぇエぉオっツゃヤゅユょヨゎワゕカゖケ" "ｧｱｨｲｩｳｪｴｫｵｯﾂｬﾔｭﾕｮﾖ"
_BANK_EXTRA = {"ヰ": "イ", "ヱ": "エ", "ヲ": "オ", "ゐ": "イ", "ゑ": "エ", "を": "オ", "ｦ": "ｵ",
               "ー": "-", "ｰ": "-", "・": " ", "･": " "}

# jaconv: enlarge_smallkana does the small kana (not ヮ), then this table the rest.
JACONV_BANK_FIX = str.maketrans({"ヮ": "ワ", "ヰ": "イ", "ヱ": "エ", "ヲ": "オ", "ー": "-", "・": " "})


def jaconv_bank_key(s):
    k = jaconv.enlarge_smallkana(jaconv.hira2kata(jaconv.h2z(s, kana=True)))
    return collapse(jaconv.z2h(k.translate(JACONV_BANK_FIX), kana=True, ascii=True, digit=True).upper())


# mojimoji: one translate table does hiragana → katakana, small → large (full- and
# half-width), ヰヱヲ, dashes and dots; then zen_to_han.
MOJIMOJI_BANK = dict(HIRA2KATA)
MOJIMOJI_BANK.update({ord(a): b for a, b in zip(_SMALL[::2], _SMALL[1::2])})
MOJIMOJI_BANK.update({ord(a): b for a, b in _BANK_EXTRA.items()})


def mojimoji_bank_key(s):
    return collapse(mojimoji.zen_to_han(s.translate(MOJIMOJI_BANK)).upper())


python_nfkc = functools.partial(unicodedata.normalize, "NFKC")


# (family, label, function, the kensa output it is compared with, pipeline text)
PIPELINES = [
    ("kana", "jaconv", jaconv_kana_key, "kana_key",
     "jaconv `h2z(s, kana=True)` → `hira2kata` → whitespace trimmed and collapsed to one U+0020 "
     "(`' '.join(s.split())`). jaconv composes only `ｶﾞ`-style half-width pairs (26 `str.replace` calls); "
     "it has no step for `゛`/U+3099 after a full-width kana, dash look-alikes after kana, iteration marks "
     "(`ゞ` becomes `ヾ`, not expanded) or variation selectors, and leaves full-width Latin as it is."),
    ("kana", "mojimoji", mojimoji_kana_key, "kana_key",
     "mojimoji `han_to_zen(s, ascii=False, digit=False)` (kana only: kensa folds Latin and digits the other "
     "way, to half-width) → hiragana→katakana by `str.translate` (U+3041–3096 +0x60, `ゝゞ`→`ヽヾ`; mojimoji "
     "has no such step) → whitespace trimmed and collapsed. Same gaps as jaconv; a half-width `ﾞ` it cannot "
     "compose (`ｱﾞ`, `ﾜﾞ`) becomes the spacing `゛`, where jaconv keeps `ﾞ`."),
    ("kana", "mojimoji han_to_zen only", mojimoji_han_to_zen, "kana_key",
     "mojimoji `han_to_zen(s)` with its defaults, nothing else: the fastest mojimoji call, shown for speed "
     "only (not a key: hiragana stays, spaces and Latin become full-width, so it agrees only with names "
     "that were full-width katakana with no space to begin with)."),
    ("bank", "jaconv", jaconv_bank_key, "zengin_key",
     "jaconv `h2z(s, kana=True)` → `hira2kata` → `enlarge_smallkana` → `str.translate` (`ヮ`→`ワ`, `ヰヱヲ`→`イエオ`, "
     "`ー`→`-`, `・`→space) → `z2h(kana=True, ascii=True, digit=True)` → `upper()` → whitespace collapsed. "
     "No legal-entity rewrite (`株式会社`→`ｶ)`), no dash look-alikes other than `ー`."),
    ("bank", "mojimoji", mojimoji_bank_key, "zengin_key",
     "one `str.translate` (hiragana→katakana, small kana→large in full- and half-width, `ヰヱヲｦ`→`イエオｵ`, "
     "`ーｰ`→`-`, `・･`→space) → mojimoji `zen_to_han(s)` → `upper()` → whitespace collapsed. No legal-entity "
     "rewrite; mojimoji's `zen_to_han` maps the spacing `゛` to `ﾞ` but leaves the combining U+3099, iteration "
     "marks and dash look-alikes other than `ー`."),
    ("nfkc", "Python unicodedata NFKC", python_nfkc, "nfkc",
     f"`unicodedata.normalize('NFKC', s)` (Python {sys.version.split()[0]}, Unicode "
     f"{unicodedata.unidata_version})."),
    ("nfkc", "jaconv.normalize", jaconv.normalize, "nfkc",
     "`jaconv.normalize(s)`: 23 `str.replace` calls (`〜～`→`ー`, dash look-alikes→`-` or `ー`, curly quotes), "
     "then `unicodedata.normalize('NFKC')`."),
    ("nfkc", "neologdn", neologdn.normalize, "nfkc",
     "`neologdn.normalize(s)` with its defaults: NFKC-like width fold, dash and long-vowel runs folded, tildes "
     "removed, and spaces between two Japanese characters (or a Japanese and a Latin one) removed (so it is "
     "compared with kensa's NFKC and, in the notes, with K1' `name::key_nospace`)."),
]

KENSA_ROWS = {
    "kana": [("kana_key", "kensa `kana::kana_key` (K2)")],
    "bank": [("zengin_key", "kensa `zengin::zengin_key` (K3)"),
             ("to_zengin", "kensa `zengin::to_zengin` (K3 without the legal-entity rewrite)")],
    "nfkc": [("nfkc", "kensa `width::nfkc`"),
             ("nfkc_crate", "Rust unicode-normalization `.nfkc().collect()` (what `width::nfkc` calls)"),
             ("fold_width", "kensa `width::fold_width` (the safe fold kensa uses)"),
             ("key_nfkc", "kensa `name::key_nfkc` (K1: fold_width + whitespace)")],
}
FAMILY = {
    "kana": ("kana_key", "Kana key (K2)"),
    "bank": ("zengin_key", "Bank-kana key (K3)"),
    "nfkc": ("nfkc", "NFKC and width folds"),
}

# ------------------------------------------------------------------------------- edge cases
#
# Hand-picked inputs (not timed) where the pipelines part; why, per family. A difference
# without a reason here is reported as "not explained".

EDGES = [
    ("カ゛ク", {
        "kana": "spacing `゛` after a full-width kana: kensa composes `ガ`; the peers leave it (jaconv and mojimoji "
                "only compose half-width `ｶﾞ`).",
        "bank": "kensa composes `ガ`, then writes `ｶﾞ`; jaconv keeps the spacing `゛`; mojimoji's `zen_to_han` maps "
                "`゛` to `ﾞ`, which happens to give the bank form.",
        "nfkc": "NFKC turns `゛` into U+0020 + U+3099 (a space inside the name); kensa's `fold_width` composes "
                "`ガ`, and so does neologdn.",
    }),
    ("か\u3099く", {
        "kana": "combining U+3099 after a hiragana: kensa composes (`ガ`); the peers convert the base and keep the "
                "combining mark.",
        "bank": "kensa composes, then writes `ｶﾞ`; both peers keep the combining U+3099, which is not bank kana.",
        "nfkc": "NFKC composes `が`; neologdn does no canonical composition and keeps U+3099.",
    }),
    ("ｱﾞｲ", {
        "kana": "`ｱﾞ` has no precomposed form: kensa (like NFKC) writes `ア`+U+3099; jaconv keeps the half-width "
                "`ﾞ`, mojimoji turns it into the spacing `゛`.",
        "nfkc": "NFKC writes `ア`+U+3099; neologdn widens `ｱ` but keeps the half-width `ﾞ`.",
    }),
    ("ﾜﾞｲﾝ", {
        "kana": "`ﾜﾞ` → `ヷ` in kensa (as in NFKC); jaconv's 26 replacements do not include it (keeps `ﾞ`), "
                "mojimoji writes the spacing `゛`.",
        "nfkc": "NFKC composes `ヷ`; neologdn's own half-width table has no `ﾜﾞ` and keeps the `ﾞ`.",
    }),
    ("サ～トウ", {
        "kana": "a wave dash used as a long vowel: kensa's K2 makes it `ー` after a kana; the peers keep `～`.",
        "bank": "kensa folds every dash look-alike to `-`; the peers only handle `ー`.",
        "nfkc": "NFKC makes `～` an ASCII `~`; jaconv.normalize maps `～` to `ー` first; neologdn removes tildes.",
    }),
    ("サ-トウ", {
        "kana": "ASCII hyphen after a kana: kensa reads it as `ー`; the peers keep `-`.",
    }),
    ("ｻｰﾄｳ", {
        "nfkc": "half-width `ｰ` becomes `ー` in every tool; shown for contrast with `サ～トウ`.",
    }),
    ("いすゞ", {
        "kana": "iteration mark: kensa expands `ゞ` to the voiced repeat (`イスズ`); both peers only make it katakana "
                "`ヾ` (jaconv's `hira2kata`; the translate step of the mojimoji pipeline).",
        "bank": "kensa expands it (`ｲｽｽﾞ`); the peers leave `ヾ`, which has no bank form.",
    }),
    ("スヾキ", {
        "kana": "`ヾ` after `ス`: kensa expands it to `ズ`; the peers keep it.",
        "bank": "kensa expands `ヾ` (`ｽｽﾞｷ`); the peers leave it.",
    }),
    ("ＹＡＭＡＤＡ タロウ", {
        "kana": "full-width Latin: kensa folds it to ASCII (`YAMADA`); the kana-only peer calls leave it.",
        "nfkc": "all fold the Latin to ASCII; neologdn also removes the space between Latin and Japanese.",
    }),
    ("葛\U000E0100西 タロウ", {
        "kana": "an ideographic variation selector: kensa removes it (K2 step 2); the peers keep it.",
        "bank": "the variation selector: kensa removes it; the peers keep it.",
        "nfkc": "NFKC keeps variation selectors, and so do `fold_width` and the peers (K1 removes them); neologdn "
                "differs only by removing the space.",
    }),
    ("株式会社ヤマダ", {
        "bank": "legal-entity word: kensa's K3 writes the bank abbreviation `ｶ)ﾔﾏﾀﾞ`; the peers have no such "
                "rule.",
    }),
    ("クヮンノン", {
        "bank": "small `ヮ`: kensa and the mojimoji table enlarge it; jaconv's `enlarge_smallkana` does not, the "
                "translate step added to its pipeline does.",
    }),
    ("ヤマダ\u3000\u3000タロウ ", {
        "nfkc": "NFKC folds U+3000 to U+0020 and keeps runs and trailing spaces; neologdn removes the spaces "
                "between Japanese characters and at the ends.",
    }),
    ("smith john", {
        "bank": "all pipelines upper-case Latin; shown for contrast.",
    }),
    ("髙﨑 タロウ", {
        "nfkc": "`﨑` (U+FA11) is one of the twelve ideographs of the compatibility block with no decomposition, "
                "so every tool keeps it (and `髙` U+9AD9); neologdn only differs by removing the space.",
    }),
    ("神\uFA19", {
        "nfkc": "U+FA19 is a CJK compatibility ideograph: NFKC (and jaconv.normalize, which calls it) replaces it "
                "with `神` U+795E; kensa's `fold_width` keeps it (a glyph distinction; folding it is a K4 "
                "decision), and so does neologdn.",
    }),
    ("ゟ", {
        "kana": "the ligature `ゟ`: kensa's width fold applies NFKC to it (`より`, then `ヨリ`); the peers keep it.",
        "bank": "the ligature `ゟ`: kensa's width fold gives `より`, so `ﾖﾘ`; the peers keep `ゟ`.",
        "nfkc": "all fold `ゟ` to `より` except neologdn, which keeps it.",
    }),
]


def show(s):
    """A string as a table cell: invisible or confusable characters spelled out."""
    out = []
    for i, ch in enumerate(s):
        cat = unicodedata.category(ch)
        if ch == " " and (i == 0 or i == len(s) - 1):
            out.append("␣")
        elif ch == " ":
            out.append(" ")
        elif cat in ("Mn", "Mc", "Me", "Cf", "Cc", "Zs", "Zl", "Zp", "Co") or 0xE0100 <= ord(ch) <= 0xE01EF:
            out.append(f"<U+{ord(ch):04X}>")
        elif (0xF900 <= ord(ch) <= 0xFAFF or 0x2F800 <= ord(ch) <= 0x2FA1F) and unicodedata.decomposition(ch):
            out.append(f"<U+{ord(ch):04X}>")
        elif ch in "|`":
            out.append(f"<U+{ord(ch):04X}>")
        else:
            out.append(ch)
    return "`" + "".join(out) + "`" if out else "(empty)"


# ------------------------------------------------------------------------------- measuring


def read_lines(path):
    with open(path, encoding="utf-8", newline="") as f:
        text = f.read()
    if text.endswith("\n"):
        text = text[:-1]
    return text.split("\n") if text else []


def timed(f, data, rounds):
    times = []
    gc_was = gc.isenabled()
    gc.disable()
    try:
        for _ in range(rounds):
            start = time.perf_counter()
            for s in data:
                f(s)
            times.append(time.perf_counter() - start)
    finally:
        if gc_was:
            gc.enable()
    outputs = [f(s) for s in data]
    return sorted(times), outputs


def rate(n, secs):
    return n / secs if secs > 0 else float("inf")


def fmt_rate(r):
    if r >= 1e6:
        return f"{r / 1e6:.2f}M"
    return f"{r / 1e3:.0f}k"


def fmt_ratio(x):
    return f"{x:.1f}×" if x >= 10 else f"{x:.2f}×"


def fmt_share(agree, n):
    if n == 0:
        return "—"
    if agree == n:
        return "100%"
    return f"{100 * agree / n:.2f}%"


def classify(k, p, op):
    """A one-line reason for the first difference `op` (a difflib opcode) between kensa's
    output `k` and another output `p`."""
    if k.split() == p.split():  # the same words, other whitespace
        if "\u3000" in p and "\u3000" not in k:
            return "keeps (or writes) U+3000; kensa folds whitespace to U+0020"
        if k.strip() == p.strip() and k.rstrip() != k:
            return "drops the trailing space (the name was cut after a word); the reference keeps it"
        return "spaces the words differently"
    if "".join(k.split()) == "".join(p.split()):
        return "removes the spaces between words; the reference keeps them (one U+0020 each)"
    _, k0, k1, p0, p1 = op
    kseg, pseg = k[k0:k1], p[p0:p1]
    if "\u3000" in pseg:
        return "keeps (or writes) U+3000; kensa folds whitespace to U+0020"
    if pseg.strip() == "" and kseg == "":
        return "keeps a space that the reference trims or collapses"
    if any(c in pseg for c in "ﾞﾟ゛゜\u3099\u309a"):
        return "leaves a voicing mark uncomposed"
    if any("\u3041" <= c <= "\u3096" for c in pseg):
        return "leaves hiragana"
    if any("\uff61" <= c <= "\uff9f" for c in pseg) and not any("\uff61" <= c <= "\uff9f" for c in kseg):
        return "leaves half-width katakana"
    if any("\uff01" <= c <= "\uff5e" for c in pseg):
        return "writes full-width ASCII"
    return "not explained"


def agreement(inputs, ref, outs, limit=3):
    """(agreeing count, Counter of reasons, {reason: first examples})."""
    agree = 0
    reasons = Counter()
    examples = {}
    for s, k, p in zip(inputs, ref, outs):
        if k == p:
            agree += 1
            continue
        ops = difflib.SequenceMatcher(None, k, p, autojunk=False).get_opcodes()
        op = next((o for o in ops if o[0] != "equal"), ("replace", 0, len(k), 0, len(p)))
        reason = classify(k, p, op)
        reasons[reason] += 1
        ex = examples.setdefault(reason, [])
        if len(ex) < limit:
            ex.append((s, k, p))
    return agree, reasons, examples


def cmd_edges(args):
    with open(args.out, "w", encoding="utf-8", newline="") as f:
        for s, _ in EDGES:
            f.write(s + "\n")


def cmd_report(args):
    names = read_lines(args.names)
    n = len(names)
    with open(os.path.join(args.kensa_dir, "w3-kensa.json"), encoding="utf-8") as f:
        kensa = json.load(f)
    if kensa["strings"] != n:
        sys.exit(f"w3: kensa timed {kensa['strings']} strings, the names file has {n}")
    kfun = kensa["functions"]
    kout = {name: read_lines(v["outputs"]) for name, v in kfun.items()}
    krate = {name: v["strings_per_s"] for name, v in kfun.items()}

    # Time the peers.
    peer = {}
    for family, label, f, ref, _ in PIPELINES:
        times, outs = timed(f, names, args.rounds)
        r = rate(n, times[0])
        med = rate(n, statistics.median(times))
        print(f"w3: {family:<4} {label:<26} {r / 1e6:6.2f} M strings/s (median {med / 1e6:.2f} M)", file=sys.stderr)
        peer[(family, label)] = {"rate": r, "median": med, "outs": outs, "ref": ref}

    tables = []
    notes = []
    diff_rows = []
    for family, (ref_fn, title) in FAMILY.items():
        ref_rate = krate[ref_fn]
        rows = []
        for fn, label in KENSA_ROWS[family]:
            if fn == ref_fn:
                rows.append([label, fmt_rate(krate[fn]), "—", "(reference)"])
                continue
            agree, reasons, examples = agreement(names, kout[ref_fn], kout[fn])
            rows.append([label, fmt_rate(krate[fn]), "—", fmt_share(agree, n)])
            for reason, count in reasons.most_common():
                s, k, o = examples[reason][0]
                diff_rows.append([title, f"kensa `{fn}`", f"{count:,} ({100 * count / n:.2f}%)", reason, show(s),
                                  show(k), show(o)])
        for fam, label, _, ref, _ in PIPELINES:
            if fam != family:
                continue
            p = peer[(fam, label)]
            agree, reasons, examples = agreement(names, kout[ref], p["outs"])
            rows.append([label, fmt_rate(p["rate"]), fmt_ratio(ref_rate / p["rate"]), fmt_share(agree, n)])
            for reason, count in reasons.most_common():
                s, k, o = examples[reason][0]
                diff_rows.append([title, label, f"{count:,} ({100 * count / n:.2f}%)", reason, show(s), show(k),
                                  show(o)])
        tables.append({
            "caption": f"{title}: {n:,} generated kana names, strings/s (best of {kensa['rounds']} rounds for kensa, "
                       f"{args.rounds} for Python), ratio = kensa `{ref_fn}` ÷ tool, agreement = share of names "
                       f"whose output equals kensa's `{ref_fn}`",
            "columns": ["tool", "strings/s", "ratio", "agreement"],
            "rows": rows,
        })

    if diff_rows:
        tables.append({
            "caption": "Where the outputs differ from the reference (kensa's `kana_key`, `zengin_key`, `nfkc`) on the "
                       "generated names, by reason, with the first example",
            "columns": ["function", "tool", "names", "how the tool differs", "input", "reference", "tool output"],
            "rows": diff_rows,
        })

    # neologdn against K1' (kensa's key without spaces), the kensa key that plays its role.
    neo = peer[("nfkc", "neologdn")]["outs"]
    if "key_nospace" in kout:
        a, _, _ = agreement(names, kout["key_nospace"], neo)
        notes.append(
            f"neologdn removes every space between two Japanese characters, so it agrees with kensa's NFKC only on "
            f"names without a space; compared with kensa's K1' (`name::key_nospace`, K1 with whitespace removed) it "
            f"agrees on {fmt_share(a, n)} of the names.")

    # Edge cases.
    edge_dir = args.kensa_dir
    edge_inputs = [s for s, _ in EDGES]
    edge_k = {}
    for fn in ("kana_key", "zengin_key", "nfkc", "fold_width"):
        path = os.path.join(edge_dir, f"w3-edges-{fn}.txt")
        if os.path.exists(path):
            edge_k[fn] = read_lines(path)
    if len(edge_k) == 4 and all(len(v) == len(edge_inputs) for v in edge_k.values()):
        fam_peers = {
            "kana": ("kana_key", [("jaconv", jaconv_kana_key), ("mojimoji", mojimoji_kana_key)]),
            "bank": ("zengin_key", [("jaconv", jaconv_bank_key), ("mojimoji", mojimoji_bank_key)]),
            "nfkc": ("nfkc", [("fold_width", None), ("Python NFKC", python_nfkc),
                              ("jaconv.normalize", jaconv.normalize), ("neologdn", neologdn.normalize)]),
        }
        unexplained = 0
        for family, (ref_fn, plist) in fam_peers.items():
            rows = []
            for i, (s, why) in enumerate(EDGES):
                k = edge_k[ref_fn][i]
                outs = [edge_k["fold_width"][i] if f is None else f(s) for _, f in plist]
                differ = any(o != k for o in outs)
                if not differ and family not in why:
                    continue
                reason = why.get(family, "")
                if differ and not reason:
                    reason = "not explained"
                    unexplained += 1
                if not differ:
                    reason = "(all agree) " + reason
                rows.append([show(s), show(k)] + [show(o) if o != k else "same" for o in outs] + [reason])
            if rows:
                tables.append({
                    "caption": f"{FAMILY[family][1]}: hand-picked edge cases (not timed); `same` = equal to kensa's "
                               f"`{ref_fn}`",
                    "columns": ["input", f"kensa {ref_fn}"] + [p for p, _ in plist] + ["why"],
                    "rows": rows,
                })
        if unexplained:
            notes.append(f"{unexplained} edge-case difference(s) have no written reason yet "
                         "(bench/w3_normalize/peers.py).")

    # Targets: the kana key against the mojimoji and jaconv pipelines (and mojimoji's bare call).
    k2 = krate["kana_key"]
    moj = peer[("kana", "mojimoji")]["rate"]
    moj_bare = peer[("kana", "mojimoji han_to_zen only")]["rate"]
    jac = peer[("kana", "jaconv")]["rate"]
    targets = [
        {"target": "kana key ≥ 1.2× mojimoji", "met": k2 / moj >= 1.2 and k2 / moj_bare >= 1.2,
         "detail": f"{fmt_ratio(k2 / moj)} the mojimoji kana-key pipeline, {fmt_ratio(k2 / moj_bare)} mojimoji "
                   f"`han_to_zen` alone ({fmt_rate(k2)} vs {fmt_rate(moj)} and {fmt_rate(moj_bare)} strings/s)"},
        {"target": "kana key ≥ 10× jaconv", "met": k2 / jac >= 10,
         "detail": f"{fmt_ratio(k2 / jac)} ({fmt_rate(k2)} vs {fmt_rate(jac)} strings/s)"},
    ]

    notes[:0] = [
        f"Corpus: {n:,} kana names of 10–20 characters from `benches/common/gen.rs` `kana_names(n, seed 1)` "
        "(85% full-width katakana, 8% hiragana, 7% half-width katakana with `ﾞﾟ`; Japanese and foreign names; "
        "U+0020 or U+3000 between words; cut at the length, so some end in a space), written one per line by "
        "`cargo run --release --example bench_normalize -- names`.",
        "Measured in-process on one thread, file I/O excluded: kensa by `examples/bench_normalize.rs` (`time`: each "
        "function over the whole list, `--rounds` passes, best pass counts), the peers by "
        "`bench/w3_normalize/peers.py` (`for s in names: f(s)` between two `time.perf_counter()` calls, garbage "
        "collector off, best pass counts). Each peer's time includes Python's call overhead, which is part of "
        "using it. Ratio = kensa strings/s ÷ peer strings/s.",
        "Agreement = the share of names for which the peer pipeline's output is the same string as kensa's. The "
        "pipelines are tuned to kensa's definition; on this corpus they can agree fully because generated names "
        "hold none of the notations where the libraries part (the edge-case tables show those).",
    ]
    for family, label, _, _, text in PIPELINES:
        notes.append(f"Pipeline, {FAMILY[family][1]}, {label}: {text}")
    medians = ", ".join(f"kensa {k} {fmt_rate(rate(n, v['median_s']))}" for k, v in kfun.items())
    medians += ", " + ", ".join(f"{fam} {label} {fmt_rate(p['median'])}" for (fam, label), p in peer.items())
    notes.append(f"Median passes (strings/s): {medians}.")

    result = {
        "workload": "W3",
        "title": "Normalization: kana key, bank-kana key, NFKC",
        "command": "bench/run w3",
        "scale": args.scale,
        "tables": tables,
        "targets": targets,
        "notes": notes,
    }
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(result, f, ensure_ascii=False, indent=2)
        f.write("\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("edges")
    e.add_argument("out")
    r = sub.add_parser("report")
    r.add_argument("--names", required=True)
    r.add_argument("--kensa-dir", required=True)
    r.add_argument("--out", required=True)
    r.add_argument("--rounds", type=int, default=3)
    r.add_argument("--scale", default="full")
    args = ap.parse_args()
    if args.cmd == "edges":
        cmd_edges(args)
    else:
        cmd_report(args)


if __name__ == "__main__":
    main()
