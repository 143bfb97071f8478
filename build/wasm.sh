#!/usr/bin/env bash
# Build kernels/*.c into the one WebAssembly module the wasm backend loads:
# core/webtensor/backends/kernels/webtensor_kernels.wasm (shipped in the wheel and site).
# Debian clang + lld, no emscripten, no libc; SIMD128 and the post-MVP features every
# current engine has (bulk memory, saturating float->int, sign extension).
set -euo pipefail
cd "$(dirname "$0")/.."
CLANG=${CLANG:-clang}
# kernels/codes.h: the C enums from the Python tables; fails when a code has no kernel
"${PYTHON:-python3}" build/gen_codes.py
out=core/webtensor/backends/kernels/webtensor_kernels.wasm
mkdir -p "$(dirname "$out")"
"$CLANG" --target=wasm32 -std=c11 -O3 -Wall -Wextra -Werror -Wno-unused-parameter \
    -msimd128 -mbulk-memory -mnontrapping-fptoint -msign-ext \
    -nostdlib \
    -Wl,--no-entry -Wl,--stack-first -Wl,-z,stack-size=1048576 \
    -Wl,--initial-memory=4194304 -Wl,--max-memory=2147483648 \
    -o "$out.tmp" kernels/*.c
mv "$out.tmp" "$out"
echo "built $out ($(wc -c <"$out") bytes)"
