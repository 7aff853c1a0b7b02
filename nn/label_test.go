package nn

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/flowlab/flowlab/mat"
)

// condConfigs are conditional nets: MLPs with one-hot label columns (with
// Fourier features, the 2-D case, no hidden layer) and learned-embedding
// film nets with a label table.
func condConfigs() []Config {
	return []Config{
		{Dim: 3, Hidden: []int{7, 5}, Act: "silu", Classes: 4},
		{Dim: 2, Hidden: []int{6}, Act: "tanh", Classes: 3},
		{Dim: 4, Hidden: nil, Act: "silu", Fourier: 2, Classes: 2},
		{Dim: 3, Hidden: []int{7, 5}, Act: "silu", Arch: "film", Fourier: 1, TimeEmbed: 6, Classes: 4},
		{Dim: 2, Hidden: []int{5}, Act: "gelu", Arch: "film", TimeEmbed: 4, Classes: 3},
	}
}

// ref64Cond evaluates a conditional net in float64 from label.go's
// description, one point with label y (Null for the null label): an MLP
// reads [x, t, sin 2πkt, cos 2πkt, onehot(y)] (column K for Null); a film
// net adds row y of the (K+1)×E table (after every other parameter) to the
// time MLP's second pre-activation.
func ref64Cond(cfg Config, p []float64, x []float64, t float64, y int) []float64 {
	k := cfg.Classes
	if y == Null {
		y = k
	}
	h := append(append([]float64(nil), x...), t)
	for j := 1; j <= cfg.Fourier; j++ {
		h = append(h, math.Sin(2*math.Pi*float64(j)*t))
	}
	for j := 1; j <= cfg.Fourier; j++ {
		h = append(h, math.Cos(2*math.Pi*float64(j)*t))
	}
	film := cfg.Arch == "film"
	if !film {
		oh := make([]float64, k+1)
		oh[y] = 1
		h = append(h, oh...)
	}
	widths := append(append([]int{len(h)}, cfg.Hidden...), cfg.Dim)
	var mod []float64
	if film {
		mod = condModulation(cfg, p, widths, t, y)
	}
	off, col := 0, 0
	for l := 1; l < len(widths); l++ {
		out := widths[l]
		var z []float64
		z, off = linear64(p, off, out, h)
		for o := range z {
			switch {
			case l < len(widths)-1 && film:
				z[o] = act64(cfg.Act, z[o]*(1+mod[col+o])+mod[col+out+o])
			case l < len(widths)-1:
				z[o] = act64(cfg.Act, z[o])
			case film:
				z[o] *= 1 + mod[col+o]
			}
		}
		col += 2 * out
		h = z
	}
	return h
}

// condModulation is the film heads' output M·e + m for time t and table row
// y, with e = SiLU(W₂·SiLU(W₁·φ(t) + b₁) + b₂ + L[y]).
func condModulation(cfg Config, p []float64, widths []int, t float64, y int) []float64 {
	const nf = 8
	phi := make([]float64, 2*nf)
	for j := 0; j < nf; j++ {
		w := math.Pow(10, float64(j)/(nf-1))
		phi[j], phi[nf+j] = math.Sin(w*t), math.Cos(w*t)
	}
	off := 0
	for l := 1; l < len(widths); l++ {
		off += (widths[l-1] + 1) * widths[l]
	}
	e := cfg.TimeEmbed
	a1, off := linear64(p, off, e, phi)
	for i := range a1 {
		a1[i] = act64("silu", a1[i])
	}
	p2, off := linear64(p, off, e, a1)
	rows := cfg.Dim
	for _, w := range cfg.Hidden {
		rows += 2 * w
	}
	table := off + rows*e + rows
	for i := range p2 {
		p2[i] = act64("silu", p2[i]+p[table+y*e+i])
	}
	mod := make([]float64, rows)
	for r := range mod {
		mod[r] = p[off+rows*e+r]
		for j, v := range p2 {
			mod[r] += p[off+r*e+j] * v
		}
	}
	return mod
}

// mustNewCond is mustNew with the label table (zero after New) set to
// U(−½, ½) as well, so that tests exercise it.
func mustNewCond(t testing.TB, cfg Config, seed uint64) *Net {
	t.Helper()
	n := mustNew(t, cfg, seed)
	if n.te != nil {
		rng := rand.New(rand.NewPCG(seed, 98))
		for i := range n.te.lab.w.Data {
			n.te.lab.w.Data[i] = float32(rng.Float64() - 0.5)
		}
	}
	return n
}

