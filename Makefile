# peermatch: the two commands a new user needs are `make serve` and `make test`.
# Every target installs what is missing first (`make deps`).

BUILD_DIR ?= build
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
  nginx-light openssl

.PHONY: deps build debug test serve clean

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

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)

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
	rm -rf $(BUILD_DIR)
