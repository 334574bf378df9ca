"""Run pytest, then leave with os._exit so the Temporal client's finaliser crash
(temporalio sdk-python #300) cannot turn a green run red."""

import os
import sys

import pytest

if __name__ == "__main__":
    suites = ["tests/unit", "tests/workflows", "tests/integration"]
    code = pytest.main(sys.argv[1:] or ["-q", "-p", "no:cacheprovider", *suites])
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(int(code))
