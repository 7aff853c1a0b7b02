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

// EulerStepper is a Field that takes a whole Euler step itself:
// EulerStep sets x += h·v(x, t) on every row of x, with the same bits as Eval
// into a buffer followed by x[i] += float32(float32(h)·v[i]) element by
// element (the product rounded, then the sum: no fused multiply-add).
// Integrate's Euler method uses it when the field has it: a network can apply
// the update to each block of rows while the block's output is in cache, and
// never write v out.
type EulerStepper interface {
	Field
	EulerStep(t, h float64, x *mat.Dense)
}

// JVPField is a Field that can also push a tangent through itself:
// JVP writes v(x, t) into out and the directional derivative ∂v/∂x·dx into dout.
// Exact divergences are computed from it.
type JVPField interface {
	Field
	JVP(t float64, x, dx, out, dout *mat.Dense)
}
