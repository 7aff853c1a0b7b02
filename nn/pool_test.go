package nn

import (
	"math/rand/v2"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// TestPoolRunsEachTaskOnce runs jobs of varying widths on one pool, some
// right after each other (workers still spinning) and some after a pause
// longer than spinFor (workers parked): every goroutine index of every job
// must run exactly once, and run must not return before all have.
func TestPoolRunsEachTaskOnce(t *testing.T) {
	p := newPool()
	defer p.stop()
	var counts [8]atomic.Int64
	for job, k := range []int{2, 4, 3, 2, 1, 5, 2, 4} {
		if job%3 == 2 {
			time.Sleep(3 * spinFor)
		}
		for i := range counts {
			counts[i].Store(0)
		}
		p.run(k, func(w int) {
			time.Sleep(time.Duration(w) * 100 * time.Microsecond) // late finishers
			counts[w].Add(1)
		})
		for w := range counts {
			want := int64(0)
			if w < k {
				want = 1
			}
			if got := counts[w].Load(); got != want {
				t.Fatalf("job %d (k=%d): task %d ran %d times, want %d", job, k, w, got, want)
			}
		}
	}
}

// TestPoolStopsWithNet: a net's pool workers exit once the net is garbage.
func TestPoolStopsWithNet(t *testing.T) {
	old := runtime.GOMAXPROCS(2)
	defer runtime.GOMAXPROCS(old)
	var p *pool
	func() {
		n := mustNew(t, Config{Dim: 2, Hidden: []int{8}}, 1)
		x, _ := randBatch(rand.New(rand.NewPCG(1, 2)), 3*512, 2)
		n.Eval(0.5, x, x.Clone()) // starts a worker
		p = n.pool
		if p == nil || p.alive.Load() != 1 {
			t.Fatal("Eval on two cores started no pool worker")
		}
	}()
	deadline := time.Now().Add(10 * time.Second)
	for p.alive.Load() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d pool workers still running 10 s after the net became garbage", p.alive.Load())
		}
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
}
