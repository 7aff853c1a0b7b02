package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/flowlab/flowlab/mat"
	gmat "gonum.org/v1/gonum/mat"
)

// act64 is each activation as PyTorch documents it, in float64, written
// independently of mat's kernels.
func act64(name string, x float64) float64 {
	switch name {
	case "silu": // x·σ(x)
		return x / (1 + math.Exp(-x))
	case "relu":
		return math.Max(x, 0)
	case "tanh":
		return math.Tanh(x)
	case "selu": // scale·(max(0,x) + min(0, α(eˣ−1)))
		const alpha, scale = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
		return scale * (math.Max(0, x) + math.Min(0, alpha*(math.Exp(x)-1)))
	case "gelu": // approximate="tanh"
		return 0.5 * x * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(x+0.044715*x*x*x)))
	}
	panic(name)
}

// ref64 evaluates the network described by cfg and params in float64, one
// point at a time: the reference every test compares against.
func ref64(cfg Config, params []float64, x []float64, t float64) []float64 {
	if cfg.Arch == "film" && cfg.TimeEmbed > 0 {
		return ref64Learned(cfg, params, x, t)
	}
	h := append([]float64(nil), x...)
	h = append(h, t)
	for k := 1; k <= cfg.Fourier; k++ {
		h = append(h, math.Sin(2*math.Pi*float64(k)*t))
	}
	for k := 1; k <= cfg.Fourier; k++ {
		h = append(h, math.Cos(2*math.Pi*float64(k)*t))
	}
	emb := append([]float64(nil), h[len(x):]...) // e(t) = [t, sin, cos]
	widths := append(append([]int{len(h)}, cfg.Hidden...), cfg.Dim)
	off := 0
	filmOff := 0 // film tensors follow every Linear layer's
	for l := 1; l < len(widths); l++ {
		filmOff += (widths[l-1] + 1) * widths[l]
	}
	for l := 1; l < len(widths); l++ {
		in, out := widths[l-1], widths[l]
		z := make([]float64, out)
		for o := range z {
			s := params[off+in*out+o] // bias
			for i := 0; i < in; i++ {
				s += params[off+o*in+i] * h[i]
			}
			if l < len(widths)-1 {
				if cfg.Arch == "film" {
					// [s; c] = M·e + m with M 2out×E row-major, then m.
					e := len(emb)
					sc := func(r int) float64 {
						v := params[filmOff+2*out*e+r]
						for k := 0; k < e; k++ {
							v += params[filmOff+r*e+k] * emb[k]
						}
						return v
					}
					s = s*(1+sc(o)) + sc(out+o)
				}
				s = act64(cfg.Act, s)
			}
			z[o] = s
		}
		off += in*out + out
		if cfg.Arch == "film" && l < len(widths)-1 {
			filmOff += 2 * out * (len(emb) + 1)
		}
		h = z
	}
	return h
}

// linear64 returns W·h + b for W (out×len(h), row-major) at params[off:]
// and b after it, with the offset after both.
func linear64(params []float64, off, out int, h []float64) ([]float64, int) {
	in := len(h)
	z := make([]float64, out)
	for o := range z {
		s := params[off+in*out+o]
		for i, v := range h {
			s += params[off+o*in+i] * v
		}
		z[o] = s
	}
	return z, off + in*out + out
}

// ref64Learned is ref64 for a film net with a learned time embedding,
// written from film.go's description: φ(t) = [sin ω_k t, cos ω_k t] with ω_k
// = 10^(k/7), e = SiLU(W₂·SiLU(W₁·φ + b₁) + b₂), heads [s; c] = M_l·e + m_l
// per hidden layer and s_out = M_out·e + m_out.
func ref64Learned(cfg Config, params []float64, x []float64, t float64) []float64 {
	const nf = 8
	phi := make([]float64, 2*nf)
	for k := 0; k < nf; k++ {
		w := math.Pow(10, float64(k)/(nf-1))
		phi[k], phi[nf+k] = math.Sin(w*t), math.Cos(w*t)
	}
	h := append(append([]float64(nil), x...), t)
	for k := 1; k <= cfg.Fourier; k++ {
		h = append(h, math.Sin(2*math.Pi*float64(k)*t))
	}
	for k := 1; k <= cfg.Fourier; k++ {
		h = append(h, math.Cos(2*math.Pi*float64(k)*t))
	}
	widths := append(append([]int{len(h)}, cfg.Hidden...), cfg.Dim)
	off := 0
	for l := 1; l < len(widths); l++ {
		off += (widths[l-1] + 1) * widths[l]
	}
	silu := func(v []float64) []float64 {
		for i := range v {
			v[i] = act64("silu", v[i])
		}
		return v
	}
	a1, off := linear64(params, off, cfg.TimeEmbed, phi)
	e, off := linear64(params, off, cfg.TimeEmbed, silu(a1))
	e = silu(e)
	k := cfg.Dim
	for _, w := range cfg.Hidden {
		k += 2 * w
	}
	mod := make([]float64, k) // M·e then + m: the heads of all layers, stacked
	for r := range mod {
		mod[r] = params[off+k*cfg.TimeEmbed+r]
		for j, v := range e {
			mod[r] += params[off+r*cfg.TimeEmbed+j] * v
		}
	}
	off, col := 0, 0
	for l := 1; l < len(widths); l++ {
		out := widths[l]
		var z []float64
		z, off = linear64(params, off, out, h)
		for o := range z {
			if l < len(widths)-1 {
				z[o] = act64(cfg.Act, z[o]*(1+mod[col+o])+mod[col+out+o])
			} else {
				z[o] *= 1 + mod[col+o]
			}
		}
		col += 2 * out
		h = z
	}
	return h
}

func to64(s []float32) []float64 {
	d := make([]float64, len(s))
	for i, v := range s {
		d[i] = float64(v)
	}
	return d
}

// randBatch returns x ~ N(0, I) (b×dim) and t ~ U(0, 1).
func randBatch(rng *rand.Rand, b, dim int) (*mat.Dense, []float32) {
	x := mat.New(b, dim)
	for i := range x.Data {
		x.Data[i] = float32(rng.NormFloat64())
	}
	t := make([]float32, b)
	for i := range t {
		t[i] = rng.Float32()
	}
	return x, t
}

