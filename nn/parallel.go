package nn

import (
	"fmt"
	"runtime"

	"github.com/flowlab/flowlab/mat"
)

// timeColumn returns the net's length-B time buffer filled with t.
func (n *Net) timeColumn(b int, t float64) []float32 {
	if cap(n.tbuf) < b {
		n.tbuf = make([]float32, b)
	}
	n.tbuf = n.tbuf[:b]
	for i := range n.tbuf {
		n.tbuf[i] = float32(t)
	}
	return n.tbuf
}

// evalChunk returns the number of rows Eval hands to one worker at a time:
// 512, or 256 when a layer is wider than 512 (so that a chunk's widest
// activation stays under about 1 MiB, in L2 with its neighbours; narrower
// nets keep 512 rows, which keep the micro-kernels busier).
// It depends on the net's shape alone, never on GOMAXPROCS, so that every
// row goes through the same kernels whatever the thread count: Eval's bits
// do not depend on GOMAXPROCS. Small enough that 10000 points make 20 or 40
// chunks, which two or three workers share evenly; large enough that a
// chunk's products keep the micro-kernels busy (docs/PERFORMANCE.md).
func (n *Net) evalChunk() int {
	widest := max(n.cfg.InputDim(), n.cfg.OutDim())
	for _, w := range n.cfg.Hidden { // may be empty
		widest = max(widest, w)
	}
	if widest > 512 {
		return 256
	}
	return 512
}

// Eval writes v(x, t) for every row of x into out (the same shape), with one
// time t for the whole batch. With Dim it makes a Net a solve.Field.
//
// A batch of more than 512 rows (256 for a net with a layer wider than 512)
// is cut into fixed chunks of that many rows (the last one ragged), each
// evaluated as Forward would evaluate it alone; up to GOMAXPROCS workers
// take the chunks concurrently, each with buffers of its own (created on
// first use and kept for later calls), sharing the net's parameters (and
// each layer's Wᵀ, packed once per call), and each running its products on
// its own goroutine (one level of parallelism, not two). The chunking does not depend on GOMAXPROCS, so
// neither do the result's bits. Like every method, Eval is not safe for
// concurrent use of one Net.
func (n *Net) Eval(t float64, x, out *mat.Dense) {
	if out.R != x.R || out.C != x.C {
		panic(fmt.Sprintf("nn: Eval shapes: x %s, out %s", x.Shape(), out.Shape()))
	}
	n.evalRows(t, x, out, 0)
}

// EulerStep advances every row of x by one Euler step of the field, x +=
// h·v(x, t), with one time t for the whole batch (solve.EulerStepper, which
// solve.Integrate's Euler method uses). The bits are those of Eval into a
// buffer followed by x[i] += float32(h)·v[i] (product rounded, then the
// sum); it is faster for a large batch because each chunk's update is
// applied while the chunk's output is in cache, and v is never written out
// (docs/PERFORMANCE.md).
func (n *Net) EulerStep(t, h float64, x *mat.Dense) {
	n.evalRows(t, x, nil, float32(h))
}

// evalRows is Eval into out, or, when out is nil, EulerStep with step h.
func (n *Net) evalRows(t float64, x, out *mat.Dense, h float32) {
	rows := n.evalChunk()
	if x.R <= rows {
		n.fillInput(x, nil, n.timeColumn(x.R, t))
		if out != nil {
			n.forwardTo(out, nil)
		} else {
			addScaled(x.Data, h, n.forwardTo(nil, nil).Data)
		}
		return
	}
	if x.C != n.cfg.Dim {
		panic(fmt.Sprintf("nn: input x %s: want B×%d", x.Shape(), n.cfg.Dim))
	}
	chunks := (x.R + rows - 1) / rows
	k := min(runtime.GOMAXPROCS(0), chunks)
	n.evalWorkers = n.grow(n.evalWorkers, k, false)
	n.job = job{kind: evalJob, x: x, out: out, h: h, t: n.timeColumn(rows, t), items: chunks, chunk: rows, packs: n.packWeights()}
	n.runJob(k)
}

// addScaled sets y += h·v element by element, the product rounded before
// the sum: the arithmetic of solve's Euler update, so that EulerStep has its
// bits. (The conversion forbids fusing the two into an FMA, which the
// compiler may otherwise do for one loop and not the other, e.g. with
// GOAMD64=v3.)
func addScaled(y []float32, h float32, v []float32) {
	v = v[:len(y)]
	for i := range y {
		y[i] += float32(h * v[i])
	}
}

