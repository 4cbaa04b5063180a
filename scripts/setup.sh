#!/usr/bin/env bash
# Installs what is missing (Debian 12), then configures and builds Sluice into ./build.
# Usage: scripts/setup.sh [extra cmake args...]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)

# Build, runtime and test dependencies, all from Debian (no PyPI: Python packages run under /usr/bin/python3).
pkgs=(build-essential cmake pkg-config git
      libzmq3-dev libwebsockets-dev libjansson-dev uuid-dev zlib1g-dev libssl-dev libseccomp-dev
      clang libclang-rt-14-dev
      python3 python3-jupyter-client python3-ipython python3-numpy python3-matplotlib python3-pandas
      python3-httpx python3-websockets python3-pytest python3-zmq python3-pip
      python3-jupyter-server python3-nbclient python3-nbformat python3-ipykernel python3-tornado
      python3-notebook chromium python3-prometheus-client libpython3-dev
      python3-mypy
      procps iproute2 nftables bubblewrap curl nodejs e2fsprogs mount)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "setup: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

cmake -S "$here" -B "$here/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
cmake --build "$here/build" -j"$(nproc)"
echo "setup: built $here/build/bin/sluice-gateway"
