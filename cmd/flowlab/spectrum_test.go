package main

import (
	"bytes"
	"context"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowlab/flowlab/dist"
	"github.com/flowlab/flowlab/mat"
)

// TestSpectrumCmd: a rotated rank-6 Gaussian in 30-D has numerical rank 6
// and six eigenvalues above 0.012 (its live variance is 0.5, its dead
// eigenvalues float32 rounding, ~1e-15); the JSON carries the tolerance
// that gave the rank, and the figure is written.
func TestSpectrumCmd(t *testing.T) {
	fig := filepath.Join(t.TempDir(), "s.png")
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"spectrum", "--data", "embedded:dim=30,rank=6,var=0.5,rotate=true,seed=1",
		"--n", "3000", "--json", "--out", fig}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var rep struct {
		N, D, Rank, NonConstant int
		RankTol                 float64 `json:"rank_tol"`
		RankRule                string  `json:"rank_rule"`
		Sampled                 bool
		Eigenvalues             []float64
		Above                   []struct {
			Cut   float64
			Count int
		}
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if rep.N != 3000 || rep.D != 30 || rep.Rank != 6 || !rep.Sampled || len(rep.Eigenvalues) != 30 ||
		len(rep.Above) != 1 || rep.Above[0].Cut != 0.012 || rep.Above[0].Count != 6 || !strings.Contains(rep.RankRule, "numpy") {
		t.Errorf("report %+v", rep)
	}
	if want := rep.Eigenvalues[0] * 30 * 0x1p-52; rep.RankTol != want {
		t.Errorf("rank tolerance %v, want λmax·D·eps = %v", rep.RankTol, want)
	}
	if st, err := os.Stat(fig); err != nil || st.Size() < 1000 {
		t.Errorf("figure: %v", err)
	}
}

// TestSpectrumCmdFile: a finite data set is used whole, and the text output
// names each cut; a 2-column file whose second column is constant has one
// non-constant feature and rank 1.
func TestSpectrumCmdFile(t *testing.T) {
	x := mat.New(50, 2)
	rng := rand.New(rand.NewPCG(1, 1))
	for i := 0; i < 50; i++ {
		x.Set(i, 0, float32(rng.NormFloat64()))
		x.Set(i, 1, 7)
	}
	path := filepath.Join(t.TempDir(), "x.npy")
	if err := dist.WriteNPYFile(path, x); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"spectrum", "--data", "file:" + path}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	s := out.String()
	for _, want := range []string{"50×2, the whole data set", "non-constant features:     1 of 2", "numerical rank:            1 ", "not a rank", "95%"} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
}

func TestSpectrumCmdBadUsage(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.csv")
	os.WriteFile(bad, []byte("1,2\n3\n"), 0o644)
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"spectrum"}, 2, "--data SPEC is required"},
		{[]string{"spectrum", "--data", "gaussian:dim=x"}, 2, `dim="x"`},
		{[]string{"spectrum", "--data", "nosuch"}, 2, "unknown distribution"},
		{[]string{"spectrum", "--data", "line", "--var", "1.5"}, 2, "--var"},
		{[]string{"spectrum", "--data", "line", "--above", "x"}, 2, "--above"},
		{[]string{"spectrum", "--data", "line", "--n", "1"}, 2, "--n"},
		{[]string{"spectrum", "--data", "line", "--tol", "-1"}, 2, "--tol"},
		{[]string{"spectrum", "--data", "line", "--tol", "NaN"}, 2, "--tol"},
		{[]string{"spectrum", "--data", "file:" + bad}, 1, "line 2 has 1 fields"},
		{[]string{"spectrum", "--data", "mnist", "--mnist-dir", t.TempDir()}, 1, "MNIST files not found"},
	} {
		var out, errb bytes.Buffer
		code := run(context.Background(), c.args, &out, &errb)
		msg := errb.String()
		if code != c.code || !strings.Contains(msg, c.want) || strings.Count(strings.TrimSpace(msg), "\n") != 0 {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and one line mentioning %q", c.args, code, msg, c.code, c.want)
		}
	}
}
