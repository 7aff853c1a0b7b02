package fdmnist

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"slices"
	"testing"

	"github.com/flowlab/flowlab/dist"
	"github.com/flowlab/flowlab/mat"
	"github.com/flowlab/flowlab/nn"
)

// TestCrossEntropy checks the loss against the closed form
// Σ log Σ_j e^{z_j} − z_y and the gradient against central differences of
// it in float64 (h = 1e-4: truncation h²·L”'/6 ≈ 1e-9, rounding 1e-16/h;
// the float32 gradient holds ~1e-7 relative, tolerance 1e-5).
func TestCrossEntropy(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	out, g := mat.New(4, 5), mat.New(4, 5)
	for i := range out.Data {
		out.Data[i] = float32(3 * rng.NormFloat64())
	}
	labels := []int{9, 9, 0, 4, 2, 1} // rows 2..5 of a batch of 6
	f := CrossEntropy(labels)
	loss := func(z []float64) float64 {
		var s float64
		for i := 0; i < 4; i++ {
			var e float64
			for _, v := range z[5*i : 5*i+5] {
				e += math.Exp(v)
			}
			s += math.Log(e) - z[5*i+labels[2+i]]
		}
		return s
	}
	z := make([]float64, len(out.Data))
	for i, v := range out.Data {
		z[i] = float64(v)
	}
	if got, want := f(2, out, g), loss(z); math.Abs(got-want) > 1e-9*want {
		t.Errorf("loss %g, closed form %g", got, want)
	}
	const h = 1e-4
	for i := range z {
		old := z[i]
		z[i] = old + h
		lp := loss(z)
		z[i] = old - h
		lm := loss(z)
		z[i] = old
		fd := (lp - lm) / (2 * h) / 6 // the batch mean over 6 rows
		if math.Abs(float64(g.Data[i])-fd) > 1e-5 {
			t.Errorf("dL/dz[%d] = %g, finite differences %g", i, g.Data[i], fd)
		}
	}
}

// TestLoadRefusesOtherNets checks that a velocity field and a classifier of
// other data are refused with ErrNotClassifier, and a classifier loads.
func TestLoadRefusesOtherNets(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		cfg  nn.Config
		ok   bool
	}{
		{"classifier", nn.Config{Dim: Pixels, Hidden: []int{8}, Out: Classes, NoTime: true}, true},
		{"velocity field", nn.Config{Dim: Pixels, Hidden: []int{8}}, false},
		{"other data", nn.Config{Dim: 2, Hidden: []int{8}, Out: Classes, NoTime: true}, false},
		{"other classes", nn.Config{Dim: Pixels, Hidden: []int{8}, Out: 3, NoTime: true}, false},
		{"no hidden layer", nn.Config{Dim: Pixels, Out: Classes, NoTime: true}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, err := nn.New(tc.cfg, 1)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, tc.name+".safetensors")
			if err := n.Save(path); err != nil {
				t.Fatal(err)
			}
			_, err = Load(path)
			if tc.ok && err != nil || !tc.ok && !errors.Is(err, ErrNotClassifier) {
				t.Errorf("Load: %v (want ok %v)", err, tc.ok)
			}
		})
	}
}

// TestBlurClosedForms: a constant image is unchanged (the kernel sums to 1
// and edges repeat); one bright pixel far from the edges spreads into a
// separable Gaussian that still sums to 1; σ = 0 copies.
func TestBlurClosedForms(t *testing.T) {
	x := mat.New(2, Pixels)
	for i := range x.Row(0) {
		x.Row(0)[i] = 0.25
	}
	x.Row(1)[14*28+14] = 1
	for _, s := range []float64{0, 0.5, 1, 2} {
		b := Blur(x, s)
		var sum float64
		for i, v := range b.Row(0) {
			if math.Abs(float64(v)-0.25) > 1e-6 {
				t.Fatalf("σ %g: constant image pixel %d = %g", s, i, v)
			}
		}
		for _, v := range b.Row(1) {
			sum += float64(v)
		}
		// float32 storage of ≤ 784 values ≤ 1: the sum is within 1e-5.
		if math.Abs(sum-1) > 1e-5 {
			t.Errorf("σ %g: blurred pixel sums to %g, want 1", s, sum)
		}
	}
	if n := Noise(x, 0, rand.New(rand.NewPCG(1, 1))); n.Data[14*28+14+Pixels] != 1 || n.Data[0] != 0.25 {
		t.Error("Noise with σ 0 changed the images")
	}
}

