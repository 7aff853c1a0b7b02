package nn

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// pool is a set of persistent worker goroutines that run a net's parallel
// jobs (Eval's chunks, Grad's shards and their reduction). Starting a
// goroutine per job costs a thread wake-up on another core, tens of µs on
// this VM, as much as a tiny net's whole training step on one shard; a
// worker that has just finished a job instead waits for the next one by
// spinning on an atomic for up to spinFor, and only then parks on a
// condition variable. The workers reference only the pool, never the Net:
// when the Net becomes unreachable a cleanup stops them.
type pool struct {
	gen     atomic.Uint64 // job number<<16 | its goroutines; a new value publishes a job
	pending atomic.Int64  // workers still running the current job
	quit    atomic.Bool
	alive   atomic.Int32 // running worker goroutines (for tests)
	task    func(w int)  // the current job, as goroutine w runs it

	mu       sync.Mutex
	cond     sync.Cond
	sleepers int // parked workers (under mu)
	workers  int // started workers (goroutines 1..workers)
}

// spinFor is how long an idle worker polls for the next job before parking:
// longer than the serial part of a training step (optimizer, data), short
// enough that an idle net gives its core back at once in human terms.
const spinFor = 100 * time.Microsecond

func newPool() *pool {
	p := &pool{}
	p.cond.L = &p.mu
	return p
}

// run runs task(0), ..., task(k−1), task(0) on the calling goroutine and the
// others on workers, and returns when all are done.
func (p *pool) run(k int, task func(w int)) {
	if k <= 1 {
		task(0)
		return
	}
	k = min(k, 1<<16-1)
	for p.workers < k-1 {
		p.workers++
		p.alive.Add(1)
		go p.worker(p.workers, p.gen.Load())
	}
	p.task = task
	p.pending.Store(int64(k - 1))
	p.gen.Store((p.gen.Load()>>16+1)<<16 | uint64(k)) // publishes task and pending
	p.mu.Lock()
	if p.sleepers > 0 {
		p.cond.Broadcast()
	}
	p.mu.Unlock()
	task(0)
	for i := 0; p.pending.Load() != 0; i++ {
		if i > 1000 {
			runtime.Gosched()
		}
	}
	p.task = nil // do not keep the job's data alive
}

// worker is goroutine w of every job of more than w goroutines.
func (p *pool) worker(w int, seen uint64) {
	defer p.alive.Add(-1)
	for {
		start := time.Now()
		for i := 0; p.gen.Load() == seen; i++ {
			if i&1023 == 1023 && time.Since(start) > spinFor {
				p.mu.Lock()
				p.sleepers++
				for p.gen.Load() == seen && !p.quit.Load() {
					p.cond.Wait()
				}
				p.sleepers--
				p.mu.Unlock()
			}
			if p.quit.Load() {
				return
			}
		}
		seen = p.gen.Load()
		if p.quit.Load() {
			return
		}
		if w < int(seen&(1<<16-1)) {
			p.task(w)
			p.pending.Add(-1)
		}
	}
}

// stop ends the workers.
func (p *pool) stop() {
	p.quit.Store(true)
	p.mu.Lock()
	p.cond.Broadcast()
	p.mu.Unlock()
}
