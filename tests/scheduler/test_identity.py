"""A citizen's pseudonym: stable, keyed, and never the number itself."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from scheduler import identity
from scheduler.identity import Identity

KEY = b"k" * 40


def test_the_same_citizen_gets_the_same_pseudonym_and_it_hides_the_number() -> None:
    people = Identity(KEY)
    first = people.sender("whatsapp:+919800001234")
    assert first == people.sender("whatsapp:+919800001234")
    assert first == Identity(KEY).sender("whatsapp:+919800001234")  # a restart: the same
    assert first != people.sender("whatsapp:+919800001235")
    assert "9800001234" not in first
    assert first != Identity(b"j" * 40).sender("whatsapp:+919800001234")  # keyed


def test_pseudonyms_stay_right_when_the_kept_ones_are_dropped(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(identity, "KNOWN_MAX", 3)
    people = Identity(KEY)
    urns = [f"telegram:{n}" for n in range(10)] * 2
    for urn in urns:
        assert people.sender(urn) == hmac.new(KEY, urn.encode(), hashlib.sha256).hexdigest()
    assert len(people._known) <= 3