// randLabels returns b labels in 0..k−1 or Null.
func randLabels(rng *rand.Rand, b, k int) []int {
	y := make([]int, b)
	for i := range y {
		y[i] = rng.IntN(k+1) - 1
	}
	return y
}

func TestCondForwardMatchesFloat64Reference(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	for _, cfg := range condConfigs() {
		t.Run(cfgName(cfg), func(t *testing.T) {
			n := mustNewCond(t, cfg, 5)
			x, tt := randBatch(rng, 9, cfg.Dim)
			y := randLabels(rng, 9, cfg.Classes)
			n.SetLabels(y)
			out := n.Forward(x, tt)
			p := to64(n.Params())
			for b := 0; b < x.R; b++ {
				want := ref64Cond(cfg, p, to64(x.Row(b)), float64(tt[b]), y[b])
				for j, w := range want {
					// float32 through ≤ 4 layers of ≤ 20 terms: ≲ 1e-6
					// relative; 1e-5·(1+|w|) leaves a margin.
					if got := float64(out.At(b, j)); math.Abs(got-w) > 1e-5*(1+math.Abs(w)) {
						t.Errorf("row %d (label %d) out %d = %g, float64 reference %g", b, y[b], j, got, w)
					}
				}
			}
			n.SetLabels(nil) // every row Null
			out = n.Forward(x, tt)
			want := ref64Cond(cfg, p, to64(x.Row(0)), float64(tt[0]), Null)
			if got := float64(out.At(0, 0)); math.Abs(got-want[0]) > 1e-5*(1+math.Abs(want[0])) {
				t.Errorf("no labels: out = %g, the null label's reference %g", got, want[0])
			}
		})
	}
}

// TestCondGradients checks the parameter gradients (the label table's
// among them) and the input gradient against float64 central differences of
// the reference, as TestParamGradients does for unconditional nets.
func TestCondGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	for _, cfg := range condConfigs() {
		t.Run(cfgName(cfg), func(t *testing.T) {
			n := mustNewCond(t, cfg, 7)
			x, tt := randBatch(rng, 6, cfg.Dim)
			y := randLabels(rng, 6, cfg.Classes)
			c, _ := randBatch(rng, 6, cfg.Dim)
			n.SetLabels(y)
			n.ZeroGrad()
			n.Forward(x, tt)
			gx := n.Backward(c, true).Clone()
			p64 := to64(n.Params())
			loss := func(p []float64, row int, xr []float64) float64 {
				v := ref64Cond(cfg, p, xr, float64(tt[row]), y[row])
				s := 0.0
				for j := range v {
					s += float64(c.At(row, j)) * v[j]
				}
				return s
			}
			total := func(p []float64) float64 {
				s := 0.0
				for b := 0; b < x.R; b++ {
					s += loss(p, b, to64(x.Row(b)))
				}
				return s
			}
			// h = 1e-5 central differences of the float64 reference are
			// exact to ~1e-10; float32 gradients of ≤ 20-term sums through
			// ≤ 4 layers are within ~1e-5 of the scale: 1e-4 of it.
			const h = 1e-5
			fd := make([]float64, len(p64))
			scale := 0.0
			for i := range p64 {
				old := p64[i]
				p64[i] = old + h
				lp := total(p64)
				p64[i] = old - h
				lm := total(p64)
				p64[i] = old
				fd[i] = (lp - lm) / (2 * h)
				scale = math.Max(scale, math.Abs(fd[i]))
			}
			for i, g := range n.Grads() {
				if math.Abs(float64(g)-fd[i]) > 1e-4*scale {
					t.Errorf("dL/dθ[%d] = %g, finite differences %g (scale %g)", i, g, fd[i], scale)
				}
			}
			for b := 0; b < x.R; b++ {
				xb := to64(x.Row(b))
				for i := range xb {
					old := xb[i]
					xb[i] = old + h
					lp := loss(p64, b, xb)
					xb[i] = old - h
					lm := loss(p64, b, xb)
					xb[i] = old
					want := (lp - lm) / (2 * h)
					if got := float64(gx.At(b, i)); math.Abs(got-want) > 1e-4*(1+math.Abs(want)) {
						t.Errorf("dL/dx[%d][%d] = %g, finite differences %g", b, i, got, want)
					}
				}
			}
		})
	}
}

