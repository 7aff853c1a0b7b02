package experiment

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/flowlab/flowlab/dist"
	"github.com/flowlab/flowlab/fdmnist"
	"github.com/flowlab/flowlab/latent"
	"github.com/flowlab/flowlab/mat"
	"github.com/flowlab/flowlab/metrics"
	"github.com/flowlab/flowlab/nn"
	"github.com/flowlab/flowlab/train"
)

// latentSpec: the seed's second fix, latent flows: PCA latents of the
// embedded Gaussian and of MNIST, and autoencoder latents of MNIST, whose
// digits are scored by FD-MNIST.
func latentSpec() spec {
	p := plan[latentConfig, *latentJob]{
		setup: latentSetup, cells: latentCells, measure: latentMeasure, cost: latentCost,
		figures: latentFigures, findings: latentFindings,
		results: func(_ latentConfig, js []*latentJob) any { return latentRuns(js) },
		stats:   func(_ latentConfig, js []*latentJob) []cellStat { return latentStats(latentRuns(js)) },
	}
	return spec{
		name:  "latent",
		title: "the fix by latent flows: PCA and autoencoder latents",
		question: "Does a flow in a latent space that keeps the data's variation avoid the rank problem that a flow in the full space has, " +
			"and which latent (pixels, PCA, an autoencoder's) generates the best MNIST digits at the same training budget?",
		claim: "The seed proposes flowing in a latent space whose dimension matches the data's variation instead of the full space: " +
			"then the Gaussian side is full-rank and the inverse flow can reach Chi(d).",
		run: p.run,
	}
}

// latentConfig is the latent experiment's setting. Every MNIST flow (the
// rows: pixels, PCA latents, autoencoder latents) gets the same training
// budget: the same network, steps, batch and schedule; an autoencoder row
// also trains its autoencoder (AESteps) and a PCA row fits its PCA.
type latentConfig struct {
	Embedded    string    `json:"embedded"`
	EmbeddedNet []int     `json:"embedded_hidden"`
	MNIST       bool      `json:"mnist"`
	Seeds       int       `json:"seeds"`
	Grid        string    `json:"mnist_grid"`            // which MNIST rows this scale runs, and why
	MNISTSplit  string    `json:"mnist_split"`           // the split the flows and autoencoders train on
	RefSplit    string    `json:"mnist_reference_split"` // the split the generated digits are compared with
	MNISTRows   int       `json:"mnist_rows"`            // first rows used; 0: all
	MNISTNet    []int     `json:"mnist_hidden"`
	Fractions   []float64 `json:"mnist_fractions"` // PCA latents keeping these fractions of the variance
	AEDims      []int     `json:"mnist_ae_dims"`   // autoencoder latents of these dimensions
	AEHidden    []int     `json:"ae_hidden"`       // the encoder's widths; the decoder mirrors them
	AESteps     int       `json:"ae_steps"`
	AEBatch     int       `json:"ae_batch"`
	AELR        float64   `json:"ae_lr"`
	FitN        int       `json:"embedded_fit_n"` // embedded points the PCA is fitted on
	Steps       int       `json:"steps"`
	MNISTSteps  int       `json:"mnist_steps"`
	Batch       int       `json:"batch"`       // the embedded Gaussian's flows
	MNISTBatch  int       `json:"mnist_batch"` // every MNIST flow's
	LR          float64   `json:"lr"`
	Fourier     int       `json:"fourier"`
	Schedule    string    `json:"schedule"`
	Warmup      int       `json:"warmup"`
	EMA         float64   `json:"ema_max"` // the EMA decay is min(ema_max, 1 − 10/steps): a window of a tenth of the run
	EvalN       int       `json:"eval_n"`  // inverse-flow points, and the samples of W2 and MMD
	FDN         int       `json:"fd_n"`    // generated digits scored by FD-MNIST; the floor scores as many training digits
	Classifier  string    `json:"fd_classifier"`
	Images      int       `json:"images"`
	Solver      string    `json:"solver"`
}

