"""The golden-file helper itself: it never creates or rewrites a snapshot unasked."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import golden

HINDI = {"text": "धन्यवाद! आपका फीडबैक दर्ज हो गया है।", "n": 1}


def test_a_missing_golden_file_fails_and_is_not_created(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(golden.UPDATE, raising=False)
    path = tmp_path / "golden" / "missing.json"
    with pytest.raises(pytest.fail.Exception, match="no golden file"):
        golden.check(path, HINDI)
    assert not path.exists()


def test_a_different_snapshot_fails_with_its_diff(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(golden.UPDATE, raising=False)
    path = tmp_path / "snapshot.json"
    path.write_text(golden.dumps(HINDI), encoding="utf-8")
    golden.check(path, HINDI)
    with pytest.raises(pytest.fail.Exception, match=r'(?s)- "n": 1,\n\+ "n": 2,'):
        golden.check(path, {**HINDI, "n": 2})
    assert path.read_text(encoding="utf-8") == golden.dumps(HINDI)


def test_update_mode_writes_readable_hindi(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(golden.UPDATE, "1")
    path = tmp_path / "new" / "snapshot.json"
    golden.check(path, HINDI)
    written = path.read_text(encoding="utf-8")
    assert written == '{\n "n": 1,\n "text": "धन्यवाद! आपका फीडबैक दर्ज हो गया है।"\n}\n'
    golden.check(path, HINDI)  # the same again, as a second database would give it
    with pytest.raises(pytest.fail.Exception, match="disagree"):
        golden.check(path, {**HINDI, "n": 2})
    assert path.read_text(encoding="utf-8") == written


def test_only_the_value_1_updates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(golden.UPDATE, "0")
    with pytest.raises(pytest.fail.Exception, match="no golden file"):
        golden.check(tmp_path / "snapshot.json", HINDI)
