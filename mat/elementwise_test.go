package mat

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
)

// withKernels runs f once per kernel path this CPU supports, each forced.
func withKernels(t *testing.T, f func(t *testing.T, k Kernel)) {
	for _, k := range SupportedKernels() {
		restore, err := SetKernel(k)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(k.String(), func(t *testing.T) { f(t, k) })
		restore()
	}
}

// TestExpVec checks the vectorised exp against math.Exp on [-87, 88] (where
// exp(x) is a normal float32) and at special points. Tolerance: relative
// error ≤ 1.8e-7 (1.5 ulp of float32 at the top of a binade): the degree-6
// polynomial's own error is 2.5e-9 on |r| ≤ ln2/2, its float32 evaluation
// rounds about four times at ≤ ½ ulp of terms below ½ except the last, the
// two-part ln 2 reduction with FMA adds far less, and the scaling by 2ⁿ is
// exact. The 15 special points make the length odd, so the padded tail is
// covered too.
func TestExpVec(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	xs := []float32{0, 1, -1, 1e-8, -1e-8, 0.5, -0.5, 0.34657359, -0.34657359, 10, -10, 80, -80, 88, -87}
	for range 20000 {
		xs = append(xs, float32(-87+175*rng.Float64()))
	}
	withKernels(t, func(t *testing.T, k Kernel) {
		got := make([]float32, len(xs))
		if !expVec(k, got, xs) {
			t.Skip("no vectorised exp on this path")
		}
		worst, at := 0.0, float32(0)
		for i, x := range xs {
			want := math.Exp(float64(x))
			if e := math.Abs(float64(got[i])-want) / want; e > worst || math.IsNaN(e) {
				worst, at = e, x
			}
		}
		t.Logf("max relative error %.3g at x=%v over %d points", worst, at, len(xs))
		if !(worst <= 1.8e-7) {
			t.Errorf("max relative error %.3g at x=%v", worst, at)
		}
		// Overflow and underflow saturate sensibly.
		big := make([]float32, 2)
		expVec(k, big, []float32{200, -200})
		if !(big[0] > 1e38) || !(big[1] < 1e-37) || big[1] < 0 {
			t.Errorf("exp(200), exp(-200) = %v, %v", big[0], big[1])
		}
	})
}

// act64 is a float64 reference for the activations, from their definitions.
func act64(a Activation, x float64) float64 {
	switch a {
	case SiLU:
		return x / (1 + math.Exp(-x))
	case ReLU:
		return math.Max(x, 0)
	case Tanh:
		return math.Tanh(x)
	case SELU:
		if x > 0 {
			return seluScale * x
		}
		return seluScale * seluAlpha * math.Expm1(x)
	case GELU:
		// ½x(1 + tanh w) with ½(1 + tanh w) = e^w/(e^w + e^{−w}), which keeps
		// its digits in the tail w → −∞ where 1 + tanh w cancels.
		w := geluC * (x + 0.044715*x*x*x)
		if w >= 0 {
			return 0.5 * x * (1 + math.Tanh(w))
		}
		return x * math.Exp(w) / (math.Exp(w) + math.Exp(-w))
	}
	return x
}

// actD64 is the float64 derivative of act64, from the closed forms
// (1 − tanh² written as sech² so it keeps its digits where tanh → ±1).
func actD64(a Activation, x float64) float64 {
	switch a {
	case SiLU:
		s := 1 / (1 + math.Exp(-x))
		return s * (1 + x*(1-s))
	case ReLU:
		if x > 0 {
			return 1
		}
		return 0
	case Tanh:
		c := math.Cosh(x)
		return 1 / (c * c)
	case SELU:
		if x > 0 {
			return seluScale
		}
		return seluScale * seluAlpha * math.Exp(x)
	case GELU:
		u := geluC * (x + 0.044715*x*x*x)
		c := math.Cosh(u)
		return 0.5*(1+math.Tanh(u)) + 0.5*x/(c*c)*geluC*(1+3*0.044715*x*x)
	}
	return 1
}

// close32 reports whether got is within rel·|want| + abs of want.
func close32(got float32, want, rel, abs float64) bool {
	return math.Abs(float64(got)-want) <= rel*math.Abs(want)+abs
}

