"""The statistics tests import their independent simulator (``simcity``, ``scenarios``) from here."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
