"""Names as Hong Kong writes them: 陳大文 beside Chan Tai Man, and the door's search.

`fold` brings any way of writing a name to one form: full-width letters and spaces to
half-width (NFKC), lower case, hyphens and middle dots to spaces, Hong Kong and Taiwan
variant characters to the standard ones and Traditional to Simplified characters. The
conversion tables are OpenCC's (the `opencc-python-reimplemented` package ships them); the
Cantonese readings are the Hong Kong Government romanisation of `cantonese-romanisation`.

`search_key` is what is stored with a registration: the folded Latin name, the folded
Chinese name and the romanisations of the Chinese name (陳大文 → "chan tai man", "chun daai
man", …). A search folds its text the same way and is a substring of the key, so 陈大文,
陳大文, ＣＨＡＮ　ＴＡＩ　ＭＡＮ and "chan tai-man" all find the same person with one plain
SQL match on one column.
"""

from __future__ import annotations

import itertools
import json
import pkgutil
import re
import unicodedata
from functools import cache
from importlib.resources import files

#: how many romanisations of one Chinese name the key keeps (each character has 1–3 readings)
MAX_READINGS = 24
#: one Han character (the CJK blocks names are written in)
HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")
_SEPARATORS = re.compile(r"[\s\-‐‑‒–—·・･‧.,'’]+")
#: what a Chinese name may hold besides Han characters: spaces and a middle dot (for names
#: transliterated from other languages, e.g. 艾莉森·陳)
CHINESE_NAME = re.compile(
    r"^(?:[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]|[ ·・])+$"
)


def _opencc_table(name: str) -> dict[str, str]:
    """One OpenCC character table: each character → its first conversion."""
    text = files("opencc").joinpath("dictionary", name).read_text(encoding="utf-8")
    table: dict[str, str] = {}
    for line in text.splitlines():
        source, _, targets = line.partition("\t")
        if len(source) == 1 and targets:
            table[source] = targets.split(" ")[0]
    return table


@cache
def _fold_table() -> dict[int, str]:
    """Variant → standard → Simplified, closed (folding a folded character changes nothing).

    Traditional → Simplified is OpenCC's TSCharacters, completed by STCharacters read
    backwards for the Traditional forms TSCharacters lacks (縆 → 緪 there, but no 緪 → 縆
    here), so every Traditional form OpenCC gives for a character folds back to it."""
    variants = {**_opencc_table("TWVariantsRev.txt"), **_opencc_table("HKVariantsRev.txt")}
    simplified = _opencc_table("TSCharacters.txt")
    for s, targets in _opencc_candidates("STCharacters.txt").items():
        for t in targets:
            if t != s and t not in simplified and t not in variants:
                simplified[t] = s
    chars = set(variants) | set(simplified)

    def one(c: str) -> str:
        seen = {c}
        while True:
            nxt = simplified.get(variants.get(c, c), variants.get(c, c))
            if nxt in seen:
                return c
            seen.add(nxt)
            c = nxt

    folded = {c: one(c) for c in chars}
    # Simplified variants (缐 beside 线, both 線 in Traditional) fold with their standard form
    for s, targets in _opencc_candidates("STCharacters.txt").items():
        standard = folded.get(targets[0], targets[0])
        if folded.get(s, s) != standard and s not in simplified:
            folded[s] = standard
    for _ in range(3):  # settle chains the variants made
        folded = {c: folded.get(t, t) for c, t in folded.items()}
    return {ord(c): t for c, t in folded.items() if t != c}


def _opencc_candidates(name: str) -> dict[str, list[str]]:
    text = files("opencc").joinpath("dictionary", name).read_text(encoding="utf-8")
    pairs = (line.partition("\t") for line in text.splitlines())
    return {s: t.split(" ") for s, _, t in pairs if len(s) == 1 and t}


@cache
def _traditional_table() -> dict[str, str]:
    return _opencc_table("STCharacters.txt")


@cache
def _readings() -> dict[str, list[str]]:
    data = pkgutil.get_data("cantoroman", "data/charToRoman.json")
    assert data is not None
    loaded: dict[str, list[str]] = json.loads(data.decode("utf-8"))
    return loaded


def fold(text: str) -> str:
    """One form for every way of writing a name (see the module's docstring)."""
    text = unicodedata.normalize("NFKC", text).casefold().translate(_fold_table())
    return " ".join(_SEPARATORS.sub(" ", text).split())


def has_han(text: str) -> bool:
    return HAN.search(text) is not None


def romanisations(chinese: str) -> list[str]:
    """Hong Kong Government romanisations of a Chinese name ('陳大文' → 'chan tai man', …),
    at most MAX_READINGS of them; characters without a known reading are left out."""
    readings = _readings()
    traditional = _traditional_table()
    per_char = []
    for c in unicodedata.normalize("NFKC", chinese):
        if not has_han(c):
            continue
        found = readings.get(c) or readings.get(traditional.get(c, c))
        if found:
            per_char.append(found)
    if not per_char:
        return []
    combos = itertools.islice(itertools.product(*per_char), MAX_READINGS)
    return [" ".join(combo) for combo in combos]


def search_key(name: str, chinese_name: str | None) -> str:
    """What a registration is found by at the door; parts are separated by ' | '."""
    parts = [fold(name)]
    if chinese_name:
        parts.append(fold(chinese_name))
        parts += romanisations(chinese_name)
    if has_han(name):
        parts += romanisations(name)
    return " | ".join(dict.fromkeys(p for p in parts if p))


def clean_chinese_name(value: str) -> str | None:
    """The Chinese name as it will be kept (spaces tidied, full-width forms kept as written),
    or None when it is not one: only Han characters, spaces and a middle dot."""
    text = " ".join(value.split())
    if not text or len(text) > 50 or not CHINESE_NAME.match(text) or not has_han(text):
        return None
    return text


def fold_map_for(keys: list[str]) -> dict[str, str]:
    """For the offline door search: every character that folds to one of the Simplified
    characters in `keys`, mapped to it (so a device folds a Traditional query the same way
    without the whole table)."""
    wanted = {c for key in keys for c in key if has_han(c)}
    return {chr(o): t for o, t in _fold_table().items() if t in wanted}


def script(text: str) -> str:
    """'zh-Hant' when the text has a character OpenCC would simplify, 'zh-Hans' when it has
    one it would make Traditional, else 'zh' (written the same in both)."""
    folds, traditional = _fold_table(), _traditional_table()
    if any(ord(c) in folds for c in text):
        return "zh-Hant"
    if any(traditional.get(c, c) != c for c in text):
        return "zh-Hans"
    return "zh"
