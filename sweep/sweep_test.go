package sweep

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flowlab/flowlab/internal/dirlock"
)

// fake runs a cell by writing its config to result.txt; cells whose id is in
// fail return an error; Collect concatenates the results in index order.
type fake struct {
	fail map[string]bool
	runs atomic.Int32
}

func (f *fake) RunCell(_ context.Context, c Cell, dir string, _ []Input) error {
	f.runs.Add(1)
	if f.fail[c.ID] {
		return errors.New("boom")
	}
	return os.WriteFile(filepath.Join(dir, "result.txt"), c.Config, 0o644)
}

func (f *fake) Collect(_ context.Context, p *Plan, cellDir func(Cell) string, out string) error {
	var all []string
	for _, c := range p.Cells {
		b, err := os.ReadFile(filepath.Join(cellDir(c), "result.txt"))
		if err != nil {
			return err
		}
		all = append(all, string(b))
	}
	os.MkdirAll(out, 0o755)
	return os.WriteFile(filepath.Join(out, "all.txt"), []byte(strings.Join(all, "\n")), 0o644)
}

func testPlan(t *testing.T, n int) (string, *Plan) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "plan")
	p := &Plan{Experiments: []string{"toy"}, Scale: "smoke", Seeds: n, Seed: 1}
	for i := range n {
		p.Cells = append(p.Cells, Cell{ID: fmt.Sprintf("toy/seed%d", i+1), Experiment: "toy", Config: json.RawMessage(fmt.Sprintf(`{"seed": %d}`, i+1)), Cost: 2})
	}
	return writePlan(t, dir, p)
}

// writePlan writes p into dir and reads it back.
func writePlan(t *testing.T, dir string, p *Plan) (string, *Plan) {
	t.Helper()
	if err := Write(dir, p); err != nil {
		t.Fatal(err)
	}
	got, err := Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	return dir, got
}

func TestWriteRead(t *testing.T) {
	dir, p := testPlan(t, 3)
	if p.NCells != 3 || p.CostS != 6 || p.Format != Format || len(p.Cells) != 3 {
		t.Fatalf("read back %+v", p)
	}
	for i, c := range p.Cells {
		if c.Index != i || c.ID != fmt.Sprintf("toy/seed%d", i+1) {
			t.Errorf("cell %d: %+v", i, c)
		}
	}
	if err := Write(dir, p); !errors.Is(err, ErrPlan) {
		t.Errorf("Write over a plan: got %v, want ErrPlan", err)
	}
}

func TestReadRefuses(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(dir string)
	}{
		{"no plan", func(dir string) { os.Remove(filepath.Join(dir, PlanFile)) }},
		{"other format", func(dir string) { rewrite(dir, PlanFile, `"flowlab-sweep/1"`, `"flowlab-sweep/0"`) }},
		{"cell count", func(dir string) { rewrite(dir, PlanFile, `"cells": 3`, `"cells": 4`) }},
		{"bad line", func(dir string) { rewrite(dir, CellsFile, `"index":1`, `"index":"x"`) }},
		{"index order", func(dir string) { rewrite(dir, CellsFile, `"index":1`, `"index":2`) }},
		{"unsafe id", func(dir string) { rewrite(dir, CellsFile, `toy/seed2`, `../seed2`) }},
		{"nested ids", func(dir string) { rewrite(dir, CellsFile, `toy/seed2`, `toy/seed1/x`) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, _ := testPlan(t, 3)
			tc.edit(dir)
			if _, err := Read(dir); !errors.Is(err, ErrPlan) {
				t.Fatalf("got %v, want ErrPlan", err)
			}
		})
	}
}

// TestCheckBuild: a plan written by another known build is refused; an
// unknown build on either side (dev, a dirty tree) is not. (Read's own
// call cannot be tested with two builds: a test binary carries no VCS
// stamp, so its buildinfo.Version is never known.)
func TestCheckBuild(t *testing.T) {
	for _, tc := range []struct {
		planned, current string
		refused          bool
	}{
		{"dev-0123456789ab", "dev-ba9876543210", true},
		{"dev-0123456789ab", "dev-0123456789ab", false},
		{"1.2.0", "1.3.0", true},
		{"dev", "dev-0123456789ab", false},
		{"dev-0123456789ab", "dev", false},
		{"dev-0123456789ab-dirty", "dev-ba9876543210", false},
		{"", "dev-ba9876543210", false},
	} {
		t.Run(tc.planned+"→"+tc.current, func(t *testing.T) {
			err := checkBuild("plan", tc.planned, tc.current)
			if tc.refused != errors.Is(err, ErrPlan) || !tc.refused && err != nil {
				t.Errorf("got %v, want refused %v", err, tc.refused)
			}
		})
	}
}

func rewrite(dir, file, old, new string) {
	path := filepath.Join(dir, file)
	b, _ := os.ReadFile(path)
	if !strings.Contains(string(b), old) {
		panic(fmt.Sprintf("%s lacks %q: %s", file, old, b))
	}
	os.WriteFile(path, []byte(strings.Replace(string(b), old, new, 1)), 0o644)
}

func TestRunCell(t *testing.T) {
	dir, p := testPlan(t, 3)
	r := &fake{}
	ctx := context.Background()
	if _, err := RunCell(ctx, dir, p, 3, r); !errors.Is(err, ErrPlan) {
		t.Errorf("index 3 of 3: got %v, want ErrPlan", err)
	}
	if out, err := RunCell(ctx, dir, p, 1, r); err != nil || out != Ran {
		t.Fatalf("first run: %v, %v", out, err)
	}
	if out, err := RunCell(ctx, dir, p, 1, r); err != nil || out != Skipped {
		t.Fatalf("second run: %v, %v; want Skipped", out, err)
	}
	if r.runs.Load() != 1 {
		t.Errorf("runner called %d times, want 1", r.runs.Load())
	}
	// The plan changes under a cell that ran: refused, the result kept.
	p.Cells[1].Config = json.RawMessage(`{"seed": 99}`)
	if _, err := RunCell(ctx, dir, p, 1, r); !errors.Is(err, ErrPlan) {
		t.Errorf("changed config: got %v, want ErrPlan", err)
	}
	if b, _ := os.ReadFile(filepath.Join(CellDir(dir, p.Cells[1]), "result.txt")); string(b) != `{"seed":2}` {
		t.Errorf("result overwritten: %q", b)
	}
}

