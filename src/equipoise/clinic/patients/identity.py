"""What of a patient a de-identified view may show: an age, a ten-year age band, a keyed
pseudonym."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac


def age(birth: dt.date, on: dt.date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def age_band(birth: dt.date, on: dt.date) -> str:
    """Ten-year bands; 90 and over pooled (ages above 89 identify, HIPAA Safe Harbor)."""
    a = age(birth, on)
    if a >= 90:
        return "90+"
    low = a // 10 * 10
    return f"{low}-{low + 9}"


def pseudonym(secret: str, patient_id: str) -> str:
    return hmac.new(secret.encode(), patient_id.encode(), hashlib.sha256).hexdigest()[:16]
