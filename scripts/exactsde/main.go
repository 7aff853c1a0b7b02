// Command exactsde integrates the stochastic experiment's SDE with the exact
// drift and score (closed form, no learning) from the rank-64 source in 128
// dimensions, embedded:dim=128,rank=64,var=0.5 → N(0, I_128) with
// γ = √(t(1−t)), for several diffusion scales ε (the peak of
// ε(t) = ε·γ(t)/max γ, train.Diffusion) and step counts, and prints the
// output's dead- and live-direction variances and its KS distance to
// Chi(128) in units of the 95 % sampling bound. docs/STOCHASTIC.md was
// measured with it:
//
//	go run ./scripts/exactsde
package main

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"

	"github.com/flowlab/flowlab/dist"
	"github.com/flowlab/flowlab/exact"
	"github.com/flowlab/flowlab/mat"
	"github.com/flowlab/flowlab/metrics"
	"github.com/flowlab/flowlab/solve"
	"github.com/flowlab/flowlab/train"
)

const (
	dim, rank, n = 128, 64, 5000
	srcVar       = 0.5
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "exactsde:", err)
		os.Exit(1)
	}
}

func run() error {
	ip, err := train.Config{Gamma: "1"}.Defaults().Interpolant()
	if err != nil {
		return err
	}
	zero, v0, v1 := make([]float64, dim), make([]float64, dim), make([]float64, dim)
	for i := range dim {
		v1[i] = 1
		if i < rank {
			v0[i] = srcVar
		}
	}
	f, err := exact.NewGaussianField(zero, v0, zero, v1, ip)
	if err != nil {
		return err
	}
	src, err := dist.Parse(fmt.Sprintf("embedded:dim=%d,rank=%d,var=%g", dim, rank, srcVar))
	if err != nil {
		return err
	}
	bound := metrics.KSCritical(n, 0.05)
	fmt.Printf("exact SDE, rank %d → N(0, I_%d), γ = √(t(1−t)), %d points, seed 1\n", rank, dim, n)
	fmt.Println("ε peak  method           steps  dead var  live var  KS/bound")
	for _, c := range []struct {
		eps   float64
		m     solve.SDEMethod
		steps int
	}{
		{0.25, solve.EulerMaruyama, 1000}, {0.5, solve.EulerMaruyama, 1000}, {0.5, solve.EulerMaruyama, 4000},
		{0.5, solve.SDEHeun, 1000}, {1, solve.EulerMaruyama, 1000}, {2, solve.EulerMaruyama, 1000},
	} {
		rng := rand.New(rand.NewPCG(1, 2))
		x := mat.New(n, dim)
		src.Sample(rng, x)
		opts := solve.SDEOptions{Method: c.m, Steps: c.steps, Eps: train.Diffusion(ip, c.eps)}
		if _, err := solve.IntegrateSDE(context.Background(), exact.AwayFromZero{F: f}, exact.AwayFromZero{F: f.ScoreField()}, x, rng, opts); err != nil {
			return err
		}
		live, dead, norms := variances(x)
		d, _, err := metrics.KS(norms, exact.Chi{K: dim, S: 1}.Cdf)
		if err != nil {
			return err
		}
		fmt.Printf("%-6g  %-15s  %5d  %8.3f  %8.3f  %8.2f\n", c.eps, c.m, c.steps, dead, live, d/bound)
	}
	return nil
}

// variances returns the mean variance over the live and the dead
// coordinates and every row's norm.
func variances(x *mat.Dense) (live, dead float64, norms []float64) {
	for j := 0; j < x.C; j++ {
		var s, s2 float64
		for i := 0; i < x.R; i++ {
			v := float64(x.At(i, j))
			s += v
			s2 += v * v
		}
		m := s / float64(x.R)
		v := s2/float64(x.R) - m*m
		if j < rank {
			live += v / rank
		} else {
			dead += v / float64(x.C-rank)
		}
	}
	for i := 0; i < x.R; i++ {
		var q float64
		for _, v := range x.Row(i) {
			q += float64(v) * float64(v)
		}
		norms = append(norms, math.Sqrt(q))
	}
	return live, dead, norms
}