// grow returns pool extended to at least k worker nets: nets sharing n's
// parameters that run every mat call on their own goroutine
// (mat.Threads(1)), with gradients of their own when ownGrads (training
// shards) or shared with n (Eval's workers, which never touch them).
func (n *Net) grow(pool []*Net, k int, ownGrads bool) []*Net {
	for len(pool) < k {
		var grads []float32
		if ownGrads {
			grads = make([]float32, len(n.params))
		} else {
			grads = n.grads
		}
		w, err := newNetOn(n.cfg, n.params, grads)
		if err != nil {
			panic("nn: worker of an invalid net: " + err.Error())
		}
		w.th = 1
		pool = append(pool, w)
	}
	return pool
}

// job is the parallel work in progress on a net's workers (Eval's chunks,
// Grad's shards, or the sum of the shards' gradients), which they take in
// turn from the counter next.
type job struct {
	kind   int        // evalJob, gradJob or reduceJob
	x, out *mat.Dense // evalJob: out nil for EulerStep, which updates x
	h      float32    // EulerStep's step
	t      []float32
	packs  []mat.Packed // evalJob, gradJob: the layers' Wᵀ, packed once for all items
	loss   LossFunc
	items  int              // chunks, shards or blocks of parameters
	chunk  int              // evalJob: rows per chunk; reduceJob: parameters per block
	update func(lo, hi int) // reduceJob: applied to each block once summed (nil for none)
	shards int              // gradJob, reduceJob: the number of shards
}

const (
	evalJob = iota
	gradJob
	reduceJob
)

// runJob runs n.job on k goroutines (the caller's and k−1 of the net's
// pool) and returns when every item is done.
func (n *Net) runJob(k int) {
	n.next.Store(0)
	if k > 1 && n.pool == nil {
		n.pool = newPool()
		n.workFn = n.work
		runtime.AddCleanup(n, func(p *pool) { p.stop() }, n.pool)
	}
	if k > 1 {
		n.pool.run(k, n.workFn)
	} else {
		n.work(0)
	}
	n.job.x, n.job.out, n.job.t, n.job.loss, n.job.packs, n.job.update = nil, nil, nil, nil, nil, nil // do not keep the caller's data alive
}

// work takes items of n.job until none is left. w is the goroutine's number
// (it names Eval's worker net; Grad's shards have one each).
func (n *Net) work(w int) {
	j := &n.job
	for {
		i := int(n.next.Add(1)) - 1
		if i >= j.items {
			return
		}
		switch j.kind {
		case evalJob:
			n.evalItem(n.evalWorkers[w], i)
		case gradJob:
			n.gradItem(i)
		case reduceJob:
			n.reduceItem(i)
		}
	}
}

// evalItem evaluates chunk i of an evalJob on worker net.
func (n *Net) evalItem(net *Net, i int) {
	j := &n.job
	d := j.x.C
	r0 := i * j.chunk
	r1 := min(r0+j.chunk, j.x.R)
	net.xv = mat.Dense{R: r1 - r0, C: d, Data: j.x.Data[r0*d : r1*d]}
	net.labels = n.labelRows(r0, r1)
	net.fillInput(&net.xv, nil, j.t[:r1-r0])
	if j.out == nil {
		// EulerStep: the chunk's rows of x were copied into the input
		// above, so they can be updated now.
		addScaled(net.xv.Data, j.h, net.forwardTo(nil, j.packs).Data)
	} else {
		oc := j.out.C // Dim, or OutDim for Apply
		net.ov = mat.Dense{R: r1 - r0, C: oc, Data: j.out.Data[r0*oc : r1*oc]}
		net.forwardTo(&net.ov, j.packs)
	}
	net.xv, net.ov = mat.Dense{}, mat.Dense{}
}

// gradItem runs shard i of a gradJob: forward, loss and backward into the
// shard's own gradient.
func (n *Net) gradItem(i int) {
	j := &n.job
	net, d := n.shards[i], j.x.C
	r0, r1 := i*j.x.R/j.items, (i+1)*j.x.R/j.items
	net.xv = mat.Dense{R: r1 - r0, C: d, Data: j.x.Data[r0*d : r1*d]}
	net.labels = n.labelRows(r0, r1)
	net.fillInput(&net.xv, nil, j.t[r0:r1])
	out := net.forwardTo(nil, j.packs) // Forward's bits
	net.gOut.Reshape(out.R, out.C)
	n.shardLoss[i] = j.loss(r0, out, net.gOut)
	net.ZeroGrad()
	net.Backward(net.gOut, false)
	net.xv = mat.Dense{}
}

// reduceItem adds block i of the shards' gradients into n's, as
// grads += ((g_0 + g_1) + g_2) + ..., element by element in shard order,
// then applies the job's update to the block while it is in cache.
func (n *Net) reduceItem(i int) {
	j := &n.job
	lo, hi := i*j.chunk, min((i+1)*j.chunk, len(n.params))
	// ColSumAdd of one row is dst[k] += row[k], vectorised.
	acc := n.shards[0].grads[lo:hi]
	for _, sh := range n.shards[1:j.shards] {
		mat.ColSumAdd(&mat.Dense{R: 1, C: len(acc), Data: sh.grads[lo:hi]}, acc)
	}
	mat.ColSumAdd(&mat.Dense{R: 1, C: len(acc), Data: acc}, n.grads[lo:hi])
	if j.update != nil {
		j.update(lo, hi)
	}
}

