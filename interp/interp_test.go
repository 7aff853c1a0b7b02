package interp_test

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/flowlab/flowlab/interp"
	"github.com/flowlab/flowlab/mat"
)

func all() []interp.Interpolant {
	var out []interp.Interpolant
	gammas := []interp.Gamma{{}, {Shape: interp.Brownian, A: 1}, {Shape: interp.BSquared, A: 2},
		{Shape: interp.SineSquared, A: 0.5}, {Shape: interp.Brownian, A: 0.3}}
	for _, p := range []interp.Path{interp.Linear, interp.Trig, interp.VP, interp.OneSided, interp.OneSidedTrig, interp.EncDec} {
		for _, g := range gammas {
			ip := interp.Interpolant{Path: p, Gamma: g}
			if ip.Validate() == nil {
				out = append(out, ip)
			}
		}
	}
	return out
}

// TestEndpoints checks the outside definition of an interpolant: x_0 = x0 and
// x_1 = x1 (α(0) = β(1) = 1, α(1) = β(0) = 0, γ(0) = γ(1) = 0), exactly.
func TestEndpoints(t *testing.T) {
	ips := all()
	if len(ips) < 20 {
		t.Fatalf("only %d valid interpolants", len(ips))
	}
	for _, ip := range ips {
		c0, c1 := ip.Coeffs(0), ip.Coeffs(1)
		const tol = 1e-15 // cos(π/2) is 6e-17 in float64
		if !(math.Abs(c0.A-1) <= tol) || !(math.Abs(c0.B) <= tol) || !(math.Abs(c0.G) <= tol) ||
			!(math.Abs(c1.A) <= tol) || !(math.Abs(c1.B-1) <= tol) || !(math.Abs(c1.G) <= tol) {
			t.Errorf("%s: coefficients at 0 %+v, at 1 %+v", ip, c0, c1)
		}
	}
}

// TestDerivatives checks DA, DB, DG against central differences of A, B, G
// (h = 1e-6 in float64: truncation ~h²·|f”'| ≲ 1e-10, rounding
// ~1e-16/h = 1e-10; bound 1e-7), at interior times away from encdec's kink
// at ½ (where its coefficients are C¹ but switch formula).
func TestDerivatives(t *testing.T) {
	const h = 1e-6
	for _, ip := range all() {
		for _, tt := range []float64{0.013, 0.2, 0.37, 0.49, 0.51, 0.66, 0.9, 0.987} {
			c := ip.Coeffs(tt)
			p, m := ip.Coeffs(tt+h), ip.Coeffs(tt-h)
			fd := [3]float64{(p.A - m.A) / (2 * h), (p.B - m.B) / (2 * h), (p.G - m.G) / (2 * h)}
			got := [3]float64{c.DA, c.DB, c.DG}
			for k := range fd {
				if !(math.Abs(fd[k]-got[k]) <= 1e-7*math.Max(1, math.Abs(fd[k]))) {
					t.Errorf("%s t=%v: derivative %d is %v, finite differences %v", ip, tt, k, got[k], fd[k])
				}
			}
			if gg := ip.Gamma.GammaDGamma(tt); !(math.Abs(gg-c.G*c.DG) <= 1e-12) {
				t.Errorf("%s t=%v: γγ' = %v, G·DG = %v", ip, tt, gg, c.G*c.DG)
			}
		}
	}
	// The Brownian γ' is infinite at the ends, γγ' is not.
	ip := interp.Interpolant{Gamma: interp.Gamma{Shape: interp.Brownian, A: 2}}
	if c := ip.Coeffs(0); !math.IsInf(c.DG, 1) || ip.Gamma.GammaDGamma(0) != 1 {
		t.Errorf("Brownian at 0: DG %v, γγ' %v", c.DG, ip.Gamma.GammaDGamma(0))
	}
}

// TestVPPreservesVariance checks α² + β² + γ² = 1 for the VP path.
func TestVPPreservesVariance(t *testing.T) {
	for _, g := range []interp.Gamma{{}, {Shape: interp.Brownian, A: 1}, {Shape: interp.SineSquared, A: 0.9}} {
		ip := interp.Interpolant{Path: interp.VP, Gamma: g}
		for tt := 0.0; tt <= 1; tt += 0.05 {
			c := ip.Coeffs(tt)
			if s := c.A*c.A + c.B*c.B + c.G*c.G; !(math.Abs(s-1) <= 1e-14) {
				t.Errorf("%s t=%v: α²+β²+γ² = %v", ip, tt, s)
			}
		}
	}
}

