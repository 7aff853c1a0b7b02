// Package interp defines stochastic interpolants
//
//	x_t = α(t)·x0 + β(t)·x1 + γ(t)·z,   z ~ N(0, I),
//
// their time derivatives, the regression targets a flow-matching model is
// trained on (the drift b = ẋ_t and the denoiser η = z). It imports only mat:
// the couplings that pair x0's rows with x1's live in package coupling, and
// reflow and the velocity-derived score with the trainer (package train).
//
// The zero Interpolant is the linear interpolant (rectified flow / CondOT)
// without noise: α = 1−t, β = t, γ = 0.
package interp

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/flowlab/flowlab/mat"
)

// Coeffs holds an interpolant's coefficients at one time t and their time
// derivatives: x_t = A·x0 + B·x1 + G·z and ẋ_t = DA·x0 + DB·x1 + DG·z.
type Coeffs struct {
	A, B, G    float64
	DA, DB, DG float64
}

// Path is the deterministic part α(t)·x0 + β(t)·x1 of an interpolant.
type Path int

// The interpolant paths.
const (
	// Linear is rectified flow / CondOT: α = 1−t, β = t.
	Linear Path = iota
	// Trig is the trigonometric path α = cos(πt/2), β = sin(πt/2).
	Trig
	// VP is the variance-preserving trigonometric path of Albergo et al.
	// (their "trig"): α = √(1−γ²)·cos(πt/2), β = √(1−γ²)·sin(πt/2), so that
	// α² + β² + γ² = 1 for every t. It needs γ(t) < 1 everywhere.
	VP
	// OneSided is Albergo's one-sided linear interpolant x_t = (1−t)·x0 + t·x1
	// where x0 ~ N(0, I) is itself the latent noise: γ must be 0, the denoiser
	// target is x0 and the score is s = −η/α.
	OneSided
	// OneSidedTrig is the one-sided trigonometric interpolant
	// x_t = cos(πt/2)·x0 + sin(πt/2)·x1 with x0 ~ N(0, I) (γ must be 0).
	OneSidedTrig
	// EncDec is Albergo et al.'s encoder–decoder interpolant:
	// α = cos²(πt) on t ≤ ½ and 0 after, β = 0 before ½ and cos²(πt) after,
	// so x_{½} = γ(½)·z carries no information about x0 or x1. It needs γ > 0
	// (sinesquared is the natural choice).
	EncDec
)

var pathNames = [...]string{"linear", "trig", "vp", "onesided", "onesided-trig", "encdec"}

// String returns the path's name as Parse reads it.
func (p Path) String() string {
	if p < 0 || int(p) >= len(pathNames) {
		return fmt.Sprintf("Path(%d)", int(p))
	}
	return pathNames[p]
}

// ParsePath reads a path name: linear (aliases rectified, condot), trig, vp,
// onesided (alias one-sided), onesided-trig, encdec (alias encoder-decoder).
func ParsePath(name string) (Path, error) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "linear", "rectified", "condot", "":
		return Linear, nil
	case "trig", "trigonometric":
		return Trig, nil
	case "vp", "variance-preserving":
		return VP, nil
	case "onesided", "one-sided", "onesided-linear", "one-sided-linear":
		return OneSided, nil
	case "onesided-trig", "one-sided-trig":
		return OneSidedTrig, nil
	case "encdec", "encoder-decoder", "encoding-decoding":
		return EncDec, nil
	}
	return 0, fmt.Errorf("interp: unknown interpolant %q (want one of %s)", name, strings.Join(pathNames[:], ", "))
}

// GammaShape is the form of the noise scale γ(t).
type GammaShape int

// The γ(t) shapes; each is scaled by Gamma.A.
const (
	// NoGamma is γ ≡ 0: a deterministic interpolant.
	NoGamma GammaShape = iota
	// Brownian is γ = √(a·t(1−t)), a Brownian bridge. Its derivative is
	// infinite at t = 0 and t = 1; see Interpolant.TRange.
	Brownian
	// BSquared is γ = a·t(1−t).
	BSquared
	// SineSquared is γ = a·sin²(πt).
	SineSquared
)

var gammaNames = [...]string{"none", "brownian", "bsquared", "sinesquared"}

// String returns the shape's name as ParseGamma reads it.
func (s GammaShape) String() string {
	if s < 0 || int(s) >= len(gammaNames) {
		return fmt.Sprintf("GammaShape(%d)", int(s))
	}
	return gammaNames[s]
}

// Gamma is the noise scale γ(t) of a stochastic interpolant: Shape scaled by A.
// The zero Gamma is γ ≡ 0.
type Gamma struct {
	Shape GammaShape
	A     float64
}

