package nn

import (
	"runtime"
	"sync/atomic"
	"time"
)

// pool is a set of persistent worker goroutines that run a net's parallel
// jobs (Eval's chunks, Grad's shards and their reduction). Starting a
// goroutine per job costs a thread wake-up on another core, comparable to a
// tiny net's whole training step on one shard; a
// worker that has just finished a job instead waits for the next one by
// polling an atomic for up to spinFor (yielding to other goroutines as it
// goes), and only then parks on a channel of its own, so that a job wakes
// just the workers it needs. The workers reference only the pool, never the
// Net: when the Net becomes unreachable a cleanup stops them.
//
// A job's task must not panic: a panic on a worker goroutine ends the
// program, and one on the caller's leaves the pool mid-job.
type pool struct {
	gen     atomic.Uint64 // job number<<16 | its goroutines; a new value publishes a job
	pending atomic.Int64  // workers still running the current job
	quit    atomic.Bool
	alive   atomic.Int32 // running worker goroutines (for tests)
	task    func(w int)  // the current job, as goroutine w runs it
	ws      []*poolWorker
}

// poolWorker is a worker's parking place: parked is set while it waits (or
// is about to wait) on wake, and whoever clears it from true sends the one
// token that releases it.
type poolWorker struct {
	parked atomic.Bool
	wake   chan struct{} // capacity 1
}

// spinFor is how long an idle worker polls for the next job before parking:
// longer than the serial part of a training step (optimizer, data), short
// enough that an idle net gives its core back at once in human terms.
const spinFor = 100 * time.Microsecond

func newPool() *pool { return &pool{ws: []*poolWorker{nil}} } // ws[0]: the caller

// run runs task(0), ..., task(k−1), task(0) on the calling goroutine and the
// others on workers, and returns when all are done.
func (p *pool) run(k int, task func(w int)) {
	if k <= 1 {
		task(0)
		return
	}
	k = min(k, 1<<16-1)
	for len(p.ws) < k {
		pw := &poolWorker{wake: make(chan struct{}, 1)}
		p.ws = append(p.ws, pw)
		p.alive.Add(1)
		go p.worker(len(p.ws)-1, pw, p.gen.Load())
	}
	p.task = task
	p.pending.Store(int64(k - 1))
	p.gen.Store((p.gen.Load()>>16+1)<<16 | uint64(k)) // publishes task and pending
	for _, pw := range p.ws[1:k] {
		pw.release()
	}
	task(0)
	for i := 0; p.pending.Load() != 0; i++ {
		if i > 1000 {
			runtime.Gosched()
		}
	}
	p.task = nil // do not keep the job's data alive
}

// release wakes the worker if it is parked.
func (pw *poolWorker) release() {
	if pw.parked.CompareAndSwap(true, false) {
		pw.wake <- struct{}{}
	}
}

// worker is goroutine w of every job of more than w goroutines.
func (p *pool) worker(w int, pw *poolWorker, seen uint64) {
	defer p.alive.Add(-1)
	for {
		start := time.Now()
		for i := 0; p.gen.Load() == seen && !p.quit.Load(); i++ {
			if i&1023 != 1023 {
				continue
			}
			if time.Since(start) <= spinFor {
				// Let other goroutines have the core meanwhile (several
				// nets training at once, as the experiments run them).
				runtime.Gosched()
				continue
			}
			pw.parked.Store(true)
			if p.gen.Load() != seen || p.quit.Load() {
				// A job (or stop) came in meanwhile: unpark ourselves, or,
				// if its publisher got there first, take its token.
				if !pw.parked.CompareAndSwap(true, false) {
					<-pw.wake
				}
				break
			}
			<-pw.wake
			start = time.Now()
		}
		if p.quit.Load() {
			return
		}
		seen = p.gen.Load()
		if w < int(seen&(1<<16-1)) {
			p.task(w)
			p.pending.Add(-1)
		}
	}
}

// stop ends the workers.
func (p *pool) stop() {
	p.quit.Store(true)
	for _, pw := range p.ws[1:] {
		pw.release()
	}
}
