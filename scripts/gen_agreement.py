#!/usr/bin/env python3
"""Regenerate tests/data/agreement/cases.tsv: kensa's normalizers against the published unit
cases of jaconv, mojimoji and neologdn (the three Python libraries Japanese pipelines use).

The Python libraries are used only to generate test data; kensa never calls them.

Sources (each library's own unit tests, run here against the installed library, so every
peer output below is what the pinned version really returns):

* jaconv 0.5.0 (PyPI sdist `jaconv-0.5.0.tar.gz`, file `test_jaconv.py`; MIT licence,
  (c) 2014 Yukino Ikegami; github.com/ikegami-yukino/jaconv).
* neologdn 0.5.6 (PyPI sdist `neologdn-0.5.6.tar.gz`, file `test_neologdn.py`; Apache-2.0,
  (c) Yukino Ikegami; github.com/ikegami-yukino/neologdn).
* mojimoji 0.0.13 (PyPI; Apache-2.0, (c) 2013 Studio Ousia; github.com/studio-ousia/mojimoji).
  Its sdist ships no tests, so the cases of `test_mojimoji.py` (repository commit
  fa7dea5a6bc5b63e1ef749bd6ef178161c018d5a, the version that matches 0.0.13's `￥`/`＼`
  tables) are copied below as a literal table (`MOJIMOJI_CASES`).

The test files are not parsed: they are executed, with the library module replaced by a
recording proxy, so every call a test makes (including the per-line `_compare` loops and
the flag combinations of jaconv's `test_h2z`/`test_z2h`) becomes one case
(function, arguments, output). The test's own assertions still run, so a library that does
not match its published tests stops the script.

Each case is then mapped to the kensa function that means the same thing (`KENSA_FOR`),
or skipped with a reason (`skip_reason`); see docs/NORMALIZATION.md, section "Agreement
with jaconv, mojimoji and neologdn". A compared case is `same` unless it is listed in
`DIVERGENCES` with the reason; tests/agreement.rs checks both claims against kensa, so a
divergence that appears or disappears fails `cargo test --test agreement`.

Usage:

    python3 -m venv /tmp/agree-venv
    /tmp/agree-venv/bin/pip install jaconv==0.5.0 mojimoji==0.0.13 neologdn==0.5.6
    /tmp/agree-venv/bin/python scripts/gen_agreement.py [--sdist-dir DIR]

Without --sdist-dir the two sdists are fetched with
`pip download --no-deps --no-binary :all: jaconv==0.5.0 neologdn==0.5.6` into a temporary
directory. Output: UTF-8, LF, deterministic (the order the published tests run in;
unittest runs test methods alphabetically).
"""

import argparse
import functools
import importlib
import importlib.metadata
import subprocess
import sys
import tarfile
import tempfile
import unicodedata
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "data" / "agreement" / "cases.tsv"

PINS = {"jaconv": "0.5.0", "mojimoji": "0.0.13", "neologdn": "0.5.6"}

# test_mojimoji.py, studio-ousia/mojimoji @ fa7dea5a6bc5b63e1ef749bd6ef178161c018d5a
# (Apache-2.0, (c) 2013 Studio Ousia): (function, expected, text), in file order.
MOJIMOJI_CASES = [
    ("zen_to_han", "ｱｲｳｴｵ", "アイウエオ"),
    ("zen_to_han", "ｶﾞｷﾞｸﾞｹﾞｺﾞ", "ガギグゲゴ"),
    ("zen_to_han", "ﾊﾟﾋﾟﾌﾟﾍﾟﾎﾟ", "パピプペポ"),
    ("zen_to_han", "0123", "０１２３"),
    ("zen_to_han", "abcABC", "ａｂｃＡＢＣ"),
    ("zen_to_han", "#?!¥\\", "＃？！￥＼"),
    ("zen_to_han", "あいうえお", "あいうえお"),
    ("han_to_zen", "アイウエオ", "ｱｲｳｴｵ"),
    ("han_to_zen", "ガギグゲゴ", "ｶﾞｷﾞｸﾞｹﾞｺﾞ"),
    ("han_to_zen", "パピプペポ", "ﾊﾟﾋﾟﾌﾟﾍﾟﾎﾟ"),
    ("han_to_zen", "０１２３", "0123"),
    ("han_to_zen", "ａｂｃＡＢＣ", "abcABC"),
    ("han_to_zen", "＃？！￥＼", "#?!¥\\"),
    ("han_to_zen", "あいうえお", "あいうえお"),
    ("han_to_zen", "ア゛イ゛ヴエ゛オ゛", "ｱﾞｲﾞｳﾞｴﾞｵﾞ"),
]

