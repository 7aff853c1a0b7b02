package sweep

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/flowlab/flowlab/internal/dirlock"
)

// The files a cell folder holds beside the Runner's own.
const (
	CellFile   = "cell.json"   // the Cell as planned, written when it first runs
	DoneFile   = "done.json"   // written last: the cell is finished
	FailedFile = "failed.json" // the error of the last attempt
	LockFile   = ".cell.lock"  // the cell's lock; a Runner's own locks (train.Run's) are apart
)

// ErrCellBusy is wrapped by RunCell's error when another process holds the
// cell's lock.
var ErrCellBusy = errors.New("cell is being run by another process")

// ErrNotReady is wrapped by RunCell's error when a cell that the cell
// needs (Cell.Needs) is not done.
var ErrNotReady = errors.New("cell needs cells that are not done")

// An Input is a finished cell that another cell reads: its plan entry and
// its folder.
type Input struct {
	Cell Cell
	Dir  string
}

// A Runner runs cells and collects them: the experiments behind a plan.
type Runner interface {
	// RunCell runs c in its folder dir (which exists), writing its results
	// there; inputs are the finished cells that c.Needs names, in that
	// order. A Runner that checkpoints continues an interrupted cell.
	RunCell(ctx context.Context, c Cell, dir string, inputs []Input) error
	// Collect writes the experiments' outputs under out from the finished
	// cells of p, whose folders CellDir names.
	Collect(ctx context.Context, p *Plan, cellDir func(Cell) string, out string) error
}

// CellDir is the folder of cell c in the plan folder dir.
func CellDir(dir string, c Cell) string {
	return filepath.Join(dir, CellsDir, filepath.FromSlash(c.ID))
}

// Done is what done.json holds.
type Done struct {
	ID     string `json:"id"`
	Digest string `json:"config_sha256"`
}

// Outcome says what RunCell did.
type Outcome int

// The outcomes of RunCell.
const (
	Ran     Outcome = iota // the cell ran to the end
	Skipped                // it was already done
)

// RunCell runs cell index of the plan in dir with r, under the cell's lock:
// a finished cell is skipped, a cell folder that records another config is
// refused, a cell whose needed cells are not all done is refused (wrapping
// ErrNotReady, nothing written), and an error is recorded in failed.json
// and returned.
func RunCell(ctx context.Context, dir string, p *Plan, index int, r Runner) (Outcome, error) {
	if index < 0 || index >= len(p.Cells) {
		return 0, fmt.Errorf("%w: index %d is out of range: %s has cells 0 to %d", ErrPlan, index, dir, len(p.Cells)-1)
	}
	c := p.Cells[index]
	cdir := CellDir(dir, c)
	inputs, err := inputsOf(dir, p, c)
	if err != nil {
		return 0, err
	}
	if err := os.MkdirAll(cdir, 0o755); err != nil {
		return 0, err
	}
	unlock, err := lockCell(ctx, cdir)
	if err != nil {
		if errors.Is(err, dirlock.ErrLocked) {
			return 0, fmt.Errorf("cell %d (%s): %w: %w", index, c.ID, ErrCellBusy, err)
		}
		return 0, err
	}
	defer unlock()
	if err := checkCellFile(cdir, c); err != nil {
		return 0, err
	}
	if done, err := isDone(cdir, c); err != nil || done {
		return Skipped, err
	}
	os.Remove(filepath.Join(cdir, FailedFile))
	if err := runCell(ctx, c, cdir, inputs, r); err != nil {
		if ctx.Err() == nil {
			writeJSON(filepath.Join(cdir, FailedFile), map[string]string{"id": c.ID, "error": err.Error()})
		}
		return 0, fmt.Errorf("cell %d (%s): %w", index, c.ID, err)
	}
	return Ran, writeJSON(filepath.Join(cdir, DoneFile), Done{ID: c.ID, Digest: c.Digest()})
}

// lockCell takes the cell's lock, waiting up to two seconds while another
// process holds it: Status takes each cell's lock for a moment to tell a
// running cell, and a task that starts then must not fail for it.
func lockCell(ctx context.Context, cdir string) (func() error, error) {
	for try := 0; ; try++ {
		unlock, err := dirlock.LockNamed(cdir, LockFile)
		if err == nil || !errors.Is(err, dirlock.ErrLocked) || try == 20 {
			return unlock, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// runCell calls r.RunCell, turning a panic into an error so that one broken
// cell does not take the other workers of a local sweep down with it.
func runCell(ctx context.Context, c Cell, cdir string, inputs []Input, r Runner) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("panic: %v", v)
		}
	}()
	return r.RunCell(ctx, c, cdir, inputs)
}

// inputsOf returns the cells that c needs, refusing (ErrNotReady) when one
// is not done.
func inputsOf(dir string, p *Plan, c Cell) ([]Input, error) {
	var in []Input
	var left []int
	for _, j := range c.Needs {
		n := p.Cells[j]
		d := CellDir(dir, n)
		if done, err := isDone(d, n); err != nil {
			return nil, err
		} else if !done {
			left = append(left, j)
		}
		in = append(in, Input{Cell: n, Dir: d})
	}
	if len(left) > 0 {
		return nil, fmt.Errorf("cell %d (%s): %w: it reads cells %s; run those first (flowlab sweep local and sweep slurm order them)",
			c.Index, c.ID, ErrNotReady, ArrayList(left))
	}
	return in, nil
}

// checkCellFile refuses a folder whose cell.json records another cell or
// config, and writes cell.json into a new one.
func checkCellFile(cdir string, c Cell) error {
	path := filepath.Join(cdir, CellFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return writeJSON(path, c)
	}
	if err != nil {
		return err
	}
	var old Cell
	if err := json.Unmarshal(b, &old); err != nil {
		return fmt.Errorf("%w: %s: %v (remove the cell's folder to run it again)", ErrPlan, path, err)
	}
	if old.ID != c.ID || old.Experiment != c.Experiment || old.Digest() != c.Digest() {
		return fmt.Errorf("%w: %s records another config than the plan's cell %d (%s): the plan changed after this cell ran; plan into a new folder, or remove %s",
			ErrPlan, path, c.Index, c.ID, cdir)
	}
	return nil
}

// isDone reports whether done.json says the cell ran with its config.
func isDone(cdir string, c Cell) (bool, error) {
	b, err := os.ReadFile(filepath.Join(cdir, DoneFile))
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	var d Done
	if err := json.NewDecoder(bytes.NewReader(b)).Decode(&d); err != nil || d.ID != c.ID || d.Digest != c.Digest() {
		return false, fmt.Errorf("%w: %s does not match cell %s: remove the cell's folder to run it again", ErrPlan, filepath.Join(cdir, DoneFile), c.ID)
	}
	return true, nil
}
