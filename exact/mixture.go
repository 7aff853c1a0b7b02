package exact

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/flowlab/flowlab/mat"
)

// MixtureField is the exact velocity field v(x, t) = E[x1 − x0 | x_t = x] of
// the linear interpolant x_t = (1−t)·x0 + t·x1 (independent coupling, γ = 0)
// from the isotropic Gaussian source N(0, Var0·I) to the mixture
// Σ_k Weights[k]·N(Means[k], Vars[k]·I). Given component k, x_t is
// N(t·μ_k, s_k²·I) with s_k² = (1−t)²σ0² + t²σ_k², and the field is the
// posterior-weighted sum of the component fields
//
//	v_k(x, t) = μ_k + (t·σ_k² − (1−t)·σ0²)/s_k² · (x − t·μ_k),
//	v = Σ_k r_k(x)·v_k,   r_k ∝ w_k·N(x; t·μ_k, s_k²·I).
//
// It implements solve.Field (float64 arithmetic, float32 storage).
type MixtureField struct {
	Var0    float64
	Means   [][]float64
	Vars    []float64
	Weights []float64
}

// NewMixtureField checks the parameters (same dimension for every mean,
// positive variances, non-negative weights with a positive sum; weights are
// normalised) and returns the field. weights may be nil for equal weights.
func NewMixtureField(var0 float64, means [][]float64, vars, weights []float64) (*MixtureField, error) {
	k := len(means)
	if k == 0 || len(vars) != k || (weights != nil && len(weights) != k) {
		return nil, fmt.Errorf("exact: mixture has %d means, %d variances, %d weights", k, len(vars), len(weights))
	}
	if !(var0 > 0) || math.IsInf(var0, 0) {
		return nil, fmt.Errorf("exact: source variance %v must be > 0", var0)
	}
	d := len(means[0])
	if d == 0 {
		return nil, fmt.Errorf("exact: mixture means have dimension 0")
	}
	w := make([]float64, k)
	var tot float64
	for i := range means {
		if len(means[i]) != d {
			return nil, fmt.Errorf("exact: mixture mean %d has dimension %d, mean 0 has %d", i, len(means[i]), d)
		}
		for _, v := range means[i] {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("exact: mixture mean %d is not finite", i)
			}
		}
		if !(vars[i] > 0) || math.IsInf(vars[i], 0) {
			return nil, fmt.Errorf("exact: mixture variance %d = %v must be > 0", i, vars[i])
		}
		w[i] = 1
		if weights != nil {
			w[i] = weights[i]
			if !(w[i] >= 0) || math.IsInf(w[i], 0) {
				return nil, fmt.Errorf("exact: mixture weight %d = %v must be ≥ 0", i, w[i])
			}
		}
		tot += w[i]
	}
	if !(tot > 0) {
		return nil, fmt.Errorf("exact: mixture weights sum to %v", tot)
	}
	for i := range w {
		w[i] /= tot
	}
	return &MixtureField{Var0: var0, Means: means, Vars: vars, Weights: w}, nil
}

// EightGaussians returns the field from N(0, I_2) to torchcfm's "8 gaussians":
// centres 5·(cos θ, sin θ) at θ = 0°, 45°, …, 315°, equal weights, and
// per-coordinate variance √0.1 (torchcfm passes √0.1 as a covariance, so the
// standard deviation is 0.1^¼ ≈ 0.562).
func EightGaussians() *MixtureField {
	means := make([][]float64, 8)
	vars := make([]float64, 8)
	for i := range means {
		s, c := math.Sincos(float64(i) * math.Pi / 4)
		means[i] = []float64{5 * c, 5 * s}
		vars[i] = math.Sqrt(0.1)
	}
	m, err := NewMixtureField(1, means, vars, nil)
	if err != nil {
		panic(err)
	}
	return m
}

// Dim returns the dimension.
func (m *MixtureField) Dim() int { return len(m.Means[0]) }

// Eval writes v(x, t) for every row of x into out.
func (m *MixtureField) Eval(t float64, x, out *mat.Dense) {
	d := m.Dim()
	if x.C != d || out.R != x.R || out.C != d {
		panic(fmt.Sprintf("exact: MixtureField.Eval: x %s, out %s for dimension %d", x.Shape(), out.Shape(), d))
	}
	k := len(m.Means)
	logr := make([]float64, k)
	row := make([]float64, d)
	acc := make([]float64, d)
	for r := 0; r < x.R; r++ {
		for j, v := range x.Row(r) {
			row[j] = float64(v)
		}
		m.eval(t, row, acc, logr)
		for j := range acc {
			out.Row(r)[j] = float32(acc[j])
		}
	}
}

// Velocity64 writes v(x, t) for one point x into dst (allocated when nil).
func (m *MixtureField) Velocity64(t float64, x, dst []float64) []float64 {
	if len(x) != m.Dim() {
		panic(fmt.Sprintf("exact: MixtureField.Velocity64: point of length %d for dimension %d", len(x), m.Dim()))
	}
	if dst == nil {
		dst = make([]float64, len(x))
	}
	m.eval(t, x, dst, make([]float64, len(m.Means)))
	return dst
}

