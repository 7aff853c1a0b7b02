package mat

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
)

// randDense returns an r×c matrix of uniform values in [-1, 1).
func randDense(rng *rand.Rand, r, c int) *Dense {
	d := New(r, c)
	for i := range d.Data {
		d.Data[i] = 2*rng.Float32() - 1
	}
	return d
}

// transposeDense returns mᵀ.
func transposeDense(m *Dense) *Dense {
	t := New(m.C, m.R)
	for i := 0; i < m.R; i++ {
		for j := 0; j < m.C; j++ {
			t.Data[j*m.R+i] = m.Data[i*m.C+j]
		}
	}
	return t
}

// refGemm returns alpha·A·B + beta·C in float64 (A m×k, B k×n, no transposes).
// beta == 0 ignores C.
func refGemm(alpha float64, a, b *Dense, beta float64, c *Dense) []float64 {
	m, k, n := a.R, a.C, b.C
	out := make([]float64, m*n)
	row := make([]float64, n)
	for i := 0; i < m; i++ {
		clear(row)
		for p := 0; p < k; p++ {
			av := float64(a.Data[i*k+p])
			for j, bv := range b.Data[p*n : (p+1)*n] {
				row[j] += av * float64(bv)
			}
		}
		for j := range row {
			v := alpha * row[j]
			if beta != 0 {
				v += beta * float64(c.Data[i*n+j])
			}
			out[i*n+j] = v
		}
	}
	return out
}

// relErr returns ‖got − want‖_F / ‖want‖_F.
func relErr(got []float32, want []float64) float64 {
	var num, den float64
	for i, w := range want {
		d := float64(got[i]) - w
		num += d * d
		den += w * w
	}
	if den == 0 {
		return math.Sqrt(num)
	}
	return math.Sqrt(num / den)
}

// gemmShapes covers 1, 7, 17, 33, 255, 257 and 1000 in each of m, n and k,
// pairing each with smaller partners so the float64 reference stays cheap,
// plus a few products where several dimensions are large at once.
func gemmShapes(short bool) [][3]int {
	sizes := []int{1, 7, 17, 33, 255, 257, 1000}
	partners := []int{1, 7, 17, 33, 64, 100}
	var shapes [][3]int
	i := 0
	for d := 0; d < 3; d++ {
		for _, s := range sizes {
			if short && (s == 1000 || s == 255) && d != 2 {
				continue
			}
			sh := [3]int{partners[i%len(partners)], partners[(i+2)%len(partners)], 0}
			i++
			sh[2] = sh[d]
			sh[d] = s
			shapes = append(shapes, sh)
		}
	}
	shapes = append(shapes, [3]int{255, 257, 33}, [3]int{33, 255, 257}, [3]int{257, 33, 255})
	// Edge panels that exactly fit the smaller kernels (8 and 4 rows, 16
	// columns; 4 and 2 rows, 8 columns on AVX2) and so run in place.
	shapes = append(shapes, [3]int{20, 48, 40}, [3]int{44, 80, 300}, [3]int{2, 24, 9}, [3]int{16, 8, 5})
	// Few columns: the dot-product kernels (A·Bᵀ, k below, at and above a
	// multiple of 16) and Cᵀ for the other forms.
	shapes = append(shapes, [3]int{257, 2, 64}, [3]int{7, 3, 17}, [3]int{33, 4, 1000}, [3]int{5, 1, 16}, [3]int{66, 12, 9})
	if !short {
		shapes = append(shapes, [3]int{257, 255, 1000}, [3]int{1000, 33, 257}, [3]int{100, 1000, 255})
	}
	return shapes
}

// TestGemmAccuracy compares Gemm with a float64 reference on every kernel
// path this CPU runs, all four transpose forms and non-trivial α and β.
//
// Tolerance: ‖C−C_ref‖_F/‖C_ref‖_F < 1e-5. Each float32 sum of k products
// carries a relative rounding error of order √k·2⁻²⁴ for random signs
// (≈ 2e-6 for k = 1000), and at most k·2⁻²⁴ ≈ 6e-5 in the adversarial worst
// case, which random data does not reach; 1e-5 leaves a margin of five over
// the typical error at the largest k and still catches any wrong element.
func TestGemmAccuracy(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for si, sh := range gemmShapes(testing.Short()) {
		m, n, k := sh[0], sh[1], sh[2]
		a, b, c0 := randDense(rng, m, k), randDense(rng, k, n), randDense(rng, m, n)
		alpha := float32(0.75)
		beta := []float32{0, 1, -0.5}[si%3]
		t.Run(fmt.Sprintf("%dx%dx%d", m, n, k), func(t *testing.T) {
			want := refGemm(float64(alpha), a, b, float64(beta), c0)
			withKernels(t, func(t *testing.T, kern Kernel) {
				checkGemmForms(t, a, b, c0, alpha, beta, want)
			})
		})
	}
}

