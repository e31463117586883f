# Shared by tools/run and tools/test: package installation and the build.
# shellcheck shell=bash

PAYBELL_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PAYBELL_BUILD_DIR="${PAYBELL_BUILD_DIR:-$PAYBELL_ROOT/build}"

# Debian packages needed to build and run (TOOLCHAIN.md).
PAYBELL_BUILD_PACKAGES=(
  cmake g++ make pkg-config libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev
  protobuf-compiler libsoci-dev libboost-dev libpq-dev libsqlite3-dev libcpp-httplib-dev
  libssl-dev libcurl4-openssl-dev nlohmann-json3-dev libspdlog-dev libcli11-dev libjwt-dev
  libmstch-dev libgtest-dev libgmock-dev libbenchmark-dev grpc-proto
)
# Further packages the tests need: a PostgreSQL server to throw away; Debian's aiosmtpd (the
# SMTP peer, run with /usr/bin/python3), the openssl CLI (the throwaway CA) and Debian's
# chromium (the browser tier drives /usr/bin/chromium with playwright-core; Playwright's own
# browser download is never used); wrk for the benchmark's smoke run (tools/bench/run --smoke).
PAYBELL_TEST_PACKAGES=(postgresql python3-aiosmtpd openssl chromium wrk)

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# Installs the named Debian packages that are missing (one apt-get update, only when needed).
ensure_packages() {
  local missing=() pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" ||
      missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing missing packages: ${missing[*]}"
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "need root (or sudo) to install: ${missing[*]}" >&2; return 1; }
    sudo=(sudo)
  fi
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${missing[@]}"
}

# Node.js (18 or newer) and npm for the tests that use third-party clients; Debian's when none
# is installed (Debian 12's nodejs is 18, which tests/e2e/node/package.json supports).
ensure_node() {
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    ensure_packages nodejs npm
  fi
  local major
  major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || true)"
  case "$major" in '' | *[!0-9]*) major=0 ;; esac
  if [ "$major" -lt 18 ]; then
    echo "the Node.js test clients need Node.js 18 or newer; found $(command -v node || echo none)" \
      "($(node --version 2>/dev/null || echo 'no version'))" >&2
    return 1
  fi
}

# Configures (once) and builds the given targets, or everything.
build() {
  local jobs
  jobs="$(nproc 2>/dev/null || echo 2)"
  [ "$jobs" -gt 2 ] || jobs=2
  # Configure every time (cheap once configured), so options such as tools/test's
  # -DPAYBELL_WERROR=ON apply even to a build directory tools/run configured first.
  log "configuring $PAYBELL_BUILD_DIR"
  # shellcheck disable=SC2086
  cmake -S "$PAYBELL_ROOT" -B "$PAYBELL_BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    ${PAYBELL_CMAKE_ARGS:-} >/dev/null
  log "building ${*:-everything}"
  if [ $# -gt 0 ]; then
    local targets=()
    for t in "$@"; do targets+=(--target "$t"); done
    cmake --build "$PAYBELL_BUILD_DIR" -j"$jobs" "${targets[@]}"
  else
    cmake --build "$PAYBELL_BUILD_DIR" -j"$jobs"
  fi
}