// mustNew returns New(cfg, seed); for film it then sets the modulation
// parameters (zero after New) to U(−½, ½), so that tests exercise s and c.
func mustNew(t testing.TB, cfg Config, seed uint64) *Net {
	t.Helper()
	n, err := New(cfg, seed)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(seed, 99))
	if n.te != nil {
		for i := range n.te.m.Data {
			n.te.m.Data[i] = float32(rng.Float64() - 0.5)
		}
		for i := range n.te.mb {
			n.te.mb[i] = float32(rng.Float64() - 0.5)
		}
	}
	for _, l := range n.layers {
		if l.fm == nil {
			continue
		}
		for i := range l.fm.Data {
			l.fm.Data[i] = float32(rng.Float64() - 0.5)
		}
		for i := range l.fb {
			l.fb[i] = float32(rng.Float64() - 0.5)
		}
	}
	return n
}

// testConfigs covers every activation, a bottleneck narrower than Dim, no
// hidden layer, Fourier time features, and 2-D fields with and without them
// (fillInput has a path of its own for the latter).
func testConfigs() []Config {
	var cs []Config
	for _, a := range []string{"silu", "relu", "tanh", "selu", "gelu"} {
		cs = append(cs, Config{Dim: 3, Hidden: []int{7, 5}, Act: a})
	}
	cs = append(cs,
		Config{Dim: 6, Hidden: []int{8, 2, 8}, Act: "silu"},             // bottleneck
		Config{Dim: 4, Hidden: []int{6}, Act: "tanh", Fourier: 3},       // Fourier features
		Config{Dim: 2, Hidden: nil, Act: "silu"},                        // one Linear layer
		Config{Dim: 5, Hidden: []int{9, 9, 9}, Act: "gelu", Fourier: 1}, // depth 3
		Config{Dim: 3, Hidden: []int{7, 5}, Act: "silu", Arch: "film", Fourier: 2},
		Config{Dim: 4, Hidden: []int{6, 3, 6}, Act: "selu", Arch: "film"}, // film bottleneck
		Config{Dim: 2, Hidden: []int{5}, Act: "relu", Arch: "film", Fourier: 1},
		Config{Dim: 2, Hidden: []int{5}, Act: "silu", Arch: "film"}, // fillInput's 2-D path, then the embedding
		// The learned time embedding: with Fourier features, a bottleneck,
		// no hidden layer, the 2-D path, and an embedding wider than the net.
		Config{Dim: 3, Hidden: []int{7, 5}, Act: "silu", Arch: "film", Fourier: 2, TimeEmbed: 6},
		Config{Dim: 4, Hidden: []int{6, 3, 6}, Act: "gelu", Arch: "film", TimeEmbed: 4},
		Config{Dim: 3, Hidden: nil, Act: "tanh", Arch: "film", TimeEmbed: 5},
		Config{Dim: 2, Hidden: []int{5}, Act: "relu", Arch: "film", TimeEmbed: 8},
	)
	return cs
}

func TestForwardMatchesFloat64Reference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, cfg := range testConfigs() {
		t.Run(cfgName(cfg), func(t *testing.T) {
			n := mustNew(t, cfg, 7)
			x, tt := randBatch(rng, 11, cfg.Dim)
			out := n.Forward(x, tt)
			p64 := to64(n.Params())
			// float32 forward vs float64: each output is a chain of ≤ 4 dot
			// products of ≤ 10 terms of size O(1), each rounding at 2^-24 ≈ 6e-8
			// relative per operation, plus float32 activations accurate to a few
			// ulp: the error stays below ~1e-5 of the output scale (1 + |v|).
			for b := 0; b < x.R; b++ {
				want := ref64(cfg, p64, to64(x.Row(b)), float64(tt[b]))
				for j, w := range want {
					if got := float64(out.At(b, j)); math.Abs(got-w) > 1e-5*(1+math.Abs(w)) {
						t.Errorf("%+v: v[%d][%d] = %g, float64 reference %g", cfg, b, j, got, w)
					}
				}
			}
		})
	}
}

// TestParamGradients compares Backward's parameter gradients of
// L = Σ c⊙v(x, t) with central finite differences of the float64 reference.
func TestParamGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, cfg := range testConfigs() {
		t.Run(cfgName(cfg), func(t *testing.T) {
			n := mustNew(t, cfg, 11)
			x, tt := randBatch(rng, 5, cfg.Dim)
			c := mat.New(5, cfg.Dim)
			for i := range c.Data {
				c.Data[i] = float32(rng.NormFloat64())
			}
			n.ZeroGrad()
			n.Forward(x, tt)
			if gx := n.Backward(c, false); gx != nil {
				t.Fatal("Backward(wantGX=false) returned an input gradient")
			}
			// Run it twice to check that gradients accumulate (2× the first).
			n.Forward(x, tt)
			n.Backward(c, false)
			p64 := to64(n.Params())
			loss := func(p []float64) float64 {
				s := 0.0
				for b := 0; b < x.R; b++ {
					v := ref64(cfg, p, to64(x.Row(b)), float64(tt[b]))
					for j := range v {
						s += float64(c.At(b, j)) * v[j]
					}
				}
				return s
			}
			// float64 central differences with h = 1e-5: truncation h²·L'''/6 ≈
			// 1e-11 and rounding 1e-16·|L|/h ≈ 1e-11, so fd is exact to ~1e-10.
			// The float32 gradient sums ≤ 11 products per entry over ≤ 3 layers:
			// relative error ≲ 30·6e-8 of the largest term, 1e-4 of the gradient
			// scale leaves a 50× margin for cancellation.
			const h = 1e-5
			fd := make([]float64, len(p64))
			scale := 0.0
			for i := range p64 {
				old := p64[i]
				p64[i] = old + h
				lp := loss(p64)
				p64[i] = old - h
				lm := loss(p64)
				p64[i] = old
				fd[i] = (lp - lm) / (2 * h)
				scale = math.Max(scale, math.Abs(fd[i]))
			}
			for i, g := range n.Grads() {
				if d := math.Abs(float64(g)/2 - fd[i]); d > 1e-4*scale {
					t.Errorf("%+v: dL/dθ[%d] = %g, finite differences %g (scale %g)", cfg, i, g/2, fd[i], scale)
				}
			}
		})
	}
}