// TestBiasAct checks BiasAct on every path and activation against float64.
// Tolerance: z+bias is one float32 addition, so z must equal the float32 sum
// exactly; act(z) within 1e-6 relative + 1e-30 absolute: the activations are
// a few float32 operations (or float64 ones rounded) each adding ≤ 1 ulp
// (6e-8), and SiLU's exp is within 1 ulp (see TestExpVec). The absolute 1e-30
// covers SiLU of very negative inputs, where the vector path's exp saturates
// and returns ±0 or a tiny value for a true value of order 1e-37 or less.
func TestBiasAct(t *testing.T) {
	shapes := [][2]int{{5, 1}, {5, 2}, {5, 7}, {5, 16}, {5, 17}, {5, 33}, {5, 48}, {5, 64}, {5, 80},
		// Narrow rows that tile a vector, with and without a tail.
		{17, 1}, {11, 2}, {16, 2}, {9, 4}, {3, 8}}
	withKernels(t, func(t *testing.T, k Kernel) {
		rng := rand.New(rand.NewPCG(9, 10))
		for _, act := range []Activation{Identity, SiLU, ReLU, Tanh, SELU, GELU} {
			t.Run(act.String(), func(t *testing.T) {
				for _, sh := range shapes {
					checkBiasAct(t, rng, act, sh[0], sh[1])
				}
			})
		}
		// Rows narrower than a vector take the vector path (a vector of
		// rows against the repeated bias), with or without a tail.
		if k != Generic {
			for _, rows := range []int{11, 16} {
				z, out := make([]float32, 2*rows), make([]float32, 2*rows)
				if !biasActVec(k, Identity, z, []float32{1, 2}, out, 2) {
					t.Fatalf("%d×2 rows did not take the vector path", rows)
				}
			}
		}
		// Identity in place.
		z := randDense(rng, 3, 20)
		want := z.Clone()
		bias := randDense(rng, 1, 20).Data
		BiasAct(Identity, z, bias, z)
		for i := range z.Data {
			if z.Data[i] != want.Data[i]+bias[i%20] {
				t.Fatalf("identity in place: %v, want %v", z.Data[i], want.Data[i]+bias[i%20])
			}
		}
	})
}

// checkBiasAct runs BiasAct on a random rows×cols z (spread over the
// interesting range, with −100, 100 and 0 for 17 columns) and checks it
// within TestBiasAct's tolerances.
func checkBiasAct(t *testing.T, rng *rand.Rand, act Activation, rows, cols int) {
	t.Helper()
	z := randDense(rng, rows, cols)
	for i := range z.Data {
		z.Data[i] *= 12
	}
	if cols == 17 {
		z.Data[0], z.Data[1], z.Data[2] = -100, 100, 0
	}
	bias := randDense(rng, 1, cols).Data
	z0 := z.Clone()
	out := New(rows, cols)
	BiasAct(act, z, bias, out)
	for i := range z.Data {
		pre := z0.Data[i] + bias[i%cols]
		if z.Data[i] != pre {
			t.Fatalf("%d×%d: z[%d] = %v, want %v", rows, cols, i, z.Data[i], pre)
		}
		if act == Identity || act == ReLU { // exact: one add (and a max)
			want := pre
			if act == ReLU {
				want = max(pre, 0)
			}
			if out.Data[i] != want {
				t.Fatalf("%d×%d: out[%d] = %v, want %v exactly", rows, cols, i, out.Data[i], want)
			}
		}
		if want := act64(act, float64(pre)); !close32(out.Data[i], want, 1e-6, 1e-30) {
			t.Fatalf("%d×%d: act(%v) = %v, want %v", rows, cols, pre, out.Data[i], want)
		}
	}
}

