package diagnose

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"testing"

	gmat "gonum.org/v1/gonum/mat"

	"github.com/flowlab/flowlab/mat"
	"github.com/flowlab/flowlab/nn"
	"github.com/flowlab/flowlab/solve"
)

// linear is v(x, t) = c(t)·B·x with c(t) = cos(2t): J = c(t)·B, whose
// singular values are |c(t)|·σ(B) and log-norm c·λmax(Bs) (c ≥ 0) or
// c·λmin(Bs) (c < 0), Bs = (B+Bᵀ)/2; the flow map from t0 to t1 is
// exp((C(t1) − C(t0))·B), C(t) = sin(2t)/2.
type linear struct {
	b []float64 // d×d row-major
	d int
}

func (l *linear) c(t float64) float64 { return math.Cos(2 * t) }
func (l *linear) Dim() int            { return l.d }

func (l *linear) apply(t float64, x, out *mat.Dense, transpose bool) {
	c := l.c(t)
	for i := 0; i < x.R; i++ {
		xr, or := x.Row(i), out.Row(i)
		for a := 0; a < l.d; a++ {
			var s float64
			for k := 0; k < l.d; k++ {
				bak := l.b[a*l.d+k]
				if transpose {
					bak = l.b[k*l.d+a]
				}
				s += bak * float64(xr[k])
			}
			or[a] = float32(c * s)
		}
	}
}

func (l *linear) Eval(t float64, x, out *mat.Dense) { l.apply(t, x, out, false) }
func (l *linear) JVP(t float64, x, dx, out, dout *mat.Dense) {
	l.apply(t, x, out, false)
	l.apply(t, dx, dout, false)
}

// withVJP adds the VJP (B's transpose).
type withVJP struct{ *linear }

func (l withVJP) VJP(t float64, x, u, dst *mat.Dense) { l.apply(t, u, dst, true) }

func newLinear(d int, seed uint64) *linear {
	rng := rand.New(rand.NewPCG(seed, 1))
	b := make([]float64, d*d)
	for i := range b {
		b[i] = rng.NormFloat64() / math.Sqrt(float64(d))
	}
	for a := 0; a < d; a++ {
		b[a*d+a] += 0.3 * float64(a%3-1) // distinct singular values, some structure
	}
	return &linear{b: b, d: d}
}

// exactAt returns σ(J(t)) descending, λmax((J+Jᵀ)/2) and tr J.
func (l *linear) exactAt(t float64) (sig []float64, logNorm, div float64) {
	c := l.c(t)
	sig = singularValues(l.b, l.d, l.d)
	for i := range sig {
		sig[i] *= math.Abs(c)
	}
	s := gmat.NewSymDense(l.d, nil)
	for a := 0; a < l.d; a++ {
		div += c * l.b[a*l.d+a]
		for k := a; k < l.d; k++ {
			s.SetSym(a, k, c*(l.b[a*l.d+k]+l.b[k*l.d+a])/2)
		}
	}
	var es gmat.EigenSym
	es.Factorize(s, false)
	ev := es.Values(nil)
	return sig, ev[len(ev)-1], div
}

// exactFlow returns exp((C(t1) − C(t0))·B) row-major.
func (l *linear) exactFlow(t0, t1 float64) []float64 {
	dc := (math.Sin(2*t1) - math.Sin(2*t0)) / 2
	a := gmat.NewDense(l.d, l.d, nil)
	for i, v := range l.b {
		a.Set(i/l.d, i%l.d, dc*v)
	}
	var e gmat.Dense
	e.Exp(a)
	return e.RawMatrix().Data
}

func points(n, d int, seed uint64) *mat.Dense {
	rng := rand.New(rand.NewPCG(seed, 2))
	x := mat.New(n, d)
	for i := range x.Data {
		x.Data[i] = float32(rng.NormFloat64())
	}
	return x
}

func near(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.Abs(got-want) > tol {
		t.Errorf("%s = %.8g, want %.8g (tolerance %.2g)", what, got, want, tol)
	}
}

