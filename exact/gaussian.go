// Package exact holds closed forms used as oracles in tests and experiments,
// all computed in float64: the velocity field, flow map, score and least
// achievable loss of an interpolant between two Gaussians with diagonal
// covariances; the Chi law of Gaussian norms; and the exact velocity field for
// a Gaussian source and a Gaussian-mixture target.
package exact

import (
	"fmt"
	"math"

	"github.com/flowlab/flowlab/interp"
	"github.com/flowlab/flowlab/mat"
)

// GaussianField is the exact drift b(x, t) = E[ẋ_t | x_t = x] of an
// interpolant x_t = A·x0 + B·x1 + G·z between N(Mu0, diag Var0) and
// N(Mu1, diag Var1) with the independent coupling. Per dimension, with
//
//	m_t  = A·μ0 + B·μ1,   s_t² = A²σ0² + B²σ1² + G²,
//
// it is b = (DA·μ0 + DB·μ1) + (A·DA·σ0² + B·DB·σ1² + G·DG)/s_t² · (x − m_t);
// for the linear interpolant without noise this is
// v* = (μ1−μ0) + (tσ1² − (1−t)σ0²)/s_t² · (x − m_t).
//
// It implements solve.Field, solve.JVPField (Eval in float32 from a float64
// computation) and solve.Field64. Interp's zero value is the linear
// interpolant with γ = 0. One-sided paths are read as x0 ~ N(Mu0, Var0) with
// no extra latent.
type GaussianField struct {
	Mu0, Var0, Mu1, Var1 []float64
	Interp               interp.Interpolant
}

// NewGaussianField checks the moments (same length, all finite, variances
// ≥ 0 and not both zero in any dimension unless γ ≠ 0) and returns the field
// for interpolant ip. A zero source variance models a degenerate
// ("embedded", rank-deficient) source: in such a dimension the linear
// interpolant's field is v* = x/t, singular at t = 0, where Eval gives ±Inf
// or NaN and Flow from t = 0 is undefined.
func NewGaussianField(mu0, var0, mu1, var1 []float64, ip interp.Interpolant) (*GaussianField, error) {
	d := len(mu0)
	if d == 0 || len(var0) != d || len(mu1) != d || len(var1) != d {
		return nil, fmt.Errorf("exact: Gaussian moments have lengths %d, %d, %d, %d; want one positive length",
			len(mu0), len(var0), len(mu1), len(var1))
	}
	for i := 0; i < d; i++ {
		for _, v := range []float64{mu0[i], mu1[i], var0[i], var1[i]} {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("exact: Gaussian moment %v in dimension %d is not finite", v, i)
			}
		}
		if var0[i] < 0 || var1[i] < 0 {
			return nil, fmt.Errorf("exact: variances must be ≥ 0 (dimension %d: %v, %v)", i, var0[i], var1[i])
		}
		if var0[i] == 0 && var1[i] == 0 && ip.Gamma.Zero() {
			return nil, fmt.Errorf("exact: dimension %d has zero variance at both ends and no noise: its field is undefined", i)
		}
	}
	if err := ip.Validate(); err != nil {
		return nil, err
	}
	return &GaussianField{Mu0: mu0, Var0: var0, Mu1: mu1, Var1: var1, Interp: ip}, nil
}

// Isotropic returns the field for N(0, a·I_dim) → N(0, b·I_dim) under the
// linear interpolant without noise: v*(x,t) = (tb − (1−t)a)/((1−t)²a + t²b)·x.
// It panics unless dim > 0 and a, b > 0.
func Isotropic(dim int, a, b float64) *GaussianField {
	if dim <= 0 || !(a > 0) || !(b > 0) {
		panic(fmt.Sprintf("exact: Isotropic(%d, %v, %v): need dim > 0 and variances > 0", dim, a, b))
	}
	g := &GaussianField{Mu0: make([]float64, dim), Var0: make([]float64, dim),
		Mu1: make([]float64, dim), Var1: make([]float64, dim)}
	for i := 0; i < dim; i++ {
		g.Var0[i], g.Var1[i] = a, b
	}
	return g
}

// Dim returns the dimension.
func (g *GaussianField) Dim() int { return len(g.Mu0) }

// Marginal returns the mean and variance of x_t in dimension i.
func (g *GaussianField) Marginal(t float64, i int) (mean, variance float64) {
	c := g.Interp.Coeffs(t)
	return c.A*g.Mu0[i] + c.B*g.Mu1[i], c.A*c.A*g.Var0[i] + c.B*c.B*g.Var1[i] + c.G*c.G
}

// affine returns b(x, t) = off + slope·x in dimension i; c = Coeffs(t).
func (g *GaussianField) affine(t float64, c interp.Coeffs, i int) (off, slope float64) {
	m := c.A*g.Mu0[i] + c.B*g.Mu1[i]
	s2 := c.A*c.A*g.Var0[i] + c.B*c.B*g.Var1[i] + c.G*c.G
	// γγ' is finite even where γ' is not (Brownian γ at t = 0, 1).
	cov := c.A*c.DA*g.Var0[i] + c.B*c.DB*g.Var1[i] + g.Interp.Gamma.GammaDGamma(t)
	slope = cov / s2
	return c.DA*g.Mu0[i] + c.DB*g.Mu1[i] - slope*m, slope
}

