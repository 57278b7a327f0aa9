#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Build a two-file C program with make and gcc, from clean, then run it.
set -e
make -s clean
make -s
./build/hello roar
