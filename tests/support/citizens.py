"""Another citizen for every conversation of a shared stack: a valid resident ID number (GB
11643 check digit) and a mobile number of their own. The back office recognises the same
petitioner bringing the same matter again (bot/store/repeats.py); tests that mean different
people filing similar matters in one stack give each their own numbers."""

from __future__ import annotations

import itertools
import os

from stdnum.cn import ric

# Distinct per process too (test files run in one process, stacks may be shared).
_counter = itertools.count(int.from_bytes(os.urandom(2), "big"))


def new_identity() -> tuple[str, str]:
    """(resident ID number, mobile number), never the same twice in a process."""
    n = next(_counter) % 336_000  # 12 months x 28 days x 1000 sequence numbers
    month, day, seq = 1 + n // 28_000, 1 + n // 1000 % 28, n % 1000
    body = f"3301061970{month:02d}{day:02d}{seq:03d}"
    return body + ric.calc_check_digit(body + "0"), f"159{n:08d}"
