package mat

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"time"
)

// PeakGFLOPS measures this machine's fp32 fused multiply-add peak with kernel
// k's vector width (AVX512: 512-bit, AVX2: 256-bit) on the given number of
// goroutines, each locked to its own OS thread and running 12 independent FMA
// chains (enough to cover the FMA latency on both FMA ports) for about d. It
// returns the best of a few repeats, in GFLOPS summed over the goroutines
// (1 GFLOPS = 10⁹ flops/s, an FMA counting as two flops). It fails for the
// generic kernel (there is no hardware FMA loop to time), for a kernel the CPU
// lacks, or when ctx ends first.
func PeakGFLOPS(ctx context.Context, k Kernel, threads int, d time.Duration) (float64, error) {
	if k == Generic || !k.Supported() {
		return 0, fmt.Errorf("mat: no FMA peak loop for kernel %s on this CPU", k)
	}
	if threads < 1 {
		return 0, fmt.Errorf("mat: PeakGFLOPS needs at least one thread, got %d", threads)
	}
	// Calibrate: iterations per ~1 ms on one thread.
	n := 1 << 12
	for {
		t0 := time.Now()
		fmaLoop(k, n)
		if time.Since(t0) > time.Millisecond || n > 1<<30 {
			break
		}
		n *= 2
	}
	const repeats = 5
	per := d / repeats
	best := 0.0
	for r := 0; r < repeats; r++ {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		var wg sync.WaitGroup
		flops := make([]float64, threads)
		start := make(chan struct{})
		for w := 0; w < threads; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
				<-start
				t0 := time.Now()
				for time.Since(t0) < per {
					flops[w] += fmaLoop(k, n)
				}
			}()
		}
		t0 := time.Now()
		close(start)
		wg.Wait()
		el := time.Since(t0).Seconds()
		total := 0.0
		for _, f := range flops {
			total += f
		}
		best = max(best, total/el/1e9)
	}
	return best, nil
}
