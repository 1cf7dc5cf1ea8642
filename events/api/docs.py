"""`/api/docs`: the OpenAPI document as one readable page, rendered on the server.

No script from elsewhere: the page works on a closed network and prints well.
"""

from __future__ import annotations

import json
from html import escape
from typing import Any


def page(spec: dict[str, Any]) -> str:
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>{escape(spec['info']['title'])} {escape(spec['info']['version'])}</title>",
        "<style>body{font:16px/1.5 system-ui,sans-serif;max-width:60rem;margin:auto;padding:1rem;"
        "color:#1a1a1a}h2{border-bottom:1px solid #ccc}code,pre{background:#f4f4f4;padding:.1rem .3rem}"
        "pre{overflow:auto;padding:.5rem;font-size:13px}.m{font-weight:700;color:#0b5394}"
        "details{margin:.3rem 0 1rem}</style></head><body>",
        f"<h1>{escape(spec['info']['title'])} <small>v{escape(spec['info']['version'])}</small></h1>",
        f"<p>{escape(spec['info']['description'])} Machine-readable: "
        "<a href='/api/v1/openapi.json'>openapi.json</a>. Errors are "
        "<code>application/problem+json</code> (RFC 9457).</p>",
    ]
    by_tag: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
    for path, methods in spec["paths"].items():
        for method, op in methods.items():
            by_tag.setdefault(op["tags"][0], []).append((method, path, op))
    for tag, ops in by_tag.items():
        parts.append(f"<h2>{escape(tag)}</h2>")
        for method, path, op in ops:
            parts.append(
                f"<h3><span class='m'>{method.upper()}</span> <code>{escape(path)}</code></h3>"
                f"<p>{escape(op['summary'])} {escape(op.get('description', ''))}</p>"
            )
            body = op.get("requestBody", {}).get("content", {}).get("application/json")
            if body:
                parts.append(_schema_block("Request body", body["schema"], spec))
            codes = ", ".join(f"{c} {escape(r['description'])}" for c, r in op["responses"].items())
            parts.append(f"<p>Responses: {codes}</p>")
    parts.append("</body></html>")
    return "".join(parts)


def _schema_block(label: str, schema: dict[str, Any], spec: dict[str, Any]) -> str:
    ref = schema.get("$ref", "")
    name = ref.rsplit("/", 1)[-1]
    resolved = spec["components"]["schemas"].get(name, schema)
    text = escape(json.dumps(resolved, indent=2, ensure_ascii=False))
    return f"<details><summary>{label}: {escape(name)}</summary><pre>{text}</pre></details>"
