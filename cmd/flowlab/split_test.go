package main

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowlab/flowlab/dist"
	"github.com/flowlab/flowlab/mat"
	"github.com/flowlab/flowlab/nn"
	"github.com/flowlab/flowlab/solve"
	"github.com/flowlab/flowlab/train"
)

// A run trained with --drift split records it, samples as an ODE and an
// SDE, computes likelihoods with b = v + γ̇·η (not with v alone), and is
// refused by diagnose, which analyses a one-network drift.
func TestSplitDriftCmd(t *testing.T) {
	dir := finishedRun(t, "--gamma", "1", "--drift", "split", "--steps", "20")
	b, err := os.ReadFile(filepath.Join(dir, train.ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"drift": "split"`) {
		t.Fatalf("config.json does not record the split drift:\n%s", b)
	}
	tmp := t.TempDir()
	for _, extra := range [][]string{nil, {"--sde"}} {
		args := append([]string{"sample", "--run", dir, "--n", "20", "--out", filepath.Join(tmp, "x.npy")}, extra...)
		if code, _, errs := runCLI(context.Background(), args...); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errs)
		}
	}

	x := mat.New(10, 2)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range x.Data {
		x.Data[i] = float32(rng.NormFloat64())
	}
	data, lpFile := filepath.Join(tmp, "d.npy"), filepath.Join(tmp, "lp.npy")
	if err := dist.WriteNPYFile(data, x); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := runCLI(context.Background(), "likelihood", "--run", dir, "--data", data, "--out", lpFile); code != 0 {
		t.Fatalf("likelihood: exit %d: %s", code, errs)
	}
	got, err := dist.ReadNPYFile(lpFile)
	if err != nil {
		t.Fatal(err)
	}
	run, err := train.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	logp0, err := sourceLogDensity(run.Config.Source)
	if err != nil {
		t.Fatal(err)
	}
	drift, err := run.DriftJVP()
	if err != nil {
		t.Fatal(err)
	}
	opts := solve.LikOptions{Options: solve.Options{Method: solve.RK4, Steps: 25}}
	want, _, err := solve.LogLikelihood(context.Background(), drift, x.Clone(), logp0, opts)
	if err != nil {
		t.Fatal(err)
	}
	vOnly, _, err := solve.LogLikelihood(context.Background(), nn.JVPField{Net: run.Net}, x.Clone(), logp0, opts)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if float64(got.Data[i]) != float64(float32(want[i])) {
			t.Fatalf("point %d: likelihood %v, b = v + γ̇·η gives %v (v alone %v)", i, got.Data[i], want[i], vOnly[i])
		}
	}
	if float32(want[0]) == float32(vOnly[0]) {
		t.Fatalf("b and v alone give the same log-likelihood %v: the check cannot tell them apart", want[0])
	}

	code, _, errs := runCLI(context.Background(), "diagnose", "--run", dir, "--n", "10")
	if code != 2 || !strings.Contains(errs, "split") {
		t.Fatalf("diagnose of a split run: exit %d (want 2), stderr %q", code, errs)
	}
}