# Which kensa functions mean the same thing as a peer function (when the call is comparable,
# see skip_reason). `kana::kana_key` is compared only on inputs without hiragana: the K2 key
# writes every kana in katakana by design, so on hiragana it would only measure that choice.
KENSA_FOR = {
    "jaconv.hira2kata": ["kana::to_katakana"],
    "jaconv.kata2hira": ["kana::to_hiragana"],
    "jaconv.h2z": ["width::fold_width"],
    "jaconv.z2h": ["width::fold_width"],
    "jaconv.normalize": ["width::nfkc", "width::fold_width", "kana::kana_key"],
    "mojimoji.han_to_zen": ["width::fold_width"],
    "mojimoji.zen_to_han": ["width::fold_width"],
    "neologdn.normalize": ["name::key_nfkc", "kana::kana_key"],
}

# Skip categories (peer function → reason); the docs list them.
SKIPPED_FUNCTIONS = {
    "jaconv.hira2hkata": "half-width katakana output: kensa writes half-width kana only in the bank fold (zengin), which has no peer",
    "jaconv.kana2alphabet": "romaji: kensa has no kana↔romaji conversion (registry readings are kana)",
    "jaconv.alphabet2kana": "romaji: kensa has no kana↔romaji conversion (registry readings are kana)",
    "jaconv.hiragana2julius": "Julius phoneme notation: out of scope",
    "jaconv.enlarge_smallkana": "small→large kana: kensa does it only inside the bank fold (half-width zengin output, no peer); K2 keeps small kana",
    "neologdn.shorten_repeat": "repeat shortening: kensa never shortens repeats (a repeated character may be data)",
}

# The divergences kensa intends: (peer_function, kensa_function, input) → reason.
# tests/agreement.rs fails if kensa's output equals the peer's on any of these, or differs
# on any case not listed here.
NOTE_VOICED_COMBINING = (
    "no precomposed kana for ア/イ/エ/オ + ﾞ: kensa writes the combining U+3099 after a kana letter "
    "(as NFKC does for ｱﾞ), mojimoji the spacing ゛ U+309B"
)
NOTE_WAVE_TO_LONG = (
    "jaconv.normalize rewrites every 〜/～ to ー before NFKC (also in 1〜2); NFKC and the width fold keep 〜; "
    "kensa makes a wave ー only in kana_key, right after a katakana letter"
)
NOTE_ITERATION = "K2 expands the iteration marks ヽ/ヾ from the previous kana (ヴヽヾ → ヴウヴ); jaconv keeps them"
SPACE_JA = (
    "neologdn removes a space between Japanese characters; kensa keeps one space because the family/given "
    "name boundary matters (name::key_nospace removes every space when a rule wants that)"
)
SPACE_JA_LATIN = "neologdn removes a space between Japanese and Latin; kensa keeps one space"
TILDE_K1 = "neologdn deletes tildes and wave dashes (~ ∼ ∾ 〜 〰 ～) by default; K1 keeps them (～ → ~ by width)"
TILDE_K2 = (
    "neologdn deletes tildes and wave dashes (~ ∼ ∾ 〜 〰 ～) by default; kana_key makes a wave ー right after "
    "a katakana letter or ー (a long vowel written with a wave) and keeps it elsewhere"
)
HYPHEN = (
    "neologdn folds hyphen/minus look-alikes (˗ ֊ ‐ ‑ ‒ – ⁃ ⁻ ₋ −) to '-' and squeezes the run; kensa keeps "
    "dashes apart from NFKC's own mappings (‑ → ‐, ⁻ ₋ → −); width::fold_dashes is the explicit, opt-in fold"
)
LONG_RUN = "neologdn squeezes a run of ー to one; kensa keeps the run (ウェーーーイ may be data)"
LONG_K1 = (
    "neologdn maps long-vowel look-alikes (﹣ － ｰ — ― ─ ━) after any character to ー and squeezes the run; "
    "K1 folds width only (﹣ － → -, ｰ → ー) and keeps the run"
)
LONG_K2 = (
    "neologdn maps long-vowel look-alikes (﹣ － ｰ — ― ─ ━) after any character to ー; kana_key only after a "
    "katakana letter or ー, so not after Latin"
)


def _both(*notes):
    return "; ".join(notes)