// TestBatch checks Batch against the coefficients in float64 (bound: float32
// rounding of O(1) values, 1e-6) and checks that b is the time derivative of
// x_t: (x_{t+h} − x_{t−h})/2h for fixed x0, x1, z (h = 1e-3 in float32
// arithmetic is too coarse, so the difference is taken in float64 from
// Coeffs; bound 1e-5).
func TestBatch(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const n, d = 16, 3
	x0, x1, z := normals(rng, n, d), normals(rng, n, d), normals(rng, n, d)
	tt := make([]float32, n)
	for _, ip := range all() {
		ip.SampleT(rng, tt)
		xt, b, eta := mat.New(n, d), mat.New(n, d), mat.New(n, d)
		ip.Batch(x0, x1, z, tt, xt, b, eta)
		for i := 0; i < n; i++ {
			ti := float64(tt[i])
			c := ip.Coeffs(ti)
			p, m := ip.Coeffs(ti+1e-6), ip.Coeffs(ti-1e-6)
			for j := 0; j < d; j++ {
				a0, a1, az := float64(x0.At(i, j)), float64(x1.At(i, j)), float64(z.At(i, j))
				want := c.A*a0 + c.B*a1 + c.G*az
				if !(math.Abs(float64(xt.At(i, j))-want) <= 1e-6*(1+math.Abs(want))) {
					t.Fatalf("%s: x_t %v, want %v", ip, xt.At(i, j), want)
				}
				fd := ((p.A-m.A)*a0 + (p.B-m.B)*a1 + (p.G-m.G)*az) / 2e-6
				if !(math.Abs(float64(b.At(i, j))-fd) <= 1e-5*(1+math.Abs(fd))) {
					t.Fatalf("%s t=%v: b %v, d/dt x_t %v", ip, ti, b.At(i, j), fd)
				}
				wantEta := az
				if ip.OneSided() {
					wantEta = a0
				}
				if float64(eta.At(i, j)) != wantEta {
					t.Fatalf("%s: η %v, want %v", ip, eta.At(i, j), wantEta)
				}
			}
		}
	}
	// γ ≡ 0 takes a nil z.
	xt, b := mat.New(n, d), mat.New(n, d)
	interp.Interpolant{}.Batch(x0, x1, nil, tt, xt, b, nil)
	if xt.At(0, 0) != (1-tt[0])*x0.At(0, 0)+tt[0]*x1.At(0, 0) {
		t.Errorf("linear x_t %v", xt.At(0, 0))
	}
}

// TestBatchSplit checks that BatchSplit writes Batch's x_t and η and, as the
// drift target, Batch's b less DG·z (DG from Coeffs in float64; bound: float32
// rounding of b, whose noise term reaches |DG| ≈ 16 at the Brownian γ's
// training range ends, so 1e-6 relative to |b| + |DG·z|).
func TestBatchSplit(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const n, d = 16, 3
	x0, x1, z := normals(rng, n, d), normals(rng, n, d), normals(rng, n, d)
	tt := make([]float32, n)
	for _, ip := range all() {
		t.Run(ip.String(), func(t *testing.T) {
			ip.SampleT(rng, tt)
			xt, b, eta := mat.New(n, d), mat.New(n, d), mat.New(n, d)
			st, v, seta := mat.New(n, d), mat.New(n, d), mat.New(n, d)
			ip.Batch(x0, x1, z, tt, xt, b, eta)
			ip.BatchSplit(x0, x1, z, tt, st, v, seta)
			for i := 0; i < n; i++ {
				c := ip.Coeffs(float64(tt[i]))
				for j := 0; j < d; j++ {
					if st.At(i, j) != xt.At(i, j) || seta.At(i, j) != eta.At(i, j) {
						t.Fatalf("row %d: x_t or η differ from Batch's", i)
					}
					noise := c.DG * float64(z.At(i, j))
					want := float64(b.At(i, j)) - noise
					if !(math.Abs(float64(v.At(i, j))-want) <= 1e-6*(1+math.Abs(float64(b.At(i, j)))+math.Abs(noise))) {
						t.Fatalf("t=%v: v %v, b − DG·z %v", tt[i], v.At(i, j), want)
					}
				}
			}
		})
	}
}

