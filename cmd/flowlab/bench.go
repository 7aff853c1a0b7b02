package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/bits"
	"math/rand/v2"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"github.com/flowlab/flowlab/internal/atomicfile"
	"github.com/flowlab/flowlab/internal/buildinfo"
	"github.com/flowlab/flowlab/mat"
	"github.com/flowlab/flowlab/nn"
	"github.com/flowlab/flowlab/optim"
	"github.com/spf13/cobra"
)

// benchCase is one network and batch size of the benchmark. The cases, and
// everything the benchmark does with them, mirror the PyTorch reference
// ../shared/bench/torch_fm.py so that the two print comparable figures.
type benchCase struct {
	name                     string
	dim, width, depth, batch int
}

var benchCases = []benchCase{
	{"tiny", 2, 64, 3, 256},   // the usual 2-D toy network (torchcfm's MLP size)
	{"toy2d", 2, 256, 3, 512}, // a wider 2-D toy network
	{"toy2d-4k", 2, 256, 3, 4096},
	{"gauss128", 128, 512, 3, 512},
	{"mnist", 784, 512, 3, 1024}, // pixel-space MNIST-sized field
}

// benchResult has torch_fm.py's JSON fields, in its order.
type benchResult struct {
	Impl           string  `json:"impl"`
	Case           string  `json:"case"`
	Dim            int     `json:"dim"`
	Width          int     `json:"width"`
	Depth          int     `json:"depth"`
	Batch          int     `json:"batch"`
	Params         int     `json:"params"`
	Threads        int     `json:"threads"`
	TrainStepsPerS float64 `json:"train_steps_per_s"`
	TrainGFLOPS    float64 `json:"train_gflops"`
	ODEEvalsPerS   float64 `json:"ode_evals_per_s"`
	ODESamples     int     `json:"ode_samples"`
	FinalLoss      float64 `json:"final_loss"`
	// Arch is "film-E" for a film net with a learned time embedding of
	// width E (--arch film), absent for the MLP that torch_fm.py times.
	Arch string `json:"arch,omitempty"`
}

// benchFlags are the flags of flowlab bench.
type benchFlags struct {
	caseName                string
	asJSON                  bool
	steps, samples, odeStep int
	cpuProfile, arch        string
	timeEmbed               int
}

