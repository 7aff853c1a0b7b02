package solve

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/flowlab/flowlab/mat"
)

// Method names an ODE integrator.
type Method string

// The ODE integrators: fixed-step Euler (order 1), explicit midpoint (2),
// Heun (2), classic Runge–Kutta (4), and adaptive Dormand–Prince 5(4).
const (
	Euler    Method = "euler"
	Midpoint Method = "midpoint"
	Heun     Method = "heun"
	RK4      Method = "rk4"
	Dopri5   Method = "dopri5"
)

// Methods returns the ODE integrators in order of increasing order (a fresh
// slice each call).
func Methods() []Method { return []Method{Euler, Midpoint, Heun, RK4, Dopri5} }

// ParseMethod reads an integrator name (case-insensitive; "rk45" and
// "dopri" are read as dopri5).
func ParseMethod(name string) (Method, error) {
	s := strings.ToLower(strings.TrimSpace(name))
	switch s {
	case "euler", "midpoint", "heun", "rk4", "dopri5":
		return Method(s), nil
	case "rk45", "dopri", "dormand-prince":
		return Dopri5, nil
	}
	return "", fmt.Errorf("solve: unknown solver %q (want euler, midpoint, heun, rk4 or dopri5)", name)
}

// methodInfo is each integrator's order of accuracy and field evaluations
// per step (dopri5: 6, its seventh stage is reused by the next step).
var methodInfo = map[Method]struct{ order, evals int }{
	Euler: {1, 1}, Midpoint: {2, 2}, Heun: {2, 2}, RK4: {4, 4}, Dopri5: {5, 6},
}

// Order returns the method's order of accuracy (5 for dopri5; 0 for an
// unknown method).
func (m Method) Order() int { return methodInfo[m].order }

// EvalsPerStep returns the field evaluations one step costs (dopri5: 6, the
// seventh stage is reused by the next step; 0 for an unknown method).
func (m Method) EvalsPerStep() int { return methodInfo[m].evals }

// StepsForNFE returns the number of fixed steps that spends at most nfe field
// evaluations (at least one step). It is an error for dopri5, whose cost is
// set by its tolerances, and for nfe ≤ 0.
func StepsForNFE(m Method, nfe int) (int, error) {
	if nfe <= 0 {
		return 0, fmt.Errorf("solve: the number of function evaluations must be > 0, got %d", nfe)
	}
	if m == Dopri5 {
		return 0, fmt.Errorf("solve: dopri5 is adaptive: set RTol/ATol instead of an NFE budget")
	}
	e := m.EvalsPerStep()
	if e == 0 {
		return 0, fmt.Errorf("solve: unknown solver %q", string(m))
	}
	return max(1, nfe/e), nil
}

// Options configures Integrate.
type Options struct {
	// Method is the integrator (required).
	Method Method
	// Steps is the number of uniform steps for fixed-step methods (> 0).
	Steps int
	// Backward integrates from t = 1 to t = 0 instead of 0 to 1.
	Backward bool
	// Start and End override the interval when either is non-zero; Backward
	// is then ignored (End < Start integrates backward in time).
	Start, End float64
	// RTol and ATol are dopri5's relative and absolute tolerances
	// (default 1e-5 each). A step is accepted when the RMS over every
	// component of err_i / (ATol + RTol·max(|y_i|, |y_i'|)) is ≤ 1.
	RTol, ATol float64
	// MaxSteps caps dopri5's accepted plus rejected steps (default 100000).
	MaxSteps int
	// Record keeps a copy of the state at the start and after every step.
	Record bool
	// RecordAt keeps a copy of the state at each of these times, which must
	// lie in the interval. Fixed-step methods split the step that crosses a
	// record time; dopri5 shortens its step to land on it.
	RecordAt []float64
}

// Result reports what Integrate did.
type Result struct {
	// NFE counts field evaluations; Steps accepted steps; Rejected dopri5's
	// rejected steps.
	NFE, Steps, Rejected int
	// Times and Path are the recorded times and states (copies), in the
	// order visited. Path64 holds them instead for Integrate64.
	Times  []float64
	Path   []*mat.Dense
	Path64 [][]float64
}

