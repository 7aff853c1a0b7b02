// Command fmapeak measures this machine's fp32 fused multiply-add peak: 12
// independent FMA chains in Go assembly, with 512-bit (AVX-512) and 256-bit
// (AVX2) vectors, on one thread and on all GOMAXPROCS threads at once. With
// -gemm it also times mat.Gemm on the shapes docs/PERFORMANCE.md quotes and
// prints each as GFLOPS and as a percentage of the all-thread peak of the
// same kernel path.
//
//	go run ./scripts/fmapeak [-d 2s] [-gemm] [-threads N] [-reps 50] [-json]
//
// -threads sets GOMAXPROCS (default: all CPUs). On a machine shared with
// other work, the best of many short repeats is the figure least disturbed by
// the neighbours: each GEMM figure is the best of -reps timings of one call
// (several calls for products under a millisecond), and the peak it is
// compared with is the best seen over the whole run.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"time"

	"github.com/flowlab/flowlab/mat"
)

type peakResult struct {
	Kernel    string  `json:"kernel"`
	Threads   int     `json:"threads"`
	GFLOPS    float64 `json:"gflops"`
	PerThread float64 `json:"gflops_per_thread"`
}

type gemmResult struct {
	Kernel  string  `json:"kernel"`
	Case    string  `json:"case"`
	M, N, K int     `json:"-"`
	Threads int     `json:"threads"`
	GFLOPS  float64 `json:"gflops"`
	Percent float64 `json:"percent_of_peak"`
}

// gemmCases are the shapes of the GEMM section of docs/PERFORMANCE.md.
var gemmCases = []struct {
	name    string
	tA, tB  bool
	m, n, k int
}{
	{"1024³ A·B", false, false, 1024, 1024, 1024},
	{"fwd X·W 4096×256×784", false, false, 4096, 256, 784},
	{"dW Xᵀ·G 784×256×4096", true, false, 784, 256, 4096},
	{"dX G·Wᵀ 4096×784×256", false, true, 4096, 784, 256},
	{"fwd X·W 4096×784×256", false, false, 4096, 784, 256},
	{"dW Xᵀ·G 256×784×4096", true, false, 256, 784, 4096},
	{"dX G·Wᵀ 4096×256×784", false, true, 4096, 256, 784},
	{"mid 512×256×257", false, false, 512, 256, 257},
	{"small 256×64×65", false, false, 256, 64, 65},
}

func main() {
	d := flag.Duration("d", 2*time.Second, "measuring time per peak figure")
	doGemm := flag.Bool("gemm", false, "also time mat.Gemm")
	reps := flag.Int("reps", 50, "repeats per GEMM case (the best is kept)")
	threads := flag.Int("threads", 0, "GOMAXPROCS (0: all CPUs)")
	asJSON := flag.Bool("json", false, "print JSON")
	flag.Parse()
	if *threads > 0 {
		runtime.GOMAXPROCS(*threads)
	}
	if err := run(*d, *doGemm, *reps, *asJSON); err != nil {
		fmt.Fprintln(os.Stderr, "fmapeak:", err)
		os.Exit(1)
	}
}

func run(d time.Duration, doGemm bool, reps int, asJSON bool) error {
	ctx := context.Background()
	all := runtime.GOMAXPROCS(0)
	var peaks []peakResult
	peakAll := map[mat.Kernel]float64{}
	for _, k := range mat.SupportedKernels() {
		if k == mat.Generic {
			continue
		}
		for _, th := range []int{1, all} {
			g, err := mat.PeakGFLOPS(ctx, k, th, d)
			if err != nil {
				return err
			}
			peaks = append(peaks, peakResult{k.String(), th, g, g / float64(th)})
			if th == all {
				peakAll[k] = g
				break
			}
		}
	}
	if len(peaks) == 0 {
		return fmt.Errorf("this CPU has neither AVX2+FMA nor AVX-512")
	}
	var gemms []gemmResult
	if doGemm {
		for _, k := range mat.SupportedKernels() {
			if k == mat.Generic {
				continue
			}
			restore, err := mat.SetKernel(k)
			if err != nil {
				return err
			}
			for _, gc := range gemmCases {
				best := timeGemm(gc.tA, gc.tB, gc.m, gc.n, gc.k, reps)
				// Re-measure the peak next to it: the neighbours' load changes.
				p, err := mat.PeakGFLOPS(ctx, k, all, 200*time.Millisecond)
				if err != nil {
					return err
				}
				peakAll[k] = max(p, peakAll[k])
				gemms = append(gemms, gemmResult{Kernel: k.String(), Case: gc.name, M: gc.m, N: gc.n, K: gc.k, Threads: all, GFLOPS: best})
			}
			restore()
		}
	}
	// Percentages against the best peak seen in the whole run.
	for i := range gemms {
		gemms[i].Percent = 100 * gemms[i].GFLOPS / peakOf(peakAll, gemms[i].Kernel)
	}
	if asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Peak []peakResult `json:"peak"`
			Gemm []gemmResult `json:"gemm,omitempty"`
		}{peaks, gemms})
	}
	for _, r := range peaks {
		fmt.Printf("peak %-7s threads %d: %7.1f GFLOPS (%.1f per thread)\n", r.Kernel, r.Threads, r.GFLOPS, r.PerThread)
	}
	for _, r := range gemms {
		fmt.Printf("gemm %-7s %-24s threads %d: %7.1f GFLOPS  %5.1f %% of peak %.1f\n", r.Kernel, r.Case, r.Threads, r.GFLOPS, r.Percent, peakOf(peakAll, r.Kernel))
	}
	return nil
}

func peakOf(p map[mat.Kernel]float64, name string) float64 {
	k, _ := mat.ParseKernel(name)
	return p[k]
}

// timeGemm returns the best GFLOPS of reps timed runs of one product (each
// run one call, or enough calls to last about a millisecond).
func timeGemm(tA, tB bool, m, n, k, reps int) float64 {
	rng := rand.New(rand.NewPCG(1, 2))
	ar, ac := m, k
	if tA {
		ar, ac = k, m
	}
	br, bc := k, n
	if tB {
		br, bc = n, k
	}
	a, b, c := mat.New(ar, ac), mat.New(br, bc), mat.New(m, n)
	for _, x := range [][]float32{a.Data, b.Data} {
		for i := range x {
			x[i] = 2*rng.Float32() - 1
		}
	}
	flops := 2 * float64(m) * float64(n) * float64(k)
	inner := max(1, int(1e-3/(flops/100e9))) // ≥ 1 ms at 100 GFLOPS
	mat.Gemm(tA, tB, 1, a, b, 0, c)          // warm up: buffers, caches
	best := 0.0
	for r := 0; r < reps; r++ {
		t0 := time.Now()
		for i := 0; i < inner; i++ {
			mat.Gemm(tA, tB, 1, a, b, 0, c)
		}
		best = max(best, flops*float64(inner)/time.Since(t0).Seconds()/1e9)
	}
	return best
}
