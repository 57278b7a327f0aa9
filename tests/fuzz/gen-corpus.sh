#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Regenerate the fuzzer's seed corpus (tests/fuzz/corpus) from
# gen_corpus.c, which packs its frames with preload/event.c: run after a
# change to the wire format or to the scenarios there.
set -euo pipefail
cd "$(dirname "$0")/../.."
tests/fuzz/run.sh --build
rm -rf tests/fuzz/corpus
mkdir tests/fuzz/corpus
build-fuzz/tests/fuzz/gen_corpus tests/fuzz/corpus
