"""What citizens type, made comparable; and what must not leave a comment."""

from __future__ import annotations

import pytest

from conversations.text import hide_numbers

HIDDEN = [
    "9876543210", "98765 43210", "98765-43210", "987-654-3210", "+91 98765 43210",
    "+919876543210", "09876543210", "९८७६५४३२१०", "0771-2345678", "07727 222333",
    "1234 5678 9012", "234567890123", "98 76 54 32 10", "+91 98 76 54 32 10",
    "9876 543 210", "98765  43210", "98765.43210", "(0771) 2345678", "022-2345-6789",
]
KEPT = ["29-11-2026 10:35", "07-11-2026 10:35", "FIR 123/2026", "0123/2026", "5000",
        "5000 20000", "1,00,000", "CG04AB1234", "CG 04 AB 1234", "12345678", "01-11-2026",
        "थाना 0771", "धारा 420", "22150012026000123"]


@pytest.mark.parametrize("number", HIDDEN)
def test_a_phone_or_aadhaar_number_is_left_out(number: str) -> None:
    assert hide_numbers(f"मेरा नंबर {number} है") == "मेरा नंबर […] है"


@pytest.mark.parametrize("text", KEPT)
def test_dates_case_numbers_and_amounts_stay(text: str) -> None:
    assert hide_numbers(f"देखें {text} को") == f"देखें {text} को"