// Zero reports whether γ ≡ 0.
func (g Gamma) Zero() bool { return g.Shape == NoGamma || g.A == 0 }

// At returns γ(t) and γ'(t). For Brownian the derivative is ±Inf at t = 0, 1.
func (g Gamma) At(t float64) (gam, dgam float64) {
	if g.Zero() {
		return 0, 0
	}
	a := g.A
	switch g.Shape {
	case Brownian:
		q := t * (1 - t)
		gam = math.Sqrt(a * q)
		// d/dt √(a q) = a q' / (2√(a q)), q' = 1 − 2t.
		if gam == 0 {
			if t <= 0.5 {
				return 0, math.Inf(1)
			}
			return 0, math.Inf(-1)
		}
		return gam, a * (1 - 2*t) / (2 * gam)
	case BSquared:
		return a * t * (1 - t), a * (1 - 2*t)
	case SineSquared:
		s, c := math.Sincos(math.Pi * t)
		return a * s * s, a * 2 * math.Pi * s * c
	}
	panic(fmt.Sprintf("interp: invalid gamma shape %d", int(g.Shape)))
}

// GammaDGamma returns γ(t)·γ'(t), finite for every shape on [0, 1] (for the
// Brownian γ it is a(1−2t)/2, also at the ends where γ' is infinite).
func (g Gamma) GammaDGamma(t float64) float64 {
	if g.Zero() {
		return 0
	}
	if g.Shape == Brownian {
		return g.A * (1 - 2*t) / 2
	}
	v, d := g.At(t)
	return v * d
}

// String formats g as ParseGamma reads it.
func (g Gamma) String() string {
	if g.Zero() {
		return "0"
	}
	return fmt.Sprintf("%s:a=%s", g.Shape, strconv.FormatFloat(g.A, 'g', -1, 64))
}

// ParseGamma reads a noise scale: "0" or "none" (γ ≡ 0); a plain number a ≥ 0
// (γ = √(a·t(1−t)), Albergo's default Brownian form, so `--gamma 0.5` works);
// or "SHAPE" / "SHAPE:a=A" with SHAPE one of brownian, bsquared, sinesquared
// (a defaults to 1).
func ParseGamma(spec string) (Gamma, error) {
	s := strings.ToLower(strings.TrimSpace(spec))
	if s == "" || s == "none" || s == "zero" {
		return Gamma{}, nil
	}
	if v, err := strconv.ParseFloat(s, 64); err == nil {
		if !(v >= 0) || math.IsInf(v, 0) {
			return Gamma{}, fmt.Errorf("interp: gamma %q: the scale must be a finite number ≥ 0", spec)
		}
		if v == 0 {
			return Gamma{}, nil
		}
		return Gamma{Shape: Brownian, A: v}, nil
	}
	name, params, _ := strings.Cut(s, ":")
	var g Gamma
	switch name {
	case "brownian", "sqrt":
		g.Shape = Brownian
	case "bsquared", "t(1-t)":
		g.Shape = BSquared
	case "sinesquared", "sin2":
		g.Shape = SineSquared
	default:
		return Gamma{}, fmt.Errorf("interp: unknown gamma %q (want a number, none, brownian, bsquared or sinesquared, optionally with :a=VALUE)", spec)
	}
	g.A = 1
	if params != "" {
		for _, kv := range strings.Split(params, ",") {
			k, v, ok := strings.Cut(kv, "=")
			if !ok || strings.TrimSpace(k) != "a" {
				return Gamma{}, fmt.Errorf("interp: gamma %q: unknown parameter %q (only a=VALUE)", spec, kv)
			}
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil || !(f >= 0) || math.IsInf(f, 0) {
				return Gamma{}, fmt.Errorf("interp: gamma %q: a must be a finite number ≥ 0", spec)
			}
			g.A = f
		}
	}
	if g.A == 0 {
		return Gamma{}, nil
	}
	return g, nil
}

// Interpolant is a path with a noise scale. The zero value is the linear
// interpolant with γ ≡ 0.
type Interpolant struct {
	Path  Path
	Gamma Gamma
}

// New parses a path name and a gamma spec (see ParsePath and ParseGamma) and
// validates the combination.
func New(path, gamma string) (Interpolant, error) {
	p, err := ParsePath(path)
	if err != nil {
		return Interpolant{}, err
	}
	g, err := ParseGamma(gamma)
	if err != nil {
		return Interpolant{}, err
	}
	ip := Interpolant{Path: p, Gamma: g}
	return ip, ip.Validate()
}

