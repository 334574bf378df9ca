"""Run pytest, then leave with os._exit so the Temporal client's finaliser crash
(temporalio sdk-python #300) cannot turn a green run red."""

import os
import sys

import pytest

if __name__ == "__main__":
    code = pytest.main(sys.argv[1:] or ["-q", "-p", "no:cacheprovider", "tests/unit", "tests/integration"])
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(int(code))
