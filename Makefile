# The two commands of the README's quick start:
#   make lessons   set up, then open the lessons in JupyterLab (no browser needed)
#   make test      set up, then run every test (CI runs this through .ci/run)

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8888

.PHONY: lessons test setup-lab setup-test browser benchmark clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# Re-install only when the project's dependencies change.
$(VENV)/.lab-installed: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e ".[tensorflow,lab]"
	touch $@

$(VENV)/.test-installed: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e ".[tensorflow,lab,test]"
	touch $@

# Colab pins IPython 7.34: the magics' in-process tests also run against it.
IPYTHON7 := $(VENV)/ipython7
$(IPYTHON7)/.installed: | $(PY)
	$(PY) -m pip install --quiet --target $(IPYTHON7) "ipython==7.34.0"
	touch $@

setup-lab: $(VENV)/.lab-installed
setup-test: $(VENV)/.test-installed $(IPYTHON7)/.installed browser

# Containers and CI machines often run as root, which JupyterLab refuses by default.
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root,)

lessons: setup-lab
	$(VENV)/bin/jupyter lab --no-browser --ip=127.0.0.1 --port=$(PORT) $(ALLOW_ROOT) \
		--ServerApp.root_dir=notebooks

# Debian's Chromium for the inspector's browser test (Playwright drives it).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium; \
		else echo "chromium is missing: run 'sudo apt-get install chromium'"; exit 1; fi; }

test: setup-test
	@echo "== magics on IPython 7.34 (Colab) =="
	@PYTHONPATH=$(IPYTHON7) TF_CPP_MIN_LOG_LEVEL=3 $(PY) -m pytest -q -p no:cacheprovider \
		tests/notebook/test_nb_tf1layer.py tests/notebook/test_nb_debugger.py \
		tests/notebook/test_nb_inspector.py
	@echo "== full suite =="
	@TF_CPP_MIN_LOG_LEVEL=3 $(PY) -m pytest tests notebooks --nbval \
		--nbval-sanitize-with notebooks/nbval_sanitize.cfg -p no:cacheprovider; \
	status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest collected no tests: failing"; exit 1; fi; \
	exit $$status

benchmark: setup-test
	$(PY) -m benchmarks.run

clean:
	rm -rf $(VENV) build *.egg-info
