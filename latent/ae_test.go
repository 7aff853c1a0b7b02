package latent

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/flowlab/flowlab/dist"
	"github.com/flowlab/flowlab/mat"
	"github.com/flowlab/flowlab/nn"
)

// TestLosses checks BCEWithLogits and MSE against their closed forms and
// their gradients against central differences of them (float64, h = 1e-5:
// exact to ~1e-10; the float32 gradient holds ~1e-7 relative, tolerance 1e-6).
func TestLosses(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	target := mat.New(5, 3) // a batch of 5; the loss sees rows 1..3
	for i := range target.Data {
		target.Data[i] = rng.Float32()
	}
	out, g := mat.New(3, 3), mat.New(3, 3)
	for i := range out.Data {
		out.Data[i] = float32(4 * rng.NormFloat64())
	}
	for _, tc := range []struct {
		name string
		f    func(*mat.Dense) func(int, *mat.Dense, *mat.Dense) float64
		l    func(z, x float64) float64
	}{
		{"bce", func(m *mat.Dense) func(int, *mat.Dense, *mat.Dense) float64 { return BCEWithLogits(m) },
			func(z, x float64) float64 {
				p := 1 / (1 + math.Exp(-z))
				return -x*math.Log(p) - (1-x)*math.Log(1-p)
			}},
		{"mse", func(m *mat.Dense) func(int, *mat.Dense, *mat.Dense) float64 { return MSE(m) },
			func(z, x float64) float64 { return (z - x) * (z - x) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.f(target)(1, out, g)
			total := func(zs []float64) float64 {
				var s float64
				for i, z := range zs {
					s += tc.l(z, float64(target.Data[3+i]))
				}
				return s
			}
			zs := make([]float64, len(out.Data))
			for i, v := range out.Data {
				zs[i] = float64(v)
			}
			if want := total(zs); math.Abs(got-want) > 1e-9*want {
				t.Errorf("loss %g, closed form %g", got, want)
			}
			const h = 1e-5
			for i := range zs {
				old := zs[i]
				zs[i] = old + h
				lp := total(zs)
				zs[i] = old - h
				lm := total(zs)
				zs[i] = old
				fd := (lp - lm) / (2 * h) / 5 // the batch mean over 5 rows
				if math.Abs(float64(g.Data[i])-fd) > 1e-6*(1+math.Abs(fd)) {
					t.Errorf("dL/dz[%d] = %g, finite differences %g", i, g.Data[i], fd)
				}
			}
		})
	}
}

// planeData returns n points of [0, 1]^8 on a 2-D affine plane.
func planeData(n int) *mat.Dense {
	rng := rand.New(rand.NewPCG(3, 3))
	x := mat.New(n, 8)
	for i := 0; i < n; i++ {
		u, v := rng.Float64(), rng.Float64()
		for j := range 8 {
			a, b := math.Sin(float64(j+1)), math.Cos(float64(3*j+1))
			x.Data[8*i+j] = float32(0.5 + 0.2*a*(u-0.5) + 0.2*b*(v-0.5))
		}
	}
	return x
}

// TestAEGradientChain checks the encoder's gradient through the decoder's
// input gradient against float32 central differences of the batch loss
// (h = 1e-2, as nn's TestFloat32FiniteDifferences: rounding ≲ 1e-3,
// truncation ≲ 1e-4; tolerance 5e-3 absolute plus 1 % relative).
func TestAEGradientChain(t *testing.T) {
	x := planeData(6)
	cfg := AEConfig{Dim: 8, Latent: 2, Hidden: []int{5}, Loss: "bce"}
	if err := cfg.normalize(); err != nil {
		t.Fatal(err)
	}
	ec, dc := cfg.nets()
	a := &AE{Config: cfg}
	a.Enc, _ = newNet(t, ec, 1)
	a.Dec, _ = newNet(t, dc, 2)
	tb, g := make([]float32, x.R), mat.New(x.R, 8)
	loss := BCEWithLogits(x)
	a.grad(x, tb, g, loss)
	want := append([]float32(nil), a.Enc.Grads()...)
	f := func() float64 { return a.grad(x, tb, g, loss) / float64(x.R) }
	const h = 1e-2
	p := a.Enc.Params()
	for i := range p {
		old := p[i]
		p[i] = old + h
		lp := f()
		p[i] = old - h
		lm := f()
		p[i] = old
		fd := (lp - lm) / (2 * h)
		if math.Abs(float64(want[i])-fd) > 5e-3+1e-2*math.Abs(fd) {
			t.Errorf("dL/dθ_enc[%d] = %g, finite differences %g", i, want[i], fd)
		}
	}
}