_N = "neologdn.normalize"
_K1, _K2 = "name::key_nfkc", "kana::kana_key"
_PRML = "\u3000\u3000\u3000ＰＲＭＬ\u3000\u3000副\u3000読\u3000本\u3000\u3000\u3000"
_ALPS = "南アルプスの\u3000天然水\u3000Ｓｐａｒｋｉｎｇ\u3000Ｌｅｍｏｎ\u3000レモン一絞り"
_ALPS2 = "南アルプスの\u3000天然水-\u3000Ｓｐａｒｋｉｎｇ*\u3000Ｌｅｍｏｎ+\u3000レモン一絞り"
_JACONV_NORMALIZE_ALL = (
    "ｧｱｨｲｩｳｪｴｫｵｶｶﾞｷｷﾞｸｸﾞｹｹﾞｺｺﾞｻｻﾞｼｼﾞｽｽﾞｾｾﾞｿｿﾞﾀﾀﾞﾁﾁﾞｯﾂﾂﾞﾃﾃﾞﾄﾄﾞﾅﾆﾇﾈﾉﾊﾊﾞﾊﾟﾋﾋﾞﾋﾟﾌﾌﾞﾌﾟﾍﾍﾞﾍﾟﾎﾎﾞﾎﾟﾏ"
    "ﾐﾑﾒﾓｬﾔｭﾕｮﾖﾗﾘﾙﾚﾛﾜｦﾝｰヮヰヱヵヶｳﾞヽヾ･｢｣｡､０１２３４５６７８９"
)

DIVERGENCES = {
    ("mojimoji.han_to_zen", "width::fold_width", "ｱﾞｲﾞｳﾞｴﾞｵﾞ"): NOTE_VOICED_COMBINING,
    ("jaconv.normalize('NFKC')", "width::nfkc", "ﾃｨﾛ･フィナ〜レ"): NOTE_WAVE_TO_LONG,
    ("jaconv.normalize('NFKC')", "width::fold_width", "ﾃｨﾛ･フィナ〜レ"): NOTE_WAVE_TO_LONG,
    ("jaconv.normalize('NFKC')", "kana::kana_key", _JACONV_NORMALIZE_ALL): NOTE_ITERATION,
    (_N, _K1, "1467〜1487年"): TILDE_K1,
    (_N, _K2, "1467〜1487年"): TILDE_K2,
    (_N + "(tilde='remove')", _K1, "1467〜1487年"): TILDE_K1,
    (_N + "(tilde='remove')", _K2, "1467〜1487年"): TILDE_K2,
    (_N, _K1, "o₋o"): HYPHEN,
    (_N, _K2, "o₋o"): HYPHEN,
    (_N, _K1, "majika━"): LONG_K1,
    (_N, _K2, "majika━"): LONG_K2,
    (_N, _K1, "わ〰い"): TILDE_K1,
    (_N, _K1, "スーパーーーー"): LONG_RUN,
    (_N, _K2, "スーパーーーー"): LONG_RUN,
    (_N, _K1, "ゼンカク\u3000スペース"): SPACE_JA,
    (_N, _K2, "ゼンカク\u3000スペース"): SPACE_JA,
    (_N, _K1, "お             お"): SPACE_JA,
    (_N, _K1, "検索 エンジン 自作 入門 を 買い ました!!!"): SPACE_JA,
    (_N, _K1, "アルゴリズム C"): SPACE_JA_LATIN,
    (_N, _K2, "アルゴリズム C"): SPACE_JA_LATIN,
    (_N, _K1, _PRML): _both(SPACE_JA, SPACE_JA_LATIN),
    (_N, _K2, _PRML): _both(SPACE_JA, SPACE_JA_LATIN),
    (_N, _K1, _ALPS): _both(SPACE_JA, SPACE_JA_LATIN),
    (_N, _K1, _ALPS2): _both(SPACE_JA, SPACE_JA_LATIN, "also between '*'/'+' and the next word"),
    (_N, _K1, "a˗֊‐‑‒–⁃⁻₋−"): HYPHEN,
    (_N, _K2, "a˗֊‐‑‒–⁃⁻₋−"): HYPHEN,
    (_N, _K1, "あ﹣－ｰ—―─━ー"): LONG_K1,
    (_N, _K1, "チルダ~∼∾〜〰～"): TILDE_K1,
    (_N, _K2, "チルダ~∼∾〜〰～"): TILDE_K2,
    (_N, _K1, "A ˗あ"): HYPHEN,
    (_N, _K1, "A ～あ"): _both(TILDE_K1, "and the space left before あ then goes (" + SPACE_JA_LATIN + ")"),
}