// latentAEPrimary is the autoencoder latent the hypotheses name, fixed
// before any result: the smallest dimension of the grid above MNIST's
// intrinsic dimension (≈ 14–15 by Levina–Bickel and TwoNN).
const latentAEPrimary = 16

func latentSetup(s Scale) latentConfig {
	return latentConfig{
		Embedded:    pick(s, "embedded:dim=32,rank=16,var=0.5", "embedded:dim=128,rank=64,var=0.5", "embedded:dim=128,rank=64,var=0.5"),
		EmbeddedNet: pick(s, []int{64, 64, 64}, []int{256, 256, 256}, []int{512, 512, 512}),
		MNIST:       true,
		Seeds:       seedsFor(s),
		Grid: pick(s, "smoke and quick: pixels, PCA 95 %, AE d = 16 (the rows the findings name); paper: the full grid",
			"smoke and quick: pixels, PCA 95 %, AE d = 16 (the rows the findings name); paper: the full grid",
			"the full grid: pixels, PCA 95 % and 99 %, AE d = 8, 16, 32, 64"),
		MNISTSplit: "train", RefSplit: "test",
		MNISTRows:  pick(s, 2000, 0, 0),
		MNISTNet:   pick(s, []int{64, 64}, []int{256, 256, 256}, []int{512, 512, 512}),
		Fractions:  pick(s, []float64{0.95}, []float64{0.95}, []float64{0.95, 0.99}),
		AEDims:     pick(s, []int{latentAEPrimary}, []int{latentAEPrimary}, []int{8, 16, 32, 64}),
		AEHidden:   pick(s, []int{64}, []int{256}, []int{512, 256}),
		AESteps:    pick(s, 50, 800, 2000),
		AEBatch:    pick(s, 64, 128, 256),
		AELR:       pick(s, 1e-3, 2e-3, 1e-3),
		FitN:       pick(s, 2000, 20000, 50000),
		Steps:      pick(s, 200, 1200, 4000),
		MNISTSteps: pick(s, 50, 800, 4000),
		Batch:      pick(s, 128, 256, 512),
		MNISTBatch: pick(s, 128, 256, 256),
		LR:         5e-3, Fourier: 8, Schedule: "cosine",
		Warmup:     pick(s, 10, 100, 500),
		EMA:        pick(s, 0.99, 0.999, 0.9995),
		EvalN:      pick(s, 300, 1000, 2000),
		FDN:        pick(s, 300, 1000, 5000),
		Classifier: "fdmnist.Default (" + fdmnist.DefaultFile + ", shipped)",
		Images:     12, Solver: "rk4",
	}
}

// latentRun is one flow between N(0, I_d) (t = 0) and the data or its codes
// (t = 1): forward generates, inverse encodes. The FD-MNIST fields are
// those of MNIST rows (zero, and left out, for the embedded Gaussian).
type latentRun struct {
	Data       string  `json:"data"`
	Space      string  `json:"space"`              // "full", "pca" or "ae"
	D          int     `json:"d"`                  // dimension the flow runs in
	Explained  float64 `json:"explained_variance"` // of the data's (an autoencoder's: of its test reconstructions)
	FinalLoss  float64 `json:"final_loss"`
	MeanNorm   float64 `json:"inverse_mean_norm"` // of f⁻¹(data)
	ChiMean    float64 `json:"chi_mean"`          // of Chi(d)
	KS         float64 `json:"inverse_ks_chi_d"`  // of ‖f⁻¹(data)‖ against Chi(d)
	ForwardW2  float64 `json:"forward_w2"`        // decoded samples against data, in data space
	ForwardMMD float64 `json:"forward_mmd"`
	BaseW2     float64 `json:"baseline_w2"` // two held-out data samples: the sampling floor
	BaseMMD    float64 `json:"baseline_mmd"`
	FD         float64 `json:"fd_mnist,omitempty"`          // FDN generated digits against the test split
	FDFloor    float64 `json:"fd_floor,omitempty"`          // FDN training digits against the test split
	ReconFD    float64 `json:"reconstruction_fd,omitempty"` // FDN test digits encoded and decoded, against the test split
	Entropy    float64 `json:"class_entropy,omitempty"`     // of the classes predicted for the generated digits (nats)
	Classes    []int   `json:"class_counts,omitempty"`
	Seed       int     `json:"seed"`
	// Figure state: kept in a cell's result file, left out of metrics.json.
	Norms  []float64 `json:"norms,omitempty" figure:"true"`  // of f⁻¹(data), seed 1 only (the figure's)
	Images [][]uint8 `json:"images,omitempty" figure:"true"` // generated digits, seed 1 only, pixels ·255 rounded
}

