package metrics

import (
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/flowlab/flowlab/mat"
)

// Neighbours holds, for each query point, the Euclidean distances to its K
// nearest reference points in increasing order (ties broken by the
// reference's index), with reference points at distance exactly 0 (the query
// itself when the queries are drawn from the reference set, and duplicates)
// left out.
type Neighbours struct {
	K     int       // neighbours per query
	Dist  []float64 // N×K, row-major: Dist[i*K+j] is query i's (j+1)-th distance
	Index []int     // N×K: the reference rows the distances are to
}

// N returns the number of queries.
func (nb *Neighbours) N() int { return len(nb.Dist) / nb.K }

// Row returns query i's K distances.
func (nb *Neighbours) Row(i int) []float64 { return nb.Dist[i*nb.K : (i+1)*nb.K] }

// knnBlock sizes: queries and reference rows per float32 Gram block.
const (
	knnQueryBlock = 256
	knnRefBlock   = 2048
)

// NearestNeighbours returns the k nearest reference rows of every query row,
// by brute force. The squared distances ‖q‖² + ‖r‖² − 2q·r are screened with
// mat's float32 GEMM for the dot products (norms and the sum in float64), a
// short list of 2k+8 candidates is kept per query, and the candidates'
// distances are recomputed exactly in float64 from the float32 coordinates.
// The result is certified: GEMM's dot product is within γ_D‖q‖‖r‖ of the
// exact one (γ_D = D·u/(1−D·u), u = 2⁻²⁴, any summation order), so a
// reference row left off the list is at least the list's worst screened
// distance less that bound away; when that does not exceed the k-th exact
// distance (or the list holds fewer than k non-zero distances), the query is
// redone exactly in float64 against every reference row. Distances that are
// exactly 0 are skipped (see Neighbours). Results do not depend on GOMAXPROCS.
// It is an error when the widths differ, k < 1, or the reference set has
// fewer than k points at a non-zero distance from some query.
func NearestNeighbours(ctx context.Context, q, ref *mat.Dense, k int) (*Neighbours, error) {
	if q.C != ref.C {
		return nil, fmt.Errorf("metrics: nearest neighbours: queries have %d columns, the reference set %d", q.C, ref.C)
	}
	if k < 1 {
		return nil, fmt.Errorf("metrics: nearest neighbours: k = %d, want ≥ 1", k)
	}
	if ref.R < k {
		return nil, fmt.Errorf("metrics: nearest neighbours: k = %d but the reference set has %d points", k, ref.R)
	}
	qn, rn := rowSqNorms(q), rowSqNorms(ref)
	rmax := math.Sqrt(slices.Max(rn))
	d := float64(q.C)
	u := math.Ldexp(1, -24)
	gamma := d * u / (1 - d*u)
	nb := &Neighbours{K: k, Dist: make([]float64, q.R*k), Index: make([]int, q.R*k)}
	keep := min(2*k+8, ref.R)
	gram := mat.New(knnQueryBlock, knnRefBlock)
	lists := make([]candList, knnQueryBlock)
	for i0 := 0; i0 < q.R; i0 += knnQueryBlock {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		i1 := min(i0+knnQueryBlock, q.R)
		for i := range lists[:i1-i0] {
			lists[i].reset(keep)
		}
		for j0 := 0; j0 < ref.R; j0 += knnRefBlock {
			j1 := min(j0+knnRefBlock, ref.R)
			g := &mat.Dense{R: i1 - i0, C: j1 - j0, Data: gram.Data[:(i1-i0)*(j1-j0)]}
			mat.Gemm(false, true, 1, q.Rows(i0, i1), ref.Rows(j0, j1), 0, g)
			parallelRows(i1-i0, func(i int) {
				row := g.Data[i*g.C : (i+1)*g.C]
				for j, dot := range row {
					lists[i].offer(qn[i0+i]+rn[j0+j]-2*float64(dot), j0+j)
				}
			})
		}
		found := make([]bool, i1-i0)
		parallelRows(i1-i0, func(i int) {
			qi := i0 + i
			dst, idx := nb.Dist[qi*k:(qi+1)*k], nb.Index[qi*k:(qi+1)*k]
			slack := 2*gamma*math.Sqrt(qn[qi])*rmax + 4*epsilon64*(qn[qi]+rmax*rmax)
			found[i] = lists[i].finish(q.Row(qi), ref, slack, dst, idx) || bruteNeighbours(q.Row(qi), ref, dst, idx)
		})
		if i := slices.Index(found, false); i >= 0 {
			return nil, fmt.Errorf("metrics: nearest neighbours: query %d has fewer than %d reference points at a non-zero distance", i0+i, k)
		}
	}
	return nb, nil
}

