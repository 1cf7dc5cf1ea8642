"""Demo data: the Global Talent Summit with parallel sessions, four themed seminars, and two
partners (Hong Kong Talent Engage and the Office for Attracting Strategic Enterprises) that
co-host. Loaded once: a second run finds HKTE and changes nothing."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import msgspec

from events import catalog, hosting
from events import demo_content as content
from events.catalog import EventIn, Question, SessionIn, Venue
from events.db import Database
from events.hosting import Actor
from events.queries import Connection
from events.queries import hosting as hosting_q
from events.settings import Settings
from events.translations import EventTranslations, QuestionTranslations, SessionTranslations

HKT = ZoneInfo("Asia/Hong_Kong")


def at(day: str, time: str) -> datetime:
    return datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=HKT)


SUMMIT_DAY = "2027-05-20"
SUMMIT_SESSIONS = [
    ("Opening keynote: Hong Kong as an international talent hub", "09:30", "10:30", "Hall 3", None),
    (
        "Greater Bay Area careers: high-quality talent development",
        "11:00",
        "12:30",
        "Room S421",
        400,
    ),
    ("Life and health technology: from lab to market", "11:00", "12:30", "Room S423", 300),
    ("AI and data science talent in Hong Kong", "14:00", "15:30", "Room S421", 400),
    ("Fintech: building teams for the next decade", "14:00", "15:30", "Room S423", 300),
    (
        "Settling in: schooling, housing and the Top Talent Pass Scheme",
        "16:00",
        "17:00",
        "Room S425",
        250,
    ),
]
SEMINARS = [
    ("Life and Health Technology Seminar", "2027-06-10", 180),
    ("AI and Data Science Seminar", "2027-06-24", 200),
    ("Fintech Seminar", "2027-07-08", 150),
    ("Advanced Manufacturing and New Energy Technology Seminar", "2027-07-22", 150),
]
QUESTIONS = [
    Question(
        "organisation",
        "Organisation",
        "text",
        required=False,
        translations=msgspec.convert(content.QUESTIONS["organisation"], QuestionTranslations),
    ),
    Question(
        "sector",
        "Sector",
        "choice",
        required=True,
        options=[
            "Life and health technology",
            "AI and data science",
            "Fintech",
            "Advanced manufacturing and new energy",
            "Other",
        ],
        translations=msgspec.convert(content.QUESTIONS["sector"], QuestionTranslations),
    ),
    Question(
        "newcomer",
        "I arrived in Hong Kong under a talent scheme",
        "checkbox",
        translations=msgspec.convert(content.QUESTIONS["newcomer"], QuestionTranslations),
    ),
]


async def load(db: Database, settings: Settings) -> dict[str, Any]:
    now = datetime.now(UTC)
    async with db.transaction() as conn:
        if await hosting_q.partner_by_slug(conn, "hkte") is not None:
            return {"loaded": False, "detail": "demo data is there already"}
        hkte = await hosting.create_partner(
            conn, "hkte", "Hong Kong Talent Engage", "events@hkte.example.org"
        )
        oases = await hosting.create_partner(
            conn, "oases", "Office for Attracting Strategic Enterprises", "events@oases.example.org"
        )
        hkte_actor = await hosting.authenticate(conn, hkte.token)
        oases_actor = await hosting.authenticate(conn, oases.token)
        summit = await _summit(conn, hkte_actor, now)
        seminars = [await _seminar(conn, hkte_actor, oases_actor, s, now) for s in SEMINARS]
        users = [await _console_user(conn, slug) for slug in ("hkte", "oases")]
    return {
        "loaded": True,
        "partners": [msgspec.to_builtins(hkte), msgspec.to_builtins(oases)],
        "events": [f"{settings.base_url}/events/{e}" for e in [summit, *seminars]],
        "console": {"url": f"{settings.base_url}/console", "users": users},
    }


async def _console_user(conn: Connection, slug: str) -> dict[str, str]:
    """A console user with a random password (printed once, with the rest of the demo)."""
    from events import accounts

    email, password = f"demo@{slug}.example.org", secrets.token_urlsafe(12)
    await accounts.create_user(conn, slug, email, password)
    return {"partner": slug, "email": email, "password": password}


async def _summit(conn: Connection, hkte: Actor, now: datetime) -> str:
    event = await catalog.create_event(
        conn,
        hkte,
        EventIn(
            title="Global Talent Summit 2027",
            description=(
                "Hong Kong's flagship summit on talent: keynotes, Greater Bay Area careers and the "
                "industries Hong Kong is growing."
            ),
            timezone="Asia/Hong_Kong",
            starts_at=at(SUMMIT_DAY, "09:00"),
            ends_at=at(SUMMIT_DAY, "18:00"),
            venue=Venue(
                "Hong Kong Convention and Exhibition Centre, Hall 3", "1 Expo Drive, Wan Chai"
            ),
            capacity=3000,
            waitlist=True,
            registration_opens_at=at("2027-03-01", "10:00"),
            registration_closes_at=at("2027-05-19", "23:59"),
            questions=QUESTIONS,
            translations=msgspec.convert(content.SUMMIT, EventTranslations),
        ),
        now,
    )
    for i, (title, start, end, room, capacity) in enumerate(SUMMIT_SESSIONS):
        translated = msgspec.convert(content.session_translations(i), SessionTranslations)
        await catalog.create_session(
            conn,
            hkte,
            event.id,
            SessionIn(
                title, at(SUMMIT_DAY, start), at(SUMMIT_DAY, end), room, capacity, translated
            ),
            now,
        )
    await catalog.publish_event(conn, hkte, event.id, now)
    return event.slug


async def _seminar(
    conn: Connection, hkte: Actor, oases: Actor, spec: tuple[str, str, int], now: datetime
) -> str:
    title, day, capacity = spec
    translated = content.seminar_translations([s[0] for s in SEMINARS].index(title))
    event = await catalog.create_event(
        conn,
        hkte,
        EventIn(
            title=title,
            description=f"A themed seminar co-organised by HKTE and OASES: {title.removesuffix(' Seminar')}.",
            timezone="Asia/Hong_Kong",
            starts_at=at(day, "14:30"),
            ends_at=at(day, "17:30"),
            venue=Venue("Hong Kong Talent Engage, Central", "Central Government Offices, Tamar"),
            capacity=capacity,
            waitlist=True,
            questions=QUESTIONS[:2],
            translations=msgspec.convert(translated, EventTranslations),
        ),
        now,
    )
    found = await catalog.load(conn, event.id)
    assert found is not None
    invitation = await hosting.invite_cohost(conn, found, hkte, hosting.CohostIn("oases"))
    await hosting.answer_invitation(conn, oases, _uuid(invitation.id), accept=True, now=now)
    await catalog.publish_event(conn, oases, event.id, now)
    return event.slug


def _uuid(value: str) -> Any:
    parsed = catalog.parse_id(value)
    assert parsed is not None
    return parsed