// The full-spectrum path against the closed form, forward and backward. The
// Jacobians are exact up to float32 rounding of the products (relative 1e-6
// on values of order 1; tolerance 2e-5 per value). The flow map: RK4 with
// 200 steps has a truncation error ≈ (h·‖B‖)⁴ ≈ 1e-10, below the float32
// state's rounding (≈ 1e-6 per step, accumulated over 200 steps as a random
// walk: ≈ 1e-5), so 1e-4 on σ(Φ) and log det Φ. The likelihood integral
// agrees with log det Φ to the same 1e-4.
func TestLinearFull(t *testing.T) {
	for _, c := range []struct {
		name     string
		backward bool
	}{{"forward", false}, {"backward", true}} {
		t.Run(c.name, func(t *testing.T) {
			l := newLinear(5, 3)
			x0 := points(7, 5, 4)
			rep, err := Run(context.Background(), l, x0, Options{
				Solve: solve.Options{Method: solve.RK4, Steps: 200, Backward: c.backward}, Times: EvenTimes(6)})
			if err != nil {
				t.Fatal(err)
			}
			if !rep.Full || len(rep.Times) != 6 || rep.FlowMap == nil {
				t.Fatalf("full %v, %d times, flow map %v", rep.Full, len(rep.Times), rep.FlowMap)
			}
			for _, ts := range rep.Times {
				sig, ln, div := l.exactAt(ts.T)
				for i, s := range sig {
					near(t, "σ", ts.Sigma[i].Min, s, 2e-5)
					near(t, "σ", ts.Sigma[i].Max, s, 2e-5)
				}
				near(t, "log-norm", ts.LogNorm.Median, ln, 2e-5)
				near(t, "divergence", ts.Divergence.Median, div, 2e-5)
				near(t, "Lipschitz", ts.Lipschitz.Max, sig[0], 2e-5)
			}
			// |cos 2t| is largest at t = 0 on the grid.
			s0, _, _ := l.exactAt(0)
			near(t, "max Lipschitz", rep.MaxLip.Value, s0[0], 2e-5)
			if rep.MaxLip.T != 0 {
				t.Errorf("max Lipschitz at t = %v, want 0", rep.MaxLip.T)
			}
			phi := l.exactFlow(rep.Start, rep.End)
			sig := singularValues(phi, 5, 5)
			for i, s := range sig {
				near(t, "σ(Φ)", rep.FlowMap.Sigma[i].Median, s, 1e-4*s)
			}
			var tr float64
			for a := 0; a < 5; a++ {
				tr += l.b[a*5+a]
			}
			wantLD := (math.Sin(2*rep.End) - math.Sin(2*rep.Start)) / 2 * tr
			near(t, "log det Φ", rep.FlowMap.LogDet.Median, wantLD, 1e-4)
			near(t, "∫ div", rep.DivInt.Median, wantLD, 1e-4)
			if rep.LogDetCheck.MaxAbsDiff > 1e-4 {
				t.Errorf("log det Φ vs likelihood integral: %v apart", rep.LogDetCheck.MaxAbsDiff)
			}
			if rep.FlowMap.Flipped != 0 {
				t.Errorf("%d flipped", rep.FlowMap.Flipped)
			}
		})
	}
}

// Above the cap: the top-k singular values by subspace iteration and the
// log-norm by power iteration, against the closed form. Convergence is
// geometric in (σ_{k+1}/σ_k)² per round; with 60 rounds and this B the error
// is below the float32 rounding of the products, so 1e-3 relative.
func TestLinearTopK(t *testing.T) {
	l := newLinear(12, 5)
	x0 := points(4, 12, 6)
	o := Options{Solve: solve.Options{Method: solve.RK4, Steps: 50}, Times: []float64{0, 0.5, 1}, FullCap: 6, TopK: 3, PowerIters: 60}
	if _, err := Run(context.Background(), l, x0, o); !errors.Is(err, ErrNeedVJP) {
		t.Fatalf("no VJP above the cap: %v", err)
	}
	rep, err := Run(context.Background(), withVJP{l}, x0, o)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Full || rep.FlowMap != nil || rep.Note == "" || rep.TopK != 3 {
		t.Fatalf("full %v, flow map %v, note %q, top %d", rep.Full, rep.FlowMap, rep.Note, rep.TopK)
	}
	for _, ts := range rep.Times {
		sig, ln, div := l.exactAt(ts.T)
		if len(ts.Sigma) != 3 {
			t.Fatalf("%d singular values, want 3", len(ts.Sigma))
		}
		for i := range ts.Sigma {
			near(t, "σ", ts.Sigma[i].Min, sig[i], 1e-3*sig[0])
			near(t, "σ", ts.Sigma[i].Max, sig[i], 1e-3*sig[0])
		}
		near(t, "log-norm", ts.LogNorm.Min, ln, 1e-3*sig[0])
		near(t, "log-norm", ts.LogNorm.Max, ln, 1e-3*sig[0])
		near(t, "divergence", ts.Divergence.Median, div, 1e-5)
	}
}

