package sweep

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
)

// Local runs every cell of the plan in dir that is not done, jobs at a time
// (at least one), the largest estimated cost first (index order among equal
// costs), so that a long cell does not start last; a cell that needs others
// (Cell.Needs) starts once they are done. A failed cell does not stop the
// others (those that need it are not run); the error lists every failure.
// progress (may be nil) gets a line per cell.
func Local(ctx context.Context, dir string, p *Plan, r Runner, jobs int, progress io.Writer) error {
	jobs = max(1, jobs)
	type result struct {
		i   int
		out Outcome
		err error
	}
	work, results := make(chan int), make(chan result)
	var wg sync.WaitGroup
	for range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				out, err := RunCell(ctx, dir, p, i, r)
				results <- result{i, out, err}
			}
		}()
	}
	say := func(i int, format string, args ...any) {
		if progress != nil {
			fmt.Fprintf(progress, "cell %d/%d %s: "+format+"\n", append([]any{i + 1, len(p.Cells), p.Cells[i].ID}, args...)...)
		}
	}
	left := make([]int, len(p.Cells))
	for i := range left {
		left[i] = i
	}
	slices.SortStableFunc(left, func(a, b int) int { return cmp.Compare(p.Cells[b].Cost, p.Cells[a].Cost) })
	const (
		pending = iota
		ok
		failed
	)
	state := make([]int, len(p.Cells))
	var errs []error
	// needs returns where cell i's needs stand: failed (and the failed
	// cell) when one failed, else pending when one is not done, else ok.
	needs := func(i int) (int, int) {
		st := ok
		for _, j := range p.Cells[i].Needs {
			if state[j] == failed {
				return failed, j
			}
			if state[j] == pending {
				st = pending
			}
		}
		return st, -1
	}
	// next returns the place in left of the first cell whose needs are all
	// done, -1 when none is; it drops the cells whose needs failed.
	next := func() int {
		for k := 0; k < len(left); {
			switch st, j := needs(left[k]); st {
			case ok:
				return k
			case failed:
				i := left[k]
				errs = append(errs, fmt.Errorf("cell %d (%s): not run: it needs cell %d (%s), which failed", i, p.Cells[i].ID, j, p.Cells[j].ID))
				say(i, "not run: cell %d failed", j+1)
				left = slices.Delete(left, k, k+1)
				continue
			}
			k++
		}
		return -1
	}
	running := 0
	for {
		k := -1
		if ctx.Err() == nil {
			k = next()
		}
		if k < 0 && running == 0 {
			break
		}
		var send chan int
		var i int
		if k >= 0 {
			send, i = work, left[k]
		}
		done := ctx.Done() // wakes the loop to stop sending; nil once it has
		if ctx.Err() != nil {
			done = nil
		}
		select {
		case send <- i:
			left = slices.Delete(left, k, k+1)
			running++
		case res := <-results:
			running--
			switch {
			case res.err != nil:
				state[res.i] = failed
				errs = append(errs, res.err)
				say(res.i, "failed: %v", res.err)
			case res.out == Skipped:
				state[res.i] = ok
				say(res.i, "already done")
			default:
				state[res.i] = ok
				say(res.i, "done")
			}
		case <-done:
		}
	}
	close(work)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// ErrNotDone is wrapped by Collect's error when cells are not finished.
var ErrNotDone = errors.New("sweep has unfinished cells")

// Collect checks that every cell of the plan in dir is done and has r write
// the experiments' outputs under out.
func Collect(ctx context.Context, dir string, p *Plan, r Runner, out string) error {
	st, err := Status(dir, p)
	if err != nil {
		return err
	}
	if left := Indices(st, Missing, Running, Failed); len(left) > 0 {
		return fmt.Errorf("%w: %d of %d cells are not done (indices %s); run them (flowlab sweep status %s)",
			ErrNotDone, len(left), len(p.Cells), ArrayList(left), dir)
	}
	return r.Collect(ctx, p, func(c Cell) string { return CellDir(dir, c) }, out)
}
