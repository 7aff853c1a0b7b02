package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowlab/flowlab/dist"
	"github.com/flowlab/flowlab/fdmnist"
	"github.com/flowlab/flowlab/nn"
)

// TestFDMNISTRefusesOtherNets: a velocity field of 784-D data and a
// classifier of 2-D data are refused as --classifier, one line, exit 2.
func TestFDMNISTRefusesOtherNets(t *testing.T) {
	dir := t.TempDir()
	for name, cfg := range map[string]nn.Config{
		"field":   {Dim: 784, Hidden: []int{4}},
		"2d-clf":  {Dim: 2, Hidden: []int{4}, Out: 10, NoTime: true},
		"missing": {},
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, name+".safetensors")
			if name != "missing" {
				n, err := nn.New(cfg, 1)
				if err != nil {
					t.Fatal(err)
				}
				if err := n.Save(path); err != nil {
					t.Fatal(err)
				}
			}
			code, _, errs := runCLI(context.Background(), "fdmnist", "validate", "--classifier", path)
			if code != 2 || strings.Count(strings.TrimSpace(errs), "\n") != 0 || !strings.Contains(errs, "--classifier") {
				t.Errorf("exit %d, stderr %q; want 2 and one line naming --classifier", code, errs)
			}
		})
	}
}

// mnistOrSkip skips the test when the MNIST files are not found.
func mnistOrSkip(t *testing.T) {
	t.Helper()
	if _, err := dist.FindMNIST(""); err != nil {
		t.Skip(err)
	}
}

// tinyClassifier saves the shipped classifier to a file, for the
// --classifier flag (the scores' meaning is fdmnist's tests').
func tinyClassifier(t *testing.T) string {
	t.Helper()
	mnistOrSkip(t)
	c, err := fdmnist.Default()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "clf.safetensors")
	if err := c.Save(p); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestFDMNISTRefusesOtherData: a classifier of 784 pixels and 10 classes
// trained on other images (MNIST's digits inverted, 1 − x) classifies
// MNIST's digits near chance and is refused, one line naming its accuracy,
// exit 2; the shipped classifier passes the same check.
func TestFDMNISTRefusesOtherData(t *testing.T) {
	mnistOrSkip(t)
	tr, err := dist.LoadMNIST(dist.MNISTOptions{Split: "train"})
	if err != nil {
		t.Fatal(err)
	}
	x := tr.Data().Rows(0, 5000).Clone()
	for i, v := range x.Data {
		x.Data[i] = 1 - v
	}
	c, err := fdmnist.Train(context.Background(), x, tr.Labels()[:5000], fdmnist.TrainOptions{Hidden: []int{32}, Steps: 200, Batch: 128, LR: 1e-3, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(t.TempDir(), "inverted.safetensors")
	if err := c.Save(other); err != nil {
		t.Fatal(err)
	}
	code, _, errs := runCLI(context.Background(), "fdmnist", "validate", "--classifier", other)
	if code != 2 || strings.Count(strings.TrimSpace(errs), "\n") != 0 || !strings.Contains(errs, "accuracy") || !strings.Contains(errs, "another data set") {
		t.Errorf("classifier of inverted digits: exit %d, stderr %q; want 2 and one line naming the accuracy", code, errs)
	}
	shipped, err := fdmnist.Default()
	if err != nil {
		t.Fatal(err)
	}
	te, err := dist.LoadMNIST(dist.MNISTOptions{Split: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if err := shipped.Verify(te.Data().Rows(0, verifyImages), te.Labels()[:verifyImages]); err != nil {
		t.Errorf("the shipped classifier: %v", err)
	}
}

// TestCompareFDMNIST: the same law scores lower than a shifted one, the
// coverage counts every row, and 2-D samples are refused (exit 2).
func TestCompareFDMNIST(t *testing.T) {
	clf := tinyClassifier(t)
	same := compareRun(t, "--x", "gaussian:dim=784", "--y", "gaussian:dim=784", "--n", "300", "--fd-mnist", "--classifier", clf)
	far := compareRun(t, "--x", "gaussian:dim=784,var=4", "--y", "gaussian:dim=784", "--n", "300", "--fd-mnist", "--classifier", clf)
	if same.FDMNIST == nil || far.FDMNIST == nil || !(same.FDMNIST.FD < far.FDMNIST.FD) || same.FDMNIST.N != 300 {
		t.Fatalf("FD-MNIST same law %+v, other law %+v", same.FDMNIST, far.FDMNIST)
	}
	code, _, errs := runCLI(context.Background(), "compare", "--x", "gaussian:dim=2", "--y", "gaussian:dim=2", "--fd-mnist", "--classifier", clf)
	if code != 2 || !strings.Contains(errs, "784") {
		t.Errorf("2-D compare --fd-mnist: exit %d, %q", code, errs)
	}
}

// TestEvalFDMNIST: eval --fd-mnist of a (barely trained) MNIST run reports
// a score of --fd-n images next to the usual metrics.
func TestEvalFDMNIST(t *testing.T) {
	if testing.Short() {
		t.Skip("loads MNIST")
	}
	mnistOrSkip(t)
	run := filepath.Join(t.TempDir(), "run")
	mustCLI(t, "train", "--source", "gaussian:dim=784", "--target", "mnist", "--hidden", "8", "--steps", "2", "--batch", "8", "--out", run)
	out := mustCLI(t, "eval", "--run", run, "--n", "20", "--nfe", "2", "--fd-mnist", "--fd-n", "50", "--classifier", tinyClassifier(t))
	var rep struct {
		W2      any `json:"forward"`
		FDMNIST *struct {
			FD float64 `json:"fd_mnist"`
			N  int     `json:"n"`
		} `json:"fd_mnist"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || rep.FDMNIST == nil || rep.FDMNIST.N != 50 || rep.W2 == nil || !(rep.FDMNIST.FD > 0) {
		t.Errorf("eval --fd-mnist: %v: %s", err, out)
	}
}