// epsilon64 is float64's unit roundoff.
const epsilon64 = 0x1p-53

// rowSqNorms returns ‖row‖² of every row, in float64.
func rowSqNorms(x *mat.Dense) []float64 {
	out := make([]float64, x.R)
	for i := range out {
		var s float64
		for _, v := range x.Row(i) {
			s += float64(v) * float64(v)
		}
		out[i] = s
	}
	return out
}

// exactSq returns ‖a − b‖² in float64.
func exactSq(a, b []float32) float64 {
	var s float64
	for j, v := range a {
		e := float64(v) - float64(b[j])
		s += e * e
	}
	return s
}

// candList keeps the cap smallest screened squared distances offered to it,
// sorted by (distance, index).
type candList struct {
	d   []float64
	idx []int
	cap int
}

func (c *candList) reset(n int) {
	c.d, c.idx, c.cap = c.d[:0], c.idx[:0], n
}

func (c *candList) offer(d float64, j int) {
	n := len(c.d)
	if n == c.cap && d >= c.d[n-1] {
		return
	}
	p := n
	for p > 0 && c.d[p-1] > d {
		p--
	}
	if n < c.cap {
		c.d, c.idx = append(c.d, 0), append(c.idx, 0)
	} else {
		n--
	}
	copy(c.d[p+1:n+1], c.d[p:n])
	copy(c.idx[p+1:n+1], c.idx[p:n])
	c.d[p], c.idx[p] = d, j
}

// finish recomputes the candidates' distances exactly, writes the k smallest
// non-zero ones into dist and idx, and reports whether that is certainly the
// answer: every row off the list was screened at ≥ the list's worst, so its
// exact squared distance is ≥ worst − slack.
func (c *candList) finish(qrow []float32, ref *mat.Dense, slack float64, dist []float64, idx []int) bool {
	full := len(c.d) == c.cap && c.cap < ref.R
	worst := c.d[len(c.d)-1]
	type cand struct {
		d float64
		j int
	}
	cs := make([]cand, 0, len(c.d))
	for _, j := range c.idx {
		if e := exactSq(qrow, ref.Row(j)); e > 0 {
			cs = append(cs, cand{e, j})
		}
	}
	k := len(dist)
	if len(cs) < k {
		return false
	}
	slices.SortFunc(cs, func(a, b cand) int {
		if a.d != b.d {
			if a.d < b.d {
				return -1
			}
			return 1
		}
		return a.j - b.j
	})
	if full && !(worst-slack > cs[k-1].d) {
		return false
	}
	for i := range dist {
		dist[i], idx[i] = math.Sqrt(cs[i].d), cs[i].j
	}
	return true
}

// bruteNeighbours finds the k = len(dist) nearest non-zero distances of qrow
// to every reference row exactly in float64; false when there are fewer
// than k.
func bruteNeighbours(qrow []float32, ref *mat.Dense, dist []float64, idx []int) bool {
	var c candList
	c.reset(len(dist))
	for j := 0; j < ref.R; j++ {
		if e := exactSq(qrow, ref.Row(j)); e > 0 {
			c.offer(e, j)
		}
	}
	if len(c.d) < len(dist) {
		return false
	}
	for i := range dist {
		dist[i], idx[i] = math.Sqrt(c.d[i]), c.idx[i]
	}
	return true
}