func TestRunCellBusy(t *testing.T) {
	dir, p := testPlan(t, 1)
	cdir := CellDir(dir, p.Cells[0])
	os.MkdirAll(cdir, 0o755)
	unlock, err := dirlock.LockNamed(cdir, LockFile)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	r := &fake{}
	if _, err := RunCell(context.Background(), dir, p, 0, r); !errors.Is(err, ErrCellBusy) {
		t.Fatalf("got %v, want ErrCellBusy", err)
	}
	st, _ := Status(dir, p)
	if st[0].State != Running || r.runs.Load() != 0 {
		t.Errorf("state %s, runs %d; want running, 0", st[0].State, r.runs.Load())
	}
}

func TestLocalStatusCollect(t *testing.T) {
	dir, p := testPlan(t, 5)
	r := &fake{fail: map[string]bool{"toy/seed2": true, "toy/seed4": true}}
	ctx := context.Background()
	err := Local(ctx, dir, p, r, 2, nil)
	if err == nil || !strings.Contains(err.Error(), "toy/seed2") || !strings.Contains(err.Error(), "toy/seed4") {
		t.Fatalf("Local: %v, want both failures named", err)
	}
	st, err := Status(dir, p)
	if err != nil {
		t.Fatal(err)
	}
	if got := ArrayList(Indices(st, Failed)); got != "1,3" {
		t.Errorf("failed %q, want 1,3", got)
	}
	if err := Collect(ctx, dir, p, r, filepath.Join(dir, "out")); !errors.Is(err, ErrNotDone) {
		t.Fatalf("Collect with failures: got %v, want ErrNotDone", err)
	}
	r.fail = nil
	if err := Local(ctx, dir, p, r, 2, nil); err != nil {
		t.Fatal(err)
	}
	if r.runs.Load() != 7 {
		t.Errorf("runner called %d times, want 5 + 2 reruns", r.runs.Load())
	}
	if err := Collect(ctx, dir, p, r, filepath.Join(dir, "out")); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "out", "all.txt"))
	if !strings.HasPrefix(string(b), `{"seed":1}`) || strings.Count(string(b), "seed") != 5 {
		t.Errorf("collected %q", b)
	}
}

func TestArrayList(t *testing.T) {
	for _, tc := range []struct {
		in   []int
		want string
	}{
		{nil, ""},
		{[]int{0}, "0"},
		{[]int{0, 1, 2, 3}, "0-3"},
		{[]int{0, 1, 2, 3, 7, 9, 10, 11, 12}, "0-3,7,9-12"},
		{[]int{1, 3, 5}, "1,3,5"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			if got := ArrayList(tc.in); got != tc.want {
				t.Errorf("ArrayList(%v) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// FuzzReadCells: no cells.jsonl makes Read panic, and what it accepts has
// consecutive indices and path-safe ids.
func FuzzReadCells(f *testing.F) {
	f.Add([]byte(`{"index":0,"id":"a/b","experiment":"x","config":{}}` + "\n"))
	f.Add([]byte(`{"index":0,"id":"../b","config":1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		path := filepath.Join(dir, CellsFile)
		os.WriteFile(path, data, 0o644)
		cells, err := readCells(path)
		if err != nil {
			if !errors.Is(err, ErrPlan) {
				t.Fatalf("error %v does not wrap ErrPlan", err)
			}
			return
		}
		if id := nested(cells); id != "" {
			t.Fatalf("accepted nested id %q", id)
		}
		for i, c := range cells {
			if c.Index != i || !validID(c.ID) {
				t.Fatalf("accepted cell %d: %+v", i, c)
			}
		}
	})
}

// TestRunCellWaitsForBriefLock: a lock held for a moment (as Status holds
// each cell's) delays RunCell instead of failing it.
func TestRunCellWaitsForBriefLock(t *testing.T) {
	dir, p := testPlan(t, 1)
	cdir := CellDir(dir, p.Cells[0])
	os.MkdirAll(cdir, 0o755)
	unlock, err := dirlock.LockNamed(cdir, LockFile)
	if err != nil {
		t.Fatal(err)
	}
	go func() { time.Sleep(300 * time.Millisecond); unlock() }()
	if out, err := RunCell(context.Background(), dir, p, 0, &fake{}); err != nil || out != Ran {
		t.Fatalf("got %v, %v; want Ran", out, err)
	}
}

// TestRunnerMayLockItsFolder: a Runner that takes the folder's own lock (as
// train.Run does) is not refused by the cell's lock.
func TestRunnerMayLockItsFolder(t *testing.T) {
	dir, p := testPlan(t, 1)
	r := runnerFunc(func(dir string) error {
		unlock, err := dirlock.Lock(dir)
		if err != nil {
			return err
		}
		return unlock()
	})
	if _, err := RunCell(context.Background(), dir, p, 0, r); err != nil {
		t.Fatal(err)
	}
}

type runnerFunc func(dir string) error

func (f runnerFunc) RunCell(_ context.Context, _ Cell, dir string, _ []Input) error { return f(dir) }
func (f runnerFunc) Collect(context.Context, *Plan, func(Cell) string, string) error {
	return nil
}
