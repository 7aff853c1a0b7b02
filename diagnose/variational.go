package diagnose

import (
	"github.com/flowlab/flowlab/mat"
	"github.com/flowlab/flowlab/solve"
)

// variational is the field of the variational equation: each row holds a
// point x and its flow map's Jacobian Φ = ∂x_t/∂x_{t0} (row-major D×D), and
// d/dt [x, Φ] = [v(x, t), J(x, t)·Φ] with J = ∂v/∂x. Integrating it with a
// solver carries Φ through the same steps (and stages) as x. Column j of J·Φ
// is the JVP of column j of Φ: one batched JVP of D rows per point.
type variational struct {
	f                 solve.JVPField
	d                 int
	xs, dx, out, dout mat.Dense
}

func (v *variational) Dim() int { return v.d + v.d*v.d }

func (v *variational) Eval(t float64, y, dy *mat.Dense) {
	d := v.d
	per := max(1, maxBatchRows/d)
	for p0 := 0; p0 < y.R; p0 += per {
		p1 := min(p0+per, y.R)
		rows := (p1 - p0) * d
		for _, m := range []*mat.Dense{&v.xs, &v.dx, &v.out, &v.dout} {
			m.Reshape(rows, d)
		}
		for p := p0; p < p1; p++ {
			yr := y.Row(p)
			phi := yr[d:]
			for j := 0; j < d; j++ {
				r := (p-p0)*d + j
				copy(v.xs.Row(r), yr[:d])
				dxr := v.dx.Row(r)
				for a := range dxr {
					dxr[a] = phi[a*d+j]
				}
			}
		}
		v.f.JVP(t, &v.xs, &v.dx, &v.out, &v.dout)
		for p := p0; p < p1; p++ {
			dyr := dy.Row(p)
			copy(dyr[:d], v.out.Row((p-p0)*d))
			dphi := dyr[d:]
			for j := 0; j < d; j++ {
				for a, val := range v.dout.Row((p-p0)*d + j) {
					dphi[a*d+j] = val
				}
			}
		}
	}
}

// augment returns the rows [x_i, I] of the variational equation's state.
func augment(x *mat.Dense) *mat.Dense {
	d := x.C
	y := mat.New(x.R, d+d*d)
	for i := 0; i < x.R; i++ {
		r := y.Row(i)
		copy(r, x.Row(i))
		for a := 0; a < d; a++ {
			r[d+a*d+a] = 1
		}
	}
	return y
}
