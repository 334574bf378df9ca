"""Unit-test settings shared by every package's tests.

Hypothesis' default per-example deadline (200 ms) measures wall time, so on a loaded 2-core CI
machine a correct property test can fail for being slow. Tests here assert behaviour, never
speed (speed is measured by ``make bench``), so the profile drops the deadline; the examples
and their count stay the same.
"""

from hypothesis import settings

settings.register_profile("unit", deadline=None)
settings.load_profile("unit")
