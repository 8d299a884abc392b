#!/usr/bin/env bash
# The SDK as a third party gets it: installed into a temporary prefix, the example plugin configured from the
# installed copy with find_package(AnnexSDK), built with g++/libstdc++ and with clang/libc++, and each build
# loaded into this tree's annexd (built with g++/libstdc++) and exercised over HTTP.
#   sdk_out_of_tree.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=${1:?BUILD_DIR}
work=$(mktemp -d /tmp/annex-oot.XXXXXX)
trap 'rm -rf "$work"' EXIT
prefix="$work/prefix"

cmake --install "$build" --component sdk --prefix "$prefix" >/dev/null
example="$prefix/share/annex/sdk/examples/hello"
[ -f "$example/CMakeLists.txt" ] || { echo "the installed SDK has no example at $example" >&2; exit 1; }
[ -f "$prefix/lib/cmake/AnnexSDK/AnnexSDKConfig.cmake" ] || [ -f "$prefix/lib/x86_64-linux-gnu/cmake/AnnexSDK/AnnexSDKConfig.cmake" ] \
  || { echo "AnnexSDKConfig.cmake was not installed" >&2; exit 1; }

build_variant() {  # name, then extra cmake arguments
  local name=$1; shift
  echo "== building the example out of tree with $name"
  cmake -S "$example" -B "$work/$name" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release "$@" >"$work/$name.log" 2>&1 \
    || { cat "$work/$name.log" >&2; exit 1; }
  cmake --build "$work/$name" -j2 >>"$work/$name.log" 2>&1 || { cat "$work/$name.log" >&2; exit 1; }
  local module="$work/$name/hello.so"
  [ -f "$module" ] || { echo "no hello.so in $work/$name" >&2; exit 1; }
  # Exactly one exported symbol: the query function.
  local exported
  exported=$(nm -D --defined-only "$module" | awk '$2 ~ /^[TDBRW]$/ {print $3}' | sort -u)
  if [ "$exported" != "annex_plugin_query_v1" ]; then
    echo "hello.so ($name) exports more than annex_plugin_query_v1:" >&2; echo "$exported" >&2; exit 1
  fi
  mkdir -p "$work/$name/plugins"
  cp "$module" "$work/$name/plugins/"
}

build_variant gcc -DCMAKE_CXX_COMPILER=g++
ANNEX_OOT_PLUGIN_DIR="$work/gcc/plugins" "$build/tests/annex_oot_check"

if ! command -v clang++ >/dev/null || [ ! -e /usr/lib/llvm-14/lib/libc++.so ] && ! ls /usr/lib/x86_64-linux-gnu/libc++.so* >/dev/null 2>&1; then
  echo "clang++ with libc++ is required for this test (apt-get install clang libc++-dev libc++abi-dev)" >&2
  exit 1
fi
build_variant clang-libcxx -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_CXX_FLAGS=-stdlib=libc++ \
  -DCMAKE_MODULE_LINKER_FLAGS=-stdlib=libc++ -DCMAKE_SHARED_LINKER_FLAGS=-stdlib=libc++
if ! readelf -d "$work/clang-libcxx/hello.so" | grep -q 'libc++'; then
  echo "the clang build of hello.so does not link libc++" >&2; readelf -d "$work/clang-libcxx/hello.so" >&2; exit 1
fi
if readelf -d "$work/clang-libcxx/hello.so" | grep -q 'libstdc++'; then
  echo "the clang build of hello.so links libstdc++ too" >&2; exit 1
fi
ANNEX_OOT_PLUGIN_DIR="$work/clang-libcxx/plugins" "$build/tests/annex_oot_check"
echo "out-of-tree SDK builds (g++/libstdc++ and clang/libc++) load and serve"
