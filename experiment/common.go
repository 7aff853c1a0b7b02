package experiment

import (
	"context"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"

	"github.com/flowlab/flowlab/dist"
	"github.com/flowlab/flowlab/mat"
	"github.com/flowlab/flowlab/metrics"
	"github.com/flowlab/flowlab/solve"
)

// subSeed derives an independent seed for one piece of an experiment from
// the run's seed and a label, so that pieces do not share random streams and
// the result does not depend on the order they run in.
func subSeed(seed uint64, label string, i ...int) uint64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "%d/%s", seed, label)
	for _, v := range i {
		fmt.Fprintf(h, "/%d", v)
	}
	return h.Sum64()
}

// newRNG returns a PCG source for one piece of an experiment.
func newRNG(seed uint64, label string, i ...int) *rand.Rand {
	s := subSeed(seed, label, i...)
	return rand.New(rand.NewPCG(s, s^0x9e3779b97f4a7c15))
}

// parallel runs do(0), …, do(n−1) on up to GOMAXPROCS goroutines and returns
// the first error. Each call must write only its own results (by index), so
// that the outcome does not depend on scheduling.
func parallel(ctx context.Context, n int, do func(i int) error) error {
	workers := min(runtime.GOMAXPROCS(0), n)
	next := make(chan int)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := ctx.Err(); err != nil {
					errs[i] = err
					continue
				}
				errs[i] = do(i)
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// draw returns n samples of s.
func draw(s dist.Sampler, n int, rng *rand.Rand) *mat.Dense {
	x := mat.New(n, s.Dim())
	s.Sample(rng, x)
	return x
}

// flowSteps is the number of RK4 steps (4 evaluations each) used to push
// samples through a learned field: 50 steps (200 evaluations); the
// truncation error on the closed-form Gaussian field at this step count is
// far below the effects measured (solve's tests check RK4's order).
const flowSteps = 50

// flow pushes a copy of x through f from t = 0 to 1 (or 1 to 0 when
// backward) with RK4.
func flow(ctx context.Context, f solve.Field, x *mat.Dense, backward bool) (*mat.Dense, error) {
	y := x.Clone()
	_, err := solve.Integrate(ctx, f, y, solve.Options{Method: solve.RK4, Steps: flowSteps, Backward: backward})
	return y, err
}

// norms returns the Euclidean norm of each row, in float64.
func norms(x *mat.Dense) []float64 { return metrics.Norms(x) }

// mean returns the mean of v.
func mean(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

// coords returns column j of x as float64.
func coords(x *mat.Dense, j int) []float64 {
	out := make([]float64, x.R)
	for i := range out {
		out[i] = float64(x.At(i, j))
	}
	return out
}

// colVars returns the variance of each column of x (float64, divisor n−1).
func colVars(x *mat.Dense) []float64 { return metrics.ColVars(x) }

// finite returns x, or nil (JSON null) when x is NaN or infinite, which JSON
// cannot hold.
func finite(x float64) any {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return nil
	}
	return x
}

// grid returns n+1 evenly spaced points on [lo, hi].
func grid(lo, hi float64, n int) []float64 {
	g := make([]float64, n+1)
	for i := range g {
		g[i] = lo + (hi-lo)*float64(i)/float64(n)
	}
	return g
}

// curve evaluates f on xs.
func curve(xs []float64, f func(float64) float64) []float64 {
	ys := make([]float64, len(xs))
	for i, x := range xs {
		ys[i] = f(x)
	}
	return ys
}

// emaFor returns the EMA decay for a run of steps steps: a window of about a
// tenth of the run (1 − 10/steps), at most maxDecay. A fixed decay such as
// 0.999 on a 500-step run would leave the averaged weights mostly at their
// initial values.
func emaFor(maxDecay float64, steps int) float64 {
	return max(0, min(maxDecay, 1-10/float64(steps)))
}
