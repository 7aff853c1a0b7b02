package main

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowlab/flowlab/dist"
	"github.com/flowlab/flowlab/mat"
	"github.com/flowlab/flowlab/train"
)

// gaussianRun trains a small N(0, ½I_3) → N(0, I_3) run (a few hundred
// steps: the CLI's wiring is under test, not the training).
func gaussianRun(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "g3")
	if code, _, errs := runCLI(context.Background(), "train", "--source", "gaussian:dim=3,var=0.5", "--target", "gaussian:dim=3",
		"--hidden", "16,16", "--steps", "200", "--batch", "64", "--out", dir); code != 0 {
		t.Fatalf("train: exit %d: %s", code, errs)
	}
	return dir
}

// diagnoseJSON is the part of diagnose's output the tests read.
type diagnoseJSON struct {
	Report struct {
		Dim, N  int
		Full    bool `json:"full_spectrum"`
		TopK    int  `json:"top_k"`
		Note    string
		Times   []struct{ T float64 }
		FlowMap *struct {
			LogDet struct{ Median float64 } `json:"log_det"`
		} `json:"flow_map"`
		LogDetCheck *struct {
			MaxAbsDiff float64 `json:"max_abs_diff"`
		} `json:"log_det_check"`
	}
	Exact *struct {
		Times []struct {
			T    float64
			AbsC float64 `json:"abs_c"`
		}
		LogDetExact float64 `json:"log_det_exact"`
	}
}

// TestDiagnoseCmd: the JSON, the figures, the exact field's |c(t)| (against
// the formula written out here: c(t) = (tb − (1−t)a)/((1−t)²a + t²b), to
// float32 rounding) and (D/2)·log(b/a), forward and backward; the
// variational log-determinant against the likelihood integral along the
// same path (two float32 integrations of one trajectory: 1e-4).
func TestDiagnoseCmd(t *testing.T) {
	dir := gaussianRun(t)
	for _, dir0 := range []string{"forward", "backward"} {
		t.Run(dir0, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "diag")
			code, stdout, errs := runCLI(context.Background(), "diagnose", "--run", dir, "--n", "40", "--times", "6",
				"--direction", dir0, "--out", out)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			var got diagnoseJSON
			if err := json.Unmarshal([]byte(stdout), &got); err != nil {
				t.Fatal(err)
			}
			r := got.Report
			if r.Dim != 3 || r.N != 40 || !r.Full || len(r.Times) != 6 || r.FlowMap == nil || r.LogDetCheck == nil || got.Exact == nil {
				t.Fatalf("report %+v", got)
			}
			if r.LogDetCheck.MaxAbsDiff > 1e-4 {
				t.Errorf("log det Φ vs ∫div: %v apart", r.LogDetCheck.MaxAbsDiff)
			}
			want := 1.5 * math.Log(2)
			if dir0 == "backward" {
				want = -want
			}
			if math.Abs(got.Exact.LogDetExact-want) > 1e-12 {
				t.Errorf("exact log det %v, want %v", got.Exact.LogDetExact, want)
			}
			for _, et := range got.Exact.Times {
				a, b, s := 0.5, 1.0, et.T
				c := math.Abs((s*b - (1-s)*a) / ((1-s)*(1-s)*a + s*s*b))
				if math.Abs(et.AbsC-c) > 1e-6 {
					t.Errorf("t = %v: |c| %v, want %v", et.T, et.AbsC, c)
				}
			}
			for _, f := range []string{"diagnose.json", "figures/jacobian_spectrum.png", "figures/lognorm_lipschitz.png", "figures/flow_map_sigma.png"} {
				if st, err := os.Stat(filepath.Join(out, f)); err != nil || st.Size() == 0 {
					t.Errorf("%s: %v", f, err)
				}
			}
		})
	}
}

// TestDiagnoseCmdTopK: above --full-cap the command falls back to the top-k
// singular values with a note on stderr and in the JSON, and exits 0.
func TestDiagnoseCmdTopK(t *testing.T) {
	dir := gaussianRun(t)
	code, stdout, errs := runCLI(context.Background(), "diagnose", "--run", dir, "--n", "10", "--times", "3", "--full-cap", "2", "--top-k", "2")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !strings.Contains(errs, "note: dimension 3 is above the full-spectrum cap 2") {
		t.Errorf("stderr %q", errs)
	}
	var got diagnoseJSON
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatal(err)
	}
	if got.Report.Full || got.Report.TopK != 2 || got.Report.FlowMap != nil || got.Report.Note == "" {
		t.Errorf("report %+v", got.Report)
	}
}

