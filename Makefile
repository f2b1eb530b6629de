# Two commands matter (see README): `make run` and `make test`. Both set up .venv first.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)

.PHONY: run test bench notebook clean

$(STAMP): requirements.txt requirements-dev.txt
	@$(PY) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "segwork needs Python 3.11 or newer")'
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	@# the project on the venv's path (like `pip install -e .`): Jupyter kernels started in notebooks/ import segwork
	$(BIN)/python -c 'import site, sys; open(site.getsitepackages()[0] + "/segwork-project.pth", "w").write(sys.argv[1] + "\n")' "$(CURDIR)"
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python -m segwork run

test: $(STAMP)
	bash scripts/ensure-browser.sh
	$(BIN)/python -m pytest -n 2 --dist loadfile

bench: $(STAMP)
	$(BIN)/python -m bench $(ARGS)

notebook: $(STAMP)
	PYTHONPATH="$(CURDIR)" $(BIN)/python -m jupyter lab --notebook-dir=notebooks $(if $(filter 0,$(shell id -u)),--allow-root)

clean:
	rm -rf $(VENV) .pytest_cache