// latentJob is one flow to train for one seed. Run is the job's result
// (what a sweep cell stores); the other fields are inputs that cells
// prepares again in every process: the data in the flow's space (nil for
// an autoencoder row, whose encoder measure trains), the data's pixels, the
// held-out reference in data space and the floors of W2 and MMD, the MMD bandwidths fixed for that data
// set, the map that decodes (nil: full space) and, for MNIST, the
// classifier and its fit of the test split.
type latentJob struct {
	Run    *latentRun `json:"run"`
	i      int
	data   *mat.Dense
	pixels *mat.Dense
	ref    *mat.Dense
	floor  latentFloor
	test   *mat.Dense
	scales []float64
	lat    latent.Map
	clf    *fdmnist.Classifier
	fdRef  *fdmnist.Reference
	net    []int
	st     int
	batch  int
	work   int // estimated multiply-adds (latentCost)
}

// latentRuns returns the jobs' measurements.
func latentRuns(js []*latentJob) []*latentRun {
	var runs []*latentRun
	for _, j := range js {
		runs = append(runs, j.Run)
	}
	return runs
}

// latentCost is a job's estimated multiply-adds (cellSeconds turns them
// into CPU seconds): its flow's training (about three passes of the
// weights per row of a batch) and sampling (four evaluations per RK4 step,
// n points), plus its autoencoder's training.
func latentCost(j *latentJob) int { return j.work }

// mlpWeights is the multiply-adds of one row through an MLP of these widths.
func mlpWeights(widths ...int) int {
	w := 0
	for k := 1; k < len(widths); k++ {
		w += widths[k-1] * widths[k]
	}
	return w
}

// setWork sets j's estimated cost for the setting c.
func (j *latentJob) setWork(c latentConfig) {
	widths := append(append([]int{j.Run.D}, j.net...), j.Run.D)
	w := mlpWeights(widths...)
	n := c.EvalN
	if j.Run.Data == "mnist" {
		n += c.FDN
	}
	j.work = 3*w*j.batch*j.st + 4*flowSteps*w*n
	if j.Run.Space == "ae" {
		ae := append(append([]int{j.pixels.C}, c.AEHidden...), j.Run.D)
		j.work += 2 * 3 * mlpWeights(ae...) * c.AEBatch * c.AESteps
	}
}

// latentCells prepares the data: the embedded Gaussian in full and in its
// PCA latent, then MNIST in full, in PCA latents and in autoencoder latents;
// every flow once per seed.
func latentCells(e *env, c latentConfig) ([]*latentJob, error) {
	// Embedded: fit the PCA on a sample, keep the components above the
	// sample covariance's numerical rank (NumPy's rule).
	src, err := dist.Parse(c.Embedded)
	if err != nil {
		return nil, err
	}
	rng := newRNG(e.seed, "latent-data")
	emb := draw(src, c.FitN, rng)
	sp, err := metrics.Spectrum(emb, metrics.SpectrumOptions{})
	if err != nil {
		return nil, err
	}
	embPCA, err := latent.Fit(emb, latent.Options{Dim: sp.Rank})
	if err != nil {
		return nil, err
	}
	// Fresh draws of the law: held out by construction.
	embRef, embRef2 := draw(src, c.EvalN, rng), draw(src, c.EvalN, rng)
	embScales := metrics.MedianScales(embRef, embRef)
	embFloor, err := newLatentFloor(e, embRef, embRef2, embScales)
	if err != nil {
		return nil, err
	}
	base := []*latentJob{
		{Run: &latentRun{Data: c.Embedded, Space: "full", D: src.Dim(), Explained: 1}, data: emb, net: c.EmbeddedNet, st: c.Steps},
		{Run: &latentRun{Data: c.Embedded, Space: "pca", D: embPCA.K, Explained: embPCA.Explained()}, data: embPCA.Encode(emb), lat: embPCA, net: c.EmbeddedNet, st: c.Steps},
	}
	for _, j := range base {
		j.ref, j.floor, j.scales, j.batch = embRef, embFloor, embScales, c.Batch
	}
	if c.MNIST {
		mj, err := latentMNISTJobs(e, c, rng)
		if err != nil {
			return nil, err
		}
		base = append(base, mj...)
	}
	var jobs []*latentJob
	for s := 1; s <= c.Seeds; s++ {
		for i, b := range base {
			j := *b
			r := *b.Run
			r.Seed = s
			j.i, j.Run = i, &r
			j.setWork(c)
			jobs = append(jobs, &j)
		}
	}
	return jobs, nil
}