// TestAELearnsAPlane: data on a 2-D plane is reconstructed through a 2-D
// latent with a mean squared error below 2 % of its variance (the optimum
// is 0; predicting the mean costs 100 %), codes standardised to mean 0 and
// variance 1, and the map folder round-trips with the same bits.
func TestAELearnsAPlane(t *testing.T) {
	x := planeData(2000)
	a, err := TrainAE(context.Background(), x, AEConfig{Latent: 2, Hidden: []int{32}, Loss: "mse"},
		AEOptions{Steps: 1500, Batch: 64, LR: 3e-3, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	y := a.Decode(a.Encode(x))
	var mse, vari float64
	mean := make([]float64, 8)
	for i := 0; i < x.R; i++ {
		for j, v := range x.Row(i) {
			mean[j] += float64(v) / float64(x.R)
		}
	}
	for i, v := range x.Data {
		mse += math.Pow(float64(y.Data[i]-v), 2)
		vari += math.Pow(float64(v)-mean[i%8], 2)
	}
	if mse > 0.02*vari {
		t.Errorf("reconstruction error %.3g of the variance, want < 0.02", mse/vari)
	}
	z := a.Encode(x)
	for j := 0; j < 2; j++ {
		var m, v float64
		for i := 0; i < z.R; i++ {
			m += float64(z.At(i, j)) / float64(z.R)
		}
		for i := 0; i < z.R; i++ {
			v += math.Pow(float64(z.At(i, j))-m, 2) / float64(z.R-1)
		}
		// float32 codes standardised in float64: exact to ~1e-6.
		if math.Abs(m) > 1e-5 || math.Abs(v-1) > 1e-5 {
			t.Errorf("code %d: mean %g, variance %g, want 0 and 1", j, m, v)
		}
	}
	dir := t.TempDir()
	if err := SaveMap(dir, a); err != nil {
		t.Fatal(err)
	}
	b, err := LoadMap(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(b.Decode(b.Encode(x)).Data, y.Data) {
		t.Error("the reloaded autoencoder maps differently")
	}
}

// TestPCAMapRoundTrip: a PCA saved and loaded encodes and decodes with the
// same bits.
func TestPCAMapRoundTrip(t *testing.T) {
	x := planeData(100)
	p, err := Fit(x, Options{Dim: 3})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := SaveMap(dir, p); err != nil {
		t.Fatal(err)
	}
	q, err := LoadMap(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(q.Encode(x).Data, p.Encode(x).Data) || !slices.Equal(q.Decode(p.Encode(x)).Data, p.Decode(p.Encode(x)).Data) {
		t.Error("the reloaded PCA maps differently")
	}
}

// TestBuildErrors: K above the data's dimension; an autoencoder of other
// data; a PCA folder given as ae:; a folder that is no map; a bad SPEC.
func TestBuildErrors(t *testing.T) {
	x := planeData(50)
	pcaDir, aeDir := filepath.Join(t.TempDir(), "p"), filepath.Join(t.TempDir(), "a")
	p, _ := Fit(x, Options{Dim: 2})
	if err := SaveMap(pcaDir, p); err != nil {
		t.Fatal(err)
	}
	a, err := TrainAE(context.Background(), x, AEConfig{Latent: 2, Hidden: []int{4}}, AEOptions{Steps: 1, Batch: 4, LR: 1e-3})
	if err != nil {
		t.Fatal(err)
	}
	if err := SaveMap(aeDir, a); err != nil {
		t.Fatal(err)
	}
	other := mat.New(10, 5)
	for _, tc := range []struct {
		spec string
		data *mat.Dense
		want string
	}{
		{"pca:9", x, "above the data's dimension 8"},
		{"ae:" + aeDir, other, "encodes 8-D data, the data is 5-D"},
		{"ae:" + pcaDir, x, "holds a PCA"},
		{"ae:" + t.TempDir(), x, ErrMap.Error()},
		{"pca:0", x, "want pca:K"},
		{"umap:3", x, "want pca:K or ae:DIR"},
	} {
		t.Run(tc.spec, func(t *testing.T) {
			s, err := ParseSpec(tc.spec)
			if err == nil {
				_, err = Build(s, tc.data)
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("got %v, want one line naming %q", err, tc.want)
			}
		})
	}
}

// TestEncoded: a data-dimension sampler is encoded, a latent-dimension one
// passes through, any other is refused.
func TestEncoded(t *testing.T) {
	x := planeData(50)
	p, _ := Fit(x, Options{Dim: 2})
	data := dist.NewDataset("plane", x)
	s, err := Encoded(data, p)
	if err != nil || s.Dim() != 2 {
		t.Fatalf("Encoded(data) = %v, %v", s, err)
	}
	g, _ := dist.NewGaussian(2, 1, 0)
	if s, err := Encoded(g, p); err != nil || s != dist.Sampler(g) {
		t.Errorf("Encoded(latent Gaussian) = %v, %v; want it unchanged", s, err)
	}
	g3, _ := dist.NewGaussian(3, 1, 0)
	if _, err := Encoded(g3, p); !errors.Is(err, ErrDim) {
		t.Errorf("Encoded(3-D) = %v, want ErrDim", err)
	}
}

func newNet(t *testing.T, c nn.Config, seed uint64) (*nn.Net, error) {
	t.Helper()
	n, err := nn.New(c, seed)
	if err != nil {
		t.Fatal(err)
	}
	return n, nil
}

// TestAEDeterministic: the same options give the same weights whatever
// GOMAXPROCS (the matrix products split their work by shape alone).
func TestAEDeterministic(t *testing.T) {
	x := planeData(600)
	fit := func(procs int) []float32 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		a, err := TrainAE(context.Background(), x, AEConfig{Latent: 2, Hidden: []int{300}}, AEOptions{Steps: 5, Batch: 300, LR: 1e-3, Seed: 7})
		if err != nil {
			t.Fatal(err)
		}
		return append(append([]float32(nil), a.Enc.Params()...), a.Dec.Params()...)
	}
	if !slices.Equal(fit(1), fit(4)) {
		t.Error("GOMAXPROCS 1 and 4 trained different weights")
	}
}
