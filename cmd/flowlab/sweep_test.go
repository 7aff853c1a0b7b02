package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/flowlab/flowlab/experiment"
	"github.com/flowlab/flowlab/internal/dirlock"
	"github.com/flowlab/flowlab/sweep"
)

// planSweep plans experiment name at scale into a fresh folder.
func planSweep(t *testing.T, name, scale string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "plan")
	if code, out, errs := runCLI(context.Background(), "sweep", "plan", name, "--scale", scale, "--out", dir); code != 0 || !strings.Contains(out, "planned ") {
		t.Fatalf("sweep plan: exit %d: %s%s", code, out, errs)
	}
	return dir
}

// planCell returns cell i of the plan in dir.
func planCell(t *testing.T, dir string, i int) (sweep.Cell, int) {
	t.Helper()
	p, err := sweep.Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	return p.Cells[i], len(p.Cells)
}

// cellResult returns the measured part of a cell's result file (its
// times left out).
func cellResult(t *testing.T, dir, id string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, sweep.CellsDir, id, experiment.ResultFile))
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		X         json.RawMessage `json:"x"`
		NonFinite json.RawMessage `json:"nonfinite"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	return string(f.X) + string(f.NonFinite)
}

// TestSweepLocalCollect: plan, local and collect write the metrics.json that
// reproduce writes, and status then says every cell is done.
func TestSweepLocalCollect(t *testing.T) {
	ctx := context.Background()
	dir := planSweep(t, "variance", "smoke")
	if code, _, errs := runCLI(ctx, "sweep", "local", dir, "--jobs", "2"); code != 0 {
		t.Fatalf("sweep local: exit %d: %s", code, errs)
	}
	if code, out, _ := runCLI(ctx, "sweep", "status", dir); code != 0 || !strings.HasPrefix(out, "all 6 cells done") {
		t.Errorf("sweep status: exit %d: %q", code, out)
	}
	if code, _, errs := runCLI(ctx, "sweep", "collect", dir); code != 0 {
		t.Fatalf("sweep collect: exit %d: %s", code, errs)
	}
	ref := t.TempDir()
	if code, _, errs := runCLI(ctx, "reproduce", "variance", "--scale", "smoke", "-q", "--out", ref); code != 0 {
		t.Fatalf("reproduce: exit %d: %s", code, errs)
	}
	a, _ := os.ReadFile(filepath.Join(ref, "variance", "metrics.json"))
	b, err := os.ReadFile(filepath.Join(dir, "runs", "variance", "metrics.json"))
	if err != nil || len(a) == 0 || !bytes.Equal(a, b) {
		t.Errorf("collected metrics.json differs from reproduce's (%d and %d bytes, %v)", len(b), len(a), err)
	}
}

// TestSweepBadInput: each mistake is one line on stderr, exit status 2, and
// leaves the cell's result as it was.
func TestSweepBadInput(t *testing.T) {
	ctx := context.Background()
	dir := planSweep(t, "rank", "smoke")
	if code, _, errs := runCLI(ctx, "sweep", "run", dir, "--index", "0"); code != 0 {
		t.Fatalf("sweep run: exit %d: %s", code, errs)
	}
	first, n := planCell(t, dir, 0)
	result := func() string { return cellResult(t, dir, first.ID) }
	want := result()
	copyPlan := func(t *testing.T, edit func(dir string)) string {
		d := filepath.Join(t.TempDir(), "plan")
		if err := os.CopyFS(d, os.DirFS(dir)); err != nil {
			t.Fatal(err)
		}
		edit(d)
		return d
	}
	replace := func(file, old, new string) func(string) {
		return func(d string) {
			b, _ := os.ReadFile(filepath.Join(d, file))
			if !strings.Contains(string(b), old) {
				t.Fatalf("%s lacks %q", file, old)
			}
			os.WriteFile(filepath.Join(d, file), []byte(strings.Replace(string(b), old, new, 1)), 0o644)
		}
	}
	for _, tc := range []struct {
		name string
		edit func(string) // of a copy of the plan; nil: the plan itself
		args []string     // DIR is replaced by the plan folder
		env  []string
		want string
	}{
		{"another format", replace(sweep.PlanFile, sweep.Format, "flowlab-sweep/0"), []string{"sweep", "run", "DIR", "--index", "0"}, nil, "format"},
		{"config changed", replace(sweep.CellsFile, `"seed":1`, `"seed":2`), []string{"sweep", "run", "DIR", "--index", "0"}, nil, "records another config"},
		{"cell changed", func(d string) {
			replace(sweep.CellsFile, `"source_rank":16`, `"source_rank":17`)(d)
			os.RemoveAll(filepath.Join(d, sweep.CellsDir))
		}, []string{"sweep", "run", "DIR", "--index", "0"}, nil, "no longer matches"},
		{"index out of range", nil, []string{"sweep", "run", "DIR", "--index", strconv.Itoa(n)}, nil, "out of range"},
		{"array index out of range", nil, []string{"sweep", "run", "DIR"}, []string{"SLURM_ARRAY_TASK_ID=99"}, "out of range"},
		{"bad array index", nil, []string{"sweep", "run", "DIR"}, []string{"JOB_COMPLETION_INDEX=x"}, "JOB_COMPLETION_INDEX"},
		{"no index", nil, []string{"sweep", "run", "DIR"}, nil, "no cell index"},
		{"plan over a plan", nil, []string{"sweep", "plan", "rank", "--scale", "smoke", "--out", "DIR"}, nil, "already holds a plan"},
		{"unknown experiment", nil, []string{"sweep", "plan", "nope", "--scale", "smoke", "--out", "DIR/x"}, nil, "unknown experiment"},
		{"no sbatch", nil, []string{"sweep", "slurm", "DIR"}, []string{"PATH=" + t.TempDir()}, "sbatch"},
		{"not a plan", func(d string) { os.Remove(filepath.Join(d, sweep.PlanFile)) }, []string{"sweep", "status", "DIR"}, nil, "holds no plan.json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := dir
			if tc.edit != nil {
				d = copyPlan(t, tc.edit)
			}
			for _, kv := range append([]string{"SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX"}, tc.env...) {
				k, v, set := strings.Cut(kv, "=")
				if set {
					t.Setenv(k, v)
				} else {
					t.Setenv(k, "")
					os.Unsetenv(k)
				}
			}
			args := make([]string, len(tc.args))
			for i, a := range tc.args {
				args[i] = strings.Replace(a, "DIR", d, 1)
			}
			code, _, errs := runCLI(ctx, args...)
			if code != 2 || !oneErrorLine(errs, tc.want) {
				t.Errorf("exit %d, stderr %q; want 2 and one line with %q", code, errs, tc.want)
			}
		})
	}
	if got := result(); got != want {
		t.Error("a refused command changed the cell's result")
	}
}

// TestSweepCellBusy: a second process on a running cell is refused (exit
// 2) and runs nothing.
func TestSweepCellBusy(t *testing.T) {
	dir := planSweep(t, "rank", "smoke")
	c, _ := planCell(t, dir, 0)
	cdir := sweep.CellDir(dir, c)
	os.MkdirAll(cdir, 0o755)
	unlock, err := dirlock.LockNamed(cdir, sweep.LockFile)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	code, _, errs := runCLI(context.Background(), "sweep", "run", dir, "--index", "0")
	if code != 2 || !oneErrorLine(errs, "another process") {
		t.Errorf("exit %d, stderr %q; want 2 and one line saying another process runs it", code, errs)
	}
	if _, err := os.Stat(filepath.Join(cdir, experiment.ResultFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the refused run wrote a result (%v)", err)
	}
}

// TestSweepCellSIGKILL: flowlab sweep run killed with SIGKILL while its
// cell trains leaves no result and no lock; run again, the cell finishes
// with the result, bit for bit, of a run that was never interrupted (the
// cell starts over: experiments train in memory, without checkpoints).
func TestSweepCellSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a quick-scale cell three times")
	}
	ctx := context.Background()
	ref := planSweep(t, "rank", "quick")
	// A cell of the short recipe: seconds of training.
	index, id := -1, ""
	for i := 0; index < 0; i++ {
		c, n := planCell(t, ref, i)
		if strings.Contains(string(c.Config), `"recipe":"short"`) {
			index, id = i, c.ID
		} else if i == n-1 {
			t.Fatal("no cell of the short recipe in the quick rank plan")
		}
	}
	if code, _, errs := runCLI(ctx, "sweep", "run", ref, "--index", strconv.Itoa(index)); code != 0 {
		t.Fatalf("reference: exit %d: %s", code, errs)
	}
	dir := planSweep(t, "rank", "quick")
	cdir := filepath.Join(dir, sweep.CellsDir, id)
	cmd, _ := child(t, 0, "sweep", "run", dir, "--index", strconv.Itoa(index))
	// cell.json is written under the cell's lock just before measuring.
	deadline := time.Now().Add(time.Minute)
	for _, err := os.Stat(filepath.Join(cdir, sweep.CellFile)); err != nil; _, err = os.Stat(filepath.Join(cdir, sweep.CellFile)) {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("the cell did not start within a minute")
		}
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(time.Second)
	cmd.Process.Signal(syscall.SIGKILL)
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || !ee.Sys().(syscall.WaitStatus).Signaled() {
		t.Fatalf("the child was not killed mid-cell (%v): the cell finished too fast to test anything", err)
	}
	if _, err := os.Stat(filepath.Join(cdir, experiment.ResultFile)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a killed cell left a result (%v)", err)
	}
	if code, out, _ := runCLI(ctx, "sweep", "status", dir); code != 0 || !strings.Contains(out, fmt.Sprintf("missing  %4d %s", index, id)) {
		t.Errorf("status after the kill: exit %d:\n%s", code, out)
	}
	if code, out, errs := runCLI(ctx, "sweep", "run", dir, "--index", strconv.Itoa(index)); code != 0 || !strings.Contains(out, ": done") {
		t.Fatalf("rerun: exit %d: %s%s", code, out, errs)
	}
	if got, want := cellResult(t, dir, id), cellResult(t, ref, id); got != want {
		t.Errorf("the killed and rerun cell's result differs from the uninterrupted one (%d and %d bytes)", len(got), len(want))
	}
}
