"""The survey file: the shipped one loads; a broken one says where and how to fix."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from conversations.survey import DEFAULT_SURVEY, SurveyError, load_survey


def test_the_shipped_survey() -> None:
    survey = load_survey(DEFAULT_SURVEY)
    ids = [q.id for q in survey.questions]
    assert ids == ["purpose", "heard", "behaviour", "receipt", "action", "guidance", "demand",
                   "satisfaction", "comment", "contact", "followup"]
    receipt = survey.question("receipt")
    assert receipt is not None and receipt.when == {"purpose": {"complaint_fir", "application"}}
    behaviour = survey.question("behaviour")
    assert behaviour is not None and [o.value for o in behaviour.options] == [1, 2, 3, 4, 5]


def _write(tmp_path: Path, change) -> Path:  # type: ignore[no-untyped-def]
    data = yaml.safe_load(DEFAULT_SURVEY.read_text(encoding="utf-8"))
    change(data)
    path = tmp_path / "survey.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _q(data: dict, qid: str) -> dict:
    return next(q for q in data["questions"] if q["id"] == qid)


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: _q(d, "heard").update(id="purpose"),
     r"questions\[1\]\.id: question id 'purpose' is used twice"),
    (lambda d: _q(d, "receipt").update(when={"satisfaction": ["5"]}),
     r"questions\[3\]\.when\.satisfaction: a condition must refer to an earlier question"),
    (lambda d: _q(d, "receipt").update(when={"purpose": ["fir"]}),
     r"'fir' is not an option of 'purpose'"),
    (lambda d: _q(d, "purpose").update(colour="red"), r"questions\[0\]: unknown key 'colour'"),
    (lambda d: _q(d, "purpose").update(id="_station"), r"'_station' is not a valid id"),
    (lambda d: _q(d, "purpose")["options"][1].update(id="complaint_fir"),
     r"option id 'complaint_fir' is used twice"),
    (lambda d: d.update(title="x"), r"title: unknown key"),
    (lambda d: _q(d, "comment").update(type="essay"), r"type must be choice, scale or text"),
])
def test_a_broken_survey(tmp_path: Path, change, message: str) -> None:  # type: ignore[no-untyped-def]
    path = _write(tmp_path, change)
    with pytest.raises(SurveyError, match=message) as caught:
        load_survey(path)
    assert str(caught.value).startswith(str(path))
