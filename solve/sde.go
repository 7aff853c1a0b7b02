package solve

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
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
	// RecordAt keeps a copy of the state at each of these times, which must
	// lie in the interval; the step that crosses a record time is split
	// there (each part draws its own noise), as Integrate's fixed steps are.
	RecordAt []float64
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
	t0, t1, err := opts.check(rng)
	if err != nil {
		return res, err
	}
	st := newSDEStepper(drift, score, x, opts, t1 < t0, &res)
	rec := recordTimes(opts.RecordAt, t0, t1)
	ri := 0
	emit := func(t float64, force bool) {
		hit := false
		for ri < len(rec) && math.Abs(rec[ri]-t) <= timeTol {
			ri++
			hit = true
		}
		if force || hit {
			res.Times = append(res.Times, t)
			res.Path = append(res.Path, x.Clone())
		}
	}
	emit(t0, opts.Record)
	t := t0
	for k := 1; k <= opts.Steps; k++ {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		next := t0 + (t1-t0)*float64(k)/float64(opts.Steps)
		if k == opts.Steps {
			next = t1
		}
		for ri < len(rec) && strictlyBetween(rec[ri], t, next) {
			if err := st.step(x, t, rec[ri], rng); err != nil {
				return res, err
			}
			t = rec[ri]
			emit(t, false)
		}
		if err := st.step(x, t, next, rng); err != nil {
			return res, err
		}
		t = next
		res.Steps++
		emit(t, opts.Record)
	}
	return res, nil
}

// check validates the options and returns the interval.
func (o SDEOptions) check(rng *rand.Rand) (t0, t1 float64, err error) {
	if o.Method != "" && o.Method != EulerMaruyama && o.Method != SDEHeun {
		return 0, 0, fmt.Errorf("solve: unknown SDE solver %q (want euler-maruyama or heun)", string(o.Method))
	}
	if o.Steps <= 0 {
		return 0, 0, fmt.Errorf("solve: the SDE needs a step count > 0, got %d", o.Steps)
	}
	t0, t1 = 0.0, 1.0
	if o.Start != 0 || o.End != 0 {
		t0, t1 = o.Start, o.End
	} else if o.Backward {
		t0, t1 = 1, 0
	}
	if math.IsNaN(t0) || math.IsNaN(t1) || math.IsInf(t0, 0) || math.IsInf(t1, 0) {
		return 0, 0, fmt.Errorf("solve: interval [%v, %v] is not finite", t0, t1)
	}
	if rng == nil {
		return 0, 0, fmt.Errorf("solve: the SDE needs a random source")
	}
	lo, hi := min(t0, t1), max(t0, t1)
	for _, r := range o.RecordAt {
		if !(r >= lo && r <= hi) {
			return 0, 0, fmt.Errorf("solve: record time %v lies outside the interval [%v, %v]", r, lo, hi)
		}
	}
	return t0, t1, nil
}

// sdeStepper holds an SDE integrator's fields and buffers, allocated once
// per IntegrateSDE.
type sdeStepper struct {
	drift, score     Field
	eps              func(float64) float64
	method           SDEMethod
	sign             float64
	d1, d2, sb, pred *mat.Dense
	xi               []float32
	res              *Result
}

func newSDEStepper(drift, score Field, x *mat.Dense, opts SDEOptions, backward bool, res *Result) *sdeStepper {
	st := &sdeStepper{drift: drift, score: score, eps: opts.Eps, method: opts.Method, sign: 1, res: res,
		d1: mat.New(x.R, x.C), d2: mat.New(x.R, x.C), sb: mat.New(x.R, x.C), pred: mat.New(x.R, x.C),
		xi: make([]float32, len(x.Data))}
	if st.eps == nil {
		st.eps = EpsConst(0)
	}
	if st.method == "" {
		st.method = EulerMaruyama
	}
	if backward {
		st.sign = -1
	}
	return st
}

// driftAt writes D(y, t) = b(y, t) + sign·ε(t)·s(y, t) into out.
func (st *sdeStepper) driftAt(t float64, y, out *mat.Dense) error {
	st.res.NFE++
	st.drift.Eval(t, y, out)
	e := st.eps(t)
	if !(e >= 0) || math.IsInf(e, 0) {
		return fmt.Errorf("solve: ε(%v) = %v must be a finite number ≥ 0", t, e)
	}
	if e == 0 {
		return nil
	}
	if st.score == nil {
		return fmt.Errorf("solve: ε(%v) = %v > 0 needs a score field", t, e)
	}
	st.score.Eval(t, y, st.sb)
	c := float32(st.sign * e)
	for i, v := range st.sb.Data {
		out.Data[i] += c * v
	}
	return nil
}

// step advances x from t to next with one Euler–Maruyama or Heun step,
// drawing one N(0, I) vector from rng.
func (st *sdeStepper) step(x *mat.Dense, t, next float64, rng *rand.Rand) error {
	h := next - t
	ah := math.Abs(h)
	xi, d1, d2, pred := st.xi, st.d1, st.d2, st.pred
	for i := range xi {
		xi[i] = float32(rng.NormFloat64())
	}
	if err := st.driftAt(t, x, d1); err != nil {
		return err
	}
	sig0 := float32(math.Sqrt(2 * st.eps(t) * ah))
	hh := float32(h)
	if st.method == EulerMaruyama {
		for i := range x.Data {
			x.Data[i] += hh*d1.Data[i] + sig0*xi[i]
		}
		return nil
	}
	for i := range x.Data {
		pred.Data[i] = x.Data[i] + hh*d1.Data[i] + sig0*xi[i]
	}
	if err := st.driftAt(next, pred, d2); err != nil {
		return err
	}
	sig1 := float32(math.Sqrt(2 * st.eps(next) * ah))
	half := hh / 2
	sig := (sig0 + sig1) / 2
	for i := range x.Data {
		x.Data[i] += half*(d1.Data[i]+d2.Data[i]) + sig*xi[i]
	}
	return nil
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
