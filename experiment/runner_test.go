package experiment

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/flowlab/flowlab/sweep"
)

// codecCell has what cells hold: floats that JSON cannot write, float32
// samples, nil and empty slices, pointers, and an unexported input.
type codecCell struct {
	A     float64     `json:"a"`
	B     []float64   `json:"b"`
	Empty []int       `json:"empty"`
	Nil   []int       `json:"nil"`
	Ptr   *float64    `json:"ptr"`
	In    *codecIn    `json:"in,omitempty"`
	F32   [][]float32 `json:"f32,omitempty" figure:"true"`
	input int
}

type codecIn struct {
	C float64   `json:"c"`
	D []float32 `json:"d"`
}

// TestCellCodec: a cell written and read back has the same bits in every
// float (NaN, ±Inf, −0, the smallest subnormal, float32 values included),
// keeps nil and empty slices apart, and keeps the unexported inputs of the
// cell it is read into.
func TestCellCodec(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	p := -inf
	x := &codecCell{A: nan, B: []float64{1.0 / 3, math.Copysign(0, -1), 5e-324, inf, math.MaxFloat64}, Empty: []int{}, Ptr: &p,
		In: &codecIn{C: 0.1, D: []float32{float32(nan), 1.0 / 3, float32(math.Inf(-1))}}, F32: [][]float32{{0.7, float32(nan)}}, input: 7}
	before, _ := json.Marshal(map[string]any{"b": x.B[:3]}) // the finite part, for the shape check below
	b, nf, err := encodeCell(x)
	if err != nil {
		t.Fatal(err)
	}
	if len(nf) != 6 {
		t.Errorf("%d non-finite values listed, want 6: %+v", len(nf), nf)
	}
	if !math.IsNaN(x.A) || !math.IsInf(x.B[3], 1) {
		t.Error("encodeCell did not restore the cell")
	}
	y := &codecCell{A: 9, Nil: []int{1}, input: 7}
	if err := decodeCell(y, b, nf); err != nil {
		t.Fatal(err)
	}
	if y.input != 7 || y.Nil != nil || y.Empty == nil || len(y.Empty) != 0 {
		t.Errorf("input %d, nil %v, empty %v (nil %v)", y.input, y.Nil, y.Empty, y.Empty == nil)
	}
	if !sameBits(reflect.ValueOf(x).Elem(), reflect.ValueOf(y).Elem()) {
		t.Errorf("read back %+v %+v, want %+v %+v", y, *y.In, x, *x.In)
	}
	after, _ := json.Marshal(map[string]any{"b": y.B[:3]})
	if !bytes.Equal(before, after) {
		t.Errorf("finite floats re-encode as %s, want %s", after, before)
	}
	for _, bad := range []nonFinite{{Path: "B/9", Value: "NaN"}, {Path: "Empty", Value: "NaN"}, {Path: "A", Value: "1"}, {Path: "input", Value: "NaN"}} {
		if err := decodeCell(&codecCell{}, b, []nonFinite{bad}); err == nil {
			t.Errorf("non-finite entry %+v accepted", bad)
		}
	}
}

// sameBits compares two values of one type, floats by their bits.
func sameBits(a, b reflect.Value) bool {
	switch a.Kind() {
	case reflect.Float32, reflect.Float64:
		return math.Float64bits(a.Float()) == math.Float64bits(b.Float()) || a.Kind() == reflect.Float32 && math.IsNaN(a.Float()) && math.IsNaN(b.Float())
	case reflect.Pointer:
		return a.IsNil() == b.IsNil() && (a.IsNil() || sameBits(a.Elem(), b.Elem()))
	case reflect.Slice:
		if a.IsNil() != b.IsNil() || a.Len() != b.Len() {
			return false
		}
		for i := range a.Len() {
			if !sameBits(a.Index(i), b.Index(i)) {
				return false
			}
		}
		return true
	case reflect.Struct:
		for i := range a.NumField() {
			if a.Type().Field(i).IsExported() && !sameBits(a.Field(i), b.Field(i)) {
				return false
			}
		}
		return true
	}
	return a.Interface() == b.Interface()
}

