#!/usr/bin/env bash
# Installs the Debian packages mqfleet needs, and only those missing. Idempotent: a
# second run installs nothing and does not touch the network.
set -euo pipefail

packages=(
  # toolchain
  g++ cmake ninja-build ccache pkg-config git openssl
  # libraries (all found through find_package)
  libpaho-mqttpp-dev libpaho-mqtt-dev libssl-dev libcli11-dev nlohmann-json3-dev
  libfmt-dev libboost-dev libsqlite3-dev libgtest-dev
  # Chart.js, embedded into the broker's web console at build time (no CDN)
  libjs-chart.js
  # independent peers for the tests and benchmarks (RabbitMQ: a second, clustering broker
  # family; its tests start their own node, never the system service)
  mosquitto mosquitto-clients python3 python3-paho-mqtt python3-websockets rabbitmq-server
  # the dashboards tested in a real browser (headless Chromium driven by Selenium)
  chromium chromium-driver python3-selenium
  # the shells whose completion scripts a test loads
  zsh fish
  # the terminal for `sub --watch` tests (capture-pane reads the screen)
  tmux
  # the Debian package (cpack -G DEB runs dpkg-shlibdeps), the man page checks and the
  # service unit's check (systemd-analyze verify; systemd need not be running)
  dpkg-dev groff-base man-db systemd
  # fuzzing (libFuzzer) and the sanitizer preset
  clang libclang-rt-14-dev
)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages are already installed"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then sudo="sudo"; else
    echo "install-deps: error: not root and no sudo: install as root: apt-get install ${missing[*]}" >&2
    exit 3
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