// Field64 is a field evaluated in float64 on a flat row-major batch: x and out
// hold len(x)/Dim() points. Closed-form fields implement it so that tests can
// see an integrator's truncation error below float32 rounding.
type Field64 interface {
	Dim() int
	Eval64(t float64, x, out []float64)
}

// num is the element type the integrators are generic over.
type num interface{ ~float32 | ~float64 }

// Integrate integrates dx/dt = f(x, t) in place on every row of x over
// [0, 1] (or [1, 0] when opts.Backward). It stops with ctx's error when ctx is
// cancelled, leaving x at the last completed step. It panics if x.C ≠ f.Dim().
func Integrate(ctx context.Context, f Field, x *mat.Dense, opts Options) (Result, error) {
	if x.C != f.Dim() {
		panic(fmt.Sprintf("solve: Integrate: x is %s but the field has dimension %d", x.Shape(), f.Dim()))
	}
	xh := &mat.Dense{R: x.R, C: x.C}
	oh := &mat.Dense{R: x.R, C: x.C}
	eval := func(t float64, y, dy []float32) {
		xh.Data, oh.Data = y, dy
		f.Eval(t, xh, oh)
	}
	var euler func(t, h float64, y []float32)
	if es, ok := f.(EulerStepper); ok {
		euler = func(t, h float64, y []float32) {
			xh.Data = y
			es.EulerStep(t, h, xh)
		}
	}
	var res Result
	record := func(t float64, y []float32) {
		res.Times = append(res.Times, t)
		res.Path = append(res.Path, mat.NewFrom(x.R, x.C, slices.Clone(y)))
	}
	err := integrate(ctx, eval, euler, x.Data, opts, &res, record)
	return res, err
}

// Integrate64 is Integrate in float64 for a Field64 on a flat row-major batch x
// (len(x) a multiple of f.Dim()); recorded states go to Result.Path64.
func Integrate64(ctx context.Context, f Field64, x []float64, opts Options) (Result, error) {
	if d := f.Dim(); d <= 0 || len(x)%d != 0 {
		panic(fmt.Sprintf("solve: Integrate64: %d values are not rows of dimension %d", len(x), d))
	}
	var res Result
	record := func(t float64, y []float64) {
		res.Times = append(res.Times, t)
		res.Path64 = append(res.Path64, slices.Clone(y))
	}
	err := integrate(ctx, f.Eval64, nil, x, opts, &res, record)
	return res, err
}

// interval resolves opts into (t0, t1).
func (o *Options) interval() (float64, float64) {
	if o.Start != 0 || o.End != 0 {
		return o.Start, o.End
	}
	if o.Backward {
		return 1, 0
	}
	return 0, 1
}

// validate checks what a user can get wrong in Options.
func (o *Options) validate(t0, t1 float64) error {
	switch o.Method {
	case Euler, Midpoint, Heun, RK4:
		if o.Steps <= 0 {
			return fmt.Errorf("solve: %s needs a step count > 0, got %d", o.Method, o.Steps)
		}
	case Dopri5:
		if o.RTol < 0 || o.ATol < 0 || math.IsNaN(o.RTol) || math.IsNaN(o.ATol) {
			return fmt.Errorf("solve: dopri5 tolerances must be ≥ 0 (rtol %v, atol %v)", o.RTol, o.ATol)
		}
		if o.MaxSteps < 0 {
			return fmt.Errorf("solve: dopri5 MaxSteps must be ≥ 0, got %d", o.MaxSteps)
		}
	case "":
		return fmt.Errorf("solve: no solver given")
	default:
		return fmt.Errorf("solve: unknown solver %q (want euler, midpoint, heun, rk4 or dopri5)", string(o.Method))
	}
	if math.IsNaN(t0) || math.IsNaN(t1) || math.IsInf(t0, 0) || math.IsInf(t1, 0) {
		return fmt.Errorf("solve: interval [%v, %v] is not finite", t0, t1)
	}
	lo, hi := min(t0, t1), max(t0, t1)
	for _, r := range o.RecordAt {
		if !(r >= lo && r <= hi) {
			return fmt.Errorf("solve: record time %v lies outside the interval [%v, %v]", r, lo, hi)
		}
	}
	return nil
}

