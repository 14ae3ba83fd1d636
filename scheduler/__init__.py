"""APScheduler wiring and jobs (outbox dispatch, alerts, escalation, digests, follow-ups,
the idle sweep `FeedbackService.expire_idle`, retention): not built yet, see the issue on
alerts and digests."""
