package sweep

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// needsPlan writes a plan of n cells where cell i needs the cells
// needs[i]; every cell costs 1 except the needing ones, which cost 10 so
// that Local would start them first if it ignored Needs.
func needsPlan(t *testing.T, n int, needs map[int][]int) (string, *Plan) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "plan")
	p := &Plan{Experiments: []string{"toy"}, Scale: "smoke", Seed: 1}
	for i := range n {
		c := Cell{ID: fmt.Sprintf("toy/c%d", i), Experiment: "toy", Config: json.RawMessage(fmt.Sprintf(`{"i":%d}`, i)), Cost: 1, Needs: needs[i]}
		if len(c.Needs) > 0 {
			c.Cost = 10
		}
		p.Cells = append(p.Cells, c)
	}
	return writePlan(t, dir, p)
}

// ordered is a Runner that checks, when a cell runs, that each of its
// inputs is the needed cell and already done, and records the cells it
// saw run.
type ordered struct {
	mu   sync.Mutex
	ran  []int
	bad  []string
	fail map[int]bool
}

func (o *ordered) RunCell(_ context.Context, c Cell, dir string, inputs []Input) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(inputs) != len(c.Needs) {
		o.bad = append(o.bad, fmt.Sprintf("cell %d got %d inputs, needs %v", c.Index, len(inputs), c.Needs))
	}
	for k, in := range inputs {
		if in.Cell.Index != c.Needs[k] {
			o.bad = append(o.bad, fmt.Sprintf("cell %d input %d is cell %d", c.Index, k, in.Cell.Index))
		}
		if _, err := os.Stat(filepath.Join(in.Dir, DoneFile)); err != nil {
			o.bad = append(o.bad, fmt.Sprintf("cell %d ran before its input %d was done", c.Index, in.Cell.Index))
		}
	}
	o.ran = append(o.ran, c.Index)
	if o.fail[c.Index] {
		return errors.New("boom")
	}
	return nil
}

func (o *ordered) Collect(context.Context, *Plan, func(Cell) string, string) error { return nil }

func TestNeedsRefused(t *testing.T) {
	for _, tc := range []struct {
		name  string
		needs map[int][]int
	}{
		{"out of range", map[int][]int{1: {3}}},
		{"negative", map[int][]int{1: {-1}}},
		{"itself", map[int][]int{1: {1}}},
		{"two levels", map[int][]int{1: {0}, 2: {1}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("Write accepted the plan")
				}
			}()
			needsPlan(t, 3, tc.needs)
		})
		t.Run(tc.name+" read", func(t *testing.T) {
			dir, _ := needsPlan(t, 3, nil)
			path := filepath.Join(dir, CellsFile)
			b, _ := os.ReadFile(path)
			lines := strings.SplitAfter(string(b), "\n")
			for i, js := range tc.needs {
				nb, _ := json.Marshal(js)
				lines[i] = strings.Replace(lines[i], `"cost_s":1`, `"cost_s":1,"needs":`+string(nb), 1)
			}
			os.WriteFile(path, []byte(strings.Join(lines, "")), 0o644)
			if _, err := Read(dir); !errors.Is(err, ErrPlan) {
				t.Errorf("Read: got %v, want ErrPlan", err)
			}
		})
	}
}

// TestRunCellNotReady: a cell whose needed cells are not done is refused
// with ErrNotReady and leaves no trace; once they are done it runs.
func TestRunCellNotReady(t *testing.T) {
	dir, p := needsPlan(t, 4, map[int][]int{3: {0, 2}})
	r := &ordered{}
	ctx := context.Background()
	if _, err := RunCell(ctx, dir, p, 0, r); err != nil {
		t.Fatal(err)
	}
	_, err := RunCell(ctx, dir, p, 3, r)
	if !errors.Is(err, ErrNotReady) || !strings.Contains(err.Error(), "cells 2") {
		t.Fatalf("got %v, want ErrNotReady naming cell 2", err)
	}
	if _, err := os.Stat(CellDir(dir, p.Cells[3])); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("refused cell left its folder: %v", err)
	}
	if _, err := RunCell(ctx, dir, p, 2, r); err != nil {
		t.Fatal(err)
	}
	if out, err := RunCell(ctx, dir, p, 3, r); err != nil || out != Ran {
		t.Fatalf("after its inputs: %v, %v", out, err)
	}
	if len(r.bad) > 0 {
		t.Error(strings.Join(r.bad, "\n"))
	}
}

// TestLocalNeeds: Local runs needed cells first although the needing cells
// cost more, and leaves the cells that need a failed cell unrun.
func TestLocalNeeds(t *testing.T) {
	needs := map[int][]int{3: {0, 1}, 4: {0, 1}, 5: {2}}
	for _, jobs := range []int{1, 2, 4} {
		t.Run(fmt.Sprint("jobs ", jobs), func(t *testing.T) {
			dir, p := needsPlan(t, 6, needs)
			r := &ordered{}
			if err := Local(context.Background(), dir, p, r, jobs, nil); err != nil {
				t.Fatal(err)
			}
			if len(r.ran) != 6 || len(r.bad) > 0 {
				t.Errorf("ran %v; %s", r.ran, strings.Join(r.bad, "\n"))
			}
		})
	}
	t.Run("failed input", func(t *testing.T) {
		dir, p := needsPlan(t, 6, needs)
		r := &ordered{fail: map[int]bool{1: true}}
		err := Local(context.Background(), dir, p, r, 2, nil)
		for _, want := range []string{"toy/c1", "toy/c3", "toy/c4"} {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("error %v does not name %s", err, want)
			}
		}
		for _, i := range r.ran {
			if i == 3 || i == 4 {
				t.Errorf("cell %d ran though cell 1 failed", i)
			}
		}
		if len(r.ran) != 4 {
			t.Errorf("ran %v, want cells 0, 1, 2, 5", r.ran)
		}
	})
}

// TestLocalCancel: a cancelled context stops Local without running more
// cells.
func TestLocalCancel(t *testing.T) {
	dir, p := needsPlan(t, 6, map[int][]int{3: {0}})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := &ordered{}
	if err := Local(ctx, dir, p, r, 2, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	if len(r.ran) != 0 {
		t.Errorf("ran %v after cancel", r.ran)
	}
}