// TestBiasActSpecials checks that NaN, ±0 and ±Inf through Identity and
// ReLU give the bits of Go's z + b and max(z + b, 0) on each kernel path,
// with narrow rows (vectors of rows, then a tail of 14 elements), one vector
// a row, and vectors plus a tail of 4 (the bias is −0, so that a −0 reaches
// the activation).
func TestBiasActSpecials(t *testing.T) {
	specials := []float32{float32(math.NaN()), float32(math.Copysign(0, -1)), 0, float32(math.Inf(1)), float32(math.Inf(-1)), -3, 5}
	withKernels(t, func(t *testing.T, k Kernel) {
		for _, act := range []Activation{Identity, ReLU} {
			for _, cols := range []int{2, 16, 20} {
				t.Run(fmt.Sprintf("%s_cols%d", act, cols), func(t *testing.T) {
					z := New(23, cols)
					for i := range z.Data {
						z.Data[i] = specials[i%len(specials)]
					}
					bias := make([]float32, cols)
					for j := range bias {
						bias[j] = float32(math.Copysign(0, -1))
					}
					out := New(23, cols)
					want := z.Clone()
					BiasAct(act, z, bias, out)
					for i, x := range want.Data {
						pre := x + bias[i%cols]
						w := pre
						if act == ReLU {
							w = max(pre, 0)
						}
						if math.Float32bits(z.Data[i]) != math.Float32bits(pre) || math.Float32bits(out.Data[i]) != math.Float32bits(w) {
							t.Fatalf("%v → pre %v, out %v; want %v, %v", x, z.Data[i], out.Data[i], pre, w)
						}
					}
				})
			}
		}
	})
}

// TestActBackward checks g·act'(pre) against the float64 derivative.
// Tolerance 2e-6 relative + 1e-15 absolute: act' is a handful of float32
// operations (each ≤ 1 ulp) or a float64 formula rounded once, plus the
// multiply by g, and SiLU's s(1+x(1−s)) has no cancellation large enough to
// amplify them past that for |x| ≤ 12, except near its zero (x ≈ −1.28),
// where 1 and x(1−s) cancel: there the bound is 2e-6 of the terms' size,
// |g|·s·(1 + |x|(1−s)), not of the result. GELU's derivative is a float64 sum of
// order-1 terms that cancel far in the tail, so it carries an absolute error
// of ~1e-16 there (hence the 1e-15). Inputs are kept 1e-3 away from ReLU's
// kink.
func TestActBackward(t *testing.T) {
	withKernels(t, func(t *testing.T, k Kernel) {
		rng := rand.New(rand.NewPCG(11, 12))
		for _, act := range []Activation{Identity, SiLU, ReLU, Tanh, SELU, GELU} {
			t.Run(act.String(), func(t *testing.T) {
				for _, n := range []int{1, 7, 16, 33, 100} {
					pre, g := randDense(rng, 1, n), randDense(rng, 1, n)
					for i := range pre.Data {
						pre.Data[i] *= 12
						if math.Abs(float64(pre.Data[i])) < 1e-3 {
							pre.Data[i] = 0.5
						}
					}
					if n == 33 {
						pre.Data[0], pre.Data[1] = -100, 100
					}
					g0 := g.Clone()
					ActBackward(act, pre, g)
					for i, x := range pre.Data {
						want := float64(g0.Data[i]) * actD64(act, float64(x))
						// SiLU's s(1 + x(1−s)) cancels where it crosses zero
						// (x ≈ −1.28): bound its error by the size of its terms.
						scale := math.Abs(want)
						if act == SiLU {
							x := float64(x)
							s := 1 / (1 + math.Exp(-x))
							scale = math.Abs(float64(g0.Data[i])) * s * (1 + math.Abs(x)*(1-s))
						}
						if !(math.Abs(float64(g.Data[i])-want) <= 2e-6*scale+1e-15) {
							t.Fatalf("%s n=%d: g·act'(%v) = %v, want %v", act, n, x, g.Data[i], want)
						}
					}
				}
			})
		}
	})
}

// TestColSumAdd checks column sums against float64. Tolerance: a float32 sum
// of R+1 terms has absolute error at most (R+1)·2⁻²⁴·Σ|terms| (the classical
// recursive-summation bound); we allow (R+1)·6e-8·Σ|terms|.
func TestColSumAdd(t *testing.T) {
	withKernels(t, func(t *testing.T, k Kernel) {
		rng := rand.New(rand.NewPCG(13, 14))
		for _, sh := range [][2]int{{1, 1}, {3, 7}, {50, 16}, {17, 33}, {200, 64}, {64, 100}, {5, 200}} {
			t.Run(fmt.Sprintf("%dx%d", sh[0], sh[1]), func(t *testing.T) {
				g := randDense(rng, sh[0], sh[1])
				dst := randDense(rng, 1, sh[1]).Data
				d0 := append([]float32(nil), dst...)
				ColSumAdd(g, dst)
				for j := range dst {
					s, abs := float64(d0[j]), math.Abs(float64(d0[j]))
					for i := 0; i < g.R; i++ {
						s += float64(g.At(i, j))
						abs += math.Abs(float64(g.At(i, j)))
					}
					if tol := float64(g.R+1) * 6e-8 * abs; math.Abs(float64(dst[j])-s) > tol {
						t.Fatalf("shape %v col %d: %v, want %v ± %.2g", sh, j, dst[j], s, tol)
					}
				}
			})
		}
	})
}

