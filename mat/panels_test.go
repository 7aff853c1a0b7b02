package mat

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestPanelsRoute checks the panels route of GemmBiasActPacked (Identity,
// a few whole row tiles) on every kernel path: bit for bit the general
// path's Gemm followed by BiasAct, and within float32 rounding of a float64
// reference, at shapes with a ragged last panel (n not a multiple of nr,
// and narrower than a vector), B packed from B or Bᵀ, a reduction from just
// past the small-k kernels to the longest that is one block, out separate
// from pre, and a column count beyond one column block. It also checks the
// route is taken where it should be and not where the general path sums
// otherwise (the small-k, transposed and several-block shapes).
func TestPanelsRoute(t *testing.T) {
	withKernels(t, func(t *testing.T, kern Kernel) {
		g := &paths[kern]
		r := panelsRows(g)
		if r == 0 {
			t.Skip("no panels kernel on this path")
		}
		rng := rand.New(rand.NewPCG(31, 32))
		var p Packed
		for _, s := range []struct{ rows, n, k int }{
			{1, 13, 5}, {1, 16, 16}, {2, 33, 16}, {1, 514, 16}, {4, 100, 17}, {1, 1100, 32}, {2, 320, 64}, {1, 47, 256},
		} {
			m := s.rows * r
			for _, tB := range []bool{false, true} {
				t.Run(fmt.Sprintf("%dx%dx%d-tB%v", m, s.n, s.k, tB), func(t *testing.T) {
					if !panelsRoute(g, tB, m, s.n, s.k, Identity) {
						t.Fatal("the panels route is not taken")
					}
					a, b := randDense(rng, m, s.k), randDense(rng, s.k, s.n)
					if tB {
						b = randDense(rng, s.n, s.k)
					}
					bias := randDense(rng, 1, s.n).Data
					want := New(m, s.n)
					Gemm(false, tB, 1, a, b, 0, want)
					BiasAct(Identity, want, bias, want)
					Pack(tB, b, &p)
					pre, out := New(m, s.n), New(m, s.n)
					Threads(1).GemmBiasActPacked(a, &p, bias, Identity, pre, out)
					for i, w := range want.Data {
						if math.Float32bits(pre.Data[i]) != math.Float32bits(w) || math.Float32bits(out.Data[i]) != math.Float32bits(w) {
							t.Fatalf("element %d: pre %v, out %v, want %v (bits differ)", i, pre.Data[i], out.Data[i], w)
						}
					}
					// Against float64: |error| ≤ k·2⁻²³·Σ|a·b| + |bias|·2⁻²⁴
					// (each of the k FMAs and the bias add rounds once).
					for i := range m {
						for j := range s.n {
							sum, mag := float64(bias[j]), math.Abs(float64(bias[j]))
							for q := range s.k {
								var bv float32
								if tB {
									bv = b.At(j, q)
								} else {
									bv = b.At(q, j)
								}
								sum += float64(a.At(i, q)) * float64(bv)
								mag += math.Abs(float64(a.At(i, q)) * float64(bv))
							}
							if d := math.Abs(float64(pre.At(i, j)) - sum); d > float64(s.k+1)*0x1p-23*mag {
								t.Fatalf("C[%d,%d] = %v, float64 %v", i, j, pre.At(i, j), sum)
							}
						}
					}
				})
			}
		}
		for _, s := range []struct {
			name    string
			m, n, k int
			act     Activation
		}{
			{"small-k", r, 64, 4, Identity}, {"transposed", 2 * r, 6, 16, Identity}, {"two blocks", r, 64, 2000, Identity},
			{"SiLU", r, 64, 16, SiLU}, {"ragged rows", r + 1, 64, 16, Identity}, {"many rows", panelsMaxRows + r, 64, 16, Identity},
		} {
			if s.m%r == 0 && s.n <= skinnyMax && s.m < 2*s.n {
				t.Fatalf("%s: not a transposed shape", s.name)
			}
			if panelsRoute(g, true, s.m, s.n, s.k, s.act) {
				t.Errorf("%s (%dx%dx%d): the panels route is taken", s.name, s.m, s.n, s.k)
			}
		}
	})
}
