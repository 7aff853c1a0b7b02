package optim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/flowlab/flowlab/mat"
)

// withKernels runs f as a subtest on every kernel path this CPU supports,
// with that path in use.
func withKernels(t *testing.T, f func(t *testing.T, k mat.Kernel)) {
	for _, k := range mat.SupportedKernels() {
		restore, err := mat.SetKernel(k)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(k.String(), func(t *testing.T) { f(t, k) })
		restore()
	}
}

// normals returns n float32 draws from N(0, 1).
func normals(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(rng.NormFloat64())
	}
	return s
}

// TestAdamKernel runs two Adam(W) steps of adamUpdate and compares each with
// the formulas of torch.optim.AdamW evaluated in float64 from the same
// float32 starting point. Tolerance on p: 1e-5 of the step's change plus
// 1e-7·|p|: the update is ~10 float32 operations of ≤ 1 ulp each (≤ 1e-6
// relative to the change), and p − change is rounded once more to float32
// (≤ 6e-8·|p|). m and v are two products and a sum (≤ 3 ulp = 2e-7 of the
// larger term; v has no cancellation, so 1e-6 relative to v).
func TestAdamKernel(t *testing.T) {
	withKernels(t, func(t *testing.T, k mat.Kernel) {
		rng := rand.New(rand.NewPCG(15, 16))
		const n = 37 // a vector body plus a scalar tail on both vector paths
		p := normals(rng, n)
		m, v := make([]float32, n), make([]float32, n)
		m64, v64 := make([]float64, n), make([]float64, n)
		// The hyper-parameters are float32 in adamStep; the reference uses
		// exactly those values (float32(0.999) is 0.99899995…, so 1−β2 is
		// 1.0000467e-3, not 1e-3).
		h := adamStep{lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, wd: 0.01}
		lr, b1, b2, eps, wd := float64(h.lr), float64(h.beta1), float64(h.beta2), float64(h.eps), float64(h.wd)
		for step := 1; step <= 2; step++ {
			g := normals(rng, n)
			h.c1, h.c2 = float32(1-math.Pow(b1, float64(step))), float32(1-math.Pow(b2, float64(step)))
			c1, c2 := float64(h.c1), float64(h.c2)
			pOld := append([]float32(nil), p...)
			adamUpdate(h, p, g, m, v)
			for i := range p {
				gi := float64(g[i])
				mPrev := m64[i]
				m64[i] = b1*mPrev + (1-b1)*gi
				v64[i] = b2*v64[i] + (1-b2)*gi*gi
				p0 := float64(pOld[i])
				want := p0 - lr*wd*p0 - lr*(m64[i]/c1)/(math.Sqrt(v64[i]/c2)+eps)
				if !(math.Abs(float64(p[i])-want) <= 1e-5*math.Abs(want-p0)+1e-7*math.Abs(want)) {
					t.Fatalf("step %d, i=%d: p = %v, want %v", step, i, p[i], want)
				}
				// m is a sum of two products that may cancel: bound its error
				// by 3 ulp of the larger term, not of the result.
				mScale := max(math.Abs(b1*mPrev), math.Abs((1-b1)*gi))
				if !(math.Abs(float64(m[i])-m64[i]) <= 2e-7*mScale) || !(math.Abs(float64(v[i])-v64[i]) <= 1e-6*v64[i]) {
					t.Fatalf("step %d, i=%d: m, v = %v, %v, want %v, %v", step, i, m[i], v[i], m64[i], v64[i])
				}
				m64[i], v64[i] = float64(m[i]), float64(v[i])
			}
		}
	})
}

// TestAdamKernelSameBits checks that adamUpdate gives the same bits on every
// kernel path and for any GOMAXPROCS: the vector kernels repeat the scalar
// loop's operations in the same order, and the split across goroutines
// (77100 parameters: above adamParallelMin, with a ragged last chunk) is by
// whole parameters. The reference is the generic path on one goroutine.
func TestAdamKernelSameBits(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	const n = 77100
	rng := rand.New(rand.NewPCG(21, 22))
	p0, g, m0 := normals(rng, n), normals(rng, n), normals(rng, n)
	h := adamStep{lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, c1: 0.1, c2: 0.001, wd: 0.01}
	step := func() [3][]float32 {
		p, m, v := append([]float32(nil), p0...), append([]float32(nil), m0...), make([]float32, n)
		adamUpdate(h, p, g, m, v)
		return [3][]float32{p, m, v}
	}
	restore, err := mat.SetKernel(mat.Generic)
	if err != nil {
		t.Fatal(err)
	}
	runtime.GOMAXPROCS(1)
	want := step()
	restore()
	withKernels(t, func(t *testing.T, k mat.Kernel) {
		for _, procs := range []int{1, 2, 3} {
			runtime.GOMAXPROCS(procs)
			got := step()
			for a, name := range []string{"p", "m", "v"} {
				for i := range want[a] {
					if math.Float32bits(got[a][i]) != math.Float32bits(want[a][i]) {
						t.Fatalf("GOMAXPROCS=%d: %s[%d] = %v, want %v", procs, name, i, got[a][i], want[a][i])
					}
				}
			}
		}
	})
}

// BenchmarkAdamKernel times one Adam step over 512×256 parameters (toy2d's
// hidden layer) on every kernel path, in parameters per ns (including the
// copies that refresh the moments).
func BenchmarkAdamKernel(b *testing.B) {
	const n = 512 * 256
	rng := rand.New(rand.NewPCG(1, 2))
	p, g := normals(rng, n), normals(rng, n)
	m, v := make([]float32, n), make([]float32, n)
	h := adamStep{lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, c1: 0.1, c2: 0.001}
	for _, k := range mat.SupportedKernels() {
		b.Run(fmt.Sprint(k), func(b *testing.B) {
			restore, _ := mat.SetKernel(k)
			defer restore()
			b.ReportAllocs()
			for b.Loop() {
				// Fresh moments each time: repeated updates would drift
				// into subnormals, which are slow everywhere.
				for i := range v {
					m[i], v[i] = 0.01, 1e-4
				}
				adamUpdate(h, p, g, m, v)
			}
			b.ReportMetric(float64(n)*float64(b.N)/float64(b.Elapsed().Nanoseconds()), "elem/ns")
		})
	}
}
