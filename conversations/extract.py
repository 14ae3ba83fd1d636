"""A Babel extractor for the survey file, so its questions and labels reach the catalogs.

Used by babel.cfg (`pybabel extract -F babel.cfg ...`); see README, "Languages".
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

import yaml

from conversations.survey import SCALE_LABELS


def extract_survey(
    fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: Any
) -> Iterator[tuple[int, str | None, str, list[str]]]:
    data = yaml.safe_load(fileobj.read().decode("utf-8")) or {}
    for question in [*data.get("questions", []), *(data.get("follow_up") or []),
                     *(data.get("closure") or [])]:
        qid = question.get("id", "?")
        yield 0, None, question["ask"], [f"survey question {qid}"]
        labels = question.get("labels") or (SCALE_LABELS if question.get("type") == "scale" else [])
        for label in labels:
            yield 0, None, label, [f"survey {qid}: scale label"]
        for option in question.get("options") or []:
            yield 0, None, option["label"], [f"survey {qid}: option {option['id']}"]
            if option.get("confirm"):
                yield 0, None, option["confirm"], [f"survey {qid}: asked back after "
                                                   f"{option['id']}"]
