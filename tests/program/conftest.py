"""Make ``plan_helpers`` importable for the program tests."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