func newBenchCmd() *cobra.Command {
	var fl benchFlags
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "time training steps and ODE sampling on the cases of the PyTorch reference benchmark",
		Long: `bench trains an MLP velocity field (SiLU, depth 3, Adam lr 1e-3) with the
linear-interpolant flow-matching loss — x0 ~ N(0, ½I), x1 ~ N(0, I), t ~ U(0, 1),
loss = mean‖v([x_t, t]) − (x1 − x0)‖² — for 20 warm-up and --steps timed steps,
then samples --samples points with --ode-steps Euler steps, and prints the
figures of ../shared/bench/torch_fm.py (same cases, same loss, same JSON fields)
so that the two can be compared side by side. The loss is the torch script's,
not flowlab train's.

--arch film times a film net with a learned time embedding of width
--time-embed at the same widths instead of the MLP.

Cases (dim, width, batch): ` + caseList() + `.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return fl.runCmd(cmd) },
	}
	f := cmd.Flags()
	f.StringVar(&fl.caseName, "case", "all", "benchmark case: "+strings.Join(benchNames(), ", ")+" or all")
	f.StringVar(&fl.arch, "arch", "mlp", "network: mlp (as torch_fm.py) or film (learned time embedding of width --time-embed)")
	f.IntVar(&fl.timeEmbed, "time-embed", -1, "film: width of the learned time embedding (-1: flowlab train's default, the narrowest hidden width over 16, between 8 and 64)")
	f.BoolVar(&fl.asJSON, "json", false, "print one JSON object per case, as torch_fm.py does")
	f.IntVar(&fl.steps, "steps", 300, "timed training steps (after 20 warm-up steps)")
	f.IntVar(&fl.samples, "samples", 10000, "points integrated by the Euler sampler")
	f.IntVar(&fl.odeStep, "ode-steps", 50, "Euler steps (field evaluations) of the sampler")
	f.StringVar(&fl.cpuProfile, "cpuprofile", "", "write a CPU profile (pprof) of the whole run to this file")
	return cmd
}

// benchNames lists the cases' names.
func benchNames() []string {
	names := make([]string, len(benchCases))
	for i, c := range benchCases {
		names[i] = c.name
	}
	return names
}

func (fl *benchFlags) runCmd(cmd *cobra.Command) (err error) {
	var run []benchCase
	for _, c := range benchCases {
		if fl.caseName == "all" || fl.caseName == c.name {
			run = append(run, c)
		}
	}
	if len(run) == 0 {
		return usagef("bench: unknown --case %q (want %s or all)", fl.caseName, strings.Join(benchNames(), ", "))
	}
	if err := checkBenchArch(fl.arch, fl.timeEmbed); err != nil {
		return err
	}
	if fl.steps < 1 || fl.samples < 1 || fl.odeStep < 1 {
		return usagef("bench: --steps (%d), --samples (%d) and --ode-steps (%d) must be ≥ 1", fl.steps, fl.samples, fl.odeStep)
	}
	if err := checkBenchMemory(run, fl.samples); err != nil {
		return err
	}
	if fl.cpuProfile != "" {
		var prof bytes.Buffer
		if err := pprof.StartCPUProfile(&prof); err != nil {
			return fmt.Errorf("bench: --cpuprofile: %w", err)
		}
		defer func() {
			pprof.StopCPUProfile()
			if werr := atomicfile.WriteBytes(fl.cpuProfile, prof.Bytes()); werr != nil && err == nil {
				err = fmt.Errorf("bench: --cpuprofile: %w", werr)
			}
		}()
	}
	out := cmd.OutOrStdout()
	for _, c := range run {
		res, err := runBenchCase(cmd.Context(), c, benchNet(c, fl.arch, fl.timeEmbed), fl.steps, fl.samples, fl.odeStep)
		if err != nil {
			return err
		}
		if err := printBench(out, res, fl.asJSON); err != nil {
			return err
		}
	}
	return nil
}

// checkBenchMemory refuses up front a sampler that cannot fit rather than
// train first and die in make: it holds the points, the Euler step's field
// values and the network's activations for every point (pre- and
// post-activation per hidden layer).
func checkBenchMemory(run []benchCase, samples int) error {
	for _, c := range run {
		perPoint := uint64(4*c.dim + 2*c.depth*c.width + 4)
		if err := checkMemory("bench --samples", memBytes(uint64(samples), perPoint, 4)); err != nil {
			return err
		}
	}
	return nil
}

// checkBenchArch checks --arch and --time-embed.
func checkBenchArch(arch string, timeEmbed int) error {
	if arch != "mlp" && arch != "film" {
		return usagef("bench: unknown --arch %q (want mlp or film)", arch)
	}
	if arch == "film" && timeEmbed < 1 && timeEmbed != -1 {
		return usagef("bench: --time-embed %d, want ≥ 1 (or -1: by the hidden width)", timeEmbed)
	}
	return nil
}

// benchNet is case c's network: its MLP, or a film net of its widths with
// a learned time embedding of width timeEmbed.
func benchNet(c benchCase, arch string, timeEmbed int) nn.Config {
	net := nn.Config{Dim: c.dim, Hidden: slices.Repeat([]int{c.width}, c.depth), Act: "silu"}
	if arch == "film" {
		net.Arch, net.TimeEmbed = "film", timeEmbed
		if timeEmbed == -1 {
			net.TimeEmbed = nn.DefaultTimeEmbed(net.Hidden)
		}
	}
	return net
}

func caseList() string {
	s := make([]string, len(benchCases))
	for i, c := range benchCases {
		s[i] = fmt.Sprintf("%s (%d, %d, %d)", c.name, c.dim, c.width, c.batch)
	}
	return strings.Join(s, ", ")
}

func printBench(w io.Writer, r benchResult, asJSON bool) error {
	if asJSON {
		b, err := json.Marshal(r)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	}
	name := r.Case
	if r.Arch != "" {
		name += " " + r.Arch
	}
	_, err := fmt.Fprintf(w, "%-9s dim %3d width %3d batch %4d: %8.1f train steps/s (%6.1f GFLOPS), %7.1f field evals/s on %d points, final loss %.4f, %d threads\n",
		name, r.Dim, r.Width, r.Batch, r.TrainStepsPerS, r.TrainGFLOPS, r.ODEEvalsPerS, r.ODESamples, r.FinalLoss, r.Threads)
	return err
}

// runBenchCase does what torch_fm.py's run() does for one case.
// The network is cfg (c's MLP, or a film net of c's widths).
func runBenchCase(ctx context.Context, c benchCase, cfg nn.Config, steps, samples, odeSteps int) (benchResult, error) {
	net, err := nn.New(cfg, 0)
	if err != nil {
		return benchResult{}, err
	}
	opt := optim.NewAdam(len(net.Params()))
	data := newFMBatch(c.batch, c.dim, 1)
	var loss float64
	lossFn := nn.LossFunc(data.lossRows)
	step := func() {
		data.sample()
		net.ZeroGrad()
		// GradUpdate spreads a batch of 256 rows or more over the cores in
		// fixed shards (one goroutine each) and applies Adam to each block
		// of the summed gradient on the core that summed it, as flowlab
		// train does.
		loss = net.GradUpdate(data.xt, data.t, lossFn, opt.StepBlocks(net.Params(), net.Grads(), 1e-3)) / float64(len(data.target))
	}
	for i := 0; i < 20; i++ {
		step()
	}
	if err := ctx.Err(); err != nil {
		return benchResult{}, errInterrupted
	}
	start := time.Now()
	for i := 0; i < steps; i++ {
		step()
		if i%16 == 0 && ctx.Err() != nil {
			return benchResult{}, errInterrupted
		}
	}
	trainS := time.Since(start).Seconds()

	// Euler sampling, forward in time, of samples source points at once.
	x := mat.New(samples, c.dim)
	src := newNormal32(2)
	src.fill(x.Data, float32(math.Sqrt(0.5)))
	// Through EulerStep, the path solve's Euler method (and so flowlab
	// sample --solver euler) takes: Eval's fixed row chunks spread over the cores, each chunk's
	// x += h·v applied while its output is in cache (the bits of Eval then
	// the update, as torch_fm.py's x + h * net(...) computes it).
	h := 1 / float64(odeSteps)
	start = time.Now()
	for i := 0; i < odeSteps; i++ {
		net.EulerStep(float64(i)*h, h, x)
		if ctx.Err() != nil {
			return benchResult{}, errInterrupted
		}
	}
	odeS := time.Since(start).Seconds()

	params := len(net.Params())
	round := func(v float64, d int) float64 {
		p := math.Pow(10, float64(d))
		return math.Round(v*p) / p
	}
	return benchResult{
		Impl: "flowlab-" + buildinfo.Version(), Case: c.name, Dim: c.dim, Width: c.width, Depth: c.depth,
		Batch: c.batch, Params: params, Threads: runtime.GOMAXPROCS(0),
		TrainStepsPerS: round(float64(steps)/trainS, 1),
		TrainGFLOPS:    round(6*float64(params)*float64(c.batch)*float64(steps)/trainS/1e9, 2),
		ODEEvalsPerS:   round(float64(odeSteps)/odeS, 1),
		ODESamples:     samples,
		FinalLoss:      round(loss, 4),
		Arch:           benchArch(cfg),
	}, nil
}

// benchArch names a film config as "film-E", and the MLP as "".
func benchArch(cfg nn.Config) string {
	if cfg.Arch != "film" {
		return ""
	}
	return fmt.Sprintf("film-%d", cfg.TimeEmbed)
}

// fmBatch holds one flow-matching minibatch of the linear interpolant:
// x0 ~ N(0, ½I), x1 ~ N(0, I), t ~ U(0, 1), x_t = (1−t)x0 + t·x1 and the
// target x1 − x0, as torch_fm.py's step() draws them. The rows are split in
// two fixed halves, each drawn from its own stream, so that two cores can
// draw them at once and the bits do not depend on GOMAXPROCS.
type fmBatch struct {
	b, d   int
	rng    [2]*normal32
	x0, x1 []float32
	t      []float32
	xt     *mat.Dense
	target []float32
}

func newFMBatch(b, d int, seed uint64) *fmBatch {
	return &fmBatch{
		b: b, d: d, rng: [2]*normal32{newNormal32(2 * seed), newNormal32(2*seed + 1)},
		x0: make([]float32, b*d), x1: make([]float32, b*d), t: make([]float32, b),
		xt: mat.New(b, d), target: make([]float32, b*d),
	}
}

// sample draws a fresh batch.
func (f *fmBatch) sample() {
	h := f.b / 2
	if runtime.GOMAXPROCS(0) > 1 && h*f.d >= 4096 {
		done := make(chan struct{})
		go func() { f.sampleRows(0, 0, h); close(done) }()
		f.sampleRows(1, h, f.b)
		<-done
		return
	}
	f.sampleRows(0, 0, h)
	f.sampleRows(1, h, f.b)
}

// sampleRows draws rows [lo, hi) from stream k.
func (f *fmBatch) sampleRows(k, lo, hi int) {
	d, r := f.d, f.rng[k]
	r.fill(f.x0[lo*d:hi*d], float32(math.Sqrt(0.5)))
	r.fill(f.x1[lo*d:hi*d], 1)
	for i := lo; i < hi; i++ {
		f.t[i] = r.uniform()
	}
	for i := lo; i < hi; i++ {
		t := f.t[i]
		x0, x1 := f.x0[i*d:(i+1)*d], f.x1[i*d:(i+1)*d]
		xt, tg := f.xt.Data[i*d:(i+1)*d], f.target[i*d:(i+1)*d]
		xt, tg = xt[:len(x0)], tg[:len(x0)]
		x1 = x1[:len(x0)]
		for j := range x0 {
			// Each product rounded, then the sum, as torch computes it
			// (and no FMA whatever GOAMD64 is).
			xt[j] = float32((1-t)*x0[j]) + float32(t*x1[j])
			tg[j] = x1[j] - x0[j]
		}
	}
}

// lossRows is an nn.LossFunc for rows [r0, r0+out.R) of the batch: it
// returns their part of Σ(out − target)² and writes the gradient of
// mean((out − target)²), 2(out − target)/(B·D), into g.
func (f *fmBatch) lossRows(r0 int, out, g *mat.Dense) float64 {
	scale := 2 / float32(len(f.target))
	var s float64
	for i := 0; i < out.R; i++ {
		r := r0 + i
		o, tg, gr := out.Data[i*f.d:(i+1)*f.d], f.target[r*f.d:(r+1)*f.d], g.Data[i*f.d:(i+1)*f.d]
		tg, gr = tg[:len(o)], gr[:len(o)]
		var rs float32
		for j := range o {
			e := o[j] - tg[j]
			rs += e * e
			gr[j] = scale * e
		}
		s += float64(rs)
	}
	return s
}

// normal32 draws float32 standard normals fast: Marsaglia and Tsang's
// ziggurat (256 layers, J. Stat. Softw. 5(8), 2000) on 32-bit draws from a
// wyrand generator. It exists so that data sampling does not dominate the
// benchmark's step time (rand.NormFloat64 costs ~7 ns per value here).
type normal32 struct{ s uint64 }

func newNormal32(seed uint64) *normal32 {
	// Mix the seed through a PCG so that nearby seeds give unrelated streams.
	return &normal32{s: rand.New(rand.NewPCG(seed, 0x62656e6368)).Uint64()}
}

func (r *normal32) next() uint64 {
	r.s += 0xa0761d6478bd642f
	hi, lo := bits.Mul64(r.s, r.s^0xe7037ed1a0b428db)
	return hi ^ lo
}

// uniform returns a float32 uniform on [0, 1).
func (r *normal32) uniform() float32 { return float32(r.next()>>40) * (1.0 / (1 << 24)) }

// fill sets dst to independent N(0, scale²) values.
func (r *normal32) fill(dst []float32, scale float32) {
	i := 0
	for ; i+1 < len(dst); i += 2 {
		u := r.next()
		// one's fast path, written out twice so that it is inlined.
		h0, h1 := int32(uint32(u)), int32(uint32(u>>32))
		i0, i1 := h0&(zigN-1), h1&(zigN-1)
		v0, v1 := float32(h0)*zigW[i0], float32(h1)*zigW[i1]
		if absInt32(h0) >= zigK[i0] {
			v0 = r.tail(h0, i0)
		}
		if absInt32(h1) >= zigK[i1] {
			v1 = r.tail(h1, i1)
		}
		dst[i], dst[i+1] = scale*v0, scale*v1
	}
	if i < len(dst) {
		dst[i] = scale * r.one(int32(uint32(r.next())))
	}
}

// one turns a 32-bit draw into a standard normal: the ziggurat's fast path,
// taken about 97 % of the time, and tail otherwise.
func (r *normal32) one(hz int32) float32 {
	iz := hz & (zigN - 1)
	if absInt32(hz) < zigK[iz] {
		return float32(hz) * zigW[iz]
	}
	return r.tail(hz, iz)
}

// absInt32 returns |v| without a branch (|MinInt32| = 2^31 comes out right
// because the subtraction wraps).
func absInt32(v int32) uint32 {
	m := v >> 31
	return uint32((v ^ m) - m)
}

// tail is the ziggurat's slow path (about 1 % of draws).
func (r *normal32) tail(hz, iz int32) float32 {
	const rz = zigR
	for {
		x := float64(hz) * float64(zigW[iz])
		if iz == 0 {
			for {
				x = -math.Log(r.unit()) / rz
				y := -math.Log(r.unit())
				if y+y >= x*x {
					break
				}
			}
			if hz > 0 {
				return float32(rz + x)
			}
			return float32(-rz - x)
		}
		if zigF[iz]+r.unit()*(zigF[iz-1]-zigF[iz]) < math.Exp(-0.5*x*x) {
			return float32(x)
		}
		hz = int32(uint32(r.next()))
		iz = hz & (zigN - 1)
		if absInt32(hz) < zigK[iz] {
			return float32(hz) * zigW[iz]
		}
	}
}

// unit returns a float64 uniform on (0, 1).
func (r *normal32) unit() float64 { return (float64(r.next()>>11) + 0.5) / (1 << 53) }

var zigK, zigW, zigF = zigTables()

// zigN is the number of ziggurat layers and zigR the start of the tail
// (Marsaglia and Tsang's constants for 256 layers, with the base strip's
// area zigV): 2.7 % of 32-bit draws left the fast path with 128 layers,
// each costing a float64 exp, which was 30 % of the generator's time.
const (
	zigN = 256
	zigR = 3.6541528853610088
	zigV = 4.92867323399e-3
)

// zigTables computes the ziggurat tables (Marsaglia and Tsang's zigset).
func zigTables() (k [zigN]uint32, w [zigN]float32, f [zigN]float64) {
	const m1 = 2147483648.0
	dn, vn := zigR, zigV
	tn := dn
	q := vn / math.Exp(-0.5*dn*dn)
	k[0] = uint32(dn / q * m1)
	k[1] = 0
	w[0] = float32(q / m1)
	w[zigN-1] = float32(dn / m1)
	f[0] = 1
	f[zigN-1] = math.Exp(-0.5 * dn * dn)
	for i := zigN - 2; i >= 1; i-- {
		dn = math.Sqrt(-2 * math.Log(vn/dn+math.Exp(-0.5*dn*dn)))
		k[i+1] = uint32(dn / tn * m1)
		tn = dn
		f[i] = math.Exp(-0.5 * dn * dn)
		w[i] = float32(dn / m1)
	}
	return
}
