package nn_test

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/flowlab/flowlab/mat"
	"github.com/flowlab/flowlab/nn"
	"github.com/flowlab/flowlab/solve"
)

// evalOnly hides a Net's EulerStep, so that solve falls back to Eval and
// its own update.
type evalOnly struct{ net *nn.Net }

func (f evalOnly) Dim() int                          { return f.net.Dim() }
func (f evalOnly) Eval(t float64, x, out *mat.Dense) { f.net.Eval(t, x, out) }

// counting forwards to a Net and counts its EulerStep calls.
type counting struct {
	net   *nn.Net
	steps int
}

func (f *counting) Dim() int                          { return f.net.Dim() }
func (f *counting) Eval(t float64, x, out *mat.Dense) { f.net.Eval(t, x, out) }
func (f *counting) EulerStep(t, h float64, x *mat.Dense) {
	f.steps++
	f.net.EulerStep(t, h, x)
}

// TestIntegrateUsesEulerStep checks that solve.Integrate's Euler method goes
// through Net.EulerStep and gets the bits of the Eval-then-update path, with
// the same evaluation count, for a batch that Eval cuts into chunks.
func TestIntegrateUsesEulerStep(t *testing.T) {
	var _ solve.EulerStepper = (*nn.Net)(nil)
	var _ solve.EulerStepper = nn.JVPField{}
	net, err := nn.New(nn.Config{Dim: 2, Hidden: []int{16, 16}}, 3)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	x := mat.New(1500, 2)
	for i := range x.Data {
		x.Data[i] = float32(rng.NormFloat64())
	}
	y := mat.NewFrom(x.R, x.C, append([]float32(nil), x.Data...))
	opts := solve.Options{Method: solve.Euler, Steps: 7, RecordAt: []float64{0.5}} // 0.5 splits a step
	ctx := context.Background()
	cf := &counting{net: net}
	rx, err := solve.Integrate(ctx, cf, x, opts)
	if err != nil {
		t.Fatal(err)
	}
	if cf.steps != 8 {
		t.Errorf("Integrate called EulerStep %d times, want 8", cf.steps)
	}
	ry, err := solve.Integrate(ctx, evalOnly{net}, y, opts)
	if err != nil {
		t.Fatal(err)
	}
	if rx.NFE != ry.NFE || rx.NFE != 8 {
		t.Errorf("NFE %d with EulerStep, %d without, want 8 (7 steps, one split)", rx.NFE, ry.NFE)
	}
	for i := range x.Data {
		if math.Float32bits(x.Data[i]) != math.Float32bits(y.Data[i]) {
			t.Fatalf("value %d: %g through EulerStep, %g through Eval", i, x.Data[i], y.Data[i])
		}
	}
	for i := range rx.Path[0].Data {
		if math.Float32bits(rx.Path[0].Data[i]) != math.Float32bits(ry.Path[0].Data[i]) {
			t.Fatalf("recorded state at t = 0.5, value %d differs", i)
		}
	}
}
