package mat

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync/atomic"
	"testing"
)

// TestPackedBitIdentical checks that products from a Packed B have exactly
// the bits of GemmBiasAct from B itself, on every kernel path, for one and
// two goroutines, across the shapes that matter: several reduction blocks
// (k beyond the block), several column blocks (n beyond 1024), both at once,
// ragged edges, the small-k route large enough to run on two goroutines, few rows (where Gemm would read B in place), and the few-column
// shapes Gemm computes another way (where the Packed falls back to B). A
// Packed made on one path and used on another must fall back too.
func TestPackedBitIdentical(t *testing.T) {
	shapes := []struct{ m, n, k int }{
		{512, 64, 3}, {512, 64, 64}, {100, 33, 17}, {7, 40, 9}, {20, 64, 64},
		{300, 1100, 70}, {64, 96, 1500}, {40, 1100, 1500}, {256, 2, 64}, {256, 10, 64}, {1, 1, 1},
		{4100, 1056, 4}, // the small-k route on two goroutines, from the Packed
	}
	withKernels(t, func(t *testing.T, k Kernel) {
		rng := rand.New(rand.NewPCG(21, 22))
		var p Packed
		for _, s := range shapes {
			t.Run(fmt.Sprintf("%dx%dx%d", s.m, s.n, s.k), func(t *testing.T) {
				for _, tB := range []bool{false, true} {
					a := randDense(rng, s.m, s.k)
					b := randDense(rng, s.k, s.n)
					if tB {
						b = randDense(rng, s.n, s.k)
					}
					bias := randDense(rng, 1, s.n).Data
					wantPre, wantOut := New(s.m, s.n), New(s.m, s.n)
					GemmBiasAct(false, tB, a, b, bias, SiLU, wantPre, wantOut)
					Pack(tB, b, &p)
					for _, th := range []Threads{1, 2} {
						pre, out := New(s.m, s.n), New(s.m, s.n)
						th.GemmBiasActPacked(a, &p, bias, SiLU, pre, out)
						for i := range pre.Data {
							if math.Float32bits(pre.Data[i]) != math.Float32bits(wantPre.Data[i]) ||
								math.Float32bits(out.Data[i]) != math.Float32bits(wantOut.Data[i]) {
								t.Fatalf("%v tB=%v Threads(%d): element %d: pre %v out %v, want %v %v",
									s, tB, th, i, pre.Data[i], out.Data[i], wantPre.Data[i], wantOut.Data[i])
							}
						}
					}
				}
			})
		}
		// Packed on this path, used on another: B itself is read.
		a, b := randDense(rng, 50, 70), randDense(rng, 40, 70)
		bias := make([]float32, 40)
		Pack(true, b, &p)
		for _, other := range SupportedKernels() {
			restore, _ := SetKernel(other)
			want, got := New(50, 40), New(50, 40)
			GemmBiasAct(false, true, a, b, bias, Identity, want, want)
			Threads(1).GemmBiasActPacked(a, &p, bias, Identity, got, got)
			restore()
			for i := range want.Data {
				if math.Float32bits(got.Data[i]) != math.Float32bits(want.Data[i]) {
					t.Fatalf("packed on %s, used on %s: element %d: %v, want %v", k, other, i, got.Data[i], want.Data[i])
				}
			}
		}
	})
}

// TestSmallK checks the small-k route (C = A·op(B) with k ≤ 4, α = 1, β =
// 0) against the micro-kernels, reached with β = 1 on a zeroed C (which adds
// an exact +0): the values must be equal — the same FMAs in the same order
// — from Gemm, GemmBiasAct and GemmBiasActPacked, on every path, with one
// and two column blocks and row counts on and off the 256-row blocks.
func TestSmallK(t *testing.T) {
	withKernels(t, func(t *testing.T, kern Kernel) {
		rng := rand.New(rand.NewPCG(23, 24))
		var p Packed
		for k := 1; k <= 5; k++ {
			for _, n := range []int{32, 64, 96, 2048} {
				t.Run(fmt.Sprintf("k%d_n%d", k, n), func(t *testing.T) {
					for _, m := range []int{1, 7, 300, 513} {
						for _, tB := range []bool{false, true} {
							a := randDense(rng, m, k)
							b := randDense(rng, k, n)
							if tB {
								b = randDense(rng, n, k)
							}
							want := New(m, n)
							Gemm(false, tB, 1, a, b, 1, want)
							got := New(m, n)
							Gemm(false, tB, 1, a, b, 0, got)
							bias := randDense(rng, 1, n).Data
							pre, out := New(m, n), New(m, n)
							GemmBiasAct(false, tB, a, b, bias, SiLU, pre, out)
							Pack(tB, b, &p)
							ppre, pout := New(m, n), New(m, n)
							Threads(1).GemmBiasActPacked(a, &p, bias, SiLU, ppre, pout)
							wantPre, wantOut := want.Clone(), New(m, n)
							BiasAct(SiLU, wantPre, bias, wantOut)
							for i := range want.Data {
								if got.Data[i] != want.Data[i] || pre.Data[i] != wantPre.Data[i] || out.Data[i] != wantOut.Data[i] ||
									ppre.Data[i] != wantPre.Data[i] || pout.Data[i] != wantOut.Data[i] {
									t.Fatalf("k %d n %d m %d tB %v element %d: Gemm %v GemmBiasAct %v %v packed %v %v, want %v %v %v",
										k, n, m, tB, i, got.Data[i], pre.Data[i], out.Data[i], ppre.Data[i], pout.Data[i], want.Data[i], wantPre.Data[i], wantOut.Data[i])
								}
							}
						}
					}
				})
			}
		}
	})
}

