package mat

import "runtime"

// chunkWork is the number of multiply-adds in one chunk of a parallel
// multiply: enough to make taking a chunk cheap beside doing it, few enough
// that each goroutine takes many.
const chunkWork = 2 << 20

// startHelpers starts the call's helper goroutines, when it has more than
// one. They live for the whole call and wait, spinning, between reduction
// blocks: waking a parked thread for every block would cost more than a
// small block's multiply.
func (j *gemmJob) startHelpers() {
	if j.threads <= 1 {
		return
	}
	j.stop.Store(false)
	j.ticket.Store(0)
	j.epoch = 0
	j.helpers.Add(j.threads - 1)
	for w := 1; w < j.threads; w++ {
		go j.helper(w)
	}
}

// stopHelpers ends the call's helper goroutines and waits for them.
func (j *gemmJob) stopHelpers() {
	if j.threads <= 1 {
		return
	}
	j.stop.Store(true)
	j.helpers.Wait()
}

// resetB readies the current block's B panels: unpacked, to be packed on
// demand, in groups, by whichever goroutine first needs them (see ensureB:
// no separate phase, no extra wait); or, when all of op(B) was packed
// beforehand, already packed at offset off of j.packed. It returns the
// offset of the next block's panels.
func (j *gemmJob) resetB(off int) int {
	st := unpacked
	if j.packed != nil {
		size := j.nPanels * j.g.nr * j.kb
		j.bbuf, st = j.packed[off:off+size], packed
		off += size
	}
	for i := range j.bstate[:ceilDiv(j.nPanels, packGroup)] {
		j.bstate[i].Store(int32(st))
	}
	return off
}

// chunks sets the chunk size of the current block's multiply and returns the
// number of chunks: row panels (or column panels) of about chunkWork
// multiply-adds each, many per goroutine, so that the wait for the last
// chunk at the end of the block is short and a goroutine that starts late
// does not hold the rest up. On one goroutine, one chunk.
func (j *gemmJob) chunks() int {
	q, per := j.mPanels, j.g.mr*j.nb*j.kb
	if j.splitCols {
		q, per = j.nPanels, j.m*j.g.nr*j.kb
	}
	j.chunk = min(max(1, chunkWork/per), ceilDiv(q, 2*j.threads), j.g.mcPanels)
	if j.threads == 1 {
		j.chunk = q
	}
	return ceilDiv(q, j.chunk)
}

// multiplyAll runs the current block's multiply split into n chunks, which
// the job's goroutines take in turn from a shared ticket until none is left
// (a goroutine that comes late just takes fewer), and returns when all are
// done. Which goroutine does a chunk never changes the arithmetic.
func (j *gemmJob) multiplyAll(n int) {
	j.nChunks.Store(int64(n))
	j.done.Store(0)
	j.epoch++
	j.ticket.Store(j.epoch << 32) // publishes the block to the helpers
	j.takeChunks(0, j.epoch)
	for j.done.Load() < int64(n) {
		runtime.Gosched()
	}
}

// takeChunks does chunks of block epoch e as goroutine w (w names its
// buffers) until none is left or the block is no longer e. A chunk is taken
// by advancing the ticket (epoch<<32 | next chunk) with a compare-and-swap,
// so that a goroutine still looking at an old block can never take a chunk of
// a new one; the block's parameters, written before its ticket was
// published, stay fixed until its last chunk is done.
func (j *gemmJob) takeChunks(w int, e int64) {
	for {
		v := j.ticket.Load()
		if v>>32 != e || v&(1<<32-1) >= j.nChunks.Load() {
			return
		}
		if !j.ticket.CompareAndSwap(v, v+1) {
			continue
		}
		c := int(v & (1<<32 - 1))
		if j.splitCols {
			j.prefetchNextB(c, int(j.nChunks.Load()))
		}
		q0 := c * j.chunk
		if j.splitCols {
			j.multiply(w, 0, j.mPanels, q0, min(q0+j.chunk, j.nPanels))
		} else {
			j.multiply(w, q0, min(q0+j.chunk, j.mPanels), 0, j.nPanels)
		}
		j.done.Add(1)
	}
}

// prefetchNextB asks for part `part` of `parts` of the next reduction
// block's B (its rows, spread evenly) to be brought into L2 while this block
// computes, so that packing the next block does not wait on memory. Only for
// a row-major B that is packed here (not read in place, not packed before),
// when there is a next block, and on several goroutines (on one it does not
// help).
func (j *gemmJob) prefetchNextB(part, parts int) {
	next := j.pc + j.kb
	if j.threads == 1 || j.tB || j.bInPlace || j.packed != nil || next >= j.k || j.g.kernel == Generic {
		return
	}
	kb := min(j.kcBlock, j.k-next)
	r0, r1 := part*kb/parts, (part+1)*kb/parts
	if r1 > r0 {
		prefetchB(j.b[(next+r0)*j.ldb+j.jc:], j.ldb, r1-r0, j.nb)
	}
}

// helper is goroutine w of a parallel call: it takes chunks of each block as
// it is published, until the call ends.
func (j *gemmJob) helper(w int) {
	defer j.helpers.Done()
	var seen int64
	for !j.stop.Load() {
		if e := j.ticket.Load() >> 32; e != seen {
			seen = e
			j.takeChunks(w, e)
			continue
		}
		runtime.Gosched()
	}
}

// packGroup is the number of B panels packed together (reading B's rows
// 4·nr elements at a time).
const packGroup = 4

// ensureB returns once B panel jp of the current block is packed. The first
// goroutine to need a group of panels packs it; one that finds it being
// packed packs a later group meanwhile, or yields.
func (j *gemmJob) ensureB(jp int) {
	gi := jp / packGroup
	st := &j.bstate[gi]
	for {
		switch st.Load() {
		case packed:
			return
		case unpacked:
			if st.CompareAndSwap(unpacked, packing) {
				j.packGroupB(gi)
				return
			}
		default:
			if !j.helpPackB(gi + 1) {
				runtime.Gosched()
			}
		}
	}
}

// helpPackB packs the first unclaimed group of B panels from group `from` on
// and reports whether there was one.
func (j *gemmJob) helpPackB(from int) bool {
	for gi := from; gi < ceilDiv(j.nPanels, packGroup); gi++ {
		if st := &j.bstate[gi]; st.Load() == unpacked && st.CompareAndSwap(unpacked, packing) {
			j.packGroupB(gi)
			return true
		}
	}
	return false
}

// packGroupB packs group gi of B panels, which the caller has claimed, and
// marks it packed (the atomic store publishes the packed data).
func (j *gemmJob) packGroupB(gi int) {
	p0 := gi * packGroup
	j.packB(p0, min(p0+packGroup, j.nPanels))
	j.bstate[gi].Store(packed)
}

// States of a group of B panels.
const (
	unpacked = iota
	packing
	packed
)
