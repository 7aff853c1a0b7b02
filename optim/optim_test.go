package optim

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
)

// adam64 is torch.optim.Adam's update written out in float64 from its
// documented formula, independently of adamUpdate.
func adam64(p, m, v []float64, g []float64, t int, lr, b1, b2, eps float64) {
	for i := range p {
		m[i] = b1*m[i] + (1-b1)*g[i]
		v[i] = b2*v[i] + (1-b2)*g[i]*g[i]
		mh := m[i] / (1 - math.Pow(b1, float64(t)))
		vh := v[i] / (1 - math.Pow(b2, float64(t)))
		p[i] -= lr * mh / (math.Sqrt(vh) + eps)
	}
}

// TestAdamTwoSteps: p = (1, −2), g₁ = (0.5, −0.1), g₂ = (−0.3, 0.2), lr 0.1.
// By hand: step 1 has m̂ = g, v̂ = g², so p moves by lr·sign(g):
// p₁ = (0.9, −1.9). Step 2: m = (0.015, 0.011), m̂ = m/0.19 =
// (0.078947, 0.057895); v = (3.3975e-4, 4.999e-5), v̂ = v/0.001999 =
// (0.16996, 0.025008); p₂ = p₁ − 0.1·m̂/√v̂ = (0.880850, −1.936610).
func TestAdamTwoSteps(t *testing.T) {
	p := []float32{1, -2}
	a := NewAdam(2)
	grads := [][]float32{{0.5, -0.1}, {-0.3, 0.2}}
	p64, m64, v64 := []float64{1, -2}, make([]float64, 2), make([]float64, 2)
	hand := [][]float64{{0.9, -1.9}, {0.880850, -1.936610}}
	for s, g := range grads {
		a.Step(p, g, 0.1)
		adam64(p64, m64, v64, []float64{float64(g[0]), float64(g[1])}, s+1, 0.1, 0.9, 0.999, 1e-8)
		for i := range p {
			// float32 state and arithmetic: a handful of roundings of 6e-8
			// relative on values O(1): 1e-6 absolute is ≥ 10× the error.
			if !(math.Abs(float64(p[i])-p64[i]) <= 1e-6) {
				t.Errorf("step %d p[%d] = %.8f, float64 formula %.8f", s+1, i, p[i], p64[i])
			}
			// The hand values above are rounded to 6 decimals.
			if !(math.Abs(float64(p[i])-hand[s][i]) <= 2e-6) {
				t.Errorf("step %d p[%d] = %.8f, hand computation %.6f", s+1, i, p[i], hand[s][i])
			}
		}
	}
	if a.T != 2 {
		t.Errorf("step count %d, want 2", a.T)
	}
}

// TestAdamWeightDecay: AdamW shrinks p by (1 − lr·wd) before the Adam step;
// Adam with weight decay adds wd·p to the gradient (PyTorch's two semantics).
func TestAdamWeightDecay(t *testing.T) {
	const lr, wd = 0.1, 0.5
	g := []float32{0.5, -0.1}
	pw := []float32{1, -2}
	NewAdamW(2, wd).Step(pw, g, lr)
	// Step 1 moves by lr·sign(g) after the decay: 1·0.95 − 0.1, −2·0.95 + 0.1.
	for i, want := range []float64{0.85, -1.8} {
		if !(math.Abs(float64(pw[i])-want) <= 1e-6) {
			t.Errorf("AdamW p[%d] = %g, want %g", i, pw[i], want)
		}
	}
	pa := []float32{1, -2}
	a := NewAdam(2)
	a.WeightDecay = wd
	a.Step(pa, g, lr)
	// g + wd·p = (1.0, −1.1): both move by lr·sign: (0.9, −1.9).
	for i, want := range []float64{0.9, -1.9} {
		if !(math.Abs(float64(pa[i])-want) <= 1e-6) {
			t.Errorf("Adam(L2) p[%d] = %g, want %g", i, pa[i], want)
		}
	}
	if g[0] != 0.5 || g[1] != -0.1 {
		t.Errorf("Adam with weight decay modified the gradients: %v", g)
	}
}

