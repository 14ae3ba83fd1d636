"""Every sentence the dialogue says, as English message ids for the catalogs.

`N_` only marks a string for `pybabel extract`; translation happens when a channel
renders a Reply in the session's language.
"""


def N_(message: str) -> str:
    return message


WELCOME = N_("Namaste! Thank you for telling us about your visit to the police.")
GREETING = N_("Namaste! This feedback is about: {station}.")
# Not "the station": a feedback may be about a chowki or an office, the SP office's too.
PRIVACY = N_(
    "Your feedback goes to the SP office. The station or office you visited does not see "
    "your name or number."
)
HOW_TO = N_("Send the number of your answer. If anything is unclear, write 'help'; "
            "for Hindi, write 'हिंदी'.")
# TRANSLATORS: "Question 2/9", never "(2/9)", which reads as a date.
PROGRESS = N_("Question {n}/{total}: {ask}")
# The first question: how many follow depends on its answer, so no total yet.
PROGRESS_OPEN = N_("Question {n}: {ask}")

PICK_STATION = N_("Which police station, chowki or office did you visit? Send its number, "
                  "or type a few letters of its name.")
PICK_STATION_TYPE = N_("Which police station, chowki or office did you visit? "
                       "Type a few letters of its name.")
# After "थाना" or "चौकी" alone: the stations of that kind.
THANAS = N_("These are the police stations. Send the number of yours:")
CHOWKIS = N_("These are the chowkis. Send the number of yours:")
OUT_OF_LIST = N_("This list has numbers 1 to {last}. Please send one of them:")
UNKNOWN_CODE = N_("We could not find the station code {code}.")
UNKNOWN_LINK = N_("We could not recognise the station from this link.")
NO_STATION_MATCH = N_("No station matches what you typed. Please type a few letters "
                      "of the name, for example: {example}")
MANY_STATIONS = N_("Several stations match. Send the number of yours:")
UNKNOWN_CODE_MIDWAY = N_("We could not find that station code. "
                         "Let us continue with the current feedback.")

REASK = N_("Sorry, I did not understand. Please send the number of one answer below (e.g. 1):")
OUT_OF_RANGE = N_("This question has answers 1 to {last}. Please send one of these numbers:")
COMMENT_NOT_A_NUMBER = N_("Here you can write your own words, or send a voice message. "
                          "If you have nothing to add, send 1.")
VOICE_RECEIVED = N_("We have received your voice message.")
VOICE_LATER = N_("Please answer this question by its number. You can send a voice message "
                 "at the end.")
CONFIRM_YES = N_("Yes, that is right")
CONFIRM_NO = N_("No, I chose it by mistake")
CONFIRM_UNDONE = N_("Okay, it is not recorded. Please answer the question again:")
REASK_TEXT = N_("Please type what you want to tell us, or send a voice note.")
MEDIA_NOT_READ = N_("Sorry, I can only read text messages here.")
EDIT_NOT_READ = N_("Changes to earlier messages are not read. Please send a new message.")
# The per-citizen limits (scheduler.service): said once, then nothing more that minute.
SLOW_DOWN = N_("You are sending messages very fast. Please wait a minute, then send your "
               "answer again.")
TOO_MANY_FEEDBACK = N_("You have started many feedbacks in the last hour. Please try again "
                       "after some time.")
STALE_BUTTON = N_("That button was for an earlier question. Please answer this one:")
HINT_SKIP = N_("Stuck? Write 'skip' to leave this question, or 'help'.")
HINT_HELP = N_("This question is needed for the feedback. Write 'help' if you are stuck.")
CANNOT_SKIP = N_("This question cannot be skipped. Please choose one option.")
HELP = N_(
    "How to answer: send the number of your answer (1, 2, 3 ...) or tap a button.\n"
    "Words you can send at any time:\n"
    "'back' – previous question\n"
    "'restart' – start again\n"
    "'skip' – leave a question that is not needed\n"
    "'हिंदी' – in Hindi\n"
    "'stop' – end the feedback"
)
BACK_AT_FIRST = N_("This is the first question.")
# TRANSLATORS: said in the language just chosen, so each catalog names its own language
# ("ठीक है, अब हिंदी में बात करते हैं।").
LANGUAGE_SET = N_("Okay, let us continue in English.")
RESTARTED = N_("Okay, let us start again from the first question.")
STOPPED = N_("Okay, the feedback is stopped. The answers you gave are kept, without your "
             "name. To start again, write 'restart'.")
EXPIRED = N_("Your last conversation was closed after a long pause; the answers you gave "
             "are kept. Let us start again.")
SWITCH_ASK = N_("You are giving feedback about {current}. "
                "Start a new feedback for {new} instead?")
SWITCH_NEW = N_("Yes, start a new feedback")
SAME_STATION_ASK = N_("You are already giving this feedback. Start again from the first question?")
START_AGAIN = N_("Yes, start again")
SWITCH_CONTINUE = N_("No, continue this one")
CONTINUING = N_("Okay, let us continue.")
ENDED_COMPLETE = N_("We have already received your feedback (number {reference}). Thank you! "
                    "To give another, write 'restart'.")
HELP_AFTER_FEEDBACK = N_(
    "Your feedback number {reference} is recorded.\n"
    "For a visit to another station, scan the QR code there.\n"
    "To change the answers of this feedback, write 'restart'.")
RESTART_REPLACES = N_("Note: your new answers will replace those of feedback number {reference}.")
ENDED_STOPPED = N_("This feedback was stopped. To start again, write 'restart' "
                   "or scan the QR code again.")
THANKS = N_("Thank you! Your feedback has been recorded.\n"
            "Feedback number: {reference}\n"
            "The SP office reads every feedback.")
THANKS_UPDATED = N_("Thank you! Your earlier feedback number {reference} has been updated with "
                    "these answers.")
TRUNCATED = N_("Your message was long, so we kept the first {limit} characters.")
NUMBER_HIDDEN = N_("So that nobody can tell who you are, we left the number out of your "
                   "comment.")
NOTHING_TO_ADD = N_("Nothing to add")

FOLLOW_UP_INTRO = N_("Namaste! On {date} you gave feedback number {reference} about {station}. "
                     "Two short questions about what happened since:")
FOLLOW_UP_THANKS = N_("Thank you. Your answers were added to feedback number {reference}.")
# Never what was done or by whom: only that the SP office acted on the feedback.
CLOSURE_INTRO = N_("Namaste! On {date} you gave feedback number {reference} about {station}. "
                   "The SP office has taken action on it.")
CLOSURE_THANKS = N_("Thank you. Your answer has reached the SP office.")