def escape(s):
    """TSV field escaping: backslash, tab, LF, CR; controls, format characters, combining
    marks and spaces other than U+0020 as \\u{XXXX} so they stay visible."""
    out = []
    for c in s:
        if c == "\\":
            out.append("\\\\")
        elif c == "\t":
            out.append("\\t")
        elif c == "\n":
            out.append("\\n")
        elif c == "\r":
            out.append("\\r")
        elif c != " " and unicodedata.category(c) in ("Cc", "Cf", "Mn", "Zs", "Zl", "Zp", "Co", "Cs", "Cn"):
            out.append("\\u{%X}" % ord(c))
        else:
            out.append(c)
    return "".join(out)


class Recorder:
    """A stand-in for a library module: forwards calls to the real one and records them."""

    def __init__(self, name, calls):
        self._name = name
        self._mod = importlib.import_module(name)
        self._calls = calls

    def __getattr__(self, attr):
        real = getattr(self._mod, attr)
        if not callable(real):
            return real

        @functools.wraps(real)
        def wrapper(*args, **kwargs):
            result = real(*args, **kwargs)
            self._calls.append((f"{self._name}.{attr}", args, kwargs, result))
            return result

        return wrapper


def check_versions():
    for name, version in PINS.items():
        try:
            got = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            sys.exit(f"{name} is not installed: pip install {name}=={version} (in a venv, see --help)")
        if got != version:
            sys.exit(f"{name} {got} is installed, the cases are pinned to {version}")


def read_test_file(sdist_dir, name, member):
    version = PINS[name]
    path = Path(sdist_dir) / f"{name}-{version}.tar.gz"
    if not path.exists():
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
             f"{name}=={version}", "-d", str(sdist_dir)],
            check=True,
        )
    with tarfile.open(path) as tar:
        f = tar.extractfile(f"{name}-{version}/{member}")
        return f.read().decode("utf-8")


def run_jaconv_tests(source):
    calls = []
    sys.modules["jaconv"] = Recorder("jaconv", calls)
    try:
        ns = {"__name__": "test_jaconv"}
        exec(compile(source, "test_jaconv.py", "exec"), ns)
        # pytest collects test_* functions (text_kata2alphabet, a typo upstream, is not run).
        for name, fn in ns.items():
            if name.startswith("test_") and callable(fn):
                fn()
    finally:
        del sys.modules["jaconv"]
    return calls


def run_neologdn_tests(source):
    calls = []
    sys.modules["neologdn"] = Recorder("neologdn", calls)
    try:
        ns = {"__name__": "test_neologdn"}
        exec(compile(source, "test_neologdn.py", "exec"), ns)
        suite = unittest.defaultTestLoader.loadTestsFromTestCase(ns["TestNeologdn"])
        result = unittest.TextTestRunner(stream=sys.stderr, verbosity=0).run(suite)
        if not result.wasSuccessful():
            sys.exit("neologdn does not pass its own tests")
    finally:
        del sys.modules["neologdn"]
    return calls


def run_mojimoji_cases():
    import mojimoji

    calls = []
    for fn, expected, text in MOJIMOJI_CASES:
        got = getattr(mojimoji, fn)(text)
        if got != expected:
            sys.exit(f"mojimoji.{fn}({text!r}) = {got!r}, its test expects {expected!r}")
        calls.append((f"mojimoji.{fn}", (text,), {}, got))
    return calls


# The library calls that express kensa's width profile (full-width kana, half-width ASCII and
# digits). A published width case is compared only when this call reproduces its output, i.e.
# the test's flags make no difference on that input.
def jaconv_profile(text):
    import jaconv

    return jaconv.z2h(jaconv.h2z(text, kana=True, ascii=False, digit=False), kana=False, ascii=True, digit=True)


def mojimoji_profile(text):
    import mojimoji

    return mojimoji.zen_to_han(mojimoji.han_to_zen(text, ascii=False, digit=False, kana=True), kana=False)


def has_hiragana(s):
    return any("\u3041" <= c <= "\u309f" for c in s)


