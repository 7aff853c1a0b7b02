package nn

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/flowlab/flowlab/mat"
)

// shapeConfigs are nets that are not velocity fields: no time input, and an
// output narrower (a classifier, an encoder) or wider (a decoder) than the
// input, or a time input with an output of its own width.
func shapeConfigs() []Config {
	return []Config{
		{Dim: 6, Hidden: []int{8, 5}, Act: "silu", Out: 3, NoTime: true},    // classifier / encoder
		{Dim: 2, Hidden: []int{7}, Act: "tanh", Out: 9, NoTime: true},       // decoder
		{Dim: 2, Hidden: []int{4}, Act: "relu", NoTime: true},               // 2-D, no time: not fillInput's 2-D path
		{Dim: 4, Hidden: nil, Act: "gelu", Out: 2, NoTime: true},            // one Linear layer
		{Dim: 3, Hidden: []int{6}, Act: "selu", Out: 5, Fourier: 1},         // time input, own output width
		{Dim: 5, Hidden: []int{9, 9, 9}, Act: "silu", Out: 1, NoTime: true}, // depth 3, scalar out
	}
}

// refShape64 is the float64 reference of an mlp net written from the
// Config's description: input [x] (NoTime) or [x, t, sin, cos], Linear
// layers with the activation between them, OutDim outputs.
func refShape64(cfg Config, p []float64, x []float64, t float64) (out, last []float64) {
	h := append([]float64(nil), x...)
	if !cfg.NoTime {
		h = append(h, t)
		for k := 1; k <= cfg.Fourier; k++ {
			h = append(h, math.Sin(2*math.Pi*float64(k)*t))
		}
		for k := 1; k <= cfg.Fourier; k++ {
			h = append(h, math.Cos(2*math.Pi*float64(k)*t))
		}
	}
	off := 0
	for _, w := range cfg.Hidden {
		h, off = linear64(p, off, w, h)
		for i := range h {
			h[i] = act64(cfg.Act, h[i])
		}
		last = h
	}
	out, _ = linear64(p, off, cfg.OutDim(), h)
	return out, last
}

func TestShapeForwardAndGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	for _, cfg := range shapeConfigs() {
		t.Run(cfgName(cfg)+"-o"+itoa(cfg.Out), func(t *testing.T) {
			n := mustNew(t, cfg, 5)
			x, tt := randBatch(rng, 6, cfg.Dim)
			c := mat.New(6, cfg.OutDim())
			for i := range c.Data {
				c.Data[i] = float32(rng.NormFloat64())
			}
			n.ZeroGrad()
			out := n.Forward(x, tt)
			if out.R != 6 || out.C != cfg.OutDim() {
				t.Fatalf("Forward gives %s, want 6×%d", out.Shape(), cfg.OutDim())
			}
			p64 := to64(n.Params())
			// Forward against float64: as in TestForwardMatchesFloat64Reference.
			for b := 0; b < x.R; b++ {
				want, last := refShape64(cfg, p64, to64(x.Row(b)), float64(tt[b]))
				for j, w := range want {
					if got := float64(out.At(b, j)); math.Abs(got-w) > 1e-5*(1+math.Abs(w)) {
						t.Errorf("v[%d][%d] = %g, float64 reference %g", b, j, got, w)
					}
				}
				if k := len(cfg.Hidden) - 1; k >= 0 {
					for j, w := range last {
						if got := float64(n.Hidden(k).At(b, j)); math.Abs(got-w) > 1e-5*(1+math.Abs(w)) {
							t.Errorf("Hidden(%d)[%d][%d] = %g, float64 reference %g", k, b, j, got, w)
						}
					}
				}
			}
			gx := n.Backward(c, true)
			loss := func(p, xs []float64) float64 {
				s := 0.0
				for b := 0; b < x.R; b++ {
					v, _ := refShape64(cfg, p, xs[b*cfg.Dim:(b+1)*cfg.Dim], float64(tt[b]))
					for j := range v {
						s += float64(c.At(b, j)) * v[j]
					}
				}
				return s
			}
			x64 := to64(x.Data)
			// Central differences of the float64 reference, h = 1e-5: exact to
			// ~1e-10 (see TestParamGradients); the float32 gradient is within
			// 1e-4 of the gradient scale for the reasons given there.
			check := func(what string, v []float64, got []float32) {
				const h = 1e-5
				fd := make([]float64, len(v))
				scale := 0.0
				for i := range v {
					old := v[i]
					v[i] = old + h
					lp := loss(p64, x64)
					v[i] = old - h
					lm := loss(p64, x64)
					v[i] = old
					fd[i] = (lp - lm) / (2 * h)
					scale = math.Max(scale, math.Abs(fd[i]))
				}
				for i, g := range got {
					if math.Abs(float64(g)-fd[i]) > 1e-4*scale {
						t.Errorf("%s[%d] = %g, finite differences %g (scale %g)", what, i, g, fd[i], scale)
					}
				}
			}
			check("dL/dθ", p64, n.Grads())
			check("dL/dx", x64, gx.Data)
		})
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// TestApplyAndHiddenOfChunked checks that Apply and HiddenOf on a batch of
// several of Eval's chunks give Forward's bits for every row.
func TestApplyAndHiddenOfChunked(t *testing.T) {
	cfg := Config{Dim: 20, Hidden: []int{32, 16}, Out: 10, NoTime: true}
	n := mustNew(t, cfg, 3)
	rng := rand.New(rand.NewPCG(1, 1))
	x, _ := randBatch(rng, 1300, cfg.Dim)
	out := mat.New(x.R, 10)
	n.Apply(x, out)
	feat := n.HiddenOf(x, 1)
	ref := n.Clone()
	for _, r0 := range []int{0, 511, 512, 1299} {
		xv := mat.Dense{R: 1, C: cfg.Dim, Data: x.Row(r0)}
		o := ref.Forward(&xv, []float32{0})
		if !slices.Equal(o.Data, out.Row(r0)) {
			t.Errorf("Apply row %d = %v, Forward %v", r0, out.Row(r0), o.Data)
		}
		if !slices.Equal(ref.Hidden(1).Data, feat.Row(r0)) {
			t.Errorf("HiddenOf row %d differs from Forward's Hidden(1)", r0)
		}
	}
}

// TestShapeSaveLoad round-trips a classifier-shaped net and checks that a
// velocity field's config JSON has no new keys (old files and hashes keep
// their bytes).
func TestShapeSaveLoad(t *testing.T) {
	cfg := Config{Dim: 6, Hidden: []int{8, 5}, Out: 3, NoTime: true}
	n := mustNew(t, cfg, 9)
	path := filepath.Join(t.TempDir(), "c.safetensors")
	if err := n.Save(path); err != nil {
		t.Fatal(err)
	}
	m, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(m.Params(), n.Params()) || m.Config().Out != 3 || !m.Config().NoTime {
		t.Errorf("loaded %+v, saved %+v", m.Config(), n.Config())
	}
	b, _ := json.Marshal(Config{Dim: 3, Hidden: []int{4}})
	if strings.Contains(string(b), "out") || strings.Contains(string(b), "no_time") {
		t.Errorf("a velocity field's config JSON %s has the new keys", b)
	}
}

func TestShapeConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"negative out", Config{Dim: 2, Out: -1}, "out -1"},
		{"film out", Config{Dim: 2, Out: 3, Arch: "film"}, "mlp nets"},
		{"film no time", Config{Dim: 2, NoTime: true, Arch: "film"}, "mlp nets"},
		{"fourier no time", Config{Dim: 2, NoTime: true, Fourier: 2}, "no_time"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.cfg, 1)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New(%+v) = %v, want an error naming %q", tc.cfg, err, tc.want)
			}
		})
	}
}