// latentMNISTJobs loads MNIST (training rows from the train split, the
// references from the test split), fits its PCA and the classifier's
// Gaussian of the test split, and returns the full-space job, one job per
// fraction of the variance kept and one per autoencoder dimension.
func latentMNISTJobs(e *env, c latentConfig, rng *rand.Rand) ([]*latentJob, error) {
	t0 := time.Now()
	m, err := dist.LoadMNIST(dist.MNISTOptions{Dir: e.opts.MNISTDir, Split: c.MNISTSplit})
	if err != nil {
		return nil, err
	}
	test, err := dist.LoadMNIST(dist.MNISTOptions{Dir: e.opts.MNISTDir, Split: c.RefSplit})
	if err != nil {
		return nil, err
	}
	x := m.Data()
	if c.MNISTRows > 0 && c.MNISTRows < x.R {
		x = x.Rows(0, c.MNISTRows)
	}
	pca, err := latent.Fit(x, latent.Options{})
	if err != nil {
		return nil, err
	}
	clf, err := fdmnist.Default()
	if err != nil {
		return nil, err
	}
	t := test.Data()
	fdRef, err := clf.Reference(t)
	if err != nil {
		return nil, err
	}
	e.timed("mnist load, pca and classifier", t0)
	// Two disjoint reference samples of the test split, and the test digits
	// the maps reconstruct.
	perm := rng.Perm(t.R)
	ref, ref2, rec := mat.New(c.EvalN, t.C), mat.New(c.EvalN, t.C), mat.New(min(c.FDN, t.R), t.C)
	for i := range c.EvalN {
		copy(ref.Row(i), t.Row(perm[i]))
		copy(ref2.Row(i), t.Row(perm[c.EvalN+i]))
	}
	for i := range rec.R {
		copy(rec.Row(i), t.Row(perm[i]))
	}
	scales := metrics.MedianScales(ref, ref)
	floor, err := newLatentFloor(e, ref, ref2, scales)
	if err != nil {
		return nil, err
	}
	jobs := []*latentJob{{Run: &latentRun{Data: "mnist", Space: "full", D: x.C, Explained: 1}, data: x}}
	for _, f := range c.Fractions {
		k := metrics.CountExplained(pca.Variances, f)
		p := pca.WithK(k)
		jobs = append(jobs, &latentJob{Run: &latentRun{Data: "mnist", Space: "pca", D: k, Explained: p.Explained()}, data: p.Encode(x), lat: p})
	}
	for _, d := range c.AEDims {
		jobs = append(jobs, &latentJob{Run: &latentRun{Data: "mnist", Space: "ae", D: d}})
	}
	for _, j := range jobs {
		j.pixels, j.ref, j.floor, j.test, j.scales = x, ref, floor, rec, scales
		j.clf, j.fdRef, j.net, j.st, j.batch = clf, fdRef, c.MNISTNet, c.MNISTSteps, c.MNISTBatch
	}
	return jobs, nil
}