// LossFunc computes a loss on rows [r0, r0+out.R) of a batch from the net's
// output for those rows, writes dLoss/dout into g (out's shape) and returns
// the loss. Net.Grad calls it concurrently on disjoint rows.
type LossFunc func(r0 int, out, g *mat.Dense) float64

// A training batch of B rows is cut into shards of nearly equal size, each
// worked by its own worker net on one goroutine: one shard per shardRows
// rows, at most maxShards, and at least two once there are shardRows rows
// (so that a small net's batch of shardRows rows is shared by two cores;
// larger shards pay less per row for the gradient sums). The count depends on B
// alone, never on GOMAXPROCS, so the gradient's bits do not either.
const (
	shardRows = 256
	maxShards = 8
)

// shardCount returns the number of shards for a batch of b rows.
func shardCount(b int) int {
	return min(maxShards, max(b/shardRows, min(2, b/(shardRows/2)), 1))
}

// Grad evaluates the net on the batch x (times t), lets loss turn the output
// into dLoss/dv, and adds the parameter gradient into Grads (as Backward
// does); it returns the summed loss. A batch of 256 rows or more is cut into
// fixed shards (see shardCount) that up to GOMAXPROCS goroutines work at
// once, one level of parallelism, each shard into a gradient of its own; the
// shards' gradients and losses are then added in shard order. For a batch of
// fewer rows, Grad is Forward, loss and Backward on the calling net. loss is
// called concurrently on disjoint rows and must not panic. Grad leaves the
// net's Forward results undefined: call Forward before a Backward or JVP that
// needs them.
func (n *Net) Grad(x *mat.Dense, t []float32, loss LossFunc) float64 {
	return n.GradUpdate(x, t, loss, nil)
}

// GradUpdate is Grad followed by update(lo, hi) on blocks [lo, hi) of the
// parameters that together cover them once, lo a multiple of 16: an
// optimizer step (optim.BlockStepper) applied while the gradient is in
// cache. With several shards each block is summed and then updated by the
// same worker, the blocks shared among the net's workers, so that the step
// runs on every core instead of after Grad on one (for a small net the step
// is a sizeable part of the whole); update must therefore be safe
// to call concurrently on disjoint blocks. A nil update makes it Grad.
func (n *Net) GradUpdate(x *mat.Dense, t []float32, loss LossFunc, update func(lo, hi int)) float64 {
	if len(t) != x.R {
		panic(fmt.Sprintf("nn: Grad: x %s, %d times", x.Shape(), len(t)))
	}
	s := shardCount(x.R)
	if s == 1 {
		out := n.Forward(x, t)
		n.gOut.Reshape(out.R, out.C)
		l := loss(0, out, n.gOut)
		n.Backward(n.gOut, false)
		if update != nil {
			update(0, len(n.params))
		}
		return l
	}
	if x.C != n.cfg.Dim {
		panic(fmt.Sprintf("nn: input x %s: want B×%d", x.Shape(), n.cfg.Dim))
	}
	n.shards = n.grow(n.shards, s, true)
	if cap(n.shardLoss) < s {
		n.shardLoss = make([]float64, s)
	}
	// The shards share the layers' packed Wᵀ, packed once rather than once
	// per shard.
	n.job = job{kind: gradJob, x: x, t: t, loss: loss, items: s, shards: s, packs: n.packWeights()}
	n.runJob(min(runtime.GOMAXPROCS(0), s))
	bs := reduceBlock(len(n.params))
	blocks := (len(n.params) + bs - 1) / bs
	n.job = job{kind: reduceJob, items: blocks, chunk: bs, shards: s, update: update}
	n.runJob(min(runtime.GOMAXPROCS(0), blocks))
	var l float64
	for _, v := range n.shardLoss[:s] {
		l += v
	}
	return l
}

// reduceChunk is the largest number of parameters in a block of Grad's
// reduction, reduceMin the smallest (but for the last).
const (
	reduceChunk = 1 << 15
	reduceMin   = 1 << 10
)

// reduceBlock returns the number of parameters in each block of Grad's
// reduction (the last may be shorter) for a net of p parameters: at least
// four blocks where that leaves each reduceMin or more, so that a small
// net's sum and optimizer step are shared among the cores too, and a
// multiple of 16, so that every block but the last is whole vectors (an
// element's bits then do not depend on its block). Summing is element by
// element, so the blocks do not change the gradient's bits either.
func reduceBlock(p int) int {
	b := (p + 3) / 4
	b = (b + 15) &^ 15
	return min(max(b, reduceMin), reduceChunk)
}
