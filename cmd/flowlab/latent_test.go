package main

import (
	"context"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowlab/flowlab/dist"
	"github.com/flowlab/flowlab/mat"
)

// planeNPY writes 400 points of [0, 1]^6 on a 2-D plane to dir/plane.npy.
func planeNPY(t *testing.T, dir string) string {
	t.Helper()
	rng := rand.New(rand.NewPCG(4, 4))
	x := mat.New(400, 6)
	for i := 0; i < x.R; i++ {
		u, v := rng.Float64(), rng.Float64()
		for j := range 6 {
			x.Data[6*i+j] = float32(0.5 + 0.2*math.Sin(float64(j+1))*(u-0.5) + 0.2*math.Cos(float64(j+2))*(v-0.5))
		}
	}
	p := filepath.Join(dir, "plane.npy")
	if err := dist.WriteNPYFile(p, x); err != nil {
		t.Fatal(err)
	}
	return p
}

func mustCLI(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errs := runCLI(context.Background(), args...)
	if code != 0 {
		t.Fatalf("%v: exit %d: %s", args, code, errs)
	}
	return out
}

// TestLatentTrainSample trains flows in a PCA and an autoencoder latent,
// from a latent N(0, I_2) source, and checks that the run folder records
// the latent, that forward samples come back decoded (6-D) and backward
// ones stay latents (2-D), and that eval says what it measures.
func TestLatentTrainSample(t *testing.T) {
	dir := t.TempDir()
	data := "file:" + planeNPY(t, dir)
	aeDir := filepath.Join(dir, "ae")
	mustCLI(t, "ae", "train", "--data", data, "--out", aeDir, "--latent-dim", "2", "--hidden", "16", "--steps", "200", "--batch", "32")
	for _, spec := range []string{"pca:2", "ae:" + aeDir} {
		t.Run(spec[:2], func(t *testing.T) {
			run := filepath.Join(dir, "run-"+spec[:2])
			mustCLI(t, "train", "--source", "gaussian:dim=2", "--target", data, "--latent", spec,
				"--hidden", "8", "--steps", "20", "--batch", "32", "--out", run)
			if _, err := os.Stat(filepath.Join(run, "latent", "latent.json")); err != nil {
				t.Fatal(err)
			}
			for dirn, want := range map[string]int{"forward": 6, "backward": 2} {
				out := filepath.Join(run, dirn+".npy")
				mustCLI(t, "sample", "--run", run, "--n", "10", "--direction", dirn, "--out", out, "--nfe", "4")
				x, err := dist.ReadNPYFile(out)
				if err != nil || x.R != 10 || x.C != want {
					t.Errorf("%s: %v, %v; want 10×%d", dirn, x, err, want)
				}
			}
			if out := mustCLI(t, "eval", "--run", run, "--n", "10"); !strings.Contains(out, "trained in the latent") {
				t.Errorf("eval of a latent run: %s", out)
			}
			mustCLI(t, "train", "--out", run, "--resume") // reads latent/ back
			if out := mustCLI(t, "ae", "eval", "--map", filepath.Join(run, "latent"), "--test", data); !strings.Contains(out, "reconstruction mean squared error") {
				t.Errorf("ae eval: %s", out)
			}
		})
	}
}

// TestLatentBadInput: one line and exit 2 for a K above the data's
// dimension, an autoencoder of data of another dimension, a bad SPEC, a
// source of neither dimension, and --fd-mnist on data that is not MNIST's.
func TestLatentBadInput(t *testing.T) {
	dir := t.TempDir()
	data := "file:" + planeNPY(t, dir)
	aeDir := filepath.Join(dir, "ae")
	other := filepath.Join(dir, "other.npy")
	if err := dist.WriteNPYFile(other, mat.New(20, 3)); err != nil {
		t.Fatal(err)
	}
	mustCLI(t, "ae", "train", "--data", "file:"+other, "--loss", "mse", "--out", aeDir, "--latent-dim", "2", "--hidden", "4", "--steps", "2")
	run := filepath.Join(dir, "run")
	mustCLI(t, "train", "--source", "gaussian:dim=6", "--target", data, "--latent", "pca:2", "--hidden", "4", "--steps", "2", "--batch", "8", "--out", run)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"K above D", []string{"train", "--source", "gaussian:dim=2", "--target", data, "--latent", "pca:7"}, "above the data's dimension 6"},
		{"AE of other data", []string{"train", "--source", "gaussian:dim=2", "--target", data, "--latent", "ae:" + aeDir}, "encodes 3-D data, the data is 6-D"},
		{"bad spec", []string{"train", "--source", "gaussian:dim=2", "--target", data, "--latent", "pca"}, "want pca:K or ae:DIR"},
		{"source dim", []string{"train", "--source", "gaussian:dim=4", "--target", data, "--latent", "pca:2"}, "--source with --latent"},
		{"fd on 6-D", []string{"eval", "--run", run, "--fd-mnist"}, "FD-MNIST scores 784-D"},
		{"ae latent above D", []string{"ae", "train", "--data", data, "--out", filepath.Join(dir, "x"), "--latent-dim", "9"}, "not in 1..6"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := tc.args
			if args[0] == "train" {
				args = append(args, "--steps", "2", "--out", filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")))
			}
			code, _, errs := runCLI(context.Background(), args...)
			if code != 2 || !strings.Contains(errs, tc.want) || strings.Count(strings.TrimSpace(errs), "\n") != 0 {
				t.Errorf("exit %d, stderr %q; want 2 and one line naming %q", code, errs, tc.want)
			}
		})
	}
}