// latentMeasure trains one flow (after its autoencoder, for an autoencoder
// row) and measures both directions, each distance beside the same distance
// between two reference samples, and for MNIST the digits' FD-MNIST beside
// its floor.
func latentMeasure(e *env, c latentConfig, j *latentJob) error {
	t0 := time.Now()
	r := j.Run
	lat, data, err := latentMap(e, c, j)
	if err != nil {
		return err
	}
	gauss, err := dist.NewGaussian(r.D, 1, 0)
	if err != nil {
		return err
	}
	cfg := train.Config{Hidden: j.net, Act: "silu", Fourier: c.Fourier, Steps: j.st, Batch: j.batch, LR: c.LR, Schedule: c.Schedule,
		Warmup: c.Warmup, EMA: emaFor(c.EMA, j.st), Seed: subSeed(e.seed, "latent", j.i, r.Seed)}
	res, err := train.Fit(e.ctx, gauss, dist.NewDataset(r.Data, data), cfg, train.Options{})
	if err != nil {
		return fmt.Errorf("%s %s-%d: %w", r.Data, r.Space, r.D, err)
	}
	r.FinalLoss, _ = res.FinalLoss(100)
	rr := newRNG(e.seed, "latent-eval", j.i, r.Seed)
	if err := latentInverse(e, c, r, res.Net, data, rr); err != nil {
		return err
	}
	// Forward: noise → data (decoded), against held-out data.
	n := c.EvalN
	if j.clf != nil {
		n = max(n, c.FDN)
	}
	gen, err := flow(e.ctx, res.Net, draw(gauss, n, rr), false)
	if err != nil {
		return err
	}
	if lat != nil {
		gen = lat.Decode(gen)
	}
	if err := latentForward(e, c, j, gen.Rows(0, c.EvalN)); err != nil {
		return err
	}
	if j.clf != nil {
		if err := latentFD(e, j, lat, gen); err != nil {
			return err
		}
	}
	if r.Seed == 1 {
		r.Images = quantize(gen, c.Images)
	}
	e.logf("%s %s d=%d seed %d: inverse KS Chi(%d) %.3f (mean norm %.2f vs %.2f), forward W2 %.3f (floor %.3f), MMD %.4f (floor %.4f), FD-MNIST %.3g (floor %.3g, reconstruction %.3g) [%.1fs]",
		r.Data, r.Space, r.D, r.Seed, r.D, r.KS, r.MeanNorm, r.ChiMean, r.ForwardW2, r.BaseW2, r.ForwardMMD, r.BaseMMD, r.FD, r.FDFloor, r.ReconFD, time.Since(t0).Seconds())
	return nil
}

// latentMap returns the job's map (nil: full space) and its data in the
// flow's space; an autoencoder row trains its autoencoder here, from the
// seed's own stream.
func latentMap(e *env, c latentConfig, j *latentJob) (latent.Map, *mat.Dense, error) {
	if j.Run.Space != "ae" {
		return j.lat, j.data, nil
	}
	t0 := time.Now()
	ae, err := latent.TrainAE(e.ctx, j.pixels, latent.AEConfig{Latent: j.Run.D, Hidden: c.AEHidden, Loss: "bce"},
		latent.AEOptions{Steps: c.AESteps, Batch: c.AEBatch, LR: c.AELR, Seed: subSeed(e.seed, "latent-ae", j.Run.D, j.Run.Seed)})
	if err != nil {
		return nil, nil, fmt.Errorf("mnist ae-%d: %w", j.Run.D, err)
	}
	e.logf("mnist ae d=%d seed %d: autoencoder trained [%.1fs]", j.Run.D, j.Run.Seed, time.Since(t0).Seconds())
	return ae, ae.Encode(j.pixels), nil
}

// latentInverse carries EvalN rows of the flow's data to noise and measures
// their norms against Chi(d).
func latentInverse(e *env, c latentConfig, r *latentRun, net *nn.Net, data *mat.Dense, rr *rand.Rand) error {
	rows := mat.New(c.EvalN, r.D)
	for k := range c.EvalN {
		copy(rows.Row(k), data.Row(rr.IntN(data.R)))
	}
	inv, err := flow(e.ctx, net, rows, true)
	if err != nil {
		return err
	}
	nr := norms(inv)
	r.MeanNorm, r.ChiMean = mean(nr), chiMean(r.D, 1)
	r.KS = ksChi(nr, r.D, 1)
	if r.Seed == 1 {
		r.Norms = nr
	}
	return nil
}