// TestElementwiseThreadsBitIdentical checks that the element-wise operations,
// which split large inputs across goroutines, give the same bits for any
// GOMAXPROCS, and that the split path agrees with the float64 references as
// the serial one does (same tolerances as above).
func TestElementwiseThreadsBitIdentical(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	const r, c = 300, 257 // 77100 elements: above ewParallelMin
	withKernels(t, func(t *testing.T, k Kernel) {
		rng := rand.New(rand.NewPCG(21, 22))
		z0, g0 := randDense(rng, r, c), randDense(rng, r, c)
		for i := range z0.Data {
			z0.Data[i] *= 8
		}
		bias := randDense(rng, 1, c).Data
		run := func(th Threads) [][]float32 {
			z, out, g := z0.Clone(), New(r, c), g0.Clone()
			if th == 0 {
				BiasAct(SiLU, z, bias, out)
				ActBackward(SiLU, z, g)
			} else {
				th.BiasAct(SiLU, z, bias, out)
				th.ActBackward(SiLU, z, g)
			}
			dst := make([]float32, c)
			ColSumAdd(g, dst)
			return [][]float32{z.Data, out.Data, g.Data, dst}
		}
		runtime.GOMAXPROCS(1)
		want := run(0)
		for i, x := range want[1] {
			pre := float64(z0.Data[i] + bias[i%c])
			if !close32(x, act64(SiLU, pre), 1e-6, 1e-30) {
				t.Fatalf("silu(%v) = %v, want %v", pre, x, act64(SiLU, pre))
			}
		}
		// GOMAXPROCS 2 and 3, then Threads(1) and Threads(2) under 3.
		for i, th := range []Threads{0, 0, 1, 2} {
			procs := min(i+2, 3)
			runtime.GOMAXPROCS(procs)
			got := run(th)
			for a := range want {
				for i := range want[a] {
					if math.Float32bits(got[a][i]) != math.Float32bits(want[a][i]) {
						t.Fatalf("GOMAXPROCS=%d Threads(%d): output %d element %d: %v, want %v", procs, th, a, i, got[a][i], want[a][i])
					}
				}
			}
		}
	})
}

// TestActBackwardSpecials checks that the vector paths treat NaN and ±Inf in
// g and pre exactly as the scalar definition g·act'(pre) does (ReLU's
// derivative multiplies, so NaN·0 stays NaN), for SiLU and ReLU. (SiLU's
// derivative at pre = ±Inf is 0·Inf in the formula, undefined on every path,
// and not compared.)
func TestActBackwardSpecials(t *testing.T) {
	inf, nan := float32(math.Inf(1)), float32(math.NaN())
	pre := NewFrom(1, 20, []float32{-1, 1, 0, -0.5, 2, nan, inf, -inf, 3, -3, 0.25, -2, 1, -1, 5, -5, 0.5, -0.5, 7, -7})
	g0 := NewFrom(1, 20, []float32{nan, inf, -inf, nan, nan, 1, 1, 1, inf, -inf, 0, 2, 3, 4, 5, 6, 7, 8, 9, 10})
	for _, act := range []Activation{ReLU, SiLU} {
		t.Run(act.String(), func(t *testing.T) {
			want := make([]float32, 20)
			for i, x := range pre.Data {
				want[i] = g0.Data[i] * actD(act, x)
			}
			withKernels(t, func(t *testing.T, k Kernel) {
				g := g0.Clone()
				ActBackward(act, pre, g)
				for i := range want {
					w, v := want[i], g.Data[i]
					if act == SiLU && math.IsInf(float64(pre.Data[i]), 0) {
						continue // s(1+x(1−s)) at x = ±Inf is 0·Inf: undefined either way
					}
					if v == w || (math.IsNaN(float64(w)) && math.IsNaN(float64(v))) {
						continue
					}
					if math.IsNaN(float64(w)) != math.IsNaN(float64(v)) || math.IsInf(float64(w), 0) || !close32(v, float64(w), 2e-6, 0) {
						t.Errorf("%s: g=%v pre=%v: got %v, want %v", act, g0.Data[i], pre.Data[i], v, w)
					}
				}
			})
		})
	}
}

