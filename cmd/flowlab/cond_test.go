package main

import (
	"context"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowlab/flowlab/dist"
	"github.com/flowlab/flowlab/mat"
)

// condTrain trains a small conditional run on 8 gaussians into dir, with
// label dropout drop ("" for none).
func condTrain(t *testing.T, dir, drop string) {
	t.Helper()
	args := []string{"train", "--source", "gaussian:dim=2", "--target", "8gaussians", "--cond", "label",
		"--hidden", "32,32", "--time-embed", "16", "--steps", "60", "--batch", "64", "--out", dir, "--checkpoint-every", "0"}
	if drop != "" {
		args = append(args, "--cond-drop", drop)
	}
	if code, _, errb := runCLI(context.Background(), args...); code != 0 {
		t.Fatalf("train: exit %d: %s", code, errb)
	}
}

// TestCondCLI trains and samples a conditional run from the command line,
// forward with guidance and backward, and as an SDE.
func TestCondCLI(t *testing.T) {
	dir := t.TempDir()
	run := filepath.Join(dir, "run")
	condTrain(t, run, "0.2")
	for _, tc := range [][]string{
		{"--label", "3"},
		{"--label", "3", "--guidance", "2"},
		{"--label", "0", "--guidance", "0", "--direction", "backward"},
	} {
		out := filepath.Join(dir, "x.npy")
		args := append([]string{"sample", "--run", run, "--n", "50", "--nfe", "10", "--out", out}, tc...)
		if code, _, errb := runCLI(context.Background(), args...); code != 0 {
			t.Fatalf("%v: exit %d: %s", tc, code, errb)
		}
		x, err := dist.ReadNPYFile(out)
		if err != nil || x.R != 50 {
			t.Fatalf("%v: %v, %d rows", tc, err, x.R)
		}
	}
	sde := filepath.Join(dir, "sde")
	code, _, errb := runCLI(context.Background(), "train", "--source", "gaussian:dim=2", "--target", "8gaussians",
		"--cond", "label", "--cond-drop", "0.1", "--gamma", "0.2", "--hidden", "16", "--steps", "20", "--batch", "32",
		"--out", sde, "--checkpoint-every", "0")
	if code != 0 {
		t.Fatalf("train with γ: exit %d: %s", code, errb)
	}
	if code, _, errb := runCLI(context.Background(), "sample", "--run", sde, "--sde", "--label", "2", "--guidance", "1.5",
		"--n", "20", "--nfe", "10", "--out", filepath.Join(dir, "s.npy")); code != 0 {
		t.Fatalf("guided SDE: exit %d: %s", code, errb)
	}
}

// TestCondCLIErrors: each bad input is one line on stderr and exit 2.
func TestCondCLIErrors(t *testing.T) {
	dir := t.TempDir()
	noDrop := filepath.Join(dir, "nodrop")
	condTrain(t, noDrop, "")
	x := mat.New(10, 2)
	if err := dist.WriteNPYFile(filepath.Join(dir, "x.npy"), x); err != nil {
		t.Fatal(err)
	}
	labels := mat.New(9, 1)
	if err := dist.WriteNPYFile(filepath.Join(dir, "y.npy"), labels); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "o.npy")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"label outside the trained set", []string{"sample", "--run", noDrop, "--label", "8", "--out", out}, "not one of the run's classes"},
		{"guidance without cond drop", []string{"sample", "--run", noDrop, "--label", "1", "--guidance", "2", "--out", out}, "--cond-drop"},
		{"labels and data differ in length", []string{"train", "--source", "gaussian:dim=2", "--target",
			"file:" + filepath.Join(dir, "x.npy") + ",labels=" + filepath.Join(dir, "y.npy"), "--cond", "label", "--out", filepath.Join(dir, "r")}, "9 labels for 10 rows"},
		{"cond on a target without labels", []string{"train", "--source", "gaussian:dim=2", "--target", "gaussian:dim=2",
			"--cond", "label", "--out", filepath.Join(dir, "r2")}, "carry no labels"},
		{"cond drop out of range", []string{"train", "--source", "gaussian:dim=2", "--target", "8gaussians",
			"--cond", "label", "--cond-drop", "1.5", "--out", filepath.Join(dir, "r3")}, "--cond-drop"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errb := runCLI(context.Background(), tc.args...)
			if code != 2 {
				t.Fatalf("exit %d, want 2: %s", code, errb)
			}
			if lines := strings.Count(strings.TrimSpace(errb), "\n") + 1; lines != 1 || !strings.Contains(errb, tc.want) {
				t.Fatalf("stderr %q: want one line containing %q", errb, tc.want)
			}
		})
	}
}

// TestCondCLIConvention: --guidance 1 gives the same bits as no --guidance,
// and --guidance 0 those of the null label (no --label on an unconditional
// field is not possible, so w = 0 against w = 0 from another label: the null
// field does not depend on the label).
func TestCondCLIConvention(t *testing.T) {
	dir := t.TempDir()
	run := filepath.Join(dir, "run")
	condTrain(t, run, "0.2")
	sample := func(name string, extra ...string) *mat.Dense {
		out := filepath.Join(dir, name+".npy")
		args := append([]string{"sample", "--run", run, "--n", "30", "--nfe", "10", "--out", out}, extra...)
		if code, _, errb := runCLI(context.Background(), args...); code != 0 {
			t.Fatalf("%v: exit %d: %s", extra, code, errb)
		}
		x, err := dist.ReadNPYFile(out)
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	same := func(a, b *mat.Dense) bool {
		for i := range a.Data {
			if math.Float32bits(a.Data[i]) != math.Float32bits(b.Data[i]) {
				return false
			}
		}
		return true
	}
	if !same(sample("a", "--label", "2"), sample("b", "--label", "2", "--guidance", "1")) {
		t.Error("--guidance 1 differs from plain conditional sampling")
	}
	if !same(sample("c", "--label", "2", "--guidance", "0"), sample("d", "--label", "5", "--guidance", "0")) {
		t.Error("--guidance 0 depends on the label")
	}
	if same(sample("e", "--label", "2"), sample("f", "--label", "5")) {
		t.Error("two labels give the same samples")
	}
}