// inputGrad64 is the float64 central-difference gradient of Σ_j c_j v_j(x, t)
// with respect to x, for one point.
func inputGrad64(cfg Config, p64, x, c []float64, t float64) []float64 {
	const h = 1e-5 // as in TestParamGradients: exact to ~1e-10
	g := make([]float64, len(x))
	dot := func(v []float64) float64 {
		s := 0.0
		for j := range v {
			s += c[j] * v[j]
		}
		return s
	}
	for i := range x {
		old := x[i]
		x[i] = old + h
		lp := dot(ref64(cfg, p64, x, t))
		x[i] = old - h
		lm := dot(ref64(cfg, p64, x, t))
		x[i] = old
		g[i] = (lp - lm) / (2 * h)
	}
	return g
}

func TestInputGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, cfg := range testConfigs() {
		t.Run(cfgName(cfg), func(t *testing.T) {
			n := mustNew(t, cfg, 13)
			x, tt := randBatch(rng, 6, cfg.Dim)
			c := mat.New(6, cfg.Dim)
			for i := range c.Data {
				c.Data[i] = float32(rng.NormFloat64())
			}
			n.Forward(x, tt)
			gx := n.Backward(c, true)
			if gx.R != x.R || gx.C != x.C {
				t.Fatalf("input gradient %s, want %s", gx.Shape(), x.Shape())
			}
			p64 := to64(n.Params())
			for b := 0; b < x.R; b++ {
				fd := inputGrad64(cfg, p64, to64(x.Row(b)), to64(c.Row(b)), float64(tt[b]))
				scale := 0.0
				for _, v := range fd {
					scale = math.Max(scale, math.Abs(v))
				}
				for i, v := range fd {
					// Same budget as TestParamGradients.
					if d := math.Abs(float64(gx.At(b, i)) - v); d > 1e-4*max(scale, 1e-3) {
						t.Errorf("%+v: dL/dx[%d][%d] = %g, finite differences %g", cfg, b, i, gx.At(b, i), v)
					}
				}
			}
		})
	}
}

// TestFloat32FiniteDifferences differentiates the float32 network itself
// (not the reference): L = Σ c⊙v computed in float64 from float32 outputs.
func TestFloat32FiniteDifferences(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	cfg := Config{Dim: 3, Hidden: []int{16, 16}, Act: "silu", Fourier: 2}
	n := mustNew(t, cfg, 17)
	x, tt := randBatch(rng, 4, cfg.Dim)
	c := mat.New(4, cfg.Dim)
	for i := range c.Data {
		c.Data[i] = float32(rng.NormFloat64())
	}
	n.ZeroGrad()
	n.Forward(x, tt)
	n.Backward(c, false)
	loss := func() float64 {
		out := n.Forward(x, tt)
		s := 0.0
		for i, v := range out.Data {
			s += float64(c.Data[i]) * float64(v)
		}
		return s
	}
	// h = 1e-2: each float32 output carries a rounding error ≲ 1e-6 (relative
	// 2^-24 times a few dozen operations), so Σc⊙v (12 terms, |c|, |v| ≲ 2)
	// is off by ≲ 3e-5, which /2h gives ≲ 1.5e-3; truncation h²·L'''/6 ≲ 1e-4.
	// Tolerance 5e-3 absolute plus 1 % relative.
	const h = 1e-2
	p := n.Params()
	g := append([]float32(nil), n.Grads()...)
	for i := range p {
		old := p[i]
		p[i] = old + h
		lp := loss()
		p[i] = old - h
		lm := loss()
		p[i] = old
		fd := (lp - lm) / (2 * h)
		if d := math.Abs(float64(g[i]) - fd); d > 5e-3+1e-2*math.Abs(fd) {
			t.Errorf("dL/dθ[%d] = %g, float32 finite differences %g", i, g[i], fd)
		}
	}
}

// jacobian builds ∂v/∂x for every row of x from Dim input-gradient passes:
// with gOut = e_j on every row, row b of dL/dx is row j of J_b.
func jacobian(n *Net, x *mat.Dense, t []float32) [][]float64 {
	d := n.Dim()
	js := make([][]float64, x.R)
	for b := range js {
		js[b] = make([]float64, d*d)
	}
	e := mat.New(x.R, d)
	for j := 0; j < d; j++ {
		clear(e.Data)
		for b := 0; b < x.R; b++ {
			e.Set(b, j, 1)
		}
		n.Forward(x, t)
		gx := n.Backward(e, true)
		for b := 0; b < x.R; b++ {
			for i := 0; i < d; i++ {
				js[b][j*d+i] = float64(gx.At(b, i))
			}
		}
	}
	return js
}

func TestJVP(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, cfg := range testConfigs() {
		t.Run(cfgName(cfg), func(t *testing.T) {
			n := mustNew(t, cfg, 19)
			x, tt := randBatch(rng, 7, cfg.Dim)
			dx, _ := randBatch(rng, 7, cfg.Dim)
			out, dout := n.JVP(x, dx, tt)
			want := n.Clone().Forward(x, tt)
			for i := range want.Data {
				if out.Data[i] != want.Data[i] {
					t.Fatalf("%+v: JVP's value differs from Forward at %d: %g vs %g", cfg, i, out.Data[i], want.Data[i])
				}
			}
			dout = dout.Clone()
			js := jacobian(n.Clone(), x, tt)
			p64 := to64(n.Params())
			d := cfg.Dim
			const h = 1e-5 // float64 central differences, exact to ~1e-10
			for b := 0; b < x.R; b++ {
				xb, db := to64(x.Row(b)), to64(dx.Row(b))
				xp, xm := make([]float64, d), make([]float64, d)
				for i := range xb {
					xp[i], xm[i] = xb[i]+h*db[i], xb[i]-h*db[i]
				}
				vp := ref64(cfg, p64, xp, float64(tt[b]))
				vm := ref64(cfg, p64, xm, float64(tt[b]))
				for j := 0; j < d; j++ {
					fd := (vp[j] - vm[j]) / (2 * h)
					jd := 0.0
					for i := 0; i < d; i++ {
						jd += js[b][j*d+i] * db[i]
					}
					got := float64(dout.At(b, j))
					// float32 tangents through ≤ 4 layers: error ≲ 1e-5 of the
					// scale |J|·|dx| ~ O(1); 1e-4·(1+|fd|) leaves a margin.
					if !(math.Abs(got-fd) <= 1e-4*(1+math.Abs(fd))) {
						t.Errorf("%+v: JVP[%d][%d] = %g, finite differences %g", cfg, b, j, got, fd)
					}
					// J from input gradients is the same float32 chain in
					// another order: agreement to 1e-5 of the scale.
					if !(math.Abs(got-jd) <= 1e-5*(1+math.Abs(jd))) {
						t.Errorf("%+v: JVP[%d][%d] = %g, J·dx from input gradients %g", cfg, b, j, got, jd)
					}
				}
			}
		})
	}
}

