package mat

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// modRowValues returns n values: random normals of mixed scale, with
// zeros of both signs, infinities, a subnormal and values whose products
// overflow or underflow scattered among them.
func modRowValues(rng *rand.Rand, n int) []float32 {
	special := []float32{0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)),
		1e-40, 3e38, -3e38, 1e-30, 1}
	v := make([]float32, n)
	for i := range v {
		if rng.IntN(8) == 0 {
			v[i] = special[rng.IntN(len(special))]
		} else {
			v[i] = float32(rng.NormFloat64() * math.Pow(10, float64(rng.IntN(7)-3)))
		}
	}
	return v
}

// mul32 and add32 are float32 multiplication and addition computed in
// float64 and rounded once: exact, since float64 holds a float32 product
// exactly and has more than twice float32's precision for the sum (so the
// double rounding of the sum is harmless). They define the results the row
// operations must give, bit for bit.
func mul32(a, b float32) float32 { return float32(float64(a) * float64(b)) }
func add32(a, b float32) float32 { return float32(float64(a) + float64(b)) }

// sameBits32 reports whether a and b hold the same bits, or are both NaN.
func sameBits32(a, b float32) bool {
	return math.Float32bits(a) == math.Float32bits(b) || a != a && b != b
}

// TestModRows checks MulAdd, Mul, MulGrad and AddRows against the float64
// definitions above, bit for bit (an inf·0 gives NaN on both sides), on
// every kernel path, at lengths below, at and between the vector widths
// (the scalar tail), and with Mul writing over its input.
func TestModRows(t *testing.T) {
	withKernels(t, func(t *testing.T, k Kernel) {
		for _, n := range []int{0, 1, 3, 7, 8, 9, 15, 16, 17, 31, 40, 100, 257} {
			t.Run(fmt.Sprint(n), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(uint64(n), 11))
				u, s, c, g := modRowValues(rng, n), modRowValues(rng, n), modRowValues(rng, n), modRowValues(rng, n)
				d := make([]float32, n)
				MulAdd(d, u, s, c)
				for i := range d {
					if w := add32(mul32(u[i], s[i]), c[i]); !sameBits32(d[i], w) {
						t.Fatalf("MulAdd[%d] = %v, want %v (u %v, s %v, c %v)", i, d[i], w, u[i], s[i], c[i])
					}
				}
				Mul(d, u, s)
				in := append([]float32(nil), u...)
				Mul(in, in, s)
				for i := range d {
					w := mul32(u[i], s[i])
					if !sameBits32(d[i], w) || !sameBits32(in[i], w) {
						t.Fatalf("Mul[%d] = %v (in place %v), want %v", i, d[i], in[i], w)
					}
				}
				// AddRows: three rows of width n, 5 apart (stride ≠ width).
				src := modRowValues(rng, 2*(n+5)+n)
				sum := append([]float32(nil), c...)
				AddRows(sum, src, n+5, 3)
				for i := range sum {
					w := add32(add32(add32(c[i], src[i]), src[n+5+i]), src[2*(n+5)+i])
					if !sameBits32(sum[i], w) {
						t.Fatalf("AddRows[%d] = %v, want %v", i, sum[i], w)
					}
				}
				g0 := append([]float32(nil), g...)
				ds, dc := make([]float32, n), make([]float32, n)
				MulGrad(g, u, s, ds, dc)
				for i := range g {
					if !sameBits32(dc[i], g0[i]) || !sameBits32(ds[i], mul32(g0[i], u[i])) || !sameBits32(g[i], mul32(g0[i], s[i])) {
						t.Fatalf("MulGrad[%d]: dc %v ds %v g %v, want %v %v %v", i, dc[i], ds[i], g[i], g0[i], mul32(g0[i], u[i]), mul32(g0[i], s[i]))
					}
				}
			})
		}
	})
}

// TestModRowsShort checks that a slice shorter than d (or g) panics.
func TestModRowsShort(t *testing.T) {
	a, b := make([]float32, 20), make([]float32, 19)
	for name, f := range map[string]func(){
		"MulAdd":  func() { MulAdd(a, a, a, b) },
		"Mul":     func() { Mul(a, b, a) },
		"MulGrad": func() { MulGrad(a, a, a, a[:0:0], b) },
		"AddRows": func() { AddRows(a, b, 20, 1) },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("%s with a short slice did not panic", name)
				}
			}()
			f()
		})
	}
}