// recordTimes returns opts.RecordAt sorted in the direction of integration.
func recordTimes(at []float64, t0, t1 float64) []float64 {
	r := slices.Clone(at)
	slices.Sort(r)
	if t1 < t0 {
		slices.Reverse(r)
	}
	return slices.Compact(r)
}

// integrate is the generic driver behind Integrate and Integrate64. euler,
// when not nil, takes a whole Euler step in place (see EulerStepper).
func integrate[T num](ctx context.Context, eval func(t float64, y, dy []T), euler func(t, h float64, y []T), y []T, opts Options,
	res *Result, record func(t float64, y []T)) error {
	t0, t1 := opts.interval()
	if err := opts.validate(t0, t1); err != nil {
		return err
	}
	st := newStepper(eval, len(y))
	st.euler = euler
	st.res = res
	rec := recordTimes(opts.RecordAt, t0, t1)
	ri := 0
	emit := func(t float64, force bool) {
		hit := false
		for ri < len(rec) && math.Abs(rec[ri]-t) <= timeTol {
			ri++
			hit = true
		}
		if force || hit {
			record(t, y)
		}
	}
	emit(t0, opts.Record)
	if t0 == t1 || len(y) == 0 {
		return nil
	}
	if opts.Method == Dopri5 {
		return st.dopri5(ctx, y, t0, t1, opts, rec, func(t float64) { emit(t, opts.Record) })
	}
	// Fixed steps: the uniform grid t0 + (t1−t0)·i/N, split at record times.
	n := opts.Steps
	t := t0
	for i := 1; i <= n; i++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		next := t0 + (t1-t0)*float64(i)/float64(n)
		if i == n {
			next = t1
		}
		for ri < len(rec) && strictlyBetween(rec[ri], t, next) {
			st.fixed(opts.Method, y, t, rec[ri]-t)
			t = rec[ri]
			emit(t, false)
		}
		st.fixed(opts.Method, y, t, next-t)
		t = next
		res.Steps++
		emit(t, opts.Record)
	}
	return nil
}

// timeTol is how close two times must be to count as the same grid point.
const timeTol = 1e-12

// strictlyBetween reports whether r lies strictly between a and b (either
// order), more than timeTol from both.
func strictlyBetween(r, a, b float64) bool {
	lo, hi := min(a, b), max(a, b)
	return r > lo+timeTol && r < hi-timeTol
}

// stepper holds an integrator's stage buffers, allocated once per Integrate.
type stepper[T num] struct {
	eval  func(t float64, y, dy []T)
	euler func(t, h float64, y []T) // the field's own Euler step, or nil
	k     [7][]T
	tmp   []T
	ynew  []T
	res   *Result
}

func newStepper[T num](eval func(t float64, y, dy []T), n int) *stepper[T] {
	s := &stepper[T]{eval: eval, tmp: make([]T, n)}
	return s
}

// buf returns stage buffer i, allocating it on first use.
func (s *stepper[T]) buf(i int) []T {
	if s.k[i] == nil {
		s.k[i] = make([]T, len(s.tmp))
	}
	return s.k[i]
}

func (s *stepper[T]) f(t float64, y, dy []T) {
	s.res.NFE++
	s.eval(t, y, dy)
}

// fixed advances y by one step of size h from t.
func (s *stepper[T]) fixed(m Method, y []T, t, h float64) {
	if m == Euler && s.euler != nil {
		s.res.NFE++
		s.euler(t, h, y)
		return
	}
	k1 := s.buf(0)
	tmp := s.tmp
	s.f(t, y, k1)
	switch m {
	case Euler:
		axpy(y, h, k1)
	case Midpoint:
		k2 := s.buf(1)
		lin1(tmp, y, h/2, k1)
		s.f(t+h/2, tmp, k2)
		axpy(y, h, k2)
	case Heun:
		k2 := s.buf(1)
		lin1(tmp, y, h, k1)
		s.f(t+h, tmp, k2)
		hh := T(h / 2)
		for i := range y {
			y[i] += hh * (k1[i] + k2[i])
		}
	case RK4:
		k2, k3, k4 := s.buf(1), s.buf(2), s.buf(3)
		lin1(tmp, y, h/2, k1)
		s.f(t+h/2, tmp, k2)
		lin1(tmp, y, h/2, k2)
		s.f(t+h/2, tmp, k3)
		lin1(tmp, y, h, k3)
		s.f(t+h, tmp, k4)
		h6 := T(h / 6)
		for i := range y {
			y[i] += h6 * (k1[i] + 2*k2[i] + 2*k3[i] + k4[i])
		}
	default:
		panic(fmt.Sprintf("solve: fixed step for %q", string(m)))
	}
}