// TestBottleneckJacobianRank checks the fact the width experiment rests on:
// the Jacobian of a net with a hidden width w < Dim has rank ≤ w.
func TestBottleneckJacobianRank(t *testing.T) {
	for _, arch := range archs {
		t.Run(arch, func(t *testing.T) {
			testBottleneckRank(t, withArch(Config{Dim: 6, Hidden: []int{16, 2, 16}, Act: "silu", Fourier: 1}, arch))
		})
	}
}

func testBottleneckRank(t *testing.T, cfg Config) {
	rng := rand.New(rand.NewPCG(11, 12))
	n := mustNew(t, cfg, 23)
	x, tt := randBatch(rng, 4, cfg.Dim)
	for b, j := range jacobian(n, x, tt) {
		var svd gmat.SVD
		if !svd.Factorize(gmat.NewDense(6, 6, j), gmat.SVDNone) {
			t.Fatal("SVD failed")
		}
		s := svd.Values(nil)
		// Rank 2 in exact arithmetic; float32 leaves singular values of
		// order 1e-7·s[0] in the other directions, far below 1e-4·s[0].
		if s[1] < 1e-3*s[0] || s[2] > 1e-4*s[0] {
			t.Errorf("%s row %d: singular values %v, want exactly 2 above 1e-4·σ₁", cfg.Arch, b, s)
		}
	}
}

func TestEvalAndJVPField(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	cfg := Config{Dim: 3, Hidden: []int{8, 8}, Fourier: 2}
	n := mustNew(t, cfg, 29)
	x, _ := randBatch(rng, 5, 3)
	dx, _ := randBatch(rng, 5, 3)
	const tm = 0.375
	ts := []float32{tm, tm, tm, tm, tm}
	want := n.Clone().Forward(x, ts)
	out := mat.New(5, 3)
	var f interface {
		Dim() int
		Eval(float64, *mat.Dense, *mat.Dense)
		JVP(float64, *mat.Dense, *mat.Dense, *mat.Dense, *mat.Dense)
	} = JVPField{n}
	if f.Dim() != 3 {
		t.Fatalf("Dim() = %d", f.Dim())
	}
	f.Eval(tm, x, out)
	for i := range want.Data {
		if out.Data[i] != want.Data[i] {
			t.Fatalf("Eval differs from Forward at %d", i)
		}
	}
	_, wantD := n.Clone().JVP(x, dx, ts)
	dout := mat.New(5, 3)
	f.JVP(tm, x, dx, out, dout)
	for i := range wantD.Data {
		if dout.Data[i] != wantD.Data[i] || out.Data[i] != want.Data[i] {
			t.Fatalf("EvalJVP differs from JVP at %d", i)
		}
	}
}

func TestInitBounds(t *testing.T) {
	cfg := Config{Dim: 2, Hidden: []int{64, 64}}
	n := mustNew(t, cfg, 1)
	m := mustNew(t, cfg, 1)
	o := mustNew(t, cfg, 2)
	same, diff := true, false
	for i := range n.params {
		same = same && n.params[i] == m.params[i]
		diff = diff || n.params[i] != o.params[i]
	}
	if !same || !diff {
		t.Fatalf("init not a function of the seed: same seed equal %v, other seed differs %v", same, diff)
	}
	for li, l := range n.layers {
		bound := float32(1 / math.Sqrt(float64(l.in)))
		// U(−β, β) with β = 1/√fan_in: every value inside, and the sample
		// variance near β²/3 (n ≥ 192 values: relative sd of the variance
		// estimate √(0.8/n) ≤ 0.065, so ±30 % is ≈ 5 sd).
		vals := append(append([]float32(nil), l.w.Data...), l.b...)
		var ss float64
		for _, v := range vals {
			if v < -bound || v > bound {
				t.Fatalf("layer %d: value %g outside ±%g", li, v, bound)
			}
			ss += float64(v) * float64(v)
		}
		want := float64(bound) * float64(bound) / 3
		if got := ss / float64(len(vals)); math.Abs(got/want-1) > 0.3 {
			t.Errorf("layer %d: variance %g, want ≈ %g", li, got, want)
		}
	}
}

// TestFilmStartsAsMLP: the modulation starts at zero, so a fresh FiLM net
// has the MLP's parameters (same seed) first and computes the same bits.
func TestFilmStartsAsMLP(t *testing.T) {
	cfg := Config{Dim: 3, Hidden: []int{8, 8}, Fourier: 2}
	m, _ := New(cfg, 5)
	cfg.Arch = "film"
	f, err := New(cfg, 5)
	if err != nil {
		t.Fatal(err)
	}
	// Extra parameters: (EmbedDim+1)·2w per hidden layer.
	if got, want := len(f.Params())-len(m.Params()), 2*(5+1)*2*8; got != want {
		t.Errorf("film adds %d parameters, want %d", got, want)
	}
	x, tt := randBatch(rand.New(rand.NewPCG(1, 1)), 6, 3)
	a, b := m.Forward(x, tt), f.Forward(x, tt)
	for i := range a.Data {
		if a.Data[i] != b.Data[i] {
			t.Fatalf("output %d: MLP %g, fresh FiLM %g", i, a.Data[i], b.Data[i])
		}
	}
}

