"""Vietnamese holidays that move demand: Tết (lunar new year) and the fixed public holidays."""

from datetime import date

# First day of Tết (Mùng 1) by year.
TET = {
    date(2024, 2, 10),
    date(2025, 1, 29),
    date(2026, 2, 17),
    date(2027, 2, 6),
    date(2028, 1, 26),
    date(2029, 2, 13),
    date(2030, 2, 3),
}
# New Year, Reunification Day, Labour Day, National Day.
FIXED_HOLIDAYS = {(1, 1), (4, 30), (5, 1), (9, 2)}


def tet_offset(day: date) -> int | None:
    """Days from the nearest Tết within a fortnight (negative before), else None."""
    for tet in TET:
        delta = (day - tet).days
        if -14 <= delta <= 14:
            return delta
    return None


def is_holiday(day: date) -> bool:
    """Days whose demand follows its own pattern: Tết eve to the 4th day, the pre-Tết week, and
    the fixed public holidays. Forecast fitting and anomaly scoring treat them apart."""
    offset = tet_offset(day)
    if offset is not None and -7 <= offset <= 3:
        return True
    return (day.month, day.day) in FIXED_HOLIDAYS