// axpy sets y += h·k, the product rounded to T before the sum (the
// conversion forbids an FMA, so the bits do not depend on GOAMD64 or the
// architecture; EulerStepper's contract is this loop's bits).
func axpy[T num](y []T, h float64, k []T) {
	hh := T(h)
	for i := range y {
		y[i] += T(hh * k[i])
	}
}

// lin1 sets dst = y + h·k.
func lin1[T num](dst, y []T, h float64, k []T) {
	hh := T(h)
	for i := range dst {
		dst[i] = y[i] + hh*k[i]
	}
}

// Dormand–Prince 5(4) tableau (Hairer, Nørsett & Wanner, table II.5.2).
var (
	dpC = [7]float64{0, 1.0 / 5, 3.0 / 10, 4.0 / 5, 8.0 / 9, 1, 1}
	dpA = [7][6]float64{
		{},
		{1.0 / 5},
		{3.0 / 40, 9.0 / 40},
		{44.0 / 45, -56.0 / 15, 32.0 / 9},
		{19372.0 / 6561, -25360.0 / 2187, 64448.0 / 6561, -212.0 / 729},
		{9017.0 / 3168, -355.0 / 33, 46732.0 / 5247, 49.0 / 176, -5103.0 / 18656},
		{35.0 / 384, 0, 500.0 / 1113, 125.0 / 192, -2187.0 / 6784, 11.0 / 84},
	}
	// dpE is b(5th order) − b̂(4th order), the error estimator's weights.
	dpE = [7]float64{71.0 / 57600, 0, -71.0 / 16695, 71.0 / 1920, -17253.0 / 339200, 22.0 / 525, -1.0 / 40}
)

// dopriTol holds dopri5's tolerances and scales error vectors by them.
type dopriTol struct{ rtol, atol float64 }

// norm is the RMS over components of e_i / (atol + rtol·max(|y0_i|, |y1_i|)).
func dopriNorm[T num](tol dopriTol, y0, y1, e []T) float64 {
	var sum float64
	for i := range y0 {
		sc := tol.atol + tol.rtol*math.Max(math.Abs(float64(y0[i])), math.Abs(float64(y1[i])))
		r := float64(e[i]) / sc
		sum += r * r
	}
	return math.Sqrt(sum / float64(len(y0)))
}

// dopri5 integrates from t0 to t1 adaptively, landing exactly on each record
// time (in rec, sorted in the direction of integration), calling after(t)
// after every accepted step.
func (s *stepper[T]) dopri5(ctx context.Context, y []T, t0, t1 float64, opts Options, rec []float64,
	after func(t float64)) error {
	tol := dopriTol{opts.RTol, opts.ATol}
	if tol.rtol == 0 && tol.atol == 0 {
		tol = dopriTol{1e-5, 1e-5}
	}
	maxSteps := opts.MaxSteps
	if maxSteps == 0 {
		maxSteps = 100000
	}
	dir := 1.0
	if t1 < t0 {
		dir = -1
	}
	for i := range s.k {
		s.buf(i)
	}
	if s.ynew == nil {
		s.ynew = make([]T, len(y))
	}
	t := t0
	s.f(t, y, s.k[0])
	h := s.initialStep(y, t, t1, dir, tol)
	ri := 0
	rejectedLast := false
	for dir*(t1-t) > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		if s.res.Steps+s.res.Rejected >= maxSteps {
			return fmt.Errorf("solve: dopri5 took %d steps without reaching t=%v (at t=%v): the field may be stiff or not finite; raise the tolerances or MaxSteps", maxSteps, t1, t)
		}
		// Land exactly on the next record time or the end. Record times at
		// or behind t (the start, or one already landed on) are passed over;
		// otherwise a record time equal to t0 would stall ri and every later
		// one would be missed.
		for ri < len(rec) && dir*(rec[ri]-t) <= timeTol {
			ri++
		}
		target := t1
		if ri < len(rec) {
			target = rec[ri]
		}
		last := false
		if h >= math.Abs(target-t)*(1-1e-12) {
			h = math.Abs(target - t)
			last = true
		}
		hs := dir * h
		en := s.dopriTrial(y, t, hs, tol)
		if math.IsNaN(en) || math.IsInf(en, 0) {
			return fmt.Errorf("solve: dopri5 met a non-finite state at t=%v", t)
		}
		if en <= 1 {
			copy(y, s.ynew)
			copy(s.k[0], s.k[6]) // first same as last
			if last {
				t = target
			} else {
				t += hs
			}
			s.res.Steps++
			after(t)
		} else {
			s.res.Rejected++
		}
		h *= dopriFactor(en, rejectedLast)
		rejectedLast = en > 1
		if h < 1e-14*math.Max(1, math.Abs(t)) && dir*(t1-t) > 0 {
			return fmt.Errorf("solve: dopri5 step size underflow at t=%v", t)
		}
	}
	return nil
}