def skip_reason(fn, args, kwargs, result):
    """None when the call is comparable with kensa, else the skip category."""
    if fn in SKIPPED_FUNCTIONS:
        return SKIPPED_FUNCTIONS[fn]
    if fn not in KENSA_FOR:
        return f"{fn}: no kensa counterpart"
    if kwargs.get("ignore") or (fn.startswith("jaconv.") and len(args) > 1 and fn != "jaconv.normalize"):
        return "jaconv `ignore=` (exempt characters): kensa has no per-call exemption list"
    text = args[0]
    if fn in ("jaconv.h2z", "jaconv.z2h"):
        if jaconv_profile(text) != result:
            return ("width in the other direction (h2z ascii/digit → full-width, z2h kana → half-width), or a flag "
                    "that leaves a width form kensa folds: kensa's profile is h2z(kana) + z2h(ascii, digit)")
    if fn in ("mojimoji.han_to_zen", "mojimoji.zen_to_han"):
        if mojimoji_profile(text) != result:
            return ("width in the other direction (han_to_zen ascii/digit → full-width, zen_to_han kana → half-width): "
                    "kensa's profile is han_to_zen(kana) + zen_to_han(ascii, digit)")
    if fn == "jaconv.normalize":
        mode = kwargs.get("mode", args[1] if len(args) > 1 else "NFKC")
        if mode != "NFKC":
            return "jaconv.normalize with a mode other than NFKC"
    if fn == "neologdn.normalize":
        if kwargs.get("tilde") in ("normalize", "normalize_zenkaku"):
            return "neologdn tilde='normalize'/'normalize_zenkaku' (~ ↔ 〜): kensa has no tilde fold (fold_dashes maps waves to '-')"
        if kwargs.get("repeat"):
            return "neologdn repeat=N: kensa never shortens repeats"
    return None


def render_call(fn, args, kwargs):
    """The peer function column: the name plus any non-default arguments of the case."""
    extra = [repr(a) for a in args[1:]] + [f"{k}={v!r}" for k, v in kwargs.items()]
    return f"{fn}({', '.join(extra)})" if extra else fn


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sdist-dir", help="directory holding (or receiving) the jaconv and neologdn sdists")
    opts = ap.parse_args()
    check_versions()

    with tempfile.TemporaryDirectory() as tmp:
        sdist_dir = Path(opts.sdist_dir or tmp)
        sdist_dir.mkdir(parents=True, exist_ok=True)
        calls = {
            "jaconv": run_jaconv_tests(read_test_file(sdist_dir, "jaconv", "test_jaconv.py")),
            "mojimoji": run_mojimoji_cases(),
            "neologdn": run_neologdn_tests(read_test_file(sdist_dir, "neologdn", "test_neologdn.py")),
        }

    rows, seen, skipped, used_divergences = [], set(), {}, set()
    for peer, peer_calls in calls.items():
        for fn, args, kwargs, result in peer_calls:
            reason = skip_reason(fn, args, kwargs, result)
            if reason is not None:
                skipped.setdefault((peer, reason), set()).add((fn, args, tuple(sorted(kwargs.items()))))
                continue
            text = args[0]
            peer_fn = render_call(fn, args, kwargs)
            for kensa_fn in KENSA_FOR[fn]:
                if kensa_fn == "kana::kana_key" and has_hiragana(text):
                    continue
                key = (peer_fn, kensa_fn, text)
                if key in seen:
                    continue
                seen.add(key)
                note = DIVERGENCES.get(key, "")
                if note:
                    used_divergences.add(key)
                rows.append((peer, peer_fn, kensa_fn, text, result, "diverges" if note else "same", note))

    unused = set(DIVERGENCES) - used_divergences
    if unused:
        sys.exit(f"DIVERGENCES entries that match no case: {sorted(unused)}")

    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("w", encoding="utf-8", newline="\n") as out:
        out.write(
            "# Generated by scripts/gen_agreement.py; do not edit. Peers: "
            + ", ".join(f"{k} {v}" for k, v in PINS.items())
            + ".\n# Fields are escaped: \\\\ \\t \\n \\r and \\u{HEX} (controls, combining marks, spaces other than U+0020).\n"
        )
        out.write("peer\tpeer_function\tkensa_function\tinput\tpeer_output\tverdict\tnote\n")
        for row in rows:
            out.write("\t".join(escape(f) for f in row) + "\n")

    # Summary for docs/NORMALIZATION.md.
    counts = {}
    for peer, peer_fn, kensa_fn, _, _, verdict, _ in rows:
        base = peer_fn.split("(")[0]
        c = counts.setdefault((peer, base, kensa_fn), [0, 0])
        c[0] += 1
        c[1] += verdict == "same"
    print(f"wrote {OUT.relative_to(ROOT)}: {len(rows)} rows")
    print("| peer | peer function | kensa function | compared | same | diverges |")
    print("|---|---|---|---|---|---|")
    for (peer, base, kensa_fn), (n, same) in counts.items():
        print(f"| {peer} {PINS[peer]} | `{base}` | `{kensa_fn}` | {n} | {same} | {n - same} |")
    print("\nskipped (distinct calls):")
    for (peer, reason), cases in skipped.items():
        print(f"  {peer}: {len(cases)}: {reason}")


if __name__ == "__main__":
    main()
