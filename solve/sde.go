package solve

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/flowlab/flowlab/mat"
)

// SDEMethod names an SDE integrator.
type SDEMethod string

// The SDE integrators: Euler–Maruyama (strong order ½, weak order 1) and the
// stochastic Heun predictor–corrector for additive noise (weak order 2 in the
// drift; both share one Gaussian increment per step).
const (
	EulerMaruyama SDEMethod = "euler-maruyama"
	SDEHeun       SDEMethod = "heun"
)

// ParseSDEMethod reads an SDE integrator name: euler-maruyama (aliases em,
// euler) or heun.
func ParseSDEMethod(name string) (SDEMethod, error) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "euler-maruyama", "em", "euler", "eulermaruyama":
		return EulerMaruyama, nil
	case "heun":
		return SDEHeun, nil
	}
	return "", fmt.Errorf("solve: unknown SDE solver %q (want euler-maruyama or heun)", name)
}

// SDEOptions configures IntegrateSDE.
type SDEOptions struct {
	// Method is the integrator (default Euler–Maruyama).
	Method SDEMethod
	// Steps is the number of uniform steps (> 0).
	Steps int
	// Backward integrates from t = 1 to 0.
	Backward bool
	// Start and End override the interval when either is non-zero (End <
	// Start is backward). Scores s = −η/γ are singular where γ = 0, so a
	// stochastic interpolant is usually sampled on [δ, 1−δ] or with an ε(t)
	// that vanishes at the ends.
	Start, End float64
	// Eps is the diffusion coefficient ε(t) ≥ 0 (nil: 0, the probability-flow
	// ODE integrated with Euler or Heun steps).
	Eps func(t float64) float64
	// Record keeps a copy of the state at the start and after every step.
	Record bool
}

// EpsConst returns ε(t) = e for every t.
func EpsConst(e float64) func(float64) float64 { return func(float64) float64 { return e } }

// IntegrateSDE integrates, in place on every row of x, the SDE of a stochastic
// interpolant with drift b and score s:
//
//	forward  (t increasing):  dX = (b + ε(t)·s) dt + √(2ε(t)) dW
//	backward (t decreasing):  dX = (b − ε(t)·s) dt + √(2ε(t)) dW̄
//
// Both keep the interpolant's marginals for every ε ≥ 0 (the ε·s drift cancels
// the diffusion's spreading in the Fokker–Planck equation); noise without the
// score term does not. Noise is drawn from rng in row-major order, one
// N(0, I) vector per step, so the same seed gives the same bits. score may be
// nil only when ε ≡ 0; the score is not evaluated at times where ε(t) = 0.
func IntegrateSDE(ctx context.Context, drift, score Field, x *mat.Dense, rng *rand.Rand, opts SDEOptions) (Result, error) {
	if x.C != drift.Dim() {
		panic(fmt.Sprintf("solve: IntegrateSDE: x is %s but the drift has dimension %d", x.Shape(), drift.Dim()))
	}
	if score != nil && score.Dim() != drift.Dim() {
		panic(fmt.Sprintf("solve: IntegrateSDE: score has dimension %d, drift %d", score.Dim(), drift.Dim()))
	}
	var res Result
	method := opts.Method
	if method == "" {
		method = EulerMaruyama
	}
	if method != EulerMaruyama && method != SDEHeun {
		return res, fmt.Errorf("solve: unknown SDE solver %q (want euler-maruyama or heun)", string(method))
	}
	if opts.Steps <= 0 {
		return res, fmt.Errorf("solve: the SDE needs a step count > 0, got %d", opts.Steps)
	}
	t0, t1 := 0.0, 1.0
	if opts.Start != 0 || opts.End != 0 {
		t0, t1 = opts.Start, opts.End
	} else if opts.Backward {
		t0, t1 = 1, 0
	}
	if math.IsNaN(t0) || math.IsNaN(t1) || math.IsInf(t0, 0) || math.IsInf(t1, 0) {
		return res, fmt.Errorf("solve: interval [%v, %v] is not finite", t0, t1)
	}
	eps := opts.Eps
	if eps == nil {
		eps = EpsConst(0)
	}
	sign := 1.0
	if t1 < t0 {
		sign = -1
	}
	if rng == nil {
		return res, fmt.Errorf("solve: the SDE needs a random source")
	}
	n := len(x.Data)
	d1, d2 := mat.New(x.R, x.C), mat.New(x.R, x.C)
	sb := mat.New(x.R, x.C)
	xi := make([]float32, n)
	pred := mat.New(x.R, x.C)
	// D(x, t) = b(x, t) + sign·ε(t)·s(x, t), written into out.
	driftAt := func(t float64, y, out *mat.Dense) error {
		res.NFE++
		drift.Eval(t, y, out)
		e := eps(t)
		if !(e >= 0) || math.IsInf(e, 0) {
			return fmt.Errorf("solve: ε(%v) = %v must be a finite number ≥ 0", t, e)
		}
		if e == 0 {
			return nil
		}
		if score == nil {
			return fmt.Errorf("solve: ε(%v) = %v > 0 needs a score field", t, e)
		}
		score.Eval(t, y, sb)
		c := float32(sign * e)
		for i, v := range sb.Data {
			out.Data[i] += c * v
		}
		return nil
	}
	if opts.Record {
		res.Times = append(res.Times, t0)
		res.Path = append(res.Path, x.Clone())
	}
	steps := opts.Steps
	t := t0
	for k := 1; k <= steps; k++ {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		next := t0 + (t1-t0)*float64(k)/float64(steps)
		if k == steps {
			next = t1
		}
		h := next - t
		ah := math.Abs(h)
		for i := range xi {
			xi[i] = float32(rng.NormFloat64())
		}
		if err := driftAt(t, x, d1); err != nil {
			return res, err
		}
		sig0 := float32(math.Sqrt(2 * eps(t) * ah))
		hh := float32(h)
		switch method {
		case EulerMaruyama:
			for i := range x.Data {
				x.Data[i] += hh*d1.Data[i] + sig0*xi[i]
			}
		case SDEHeun:
			for i := range x.Data {
				pred.Data[i] = x.Data[i] + hh*d1.Data[i] + sig0*xi[i]
			}
			if err := driftAt(next, pred, d2); err != nil {
				return res, err
			}
			sig1 := float32(math.Sqrt(2 * eps(next) * ah))
			half := hh / 2
			sig := (sig0 + sig1) / 2
			for i := range x.Data {
				x.Data[i] += half*(d1.Data[i]+d2.Data[i]) + sig*xi[i]
			}
		}
		t = next
		res.Steps++
		if opts.Record {
			res.Times = append(res.Times, t)
			res.Path = append(res.Path, mat.NewFrom(x.R, x.C, slices.Clone(x.Data)))
		}
	}
	return res, nil
}

