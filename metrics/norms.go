package metrics

import (
	"fmt"
	"math"

	"github.com/flowlab/flowlab/mat"
)

// Norms returns ‖x_i‖ for every row of x, in float64.
func Norms(x *mat.Dense) []float64 {
	out := make([]float64, x.R)
	for i := range out {
		var s float64
		for _, v := range x.Row(i) {
			s += float64(v) * float64(v)
		}
		out[i] = math.Sqrt(s)
	}
	return out
}

// NormStats are the mean and standard deviation (n − 1 in the denominator)
// of the row norms of a sample.
type NormStats struct {
	Mean float64 `json:"mean"`
	SD   float64 `json:"sd"`
	N    int     `json:"n"`
}

// NormStatsOf returns the norm statistics of the rows of x; SD is 0 for a
// single row. It panics on an empty sample.
func NormStatsOf(x *mat.Dense) NormStats {
	if x.R == 0 {
		panic(fmt.Sprintf("metrics: NormStatsOf of an empty sample %s", x.Shape()))
	}
	nr := Norms(x)
	var m float64
	for _, v := range nr {
		m += v
	}
	m /= float64(len(nr))
	var ss float64
	for _, v := range nr {
		ss += (v - m) * (v - m)
	}
	sd := 0.0
	if len(nr) > 1 {
		sd = math.Sqrt(ss / float64(len(nr)-1))
	}
	return NormStats{Mean: m, SD: sd, N: len(nr)}
}

// Modes is the result of ModeCoverage.
type Modes struct {
	Counts   []int   `json:"counts"`    // points within Radius of each centre (nearest centre wins)
	Covered  int     `json:"covered"`   // centres holding at least MinShare of all points
	InRadius float64 `json:"in_radius"` // share of all points within Radius of some centre
	Radius   float64 `json:"radius"`
	MinShare float64 `json:"min_share"`
}

// ModeCoverage assigns each point of a 2-D (or any-D) sample to its nearest
// centre and counts it when it lies within radius of it; a mode is covered
// when it holds at least minShare of all the points. For the 8 gaussians
// with per-coordinate std σ, radius 3σ and minShare 1/(8·4) (a quarter of a
// mode's fair share) are sensible choices. It panics when a centre's
// dimension differs from x's.
func ModeCoverage(x *mat.Dense, centres [][]float64, radius, minShare float64) Modes {
	for k, c := range centres {
		if len(c) != x.C {
			panic(fmt.Sprintf("metrics: ModeCoverage: centre %d has dimension %d, sample is %s", k, len(c), x.Shape()))
		}
	}
	m := Modes{Counts: make([]int, len(centres)), Radius: radius, MinShare: minShare}
	in := 0
	p := make([]float64, x.C)
	for i := 0; i < x.R; i++ {
		for j, v := range x.Row(i) {
			p[j] = float64(v)
		}
		best, bd := -1, math.Inf(1)
		for k, c := range centres {
			if d := sqdist(p, c); d < bd {
				best, bd = k, d
			}
		}
		if best >= 0 && bd <= radius*radius {
			m.Counts[best]++
			in++
		}
	}
	for _, c := range m.Counts {
		if x.R > 0 && float64(c) >= minShare*float64(x.R) {
			m.Covered++
		}
	}
	if x.R > 0 {
		m.InRadius = float64(in) / float64(x.R)
	}
	return m
}
