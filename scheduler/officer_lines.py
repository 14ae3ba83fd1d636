"""The lines every message to an officer about a feedback shares (an alert, a case's
step): one msgid each, so they read the same wherever they appear."""

from __future__ import annotations

from conversations.messages import N_

REASONS = N_("Why: {reasons}")
WHERE = N_("Station: {station}")
REFERENCE = N_("Feedback number: {reference}")
