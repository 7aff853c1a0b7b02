package main

import (
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	gmat "gonum.org/v1/gonum/mat"

	"github.com/flowlab/flowlab/dist"
	"github.com/flowlab/flowlab/mat"
	"github.com/flowlab/flowlab/nn"
	"github.com/flowlab/flowlab/solve"
	"github.com/flowlab/flowlab/train"
)

// TestLikelihoodCmd: the command's per-point values (.npy, float32) are
// solve.LogLikelihood's on the run's network with log p0 of N(0, ½I_3)
// written out here, with the same solver and steps (float32 rounding of the
// file: 1e-5 relative); the JSON's mean, bits per dimension and target MAE
// follow from them. --hutchinson runs and says so.
func TestLikelihoodCmd(t *testing.T) {
	dir := gaussianRun(t)
	tmp := t.TempDir()
	data, lpFile := filepath.Join(tmp, "x.npy"), filepath.Join(tmp, "lp.npy")
	x := mat.New(50, 3)
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range x.Data {
		x.Data[i] = float32(rng.NormFloat64())
	}
	if err := dist.WriteNPYFile(data, x); err != nil {
		t.Fatal(err)
	}
	code, stdout, errs := runCLI(context.Background(), "likelihood", "--run", dir, "--data", data, "--out", lpFile)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var rep likelihoodReport
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatal(err)
	}
	lp, err := dist.ReadNPYFile(lpFile)
	if err != nil {
		t.Fatal(err)
	}
	run, err := train.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	logp0 := func(z []float32) float64 {
		var q float64
		for _, v := range z {
			q += float64(v) * float64(v)
		}
		return -q/(2*0.5) - 1.5*math.Log(2*math.Pi*0.5)
	}
	want, _, err := solve.LogLikelihood(context.Background(), nn.JVPField{Net: run.Net}, x.Clone(), logp0,
		solve.LikOptions{Options: solve.Options{Method: solve.RK4, Steps: 25}})
	if err != nil {
		t.Fatal(err)
	}
	if lp.R != 50 || lp.C != 1 || rep.N != 50 || rep.Divergence != "exact" || rep.TargetMAE == nil {
		t.Fatalf("file %s, report %+v", lp.Shape(), rep)
	}
	var mean, mae float64
	for i, w := range want {
		if math.Abs(float64(lp.Data[i])-w) > 1e-5*math.Abs(w) {
			t.Errorf("point %d: %v, want %v", i, lp.Data[i], w)
		}
		mean += w / 50
		var q float64
		for _, v := range x.Row(i) {
			q += float64(v) * float64(v)
		}
		mae += math.Abs(w-(-q/2-1.5*math.Log(2*math.Pi))) / 50
	}
	near := func(what string, got, want float64) {
		if math.Abs(got-want) > 1e-9*max(1, math.Abs(want)) {
			t.Errorf("%s %v, want %v", what, got, want)
		}
	}
	near("mean", rep.MeanNats, mean)
	near("bits per dimension", rep.BitsPerDim, -mean/(3*math.Ln2))
	near("target MAE", *rep.TargetMAE, mae)

	code, stdout, errs = runCLI(context.Background(), "likelihood", "--run", dir, "--data", "gaussian:dim=3", "--n", "20", "--hutchinson")
	if code != 0 {
		t.Fatalf("hutchinson: exit %d: %s", code, errs)
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil || rep.Divergence != "hutchinson" || rep.N != 20 || math.IsNaN(rep.MeanNats) {
		t.Errorf("hutchinson: %v %+v", err, rep)
	}
}

// sourceLogDensity against the normal density written from the law's
// covariance Σ with gonum's Cholesky factorisation, −½xᵀΣ⁻¹x − ½log det(2πΣ)
// (another route than the code's rotation into the basis): isotropic with a mean, and a
// rotated embedded Gaussian with eps > 0 (relative 1e-10: both in float64).
func TestSourceLogDensity(t *testing.T) {
	cases := []string{"gaussian:dim=4,var=0.7,mean=0.5", "embedded:dim=5,rank=2,var=2,eps=0.1,rotate=true,seed=3", "embedded:dim=3,rank=3,var=0.5"}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, spec := range cases {
		t.Run(spec, func(t *testing.T) {
			lp, err := sourceLogDensity(spec)
			if err != nil {
				t.Fatal(err)
			}
			s, _ := dist.Parse(spec)
			d := s.Dim()
			mu := make([]float64, d)
			var cov *gmat.SymDense
			switch g := s.(type) {
			case *dist.Gaussian:
				cov = gmat.NewSymDense(d, nil)
				for i := 0; i < d; i++ {
					mu[i] = g.Mean
					cov.SetSym(i, i, g.Var)
				}
			case *dist.Embedded:
				cov = g.Cov()
			}
			var chol gmat.Cholesky
			if !chol.Factorize(cov) {
				t.Fatal("covariance not positive definite")
			}
			logProb := func(x []float64) float64 {
				r := make([]float64, d)
				for i := range r {
					r[i] = x[i] - mu[i]
				}
				var sol gmat.VecDense
				if err := chol.SolveVecTo(&sol, gmat.NewVecDense(d, r)); err != nil {
					t.Fatal(err)
				}
				q := gmat.Dot(gmat.NewVecDense(d, r), &sol)
				return -q/2 - chol.LogDet()/2 - float64(d)/2*math.Log(2*math.Pi)
			}
			x := make([]float32, d)
			x64 := make([]float64, d)
			for range 5 {
				for i := range x {
					x[i] = float32(rng.NormFloat64())
					x64[i] = float64(x[i])
				}
				if got, want := lp(x), logProb(x64); math.Abs(got-want) > 1e-10*math.Abs(want) {
					t.Errorf("log p(%v) = %v, want %v", x, got, want)
				}
			}
		})
	}
	for _, spec := range []string{"moons", "embedded:dim=4,rank=2", "mnist"} {
		if _, err := sourceLogDensity(spec); err == nil {
			t.Errorf("%s: no error", spec)
		}
	}
}

// FuzzSourceLogDensity: any SPEC gives an error or a density whose value at
// the origin is finite; never a panic.
func FuzzSourceLogDensity(f *testing.F) {
	for _, s := range []string{"gaussian:dim=3", "embedded:dim=4,rank=2,eps=0.5", "embedded:dim=2,rank=2,var=1e-300", "moons", "gaussian:dim=2,var=1e308"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		if len(spec) > 200 {
			return
		}
		lp, err := sourceLogDensity(spec)
		if err != nil {
			return
		}
		s, _ := dist.Parse(spec)
		if s.Dim() > 512 {
			return
		}
		if v := lp(make([]float32, s.Dim())); math.IsNaN(v) || math.IsInf(v, 1) {
			t.Errorf("%s: log p(0) = %v", spec, v)
		}
	})
}