// checkGemmForms runs C = α·A·B + β·C in all four transpose forms (A and B
// given untransposed) and checks each against want within TestGemmAccuracy's
// tolerance; with β = 0, C starts as NaN, which must not leak.
func checkGemmForms(t *testing.T, a, b, c0 *Dense, alpha, beta float32, want []float64) {
	t.Helper()
	at, bt := transposeDense(a), transposeDense(b)
	for tr := 0; tr < 4; tr++ {
		tA, tB := tr&1 != 0, tr&2 != 0
		aa, bb := a, b
		if tA {
			aa = at
		}
		if tB {
			bb = bt
		}
		c := c0.Clone()
		if beta == 0 {
			for i := range c.Data {
				c.Data[i] = float32(math.NaN())
			}
		}
		Gemm(tA, tB, alpha, aa, bb, beta, c)
		if e := relErr(c.Data, want); !(e < 1e-5) {
			t.Errorf("tA=%v tB=%v α=%v β=%v: relative error %.3g", tA, tB, alpha, beta, e)
		}
	}
}

// TestGemmSpecialScalars checks α = 0 and k = 0 (C = β·C) and β = 0 with NaN in C.
func TestGemmSpecialScalars(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	a, b := randDense(rng, 5, 0), randDense(rng, 0, 6)
	c := randDense(rng, 5, 6)
	c0 := c.Clone()
	Gemm(false, false, 1, a, b, 2, c)
	for i, v := range c.Data {
		if v != 2*c0.Data[i] {
			t.Fatalf("k=0, β=2: C[%d] = %v, want %v", i, v, 2*c0.Data[i])
		}
	}
	a, b = randDense(rng, 5, 3), randDense(rng, 3, 6)
	for i := range c.Data {
		c.Data[i] = float32(math.NaN())
	}
	Gemm(false, false, 0, a, b, 0, c)
	for i, v := range c.Data {
		if v != 0 {
			t.Fatalf("α=0, β=0: C[%d] = %v, want 0", i, v)
		}
	}
}

// TestGemmThreadsBitIdentical checks that the result does not depend on
// GOMAXPROCS, on shapes large enough to be split across goroutines.
func TestGemmThreadsBitIdentical(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	shapes := [][3]int{{301, 67, 530}, {29, 1100, 300}, {256, 64, 65}, {200, 700, 300}}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	withKernels(t, func(t *testing.T, kern Kernel) {
		for _, sh := range shapes {
			m, n, k := sh[0], sh[1], sh[2]
			t.Run(fmt.Sprintf("%dx%dx%d", m, n, k), func(t *testing.T) {
				for tr := 0; tr < 4; tr++ {
					tA, tB := tr&1 != 0, tr&2 != 0
					a, b, c0 := randDense(rng, m, k), randDense(rng, k, n), randDense(rng, m, n)
					if tA {
						a = transposeDense(a)
					}
					if tB {
						b = transposeDense(b)
					}
					checkGemmThreads(t, tA, tB, a, b, c0)
				}
			})
		}
	})
}

// checkGemmThreads checks that C = 1.25·op(A)·op(B) + 0.5·C has the same
// bits under GOMAXPROCS 1, 2 and 3 with the package function, and with
// Threads(1) and Threads(2) under GOMAXPROCS 3.
func checkGemmThreads(t *testing.T, tA, tB bool, a, b, c0 *Dense) {
	t.Helper()
	var first []float32
	for i, th := range []Threads{0, 0, 0, 1, 2} {
		procs := min(i+1, 3)
		runtime.GOMAXPROCS(procs)
		c := c0.Clone()
		if th == 0 {
			Gemm(tA, tB, 1.25, a, b, 0.5, c)
		} else {
			th.Gemm(tA, tB, 1.25, a, b, 0.5, c)
		}
		if first == nil {
			first = c.Data
			continue
		}
		for i := range first {
			if math.Float32bits(first[i]) != math.Float32bits(c.Data[i]) {
				t.Fatalf("tA=%v tB=%v: GOMAXPROCS=%d Threads(%d) differs from GOMAXPROCS 1 at %d: %v vs %v",
					tA, tB, procs, th, i, c.Data[i], first[i])
			}
		}
	}
}

func TestGemmShapePanic(t *testing.T) {
	defer func() {
		r := recover()
		msg := fmt.Sprint(r)
		if r == nil || !strings.Contains(msg, "3×4") || !strings.Contains(msg, "5×6") {
			t.Fatalf("panic %q does not name both shapes 3×4 and 5×6", msg)
		}
	}()
	Gemm(false, false, 1, New(3, 4), New(5, 6), 0, New(3, 6))
}

func TestSetKernel(t *testing.T) {
	for k := Generic; k <= AVX512; k++ {
		restore, err := SetKernel(k)
		if k.Supported() != (err == nil) {
			t.Errorf("SetKernel(%s): err %v, supported %v", k, err, k.Supported())
		}
		if err == nil && CurrentKernel() != k {
			t.Errorf("after SetKernel(%s), CurrentKernel() = %s", k, CurrentKernel())
		}
		restore()
	}
	if _, err := ParseKernel("avx3"); err == nil {
		t.Error("ParseKernel(avx3) succeeded")
	}
}

