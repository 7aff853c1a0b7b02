package main

import (
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowlab/flowlab/dist"
	"github.com/flowlab/flowlab/mat"
)

func compareRun(t *testing.T, args ...string) compareReport {
	t.Helper()
	code, stdout, errs := runCLI(context.Background(), append([]string{"compare"}, args...)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var rep compareReport
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatal(err)
	}
	return rep
}

// TestCompareCmd: N(0, I_4) against N(0, 4I_4), n = 1000, --chi.
//   - KS of the first sample's norms against Chi(4): below 0.07 (≈ 2.2/√n,
//     a tail probability near 1e-4 for a sample of the law); the second's,
//     norms 2·Chi(4), above 0.3 (their CDFs differ by > 0.4 at the median);
//   - W2 near the exact 2 (√(4·(2−1)²)) plus the empirical bias at
//     n = 1000 in 4 dimensions: within [1.8, 2.6];
//   - every distance larger than between two samples of the same law;
//   - TwoNN and Levina–Bickel (10..20) of each within 15 % of 4 (their
//     bootstrap spreads at n = 1000 are ≈ 3 % of d, asserted below 5 %).
func TestCompareCmd(t *testing.T) {
	rep := compareRun(t, "--x", "gaussian:dim=4", "--y", "gaussian:dim=4,var=4", "--chi")
	same := compareRun(t, "--x", "gaussian:dim=4", "--y", "gaussian:dim=4", "--seed", "2")
	if rep.X.KSChi == nil || rep.Y.KSChi == nil || rep.X.KSChi.K != 4 || rep.W2 == nil {
		t.Fatalf("report %+v", rep)
	}
	if rep.X.KSChi.D > 0.07 || rep.Y.KSChi.D < 0.3 {
		t.Errorf("KS vs Chi(4): %v and %v", rep.X.KSChi.D, rep.Y.KSChi.D)
	}
	if *rep.W2 < 1.8 || *rep.W2 > 2.6 {
		t.Errorf("W2 %v, want ≈ 2", *rep.W2)
	}
	if !(*rep.W2 > *same.W2 && rep.SlicedW2 > same.SlicedW2 && rep.MMD > same.MMD && rep.Energy > same.Energy) {
		t.Errorf("distances %+v not above the same-law ones %+v", rep, same)
	}
	for _, s := range []compareSide{rep.X, rep.Y} {
		id := s.Intrinsic
		for _, e := range []float64{id.TwoNN.Dim, id.LBAveraged.Dim} {
			if math.Abs(e-4) > 0.6 {
				t.Errorf("%s: intrinsic dimension %v, want ≈ 4", s.From, e)
			}
		}
		if id.TwoNN.Spread > 0.2 || id.TwoNN.Spread <= 0 {
			t.Errorf("%s: TwoNN spread %v", s.From, id.TwoNN.Spread)
		}
	}
}

// TestCompareCmdFiles: files of different lengths are compared (every row),
// with no exact W2 and a note saying why; --chi=3 sets K.
func TestCompareCmdFiles(t *testing.T) {
	tmp := t.TempDir()
	rng := rand.New(rand.NewPCG(5, 6))
	write := func(name string, n int) string {
		x := mat.New(n, 3)
		for i := range x.Data {
			x.Data[i] = float32(rng.NormFloat64())
		}
		p := filepath.Join(tmp, name)
		if err := dist.WriteNPYFile(p, x); err != nil {
			t.Fatal(err)
		}
		return p
	}
	a, b := write("a.npy", 300), write("b.npy", 200)
	rep := compareRun(t, "--x", a, "--y", b, "--chi=3")
	if rep.W2 != nil || !strings.Contains(rep.Note, "300 and 200 points") || rep.X.N != 300 || rep.Y.N != 200 || rep.X.KSChi.K != 3 {
		t.Errorf("report %+v", rep)
	}
}

// TestCompareDuplicateRows: a file whose rows repeat has no intrinsic
// dimension (zero neighbour distances); compare still reports the
// distances and says why the estimate is missing.
func TestCompareDuplicateRows(t *testing.T) {
	x := mat.New(200, 3)
	for i := 0; i < x.R; i++ {
		copy(x.Row(i), []float32{float32(i % 2), 1, 2}) // two distinct rows
	}
	p := filepath.Join(t.TempDir(), "dup.npy")
	if err := dist.WriteNPYFile(p, x); err != nil {
		t.Fatal(err)
	}
	rep := compareRun(t, "--x", "file:"+p, "--y", "gaussian:dim=3", "--n", "200")
	if rep.X.Intrinsic != nil || rep.X.IntrinsicError == "" {
		t.Errorf("duplicate rows: intrinsic %+v, error %q; want none and a reason", rep.X.Intrinsic, rep.X.IntrinsicError)
	}
	if rep.MMD <= 0 || rep.Y.Intrinsic == nil {
		t.Errorf("the other measures are missing: %+v", rep)
	}
}