// TestRestrideBitIdentical checks the copy of row-major A's panels to a
// non-aliasing stride (restrideA) against the same product read in place:
// the same bits on every assembly path, for one and two goroutines, with
// ragged rows and columns, several reduction blocks (k = 2048 > the block),
// β ≠ 0 and the fused epilogue; and against the float64 reference (1e-5,
// TestGemmAccuracy's bound). The shapes must take the restrided route, or
// the test would compare a path with itself.
func TestRestrideBitIdentical(t *testing.T) {
	// k = 64512 with n = 260 makes reduction blocks of 1008 steps, whose
	// padded stride 1024 must be padded again.
	shapes := []struct{ m, n, k int }{{37, 130, 1024}, {100, 256, 2048}, {12, 128, 1024}, {300, 520, 1024}, {13, 260, 64512}}
	withKernels(t, func(t *testing.T, kern Kernel) {
		p := &paths[kern]
		if !p.restrides(false, 1024, 1024) {
			return // the generic and AVX2 paths read A in place (TestGemmAccuracy covers them)
		}
		var copied, copiedInPlace atomic.Int64
		g := &gemmPath{kernel: p.kernel, mr: p.mr, nr: p.nr, kc: p.kc, nc: p.nc, mcPanels: p.mcPanels,
			onRestride: func() { copied.Add(1) }}
		inPlace := &gemmPath{kernel: p.kernel, mr: p.mr, nr: p.nr, kc: p.kc, nc: p.nc, mcPanels: p.mcPanels,
			keepStride: true, onRestride: func() { copiedInPlace.Add(1) }}
		if p.kcBlock(64512, 260) != 1008 {
			t.Fatalf("k 64512, n 260: reduction block %d, want 1008", p.kcBlock(64512, 260))
		}
		rng := rand.New(rand.NewPCG(23, 24))
		for _, s := range shapes {
			t.Run(fmt.Sprintf("%dx%dx%d", s.m, s.n, s.k), func(t *testing.T) {
				if !g.restrides(false, s.k, s.n) || inPlace.restrides(false, s.k, s.n) {
					t.Fatalf("%v: restrides %v, with keepStride %v", s, g.restrides(false, s.k, s.n), inPlace.restrides(false, s.k, s.n))
				}
				a, b, c0 := randDense(rng, s.m, s.k), randDense(rng, s.k, s.n), randDense(rng, s.m, s.n)
				bias := randDense(rng, 1, s.n).Data
				for _, threads := range []int{1, 2} {
					want, got := c0.Clone(), c0.Clone()
					gemmOn(inPlace, threads, false, false, s.m, s.n, s.k, 0.75, a, b, 0.5, want, epilogue{}, nil)
					gemmOn(g, threads, false, false, s.m, s.n, s.k, 0.75, a, b, 0.5, got, epilogue{}, nil)
					if e := relErr(got.Data, refGemm(0.75, a, b, 0.5, c0)); e > 1e-5 {
						t.Errorf("%v threads %d: relative error %.3g against float64", s, threads, e)
					}
					if i := firstDiff(got.Data, want.Data); i >= 0 {
						t.Fatalf("%v threads %d: element %d: restrided %v, in place %v", s, threads, i, got.Data[i], want.Data[i])
					}
					wantOut, gotOut := New(s.m, s.n), New(s.m, s.n)
					gemmOn(inPlace, threads, false, false, s.m, s.n, s.k, 1, a, b, 0, want, epilogue{on: true, kernel: kern, act: SiLU, bias: bias, out: wantOut.Data}, nil)
					gemmOn(g, threads, false, false, s.m, s.n, s.k, 1, a, b, 0, got, epilogue{on: true, kernel: kern, act: SiLU, bias: bias, out: gotOut.Data}, nil)
					if i := firstDiff(append(got.Data, gotOut.Data...), append(want.Data, wantOut.Data...)); i >= 0 {
						t.Fatalf("%v threads %d, bias+SiLU epilogue: element %d of [pre, out] differs", s, threads, i)
					}
				}
			})
		}
		// The copies ran on the restrided path and never with keepStride.
		if copied.Load() == 0 || copiedInPlace.Load() != 0 {
			t.Errorf("panels restrided: %d (want > 0), with keepStride %d (want 0)", copied.Load(), copiedInPlace.Load())
		}
	})
}

// firstDiff returns the first index where x and y differ in bits, or −1.
func firstDiff(x, y []float32) int {
	for i := range x {
		if math.Float32bits(x[i]) != math.Float32bits(y[i]) {
			return i
		}
	}
	return -1
}
