package train

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/flowlab/flowlab/dist"
	"github.com/flowlab/flowlab/mat"
	"github.com/flowlab/flowlab/nn"
)

func eightGaussians(t testing.TB) dist.Sampler {
	s, err := dist.Parse("8gaussians")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// condConfig is a small conditional configuration on 8 gaussians.
func condConfig(arch string, drop float64) Config {
	c := smallConfig()
	c.Cond, c.CondDrop, c.Arch = "label", drop, arch
	if arch == "film" {
		c.TimeEmbed = 8
	}
	return c
}

// modeDistance returns the distance of p from the centre of 8gaussians'
// component k (5 at angle k·45°).
func modeDistance(p []float32, k int) float64 {
	a := float64(k) * math.Pi / 4
	return math.Hypot(float64(p[0])-5*math.Cos(a), float64(p[1])-5*math.Sin(a))
}

// TestCondLabelsFollowRows: each step's labels are x1's rows' components,
// through every coupling: each point lies within 6σ of its label's centre
// (σ = 0.562 per coordinate: P(r > 6σ) = e^−18 per point; a wrong label puts
// most points 3.8 or more away, beyond 6σ = 3.4), and a drop rate p nulls a
// share of labels within 5 binomial standard deviations of p.
func TestCondLabelsFollowRows(t *testing.T) {
	for _, cp := range []string{"independent", "ot", "label-ot"} {
		t.Run(cp, func(t *testing.T) {
			cfg := condConfig("mlp", 0.2)
			cfg.Coupling, cfg.Batch = cp, 256
			tr, err := newTrainer(gauss(t, 2, 1), eightGaussians(t), cfg)
			if err != nil {
				t.Fatal(err)
			}
			nulls, n := 0, 0
			for step := 0; step < 10; step++ {
				if err := tr.drawTarget(); err != nil {
					t.Fatal(err)
				}
				for i, y := range tr.cond.labels {
					if d := modeDistance(tr.x1.Row(i), y); d > 6*0.562 {
						t.Fatalf("step %d row %d: label %d, the point %v is %.2f from its centre", step, i, y, tr.x1.Row(i), d)
					}
				}
				tr.cond.drop(tr.rng)
				for _, y := range tr.cond.labels {
					if y == nn.Null {
						nulls++
					}
					n++
				}
			}
			p := float64(nulls) / float64(n)
			if sd := math.Sqrt(0.2 * 0.8 / float64(n)); math.Abs(p-0.2) > 5*sd {
				t.Fatalf("null share %v, want 0.2 ± %v", p, 5*sd)
			}
		})
	}
}

// TestGuidedField checks the guided field against its definition,
// v∅ + w·(v_y − v∅) from two Forward calls, and that w = 1 and w = 0 are
// v_y and v∅ exactly.
func TestGuidedField(t *testing.T) {
	for _, arch := range []string{"mlp", "film"} {
		t.Run(arch, func(t *testing.T) {
			res, err := Fit(context.Background(), gauss(t, 2, 1), eightGaussians(t), condConfig(arch, 0.3), Options{})
			if err != nil {
				t.Fatal(err)
			}
			net := res.Net
			rng := rand.New(rand.NewPCG(1, 2))
			x := mat.New(6, 2)
			gauss(t, 2, 1).Sample(rng, x)
			labels := []int{0, 3, 7, nn.Null, 5, 1}
			tt := []float32{0.4, 0.4, 0.4, 0.4, 0.4, 0.4}
			ref := net.Clone()
			ref.SetLabels(nil)
			vn := ref.Forward(x, tt).Clone()
			ref.SetLabels(labels)
			vy := ref.Forward(x, tt).Clone()
			for _, w := range []float64{0, 1, 2.5} {
				f := field(net, SampleOptions{Labels: labels, Guidance: &w}, 0, 6)
				out := mat.New(6, 2)
				f.Eval(0.4, x, out)
				for i, v := range out.Data {
					want := float64(vn.Data[i]) + w*float64(vy.Data[i]-vn.Data[i])
					// The mix is float32: within a few ulps of values ≲ 10.
					if math.Abs(float64(v)-want) > 1e-5*(1+math.Abs(want)) {
						t.Fatalf("w %v: out[%d] = %g, want %g", w, i, v, want)
					}
					if w == 1 && v != vy.Data[i] || w == 0 && v != vn.Data[i] {
						t.Fatalf("w %v: out[%d] = %g is not the plain field's value", w, i, v)
					}
				}
			}
		})
	}
}

// TestCondSampleErrors: each bad request is one ErrConfig error.
func TestCondSampleErrors(t *testing.T) {
	ctx := context.Background()
	plain, err := Fit(ctx, gauss(t, 2, 1), eightGaussians(t), smallConfig(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	noDrop, err := Fit(ctx, gauss(t, 2, 1), eightGaussians(t), condConfig("mlp", 0), Options{})
	if err != nil {
		t.Fatal(err)
	}
	two, one, inf := 2.0, 1.0, math.Inf(1)
	for _, tc := range []struct {
		name string
		m    *Model
		o    SampleOptions
	}{
		{"labels on an unconditional run", &plain.Model, SampleOptions{Labels: []int{0, 0}}},
		{"label outside the classes", &noDrop.Model, SampleOptions{Labels: []int{0, 8}}},
		{"negative label", &noDrop.Model, SampleOptions{Labels: []int{-2, 0}}},
		{"labels and points differ", &noDrop.Model, SampleOptions{Labels: []int{0}}},
		{"guidance without cond drop", &noDrop.Model, SampleOptions{Labels: []int{0, 1}, Guidance: &two}},
		{"guidance without labels", &noDrop.Model, SampleOptions{Guidance: &two}},
		{"infinite guidance", &noDrop.Model, SampleOptions{Labels: []int{0, 1}, Guidance: &inf}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.m.Sample(ctx, mat.New(2, 2), tc.o, nil)
			if !errors.Is(err, ErrConfig) {
				t.Fatalf("Sample: %v, want an ErrConfig", err)
			}
		})
	}
	t.Run("w = 1 needs no cond drop", func(t *testing.T) {
		if _, err := noDrop.Sample(ctx, mat.New(2, 2), SampleOptions{Labels: []int{0, 1}, Guidance: &one}, nil); err != nil {
			t.Fatal(err)
		}
	})
}

func TestCondConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Config)
		tgt  string
	}{
		{"unknown cond", func(c *Config) { c.Cond = "digit" }, "8gaussians"},
		{"drop out of range", func(c *Config) { c.Cond, c.CondDrop = "label", 1 }, "8gaussians"},
		{"drop without cond", func(c *Config) { c.CondDrop = 0.1 }, "8gaussians"},
		{"label-ot without cond", func(c *Config) { c.Coupling = "label-ot" }, "8gaussians"},
		{"target without labels", func(c *Config) { c.Cond = "label" }, "gaussian:dim=2"},
		{"legacy film", func(c *Config) { c.Cond, c.Arch = "label", "film" }, "8gaussians"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := smallConfig()
			tc.edit(&cfg)
			tgt, err := dist.Parse(tc.tgt)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := Prepare(gauss(t, 2, 1), tgt, cfg); !errors.Is(err, ErrConfig) {
				t.Fatalf("Prepare: %v, want an ErrConfig", err)
			}
		})
	}
}

// TestCondRunRoundTrip: a conditional run folder saves the label table and
// config, and Load gives back a model that samples a label as the trained
// one does, bit for bit.
func TestCondRunRoundTrip(t *testing.T) {
	dir := t.TempDir()
	cfg := condConfig("film", 0.2)
	cfg.Source, cfg.Target = "gaussian:dim=2", "8gaussians"
	res, err := Run(context.Background(), dir, cfg, RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if tr.Config.Classes != 8 || tr.Net.Classes() != 8 {
		t.Fatalf("loaded classes %d (net %d), want 8", tr.Config.Classes, tr.Net.Classes())
	}
	w := 2.0
	o := SampleOptions{Labels: []int{3, 3, 3}, Guidance: &w, NFE: 8}
	a, b := mat.New(3, 2), mat.New(3, 2)
	gauss(t, 2, 1).Sample(rand.New(rand.NewPCG(5, 5)), a)
	copy(b.Data, a.Data)
	if _, err := res.Sample(context.Background(), a, o, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Sample(context.Background(), b, o, nil); err != nil {
		t.Fatal(err)
	}
	if !sameBits(a.Data, b.Data) {
		t.Fatalf("loaded run samples %v, trained %v", b.Data, a.Data)
	}
}
