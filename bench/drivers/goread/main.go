// SPDX-License-Identifier: Apache-2.0

// goread DIR PASSES: reads every file of DIR (os.ReadFile: open, fstat,
// read, close), PASSES times over, and prints the bytes read.  Built by
// bench/run with CGO_ENABLED=0: a static Go program, which only the
// seccomp supervisor can trace.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: goread DIR PASSES")
		os.Exit(2)
	}
	passes, err := strconv.Atoi(os.Args[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	names, err := filepath.Glob(filepath.Join(os.Args[1], "*"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	total := 0
	for i := 0; i < passes; i++ {
		for _, n := range names {
			b, err := os.ReadFile(n)
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			total += len(b)
		}
	}
	fmt.Println(total)
}
