"""Golden transcripts: whole conversations, replayed through the real service and storage.

Each file in tests/golden/ is a conversation as a citizen sees it: lines after "> "
are what the citizen sends, everything else is what the bot answered. The test
replays the citizen's lines with a fixed clock (10 s between messages) and demands
the same answers, byte for byte. After an intended change of wording, regenerate
with `PRAYAS_UPDATE_GOLDEN=1 pytest tests/conversations/test_transcripts.py` and read
the diff before committing it.

Special inputs: `/start CODE [lang=en]`, `[tap QUESTION OPTION]`, `[voice]`, `[photo]`,
`[sticker]`, `[location]`, `[wait 31m]`, `[as NAME]` (another citizen from now on).
"""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path

import pytest

from conversations.effects import Event, Media, Start, Tap, Text
from tests.conftest import T0

GOLDEN = Path(__file__).resolve().parent.parent / "golden"
FILES = sorted(GOLDEN.glob("*.txt"))


def _event(line: str) -> Event | None:
    if line.startswith("/start"):
        parts = line.split()
        code = next((p for p in parts[1:] if "=" not in p), None)
        lang = next((p.split("=", 1)[1] for p in parts[1:] if p.startswith("lang=")), None)
        return Start(code, lang)
    if match := re.fullmatch(r"\[tap (\S+) (\S+)\]", line):
        return Tap(match.group(1), match.group(2))
    if match := re.fullmatch(r"\[(voice|photo|sticker|location)\]", line):
        kind = match.group(1)
        return Media(kind, f"{kind}-file-1")  # type: ignore[arg-type]
    return Text(line)


def replay(app, inputs: list[str]) -> str:  # type: ignore[no-untyped-def]
    out: list[str] = []
    now, urn = T0, "telegram:100"
    for line in inputs:
        out.append(f"> {line}")
        if wait := re.fullmatch(r"\[wait (\d+)([mh])\]", line):
            unit = timedelta(minutes=1) if wait.group(2) == "m" else timedelta(hours=1)
            now += int(wait.group(1)) * unit
            continue
        if who := re.fullmatch(r"\[as (\S+)\]", line):
            urn = f"telegram:{who.group(1)}"
            continue
        now += timedelta(seconds=10)
        event = _event(line)
        assert event is not None
        for reply in app.service.handle(urn, "telegram", event, now).replies:
            out.append(app.catalogs.render(reply))
    return "\n".join(out) + "\n"


def _inputs(path: Path) -> list[str]:
    return [line[2:] for line in path.read_text(encoding="utf-8").splitlines()
            if line.startswith("> ")]


@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
def test_transcript(path: Path, make_app, sqlite_url: str) -> None:  # type: ignore[no-untyped-def]
    app = make_app(sqlite_url)
    got = replay(app, _inputs(path))
    if os.environ.get("PRAYAS_UPDATE_GOLDEN"):
        path.write_text(got, encoding="utf-8")
    assert got == path.read_text(encoding="utf-8")


def test_there_are_transcripts_in_both_languages() -> None:
    names = {f.stem for f in FILES}
    assert any(n.startswith("hi_") for n in names) and any(n.startswith("en_") for n in names)
