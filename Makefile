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
	$(PY) -m pip install --quiet -e ".[tensorflow,lab,slim]"
	touch $@

$(VENV)/.test-installed: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e ".[tensorflow,lab,test]"
	touch $@

# Colab's notebook stack, installed beside the project's own (a --target
# directory, put first on PYTHONPATH): `make test` runs the magics, the
# inspector and %tf1debug on it, in-process and in a real kernel.
# ipywidgets 7 needs no front-end package in a kernel: --no-deps keeps
# widgetsnbextension (and the classic notebook it pulls) out.
COLAB := $(VENV)/colab
COLAB_PINS := ipython==7.34.0 ipykernel==5.5.6 ipywidgets==7.7.1
$(COLAB)/.installed: Makefile | $(PY)
	rm -rf $(COLAB)
	$(PY) -m pip install --quiet --no-warn-conflicts --target $(COLAB) \
		ipython==7.34.0 ipykernel==5.5.6 jupyter-client==6.1.12 tornado==6.3.3 \
		ipython-genutils==0.2.0
	$(PY) -m pip install --quiet --no-warn-conflicts --no-deps --target $(COLAB) ipywidgets==7.7.1
	touch $@

# The lessons' kernel: TensorFlow's C++ start-up lines are filtered out
# before they reach a notebook (see notebooks/tools/quiet_kernel.py).
KERNELS := $(VENV)/share/jupyter/lessons
$(KERNELS)/kernels/python3/kernel.json: notebooks/tools/quiet_kernel.py | $(PY)
	$(PY) notebooks/tools/quiet_kernel.py install $(KERNELS)

setup-lab: $(VENV)/.lab-installed $(KERNELS)/kernels/python3/kernel.json
setup-test: $(VENV)/.test-installed $(COLAB)/.installed browser \
	$(KERNELS)/kernels/python3/kernel.json

# Containers and CI machines often run as root, which JupyterLab refuses by default.
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root,)

# The lessons open from a copy (lessons-workspace/, git-ignored), so running
# and autosaving them never changes the committed lessons that `make test`
# compares with. A lesson newer in notebooks/ replaces its copy; the copy you
# edited is kept beside it as NAME.ipynb.~1~.
WORKSPACE := lessons-workspace
LESSONS := $(wildcard notebooks/[0-9][0-9]_*.ipynb)
$(WORKSPACE)/%.ipynb: notebooks/%.ipynb
	@mkdir -p $(WORKSPACE)
	cp --backup=numbered $< $@

lessons: setup-lab $(patsubst notebooks/%,$(WORKSPACE)/%,$(LESSONS))
	JUPYTER_PATH=$(abspath $(KERNELS)) $(VENV)/bin/jupyter lab --no-browser --ip=127.0.0.1 \
		--port=$(PORT) $(ALLOW_ROOT) --ServerApp.root_dir=$(WORKSPACE)

# Debian's Chromium for the browser tests (Playwright drives it). Without
# recommends: no avahi, cups or desktop services, a few hundred MB less.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ]; then \
			echo "installing chromium (log: $(VENV)/chromium-install.log)"; \
			{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
				--no-install-recommends chromium; } > $(VENV)/chromium-install.log 2>&1 \
			|| { tail -20 $(VENV)/chromium-install.log; exit 1; }; \
		else echo "chromium is missing: run 'sudo make browser'"; exit 1; fi; }

test: setup-test
	@echo "== notebook kit on Colab's versions: $(COLAB_PINS) =="
	@PYTHONPATH=$(abspath $(COLAB)) TF1KIT_EXPECT_VERSIONS="$(COLAB_PINS)" \
		TF_CPP_MIN_LOG_LEVEL=3 $(PY) -m pytest -q -p no:cacheprovider \
		tests/notebook/test_nb_tf1layer.py tests/notebook/test_nb_debugger.py \
		tests/notebook/test_nb_inspector.py tests/notebook/test_nb_kernel.py
	@echo "== full suite =="
	@JUPYTER_PATH=$(abspath $(KERNELS)) TF_CPP_MIN_LOG_LEVEL=3 $(PY) -m pytest tests notebooks \
		--nbval --nbval-sanitize-with notebooks/nbval_sanitize.cfg -p no:cacheprovider; \
	status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest collected no tests: failing"; exit 1; fi; \
	exit $$status

benchmark: setup-test
	$(PY) -m benchmarks.run

clean:
	rm -rf $(VENV) build *.egg-info