// Validate reports combinations that do not define an interpolant: a one-sided
// path with γ ≠ 0, an encoder–decoder without noise, a VP path whose γ
// reaches 1, an invalid shape or a negative or non-finite scale.
func (ip Interpolant) Validate() error {
	if ip.Path < 0 || int(ip.Path) >= len(pathNames) {
		return fmt.Errorf("interp: invalid path %d", int(ip.Path))
	}
	g := ip.Gamma
	if g.Shape < 0 || int(g.Shape) >= len(gammaNames) {
		return fmt.Errorf("interp: invalid gamma shape %d", int(g.Shape))
	}
	if !(g.A >= 0) || math.IsInf(g.A, 0) {
		return fmt.Errorf("interp: gamma scale a=%v must be a finite number ≥ 0", g.A)
	}
	switch ip.Path {
	case OneSided, OneSidedTrig:
		if !g.Zero() {
			return fmt.Errorf("interp: %s interpolant takes no gamma (x0 is the noise); got %s", ip.Path, g)
		}
	case EncDec:
		if g.Zero() {
			return fmt.Errorf("interp: encdec interpolant needs gamma > 0 (x_½ = γ·z), e.g. sinesquared:a=1")
		}
	case VP:
		if gmax := ip.gammaMax(); gmax >= 1 {
			return fmt.Errorf("interp: vp interpolant needs γ(t) < 1; %s reaches %.4g", g, gmax)
		}
	}
	return nil
}

// gammaMax is max over t ∈ [0, 1] of γ(t) (each shape peaks at t = ½).
func (ip Interpolant) gammaMax() float64 {
	v, _ := ip.Gamma.At(0.5)
	return v
}

// String returns "PATH" or "PATH+GAMMA".
func (ip Interpolant) String() string {
	if ip.Gamma.Zero() {
		return ip.Path.String()
	}
	return ip.Path.String() + "+" + ip.Gamma.String()
}

// Stochastic reports whether the model needs a denoiser η besides the drift:
// true when γ ≠ 0 or the path is one-sided (x0 is the latent noise).
func (ip Interpolant) Stochastic() bool {
	return !ip.Gamma.Zero() || ip.Path == OneSided || ip.Path == OneSidedTrig
}

// OneSided reports whether x0 plays the role of the Gaussian latent.
func (ip Interpolant) OneSided() bool { return ip.Path == OneSided || ip.Path == OneSidedTrig }

// NoiseScale returns the coefficient of the Gaussian latent in x_t: γ(t), or
// α(t) for one-sided paths. The score of x_t's law is s = −η/NoiseScale(t).
func (ip Interpolant) NoiseScale(t float64) float64 {
	c := ip.Coeffs(t)
	if ip.OneSided() {
		return c.A
	}
	return c.G
}

// Coeffs returns α, β, γ and their derivatives at t. The Brownian γ has an
// infinite derivative at t = 0 and 1 (DG = ±Inf there); every other
// coefficient is finite on [0, 1].
func (ip Interpolant) Coeffs(t float64) Coeffs {
	var c Coeffs
	c.G, c.DG = ip.Gamma.At(t)
	switch ip.Path {
	case Linear, OneSided:
		c.A, c.DA = 1-t, -1
		c.B, c.DB = t, 1
	case Trig, OneSidedTrig:
		s, co := math.Sincos(math.Pi * t / 2)
		c.A, c.DA = co, -math.Pi/2*s
		c.B, c.DB = s, math.Pi/2*co
	case VP:
		s, co := math.Sincos(math.Pi * t / 2)
		r := math.Sqrt(1 - c.G*c.G)
		// d r/dt = −γγ'/r, finite because γγ' is (see gammaDGamma).
		dr := -ip.Gamma.GammaDGamma(t) / r
		c.A, c.DA = r*co, dr*co-r*math.Pi/2*s
		c.B, c.DB = r*s, dr*s+r*math.Pi/2*co
	case EncDec:
		s, co := math.Sincos(math.Pi * t)
		v, d := co*co, -2*math.Pi*co*s
		if t <= 0.5 {
			c.A, c.DA = v, d
		} else {
			c.B, c.DB = v, d
		}
	default:
		panic(fmt.Sprintf("interp: invalid path %d", int(ip.Path)))
	}
	return c
}

// TEps is the margin TRange keeps from the endpoints when γ is Brownian.
const TEps = 1e-3

