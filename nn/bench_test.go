package nn

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/flowlab/flowlab/mat"
)

// benchShapes are the cases of flowlab bench (and torch_fm.py): dim, width,
// batch, with three hidden layers.
var benchShapes = []struct {
	name              string
	dim, width, batch int
}{
	{"tiny", 2, 64, 256},
	{"toy2d", 2, 256, 512},
	{"toy2d-4k", 2, 256, 4096},
	{"gauss128", 128, 512, 512},
	{"mnist", 784, 512, 1024},
}

// BenchmarkTrainStep times Forward + Backward (no optimizer) per case and
// reports GFLOPS with the 6·params·batch convention of torch_fm.py.
func BenchmarkTrainStep(b *testing.B) {
	for _, c := range benchShapes {
		for _, arch := range []string{"mlp", "film"} {
			s := c
			cfg := Config{Dim: s.dim, Hidden: []int{s.width, s.width, s.width}, Arch: arch}
			if arch == "film" {
				cfg.TimeEmbed = DefaultTimeEmbed(cfg.Hidden) // flowlab train's default
			}
			b.Run(s.name+"-"+arch, func(b *testing.B) {
				benchTrainStep(b, cfg, s.batch)
			})
		}
	}
}

func benchTrainStep(b *testing.B, cfg Config, batch int) {
	n, err := New(cfg, 1)
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	x, t := randBatch(rng, batch, cfg.Dim)
	g, _ := randBatch(rng, batch, cfg.Dim)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		n.ZeroGrad()
		n.Forward(x, t)
		n.Backward(g, false)
	}
	flops := 6 * float64(len(n.Params())) * float64(batch) * float64(b.N)
	b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOPS")
}

// BenchmarkEval times one field evaluation on 10000 points, as the bench's
// Euler sampler does.
func BenchmarkEval(b *testing.B) {
	for _, s := range benchShapes {
		b.Run(s.name, func(b *testing.B) {
			n, err := New(Config{Dim: s.dim, Hidden: []int{s.width, s.width, s.width}}, 1)
			if err != nil {
				b.Fatal(err)
			}
			x, _ := randBatch(rand.New(rand.NewPCG(3, 4)), 10000, s.dim)
			out := mat.New(10000, s.dim)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				n.Eval(0.5, x, out)
			}
		})
	}
}

// BenchmarkLayerShapes times each GEMM of a toy2d training step separately,
// to show where small shapes cost more than their flops.
func BenchmarkLayerShapes(b *testing.B) {
	const bt, w, in, d = 512, 256, 3, 2
	for _, c := range []struct {
		name    string
		tA, tB  bool
		m, k, n int // op(A) m×k, op(B) k×n
		ar, ac  int
		br, bc  int
	}{
		{"fwd-first", false, true, bt, in, w, bt, in, w, in},
		{"fwd-hidden", false, true, bt, w, w, bt, w, w, w},
		{"fwd-last", false, true, bt, w, d, bt, w, d, w},
		{"dW-last", true, false, d, bt, w, bt, d, bt, w},
		{"dX-last", false, false, bt, d, w, bt, d, d, w},
		{"dW-hidden", true, false, w, bt, w, bt, w, bt, w},
		{"dX-hidden", false, false, bt, w, w, bt, w, w, w},
		{"dW-first", true, false, w, bt, in, bt, w, bt, in},
		// The thin ones computed transposed: (H·Wᵀ)ᵀ = W·Hᵀ, (GᵀX)ᵀ = XᵀG.
		{"fwd-last-T", false, true, d, w, bt, d, w, bt, w},
		{"dW-first-T", true, false, in, bt, w, bt, in, bt, w},
		{"dW-last-T", true, false, w, bt, d, bt, w, bt, d},
	} {
		b.Run(fmt.Sprintf("%s-%dx%dx%d", c.name, c.m, c.k, c.n), func(b *testing.B) {
			a, bb, cc := mat.New(c.ar, c.ac), mat.New(c.br, c.bc), mat.New(c.m, c.n)
			for i := range a.Data {
				a.Data[i] = 0.5
			}
			for i := range bb.Data {
				bb.Data[i] = 0.25
			}
			for i := 0; i < b.N; i++ {
				mat.Gemm(c.tA, c.tB, 1, a, bb, 1, cc)
			}
			b.ReportMetric(2*float64(c.m*c.n*c.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOPS")
		})
	}
}