func TestBatchShapePanics(t *testing.T) {
	defer func() {
		r := recover()
		if r == nil || !strings.Contains(r.(string), "4×3") || !strings.Contains(r.(string), "4×2") {
			t.Errorf("panic %v, want one naming both shapes", r)
		}
	}()
	interp.Interpolant{}.Batch(mat.New(4, 2), mat.New(4, 3), nil, make([]float32, 4), mat.New(4, 2), mat.New(4, 2), nil)
}

// TestSampleT checks the time range: [0,1) normally, [TEps, 1−TEps] for the
// Brownian γ, where b's single-sample variance ∝ 1/t.
func TestSampleT(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	tt := make([]float32, 10000)
	ip := interp.Interpolant{Gamma: interp.Gamma{Shape: interp.Brownian, A: 1}}
	ip.SampleT(rng, tt)
	lo, hi := ip.TRange()
	var mean float64
	for _, v := range tt {
		if float64(v) < lo-1e-7 || float64(v) > hi+1e-7 {
			t.Fatalf("t = %v outside [%v, %v]", v, lo, hi)
		}
		mean += float64(v) / float64(len(tt))
	}
	// U[a,b] mean ½, sd of the mean √(1/12/n) ≈ 0.0029; bound 4 SE.
	if !(math.Abs(mean-0.5) <= 4*math.Sqrt(1.0/12/float64(len(tt)))) {
		t.Errorf("mean time %v", mean)
	}
	if lo, hi := (interp.Interpolant{}).TRange(); lo != 0 || hi != 1 {
		t.Errorf("linear TRange [%v, %v]", lo, hi)
	}
}

func TestParse(t *testing.T) {
	good := map[[2]string]string{
		{"linear", "0"}:                        "linear",
		{"Trig", ""}:                           "trig",
		{"vp", "0.5"}:                          "vp+brownian:a=0.5",
		{"encdec", "sinesquared"}:              "encdec+sinesquared:a=1",
		{"linear", "bsquared:a=2"}:             "linear+bsquared:a=2",
		{"one-sided", "none"}:                  "onesided",
		{"condot", "brownian:a=0.25"}:          "linear+brownian:a=0.25",
		{"encoder-decoder", "sinesquared:a=1"}: "encdec+sinesquared:a=1",
	}
	for in, want := range good {
		ip, err := interp.New(in[0], in[1])
		if err != nil {
			t.Errorf("New(%q, %q): %v", in[0], in[1], err)
			continue
		}
		if ip.String() != want {
			t.Errorf("New(%q, %q) = %s, want %s", in[0], in[1], ip, want)
		}
	}
	bad := [][2]string{
		{"cubic", "0"}, {"linear", "-1"}, {"linear", "brownian:b=1"}, {"linear", "wiggly"},
		{"onesided", "0.5"}, {"encdec", "0"}, {"vp", "brownian:a=4"}, {"linear", "inf"}, {"linear", "nan"},
	}
	for _, in := range bad {
		if _, err := interp.New(in[0], in[1]); err == nil {
			t.Errorf("New(%q, %q): no error", in[0], in[1])
		} else {
			t.Logf("%v", err)
		}
	}
}

func FuzzNew(f *testing.F) {
	for _, s := range [][2]string{{"linear", "0"}, {"vp", "brownian:a=3.9"}, {"encdec", "sinesquared"}, {"x", "1e308"}, {"trig", "bsquared:a=,"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, path, gamma string) {
		ip, err := interp.New(path, gamma)
		if err != nil {
			return
		}
		// A valid interpolant has finite coefficients inside (0, 1), meets
		// its end points, and its String parses back to itself.
		for _, tt := range []float64{0.1, 0.5, 0.9} {
			c := ip.Coeffs(tt)
			for _, v := range []float64{c.A, c.B, c.G, c.DA, c.DB, c.DG} {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					t.Fatalf("%s at %v: %+v", ip, tt, c)
				}
			}
		}
		p, g, _ := strings.Cut(ip.String(), "+")
		ip2, err := interp.New(p, g)
		if err != nil || ip2 != ip {
			t.Fatalf("%s does not round-trip: %v, %v", ip, ip2, err)
		}
	})
}

// normals returns an n×d matrix of N(0, 1) draws from rng.
func normals(rng *rand.Rand, n, d int) *mat.Dense {
	m := mat.New(n, d)
	interp.FillNormal(rng, m)
	return m
}