// TestGemmConcurrent runs products from several goroutines at once (they
// share the pools of packing buffers) and checks each against a serial run.
func TestGemmConcurrent(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 18))
	type job struct {
		tA, tB  bool
		a, b, c *Dense
		want    []float32
	}
	var jobs []job
	for i, sh := range [][3]int{{300, 70, 530}, {64, 64, 65}, {5, 300, 200}, {200, 3, 100}} {
		m, n, k := sh[0], sh[1], sh[2]
		tA, tB := i&1 != 0, i&2 != 0
		a, b := randDense(rng, m, k), randDense(rng, k, n)
		if tA {
			a = transposeDense(a)
		}
		if tB {
			b = transposeDense(b)
		}
		c := New(m, n)
		Gemm(tA, tB, 1, a, b, 0, c)
		jobs = append(jobs, job{tA, tB, a, b, New(m, n), c.Data})
	}
	done := make(chan error)
	for _, jb := range jobs {
		go func() {
			for range 20 {
				Gemm(jb.tA, jb.tB, 1, jb.a, jb.b, 0, jb.c)
				for i := range jb.want {
					if math.Float32bits(jb.c.Data[i]) != math.Float32bits(jb.want[i]) {
						done <- fmt.Errorf("%s·%s: element %d = %v, serial %v", jb.a.Shape(), jb.b.Shape(), i, jb.c.Data[i], jb.want[i])
						return
					}
				}
			}
			done <- nil
		}()
	}
	for range jobs {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

// TestNoAllocations checks that small products (run on the calling
// goroutine) and the element-wise kernels allocate nothing once warm.
func TestNoAllocations(t *testing.T) {
	if testing.CoverMode() != "" || raceEnabled {
		t.Skip("coverage and race instrumentation allocate")
	}
	rng := rand.New(rand.NewPCG(19, 20))
	a, b, c, c2, c3 := randDense(rng, 64, 65), randDense(rng, 64, 65), New(64, 64), New(65, 65), New(64, 64)
	bias64 := randDense(rng, 1, 64).Data
	z, out := randDense(rng, 64, 37), New(64, 37)
	bias := randDense(rng, 1, 37).Data
	withKernels(t, func(t *testing.T, k Kernel) {
		if n := testing.AllocsPerRun(20, func() {
			Gemm(false, true, 1, a, b, 0, c)
			Gemm(true, false, 1, a, a, 1, c2)
			GemmBiasAct(false, true, a, b, bias64, SiLU, c, c3)
			BiasAct(SiLU, z, bias, out)
			ActBackward(SiLU, z, out)
			ColSumAdd(out, bias)
		}); n != 0 {
			t.Errorf("%v allocations per run", n)
		}
	})
}

// TestGemmBiasAct checks that the fused product gives exactly the bits of
// Gemm followed by BiasAct (its contract), on every path, for the shapes that
// take each route through the blocking: skinny (computed as Cᵀ), several
// reduction blocks, more than one column block (n > 1024), few rows (split by
// columns) and large enough to run on several goroutines.
func TestGemmBiasAct(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	shapes := [][3]int{{37, 5, 20}, {64, 100, 300}, {5, 1100, 40}, {13, 300, 700}, {300, 257, 130}, {1, 1, 1}}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	withKernels(t, func(t *testing.T, kern Kernel) {
		for si, sh := range shapes {
			m, n, k := sh[0], sh[1], sh[2]
			tA, tB := si&1 != 0, si&2 != 0
			act := []Activation{SiLU, ReLU, Identity, GELU, Tanh, SELU}[si%6]
			t.Run(fmt.Sprintf("%dx%dx%d_%s", m, n, k, act), func(t *testing.T) {
				a, b := randDense(rng, m, k), randDense(rng, k, n)
				if tA {
					a = transposeDense(a)
				}
				if tB {
					b = transposeDense(b)
				}
				bias := randDense(rng, 1, n).Data
				wantPre, wantOut := New(m, n), New(m, n)
				Gemm(tA, tB, 1, a, b, 0, wantPre)
				BiasAct(act, wantPre, bias, wantOut)
				for _, procs := range []int{1, 2} {
					runtime.GOMAXPROCS(procs)
					pre, out := New(m, n), New(m, n)
					for i := range pre.Data {
						pre.Data[i] = float32(math.NaN())
					}
					GemmBiasAct(tA, tB, a, b, bias, act, pre, out)
					for i := range pre.Data {
						if math.Float32bits(pre.Data[i]) != math.Float32bits(wantPre.Data[i]) ||
							math.Float32bits(out.Data[i]) != math.Float32bits(wantOut.Data[i]) {
							t.Fatalf("tA=%v tB=%v GOMAXPROCS=%d: element %d: pre %v out %v, want %v %v",
								tA, tB, procs, i, pre.Data[i], out.Data[i], wantPre.Data[i], wantOut.Data[i])
						}
					}
				}
			})
		}
	})
	func() {
		defer func() {
			if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "4×5") {
				t.Errorf("GemmBiasAct with a short bias: panic %v", r)
			}
		}()
		GemmBiasAct(false, false, New(4, 3), New(3, 5), make([]float32, 4), SiLU, New(4, 5), New(4, 5))
	}()
}
