"""Charts drawn on the server as SVG (no script, no CDN): stacked bars over time, horizontal
bars of fill, and one ratio bar. Each is a picture (`role="img"` with a title); the page
puts a table with the same numbers beside it for screen readers and for reading exact values.
Colours are SVG presentation attributes, which the pages' Content-Security-Policy allows.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from markupsafe import Markup

PALETTE = ("#0b4f8a", "#17663a", "#8a5300", "#6b3fa0", "#a4161a", "#2f6f73", "#555555")
STATUS_COLOURS = {"confirmed": "#17663a", "waitlisted": "#8a5300", "cancelled": "#a4161a"}
WIDTH, HEIGHT = 640, 240
LEFT, BOTTOM, TOP = 44, 28, 10


@dataclass(frozen=True, slots=True)
class Series:
    name: str  # as shown (translated)
    colour: str
    values: list[int]


def colour(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def _nice_max(value: int) -> int:
    if value <= 5:
        return max(value, 1)
    step: int = 10 ** (len(str(value)) - 1)
    return ((value + step - 1) // step) * step


def _svg(title: str, body: list[str], height: int = HEIGHT) -> Markup:
    label = escape(title)
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" role="img"'
        f' aria-label="{label}" focusable="false"><title>{label}</title>' + "".join(body) + "</svg>"
    )


def stacked_bars(title: str, labels: list[str], series: list[Series]) -> Markup:
    """One bar per label, stacked by series; a y axis with its maximum, sparse x labels."""
    plot_w, plot_h = WIDTH - LEFT - 8, HEIGHT - BOTTOM - TOP
    totals = [sum(s.values[i] for s in series) for i in range(len(labels))]
    top = _nice_max(max(totals, default=0))
    body = [
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}" stroke="#767676"/>',
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{LEFT + plot_w}" y2="{TOP + plot_h}"'
        ' stroke="#767676"/>',
        f'<text x="{LEFT - 6}" y="{TOP + 10}" text-anchor="end" font-size="12"'
        f' fill="#1a1a1a">{top}</text>',
        f'<text x="{LEFT - 6}" y="{TOP + plot_h}" text-anchor="end" font-size="12"'
        ' fill="#1a1a1a">0</text>',
    ]
    if not labels:
        return _svg(title, body)
    slot = plot_w / len(labels)
    bar = max(slot * 0.8, 1.0)
    every = max(1, round(len(labels) / 6))
    for i, label in enumerate(labels):
        x = LEFT + i * slot + (slot - bar) / 2
        y = float(TOP + plot_h)
        for s in series:
            h = plot_h * s.values[i] / top
            if h > 0:
                y -= h
                body.append(
                    f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}"'
                    f' fill="{s.colour}"/>'
                )
        if i % every == 0:
            body.append(
                f'<text x="{LEFT + i * slot + slot / 2:.1f}" y="{HEIGHT - 8}" text-anchor="middle"'
                f' font-size="12" fill="#1a1a1a">{escape(label)}</text>'
            )
    return _svg(title, body)


def fill_bars(title: str, rows: list[tuple[str, int, int | None]]) -> Markup:
    """Horizontal bars: (name, taken, capacity or None); full width is the capacity (or the
    largest count when no capacity is set)."""
    row_h, label_w = 34, 200
    height = max(len(rows), 1) * row_h + 8
    widest = max([c or t for _, t, c in rows] + [1])
    body = []
    for i, (name, taken, capacity) in enumerate(rows):
        y = 4 + i * row_h
        full = capacity if capacity else widest
        span = WIDTH - label_w - 70
        w = span * min(taken, full) / full if full else 0
        short = name if len(name) <= 28 else name[:27] + "…"
        body.append(
            f'<text x="{label_w - 8}" y="{y + 20}" text-anchor="end" font-size="13"'
            f' fill="#1a1a1a">{escape(short)}</text>'
            f'<rect x="{label_w}" y="{y + 6}" width="{span}" height="18" fill="#f3f5f8"'
            ' stroke="#c8c8c8"/>'
            f'<rect x="{label_w}" y="{y + 6}" width="{w:.1f}" height="18" fill="{colour(0)}"/>'
            f'<text x="{label_w + span + 6}" y="{y + 20}" font-size="13" fill="#1a1a1a">'
            f"{taken}{'' if capacity is None else f'/{capacity}'}</text>"
        )
    return _svg(title, body, height)


def ratio_bar(title: str, part: int, whole: int) -> Markup:
    """One bar: `part` of `whole`, with the percentage written on it."""
    share = part / whole if whole else 0.0
    span = WIDTH - 20
    body = [
        f'<rect x="10" y="10" width="{span}" height="36" fill="#f3f5f8" stroke="#c8c8c8"/>',
        f'<rect x="10" y="10" width="{span * share:.1f}" height="36" fill="{colour(1)}"/>',
        f'<text x="{WIDTH / 2}" y="34" text-anchor="middle" font-size="16" font-weight="700"'
        f' fill="#1a1a1a" stroke="#fff" stroke-width="3" paint-order="stroke">'
        f"{round(share * 100)}% ({part}/{whole})</text>",
    ]
    return _svg(title, body, 56)
