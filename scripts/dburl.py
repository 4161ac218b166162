"""Small helpers over a libpq URL, for the shell scripts.

python scripts/dburl.py URL DBNAME     the same server, another database
python scripts/dburl.py --env URL      PGHOST=... PGPORT=... lines for tools that only
                                       read libpq's environment (pg_prove)
"""

import shlex
import sys
from urllib.parse import parse_qs, unquote, urlsplit, urlunsplit

if sys.argv[1] == "--env":
    parts = urlsplit(sys.argv[2])
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    env = {
        "PGHOST": query.get("host") or parts.hostname,
        "PGPORT": query.get("port") or (str(parts.port) if parts.port else None),
        "PGUSER": query.get("user") or (unquote(parts.username) if parts.username else None),
        "PGPASSWORD": query.get("password") or (unquote(parts.password) if parts.password else None),
        "PGDATABASE": parts.path.lstrip("/") or None,
    }
    for key, value in env.items():
        if value:
            print(f"export {key}={shlex.quote(value)}")
else:
    url, dbname = sys.argv[1], sys.argv[2]
    parts = urlsplit(url)
    print(urlunsplit(parts._replace(scheme="postgresql", path="/" + dbname)))