func TestCondJVP(t *testing.T) {
	rng := rand.New(rand.NewPCG(25, 26))
	for _, cfg := range condConfigs() {
		t.Run(cfgName(cfg), func(t *testing.T) {
			n := mustNewCond(t, cfg, 9)
			x, tt := randBatch(rng, 5, cfg.Dim)
			dx, _ := randBatch(rng, 5, cfg.Dim)
			y := randLabels(rng, 5, cfg.Classes)
			n.SetLabels(y)
			_, dout := n.JVP(x, dx, tt)
			p64 := to64(n.Params())
			const h = 1e-5 // float64 central differences, exact to ~1e-10
			for b := 0; b < x.R; b++ {
				xp, xm := to64(x.Row(b)), to64(x.Row(b))
				for i := range xp {
					xp[i] += h * float64(dx.At(b, i))
					xm[i] -= h * float64(dx.At(b, i))
				}
				vp := ref64Cond(cfg, p64, xp, float64(tt[b]), y[b])
				vm := ref64Cond(cfg, p64, xm, float64(tt[b]), y[b])
				for j := range vp {
					fd := (vp[j] - vm[j]) / (2 * h)
					// float32 tangents through ≤ 4 layers, as in TestJVP.
					if got := float64(dout.At(b, j)); math.Abs(got-fd) > 1e-4*(1+math.Abs(fd)) {
						t.Errorf("JVP[%d][%d] = %g, finite differences %g", b, j, got, fd)
					}
				}
			}
		})
	}
}

// TestCondChunksAndShards checks that Eval's chunks and Grad's shards give
// each row its own label: Eval of a batch of 1100 rows against Forward on
// each row's chunk, and Grad's sharded gradient against one Forward and
// Backward of the whole batch, bit for bit across GOMAXPROCS.
func TestCondChunksAndShards(t *testing.T) {
	rng := rand.New(rand.NewPCG(27, 28))
	for _, cfg := range []Config{
		{Dim: 4, Hidden: []int{32, 32}, Classes: 5},
		{Dim: 4, Hidden: []int{32, 32}, Arch: "film", TimeEmbed: 8, Classes: 5},
	} {
		t.Run(cfgName(cfg), func(t *testing.T) {
			const b = 1100
			x, _ := randBatch(rng, b, cfg.Dim)
			y := randLabels(rng, b, cfg.Classes)
			runs := map[int][]float32{}
			for _, procs := range []int{1, 2, 4} {
				old := runtime.GOMAXPROCS(procs)
				n := mustNewCond(t, cfg, 3)
				n.SetLabels(y)
				out := mat.New(b, cfg.Dim)
				n.Eval(0.3, x, out)
				n.ZeroGrad()
				tt := make([]float32, b)
				for i := range tt {
					tt[i] = 0.3
				}
				n.Grad(x, tt, func(_ int, o, g *mat.Dense) float64 { copy(g.Data, o.Data); return 0 })
				runs[procs] = append(append([]float32(nil), out.Data...), n.Grads()...)
				runtime.GOMAXPROCS(old)
			}
			for i := range runs[1] {
				if math.Float32bits(runs[1][i]) != math.Float32bits(runs[2][i]) || math.Float32bits(runs[1][i]) != math.Float32bits(runs[4][i]) {
					t.Fatalf("value %d differs across GOMAXPROCS: %g %g %g", i, runs[1][i], runs[2][i], runs[4][i])
				}
			}
			// Rows 512..1023 are Eval's second chunk: Forward of that
			// chunk alone with its labels gives the same bits.
			n := mustNewCond(t, cfg, 3)
			n.SetLabels(y[512:1024])
			tt := make([]float32, 512)
			for i := range tt {
				tt[i] = 0.3
			}
			f := n.Forward(x.Rows(512, 1024), tt)
			for i, v := range f.Data {
				if math.Float32bits(v) != math.Float32bits(runs[1][512*cfg.Dim+i]) {
					t.Fatalf("Eval's chunk differs from Forward at %d: %g vs %g", i, runs[1][512*cfg.Dim+i], v)
				}
			}
			// Grad with gOut = out is the gradient of ½Σv²: against one
			// Backward of the whole batch (sums in another order: 1e-4).
			n = mustNewCond(t, cfg, 3)
			n.SetLabels(y)
			whole := make([]float32, b)
			for i := range whole {
				whole[i] = 0.3
			}
			o := n.Forward(x, whole)
			n.ZeroGrad()
			n.Backward(o.Clone(), false)
			g := runs[1][b*cfg.Dim:]
			scale := 0.0
			for _, v := range n.Grads() {
				scale = math.Max(scale, math.Abs(float64(v)))
			}
			for i, v := range n.Grads() {
				if math.Abs(float64(v-g[i])) > 1e-4*scale {
					t.Fatalf("sharded gradient %d = %g, whole batch %g", i, g[i], v)
				}
			}
		})
	}
}

