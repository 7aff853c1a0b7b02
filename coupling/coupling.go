// Package coupling pairs a source batch with a target batch before the
// interpolant is built on the pairs: independent draws, exact minibatch
// optimal transport (assign.LAP) and its entropic relaxation (Sinkhorn).
// Couplings know nothing of paths, fields or solvers; reflow, which needs a
// trained field, lives with the trainer (train.Reflow).
package coupling

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/flowlab/flowlab/assign"
	"github.com/flowlab/flowlab/mat"
)

// Coupling pairs a source batch with a target batch: Couple reorders (or, for
// stochastic plans, resamples) the rows of x1 in place so that row i of x1 is
// the partner of row i of x0. x0 is never changed. Couplings keep their
// scratch buffers, so one value must not be used by two goroutines at once.
type Coupling interface {
	Couple(ctx context.Context, rng *rand.Rand, x0, x1 *mat.Dense) error
	String() string
}

// Independent is the independent coupling: rows stay as drawn.
type Independent struct{}

// Couple does nothing: independent draws are already an independent coupling.
func (Independent) Couple(_ context.Context, _ *rand.Rand, x0, x1 *mat.Dense) error {
	checkPair(x0, x1)
	return nil
}

// String returns "independent".
func (Independent) String() string { return "independent" }

// ExactOT is torchcfm's OT-CFM coupling with the exact plan: within each batch,
// x1's rows are permuted by the assignment that minimises Σ_i ‖x0_i − x1_π(i)‖²
// (solved exactly by assign.LAP, the Jonker–Volgenant shortest augmenting
// path algorithm, O(n³) in the batch size).
type ExactOT struct {
	cost []float64
	perm []int
	tmp  []float32
	lap  assign.LAP
}

// Couple permutes x1's rows into the optimal assignment with x0.
func (o *ExactOT) Couple(ctx context.Context, _ *rand.Rand, x0, x1 *mat.Dense) error {
	checkPair(x0, x1)
	if err := ctx.Err(); err != nil {
		return err
	}
	n := x0.R
	o.cost = SqDistances(x0, x1, o.cost)
	if err := finiteCosts(o.cost); err != nil {
		return err
	}
	perm, err := o.lap.Solve(ctx, n, o.cost, o.perm)
	if err != nil {
		return fmt.Errorf("coupling: ot: %w", err)
	}
	o.perm = perm
	o.tmp = permuteRows(x1, o.perm, o.tmp)
	return nil
}

// String returns "ot".
func (o *ExactOT) String() string { return "ot" }

// Sinkhorn is the entropic OT coupling: the plan π_ε minimising
// ⟨π, C⟩ − ε_abs·H(π) with uniform marginals, computed by log-domain Sinkhorn
// iterations, and for each row i of x0 a partner j drawn from π_ε(i, ·)
// (so x0's marginal is kept exactly; x1's rows may repeat). As ε → 0 the plan
// tends to the exact OT plan and the coupling to ExactOT's.
//
// Eps is relative: ε_abs = Eps × (mean of the cost matrix C_ij = ‖x0_i − x1_j‖²),
// so one Eps means the same in every dimension (torchcfm uses an absolute
// reg=0.05 on unnormalised costs). The plan is computed with ε-scaling (ε
// halved from the mean cost down to ε_abs, warm-started); Iters caps the
// iterations of each stage (default 1000). Each iteration makes the column
// marginals exact and then the row marginals; a stage stops once the row
// marginals before their update are within Tol (default 1e-4, relative to
// 1/n) of uniform, so the final plan has exact rows and columns within about
// Tol.
type Sinkhorn struct {
	Eps   float64
	Iters int
	Tol   float64

	cost, plan []float64
	f, g       []float64
	k, u, v    []float64
	perm       []int
	tmp        []float32
}

