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
// costs), so that a long cell does not start last. A failed cell does not stop the others;
// the error lists every failure. progress (may be nil) gets a line per cell.
func Local(ctx context.Context, dir string, p *Plan, r Runner, jobs int, progress io.Writer) error {
	jobs = max(1, jobs)
	next := make(chan int)
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
	)
	say := func(format string, args ...any) {
		if progress != nil {
			mu.Lock()
			fmt.Fprintf(progress, format+"\n", args...)
			mu.Unlock()
		}
	}
	for range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				out, err := RunCell(ctx, dir, p, i, r)
				switch {
				case err != nil:
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
					say("cell %d/%d %s: failed: %v", i+1, len(p.Cells), p.Cells[i].ID, err)
				case out == Skipped:
					say("cell %d/%d %s: already done", i+1, len(p.Cells), p.Cells[i].ID)
				default:
					say("cell %d/%d %s: done", i+1, len(p.Cells), p.Cells[i].ID)
				}
			}
		}()
	}
	order := make([]int, len(p.Cells))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(p.Cells[b].Cost, p.Cells[a].Cost) })
feed:
	for _, i := range order {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
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
