"""The demo's content in Traditional and Simplified Chinese (demo.py): the summit, its
sessions, the seminars and the registration questions, in the words of the Hong Kong
Government's own releases (Hong Kong Talent Engage 香港人才服務辦公室, the Office for
Attracting Strategic Enterprises 引進重點企業辦公室, the Top Talent Pass Scheme
高端人才通行證計劃), written out for each script rather than converted."""

from __future__ import annotations

from typing import Any

SUMMIT: dict[str, Any] = {
    "zh-Hant": {
        "title": "環球人才高峰會 2027",
        "description": (
            "香港的旗艦人才高峰會：主題演講、粵港澳大灣區的事業發展機遇，以及香港正在壯大的產業。"
        ),
        "venue": {"name": "香港會議展覽中心 3號展覽廳", "address": "灣仔博覽道1號"},
    },
    "zh-Hans": {
        "title": "环球人才高峰会 2027",
        "description": (
            "香港的旗舰人才高峰会：主题演讲、粤港澳大湾区的职业发展机遇，以及香港正在壮大的产业。"
        ),
        "venue": {"name": "香港会议展览中心 3号展览厅", "address": "湾仔博览道1号"},
    },
}

#: per summit session, in demo.SUMMIT_SESSIONS' order: (Traditional, Simplified) of (title, room)
SESSIONS: list[tuple[tuple[str, str], tuple[str, str]]] = [
    (
        ("開幕主題演講：香港作為國際人才高地", "3號展覽廳"),
        ("开幕主题演讲：香港作为国际人才高地", "3号展览厅"),
    ),
    (
        ("大灣區事業發展：高質量人才發展", "S421 會議室"),
        ("大湾区职业发展：高质量人才发展", "S421 会议室"),
    ),
    (
        ("生命健康科技：從實驗室到市場", "S423 會議室"),
        ("生命健康科技：从实验室到市场", "S423 会议室"),
    ),
    (
        ("香港的人工智能與數據科學人才", "S421 會議室"),
        ("香港的人工智能与数据科学人才", "S421 会议室"),
    ),
    (
        ("金融科技：為未來十年建立團隊", "S423 會議室"),
        ("金融科技：为未来十年组建团队", "S423 会议室"),
    ),
    (
        ("安頓生活：子女教育、住屋及高端人才通行證計劃", "S425 會議室"),
        ("安顿生活：子女教育、住房及高端人才通行证计划", "S425 会议室"),
    ),
]

#: per seminar, in demo.SEMINARS' order: (Traditional, Simplified) of (title, theme)
SEMINARS: list[tuple[tuple[str, str], tuple[str, str]]] = [
    (("生命健康科技專題研討會", "生命健康科技"), ("生命健康科技专题研讨会", "生命健康科技")),
    (
        ("人工智能與數據科學專題研討會", "人工智能與數據科學"),
        ("人工智能与数据科学专题研讨会", "人工智能与数据科学"),
    ),
    (("金融科技專題研討會", "金融科技"), ("金融科技专题研讨会", "金融科技")),
    (
        ("先進製造與新能源科技專題研討會", "先進製造與新能源科技"),
        ("先进制造与新能源科技专题研讨会", "先进制造与新能源科技"),
    ),
]
SEMINAR_DESCRIPTION = {
    "zh-Hant": "由香港人才服務辦公室與引進重點企業辦公室合辦的專題研討會：{theme}。",
    "zh-Hans": "由香港人才服务办公室与引进重点企业办公室合办的专题研讨会：{theme}。",
}
SEMINAR_VENUE = {
    "zh-Hant": {"name": "香港人才服務辦公室（中環）", "address": "添馬政府總部"},
    "zh-Hans": {"name": "香港人才服务办公室（中环）", "address": "添马政府总部"},
}

#: per question id: its translations
QUESTIONS: dict[str, dict[str, Any]] = {
    "organisation": {"zh-Hant": {"label": "所屬機構"}, "zh-Hans": {"label": "所属机构"}},
    "sector": {
        "zh-Hant": {
            "label": "行業",
            "options": [
                "生命健康科技",
                "人工智能與數據科學",
                "金融科技",
                "先進製造與新能源",
                "其他",
            ],
        },
        "zh-Hans": {
            "label": "行业",
            "options": [
                "生命健康科技",
                "人工智能与数据科学",
                "金融科技",
                "先进制造与新能源",
                "其他",
            ],
        },
    },
    "newcomer": {
        "zh-Hant": {"label": "我透過人才入境計劃來港"},
        "zh-Hans": {"label": "我通过人才引进计划来港"},
    },
}


def session_translations(index: int) -> dict[str, Any]:
    (hant_title, hant_room), (hans_title, hans_room) = SESSIONS[index]
    return {
        "zh-Hant": {"title": hant_title, "room": hant_room},
        "zh-Hans": {"title": hans_title, "room": hans_room},
    }


def seminar_translations(index: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for lang, (title, theme) in zip(("zh-Hant", "zh-Hans"), SEMINARS[index], strict=True):
        out[lang] = {
            "title": title,
            "description": SEMINAR_DESCRIPTION[lang].format(theme=theme),
            "venue": SEMINAR_VENUE[lang],
        }
    return out