// TestSGDMomentum: p₀ = 1, g = 0.5 then −0.3, μ = 0.9, lr = 0.1.
// Plain momentum: b₁ = 0.5, p₁ = 0.95; b₂ = 0.45 − 0.3 = 0.15, p₂ = 0.935.
// Nesterov: step g + μb: 0.95 → p₁ = 0.905; −0.3 + 0.135 → p₂ = 0.9215.
// Dampening 0.5 (not on the first step): b₂ = 0.45 − 0.15 = 0.3, p₂ = 0.92.
func TestSGDMomentum(t *testing.T) {
	for _, c := range []struct {
		name        string
		nesterov    bool
		damp        float32
		wantP1, pP2 float64
	}{
		{"momentum", false, 0, 0.95, 0.935},
		{"nesterov", true, 0, 0.905, 0.9215},
		{"dampening", false, 0.5, 0.95, 0.92},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := NewSGD(1, 0.9)
			s.Nesterov, s.Dampening = c.nesterov, c.damp
			p := []float32{1}
			s.Step(p, []float32{0.5}, 0.1)
			if !(math.Abs(float64(p[0])-c.wantP1) <= 1e-6) {
				t.Errorf("%s step 1: %g, want %g", c.name, p[0], c.wantP1)
			}
			s.Step(p, []float32{-0.3}, 0.1)
			if !(math.Abs(float64(p[0])-c.pP2) <= 1e-6) {
				t.Errorf("%s step 2: %g, want %g", c.name, p[0], c.pP2)
			}
		})
	}
	// No momentum, weight decay 0.1: p ← p − lr(g + 0.1p) = 1 − 0.1·0.6 = 0.94.
	s := &SGD{WeightDecay: 0.1}
	p := []float32{1}
	s.Step(p, []float32{0.5}, 0.1)
	if !(math.Abs(float64(p[0])-0.94) <= 1e-6) {
		t.Errorf("plain SGD with weight decay: %g, want 0.94", p[0])
	}
}

func TestSchedules(t *testing.T) {
	near := func(name string, got, want float64) {
		t.Helper()
		if !(math.Abs(got-want) <= 1e-12) {
			t.Errorf("%s = %.15g, want %.15g", name, got, want)
		}
	}
	near("Constant(1000)", Constant()(1000), 1)
	c := Cosine(100, 0)
	near("Cosine(0)", c(0), 1)
	near("Cosine(50)", c(50), 0.5) // cos(π/2) = 0
	near("Cosine(100)", c(100), 0)
	near("Cosine(250)", c(250), 0) // stays at the end
	c = Cosine(100, 0.1)
	near("Cosine min 0.1 (100)", c(100), 0.1)
	near("Cosine min 0.1 (50)", c(50), 0.55)
	w := WarmupCosine(10, 110, 0)
	near("warm-up(0)", w(0), 0.1)
	near("warm-up(4)", w(4), 0.5)
	near("warm-up(9)", w(9), 1)
	near("warm-up(10)", w(10), 1)
	near("warm-up(60)", w(60), 0.5)
	near("warm-up(110)", w(110), 0)
	prev := math.Inf(1)
	for s := 10; s <= 110; s++ {
		if w(s) > prev {
			t.Fatalf("cosine part not decreasing at %d", s)
		}
		prev = w(s)
	}
}

func TestClipGlobalNorm(t *testing.T) {
	g := []float32{3, 4}
	if n := ClipGlobalNorm(g, 1); n != 5 {
		t.Errorf("norm %g, want 5", n)
	}
	// Scaled by 1/(5 + 1e-6): (0.6, 0.8) to 1e-6 relative.
	if !(math.Abs(float64(g[0])-0.6) <= 1e-6) || !(math.Abs(float64(g[1])-0.8) <= 1e-6) {
		t.Errorf("clipped to %v, want (0.6, 0.8)", g)
	}
	g = []float32{3, 4}
	if n := ClipGlobalNorm(g, 10); n != 5 || g[0] != 3 || g[1] != 4 {
		t.Errorf("under the limit: norm %g, grads %v changed", n, g)
	}
	g = []float32{float32(math.NaN()), 1}
	if n := ClipGlobalNorm(g, 1); !math.IsNaN(n) || g[1] != 1 {
		t.Errorf("NaN gradient: norm %g, grads %v", n, g)
	}
}

