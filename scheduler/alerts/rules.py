"""Which alert rules a completed feedback matches; the rules checked at start."""

from __future__ import annotations

from collections.abc import Mapping

from conversations.session import Answer
from conversations.survey import Survey
from scheduler.config import AlertRule, Config, ConfigError


def check_rules(config: Config, survey: Survey) -> None:
    """Alert rules must name real questions and options; fail at start, not at 2 a.m."""
    for n, rule in enumerate(config.alerts.rules):
        if rule.severity == "red" and list(rule.notify) != ["sp_office"]:
            # A red feedback is kept from its station (it may be the subject): a red rule
            # naming the in-charge would reach nobody until escalation.
            raise ConfigError(f"alerts.rules[{n}].notify: a red rule goes to the SP office "
                              "alone; write `notify: [sp_office]`")
        for m, condition in enumerate(rule.any):
            where = f"alerts.rules[{n}].any[{m}]"
            question = survey.question(condition.question)
            if question is None:
                raise ConfigError(f"{where}.question: no question {condition.question!r} in "
                                  "the survey")
            known = {o.id for o in question.options}
            if condition.in_ and (bad := [o for o in condition.in_ if o not in known]):
                raise ConfigError(f"{where}.in: {bad[0]!r} is not an option of "
                                  f"{condition.question!r}; options: {sorted(known)}")


def matching(rules: list[AlertRule], answers: Mapping[str, Answer]) -> list[AlertRule]:
    """The rules a feedback raises alerts for. When a red rule matches (money or a favour
    demanded), only the red rules: the station may be the subject, and its other rules'
    alerts would show the in-charge the same answers and comment."""
    def holds(question: str, in_: list[str] | None, at_most: int | None) -> bool:
        answer = answers.get(question)
        if answer is None or answer.option is None:
            return False
        if in_ is not None:
            return answer.option in in_
        return answer.option.isdigit() and int(answer.option) <= (at_most or 0)

    matched = [rule for rule in rules
               if any(holds(c.question, c.in_, c.at_most) for c in rule.any)]
    red = [rule for rule in matched if rule.severity == "red"]
    return red or matched