// TestLearnedFilmStartsAsMLP: a fresh film net with a learned time
// embedding has the MLP's parameters (same seed) first, zero heads, and
// computes the MLP's bits; its time MLP is drawn (not zero), so the heads'
// gradient is not zero from the first step.
func TestLearnedFilmStartsAsMLP(t *testing.T) {
	cfg := Config{Dim: 3, Hidden: []int{8, 8}, Fourier: 2}
	m, _ := New(cfg, 5)
	cfg.Arch, cfg.TimeEmbed = "film", 4
	f, err := New(cfg, 5)
	if err != nil {
		t.Fatal(err)
	}
	// Extra parameters: time MLP (16+1)·4 + (4+1)·4, heads (4+1)·(2·8+2·8+3).
	if got, want := len(f.Params())-len(m.Params()), 17*4+5*4+5*35; got != want {
		t.Errorf("film adds %d parameters, want %d", got, want)
	}
	for i, v := range m.Params() {
		if f.Params()[i] != v {
			t.Fatalf("parameter %d: MLP %g, film %g", i, v, f.Params()[i])
		}
	}
	for _, v := range append(append([]float32(nil), f.te.m.Data...), f.te.mb...) {
		if v != 0 {
			t.Fatal("a modulation head does not start at zero")
		}
	}
	x, tt := randBatch(rand.New(rand.NewPCG(1, 1)), 6, 3)
	a, b := m.Forward(x, tt), f.Forward(x, tt)
	for i := range a.Data {
		if a.Data[i] != b.Data[i] {
			t.Fatalf("output %d: MLP %g, fresh film %g", i, a.Data[i], b.Data[i])
		}
	}
	g := mat.New(6, 3)
	for i := range g.Data {
		g.Data[i] = 1
	}
	f.Backward(g, false)
	nonzero := false
	for _, v := range f.te.gm.Data {
		nonzero = nonzero || v != 0
	}
	if !nonzero {
		t.Error("the heads' gradient is zero at initialisation")
	}
}