// runInMemory runs an experiment as Run did before sweeps: every cell
// measured in this process, in parallel, the measured cells passed to the
// figures and findings without files in between.
func runInMemory(t *testing.T, name string, scale Scale, out string, seed uint64) {
	t.Helper()
	ctx := context.Background()
	r := NewRunner(Options{})
	k := setKey{name, scale, seed, 0}
	pr, err := r.prepare(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	// the cells that others read first, then the rest
	var stages [2][]int
	for i := range pr.set.len() {
		s := 0
		if len(pr.set.needs(i)) > 0 {
			s = 1
		}
		stages[s] = append(stages[s], i)
	}
	for _, idx := range stages {
		if err := parallel(ctx, len(idx), func(i int) error { return pr.set.measure(r.env(ctx, k, "", name), idx[i]) }); err != nil {
			t.Fatal(err)
		}
	}
	e := r.env(ctx, k, filepath.Join(out, name), name)
	if err := os.MkdirAll(filepath.Join(e.dir, "figures"), 0o755); err != nil {
		t.Fatal(err)
	}
	sp, _ := find(name)
	o, err := pr.set.finish(e)
	if err != nil {
		t.Fatal(err)
	}
	if err := writeRun(e, sp, o, map[string]float64{}); err != nil {
		t.Fatal(err)
	}
}

// TestSweepEqualsInMemory: reproduce (plan, a local pool of cells that
// write their results to files, collect) writes the same metrics.json and
// figures, byte for byte, as measuring every cell in memory. -short: rank
// and variance (which has figure panels); otherwise every experiment.
func TestSweepEqualsInMemory(t *testing.T) {
	names := Names()
	if testing.Short() {
		names = []string{"rank", "variance"}
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			mem, sw := t.TempDir(), t.TempDir()
			runInMemory(t, name, Smoke, mem, 3)
			if err := Run(context.Background(), name, Smoke, sw, 3); err != nil {
				t.Fatal(err)
			}
			files := 0
			filepath.WalkDir(filepath.Join(mem, name), func(path string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() || filepath.Base(path) == "times.json" {
					return err
				}
				rel, _ := filepath.Rel(mem, path)
				a, _ := os.ReadFile(path)
				b, err := os.ReadFile(filepath.Join(sw, rel))
				if err != nil || !bytes.Equal(a, b) {
					t.Errorf("%s differs between the sweep and the in-memory run (%v)", rel, err)
				}
				files++
				return nil
			})
			if files < 3 {
				t.Errorf("compared %d files, want config.json, metrics.json and a figure at least", files)
			}
		})
	}
}

// TestSweepCellsApart: every cell run by a Runner of its own, as array
// tasks run, the cells that read others' results (stochastic's ε choice)
// reading them from their files, and collected by another: the same
// metrics.json as the in-memory run.
func TestSweepCellsApart(t *testing.T) {
	if testing.Short() {
		t.Skip("trains the stochastic experiment twice at smoke scale")
	}
	const name = "stochastic"
	ctx := context.Background()
	mem, dir, out := t.TempDir(), filepath.Join(t.TempDir(), "plan"), t.TempDir()
	runInMemory(t, name, Smoke, mem, 3)
	p, err := NewRunner(Options{}).Plan(ctx, name, Smoke, 3, 0)
	if err != nil {
		t.Fatal(err)
	}
	needing := 0
	for _, c := range p.Cells {
		if len(c.Needs) > 0 {
			needing++
		}
	}
	if needing == 0 {
		t.Fatal("no cell of the plan reads another's result")
	}
	if err := sweep.Write(dir, p); err != nil {
		t.Fatal(err)
	}
	// the reading cells first: refused until their inputs are done
	for i, c := range p.Cells {
		if len(c.Needs) == 0 {
			continue
		}
		if _, err := sweep.RunCell(ctx, dir, p, i, NewRunner(Options{})); !errors.Is(err, sweep.ErrNotReady) {
			t.Fatalf("cell %s before its inputs: got %v, want ErrNotReady", c.ID, err)
		}
	}
	for i := range p.Cells {
		if _, err := sweep.RunCell(ctx, dir, p, i, NewRunner(Options{})); err != nil {
			t.Fatal(err)
		}
	}
	if err := sweep.Collect(ctx, dir, p, NewRunner(Options{}), out); err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(filepath.Join(mem, name, "metrics.json"))
	b, err := os.ReadFile(filepath.Join(out, name, "metrics.json"))
	if err != nil || !bytes.Equal(a, b) {
		t.Errorf("metrics.json of cells run apart differs from the in-memory run (%v)", err)
	}
}