func (m *MixtureField) eval(t float64, x, acc, r []float64) {
	m.posterior(t, x, r)
	clear(acc)
	for c, mu := range m.Means {
		w := r[c]
		if w == 0 {
			continue
		}
		slope := (t*m.Vars[c] - (1-t)*m.Var0) / m.s2(t, c)
		for j := range x {
			acc[j] += w * (mu[j] + slope*(x[j]-t*mu[j]))
		}
	}
}

// s2 is the variance s_c² = (1−t)²σ0² + t²σ_c² of x_t given component c.
func (m *MixtureField) s2(t float64, c int) float64 {
	return (1-t)*(1-t)*m.Var0 + t*t*m.Vars[c]
}

// logJoint sets logr[c] = log w_c + log N(x; t·μ_c, s_c²·I) + (d/2)·log 2π
// (the constant shared by every component left out) and returns the largest.
func (m *MixtureField) logJoint(t float64, x, logr []float64) float64 {
	d := float64(len(x))
	mx := math.Inf(-1)
	for c, mu := range m.Means {
		s2 := m.s2(t, c)
		var q float64
		for j := range x {
			e := x[j] - t*mu[j]
			q += e * e
		}
		logr[c] = math.Log(m.Weights[c]) - 0.5*d*math.Log(s2) - q/(2*s2)
		mx = math.Max(mx, logr[c])
	}
	return mx
}

// posterior sets r to the posterior component weights r_c(x) ∝ w_c·N(x; t·μ_c, s_c²·I).
func (m *MixtureField) posterior(t float64, x, r []float64) {
	mx := m.logJoint(t, x, r)
	var z float64
	for c := range r {
		r[c] = math.Exp(r[c] - mx)
		z += r[c]
	}
	for c := range r {
		r[c] /= z
	}
}

// SampleTarget fills dst with draws from the mixture (component by weight,
// then its Gaussian), row by row from rng.
func (m *MixtureField) SampleTarget(rng *rand.Rand, dst *mat.Dense) {
	if dst.C != m.Dim() {
		panic(fmt.Sprintf("exact: SampleTarget: dst %s for dimension %d", dst.Shape(), m.Dim()))
	}
	for r := 0; r < dst.R; r++ {
		u := rng.Float64()
		c := 0
		for ; c < len(m.Weights)-1; c++ {
			u -= m.Weights[c]
			if u < 0 {
				break
			}
		}
		sd := math.Sqrt(m.Vars[c])
		for j := range dst.Row(r) {
			dst.Row(r)[j] = float32(m.Means[c][j] + sd*rng.NormFloat64())
		}
	}
}

// LogDensity returns log p_t(x) of x_t's law, the mixture
// Σ_k w_k·N(t·μ_k, s_k²·I), at one point x.
func (m *MixtureField) LogDensity(t float64, x []float64) float64 {
	if len(x) != m.Dim() {
		panic(fmt.Sprintf("exact: MixtureField.LogDensity: point of length %d for dimension %d", len(x), m.Dim()))
	}
	terms := make([]float64, len(m.Means))
	mx := m.logJoint(t, x, terms)
	var sum float64
	for _, v := range terms {
		sum += math.Exp(v - mx)
	}
	return mx + math.Log(sum) - 0.5*float64(len(x))*math.Log(2*math.Pi)
}

// Score writes ∇log p_t(x) = Σ_k r_k(x)·(−(x − t·μ_k)/s_k²) for every row of
// x into out (r_k the posterior component weights).
func (m *MixtureField) Score(t float64, x, out *mat.Dense) {
	d := m.Dim()
	if x.C != d || out.R != x.R || out.C != d {
		panic(fmt.Sprintf("exact: MixtureField.Score: x %s, out %s for dimension %d", x.Shape(), out.Shape(), d))
	}
	r := make([]float64, len(m.Means))
	row := make([]float64, d)
	for i := 0; i < x.R; i++ {
		for j, v := range x.Row(i) {
			row[j] = float64(v)
		}
		m.posterior(t, row, r)
		or := out.Row(i)
		for j := range or {
			var s float64
			for c, mu := range m.Means {
				s -= r[c] * (row[j] - t*mu[j]) / m.s2(t, c)
			}
			or[j] = float32(s)
		}
	}
}

// ScoreField returns the score of x_t's law as a solve.Field.
func (m *MixtureField) ScoreField() *MixtureScore { return &MixtureScore{m} }

// MixtureScore is the score of a MixtureField's marginals, as a field.
type MixtureScore struct{ M *MixtureField }

// Dim returns the dimension.
func (s *MixtureScore) Dim() int { return s.M.Dim() }

// Eval writes the score at time t.
func (s *MixtureScore) Eval(t float64, x, out *mat.Dense) { s.M.Score(t, x, out) }