// TestSiLUSameBitsEverywhere checks that bias+SiLU, and SiLU's gradient,
// give an element the same bits wherever it sits: in the first or second
// vector of the AVX-512 loops' pairs, in their single vector for an odd
// count, or in a padded tail (rows of 50: 32 + 16 + 2 on AVX-512, 48 + 2 on
// AVX2).
func TestSiLUSameBitsEverywhere(t *testing.T) {
	withKernels(t, func(t *testing.T, k Kernel) {
		for _, v := range []float32{-100, -20, -1.2785, -0.5, 0, 1e-8, 0.7, 3, 17, 90} {
			z, out := New(3, 50), New(3, 50)
			for i := range z.Data {
				z.Data[i] = v
			}
			BiasAct(SiLU, z, make([]float32, 50), out)
			for i, o := range out.Data {
				if math.Float32bits(o) != math.Float32bits(out.Data[0]) {
					t.Fatalf("silu(%v): element %d is %v, element 0 %v", v, i, o, out.Data[0])
				}
			}
			// The gradient on the same 150 elements, taken as one run
			// (9 vectors and 6 more on AVX-512).
			g := New(3, 50)
			for i := range g.Data {
				g.Data[i] = 1
			}
			ActBackward(SiLU, z, g)
			for i, o := range g.Data {
				if math.Float32bits(o) != math.Float32bits(g.Data[0]) {
					t.Fatalf("silu'(%v): element %d is %v, element 0 %v", v, i, o, g.Data[0])
				}
			}
		}
	})
}

// TestSiLUExtremes checks SiLU and its derivative on every path at the
// edges of the vector code's clamp (|z| = 88) and far beyond, up to the
// largest float32, at +Inf and at NaN, against the float64 definitions with
// the relative tolerances of TestBiasAct and TestActBackward (1e-6 and 2e-6)
// and 1e-36 absolute: for z ≤ −88 the true values are below 6e-37 in
// magnitude, and the vector code, which clamps there, returns about −5e-37
// (−88/(1 + e⁸⁸)) or 0. The vector code clamps exp's argument, so these are the inputs
// where a clamp that leaks into the result would show. (−Inf is left out,
// and the derivative at +Inf: z/(1+e^−z) is −Inf/Inf at −Inf, and
// s(1+x(1−s)) is 0·Inf at ±Inf, undefined in the formulas.)
func TestSiLUExtremes(t *testing.T) {
	xs := []float32{-3e38, -1e30, -1e10, -1e4, -104, -90, -88.5, -88, -87.5, -20,
		20, 87.5, 88, 88.5, 90, 104, 1e4, 1e10, 1e30, 3e38, float32(math.Inf(1)), float32(math.NaN())}
	for len(xs) < 32 {
		xs = append(xs, float32(len(xs))-27)
	}
	withKernels(t, func(t *testing.T, k Kernel) {
		z := NewFrom(1, len(xs), append([]float32(nil), xs...))
		out := New(1, len(xs))
		BiasAct(SiLU, z, make([]float32, len(xs)), out)
		g := New(1, len(xs))
		for i := range g.Data {
			g.Data[i] = 1
		}
		ActBackward(SiLU, NewFrom(1, len(xs), xs), g)
		for i, x := range xs {
			x64 := float64(x)
			for _, c := range []struct {
				what      string
				got       float32
				want, tol float64
			}{
				{"silu", out.Data[i], act64(SiLU, x64), 1e-6},
				{"silu'", g.Data[i], actD64(SiLU, x64), 2e-6},
			} {
				if math.IsInf(x64, 0) && c.what == "silu'" {
					continue
				}
				if math.IsNaN(c.want) {
					if !math.IsNaN(float64(c.got)) {
						t.Errorf("%s(%v) = %v, want NaN", c.what, x, c.got)
					}
					continue
				}
				if c.got != float32(c.want) && !close32(c.got, c.want, c.tol, 1e-36) {
					t.Errorf("%s(%v) = %v, want %v", c.what, x, c.got, c.want)
				}
			}
		}
	})
}