// dopriFactor is the step-size factor after a trial step of scaled error en:
// 0.9·en^(−1/5) within [0.2, 10], and at most 1 right after a rejection.
func dopriFactor(en float64, rejectedLast bool) float64 {
	if en > 1 {
		return math.Max(0.2, 0.9*math.Pow(en, -1.0/5))
	}
	fac := 10.0
	if rejectedLast {
		fac = 1
	}
	if en > 0 {
		fac = math.Min(fac, 0.9*math.Pow(en, -1.0/5))
	}
	return math.Max(0.2, fac)
}

// initialStep is dopri5's first step size (Hairer, Nørsett & Wanner, II.4):
// h0 = 0.01·‖y‖/‖f‖, refined by one Euler probe so that h^5·‖f'‖ ≈ 0.01.
// s.k[0] holds f(t, y); s.k[1] and s.tmp are overwritten.
func (s *stepper[T]) initialStep(y []T, t, t1, dir float64, tol dopriTol) float64 {
	k, tmp := s.k, s.tmp
	d0 := dopriNorm(tol, y, y, y)
	d1 := dopriNorm(tol, y, y, k[0])
	h0 := 1e-6
	if d0 >= 1e-5 && d1 >= 1e-5 {
		h0 = 0.01 * d0 / d1
	}
	h0 = math.Min(h0, math.Abs(t1-t))
	lin1(tmp, y, dir*h0, k[0])
	s.f(t+dir*h0, tmp, k[1])
	for i := range tmp {
		tmp[i] = k[1][i] - k[0][i]
	}
	d2 := dopriNorm(tol, y, y, tmp) / h0
	var h1 float64
	if math.Max(d1, d2) <= 1e-15 {
		h1 = math.Max(1e-6, h0*1e-3)
	} else {
		h1 = math.Pow(0.01/math.Max(d1, d2), 1.0/5)
	}
	return math.Min(100*h0, h1)
}

// dopriTrial evaluates the six new stages of a step of signed size hs from
// (t, y), leaves the 5th-order solution in s.ynew and its last stage in
// s.k[6], and returns the scaled error norm (≤ 1: accept).
func (s *stepper[T]) dopriTrial(y []T, t, hs float64, tol dopriTol) float64 {
	k, tmp, ynew := s.k, s.tmp, s.ynew
	for st := 1; st < 7; st++ {
		for i := range tmp {
			var acc T
			for j := 0; j < st; j++ {
				if a := dpA[st][j]; a != 0 {
					acc += T(a) * k[j][i]
				}
			}
			tmp[i] = y[i] + T(hs)*acc
		}
		if st == 6 {
			copy(ynew, tmp) // the 7th stage is evaluated at the 5th-order solution
		}
		s.f(t+dpC[st]*hs, tmp, k[st])
	}
	for i := range tmp {
		var e T
		for j := 0; j < 7; j++ {
			if c := dpE[j]; c != 0 {
				e += T(c) * k[j][i]
			}
		}
		tmp[i] = T(hs) * e
	}
	return dopriNorm(tol, y, ynew, tmp)
}