// TestLoadLegacyFilm loads testdata/film-linear.safetensors, a film net
// written before the learned time embedding existed (its config has no
// time_embed): it loads as the legacy FiLM, linear in [t, sin, cos], and
// agrees with the float64 reference of that design.
func TestLoadLegacyFilm(t *testing.T) {
	n, err := Load("testdata/film-linear.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	cfg := n.Config()
	if cfg.Arch != "film" || cfg.TimeEmbed != 0 || n.te != nil {
		t.Fatalf("config %+v: want the legacy film", cfg)
	}
	x, tt := randBatch(rand.New(rand.NewPCG(2, 3)), 7, cfg.Dim)
	out := n.Forward(x, tt)
	p64 := to64(n.Params())
	for b := 0; b < x.R; b++ {
		for j, w := range ref64(cfg, p64, to64(x.Row(b)), float64(tt[b])) {
			// The budget of TestForwardMatchesFloat64Reference.
			if got := float64(out.At(b, j)); math.Abs(got-w) > 1e-5*(1+math.Abs(w)) {
				t.Errorf("v[%d][%d] = %g, float64 reference %g", b, j, got, w)
			}
		}
	}
}

func TestConfigErrors(t *testing.T) {
	for _, cfg := range []Config{
		{Dim: 0, Hidden: []int{4}},
		{Dim: 2, Hidden: []int{4, 0}},
		{Dim: 2, Act: "softmax"},
		{Dim: 2, Act: "identity"},
		{Dim: 2, Fourier: -1},
		{Dim: 2, Arch: "transformer"},
		{Dim: 2, TimeEmbed: 8}, // an embedding without film
		{Dim: 2, Arch: "film", TimeEmbed: -1},
		{Dim: 1 << 20, Hidden: []int{1 << 20}},
	} {
		t.Run(cfgName(cfg), func(t *testing.T) {
			if _, err := New(cfg, 1); err == nil {
				t.Errorf("New(%+v) accepted", cfg)
			}
		})
	}
	n := mustNew(t, Config{Dim: 2, Hidden: []int{3}}, 1)
	if c := n.Config(); c.Act != "silu" || c.Arch != "mlp" {
		t.Errorf("defaults not filled in: %+v", c)
	}
}

func TestShapePanics(t *testing.T) {
	n := mustNew(t, Config{Dim: 3, Hidden: []int{4}}, 1)
	for name, f := range map[string]func(){
		"x width":  func() { n.Forward(mat.New(2, 4), []float32{0, 0}) },
		"t length": func() { n.Forward(mat.New(2, 3), []float32{0}) },
		"gOut": func() {
			n.Forward(mat.New(2, 3), []float32{0, 0})
			n.Backward(mat.New(3, 3), false)
		},
		"dx": func() { n.JVP(mat.New(2, 3), mat.New(1, 3), []float32{0, 0}) },
	} {
		func() {
			defer func() {
				r := recover()
				if r == nil {
					t.Errorf("%s: no panic", name)
				} else if s := fmt.Sprint(r); len(s) < 10 {
					t.Errorf("%s: panic message %q names no shapes", name, s)
				}
			}()
			f()
		}()
	}
}

// TestCloneIndependent checks that a clone shares no storage.
func TestCloneIndependent(t *testing.T) {
	n := mustNew(t, Config{Dim: 2, Hidden: []int{5}}, 3)
	c := n.Clone()
	c.Params()[0] += 1
	c.Grads()[0] = 5
	if n.Params()[0] == c.Params()[0] || n.Grads()[0] == 5 {
		t.Fatal("clone shares parameters or gradients")
	}
}

// runStep does one forward, backward (with input gradient) and returns
// copies of output, input gradient and parameter gradients.
func runStep(cfg Config, b int) []float32 {
	n, _ := New(cfg, 31)
	rng := rand.New(rand.NewPCG(15, 16))
	x, tt := randBatch(rng, b, cfg.Dim)
	dx, _ := randBatch(rng, b, cfg.Dim)
	out := n.Forward(x, tt)
	res := append([]float32(nil), out.Data...)
	gx := n.Backward(out.Clone(), true)
	res = append(res, gx.Data...)
	res = append(res, n.Grads()...)
	_, dout := n.JVP(x, dx, tt)
	return append(res, dout.Data...)
}

func TestDeterministicAcrossGOMAXPROCS(t *testing.T) {
	cfg := Config{Dim: 16, Hidden: []int{256, 256}, Fourier: 2}
	b := 300
	if testing.Short() {
		b = 64
	}
	old := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(old)
	for _, arch := range archs {
		t.Run(arch, func(t *testing.T) {
			cfg := withArch(cfg, arch)
			runtime.GOMAXPROCS(1)
			one := runStep(cfg, b)
			runtime.GOMAXPROCS(2)
			two := runStep(cfg, b)
			runtime.GOMAXPROCS(4)
			four := runStep(cfg, b)
			for i := range one {
				if math.Float32bits(one[i]) != math.Float32bits(two[i]) || math.Float32bits(one[i]) != math.Float32bits(four[i]) {
					t.Fatalf("%s: value %d differs: GOMAXPROCS 1 %g, 2 %g, 4 %g", arch, i, one[i], two[i], four[i])
				}
			}
		})
	}
}

func TestNoAllocationsInSteadyState(t *testing.T) {
	if testing.CoverMode() != "" || raceEnabled {
		t.Skip("coverage and race instrumentation allocate")
	}
	for _, arch := range archs {
		t.Run(arch, func(t *testing.T) {
			testNoAllocations(t, withArch(Config{Dim: 2, Hidden: []int{64, 64, 64}, Fourier: 1}, arch))
		})
	}
}

func testNoAllocations(t *testing.T, cfg Config) {
	n := mustNew(t, cfg, 37)
	rng := rand.New(rand.NewPCG(17, 18))
	x, tt := randBatch(rng, 128, 2)
	dx, _ := randBatch(rng, 128, 2)
	g := mat.New(128, 2)
	out := mat.New(128, 2)
	step := func() {
		n.ZeroGrad()
		n.Forward(x, tt)
		n.Backward(g, true)
		n.JVP(x, dx, tt)
		n.Eval(0.5, x, out)
	}
	step()
	if a := testing.AllocsPerRun(20, step); a != 0 {
		t.Errorf("%s: %v allocations per step, want 0", cfg.Arch, a)
	}
}

// TestEmptyBatch: a batch of zero rows is valid and gives empty results.
func TestEmptyBatch(t *testing.T) {
	for _, a := range archs {
		t.Run(a, func(t *testing.T) {
			n := mustNew(t, withArch(Config{Dim: 2, Hidden: []int{4}}, a), 1)
			if out := n.Forward(mat.New(0, 2), nil); out.R != 0 || out.C != 2 {
				t.Fatalf("%s: Forward of no rows gave %s", a, out.Shape())
			}
			if gx := n.Backward(mat.New(0, 2), true); gx.R != 0 || gx.C != 2 {
				t.Fatalf("%s: Backward of no rows gave %s", a, gx.Shape())
			}
			if out, dout := n.JVP(mat.New(0, 2), mat.New(0, 2), nil); out.R != 0 || dout.R != 0 {
				t.Fatalf("%s: JVP of no rows gave %s, %s", a, out.Shape(), dout.Shape())
			}
			for _, g := range n.Grads() {
				if g != 0 {
					t.Fatalf("%s: empty batch changed a gradient", a)
				}
			}
		})
	}
}

// chunkConfigs are the nets Eval's chunking is tested on: mlp and film with
// 512-row chunks, and an mlp wider than 512 (256-row chunks).
var chunkConfigs = []Config{
	{Dim: 3, Hidden: []int{32, 24}, Fourier: 1, Arch: "mlp"},
	{Dim: 3, Hidden: []int{32, 24}, Fourier: 1, Arch: "film"},
	{Dim: 3, Hidden: []int{32, 24}, Fourier: 1, Arch: "film", TimeEmbed: 16},
	{Dim: 3, Hidden: []int{520, 24}, Arch: "mlp"},
}

// TestEvalChunked checks Eval on a batch of several chunks (evalChunk rows each) and
// a ragged last chunk: its output must be bit-identical under GOMAXPROCS 1, 2
// and 4, across repeated calls (workers reuse their buffers), and equal, bit
// for bit, to Forward applied chunk by chunk (rows are independent, and each
// chunk takes the same kernels as Forward on that chunk alone). No tolerance:
// the chunking is fixed, so any difference is a bug.
func TestEvalChunked(t *testing.T) {
	old := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(old)
	for _, cfg := range chunkConfigs {
		arch := cfgName(cfg)
		n := mustNew(t, cfg, 7)
		if w := cfg.Hidden[0]; (w > 512) != (n.evalChunk() == 256) {
			t.Fatalf("width %d: %d-row chunks", w, n.evalChunk())
		}
		rows := 3*n.evalChunk() + 517
		x, _ := randBatch(rand.New(rand.NewPCG(5, 6)), rows, cfg.Dim)
		const tm = 0.375
		// Reference: Forward on a clone, chunk by chunk.
		ref := mat.New(rows, cfg.Dim)
		c := n.Clone()
		for r0 := 0; r0 < rows; r0 += n.evalChunk() {
			r1 := min(r0+n.evalChunk(), rows)
			xc := mat.NewFrom(r1-r0, cfg.Dim, x.Data[r0*cfg.Dim:r1*cfg.Dim])
			tc := make([]float32, r1-r0)
			for i := range tc {
				tc[i] = tm
			}
			copy(ref.Data[r0*cfg.Dim:], c.Forward(xc, tc).Data)
		}
		for _, procs := range []int{1, 2, 4, 2} {
			runtime.GOMAXPROCS(procs)
			out := mat.New(rows, cfg.Dim)
			n.Eval(tm, x, out)
			for i := range ref.Data {
				if math.Float32bits(out.Data[i]) != math.Float32bits(ref.Data[i]) {
					t.Fatalf("%s GOMAXPROCS %d: value %d (row %d): Eval %g, chunked Forward %g",
						arch, procs, i, i/cfg.Dim, out.Data[i], ref.Data[i])
				}
			}
		}
		// Parameters changed after the workers exist must be seen by them.
		for i := range n.Params() {
			n.Params()[i] *= 0.5
		}
		runtime.GOMAXPROCS(2)
		out := mat.New(rows, cfg.Dim)
		n.Eval(tm, x, out)
		c2 := n.Clone()
		last := rows - 517
		tc := make([]float32, 517)
		for i := range tc {
			tc[i] = tm
		}
		want := c2.Forward(mat.NewFrom(517, cfg.Dim, x.Data[last*cfg.Dim:]), tc)
		for i, v := range want.Data {
			if math.Float32bits(out.Data[last*cfg.Dim+i]) != math.Float32bits(v) {
				t.Fatalf("%s after a parameter change: value %d of the last chunk: Eval %g, Forward %g", arch, i, out.Data[last*cfg.Dim+i], v)
			}
		}
		// Workers keep their buffers: a repeated call allocates nothing.
		// (mlp only: a film Forward of this many rows already allocates
		// inside mat's parallel element-wise kernels, chunked or not.)
		if arch == "mlp" && testing.CoverMode() == "" && !raceEnabled {
			if a := testing.AllocsPerRun(5, func() { n.Eval(tm, x, out) }); a != 0 {
				t.Errorf("%s: chunked Eval allocates %v times per call in steady state", arch, a)
			}
		}
	}
}

// TestEulerStepBits checks EulerStep against its contract: Eval into a
// buffer, then x[i] += float32(h)·v[i], bit for bit — on one chunk and on
// many (ragged last chunk, 512- and 256-row chunks), mlp and film, for
// several GOMAXPROCS. Bits, not a tolerance: the same kernels run on the same
// rows, so any difference is a bug (a row updated before it was read, say).
func TestEulerStepBits(t *testing.T) {
	old := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(old)
	for _, cfg := range chunkConfigs {
		n := mustNew(t, cfg, 7)
		for _, rows := range []int{5, n.evalChunk(), 3*n.evalChunk() + 517} {
			x0, _ := randBatch(rand.New(rand.NewPCG(5, uint64(rows))), rows, cfg.Dim)
			const tm, h = 0.375, 0.03 // h not a power of 2: h·v rounds
			want := mat.NewFrom(rows, cfg.Dim, append([]float32(nil), x0.Data...))
			v := mat.New(rows, cfg.Dim)
			n.Eval(tm, want, v)
			for i := range want.Data {
				want.Data[i] += float32(float32(h) * v.Data[i]) // rounded product, then the sum
			}
			for _, procs := range []int{1, 2, 4} {
				runtime.GOMAXPROCS(procs)
				x := mat.NewFrom(rows, cfg.Dim, append([]float32(nil), x0.Data...))
				n.EulerStep(tm, h, x)
				for i := range want.Data {
					if math.Float32bits(x.Data[i]) != math.Float32bits(want.Data[i]) {
						t.Fatalf("%s %v, %d rows, GOMAXPROCS %d: value %d (row %d): EulerStep %g, Eval then update %g",
							cfg.Arch, cfg.Hidden, rows, procs, i, i/cfg.Dim, x.Data[i], want.Data[i])
					}
				}
			}
			runtime.GOMAXPROCS(1)
		}
	}
}

// mseLoss is a LossFunc: ½·Σ‖out − target‖² over its rows, writing
// out − target into g.
func mseLoss(target *mat.Dense) LossFunc {
	return func(r0 int, out, g *mat.Dense) float64 {
		d := out.C
		var l float64
		for i, v := range out.Data {
			e := v - target.Data[r0*d+i]
			g.Data[i] = e
			l += 0.5 * float64(e) * float64(e)
		}
		return l
	}
}

// TestGradShards checks Grad on batches cut into shards (300 and 600 rows: 2
// shards; 2100 rows: the 8-shard cap) against what it promises: bit for bit the sum,
// in shard order, of Forward, loss and Backward on each shard alone (run here
// on a clone), added to the gradients already there; the same bits under
// GOMAXPROCS 1, 2 and 4; and, within float32 rounding, the gradient of the
// whole batch in one Backward (relative 1e-5 of the gradient's norm: the two
// differ only in the order of ~2000-term sums of float32 products, whose
// rounding error is ≈ √2000·6e-8 ≈ 3e-6 relative). A batch of 200 rows (one
// shard) must equal Forward + Backward bit for bit.
func TestGradShards(t *testing.T) {
	old := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(old)
	for _, arch := range archs {
		t.Run(arch, func(t *testing.T) {
			for _, rows := range []int{200, 300, 600, 2100} {
				cfg := withArch(Config{Dim: 3, Hidden: []int{32, 24}, Fourier: 1}, arch)
				n := mustNew(t, cfg, 9)
				rng := rand.New(rand.NewPCG(7, uint64(rows)))
				x, tt := randBatch(rng, rows, cfg.Dim)
				target, _ := randBatch(rng, rows, cfg.Dim)
				prior := make([]float32, len(n.Grads()))
				for i := range prior {
					prior[i] = float32(rng.NormFloat64())
				}
				s := shardCount(rows)

				// Reference: each shard alone on a clone, summed in order.
				c := n.Clone()
				sum := make([]float32, len(prior))
				var wantLoss float64
				for k := 0; k < s; k++ {
					r0, r1 := k*rows/s, (k+1)*rows/s
					xs := mat.NewFrom(r1-r0, cfg.Dim, x.Data[r0*cfg.Dim:r1*cfg.Dim])
					out := c.Forward(xs, tt[r0:r1])
					g := mat.New(out.R, out.C)
					wantLoss += mseLoss(target)(r0, out, g)
					c.ZeroGrad()
					c.Backward(g, false)
					for i, v := range c.Grads() {
						if k == 0 {
							sum[i] = v
						} else {
							sum[i] += v
						}
					}
				}
				want := make([]float32, len(prior))
				for i := range want {
					want[i] = prior[i] + sum[i]
				}
				if s == 1 { // Backward adds straight into the gradients
					copy(c.Grads(), prior)
					out := c.Forward(x, tt)
					g := mat.New(out.R, out.C)
					mseLoss(target)(0, out, g)
					c.Backward(g, false)
					copy(want, c.Grads())
				}
				for _, procs := range []int{1, 2, 4, 2} {
					runtime.GOMAXPROCS(procs)
					copy(n.Grads(), prior)
					loss := n.Grad(x, tt, mseLoss(target))
					if loss != wantLoss {
						t.Fatalf("%s %d rows GOMAXPROCS %d: loss %v, want %v", arch, rows, procs, loss, wantLoss)
					}
					for i, v := range n.Grads() {
						if math.Float32bits(v) != math.Float32bits(want[i]) {
							t.Fatalf("%s %d rows GOMAXPROCS %d: gradient %d: %v, want %v", arch, rows, procs, i, v, want[i])
						}
					}
				}

				// Against one Backward over the whole batch.
				c.ZeroGrad()
				out := c.Forward(x, tt)
				g := mat.New(out.R, out.C)
				mseLoss(target)(0, out, g)
				c.Backward(g, false)
				var diff, norm float64
				for i, v := range c.Grads() {
					e := float64(v) - float64(n.Grads()[i]-prior[i])
					diff += e * e
					norm += float64(v) * float64(v)
				}
				if !(math.Sqrt(diff) <= 1e-5*math.Sqrt(norm)) {
					t.Fatalf("%s %d rows: sharded gradient differs from one Backward by %.3g of its norm", arch, rows, math.Sqrt(diff/norm))
				}
			}
		})
	}
}

// TestGradUpdate checks GradUpdate's contract: it leaves the gradient of
// Grad, bit for bit; it calls update on blocks that cover every parameter
// exactly once, each starting at a multiple of 16; and each block's
// gradient is final when update sees it (update here takes an SGD-like step
// from it, so the parameters after GradUpdate must equal Grad followed by
// that step on the whole). One shard (200 rows), two (300) and eight (2100);
// nets of 1 (under reduceMin parameters), 2 and 4 reduction blocks and the
// tiny bench net (8706 parameters); GOMAXPROCS 1, 2 and 4. Run with -race,
// concurrent updates of overlapping blocks would show.
func TestGradUpdate(t *testing.T) {
	old := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(old)
	for _, cfg := range []Config{
		{Dim: 3, Hidden: []int{8, 6}, Fourier: 1},
		{Dim: 3, Hidden: []int{32, 24}, Fourier: 1, Arch: "film"},
		{Dim: 3, Hidden: []int{32, 24}, Fourier: 1, Arch: "film", TimeEmbed: 16},
		{Dim: 5, Hidden: []int{64}},
		{Dim: 2, Hidden: []int{64, 64, 64}},
	} {
		t.Run(cfgName(cfg), func(t *testing.T) {
			for _, rows := range []int{200, 300, 2100} {
				rng := rand.New(rand.NewPCG(3, uint64(rows)))
				x, tt := randBatch(rng, rows, cfg.Dim)
				target, _ := randBatch(rng, rows, cfg.Dim)
				ref := mustNew(t, cfg, 4)
				ref.ZeroGrad()
				wantLoss := ref.Grad(x, tt, mseLoss(target))
				wantG := append([]float32(nil), ref.Grads()...)
				wantP := append([]float32(nil), ref.Params()...)
				for i := range wantP {
					wantP[i] -= 0.01 * wantG[i]
				}
				for _, procs := range []int{1, 2, 4} {
					runtime.GOMAXPROCS(procs)
					n := mustNew(t, cfg, 4)
					n.ZeroGrad()
					seen := make([]int32, len(n.Params()))
					var bad atomic.Int32
					p, g := n.Params(), n.Grads()
					loss := n.GradUpdate(x, tt, mseLoss(target), func(lo, hi int) {
						if lo%16 != 0 {
							bad.Store(1)
						}
						for i := lo; i < hi; i++ {
							seen[i]++
							if math.Float32bits(g[i]) != math.Float32bits(wantG[i]) {
								bad.Store(2)
							}
							p[i] -= 0.01 * g[i]
						}
					})
					where := fmt.Sprintf("%d params, %d rows, GOMAXPROCS %d", len(p), rows, procs)
					switch bad.Load() {
					case 1:
						t.Fatalf("%s: a block starts off a multiple of 16", where)
					case 2:
						t.Fatalf("%s: update saw a gradient that was not final", where)
					}
					if loss != wantLoss {
						t.Fatalf("%s: loss %v, want %v", where, loss, wantLoss)
					}
					for i := range p {
						if seen[i] != 1 {
							t.Fatalf("%s: parameter %d updated %d times", where, i, seen[i])
						}
						if math.Float32bits(g[i]) != math.Float32bits(wantG[i]) || math.Float32bits(p[i]) != math.Float32bits(wantP[i]) {
							t.Fatalf("%s: parameter %d: %v (gradient %v), want %v (%v)", where, i, p[i], g[i], wantP[i], wantG[i])
						}
					}
				}
			}
		})
	}
}

// TestGradNoAllocations: Grad with shards allocates nothing once its
// workers exist (one goroutine: AllocsPerRun sets GOMAXPROCS to 1).
func TestGradNoAllocations(t *testing.T) {
	if testing.CoverMode() != "" || raceEnabled {
		t.Skip("coverage and race instrumentation allocate")
	}
	n := mustNew(t, Config{Dim: 2, Hidden: []int{16, 16}}, 3)
	rng := rand.New(rand.NewPCG(1, 1))
	x, tt := randBatch(rng, 1100, 2)
	target, _ := randBatch(rng, 1100, 2)
	loss := mseLoss(target)
	n.Grad(x, tt, loss)
	if a := testing.AllocsPerRun(10, func() { n.Grad(x, tt, loss) }); a != 0 {
		t.Errorf("Grad allocates %v times per call in steady state", a)
	}
}

// cfgName names a config's subtest, e.g. "film-silu-d3-h7,5-f2".
func cfgName(c Config) string {
	arch := c.Arch
	if arch == "" {
		arch = "mlp"
	}
	return fmt.Sprintf("%s-%s-d%d-h%s-f%d-e%d", arch, c.Act, c.Dim, strings.Trim(strings.ReplaceAll(fmt.Sprint(c.Hidden), " ", ","), "[]"), c.Fourier, c.TimeEmbed)
}

// archs names the architectures that tests run through withArch.
var archs = []string{"mlp", "film-linear", "film"}

// withArch returns c as an MLP, a legacy film net (linear in e(t)) or a
// film net with a learned time embedding of width 8.
func withArch(c Config, arch string) Config {
	switch arch {
	case "film-linear":
		c.Arch, c.TimeEmbed = "film", 0
	case "film":
		c.Arch, c.TimeEmbed = "film", 8
	default:
		c.Arch, c.TimeEmbed = arch, 0
	}
	return c
}

// DefaultTimeEmbed is the narrowest width over 16, clamped to [8, 64].
func TestDefaultTimeEmbed(t *testing.T) {
	for _, c := range []struct {
		hidden []int
		want   int
	}{
		{[]int{256, 256, 256}, 16}, {[]int{512, 512, 512}, 32}, {[]int{64}, 8}, {nil, 8},
		{[]int{2048, 2048}, 64}, {[]int{512, 128, 512}, 8}, {[]int{400, 300}, 18},
	} {
		t.Run(fmt.Sprint(c.hidden), func(t *testing.T) {
			if got := DefaultTimeEmbed(c.hidden); got != c.want {
				t.Fatalf("DefaultTimeEmbed(%v) = %d, want %d", c.hidden, got, c.want)
			}
		})
	}
}
