"""The one harness the tools (bench, torture, scripts/with-db.sh) and the tests share.

harness.net      free_port()
harness.cluster  a PostgreSQL server to run against: a local cluster or a container
harness.service  the service as a subprocess, or an app in this event loop
python -m harness with-db throwaway|embedded -- CMD ...   (see harness/__main__.py)
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
"""The project's root directory (where scripts/, app/ and .venv/ are)."""
