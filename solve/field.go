// Package solve integrates velocity fields: ODE solvers forward (t: 0→1) and
// backward (t: 1→0), SDE samplers for stochastic interpolants, divergences and
// log-likelihoods.
package solve

import "github.com/flowlab/flowlab/mat"

// Field is a time-dependent vector field v(x, t) on R^Dim, evaluated on a batch:
// each row of x is one point, and Eval writes v(row, t) into the same row of
// out. out has x's shape and does not alias x.
type Field interface {
	Dim() int
	Eval(t float64, x, out *mat.Dense)
}

// JVPField is a Field that can also push a tangent through itself:
// JVP writes v(x, t) into out and the directional derivative ∂v/∂x·dx into dout.
// Exact divergences are computed from it.
type JVPField interface {
	Field
	JVP(t float64, x, dx, out, dout *mat.Dense)
}
