"""The resolver (events/translations.py) and the name folding (events/names.py), as pure
functions: examples from Hong Kong, then properties with hypothesis."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from events import names
from events import translations as tr

LANGS = st.sampled_from(tr.LANGS)
TEXT = st.text(min_size=1, max_size=30).filter(lambda t: t.strip())
TRANSLATION = st.dictionaries(
    LANGS, st.fixed_dictionaries({}, optional={"title": TEXT, "room": TEXT}), max_size=3
)


def test_fallback_order_examples() -> None:
    only_hant = {"zh-Hant": {"title": "環球人才高峰會"}}
    assert tr.resolve("Global Talent Summit", only_hant, "title", "zh-Hant") == "環球人才高峰會"
    shown = tr.resolve("Global Talent Summit", only_hant, "title", "zh-Hans")
    assert shown == "環球人才高峰會" and shown.lang == "zh-Hant"  # the sibling script
    shown = tr.resolve("Global Talent Summit", only_hant, "title", "en")
    assert shown == "Global Talent Summit" and shown.lang == "en"  # no sibling for English
    both = {"zh-Hant": {"title": "金融科技"}, "zh-Hans": {"title": "金融科技 (简)"}}
    assert tr.resolve("Fintech", both, "title", "zh-Hans") == "金融科技 (简)"
    assert tr.resolve("Fintech", {"en": {"title": "FinTech"}}, "title", "zh-Hant") == "Fintech"


def test_the_untranslated_field_language_is_guessed_from_its_script() -> None:
    assert tr.resolve("Hall 3", None, "room", "zh-Hant").lang == "en"
    assert tr.resolve("會議室", None, "room", "en").lang == "zh-Hant"
    assert tr.resolve("会议室", None, "room", "en").lang == "zh-Hans"
    assert tr.resolve("香港", None, "room", "zh-Hans").lang == "zh-Hans"  # same in both
    assert tr.resolve("香港", None, "room", "en").lang == "zh"
    assert tr.resolve("421", None, "room", "zh-Hant").lang == "zh-Hant"  # no script at all
    assert not tr.differs(tr.Shown("香港", "zh"), "zh-Hant")
    assert tr.differs(tr.Shown("香港", "zh"), "en")


def test_views_of_rows() -> None:
    row: dict[str, Any] = {
        "title": "Summit",
        "description": "",
        "venue_name": "HKCEC",
        "venue_address": "1 Expo Drive",
        "translations": {"zh-Hans": {"venue": {"name": "会展中心"}}},
        "sessions": [{"title": "Fintech", "room": None, "translations": {}}],
    }
    shown = tr.localize_row(row, "zh-Hant")
    assert shown["venue_name"] == "会展中心" and shown["venue_address"] == ""
    assert shown["title"] == "Summit" and shown["sessions"][0]["room"] is None
    question = {"label": "Sector", "options": ["A", "B"], "translations": {}}
    assert tr.question_fields(question, "zh-Hant")["options"] == ["A", "B"]
    question["translations"] = {"zh-Hant": {"options": ["甲", "乙"]}}
    assert tr.question_fields(question, "zh-Hans")["options"] == ["甲", "乙"]


@given(untranslated=TEXT, translations=TRANSLATION, lang=LANGS)
def test_resolver_follows_the_fallback_order(
    untranslated: str, translations: dict[str, dict[str, str]], lang: str
) -> None:
    shown = tr.resolve(untranslated, translations, "title", lang)
    own = translations.get(lang, {}).get("title")
    sibling = translations.get(tr.SIBLING.get(lang, ""), {}).get("title")
    if own:
        assert shown == own and shown.lang == lang
    elif sibling:
        assert shown == sibling and shown.lang == tr.SIBLING[lang]
    else:
        assert shown == untranslated
    assert shown.lang in ("en", "zh-Hant", "zh-Hans", "zh")
    # English never borrows a Chinese translation, and no reader is shown the third language
    if lang == "en":
        assert shown in (own, untranslated)
    else:
        assert shown.lang != "en" or shown == untranslated


HAN = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)


@given(st.text(alphabet=st.one_of(HAN, st.characters(codec="utf-8")), max_size=20))
def test_fold_is_idempotent(text: str) -> None:
    assert names.fold(names.fold(text)) == names.fold(text)


@given(st.text(alphabet=HAN, min_size=1, max_size=6))
def test_traditional_and_simplified_fold_alike(text: str) -> None:
    simplified = names.fold(text)
    traditional = "".join(names._traditional_table().get(c, c) for c in simplified)
    assert names.fold(traditional) == simplified


@given(st.from_regex(r"[A-Za-z]{1,8}( [A-Za-z]{1,8}){0,3}", fullmatch=True))
def test_full_width_and_case_fold_alike(latin: str) -> None:
    full_width = "".join(chr(ord(c) + 0xFEE0) if c != " " else "\u3000" for c in latin)
    assert names.fold(full_width) == names.fold(latin) == latin.lower()
    assert names.fold(latin.replace(" ", "-")) == latin.lower()


@given(st.text(alphabet=HAN, min_size=2, max_size=4))
def test_a_search_key_holds_every_way_of_writing_the_name(chinese: str) -> None:
    key = names.search_key("Someone", chinese)
    assert names.fold(chinese) in key
    traditional = "".join(names._traditional_table().get(c, c) for c in chinese)
    assert names.fold(traditional) in key
    for romanised in names.romanisations(chinese)[:3]:
        assert romanised in key


def test_hong_kong_names() -> None:
    key = names.search_key("Chan Tai Man", "陳大文")
    for query in (
        "陳大文",
        "陈大文",
        "chan tai man",
        "ＣＨＡＮ　ＴＡＩ　ＭＡＮ",
        "Chan Tai-man",
        "大文",
    ):
        assert names.fold(query) in key, query
    assert "chan tai man" in names.search_key("陳大文", None)  # only Chinese given
    assert names.clean_chinese_name("  陳 大文 ") == "陳 大文"
    assert names.clean_chinese_name("艾莉森·陳") == "艾莉森·陳"
    for bad in ("Chan", "陳1", "", "陳" * 51, "<b>陳</b>"):
        assert names.clean_chinese_name(bad) is None, bad


def test_every_character_opencc_converts_folds_consistently() -> None:
    """Over the whole table, not a sample: folding is idempotent, and the Traditional form
    OpenCC gives for any Simplified character folds back to that character's fold."""
    table = names._fold_table()
    assert all(names.fold(names.fold(chr(c))) == names.fold(chr(c)) for c in table)
    candidates = names._opencc_candidates("STCharacters.txt")
    assert all(names.fold(ts[0]) == names.fold(s) for s, ts in candidates.items())
