"""Check that a row's printed value appears in its verbatim quote fragment.

The fragment is there to check the number. Matching is literal on numbers, allowing only the
differences of print: a Unicode minus or middle dot, trailing zeros ("0.10" is 0.1), numbers
written as words ("ten", "one-third"), "all" for a count equal to n, month names for dates, and
approval wording for yes/no statuses.
"""

from __future__ import annotations

import re
from fractions import Fraction

from equipoise.evidence.records import EvidenceRow
from equipoise.evidence.values import DateValue, Status

_WORDS: dict[str, int | Fraction] = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "twice": 2, "once": 1,
    "one-third": Fraction(1, 3), "one-half": Fraction(1, 2), "half": Fraction(1, 2),
}
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


def _normalise(text: str) -> str:
    return (text.replace("−", "-").replace("–", "-").replace("·", ".").replace(",", " ")
            .lower())


def quote_numbers(quote: str) -> set[Fraction]:
    """Every number the fragment states, in digits or in words."""
    text = _normalise(quote)
    found: set[Fraction] = set()
    for m in re.finditer(r"(?<![\d.])\d+(?:\.\d+)?", text):
        start = m.start()
        # "-2.45" is negative; "5-10" is a range whose second number is positive.
        negative = start > 0 and text[start - 1] == "-" and (
            start < 2 or not (text[start - 2].isalnum() or text[start - 2] in ".%"))
        found.add(-Fraction(m.group()) if negative else Fraction(m.group()))
    for word, value in _WORDS.items():
        if re.search(rf"\b{re.escape(word)}\b", text):
            found.add(Fraction(value))
    return found


def value_in_quote(row: EvidenceRow) -> bool:
    """Whether every number of the row's value is stated in its quote fragment."""
    v = row.value
    text = _normalise(row.quote)
    if isinstance(v, Status):
        pattern = r"approv|indicat" if v.flag else r"not\b.*approv|off.label"
        # A label's Indications section lists indications without the word itself.
        in_indications = v.flag and "indications" in row.location.lower()
        return re.search(pattern, text) is not None or in_indications
    if isinstance(v, DateValue):
        month_ok = v.month is None or _MONTHS[v.month - 1] in text
        day_ok = v.day is None or re.search(rf"\b{v.day}\b", text) is not None
        return str(v.year) in text and month_ok and day_ok
    stated = quote_numbers(row.quote)
    if row.n is not None and re.search(r"\ball\b", text):
        stated.add(Fraction(row.n))
    return all(any(abs(x - float(s)) <= 1e-9 * max(1.0, abs(x)) for s in stated)
               for x in v.numbers())