// TestCondFreshFilmIsUnconditional: the label table starts at zero, so a
// fresh conditional film net computes the unconditional net of the same
// seed for every label (within float32 rounding: the label path rounds the
// second layer's pre-activation before its SiLU).
func TestCondFreshFilmIsUnconditional(t *testing.T) {
	cfg := Config{Dim: 3, Hidden: []int{16, 16}, Arch: "film", TimeEmbed: 8}
	plain, err := New(cfg, 4)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Classes = 3
	cond, err := New(cfg, 4)
	if err != nil {
		t.Fatal(err)
	}
	x, tt := randBatch(rand.New(rand.NewPCG(1, 2)), 8, 3)
	want := plain.Forward(x, tt).Clone()
	cond.SetLabels([]int{0, 1, 2, Null, 0, 1, 2, Null})
	got := cond.Forward(x, tt)
	for i, v := range got.Data {
		if v != want.Data[i] {
			t.Fatalf("out[%d] = %g, unconditional %g", i, v, want.Data[i])
		}
	}
}

func TestCondSaveLoad(t *testing.T) {
	for _, cfg := range condConfigs() {
		t.Run(cfgName(cfg), func(t *testing.T) {
			n := mustNewCond(t, cfg, 13)
			path := filepath.Join(t.TempDir(), "m.safetensors")
			if err := n.Save(path); err != nil {
				t.Fatal(err)
			}
			m, err := Load(path)
			if err != nil {
				t.Fatal(err)
			}
			if m.Classes() != cfg.Classes {
				t.Fatalf("loaded classes %d, want %d", m.Classes(), cfg.Classes)
			}
			x, tt := randBatch(rand.New(rand.NewPCG(3, 4)), 4, cfg.Dim)
			y := []int{0, 1, Null, cfg.Classes - 1}
			n.SetLabels(y)
			m.SetLabels(y)
			a, b := n.Forward(x, tt), m.Forward(x, tt)
			for i := range a.Data {
				if a.Data[i] != b.Data[i] {
					t.Fatalf("loaded net differs at %d: %g vs %g", i, b.Data[i], a.Data[i])
				}
			}
			names := map[string]bool{}
			for _, ts := range n.tensors() {
				names[ts.name] = true
			}
			if film := cfg.Arch == "film"; names["label_embed.weight"] != film {
				t.Errorf("label_embed.weight present %v, want %v", names["label_embed.weight"], film)
			}
		})
	}
}

func TestCondConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"negative", Config{Dim: 2, Classes: -1}},
		{"too many", Config{Dim: 2, Classes: MaxClasses + 1}},
		{"legacy film", Config{Dim: 2, Hidden: []int{4}, Arch: "film", Classes: 3}},
		{"no time", Config{Dim: 2, Hidden: []int{4}, NoTime: true, Classes: 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := New(tc.cfg, 1); err == nil {
				t.Fatalf("New(%+v) accepted the config", tc.cfg)
			}
		})
	}
}

func TestCondLabelPanics(t *testing.T) {
	n, err := New(Config{Dim: 2, Hidden: []int{4}, Classes: 3}, 1)
	if err != nil {
		t.Fatal(err)
	}
	x, tt := randBatch(rand.New(rand.NewPCG(1, 1)), 2, 2)
	for _, tc := range []struct {
		name   string
		labels []int
	}{{"length", []int{0}}, {"range", []int{0, 3}}, {"negative", []int{-2, 0}}} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("no panic")
				}
			}()
			n.SetLabels(tc.labels)
			n.Forward(x, tt)
		})
	}
	t.Run("unconditional", func(t *testing.T) {
		defer func() {
			if recover() == nil {
				t.Fatal("no panic")
			}
		}()
		u, _ := New(Config{Dim: 2, Hidden: []int{4}}, 1)
		u.SetLabels([]int{0, 0})
	})
}