// Couple draws x1's partners from the entropic plan.
func (s *Sinkhorn) Couple(ctx context.Context, rng *rand.Rand, x0, x1 *mat.Dense) error {
	checkPair(x0, x1)
	if err := ctx.Err(); err != nil {
		return err
	}
	n := x0.R
	if n == 0 {
		return nil
	}
	s.cost = SqDistances(x0, x1, s.cost)
	if err := finiteCosts(s.cost); err != nil {
		return err
	}
	s.plan = s.Plan(n, s.cost, s.plan)
	if cap(s.perm) < n {
		s.perm = make([]int, n)
	}
	s.perm = s.perm[:n]
	for i := 0; i < n; i++ {
		row := s.plan[i*n : (i+1)*n]
		var tot float64
		for _, p := range row {
			tot += p
		}
		u := rng.Float64() * tot
		j := 0
		for ; j < n-1; j++ {
			u -= row[j]
			if u < 0 {
				break
			}
		}
		s.perm[i] = j
	}
	s.tmp = permuteRows(x1, s.perm, s.tmp)
	return nil
}

// String returns "sinkhorn:eps=EPS", with ",iters=N" when Iters is set, as
// Parse reads it.
func (s *Sinkhorn) String() string {
	str := "sinkhorn:eps=" + strconv.FormatFloat(s.Eps, 'g', -1, 64)
	if s.Iters > 0 {
		str += ",iters=" + strconv.Itoa(s.Iters)
	}
	return str
}

// Plan returns the n×n entropic plan (row-major, entries summing to 1) for the
// cost matrix cost (row-major n×n), reusing dst. It works in the log domain,
// so small Eps neither underflows nor overflows. It panics unless every cost
// is finite (a NaN cost would make the ε-scaling loop run forever).
func (s *Sinkhorn) Plan(n int, cost, dst []float64) []float64 {
	if len(cost) != n*n {
		panic(fmt.Sprintf("coupling: Sinkhorn.Plan: cost has %d entries, want %d×%d", len(cost), n, n))
	}
	if !(s.Eps > 0) || math.IsInf(s.Eps, 0) {
		panic(fmt.Sprintf("coupling: Sinkhorn.Eps = %v must be a finite number > 0", s.Eps))
	}
	if err := finiteCosts(cost); err != nil {
		panic("coupling: Sinkhorn.Plan: " + err.Error())
	}
	if n == 0 {
		return dst[:0]
	}
	iters := s.Iters
	if iters <= 0 {
		iters = 1000
	}
	tol := s.Tol
	if tol <= 0 {
		tol = 1e-4
	}
	var mean float64
	for _, c := range cost {
		mean += c
	}
	mean /= float64(n * n)
	eps := s.Eps * mean
	if eps == 0 { // all points equal: every plan is optimal
		eps = s.Eps
	}
	s.f = resize64(s.f, n)
	s.g = resize64(s.g, n)
	clear(s.f)
	clear(s.g)
	dst = resize64(dst, n*n)
	// ε-scaling: solve at ε = mean cost first, then halve ε, warm-starting
	// the potentials, down to the target. Small ε converges in far fewer
	// iterations this way (plain Sinkhorn needs ~C/ε of them).
	stage := math.Max(eps, mean)
	for {
		final := stage <= eps
		if final {
			stage = eps
		}
		stol := tol
		if !final {
			stol = math.Max(tol, 1e-3)
		}
		s.iterate(n, cost, stage, stol, iters)
		if final {
			break
		}
		stage /= 2
	}
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			dst[i*n+j] = math.Exp((s.f[i] + s.g[j] - cost[i*n+j]) / eps)
		}
	}
	return dst
}