// TestEMA: with constant p the average approaches p geometrically:
// shadow_k = p + d^k·(shadow_0 − p).
func TestEMA(t *testing.T) {
	e := NewEMA([]float32{1, -1}, 0.9)
	p := []float32{2, 3}
	for k := 1; k <= 20; k++ {
		e.Update(p)
		for i := range p {
			want := float64(p[i]) + math.Pow(0.9, float64(k))*(float64([]float32{1, -1}[i])-float64(p[i]))
			// 20 float32 updates of O(1) values: error ≲ 20·2·6e-8.
			if !(math.Abs(float64(e.Shadow[i])-want) <= 1e-5) {
				t.Fatalf("after %d updates shadow[%d] = %g, want %g", k, i, e.Shadow[i], want)
			}
		}
	}
}

// TestResumeBitIdentical: stopping after 3 steps, saving the state and
// continuing from it gives the same bits as 6 uninterrupted steps.
func TestResumeBitIdentical(t *testing.T) {
	for _, c := range []struct {
		name string
		mk   func() Optimizer
	}{
		{"Adam", func() Optimizer { return NewAdam(50) }},
		{"AdamW", func() Optimizer { return NewAdamW(50, 0.01) }},
		{"SGD_nesterov", func() Optimizer { s := NewSGD(50, 0.9); s.Nesterov = true; return s }},
	} {
		t.Run(c.name, func(t *testing.T) {
			mk := c.mk
			rng := rand.New(rand.NewPCG(1, 2))
			grads := make([][]float32, 6)
			for i := range grads {
				grads[i] = make([]float32, 50)
				for j := range grads[i] {
					grads[i][j] = float32(rng.NormFloat64())
				}
			}
			p0 := make([]float32, 50)
			for j := range p0 {
				p0[j] = float32(rng.NormFloat64())
			}
			full := append([]float32(nil), p0...)
			o := mk()
			for _, g := range grads {
				o.Step(full, g, 0.01)
			}
			part := append([]float32(nil), p0...)
			o = mk()
			for _, g := range grads[:3] {
				o.Step(part, g, 0.01)
			}
			state, err := o.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			r := mk()
			if err := r.UnmarshalBinary(state); err != nil {
				t.Fatal(err)
			}
			for _, g := range grads[3:] {
				r.Step(part, g, 0.01)
			}
			for j := range full {
				if math.Float32bits(full[j]) != math.Float32bits(part[j]) {
					t.Fatalf("%T: parameter %d: %g uninterrupted, %g resumed", o, j, full[j], part[j])
				}
			}
			for i := 0; i < len(state); i++ {
				if err := mk().UnmarshalBinary(state[:i]); err == nil || !errors.Is(err, ErrState) {
					t.Fatalf("%T: truncated state (%d of %d bytes): %v", o, i, len(state), err)
				}
			}
		})
	}
	a, _ := NewAdam(3).MarshalBinary()
	if err := NewSGD(3, 0).UnmarshalBinary(a); err == nil {
		t.Error("SGD accepted an Adam state")
	}
}

// TestStepBlocksMatchesStep: a step applied by StepBlocks in blocks (whole
// vectors but the last, taken in reverse order and concurrently) leaves the
// parameters and the state with exactly the bits Step leaves, for every
// optimizer and variant, over four steps: 1003 parameters in blocks of 48,
// and 70001 (where Step's adamUpdate splits the work across goroutines) in
// blocks of 16384.
func TestStepBlocksMatchesStep(t *testing.T) {
	for _, sz := range [][2]int{{1003, 48}, {70001, 16384}} {
		n, bs := sz[0], sz[1]
		for _, c := range []struct {
			name string
			mk   func() BlockStepper
		}{
			{"Adam", func() BlockStepper { return NewAdam(n) }},
			{"AdamW", func() BlockStepper { return NewAdamW(n, 0.01) }},
			{"Adam_L2", func() BlockStepper { a := NewAdam(n); a.WeightDecay = 0.1; return a }},
			{"SGD", func() BlockStepper { return NewSGD(n, 0) }},
			{"SGD_nesterov_wd_damp", func() BlockStepper {
				s := NewSGD(n, 0.9)
				s.Nesterov, s.WeightDecay, s.Dampening = true, 0.01, 0.1
				return s
			}},
		} {
			t.Run(fmt.Sprintf("%s_%d", c.name, n), func(t *testing.T) {
				mk := c.mk
				rng := rand.New(rand.NewPCG(5, 6))
				p0, g := make([]float32, n), make([][]float32, 4)
				for j := range p0 {
					p0[j] = float32(rng.NormFloat64())
				}
				for i := range g {
					g[i] = make([]float32, n)
					for j := range g[i] {
						g[i][j] = float32(rng.NormFloat64())
					}
				}
				whole, blocks := append([]float32(nil), p0...), append([]float32(nil), p0...)
				ow, ob := mk(), mk()
				for i := range g {
					ow.Step(whole, g[i], 0.01)
					apply := ob.StepBlocks(blocks, g[i], 0.01)
					var wg sync.WaitGroup
					for lo := (n - 1) / bs * bs; lo >= 0; lo -= bs {
						wg.Go(func() { apply(lo, min(lo+bs, n)) })
					}
					wg.Wait()
				}
				sw, _ := ow.MarshalBinary()
				sb, _ := ob.MarshalBinary()
				for j := range whole {
					if math.Float32bits(whole[j]) != math.Float32bits(blocks[j]) {
						t.Fatalf("%T, %d parameters: parameter %d: %g by Step, %g by blocks", ow, n, j, whole[j], blocks[j])
					}
				}
				if !bytes.Equal(sw, sb) {
					t.Fatalf("%T, %d parameters: states differ", ow, n)
				}
			})
		}
	}
}