// latentForward measures EvalN generated points against the held-out
// reference by W2 and MMD, beside the same between two reference samples.
func latentForward(e *env, c latentConfig, j *latentJob, gen *mat.Dense) error {
	r := j.Run
	var err error
	if r.ForwardW2, err = metrics.W2(e.ctx, gen, j.ref); err != nil {
		return err
	}
	r.ForwardMMD = metrics.MMD(gen, j.ref, j.scales)
	r.BaseW2, r.BaseMMD = j.floor.w2, j.floor.mmd
	return nil
}

// latentFloor is the W2 and MMD between two held-out samples of a data
// set: the floors its flows' distances are read against, computed once
// when the cells are made.
type latentFloor struct{ w2, mmd float64 }

// newLatentFloor measures the floors between ref2 and ref.
func newLatentFloor(e *env, ref, ref2 *mat.Dense, scales []float64) (latentFloor, error) {
	w2, err := metrics.W2(e.ctx, ref2, ref)
	return latentFloor{w2: w2, mmd: metrics.MMD(ref2, ref, scales)}, err
}

// latentFD scores the generated digits by FD-MNIST against the test split
// with their class coverage, the floor (as many training digits, drawn from
// the seed's stream, so every row of a seed has the same floor) and the
// map's reconstructions of test digits.
func latentFD(e *env, j *latentJob, lat latent.Map, gen *mat.Dense) error {
	r := j.Run
	clf := &fdmnist.Classifier{Net: j.clf.Net.Clone()} // a Net is not safe for concurrent use
	s, err := clf.Score(clampUnit(gen), j.fdRef)
	if err != nil {
		return err
	}
	r.FD, r.Entropy, r.Classes = s.FD, s.Coverage.Entropy, s.Coverage.Counts
	fr := newRNG(e.seed, "latent-floor", r.Seed)
	digits := mat.New(gen.R, gen.C)
	for k := range digits.R {
		copy(digits.Row(k), j.pixels.Row(fr.IntN(j.pixels.R)))
	}
	if s, err = clf.Score(digits, j.fdRef); err != nil {
		return err
	}
	r.FDFloor = s.FD
	if lat != nil {
		rec := lat.Decode(lat.Encode(j.test))
		if s, err = clf.Score(clampUnit(rec), j.fdRef); err != nil {
			return err
		}
		r.ReconFD = s.FD
		if r.Space == "ae" {
			r.Explained = explained(j.test, rec)
		}
	}
	return nil
}

// explained returns the fraction of the variance of the rows of x that
// their reconstructions rec keep: 1 − Σ‖x − rec‖² / Σ‖x − x̄‖².
func explained(x, rec *mat.Dense) float64 {
	mu := make([]float64, x.C)
	for i := range x.R {
		for k, v := range x.Row(i) {
			mu[k] += float64(v) / float64(x.R)
		}
	}
	var res, tot float64
	for i := range x.R {
		xr, rr := x.Row(i), rec.Row(i)
		for k, v := range xr {
			d, m := float64(v)-float64(rr[k]), float64(v)-mu[k]
			res, tot = res+d*d, tot+m*m
		}
	}
	return 1 - res/tot
}

// clampUnit returns x with its values clamped to [0, 1], the classifier's
// pixel range (a PCA decodes slightly outside it).
func clampUnit(x *mat.Dense) *mat.Dense {
	y := x.Clone()
	for i, v := range y.Data {
		y.Data[i] = min(max(v, 0), 1)
	}
	return y
}

// quantize returns the first n rows of x as bytes, pixels in [0, 1] scaled
// by 255 and rounded (clamped): what an 8-bit image grid draws.
func quantize(x *mat.Dense, n int) [][]uint8 {
	var out [][]uint8
	for i := range min(n, x.R) {
		row := make([]uint8, x.C)
		for k, v := range x.Row(i) {
			row[k] = uint8(math.Round(255 * min(max(float64(v), 0), 1)))
		}
		out = append(out, row)
	}
	return out
}