// smallClassifier trains a classifier on 300 steps of MNIST's training
// split, or skips when MNIST is not available.
func smallClassifier(t *testing.T) (*Classifier, *dist.MNIST, *dist.MNIST) {
	t.Helper()
	tr, err := dist.LoadMNIST(dist.MNISTOptions{Split: "train"})
	if errors.Is(err, dist.ErrNoMNIST) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	te, err := dist.LoadMNIST(dist.MNISTOptions{Split: "test"})
	if err != nil {
		t.Fatal(err)
	}
	o := DefaultTrainOptions()
	o.Hidden, o.Steps = []int{128, 32}, 300
	c, err := Train(context.Background(), tr.Data(), tr.Labels(), o)
	if err != nil {
		t.Fatal(err)
	}
	return c, tr, te
}

// TestScoreGrowsUnderCorruption checks, with a small classifier, that the
// test split scores the same twice, that its own reference gives 0 (up to
// the square roots' rounding) and that FD-MNIST grows with noise and blur.
func TestScoreGrowsUnderCorruption(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a classifier")
	}
	c, tr, te := smallClassifier(t)
	if acc := c.Accuracy(te.Data(), te.Labels()); acc < 0.9 {
		t.Errorf("test accuracy %.3f after 300 steps, want ≥ 0.9 (an MLP reaches it in one epoch)", acc)
	}
	test := mat.New(2000, Pixels)
	copy(test.Data, te.Data().Data)
	ref, err := c.Reference(tr.Data())
	if err != nil {
		t.Fatal(err)
	}
	self, err := c.Reference(test)
	if err != nil {
		t.Fatal(err)
	}
	s, err := c.Score(test, self)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(s.FD) > 1e-6*covTrace(self) {
		t.Errorf("FD of a sample against its own fit = %g, want 0", s.FD)
	}
	a, errA := c.Score(test, ref)
	b, errB := c.Score(test, ref)
	if err := errors.Join(errA, errB); err != nil {
		t.Fatal(err)
	}
	if a.FD != b.FD {
		t.Errorf("the same inputs scored %v then %v", a.FD, b.FD)
	}
	rng := rand.New(rand.NewPCG(5, 5))
	for name, corrupt := range map[string]func(float64) *mat.Dense{
		"noise": func(s float64) *mat.Dense { return Noise(test, s, rng) },
		"blur":  func(s float64) *mat.Dense { return Blur(test, 4*s) },
	} {
		t.Run(name, func(t *testing.T) {
			prev := a.FD
			for _, s := range []float64{0.1, 0.25, 0.5} {
				sc, err := c.Score(corrupt(s), ref)
				if err != nil {
					t.Fatal(err)
				}
				if sc.FD <= prev {
					t.Errorf("%s %g: FD %g, not above %g", name, s, sc.FD, prev)
				}
				prev = sc.FD
			}
		})
	}
}

// covTrace returns the trace of a reference's covariance (the FD scale).
func covTrace(r *Reference) float64 {
	var s float64
	for i := range r.Gauss.Mean {
		s += r.Gauss.Cov.At(i, i)
	}
	return s
}

// TestTrainDeterministic: the same options give the same classifier
// whatever GOMAXPROCS (Grad's shards and Apply's chunks depend on shapes
// alone), so the cached classifier is the same on every machine.
func TestTrainDeterministic(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	x, labels := mat.New(600, Pixels), make([]int, 600)
	for i := range x.Data {
		x.Data[i] = rng.Float32()
	}
	for i := range labels {
		labels[i] = rng.IntN(Classes)
	}
	fit := func(procs int) []float32 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		c, err := Train(context.Background(), x, labels, TrainOptions{Hidden: []int{32, 8}, Steps: 3, Batch: 512, LR: 1e-3, Seed: 3})
		if err != nil {
			t.Fatal(err)
		}
		return append([]float32(nil), c.Net.Params()...)
	}
	if !slices.Equal(fit(1), fit(4)) {
		t.Error("GOMAXPROCS 1 and 4 trained different classifiers")
	}
}

// TestDefault: the shipped classifier loads, is the documented one (test
// accuracy ≥ 0.98, the bar, on all 10 000 test images) and passes
// Verify, while an untrained net of the same shape is refused by it.
func TestDefault(t *testing.T) {
	te, err := dist.LoadMNIST(dist.MNISTOptions{Split: "test"})
	if errors.Is(err, dist.ErrNoMNIST) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	c, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	if acc := c.Accuracy(te.Data(), te.Labels()); acc < 0.98 {
		t.Errorf("shipped classifier: test accuracy %.4f, want ≥ 0.98", acc)
	}
	if err := c.Verify(te.Data(), te.Labels()); err != nil {
		t.Errorf("Verify of the shipped classifier: %v", err)
	}
	n, err := nn.New(nn.Config{Dim: Pixels, Hidden: []int{16}, Out: Classes, NoTime: true}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := (&Classifier{Net: n}).Verify(te.Data(), te.Labels()); !errors.Is(err, ErrNotClassifier) {
		t.Errorf("Verify of an untrained net: %v, want ErrNotClassifier", err)
	}
}
