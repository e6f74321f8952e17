# bsq-audio: an audio BSQ-ViT tokenizer as a kit of small command-line tools.
#   make demo    install what is needed, build, run the kit on a speech clip
#   make test    install what is needed, build, run the whole test suite

PREFIX    ?= /usr/local
DESTDIR   ?=
BINDIR     = $(DESTDIR)$(PREFIX)/bin
MANDIR     = $(DESTDIR)$(PREFIX)/share/man
BASHDIR    = $(DESTDIR)$(PREFIX)/share/bash-completion/completions
ZSHDIR     = $(DESTDIR)$(PREFIX)/share/zsh/site-functions
FISHDIR    = $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
SHAREDIR   = $(DESTDIR)$(PREFIX)/share/bsq-audio

TOOLS      = bsq-tensor mel specaug spec-metrics bsq-encode bsq-decode bsq-train bsq-plot mel2wav wav-metrics
DEBS       = libsndfile1-dev libfftw3-dev libopenblas-dev libzstd-dev libsoxr-dev libdeflate-dev libssl-dev libopenmpi-dev openmpi-bin pkg-config \
             mandoc man-db espeak-ng sox zsh fish python3-venv
RELEASE    = .build/release
SWIFT     ?= swift
# the release build targets the machine it is built on (AVX2/FMA or AVX-512
# where present); PORTABLE=1 builds for baseline x86-64 (SSE2), to copy elsewhere
# (with FastMath's fused multiply-adds, -D BSQ_FMA, on a CPU that has FMA)
PORTABLE  ?=
HOST_FMA  := $(shell grep -qw fma /proc/cpuinfo 2>/dev/null && echo 1)
SWIFTFLAGS = -c release $(if $(PORTABLE),,-Xswiftc -target-cpu -Xswiftc native $(if $(HOST_FMA),-Xswiftc -DBSQ_FMA))
SUDO       = $(shell [ "$$(id -u)" = 0 ] || echo sudo)
PYTHON    ?= python3
PYENV      = .build/pyenv

.PHONY: all deps build test python-test pyenv install uninstall completions bench bench-deps bench-compare demo experiment clean fuzz fuzz-smoke

all: build

## deps: the Debian packages the kit builds and tests with (idempotent, quiet when present)
deps:
	@missing=$$(for p in $(DEBS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "deps: installing $$missing"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
	fi

build: deps
	$(SWIFT) build $(SWIFTFLAGS)

## test: release build (numerics are too slow unoptimized), unit and black-box CLI tests
test: deps
	$(SWIFT) build $(SWIFTFLAGS)
	BSQ_BIN_DIR=$(CURDIR)/$(RELEASE) $(SWIFT) test $(SWIFTFLAGS)
	$(MAKE) python-test
	$(MAKE) fuzz-smoke

## pyenv: the Python tests' virtual environment, .build/pyenv, made again only when the pins
## (python/requirements-test.txt) or the package's pyproject.toml change: small pinned PyPI
## packages and the package itself (editable); never torch from PyPI (its Linux wheels pull in
## gigabytes of CUDA): --system-site-packages lets a system torch in, else the model tests skip
pyenv: $(PYENV)/.installed

$(PYENV)/.installed: python/requirements-test.txt python/pyproject.toml | deps
	rm -rf $(PYENV)
	$(PYTHON) -m venv --system-site-packages $(PYENV)
	$(PYENV)/bin/python -m pip install -q --disable-pip-version-check -r python/requirements-test.txt
	$(PYENV)/bin/python -m pip install -q --disable-pip-version-check -e ./python
	touch $@

## python-test: the Python package (python/) against the release tools (part of make test)
python-test: pyenv build
	BSQ_BIN_DIR=$(CURDIR)/$(RELEASE) $(PYENV)/bin/python -m unittest discover -s python/tests

## fuzz: libFuzzer with AddressSanitizer over every parser (fuzz/README.md), FUZZ_TIME seconds a target
FUZZ_TIME ?= 60
fuzz: deps
	bash fuzz/run.sh all $(FUZZ_TIME)

## fuzz-smoke: each fuzz target for 5 s over its committed corpus, fixed crashes included (part of make test)
fuzz-smoke: deps
	bash fuzz/run.sh all 5

install: build
	install -d $(BINDIR) $(MANDIR)/man1 $(MANDIR)/man5 $(BASHDIR) $(ZSHDIR) $(FISHDIR)
	for t in $(TOOLS); do install -m 755 $(RELEASE)/$$t $(BINDIR)/$$t; done
	for t in $(TOOLS); do install -m 644 man/man1/$$t.1 $(MANDIR)/man1/$$t.1; done
	install -m 644 man/man5/bsqt.5 $(MANDIR)/man5/bsqt.5
	install -d $(SHAREDIR)
	install -m 644 Sources/BSQAudio/Resources/bsq-audio-tiny18.safetensors $(SHAREDIR)/bsq-audio-tiny18.safetensors
	install -m 644 Sources/BSQAudio/Resources/bsq-audio-vocos-tiny.safetensors $(SHAREDIR)/bsq-audio-vocos-tiny.safetensors
	for t in $(TOOLS); do \
		install -m 644 completions/bash/$$t $(BASHDIR)/$$t; \
		install -m 644 completions/zsh/_$$t $(ZSHDIR)/_$$t; \
		install -m 644 completions/fish/$$t.fish $(FISHDIR)/$$t.fish; done

uninstall:
	for t in $(TOOLS); do rm -f $(BINDIR)/$$t $(MANDIR)/man1/$$t.1 $(BASHDIR)/$$t $(ZSHDIR)/_$$t $(FISHDIR)/$$t.fish; done
	rm -f $(MANDIR)/man5/bsqt.5 $(SHAREDIR)/bsq-audio-tiny18.safetensors $(SHAREDIR)/bsq-audio-vocos-tiny.safetensors
	-rmdir $(SHAREDIR) 2>/dev/null

## completions: regenerate bash/zsh/fish completions from the tools (committed)
completions: build
	mkdir -p completions/bash completions/zsh completions/fish
	for t in $(TOOLS); do \
		$(RELEASE)/$$t --generate-completion-script bash > completions/bash/$$t; \
		$(RELEASE)/$$t --generate-completion-script zsh > completions/zsh/_$$t; \
		$(RELEASE)/$$t --generate-completion-script fish > completions/fish/$$t.fish; done

## bench: throughput against the reference tools, measured in the same run
bench-deps: deps
	@python3 -c "import librosa, soundfile, soxr, torch, torchaudio, zstandard" 2>/dev/null || \
		pip install -q librosa==0.11.0 soundfile soxr zstandard torch==2.11.0 torchaudio==2.11.0

bench: build bench-deps
	bash bench/run.sh

## bench-compare: this tree against OLD=<commit> (built in .bench-old), side by side in one run
bench-compare: build bench-deps
	@[ -n "$(OLD)" ] || { echo "bench-compare: give OLD=<commit>" >&2; exit 2; }
	rm -rf .bench-old && git worktree prune && git worktree add --detach .bench-old $(OLD)
	cd .bench-old && $(SWIFT) build $(SWIFTFLAGS)
	bash bench/compare.sh .bench-old/$(RELEASE) $(RELEASE)

## demo: the main job on a synthesized speech clip
demo: build
	bash demo/run.sh

## experiment: corpus -> mel -> bsq-train -> fine-tune -> codes -> report (about 2 h 30 min on 2 cores; experiment/README.md)
experiment: build
	bash experiment/run.sh

clean:
	rm -rf .build fuzz/.build demo-out bench/out
