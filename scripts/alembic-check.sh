#!/usr/bin/env bash
# Models and migrations agree: upgrade an empty database to head, then `alembic check`.
set -euo pipefail
python3 -m alembic upgrade head
python3 -m alembic check
