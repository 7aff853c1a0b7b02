package mat

import (
	"math"
	"math/rand/v2"
	"testing"
)

// FuzzParseKernel checks that ParseKernel accepts exactly the names String
// prints and never panics.
func FuzzParseKernel(f *testing.F) {
	for _, s := range []string{"generic", "avx2", "avx512", "", "AVX2", "avx3", "avx512\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k, err := ParseKernel(s)
		if err != nil {
			return
		}
		if k.String() != s {
			t.Fatalf("ParseKernel(%q) = %v, which prints as %q", s, k, k.String())
		}
	})
}

// FuzzParseActivation checks that ParseActivation accepts exactly the names
// String prints and never panics.
func FuzzParseActivation(f *testing.F) {
	for _, s := range []string{"silu", "relu", "tanh", "selu", "gelu", "identity", "", "SiLU", "swish"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseActivation(s)
		if err != nil {
			return
		}
		if a.String() != s {
			t.Fatalf("ParseActivation(%q) = %v, which prints as %q", s, a, a.String())
		}
	})
}

// FuzzGemm compares Gemm with the float64 reference on fuzzed small shapes,
// transposes and scalars, on every kernel path. Fuzzed α and β can make
// α·AB and β·C cancel, so the tolerance is the rigorous element-wise bound
// for recursive summation, not a relative one: |C−C_ref| ≤ (k+2)·2⁻²⁴·
// (|α|·Σ_p|a_ip||b_pj| + |β·c_ij|) (k products and sums, the α scaling and
// the β term each round once), checked with a factor of 1.01 for the float64
// reference's own rounding.
func FuzzGemm(f *testing.F) {
	f.Add(uint8(5), uint8(3), uint16(7), uint8(0), int8(3), int8(1), uint64(1))
	f.Add(uint8(40), uint8(2), uint16(256), uint8(3), int8(-4), int8(0), uint64(2))
	f.Add(uint8(13), uint8(33), uint16(257), uint8(1), int8(4), int8(-2), uint64(3))
	f.Fuzz(func(t *testing.T, m8, n8 uint8, k16 uint16, tr uint8, al, be int8, seed uint64) {
		m, n, k := int(m8%48)+1, int(n8%48)+1, int(k16%300)+1
		tA, tB := tr&1 != 0, tr&2 != 0
		alpha, beta := float32(al)/4, float32(be)/4
		if alpha == 0 {
			alpha = 1
		}
		rng := rand.New(rand.NewPCG(seed, 7))
		a, b, c0 := randDense(rng, m, k), randDense(rng, k, n), randDense(rng, m, n)
		want := refGemm(float64(alpha), a, b, float64(beta), c0)
		aa, bb := a, b
		if tA {
			aa = transposeDense(a)
		}
		if tB {
			bb = transposeDense(b)
		}
		for _, kern := range SupportedKernels() {
			restore, _ := SetKernel(kern)
			c := c0.Clone()
			Gemm(tA, tB, alpha, aa, bb, beta, c)
			restore()
			for i := 0; i < m; i++ {
				for j := 0; j < n; j++ {
					var mag float64
					for p := 0; p < k; p++ {
						mag += math.Abs(float64(a.At(i, p)) * float64(b.At(p, j)))
					}
					bound := float64(k+2) * 0x1p-24 * (math.Abs(float64(alpha))*mag + math.Abs(float64(beta)*float64(c0.At(i, j))))
					if d := math.Abs(float64(c.At(i, j)) - want[i*n+j]); !(d <= 1.01*bound) {
						t.Fatalf("%s m=%d n=%d k=%d tA=%v tB=%v α=%v β=%v: C[%d,%d] = %v, want %v ± %.3g",
							kern, m, n, k, tA, tB, alpha, beta, i, j, c.At(i, j), want[i*n+j], bound)
					}
				}
			}
		}
	})
}