// iterate runs Sinkhorn at regularisation eps from the potentials f, g until
// every row marginal is within tol (relative to 1/n) of uniform or iters
// updates have run (the row marginals are exact afterwards), then folds the
// result back into f, g. It works on the
// stabilised kernel K_ij = exp((f_i + g_j − C_ij)/ε) with scalings u, v
// (matrix–vector products, no exp per iteration), absorbing u, v into the
// potentials whenever they leave [1e-100, 1e100]; if a scaling still
// degenerates it falls back to log-domain updates for this stage.
func (s *Sinkhorn) iterate(n int, cost []float64, eps, tol float64, iters int) {
	s.k = resize64(s.k, n*n)
	s.u = resize64(s.u, n)
	s.v = resize64(s.v, n)
	k, u, v := s.k, s.u, s.v
	w := 1 / float64(n) // each uniform marginal weight
	kernel := func() {
		for i := 0; i < n; i++ {
			for j := 0; j < n; j++ {
				k[i*n+j] = math.Exp((s.f[i] + s.g[j] - cost[i*n+j]) / eps)
			}
			u[i] = 1
		}
		for j := range v {
			v[j] = 1
		}
	}
	absorb := func() {
		for i := range u {
			s.f[i] += eps * math.Log(u[i])
		}
		for j := range v {
			s.g[j] += eps * math.Log(v[j])
		}
	}
	ok := func(x float64) bool { return x > 1e-100 && x < 1e100 }
	kernel()
	for it := 0; it < iters; it++ {
		// v_j = w / Σ_i K_ij u_i: the column marginals become exact.
		for j := range v {
			v[j] = 0
		}
		for i := 0; i < n; i++ {
			ui := u[i]
			row := k[i*n : (i+1)*n]
			for j, kij := range row {
				v[j] += kij * ui
			}
		}
		for j := range v {
			v[j] = w / v[j]
		}
		// u_i = w / Σ_j K_ij v_j; the old row marginal u_i·(Kv)_i measures
		// convergence for free.
		var worst float64
		for i := 0; i < n; i++ {
			row := k[i*n : (i+1)*n]
			var kv float64
			for j, kij := range row {
				kv += kij * v[j]
			}
			worst = math.Max(worst, math.Abs(u[i]*kv/w-1))
			u[i] = w / kv
		}
		healthy := true
		for i := range u {
			if !ok(u[i]) || !ok(v[i]) {
				healthy = false
				break
			}
		}
		if !healthy {
			// Undo nothing: fall back to the exact log-domain updates from
			// the last good potentials.
			s.logIterate(n, cost, eps, tol, iters-it)
			return
		}
		if worst < tol {
			break
		}
		if it%50 == 49 {
			// Keep the scalings near 1 so they cannot overflow later.
			absorb()
			kernel()
		}
	}
	absorb()
}

// logIterate is the log-domain Sinkhorn iteration: exact but with n² exp per
// half-step, used only when the kernel form degenerates.
func (s *Sinkhorn) logIterate(n int, cost []float64, eps, tol float64, iters int) {
	logw := -math.Log(float64(n))
	for it := 0; it < iters; it++ {
		for j := 0; j < n; j++ {
			m := math.Inf(-1)
			for i := 0; i < n; i++ {
				m = math.Max(m, (s.f[i]-cost[i*n+j])/eps)
			}
			var sum float64
			for i := 0; i < n; i++ {
				sum += math.Exp((s.f[i]-cost[i*n+j])/eps - m)
			}
			s.g[j] = eps*logw - eps*(m+math.Log(sum))
		}
		var worst float64
		for i := 0; i < n; i++ {
			m := math.Inf(-1)
			row := cost[i*n : (i+1)*n]
			for j := 0; j < n; j++ {
				m = math.Max(m, (s.g[j]-row[j])/eps)
			}
			var sum float64
			for j := 0; j < n; j++ {
				sum += math.Exp((s.g[j]-row[j])/eps - m)
			}
			fNew := eps*logw - eps*(m+math.Log(sum))
			// Before the update row i's marginal was exp((f_i − fNew)/ε)/n.
			worst = math.Max(worst, math.Abs(math.Expm1((s.f[i]-fNew)/eps)))
			s.f[i] = fNew
		}
		if worst < tol {
			return
		}
	}
}