// TRange returns the interval [lo, hi] training times should be drawn from.
// It is [0, 1] except for the Brownian γ = √(a·t(1−t)), whose derivative
// γ' = a(1−2t)/(2γ) is infinite at both ends: the drift target
// b = α'x0 + β'x1 + γ'z then has variance ∝ 1/t near 0, so training times are
// drawn from [TEps, 1−TEps] (as Albergo et al.'s code does). The drift
// itself stays finite there, because E[γ'z | x_t] = −γγ'·s and γγ' = a(1−2t)/2
// is bounded; only the single-sample target blows up.
func (ip Interpolant) TRange() (lo, hi float64) {
	if !ip.Gamma.Zero() && ip.Gamma.Shape == Brownian {
		return TEps, 1 - TEps
	}
	return 0, 1
}

// SampleT fills t with independent draws from U[TRange()].
func (ip Interpolant) SampleT(rng *rand.Rand, t []float32) {
	lo, hi := ip.TRange()
	for i := range t {
		t[i] = float32(lo + (hi-lo)*rng.Float64())
	}
}

// Batch builds one batch of training data. Row i of x0, x1 and z is paired
// with time t[i]; Batch writes
//
//	xt[i]  = A·x0[i] + B·x1[i] + G·z[i]         (the model input)
//	b[i]   = DA·x0[i] + DB·x1[i] + DG·z[i]      (the drift target)
//	eta[i] = z[i], or x0[i] for one-sided paths (the denoiser target)
//
// with the coefficients taken at t[i] (computed in float64). z may be nil when
// γ ≡ 0 (it is then taken as zero); eta may be nil when no denoiser is
// trained. xt, b and eta must not alias the inputs. Mismatched shapes panic.
func (ip Interpolant) Batch(x0, x1, z *mat.Dense, t []float32, xt, b, eta *mat.Dense) {
	ip.batch(x0, x1, z, t, xt, b, eta, true)
}

// BatchSplit is Batch with the noise term left out of the drift target:
//
//	v[i] = DA·x0[i] + DB·x1[i]
//
// the target of the drift's noise-free part when the drift is split as
// b = v + DG·η (η the denoiser, E[z | x_t]). Unlike b's, v's target stays
// bounded where the Brownian γ's derivative DG is not.
func (ip Interpolant) BatchSplit(x0, x1, z *mat.Dense, t []float32, xt, v, eta *mat.Dense) {
	ip.batch(x0, x1, z, t, xt, v, eta, false)
}

// batch is Batch (noise in the drift target) or BatchSplit (not).
func (ip Interpolant) batch(x0, x1, z *mat.Dense, t []float32, xt, b, eta *mat.Dense, noise bool) {
	n, d := x0.R, x0.C
	check := func(name string, m *mat.Dense) {
		if m != nil && (m.R != n || m.C != d) {
			panic(fmt.Sprintf("interp: Batch: %s is %s but x0 is %s", name, m.Shape(), x0.Shape()))
		}
	}
	check("x1", x1)
	check("z", z)
	check("xt", xt)
	check("b", b)
	check("eta", eta)
	if len(t) != n {
		panic(fmt.Sprintf("interp: Batch: %d times for x0 %s", len(t), x0.Shape()))
	}
	if z == nil && !ip.Gamma.Zero() {
		panic("interp: Batch: z is nil but the interpolant has γ ≠ 0")
	}
	if xt == nil || b == nil {
		panic("interp: Batch: xt and b are required")
	}
	for i := 0; i < n; i++ {
		c := ip.Coeffs(float64(t[i]))
		a, bb, g := float32(c.A), float32(c.B), float32(c.G)
		da, db, dg := float32(c.DA), float32(c.DB), float32(c.DG)
		if !noise {
			dg = 0
		}
		r0, r1 := x0.Row(i), x1.Row(i)
		rt, rb := xt.Row(i), b.Row(i)
		if z != nil {
			rz := z.Row(i)
			for j := range r0 {
				rt[j] = a*r0[j] + bb*r1[j] + g*rz[j]
				rb[j] = da*r0[j] + db*r1[j] + dg*rz[j]
			}
		} else {
			for j := range r0 {
				rt[j] = a*r0[j] + bb*r1[j]
				rb[j] = da*r0[j] + db*r1[j]
			}
		}
		if eta != nil {
			if ip.OneSided() {
				copy(eta.Row(i), r0)
			} else if z != nil {
				copy(eta.Row(i), z.Row(i))
			} else {
				clear(eta.Row(i))
			}
		}
	}
}

// FillNormal fills m with independent N(0, 1) draws from rng, row by row.
func FillNormal(rng *rand.Rand, m *mat.Dense) {
	for i := range m.Data {
		m.Data[i] = float32(rng.NormFloat64())
	}
}