// TestDiagnoseBadInput: one clear line and exit 2 for each thing a user
// can get wrong, for diagnose, likelihood and compare.
func TestDiagnoseBadInput(t *testing.T) {
	tmp := t.TempDir()
	g := gaussianRun(t)
	moons := finishedRun(t) // gaussian:dim=2 → moons
	noNet := copyRun(t, g)
	os.Remove(filepath.Join(noNet, train.ModelFile))
	wide := filepath.Join(tmp, "wide.csv")
	os.WriteFile(wide, []byte("1,2,3,4\n4,5,6,7\n1,1,1,1\n"), 0o644)
	noSource := finishedRun(t, "--source", "moons", "--target", "moons")
	// A run whose network file is another run's (width 2, config.json says 3).
	swapped := copyRun(t, g)
	if b, err := os.ReadFile(filepath.Join(moons, train.ModelFile)); err != nil || os.WriteFile(filepath.Join(swapped, train.ModelFile), b, 0o644) != nil {
		t.Fatal("swapping the network file:", err)
	}
	wideNPY := filepath.Join(tmp, "wide.npy")
	if err := dist.WriteNPYFile(wideNPY, mat.New(5, 4)); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"diagnose no run", []string{"diagnose"}, "needs --run"},
		{"diagnose run without a network", []string{"diagnose", "--run", noNet}, "no model.safetensors"},
		{"diagnose wrong width", []string{"diagnose", "--run", g, "--from", wide}, "4 columns, the run's field has dimension 3"},
		{"diagnose network of another width", []string{"diagnose", "--run", swapped}, `holds network {"dim":2`},
		{"diagnose wrong width npy", []string{"diagnose", "--run", g, "--from", wideNPY}, "4 columns, the run's field has dimension 3"},
		{"diagnose flow map too large for memory", []string{"diagnose", "--run", g, "--n", "1000000000"}, "MiB of memory"},
		{"diagnose cap too large", []string{"diagnose", "--run", g, "--full-cap", "100000"}, "--full-cap 100000: want 1..512"},
		{"diagnose times", []string{"diagnose", "--run", g, "--times", "1"}, "--times 1"},
		{"diagnose direction", []string{"diagnose", "--run", g, "--direction", "sideways"}, "--direction"},
		{"diagnose solver", []string{"diagnose", "--run", g, "--solver", "rk9"}, "unknown solver"},
		{"likelihood run without a network", []string{"likelihood", "--run", noNet, "--data", "gaussian:dim=3"}, "no model.safetensors"},
		{"likelihood network of another width", []string{"likelihood", "--run", swapped, "--data", "gaussian:dim=3"}, `holds network {"dim":2`},
		{"likelihood wrong width npy", []string{"likelihood", "--run", g, "--data", wideNPY}, "4 columns, the run's field has dimension 3"},
		{"likelihood wrong width", []string{"likelihood", "--run", g, "--data", wide}, "4 columns, the run's field has dimension 3"},
		{"likelihood source without density", []string{"likelihood", "--run", noSource, "--data", "moons"}, "has no density"},
		{"likelihood both estimators", []string{"likelihood", "--run", g, "--data", "gaussian:dim=3", "--exact", "--hutchinson"}, "choose one"},
		{"likelihood out", []string{"likelihood", "--run", g, "--data", "gaussian:dim=3", "--out", "x.txt"}, "FILE.npy"},
		{"likelihood no data", []string{"likelihood", "--run", moons}, "--data"},
		{"compare widths", []string{"compare", "--x", "gaussian:dim=3", "--y", wide}, "--x has 3 columns and --y 4"},
		{"compare widths npy", []string{"compare", "--x", wideNPY, "--y", "gaussian:dim=3"}, "--x has 4 columns and --y 3"},
		{"compare missing", []string{"compare", "--x", "moons"}, "--y"},
		{"compare chi", []string{"compare", "--x", "moons", "--y", "moons", "--chi=0"}, "--chi 0"},
		{"compare bad spec", []string{"compare", "--x", "gaussian:dim=-1", "--y", "moons"}, "--x"},
		{"compare too few rows", []string{"compare", "--x", "moons", "--y", "moons", "--n", "2"}, "--n 2"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, _, errs := runCLI(context.Background(), c.args...)
			if code != 2 || !oneErrorLine(errs, c.want) {
				t.Errorf("exit %d, stderr %q; want 2 and one line with %q", code, errs, c.want)
			}
		})
	}
}
