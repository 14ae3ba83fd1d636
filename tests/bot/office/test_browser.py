"""The SP office's console in a real browser: Debian's Chromium, driven by Playwright,
against a real `prayas serve` on 127.0.0.1 with a seeded case. Signing in (a wrong
password, a locked account), the overview, the language switch, forms without their
CSRF token refused, cookies a script cannot read."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.bot.whatsapp.conftest import whatsapp_config
from tests.fakes.twilio_api import ACCOUNT_SID, AUTH_TOKEN
from tests.serving import PRAYAS, free_port, serving

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# As this machine needs them (../.library/env): no sandbox as root, no calls home.
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
RUDE = ["शिकायत", "तुरंत", "1", "नहीं", "चल रही है", "हाँ", "नहीं", "1", "कुछ नहीं", "नहीं",
        "नहीं"]
PASSWORD = "saat-phere-2026"


def _prayas(env: dict[str, str], config: Path, *args: str, stdin: str = "") -> str:
    done = subprocess.run([PRAYAS, "--config", str(config), *args], input=stdin, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} not found; .ci/run must install Debian's chromium")
        pytest.skip("Debian's chromium is not installed")
    tmp = tmp_path_factory.mktemp("console")
    port = free_port()
    config = whatsapp_config(tmp, public_url=f"http://127.0.0.1:{port}")
    # A second district, for an account that must not see it.
    loaded = yaml.safe_load(config.read_text(encoding="utf-8"))
    loaded["districts"].append({
        "code": "RPR", "name_hi": "रायपुर", "name_en": "Raipur",
        "sp_office": {"name_hi": "पुलिस अधीक्षक कार्यालय, रायपुर", "name_en": "SP Office Raipur"},
        "stations": [{"code": "RPR01", "kind": "thana", "name_hi": "थाना कोतवाली रायपुर",
                      "name_en": "Kotwali Raipur"}]})
    config.write_text(yaml.safe_dump(loaded, allow_unicode=True), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TELEGRAM_")}
    env.update(DATABASE_URL=f"sqlite:///{tmp / 'prayas.db'}", TWILIO_ACCOUNT_SID=ACCOUNT_SID,
               TWILIO_AUTH_TOKEN=AUTH_TOKEN, PRAYAS_DATA_DIR=str(tmp / "data"),
               PRAYAS_HMAC_KEY="test-key-" + "0" * 40)
    chat = _prayas(env, config, "chat", "--station", "BLB05", stdin="\n".join(RUDE) + "\n")
    assert "फीडबैक नंबर: FB-26-000001" in chat  # the case the overview lists
    _prayas(env, config, "console", "user", "add", "reader.sahu", "--role", "sp_office",
            "--password-stdin", stdin=PASSWORD + "\n")
    _prayas(env, config, "console", "user", "add", "clerk", "--role", "reader",
            "--password-stdin", stdin=PASSWORD + "\n")
    _prayas(env, config, "console", "user", "add", "blb.reader", "--role", "reader",
            "--district", "BLB", "--password-stdin", stdin=PASSWORD + "\n")
    raipur = _prayas(env, config, "chat", "--station", "RPR01",
                     stdin="\n".join(RUDE) + "\n")
    assert "फीडबैक नंबर: FB-26-000002" in raipur
    with serving(config, env, port):
        _spoken_feedback(f"http://127.0.0.1:{port}", env["DATABASE_URL"])
        yield f"http://127.0.0.1:{port}/console", tmp


def _spoken_feedback(public: str, database: str) -> None:
    """FB-26-000003 by WhatsApp, its comment a voice note, kept as if fetched for an
    officer (the outbox fetches it, bot/whatsapp/twilio_api.py)."""
    from datetime import UTC, datetime

    import httpx
    from sqlalchemy import create_engine
    from sqlmodel import Session as Db
    from twilio.request_validator import RequestValidator

    from storage import recordings

    voice = "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM7/Media/ME7"
    for n, (body, media) in enumerate([("फीडबैक BLB05", ""), *((a, "") for a in RUDE[:8]),
                                       ("", voice), ("नहीं", ""), ("नहीं", "")]):
        form = {"MessageSid": f"SM{n:032d}", "From": "whatsapp:+919800000777",
                "To": "whatsapp:+917700012345", "Body": body, "AccountSid": ACCOUNT_SID,
                "NumMedia": "1" if media else "0"}
        if media:
            form.update(MediaUrl0=media, MediaContentType0="audio/ogg")
        url = f"{public}/whatsapp/webhook"
        signature = RequestValidator(AUTH_TOKEN).compute_signature(url, form)
        assert httpx.post(url, data=form, headers={"X-Twilio-Signature": signature},
                          timeout=30).status_code == 200
    engine = create_engine(database)
    with Db(engine) as db, db.begin():
        recordings.keep(db, voice, "voice", True, datetime.now(UTC), "audio/ogg",
                        b"OggS" + bytes(500))
    engine.dispose()


@pytest.fixture(scope="module")
def browser(console):  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield chromium
        chromium.close()


def _sign_in(page, base: str, name: str, password: str):  # type: ignore[no-untyped-def]
    page.goto(f"{base}/login")
    page.get_by_label("नाम").fill(name)
    page.get_by_label("पासवर्ड").fill(password)
    with page.expect_response(f"{base}/login") as answered:
        page.get_by_role("button", name="साइन इन करें").click()
    return answered.value


def test_signing_in_shows_what_needs_action_first(console, browser) -> None:  # type: ignore[no-untyped-def]
    base, tmp = console
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    page.goto(f"{base}/")
    assert page.url == f"{base}/login"  # not signed in: the sign-in page
    assert _sign_in(page, base, "reader.sahu", "wrong-password-1").status == 401
    assert page.get_by_role("alert").inner_text() == (
        "नाम या पासवर्ड सही नहीं है। कृपया फिर से कोशिश करें।")
    _sign_in(page, base, "reader.sahu", PASSWORD)
    assert page.url == f"{base}/"
    assert page.get_by_role("heading", name="पहले इन पर कार्रवाई करें").is_visible()
    listed = page.locator("ul.cases li").all_inner_texts()
    # Three new cases: Simga's two (one by WhatsApp) and Raipur's, the oldest first.
    assert len(listed) == 3 and listed[0].startswith("🆕 FB-26-000001 · थाना सिमगा · ")
    assert "reader.sahu के रूप में साइन इन" in page.inner_text("header")
    page.screenshot(path=str(tmp / "overview-hi.png"), full_page=True)
    # The cookie: no script reads it; sent to this site's pages only.
    [cookie] = [c for c in page.context.cookies() if c["name"] == "prayas_console"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and not cookie["secure"]
    assert page.evaluate("document.cookie").find("prayas_console") == -1
    # English, and back; the Devanagari font is the one shipped with Prayas.
    page.get_by_role("link", name="हिंदी / English").click()
    assert page.get_by_role("heading", name="What needs action first").is_visible()
    page.screenshot(path=str(tmp / "overview-en.png"), full_page=True)
    font = page.request.get(f"{base}/static/fonts/NotoSansDevanagari-Regular.ttf")
    assert font.status == 200 and len(font.body()) > 100_000
    page.get_by_role("button", name="Sign out").click()
    assert page.url == f"{base}/login"
    page.goto(f"{base}/")
    assert page.url == f"{base}/login"  # the session ended with signing out
    page.close()


def test_five_wrong_passwords_lock_the_account(console, browser) -> None:  # type: ignore[no-untyped-def]
    base, _ = console
    page = browser.new_page()
    for _ in range(4):
        assert _sign_in(page, base, "clerk", "not-the-password").status == 401
    assert _sign_in(page, base, "clerk", "not-the-password").status == 403
    assert "15 मिनट के लिए बंद" in page.get_by_role("alert").inner_text()
    # Locked: even the right password does not open it now.
    assert _sign_in(page, base, "clerk", PASSWORD).status == 403
    page.close()


def test_a_form_without_its_csrf_token_is_refused(console, browser) -> None:  # type: ignore[no-untyped-def]
    base, _ = console
    page = browser.new_page()
    page.goto(f"{base}/login")
    forged = page.request.post(f"{base}/login", form={"name": "reader.sahu",
                                                     "password": PASSWORD})
    assert forged.status == 400 and "फ़ॉर्म पुराना हो गया" in forged.text()
    _sign_in(page, base, "reader.sahu", PASSWORD)
    refused = page.request.post(f"{base}/logout", form={"csrf": "made-up"})
    assert refused.status == 403 and "अनुरोध नहीं माना गया" in refused.text()
    page.goto(f"{base}/")
    assert page.url == f"{base}/"  # still signed in: the forged sign-out did nothing
    page.close()


def test_a_feedback_page_with_its_voice_note_and_district_walls(console, browser) -> None:  # type: ignore[no-untyped-def]
    base, tmp = console
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    _sign_in(page, base, "reader.sahu", PASSWORD)
    page.get_by_role("link", name="FB-26-000003", exact=False).click()
    assert page.url == f"{base}/feedback/FB-26-000003"
    assert page.get_by_role("heading", name="फीडबैक FB-26-000003").is_visible()
    answers = page.inner_text("dl.answers")
    assert "पुलिस स्टाफ का व्यवहार कैसा था?" in answers and "बहुत खराब" in answers
    audio = page.locator("audio")
    assert audio.count() == 1
    heard = page.request.get(base.removesuffix("/console") + audio.get_attribute("src"))
    assert heard.status == 200 and heard.body().startswith(b"OggS")
    assert "9800000777" not in page.content()  # never the citizen's number
    assert page.locator("ol.steps li").all_inner_texts()[0].endswith(" · खुला")
    page.screenshot(path=str(tmp / "feedback-hi.png"), full_page=True)
    missing = page.goto(f"{base}/feedback/FB-26-999999")
    assert missing is not None and missing.status == 404
    assert page.get_by_role("alert").inner_text() == "ऐसा कोई फीडबैक नहीं है।"
    assert page.goto(f"{base}/feedback/garbage%3Cscript%3E").status == 404  # type: ignore[union-attr]
    page.close()
    scoped = browser.new_page()
    _sign_in(scoped, base, "blb.reader", PASSWORD)
    other = scoped.goto(f"{base}/feedback/FB-26-000002")  # Raipur's, by its URL
    assert other is not None and other.status == 403
    assert "दूसरे जिले" in scoped.get_by_role("alert").inner_text()
    assert scoped.goto(f"{base}/feedback/FB-26-000001").status == 200  # type: ignore[union-attr]
    scoped.close()


def test_the_sp_office_instructs_from_the_page_and_a_reader_cannot(console, browser) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import create_engine, select
    from sqlmodel import Session as Db

    from storage.models import CaseEvent

    base, tmp = console
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    _sign_in(page, base, "reader.sahu", PASSWORD)
    page.goto(f"{base}/feedback/FB-26-000001")
    page.get_by_label("निर्देश", exact=True).select_option("register_fir")
    page.locator("#text-instruct").fill("आज ही एफ़आईआर दर्ज करें")
    page.locator("form.step").first.get_by_role("button", name="भेजें").click()
    assert page.url == f"{base}/feedback/FB-26-000001"
    steps = page.locator("ol.steps li").all_inner_texts()
    assert steps[-1].endswith(" · निर्देश भेजा गया · reader.sahu · आज ही एफ़आईआर दर्ज करें")
    # Closing needs its words: the browser asks for them before anything is sent.
    assert page.locator("#text-close").get_attribute("required") is not None
    page.screenshot(path=str(tmp / "case-hi.png"), full_page=True)
    csrf = page.locator("form.step input[name=csrf]").first.get_attribute("value")
    page.close()
    # Another browser, signed in as nobody, posting the token it saw: refused.
    clerk = browser.new_page()
    clerk.goto(f"{base}/login")
    forged = clerk.request.post(f"{base}/feedback/FB-26-000001/step",
                                form={"csrf": csrf or "", "verb": "close", "text": "x"})
    assert forged.status == 403  # another browser's token: refused
    engine = create_engine(f"sqlite:///{tmp / 'prayas.db'}")
    with Db(engine) as db:
        events = [e.event for e in db.execute(select(CaseEvent).order_by(CaseEvent.id))
                  .scalars()]
    engine.dispose()
    assert events.count("instruct") == 1 and "close" not in events
    clerk.close()


def test_a_reader_account_reads_and_cannot_act(console, browser) -> None:  # type: ignore[no-untyped-def]
    base, _ = console
    page = browser.new_page()
    _sign_in(page, base, "blb.reader", PASSWORD)
    page.goto(f"{base}/feedback/FB-26-000003")
    assert page.locator("form.step").count() == 0
    token = page.locator("header input[name=csrf]").get_attribute("value")
    refused = page.request.post(f"{base}/feedback/FB-26-000003/step",
                                form={"csrf": token or "", "verb": "close", "text": "x"})
    assert refused.status == 403 and "सिर्फ़ पढ़ सकता है" in refused.text()
    page.close()
