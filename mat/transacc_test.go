package mat

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestTransAcc checks TransAcc against Gemm(true, false, 1, A, B, 1, C), bit
// for bit, on every kernel path that has it: C starting non-zero, A's
// columns fed in ranges of random widths (ragged last tiles, single
// columns) in shuffled order, each range's rows in random blocks; reductions
// of one row, less than a tile, one block, and several blocks (1500 and 4096
// rows: Gemm's blocks of 750 and 1024, which the feeding must follow); B one
// and two vectors wide and wider (an odd count: a last single vector). The
// result is also within float32 rounding of a float64 sum: |error| ≤
// (rows+1)·2⁻²³·Σ|terms| (one rounding per FMA and per block's addition).
func TestTransAcc(t *testing.T) {
	withKernels(t, func(t *testing.T, k Kernel) {
		g := &paths[k]
		if accRows(g) == 0 {
			t.Skip("no continued-sum kernels on this path")
		}
		v := lanes(k)
		rng := rand.New(rand.NewPCG(41, 42))
		for _, s := range []struct{ m, nv, rows int }{
			{13, 1, 1}, {30, 2, 11}, {12, 1, 12}, {514, 1, 700}, {40, 3, 1500}, {7, 4, 4096}, {1538, 1, 512}, {37, 2, 300},
		} {
			n := s.nv * 16 // 1, 2, 3, 4 vectors on AVX-512; 3, 4, 7, 8 on AVX2
			if v == 8 && s.nv%2 == 1 {
				n += 8
			}
			t.Run(fmt.Sprintf("%dx%dx%d", s.m, n, s.rows), func(t *testing.T) {
				a, b := randDense(rng, s.rows, s.m), randDense(rng, s.rows, n)
				c0 := randDense(rng, s.m, n)
				want := c0.Clone()
				Gemm(true, false, 1, a, b, 1, want)
				got := c0.Clone()
				var acc TransAcc
				if !acc.Start(got, s.rows) {
					t.Fatal("Start: not available")
				}
				var ranges [][2]int
				for c := 0; c < s.m; {
					w := min(s.m-c, 1+rng.IntN(40))
					ranges = append(ranges, [2]int{c, w})
					c += w
				}
				rng.Shuffle(len(ranges), func(i, j int) { ranges[i], ranges[j] = ranges[j], ranges[i] })
				for _, cr := range ranges {
					for r := 0; r < s.rows; {
						e := min(s.rows, r+1+rng.IntN(30))
						acc.Add(r, e, cr[0], cr[1], a.Data, a.C, b)
						r = e
					}
				}
				for i, w := range want.Data {
					if math.Float32bits(got.Data[i]) != math.Float32bits(w) {
						t.Fatalf("C[%d, %d] = %v, Gemm %v (bits differ)", i/n, i%n, got.Data[i], w)
					}
				}
				for i := range s.m {
					for j := range n {
						sum, mag := float64(c0.At(i, j)), math.Abs(float64(c0.At(i, j)))
						for r := range s.rows {
							p := float64(a.At(r, i)) * float64(b.At(r, j))
							sum, mag = sum+p, mag+math.Abs(p)
						}
						if d := math.Abs(float64(got.At(i, j)) - sum); d > float64(s.rows+1)*0x1p-23*mag {
							t.Fatalf("C[%d, %d] = %v, float64 %v", i, j, got.At(i, j), sum)
						}
					}
				}
			})
		}
		var acc TransAcc
		for _, s := range []struct{ m, n int }{{40, v / 2}, {40, v + v/2}, {0, v}} {
			if acc.Start(New(s.m, s.n), 100) {
				t.Errorf("Start(%dx%d) = true, want false", s.m, s.n)
			}
		}
	})
}