// The network adapter's VJP is the transpose of its JVP: uᵀ(J·w) = (Jᵀu)ᵀw
// for random u and w, to float32 rounding (relative 1e-4 on sums of 16
// products of order-1 terms).
func TestNetFieldVJP(t *testing.T) {
	net, err := nn.New(nn.Config{Dim: 16, Hidden: []int{32, 32}}, 1)
	if err != nil {
		t.Fatal(err)
	}
	f := NewNetField(net)
	x, u, w := points(5, 16, 7), points(5, 16, 8), points(5, 16, 9)
	out, jw, jtu := mat.New(5, 16), mat.New(5, 16), mat.New(5, 16)
	f.JVP(0.3, x, w, out, jw)
	f.VJP(0.3, x, u, jtu)
	for i := 0; i < 5; i++ {
		var a, b, scale float64
		for c := 0; c < 16; c++ {
			a += float64(u.At(i, c)) * float64(jw.At(i, c))
			b += float64(jtu.At(i, c)) * float64(w.At(i, c))
			scale += math.Abs(float64(u.At(i, c)) * float64(jw.At(i, c)))
		}
		near(t, "uᵀJw vs (Jᵀu)ᵀw", a, b, 1e-4*scale)
	}
	if slices.ContainsFunc(net.Grads(), func(g float32) bool { return g != 0 }) {
		t.Error("VJP left parameter gradients behind")
	}
}

// TestDefaultTimesSpanInterval: without Times, Run measures at 11 evenly
// spaced times of its own interval (here [0.25, 0.75], backward), ends
// included, not of [0, 1], whose ends lie outside it. The times are
// lo + (hi − lo)·i/10, compared to 1e-15 (a few ulps of rounding).
func TestDefaultTimesSpanInterval(t *testing.T) {
	l := newLinear(2, 1)
	rep, err := Run(context.Background(), l, points(3, 2, 1), Options{Solve: solve.Options{Method: solve.RK4, Steps: 10, Start: 0.75, End: 0.25}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Times) != 11 {
		t.Fatalf("%d times, want 11", len(rep.Times))
	}
	for i, ts := range rep.Times {
		if want := 0.25 + 0.5*float64(i)/10; math.Abs(ts.T-want) > 1e-15 {
			t.Errorf("time %d: %v, want %v", i, ts.T, want)
		}
	}
}

func TestRunErrors(t *testing.T) {
	l := newLinear(3, 1)
	ctx := context.Background()
	if _, err := Run(ctx, l, points(2, 4, 1), Options{Solve: solve.Options{Method: solve.Euler, Steps: 4}}); err == nil {
		t.Error("wrong width: no error")
	}
	if _, err := Run(ctx, l, points(2, 3, 1), Options{Solve: solve.Options{Method: solve.Euler, Steps: 4}, Times: []float64{2}}); err == nil {
		t.Error("time outside the interval: no error")
	}
	if _, err := Run(ctx, l, points(2, 3, 1), Options{Solve: solve.Options{Method: solve.Euler, Steps: 4}, TopK: -1}); err == nil {
		t.Error("negative top-k: no error")
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := Run(cctx, l, points(2, 3, 1), Options{Solve: solve.Options{Method: solve.Euler, Steps: 4}}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

// The figures are written and decode as PNGs of the sizes drawn.
func TestFigures(t *testing.T) {
	l := newLinear(4, 2)
	rep, err := Run(context.Background(), l, points(6, 4, 3), Options{Solve: solve.Options{Method: solve.Heun, Steps: 20}})
	if err != nil {
		t.Fatal(err)
	}
	paths, err := rep.Figures(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) != 3 {
		t.Fatalf("%d figures, want 3", len(paths))
	}
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := png.DecodeConfig(f)
		f.Close()
		if err != nil || cfg.Width < 400 || cfg.Height < 300 {
			t.Errorf("%s: %v, %d×%d", p, err, cfg.Width, cfg.Height)
		}
	}
}

// Same points, same report, bit for bit, whatever GOMAXPROCS is (a network
// field: its JVPs split work by rows only), in full and top-k modes.
func TestRunSameBitsAnyProcs(t *testing.T) {
	net, err := nn.New(nn.Config{Dim: 6, Hidden: []int{24, 24}}, 3)
	if err != nil {
		t.Fatal(err)
	}
	x0 := points(300, 6, 1)
	for _, cap := range []int{6, 4} {
		var first []byte
		for _, procs := range []int{1, 2, 4} {
			old := runtime.GOMAXPROCS(procs)
			rep, err := Run(context.Background(), NewNetField(net), x0, Options{
				Solve: solve.Options{Method: solve.Midpoint, Steps: 10}, Times: EvenTimes(3), FullCap: cap, TopK: 2, Seed: 5})
			runtime.GOMAXPROCS(old)
			if err != nil {
				t.Fatal(err)
			}
			b, err := json.Marshal(rep)
			if err != nil {
				t.Fatal(err)
			}
			if first == nil {
				first = b
			} else if !bytes.Equal(b, first) {
				t.Fatalf("cap %d: GOMAXPROCS %d changes the report", cap, procs)
			}
		}
	}
}