// Eval64 writes b(x, t) for the flat row-major batch x into out.
func (g *GaussianField) Eval64(t float64, x, out []float64) {
	d := g.Dim()
	if len(x)%d != 0 || len(out) != len(x) {
		panic(fmt.Sprintf("exact: Eval64: %d inputs, %d outputs for dimension %d", len(x), len(out), d))
	}
	c := g.Interp.Coeffs(t)
	for i := 0; i < d; i++ {
		off, slope := g.affine(t, c, i)
		for r := i; r < len(x); r += d {
			out[r] = off + slope*x[r]
		}
	}
}

// Eval writes b(x, t) into out (float32 storage, float64 arithmetic).
func (g *GaussianField) Eval(t float64, x, out *mat.Dense) {
	g.check("Eval", x, out)
	g.apply(t, x, out, nil, nil)
}

// JVP writes b(x, t) into out and ∂b/∂x·dx (the Jacobian is diagonal) into dout.
func (g *GaussianField) JVP(t float64, x, dx, out, dout *mat.Dense) {
	g.check("JVP", x, out)
	g.check("JVP", dx, dout)
	if dx.R != x.R {
		panic(fmt.Sprintf("exact: JVP: x %s and dx %s differ", x.Shape(), dx.Shape()))
	}
	g.apply(t, x, out, dx, dout)
}

// apply writes b(x, t) into out and, when dx is not nil, slope·dx into dout.
func (g *GaussianField) apply(t float64, x, out, dx, dout *mat.Dense) {
	c := g.Interp.Coeffs(t)
	d := g.Dim()
	for i := 0; i < d; i++ {
		off, slope := g.affine(t, c, i)
		for r := i; r < len(x.Data); r += d {
			out.Data[r] = float32(off + slope*float64(x.Data[r]))
			if dx != nil {
				dout.Data[r] = float32(slope * float64(dx.Data[r]))
			}
		}
	}
}

// Divergence returns ∇·b(·, t), the same at every x: Σ_i slope_i.
func (g *GaussianField) Divergence(t float64) float64 {
	c := g.Interp.Coeffs(t)
	var s float64
	for i := 0; i < g.Dim(); i++ {
		_, slope := g.affine(t, c, i)
		s += slope
	}
	return s
}

func (g *GaussianField) check(op string, x, out *mat.Dense) {
	if x.C != g.Dim() || out.R != x.R || out.C != x.C {
		panic(fmt.Sprintf("exact: %s: x %s, out %s for a field of dimension %d", op, x.Shape(), out.Shape(), g.Dim()))
	}
}

// Flow maps x (one point, float64) from time t0 to t1 along the ODE of b:
// per dimension x ↦ m_{t1} + (s_{t1}/s_{t0})·(x − m_{t0}), the monotone map
// between the Gaussian marginals (the ODE is linear in x, so its flow is
// affine, and it carries N(m_{t0}, s_{t0}²) to N(m_{t1}, s_{t1}²)). It writes
// into dst (allocated when nil) and returns it. From 0 to 1 with the linear
// interpolant this is x ↦ μ1 + (σ1/σ0)·(x − μ0).
func (g *GaussianField) Flow(x []float64, t0, t1 float64, dst []float64) []float64 {
	d := g.Dim()
	if len(x) != d {
		panic(fmt.Sprintf("exact: Flow: point of length %d for dimension %d", len(x), d))
	}
	if dst == nil {
		dst = make([]float64, d)
	}
	for i := 0; i < d; i++ {
		m0, v0 := g.Marginal(t0, i)
		m1, v1 := g.Marginal(t1, i)
		dst[i] = m1 + math.Sqrt(v1/v0)*(x[i]-m0)
	}
	return dst
}

// Score writes ∇ log p_t(x) = −(x − m_t)/s_t² for x_t's Gaussian law into out.
func (g *GaussianField) Score(t float64, x, out *mat.Dense) {
	g.check("Score", x, out)
	d := g.Dim()
	for i := 0; i < d; i++ {
		m, v := g.Marginal(t, i)
		for r := i; r < len(x.Data); r += d {
			out.Data[r] = float32(-(float64(x.Data[r]) - m) / v)
		}
	}
}

// ScoreField returns the score ∇ log p_t as a solve.Field.
func (g *GaussianField) ScoreField() *ScoreField { return &ScoreField{g} }

// Evaluator is a field evaluated at one time for a whole batch: the method
// set of solve.Field, which exact does not import.
type Evaluator interface {
	Dim() int
	Eval(t float64, x, out *mat.Dense)
}

// AwayFromZero evaluates F at max(t, 1e-9). A GaussianField whose source
// has variance 0 in some directions (and its ScoreField) is x/t there: 0/0
// at t = 0, where the source puts x = 0, and 0 for every t > 0 at those
// points. Integrating from the source wants the value just after t = 0.
type AwayFromZero struct{ F Evaluator }

