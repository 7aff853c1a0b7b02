// Command driftprobe measures what a trained drift learned on a rank-r
// Gaussian embedded in D dimensions (embedded:dim=D,rank=r,var=v →
// gaussian:dim=D): at each of a few times t it draws x_t from the run's
// interpolant and regresses the learned b(x_t, t) on x_t, separately over
// the r live and the D − r dead coordinates, beside the exact drift's slope
// Cov(ẋ_t, x_t)/Var(x_t) = (αα̇·v_dir + ββ̇ + γγ̇)/(α²·v_dir + β² + γ²),
// with v_dir = v on live and 0 on dead coordinates. docs/STOCHASTIC.md was
// measured with it:
//
//	go run ./scripts/driftprobe RUN_FOLDER
package main

import (
	"fmt"
	"math/rand/v2"
	"os"

	"github.com/flowlab/flowlab/dist"
	"github.com/flowlab/flowlab/mat"
	"github.com/flowlab/flowlab/train"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: driftprobe RUN_FOLDER")
		os.Exit(2)
	}
	if err := probe(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "driftprobe:", err)
		os.Exit(1)
	}
}

func probe(dir string) error {
	r, err := train.Load(dir)
	if err != nil {
		return err
	}
	s, err := dist.Parse(r.Config.Source)
	if err != nil {
		return err
	}
	src, ok := s.(*dist.Embedded)
	if !ok || src.Eps != 0 {
		return fmt.Errorf("source %q: want embedded:dim=D,rank=r,var=v without eps", r.Config.Source)
	}
	tgt, err := dist.NewGaussian(src.D, 1, 0)
	if err != nil {
		return err
	}
	ip, err := r.Config.Interpolant()
	if err != nil {
		return err
	}
	const n = 4000
	d, live := src.D, src.Rank
	rng := rand.New(rand.NewPCG(1, 2))
	x0, x1, z, xt, bt := mat.New(n, d), mat.New(n, d), mat.New(n, d), mat.New(n, d), mat.New(n, d)
	ts := make([]float32, n)
	fmt.Printf("%s: %s, γ %s; slopes of b on x_t (learned, exact)\n", dir, r.Config.Source, r.Config.Gamma)
	for _, t := range []float64{0.02, 0.1, 0.3, 0.5, 0.7, 0.9, 0.98} {
		src.Sample(rng, x0)
		tgt.Sample(rng, x1)
		for i := range z.Data {
			z.Data[i] = float32(rng.NormFloat64())
		}
		for i := range ts {
			ts[i] = float32(t)
		}
		ip.Batch(x0, x1, z, ts, xt, bt, nil)
		b := r.DriftRows(xt, ts)
		var xl, bl, xd, bd float64
		for i := 0; i < n; i++ {
			for j := 0; j < d; j++ {
				xv, bv := float64(xt.At(i, j)), float64(b.At(i, j))
				if j < live {
					xl, bl = xl+xv*xv, bl+xv*bv
				} else {
					xd, bd = xd+xv*xv, bd+xv*bv
				}
			}
		}
		c := ip.Coeffs(t)
		exact := func(v float64) float64 {
			return (c.A*c.DA*v + c.B*c.DB + c.G*c.DG) / (c.A*c.A*v + c.B*c.B + c.G*c.G)
		}
		fmt.Printf("t %.2f  live %7.3f %7.3f  dead %7.3f %7.3f\n", t, bl/xl, exact(src.Var), bd/max(xd, 1e-300), exact(0))
	}
	return nil
}
