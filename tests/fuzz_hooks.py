"""schemathesis hooks for tests/test_fuzz_contract.py (SCHEMATHESIS_HOOKS=tests.fuzz_hooks).

Random bodies rarely keep the rules between fields that no JSON Schema carries (each is in
its operation's description): half of the generated events end before they start, so few
are created and the stateful phase has nothing to follow its links from. This puts each
generated pair of times in order (the end an hour after the start) when both are times and
out of order; a pair that is not two times is left as generated, so negative cases stay
negative.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import schemathesis

PAIRS = (("starts_at", "ends_at"), ("registration_opens_at", "registration_closes_at"))


@schemathesis.hook
def map_body(context: Any, body: Any) -> Any:
    if isinstance(body, dict):
        for first, then in PAIRS:
            try:
                start = datetime.fromisoformat(body[first])
                end = datetime.fromisoformat(body[then])
                if end <= start:
                    body[then] = (start + timedelta(hours=1)).isoformat()
            except (KeyError, TypeError, ValueError, OverflowError):
                continue
    return body