// Dim returns the dimension.
func (a AwayFromZero) Dim() int { return a.F.Dim() }

// Eval writes F(x, max(t, 1e-9)) into out.
func (a AwayFromZero) Eval(t float64, x, out *mat.Dense) { a.F.Eval(max(t, 1e-9), x, out) }

// ScoreField is the score of a GaussianField's marginals, as a field.
type ScoreField struct{ G *GaussianField }

// Dim returns the dimension.
func (s *ScoreField) Dim() int { return s.G.Dim() }

// Eval writes the score at time t.
func (s *ScoreField) Eval(t float64, x, out *mat.Dense) { s.G.Score(t, x, out) }

// LogDensity returns log p_t(x) for one point x under x_t's Gaussian law.
func (g *GaussianField) LogDensity(t float64, x []float64) float64 {
	d := g.Dim()
	if len(x) != d {
		panic(fmt.Sprintf("exact: LogDensity: point of length %d for dimension %d", len(x), d))
	}
	var lp float64
	for i := 0; i < d; i++ {
		m, v := g.Marginal(t, i)
		r := x[i] - m
		lp += -0.5*(math.Log(2*math.Pi*v)) - r*r/(2*v)
	}
	return lp
}

// LossFloorAt returns the least achievable value of E‖b(x_t,t) − ẋ_t‖² at time
// t (summed over dimensions): E[Var(ẋ_t | x_t)], which per dimension is
//
//	(DA²σ0² + DB²σ1² + DG²) − (A·DA·σ0² + B·DB·σ1² + G·DG)²/s_t²,
//
// the residual variance of ẋ_t after its regression on x_t (the pair is
// jointly Gaussian, so the regression is exact). For the linear interpolant
// without noise it simplifies to σ0²σ1²/s_t².
func (g *GaussianField) LossFloorAt(t float64) float64 {
	c := g.Interp.Coeffs(t)
	var sum float64
	for i := 0; i < g.Dim(); i++ {
		v0, v1 := g.Var0[i], g.Var1[i]
		s2 := c.A*c.A*v0 + c.B*c.B*v1 + c.G*c.G
		if g.Interp.Path == interp.Linear && g.Interp.Gamma.Zero() {
			if v0*v1 != 0 { // a degenerate end contributes nothing (ẋ_t is then a function of x_t)
				sum += v0 * v1 / s2 // the closed form, exact near cancellation
			}
			continue
		}
		cov := c.A*c.DA*v0 + c.B*c.DB*v1 + g.Interp.Gamma.GammaDGamma(t)
		vard := c.DA*c.DA*v0 + c.DB*c.DB*v1 + c.DG*c.DG
		sum += vard - cov*cov/s2
	}
	return sum
}

// LossFloor returns the least achievable flow-matching loss
// E_t E‖b(x_t,t) − ẋ_t‖², t ~ U[0,1], summed over dimensions. For the linear
// interpolant without noise it is the closed form (π/2)·Σ_i σ0_i·σ1_i:
// ∫₀¹ σ0²σ1²/((1−t)²σ0² + t²σ1²) dt = σ0σ1·(arctan(σ1/σ0) + arctan(σ0/σ1))
// = (π/2)·σ0σ1. Otherwise it integrates LossFloorAt numerically (adaptive
// Gauss–Kronrod-free composite Gauss–Legendre, 64 panels × 8 nodes); for the
// Brownian γ the integrand grows like 1/t at the ends and the floor is +Inf.
func (g *GaussianField) LossFloor() float64 {
	if g.Interp.Path == interp.Linear && g.Interp.Gamma.Zero() {
		var s float64
		for i := 0; i < g.Dim(); i++ {
			s += math.Sqrt(g.Var0[i] * g.Var1[i])
		}
		return math.Pi / 2 * s
	}
	if !g.Interp.Gamma.Zero() && g.Interp.Gamma.Shape == interp.Brownian {
		return math.Inf(1)
	}
	return Integrate(g.LossFloorAt, 0, 1, 64)
}

// Gauss–Legendre nodes and weights on [−1, 1], 8 points.
var (
	glX = [8]float64{-0.9602898564975363, -0.7966664774136267, -0.5255324099163290, -0.1834346424956498,
		0.1834346424956498, 0.5255324099163290, 0.7966664774136267, 0.9602898564975363}
	glW = [8]float64{0.1012285362903763, 0.2223810344533745, 0.3137066458778873, 0.3626837833783620,
		0.3626837833783620, 0.3137066458778873, 0.2223810344533745, 0.1012285362903763}
)

// Integrate returns ∫_a^b f(t) dt by composite 8-point Gauss–Legendre on
// `panels` equal panels (exact for polynomials of degree 15 per panel).
func Integrate(f func(float64) float64, a, b float64, panels int) float64 {
	if panels <= 0 {
		panels = 1
	}
	h := (b - a) / float64(panels)
	var s float64
	for p := 0; p < panels; p++ {
		mid := a + (float64(p)+0.5)*h
		for k := range glX {
			s += glW[k] * f(mid+glX[k]*h/2)
		}
	}
	return s * h / 2
}
