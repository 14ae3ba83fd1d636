"""A citizen's pseudonym: stable, keyed, and never the number itself."""

from __future__ import annotations

import hashlib
import hmac

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


def test_a_pseudonym_is_the_hmac_sha256_of_the_urn() -> None:
    """What is stored: changing it would split every citizen from their earlier feedback."""
    people = Identity(KEY)
    for urn in [f"telegram:{n}" for n in range(10)] + ["whatsapp:+91 98000 01234", "टेलीग्राम:1"]:
        assert people.sender(urn) == hmac.new(KEY, urn.encode(), hashlib.sha256).hexdigest()
