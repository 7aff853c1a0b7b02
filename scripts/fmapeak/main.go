// Command fmapeak measures this machine's fp32 fused multiply-add peak: 12
// independent FMA chains in Go assembly, with 512-bit (AVX-512) and 256-bit
// (AVX2) vectors, on one thread and on all GOMAXPROCS threads at once.
//
//	go run ./scripts/fmapeak [-d 2s] [-json]
//
// GEMM efficiency in docs/PERFORMANCE.md is quoted against these figures.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"time"

	"github.com/flowlab/flowlab/mat"
)

type result struct {
	Kernel    string  `json:"kernel"`
	Threads   int     `json:"threads"`
	GFLOPS    float64 `json:"gflops"`
	PerThread float64 `json:"gflops_per_thread"`
}

func main() {
	d := flag.Duration("d", 2*time.Second, "measuring time per figure")
	asJSON := flag.Bool("json", false, "print JSON")
	flag.Parse()
	all := runtime.GOMAXPROCS(0)
	var out []result
	for _, k := range mat.SupportedKernels() {
		if k == mat.Generic {
			continue
		}
		for _, th := range []int{1, all} {
			g, err := mat.PeakGFLOPS(context.Background(), k, th, *d)
			if err != nil {
				fmt.Fprintln(os.Stderr, "fmapeak:", err)
				os.Exit(1)
			}
			out = append(out, result{k.String(), th, g, g / float64(th)})
			if th == all {
				break
			}
		}
	}
	if len(out) == 0 {
		fmt.Fprintln(os.Stderr, "fmapeak: this CPU has neither AVX2+FMA nor AVX-512")
		os.Exit(1)
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			fmt.Fprintln(os.Stderr, "fmapeak:", err)
			os.Exit(1)
		}
		return
	}
	for _, r := range out {
		fmt.Printf("%-7s threads %d: %7.1f GFLOPS (%.1f per thread)\n", r.Kernel, r.Threads, r.GFLOPS, r.PerThread)
	}
}