// ScoreFromDenoiser turns a denoiser η(x, t) ≈ E[z | x_t = x] into the score
// s = −η/γ(t), where gamma is the coefficient of the latent in x_t
// (interp.Interpolant.NoiseScale). Where γ(t) = 0 the score is undefined and
// Eval writes NaN; choose ε(t) = 0 there.
func ScoreFromDenoiser(eta Field, gamma func(t float64) float64) Field {
	return &denoiserScore{eta: eta, gamma: gamma}
}

type denoiserScore struct {
	eta   Field
	gamma func(float64) float64
}

func (s *denoiserScore) Dim() int { return s.eta.Dim() }

func (s *denoiserScore) Eval(t float64, x, out *mat.Dense) {
	s.eta.Eval(t, x, out)
	g := s.gamma(t)
	if g == 0 {
		for i := range out.Data {
			out.Data[i] = float32(math.NaN())
		}
		return
	}
	c := float32(-1 / g)
	for i := range out.Data {
		out.Data[i] *= c
	}
}

// FieldFunc adapts a function to a Field of dimension D.
type FieldFunc struct {
	D int
	F func(t float64, x, out *mat.Dense)
}

// Dim returns D.
func (f FieldFunc) Dim() int { return f.D }

// Eval calls F.
func (f FieldFunc) Eval(t float64, x, out *mat.Dense) { f.F(t, x, out) }

// Zero is the zero field of dimension D (a stand-in score that turns the SDE
// into "drift plus noise without the score correction").
type Zero struct{ D int }

// Dim returns D.
func (z Zero) Dim() int { return z.D }

// Eval writes zeros.
func (z Zero) Eval(_ float64, _, out *mat.Dense) { clear(out.Data) }

// JVPFieldFunc adapts functions to a JVPField of dimension D (for example a
// network whose JVP method has another signature).
type JVPFieldFunc struct {
	D int
	F func(t float64, x, out *mat.Dense)
	J func(t float64, x, dx, out, dout *mat.Dense)
}

// Dim returns D.
func (f JVPFieldFunc) Dim() int { return f.D }

// Eval calls F.
func (f JVPFieldFunc) Eval(t float64, x, out *mat.Dense) { f.F(t, x, out) }

// JVP calls J.
func (f JVPFieldFunc) JVP(t float64, x, dx, out, dout *mat.Dense) { f.J(t, x, dx, out, dout) }
