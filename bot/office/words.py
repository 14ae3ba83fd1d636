"""The console's words, as catalog message ids (the templates call `t`)."""

from __future__ import annotations

from conversations.messages import N_
from scheduler.cases.message import CLOSE as CASE_CLOSE

TITLE = N_("Prayas · SP office console")
SIGN_IN = N_("Sign in")
NAME = N_("Name")
PASSWORD = N_("Password")
WRONG = N_("The name or the password is not right. Please try again.")
LOCKED = N_("Too many wrong passwords: this account is locked for 15 minutes.")
SLOW_DOWN = N_("Too many attempts from this computer. Please wait 15 minutes.")
EXPIRED_FORM = N_("This form had expired. Please try again.")
SIGN_OUT = N_("Sign out")
SIGNED_IN_AS = N_("Signed in as {name}")
OVERVIEW = N_("What needs action first")
NOTHING = N_("Nothing waiting for the SP office.")
TODAY = N_("Today: {complete} feedback completed, {incomplete} left incomplete, "
           "{negative} negative.")
LANGUAGE = N_("हिंदी / English")
REFUSED = N_("This request was refused: the form was not this session's. Open the page "
             "again and retry.")
FEEDBACK = N_("Feedback {reference}")
STATION = N_("Station: {station}")
GIVEN = N_("Given: {time}")
ANSWERS = N_("Answers")
EARLIER = N_("Answers before update {n} (kept: never deleted)")
VOICE = N_("Voice note")
NOT_FETCHED = N_("The voice note has not been fetched yet, or was forgotten by the "
                 "retention rule.")
CASE = N_("Case: {state}")
SKIPPED = N_("(skipped)")
NOT_FOUND = N_("There is no such feedback.")
NOT_YOURS = N_("This feedback is another district's.")
# A case's steps, as the feedback's page lists them (case_event.event).
STEPS = {"opened": N_("opened"), "reopened": N_("opened again"),
         "instruct": N_("instruction sent"), "report": N_("action reported"),
         "return": N_("returned for more action"), "close": N_("closed"),
         "citizen_asked": N_("citizen asked"), "citizen_answered": N_("citizen answered"),
         "citizen_unhappy": N_("citizen not satisfied: opened again"),
         "escalated": N_("gone up past its deadline"),
         "pressure": N_("changed to positive: possible pressure")}
INSTRUCT = N_("Send the in-charge an instruction")
INSTRUCTION = N_("Instruction")
WORDS = N_("A few words (the station reads them)")
SEND = N_("Send")
CLOSE = CASE_CLOSE  # the chat's button says the same
RETURN = N_("Return it for more action")
READ_ONLY = N_("This account can read, not act.")
