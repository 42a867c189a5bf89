#!/usr/bin/env bash
# The lab on a GPU, in one command (under 8 minutes): the engine conformance cases on
# webgpu against cpu, then the GPU timing rows of issue 10 (train wrn-16-4 and wrn-28-10
# at b128, Active Defense wrn-28-10 b256 truncated and full with the paper-protocol
# projection, APGD-CE wrn-28-10 b256), then PyTorch's peer rows on the same GPU when
# PyTorch with CUDA is there. Everything is also written to $OUT_DIR/gpu-check.log.
#
#   scripts/gpu-check.sh [--full]      run here (a checkout after `npm ci && npm run build`,
#                                      or an unpacked bundle from --pack)
#   scripts/gpu-check.sh --pack DIR    on a machine with Node and npm: write
#                                      DIR/adlab-gpu-check.tar.gz for a GPU machine that has
#                                      no Node and no internet
#
# Carrying it to a GPU machine without Node or internet (e.g. the lent H200):
#   1. here: `npm ci && scripts/gpu-check.sh --pack carry` bundles this Node binary, the
#      built lab (out/main), the runtime node_modules it needs (tfjs's Node bundles only,
#      Dawn's dawn.node for linux-x64 only) and, when ADLAB_TORCH_BENCH names the PyTorch
#      peer's bench_torch.py, that file and torch_ref.py beside it: about 50 MB compressed.
#   2. Vulkan loader: the machine's NVIDIA driver brings its ICD but maybe no libvulkan.so.1.
#      If `ldconfig -p | grep libvulkan` prints nothing there, download the loader here
#      (Debian: `apt-get download libvulkan1`) into a folder `.gl` beside the bundle; this
#      script unpacks `.gl/*.deb` into / and runs ldconfig. If Dawn then finds no adapter,
#      VK_DRIVER_FILES is pointed at /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json.
#   3. there: `tar xzf adlab-gpu-check.tar.gz && cd adlab-gpu-check && scripts/gpu-check.sh`.
#      The bundle's Node needs glibc >= 2.28 (dawn.node: >= 2.34), x86-64.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

