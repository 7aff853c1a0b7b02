package train

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"

	"github.com/flowlab/flowlab/dist"
	"github.com/flowlab/flowlab/exact"
	"github.com/flowlab/flowlab/interp"
	"github.com/flowlab/flowlab/mat"
	"github.com/flowlab/flowlab/solve"
)

// Sample works in chunks of SampleChunk rows: a batch larger than one chunk
// gives, row by row, what small batches give, at the end and at a recorded
// time (fixed-step RK4; rows are independent, so only float32 summation
// order may differ: 1e-5 absolute on values of order 1).
func TestSampleChunks(t *testing.T) {
	src := gauss(t, 2, 1)
	cfg := smallConfig()
	cfg.Steps = 5
	res, err := Fit(context.Background(), src, src, cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	n := SampleChunk + 1000
	x := mat.New(n, 2)
	src.Sample(rand.New(rand.NewPCG(1, 1)), x)
	orig := x.Clone()
	// Five RK4 steps of 0.2; the one across t = 0.5 is split there (24 NFE).
	o := SampleOptions{NFE: 20, Record: []float64{0.5}}
	r, err := res.Sample(context.Background(), x, o, nil)
	if err != nil || r.NFE != 24 || len(r.Path) != 1 || r.Path[0].R != n || r.Times[0] != 0.5 {
		t.Fatalf("Sample: %v, NFE %d, %d recorded states at %v", err, r.NFE, len(r.Path), r.Times)
	}
	for _, i := range []int{0, 17, SampleChunk - 1, SampleChunk, n - 1} {
		y := orig.Rows(i, i+1).Clone()
		ry, err := res.Sample(context.Background(), y, o, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			name      string
			batch, me *mat.Dense
		}{{"end", x, y}, {"t=0.5", r.Path[0], ry.Path[0]}} {
			row := c.batch.Row(i)
			if c.batch.R == 1 {
				row = c.batch.Row(0)
			}
			for j, v := range c.me.Data {
				if d := math.Abs(float64(v - row[j])); d > 1e-5 || v == orig.At(i, j) {
					t.Fatalf("%s, row %d: batch gives %v, alone %v (start %v)", c.name, i, row, c.me.Data, orig.Row(i))
				}
			}
		}
	}
}

// TestDiffusion checks the ε(t) convention against its closed form for the
// Brownian γ = √(a t(1−t)) (max γ = √a/2 at t = ½, on the grid): ε = eps at
// t = ½, 0 at both ends, and ε/γ = eps/max γ (the factor the score term
// carries) at every t, to float64 rounding (1e-12 relative). γ ≡ 0 has none.
func TestDiffusion(t *testing.T) {
	ip, err := interp.New("linear", "brownian:a=0.5")
	if err != nil {
		t.Fatal(err)
	}
	const eps = 0.8
	eft := Diffusion(ip, eps)
	gmax := math.Sqrt(0.5) / 2
	for _, tt := range []float64{0, 1e-9, 0.1, 0.5, 0.77, 1} {
		g := math.Sqrt(0.5 * tt * (1 - tt))
		got := eft(tt)
		if !(math.Abs(got-eps*g/gmax) <= 1e-12*eps) {
			t.Errorf("ε(%v) = %v, want %v", tt, got, eps*g/gmax)
		}
		if g > 0 && !(math.Abs(got/g-eps/gmax) <= 1e-12*eps/gmax) {
			t.Errorf("ε(%v)/γ = %v, want %v", tt, got/g, eps/gmax)
		}
	}
	zero, _ := interp.New("linear", "0")
	if Diffusion(zero, eps) != nil {
		t.Error("γ ≡ 0 has a diffusion")
	}
}

// TestDiffusionDeadDirections checks a closed form for what the SDE does
// from a rank-deficient source. In a direction the source lacks, the exact
// drift and score of x_t = (1−t)x0 + t·x1 + √(t(1−t))·z make the SDE linear,
// dX = ((½ − ε)/t)·X dt + √(2ε) dW (the marginal variance there is
// m = t² + t(1−t) = t), so u = Var X/t obeys u' = (2ε/t)(1 − u) from
// u(0⁺) = 0 (the noise adds O(t^{3/2})): u(1) = 1 − exp(−2∫ε/t dt) =
// 1 − exp(−2π·eps) for ε(t) = Diffusion(γ, eps) = 2·eps·√(t(1−t)). The
// marginal would say 1: the SDE started on the degenerate source reaches
// the target's variance only as eps grows (0.792 at eps = ¼, 0.957 at ½).
// Measured on embedded:dim=2,rank=1 with n = 20 000 points and 4000
// Euler–Maruyama steps; bound 0.03: three standard errors of a variance
// estimate, 3·√(2/n)·u ≤ 0.03, beside an Euler–Maruyama bias measured at
// under 0.01 with 4000 steps in 128 dimensions (scripts/exactsde).
func TestDiffusionDeadDirections(t *testing.T) {
	if testing.Short() {
		t.Skip("integrates 20 000 points over 4000 steps")
	}
	const n, steps = 20000, 4000
	ip, err := interp.New("linear", "1")
	if err != nil {
		t.Fatal(err)
	}
	f, err := exact.NewGaussianField([]float64{0, 0}, []float64{0.5, 0}, []float64{0, 0}, []float64{1, 1}, ip)
	if err != nil {
		t.Fatal(err)
	}
	src, err := dist.Parse("embedded:dim=2,rank=1,var=0.5")
	if err != nil {
		t.Fatal(err)
	}
	for _, eps := range []float64{0.25, 0.5} {
		rng := rand.New(rand.NewPCG(1, 2))
		x := mat.New(n, 2)
		src.Sample(rng, x)
		opts := solve.SDEOptions{Steps: steps, Eps: Diffusion(ip, eps)}
		if _, err := solve.IntegrateSDE(context.Background(), exact.AwayFromZero{F: f}, exact.AwayFromZero{F: f.ScoreField()}, x, rng, opts); err != nil {
			t.Fatal(err)
		}
		var live, dead float64
		for i := range n {
			live += float64(x.At(i, 0)*x.At(i, 0)) / n
			dead += float64(x.At(i, 1)*x.At(i, 1)) / n
		}
		want := 1 - math.Exp(-2*math.Pi*eps)
		t.Logf("eps %v: dead variance %.4f (closed form %.4f), live %.4f", eps, dead, want, live)
		if !(math.Abs(dead-want) <= 0.03) {
			t.Errorf("eps %v: dead-direction variance %.4f, closed form 1 − exp(−2π·eps) = %.4f", eps, dead, want)
		}
		if !(math.Abs(live-1) <= 0.03) { // three standard errors, as above
			t.Errorf("eps %v: live-direction variance %.4f, want 1 (the source has it)", eps, live)
		}
	}
}

// TestSampleErrors: what users get wrong is an ErrConfig error.
func TestSampleErrors(t *testing.T) {
	src := gauss(t, 2, 1)
	cfg := smallConfig()
	cfg.Steps = 2
	res, err := Fit(context.Background(), src, src, cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, c := range []struct {
		name string
		x    *mat.Dense
		o    SampleOptions
	}{
		{"sde without η", mat.New(3, 2), SampleOptions{SDE: true, Eps: 1}},
		{"dimension", mat.New(3, 4), SampleOptions{}},
		{"negative nfe", mat.New(3, 2), SampleOptions{NFE: -1}},
		{"record time", mat.New(3, 2), SampleOptions{Record: []float64{1.5}}},
		{"solver", mat.New(3, 2), SampleOptions{Solver: "leapfrog"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := res.Sample(context.Background(), c.x, c.o, rng); !errors.Is(err, ErrConfig) {
				t.Errorf("error %v does not wrap ErrConfig", err)
			}
		})
	}
}

// TestStartPoints: a SPEC gives n draws; a data file gives its rows in
// order (all of them, or the first n), and more rows than it has is an
// error; the run's start law follows the direction.
func TestStartPoints(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	x, err := StartPoints("gaussian:dim=3,var=1", 7, false, rng)
	if err != nil || x.R != 7 || x.C != 3 {
		t.Fatalf("SPEC: %v, %v", x, err)
	}
	data := mat.NewFrom(3, 2, []float32{1, 2, 3, 4, 5, 6})
	path := filepath.Join(t.TempDir(), "pts.npy")
	if err := dist.WriteNPYFile(path, data); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		n    int
		all  bool
		want []float32
	}{{"all", 1000, true, data.Data}, {"first 2", 2, false, data.Data[:4]}} {
		t.Run(c.name, func(t *testing.T) {
			x, err := StartPoints(path, c.n, c.all, rng)
			if err != nil || !slices.Equal(x.Data, c.want) {
				t.Errorf("%v, %v; want %v", x, err, c.want)
			}
		})
	}
	if _, err := StartPoints(path, 4, false, rng); err == nil {
		t.Error("4 rows of a 3-row file: no error")
	}
	for _, spec := range []string{path, "gaussian:dim=3"} {
		for _, n := range []int{0, -1} {
			if _, err := StartPoints(spec, n, false, rng); err == nil {
				t.Errorf("%s, n = %d: no error", spec, n)
			}
		}
	}
	m := Model{Config: Config{Source: "a", Target: "b"}}
	if m.StartLaw(false) != "a" || m.StartLaw(true) != "b" {
		t.Error("StartLaw does not follow the direction")
	}
}