// TestStepBlocksOfACopy: StepBlocks on a copy of a used optimizer steps the
// copy, not the original (the bound step function is re-bound).
func TestStepBlocksOfACopy(t *testing.T) {
	p, g := []float32{1, 2, 3}, []float32{1, 1, 1}
	a := NewAdam(3)
	a.StepBlocks(p, g, 0.1)(0, 3)
	b := *a
	b.M, b.V = append([]float32(nil), a.M...), append([]float32(nil), a.V...)
	q := []float32{1, 2, 3}
	before := append([]float32(nil), p...)
	b.StepBlocks(q, g, 0.1)(0, 3)
	if q[0] == 1 || p[0] != before[0] || a.T != 1 {
		t.Errorf("Adam copy: copy's parameters %v, original's %v (T %d)", q, p, a.T)
	}
	s := NewSGD(3, 0.9)
	s.StepBlocks(p, g, 0.1)(0, 3)
	c := *s
	c.Buf = append([]float32(nil), s.Buf...)
	q = []float32{1, 2, 3}
	before = append([]float32(nil), p...)
	c.StepBlocks(q, g, 0.1)(0, 3)
	if q[0] == 1 || p[0] != before[0] || s.T != 1 {
		t.Errorf("SGD copy: copy's parameters %v, original's %v (T %d)", q, p, s.T)
	}
}

func TestNoAllocations(t *testing.T) {
	p, g := make([]float32, 1000), make([]float32, 1000)
	a := NewAdam(1000)
	a.WeightDecay = 0.1
	s := NewSGD(1000, 0.9)
	e := NewEMA(p, 0.99)
	if n := testing.AllocsPerRun(10, func() {
		a.Step(p, g, 1e-3)
		s.Step(p, g, 1e-3)
		a.StepBlocks(p, g, 1e-3)(0, 1000)
		s.StepBlocks(p, g, 1e-3)(0, 1000)
		e.Update(p)
		ClipGlobalNorm(g, 1)
	}); n != 0 {
		t.Errorf("%v allocations per step", n)
	}
}

func FuzzUnmarshalState(f *testing.F) {
	a := NewAdam(3)
	a.Step([]float32{1, 2, 3}, []float32{1, 1, 1}, 0.1)
	ab, _ := a.MarshalBinary()
	sb, _ := NewSGD(2, 0.9).MarshalBinary()
	f.Add(ab)
	f.Add(sb)
	f.Add(ab[:20])
	f.Fuzz(func(t *testing.T, data []byte) {
		var a Adam
		if err := a.UnmarshalBinary(data); err == nil {
			if len(a.M) != len(a.V) {
				t.Fatal("accepted moments of different lengths")
			}
			re, _ := a.MarshalBinary()
			if string(re) != string(data) {
				t.Fatal("accepted Adam state does not re-encode to itself")
			}
		} else if !errors.Is(err, ErrState) {
			t.Fatalf("error %v is not ErrState", err)
		}
		var s SGD
		if err := s.UnmarshalBinary(data); err == nil {
			re, _ := s.MarshalBinary()
			if string(re) != string(data) {
				t.Fatal("accepted SGD state does not re-encode to itself")
			}
		} else if !errors.Is(err, ErrState) {
			t.Fatalf("error %v is not ErrState", err)
		}
	})
}