pack() {
  local dest=$1 name=adlab-gpu-check
  command -v node >/dev/null || { echo "gpu-check --pack: needs node on PATH" >&2; exit 2; }
  [ -d node_modules/webgpu ] && [ -d node_modules/@tensorflow/tfjs-backend-webgpu ] ||
    { echo "gpu-check --pack: node_modules lacks 'webgpu' or '@tensorflow/tfjs-backend-webgpu' (run npm ci)" >&2; exit 2; }
  npm run --silent build >/dev/null || { echo "gpu-check --pack: build failed" >&2; exit 1; }
  local stage
  stage=$(mktemp -d)/$name
  mkdir -p "$stage/node/bin" "$stage/scripts" "$stage/node_modules" "$dest"
  cp "$(command -v node)" "$stage/node/bin/node"
  cp -r out package.json "$stage/"
  rm -rf "$stage/out/renderer" "$stage/out/preload"
  cp scripts/gpu-check.sh "$stage/scripts/"
  # The production dependencies the built lab resolves at run time, minus the app's UI and DB.
  npm ls --omit=dev --all --parseable 2>/dev/null | sed "s|^$ROOT/||" | grep '^node_modules/' |
    grep -Ev '^node_modules/(vue|pinia|chart\.js|better-sqlite3|@vue|typescript|@tensorflow/tfjs-node-gpu|prebuild-install|core-js)(/|$)' |
    sort -u | while read -r p; do mkdir -p "$stage/$(dirname "$p")"; cp -r "$p" "$stage/$p"; done
  # tfjs: Node reads each package's `main` (dist/*.node.js) and the wasm binaries; the browser bundles are most of the size.
  for d in "$stage"/node_modules/@tensorflow/*/dist; do
    find "$d" -mindepth 1 -maxdepth 1 ! -name '*.node.js' ! -name '*.wasm' -exec rm -rf {} +
  done
  find "$stage/node_modules/webgpu/dist" -mindepth 1 -maxdepth 1 ! -name "linux-$(uname -m | sed 's/x86_64/x64/;s/aarch64/arm64/')" -exec rm -rf {} +
  if [ -n "${ADLAB_TORCH_BENCH:-}" ] && [ -f "$ADLAB_TORCH_BENCH" ]; then
    mkdir -p "$stage/torch-bench" && cp "$ADLAB_TORCH_BENCH" "$(dirname "$ADLAB_TORCH_BENCH")/torch_ref.py" "$stage/torch-bench/"
  fi
  tar czf "$dest/$name.tar.gz" -C "$(dirname "$stage")" "$name"
  rm -rf "$(dirname "$stage")"
  echo "wrote $dest/$name.tar.gz ($(du -h "$dest/$name.tar.gz" | cut -f1)); on the GPU machine: tar xzf $name.tar.gz && cd $name && scripts/gpu-check.sh"
}

if [ "${1:-}" = --pack ]; then
  [ -n "${2:-}" ] || { echo "usage: scripts/gpu-check.sh --pack DIR" >&2; exit 2; }
  pack "$2"
  exit 0
fi
QUICK=--quick
[ "${1:-}" = --full ] && QUICK=

OUT_DIR=${OUT_DIR:-${OUT:-$ROOT/gpu-check-out}}
mkdir -p "$OUT_DIR"
LOG=$OUT_DIR/gpu-check.log
exec > >(tee "$LOG") 2>&1
say() { printf '\n== %s\n' "$*"; }

# Node: the bundle's own, else ADLAB_NODE, else the one on PATH.
NODE=${ADLAB_NODE:-}
[ -z "$NODE" ] && [ -x node/bin/node ] && NODE=$ROOT/node/bin/node
[ -z "$NODE" ] && NODE=$(command -v node || true)
if [ -z "$NODE" ]; then
  echo "gpu-check: no Node here. On a machine with Node and npm run 'scripts/gpu-check.sh --pack DIR' and carry DIR/adlab-gpu-check.tar.gz here (see the top of this script)."
  exit 2
fi
[ -f out/main/bench.js ] || { echo "gpu-check: out/main/bench.js missing: run 'npm run build' (or use a --pack bundle)"; exit 2; }

# Vulkan: the loader (carried as .gl/*.deb when the machine lacks it) and the NVIDIA ICD.
if ! ldconfig -p 2>/dev/null | grep -q 'libvulkan\.so\.1'; then
  if compgen -G ".gl/*.deb" >/dev/null || compgen -G "../.gl/*.deb" >/dev/null; then
    for f in .gl/*.deb ../.gl/*.deb; do [ -f "$f" ] && dpkg -x "$f" /; done
    ldconfig
  else
    echo "gpu-check: no libvulkan.so.1 here; carry the Vulkan loader as .gl/*.deb (apt-get download libvulkan1) or install it"
  fi
fi
NV_ICD=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [ -z "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" ] && [ -f "$NV_ICD" ] &&
   ! ls /usr/share/vulkan/icd.d/nvidia_icd*.json /etc/vulkan/icd.d/nvidia_icd*.json >/dev/null 2>&1; then
  export VK_DRIVER_FILES=$NV_ICD
fi
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-$(mktemp -d /tmp/xdg-runtime.XXXXXX)}
chmod 700 "$XDG_RUNTIME_DIR"

say "machine"
date -u
"$NODE" --version
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || echo "(no nvidia-smi)"

# Pinned to webgpu: tfjs-node-gpu (CUDA 11.2) is not what this check measures.
export ADLAB_ENGINE=webgpu
status=0
say "conformance: webgpu against cpu (wrn-10-1, 2-4 images)"
timeout 150 "$NODE" out/main/bench.js --only conformance || status=1

say "timing rows (webgpu${QUICK:+, quick})"
timeout 270 "$NODE" out/main/bench.js --only train,defense,attacks $QUICK || status=1

TORCH_BENCH=${ADLAB_TORCH_BENCH:-}
[ -z "$TORCH_BENCH" ] && [ -f torch-bench/bench_torch.py ] && TORCH_BENCH=torch-bench/bench_torch.py
if [ -n "$TORCH_BENCH" ] && python3 -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
  say "PyTorch peer, FP32 (bench_torch.py --device cuda --batch 256)"
  timeout 60 python3 "$TORCH_BENCH" --device cuda --batch 256 --reps 3 || true
  say "PyTorch peer, TF32 (PyTorch's fast default for convs)"
  timeout 60 python3 "$TORCH_BENCH" --device cuda --batch 256 --reps 3 --tf32 || true
else
  say "PyTorch peer: skipped (no bench_torch.py found or no CUDA PyTorch; set ADLAB_TORCH_BENCH)"
fi

say "done: $( [ $status = 0 ] && echo ok || echo 'FAILED (see above)'); log in $LOG"
exit $status
