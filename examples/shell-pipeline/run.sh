#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Word frequencies: five processes joined by pipes, one input, one output.
set -e
mkdir -p out
cat words.txt | tr 'A-Z ' 'a-z\n' | sort | uniq -c | sort -rn > out/counts.txt
echo "shell pipeline done: $(wc -l < out/counts.txt) distinct words"
