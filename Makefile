# The targets CI runs (.ci/run): `make check` and `make test`.
.PHONY: run test install-test check lint typecheck layers migrations-check bench

run:
	python3 -m pip install --quiet -r requirements.txt
	python3 -m streamlit run app.py

install-test:
	bash scripts/install-test-tools.sh

test: install-test
	python3 -m pytest

lint:
	python3 -m ruff check .
	python3 -m ruff format --check .

typecheck:
	python3 -m mypy

layers:
	lint-imports

migrations-check:
	DATABASE_URL=$${TEST_DATABASE_URL:-sqlite:///$$(mktemp -d)/check.db} bash scripts/alembic-check.sh

check: install-test lint typecheck layers migrations-check

bench:
	python3 -m bench