// Parse reads a coupling name: independent (alias none), ot (aliases
// exact-ot, otcfm), sinkhorn or sinkhorn:eps=E[,iters=N], label-ot (alias
// ot-label: exact OT within each label, for labelled batches). Reflow needs a
// trained field and is built directly as a *train.Reflow.
func Parse(spec string) (Coupling, error) {
	s := strings.ToLower(strings.TrimSpace(spec))
	name, params, hasParams := strings.Cut(s, ":")
	switch name {
	case "independent", "none", "":
		if hasParams {
			return nil, fmt.Errorf("coupling: %q takes no parameters", spec)
		}
		return Independent{}, nil
	case "ot", "exact-ot", "exactot", "otcfm":
		if hasParams {
			return nil, fmt.Errorf("coupling: %q takes no parameters", spec)
		}
		return &ExactOT{}, nil
	case "sinkhorn", "entropic-ot":
		sk := &Sinkhorn{Eps: 0.05}
		if hasParams {
			for _, kv := range strings.Split(params, ",") {
				k, v, ok := strings.Cut(kv, "=")
				if !ok {
					return nil, fmt.Errorf("coupling: %q: parameter %q is not KEY=VALUE", spec, kv)
				}
				switch strings.TrimSpace(k) {
				case "eps", "reg":
					f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
					if err != nil || !(f > 0) || math.IsInf(f, 0) {
						return nil, fmt.Errorf("coupling: %q: eps must be a finite number > 0", spec)
					}
					sk.Eps = f
				case "iters":
					n, err := strconv.Atoi(strings.TrimSpace(v))
					if err != nil || n <= 0 {
						return nil, fmt.Errorf("coupling: %q: iters must be a positive integer", spec)
					}
					sk.Iters = n
				default:
					return nil, fmt.Errorf("coupling: %q: unknown parameter %q (want eps, iters)", spec, k)
				}
			}
		}
		return sk, nil
	case "label-ot", "ot-label":
		if hasParams {
			return nil, fmt.Errorf("coupling: %q takes no parameters", spec)
		}
		return &LabelOT{}, nil
	case "reflow":
		return nil, fmt.Errorf("coupling: %q needs a trained field: build a train.Reflow", spec)
	}
	return nil, fmt.Errorf("coupling: unknown coupling %q (want independent, ot, sinkhorn[:eps=E], label-ot)", spec)
}

// finiteCosts reports a NaN or infinite entry of a cost matrix (points with
// NaN or Inf coordinates, or too large for float64 squares).
func finiteCosts(cost []float64) error {
	for k, c := range cost {
		if math.IsNaN(c) || math.IsInf(c, 0) {
			return fmt.Errorf("coupling: cost entry %d is %v (NaN or Inf in the batch)", k, c)
		}
	}
	return nil
}

func checkPair(x0, x1 *mat.Dense) {
	if x0.R != x1.R || x0.C != x1.C {
		panic(fmt.Sprintf("coupling: x0 %s and x1 %s differ in shape", x0.Shape(), x1.Shape()))
	}
}

// SqDistances returns the row-major x0.R×x1.R matrix of squared Euclidean
// distances ‖x0_i − x1_j‖², computed in float64 (differences, not the
// cancellation-prone ‖a‖² + ‖b‖² − 2a·b), reusing dst.
func SqDistances(x0, x1 *mat.Dense, dst []float64) []float64 {
	if x0.C != x1.C {
		panic(fmt.Sprintf("coupling: SqDistances: x0 %s and x1 %s differ in columns", x0.Shape(), x1.Shape()))
	}
	n, m, d := x0.R, x1.R, x0.C
	dst = resize64(dst, n*m)
	b64 := make([]float64, m*d)
	for k, v := range x1.Data[:m*d] {
		b64[k] = float64(v)
	}
	a := make([]float64, d)
	for i := 0; i < n; i++ {
		for k, v := range x0.Row(i) {
			a[k] = float64(v)
		}
		for j := 0; j < m; j++ {
			b := b64[j*d : (j+1)*d]
			var s0, s1, s2, s3 float64
			k := 0
			for ; k+4 <= d; k += 4 {
				e0, e1, e2, e3 := a[k]-b[k], a[k+1]-b[k+1], a[k+2]-b[k+2], a[k+3]-b[k+3]
				s0 += e0 * e0
				s1 += e1 * e1
				s2 += e2 * e2
				s3 += e3 * e3
			}
			for ; k < d; k++ {
				e := a[k] - b[k]
				s0 += e * e
			}
			dst[i*m+j] = (s0 + s1) + (s2 + s3)
		}
	}
	return dst
}

// permuteRows sets x's row i to its old row perm[i], using tmp as scratch.
func permuteRows(x *mat.Dense, perm []int, tmp []float32) []float32 {
	if cap(tmp) < len(x.Data) {
		tmp = make([]float32, len(x.Data))
	}
	tmp = tmp[:len(x.Data)]
	copy(tmp, x.Data)
	for i, j := range perm {
		copy(x.Row(i), tmp[j*x.C:(j+1)*x.C])
	}
	return tmp
}

func resize64(s []float64, n int) []float64 {
	if cap(s) < n {
		return make([]float64, n)
	}
	return s[:n]
}
