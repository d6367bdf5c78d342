# Atelier fine-tuning — three commands. Each one creates or refreshes .venv itself.
#   make lab    open the course in JupyterLab (sandbox mode: no key, no cost)
#   make test   run the unit tests and every notebook under nbval (sandbox mode)
#   make bench  print the benchmark figures
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip

.PHONY: lab test bench lint clean-notebooks clean

$(VENV)/.stamp-lab: requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -r requirements.txt
	touch $@

$(VENV)/.stamp-test: $(VENV)/.stamp-lab requirements-dev.txt
	$(PIP) install -q -r requirements-dev.txt
	touch $@

lab: $(VENV)/.stamp-lab
	ATELIER_MODE=$${ATELIER_MODE:-sandbox} $(VENV)/bin/jupyter lab notebooks/00_bienvenue.ipynb

test: $(VENV)/.stamp-test
	$(PY) -m ruff check helpers tests bench
	ATELIER_MODE=sandbox $(PY) -m pytest tests notebooks --nbval-lax --nbval-current-env \
		--nbval-sanitize-with tests/nbval_sanitize.cfg -p no:cacheprovider $(PYTEST_ARGS)

bench: $(VENV)/.stamp-test
	for b in bench/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

lint: $(VENV)/.stamp-test
	$(PY) -m ruff check helpers tests bench
	$(PY) -m ruff format --check helpers tests bench

clean-notebooks: $(VENV)/.stamp-test
	$(VENV)/bin/nbstripout --keep-output notebooks/*.ipynb

clean:
	rm -rf $(VENV) .atelier
