// Command filmk256 trains one recipe on N(0,½I_k) → N(0,I_k) (k = 256 by
// default) and prints, at each snapshot step of the one run, the KS of the
// flow's output norms against Chi(k), its mean norm and per-direction
// variance, the training loss against its floor, and the ratio of the
// learned slope ĉ(t) = E⟨v, x_t⟩/E‖x_t‖² to the exact c(t) at five times.
// docs/FILM.md ("256 dimensions") was measured with it, e.g.
//
//	go run ./scripts/filmk256 -w 512 -lr 5e-3 -seed 2 -snaps 300,1000,3000
package main

import (
	"context"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/flowlab/flowlab/dist"
	"github.com/flowlab/flowlab/exact"
	"github.com/flowlab/flowlab/interp"
	"github.com/flowlab/flowlab/mat"
	"github.com/flowlab/flowlab/metrics"
	"github.com/flowlab/flowlab/solve"
	"github.com/flowlab/flowlab/train"
)

func main() {
	k := flag.Int("k", 256, "data dimension k")
	w := flag.Int("w", 256, "width of the three hidden layers")
	arch := flag.String("arch", "film", "mlp or film")
	te := flag.Int("te", 64, "film: time-embedding width")
	batch := flag.Int("batch", 256, "batch size")
	lr := flag.Float64("lr", 1e-3, "peak learning rate")
	sched := flag.String("sched", "cosine", "cosine or constant")
	warm := flag.Int("warmup", 500, "warm-up steps")
	ema := flag.Float64("ema", 0.999, "EMA decay (0: off)")
	tsamp := flag.String("tsampler", "uniform", "uniform or logitnormal")
	fourier := flag.Int("fourier", 0, "Fourier features of t")
	seed := flag.Uint64("seed", 1, "training seed")
	snaps := flag.String("snaps", "300,1000,3000", "snapshot steps; the run trains to the last")
	n := flag.Int("n", 2000, "source points pushed through the flow")
	label := flag.String("label", "", "label printed on every line")
	ipName := flag.String("interp", "linear", "interpolant (linear, trig, ...)")
	flag.Parse()
	var at []int
	for _, s := range strings.Split(*snaps, ",") {
		v, _ := strconv.Atoi(s)
		at = append(at, v)
	}
	src, err := dist.NewGaussian(*k, 0.5, 0)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	tgt, err := dist.NewGaussian(*k, 1, 0)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	cfg := train.Config{Hidden: []int{*w, *w, *w}, Act: "silu", Arch: *arch, Fourier: *fourier, Steps: at[len(at)-1], Batch: *batch, LR: *lr,
		Schedule: *sched, Interp: *ipName, Warmup: *warm, EMA: *ema, TSampler: *tsamp, Seed: *seed}
	if *arch == "film" {
		cfg.TimeEmbed = *te
	}
	rng := rand.New(rand.NewPCG(99, *seed))
	x0 := mat.New(*n, *k)
	src.Sample(rng, x0)
	chi := exact.Chi{K: float64(*k), S: 1}
	t0 := time.Now()
	_, err = train.Fit(context.Background(), src, tgt, cfg, train.Options{SnapshotAt: at, Snapshot: func(r *train.Result) error {
		y := x0.Clone()
		if _, err := solve.Integrate(context.Background(), r.Net, y, solve.Options{Method: solve.RK4, Steps: 50}); err != nil {
			return err
		}
		nr := metrics.Norms(y)
		ks, _, _ := metrics.KS(nr, chi.Cdf)
		vars := metrics.ColVars(y)
		m, v := 0.0, 0.0
		for i := range nr {
			m += nr[i]
		}
		for _, x := range vars {
			v += x
		}
		fl, _ := r.FinalLoss(100)
		ip, _ := interp.New(*ipName, "0")
		va, vb := make([]float64, *k), make([]float64, *k)
		for i := range va {
			va[i], vb[i] = 0.5, 1
		}
		field, err := exact.NewGaussianField(make([]float64, *k), va, make([]float64, *k), vb, ip)
		if err != nil {
			return err
		}
		var sl []string
		for _, t := range []float64{0.05, 0.2, 0.5, 0.8, 0.95} {
			xt := x0.Clone()
			co := ip.Coeffs(t)
			g := math.Sqrt(co.A*co.A*0.5 + co.B*co.B)
			for i := range xt.Data {
				xt.Data[i] *= float32(g / math.Sqrt(0.5))
			}
			v, ve := mat.New(xt.R, xt.C), mat.New(xt.R, xt.C)
			r.Net.Eval(t, xt, v)
			field.Eval(t, xt, ve)
			var a, b float64
			for i, q := range xt.Data {
				a += float64(v.Data[i]) * float64(q)
				b += float64(ve.Data[i]) * float64(q)
			}
			sl = append(sl, fmt.Sprintf("%.2f", a/b))
		}
		fmt.Printf("%s seed=%d step=%d slope_ratio(t=.05,.2,.5,.8,.95)=%s\n", *label, *seed, len(r.Losses), strings.Join(sl, ","))
		fmt.Printf("%s seed=%d step=%d ks=%.3f norm=%.2f chi=%.2f var=%.3f loss=%.1f floor=%.1f cpu_s=%.0f\n", *label, *seed, len(r.Losses), ks, m/float64(len(nr)), chi.Mean(), v/float64(len(vars)), fl,
			field.LossFloor(), time.Since(t0).Seconds())
		return nil
	}})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
