package experiment

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/flowlab/flowlab/dist"
	"github.com/flowlab/flowlab/latent"
	"github.com/flowlab/flowlab/mat"
	"github.com/flowlab/flowlab/metrics"
	"github.com/flowlab/flowlab/plot"
	"github.com/flowlab/flowlab/report"
	"github.com/flowlab/flowlab/train"
)

// latentSpec: the seed's second fix, latent flows.
func latentSpec() spec {
	p := plan[latentConfig, *latentJob]{
		setup: latentSetup, cells: latentCells, measure: latentMeasure,
		figures: latentFigures, findings: latentFindings,
		results: func(_ latentConfig, js []*latentJob) any { return latentRuns(js) },
		stats:   func(_ latentConfig, js []*latentJob) []cellStat { return latentStats(latentRuns(js)) },
	}
	return spec{
		name:     "latent",
		title:    "the fix by latent flows: PCA",
		question: "Does a flow in a PCA latent that keeps the data's variation avoid the rank problem that a flow in the full space has, in both directions?",
		claim: "The seed proposes flowing in a latent space whose dimension matches the data's variation instead of the full space: " +
			"then the Gaussian side is full-rank and the inverse flow can reach Chi(d).",
		run: p.run,
	}
}

// latentConfig is the latent experiment's setting.
type latentConfig struct {
	Embedded    string    `json:"embedded"`
	EmbeddedNet []int     `json:"embedded_hidden"`
	MNIST       bool      `json:"mnist"`
	Seeds       int       `json:"seeds"`
	MNISTSplit  string    `json:"mnist_split"`           // the split the flows train on
	RefSplit    string    `json:"mnist_reference_split"` // the split the generated digits are compared with
	MNISTRows   int       `json:"mnist_rows"`            // first rows used; 0: all
	MNISTNet    []int     `json:"mnist_hidden"`
	Fractions   []float64 `json:"mnist_fractions"` // PCA latents keeping these fractions of the variance
	FitN        int       `json:"embedded_fit_n"`  // embedded points the PCA is fitted on
	Steps       int       `json:"steps"`
	MNISTSteps  int       `json:"mnist_steps"`
	Batch       int       `json:"batch"`
	LR          float64   `json:"lr"`
	Fourier     int       `json:"fourier"`
	Schedule    string    `json:"schedule"`
	Warmup      int       `json:"warmup"`
	EMA         float64   `json:"ema_max"` // the EMA decay is min(ema_max, 1 − 10/steps): a window of a tenth of the run
	EvalN       int       `json:"eval_n"`
	Images      int       `json:"images"`
	Solver      string    `json:"solver"`
}

// latentRun is one flow between N(0, I_d) (t = 0) and the data or its codes
// (t = 1): forward generates, inverse encodes.
type latentRun struct {
	Data       string  `json:"data"`
	Space      string  `json:"space"` // "full" or "pca"
	D          int     `json:"d"`     // dimension the flow runs in
	Explained  float64 `json:"explained_variance"`
	FinalLoss  float64 `json:"final_loss"`
	MeanNorm   float64 `json:"inverse_mean_norm"` // of f⁻¹(data)
	ChiMean    float64 `json:"chi_mean"`          // of Chi(d)
	KS         float64 `json:"inverse_ks_chi_d"`  // of ‖f⁻¹(data)‖ against Chi(d)
	ForwardW2  float64 `json:"forward_w2"`        // decoded samples against data, in data space
	ForwardMMD float64 `json:"forward_mmd"`
	BaseW2     float64 `json:"baseline_w2"` // two held-out data samples: the sampling floor
	BaseMMD    float64 `json:"baseline_mmd"`
	Seed       int     `json:"seed"`
	// Figure state: kept in a cell's result file, left out of metrics.json.
	Norms  []float64   `json:"norms,omitempty" figure:"true"`  // of f⁻¹(data)
	Images [][]float32 `json:"images,omitempty" figure:"true"` // generated samples, seed 1 only (the figure's)
}

func latentSetup(s Scale) latentConfig {
	return latentConfig{
		Embedded:    pick(s, "embedded:dim=32,rank=16,var=0.5", "embedded:dim=128,rank=64,var=0.5", "embedded:dim=128,rank=64,var=0.5"),
		EmbeddedNet: pick(s, []int{64, 64, 64}, []int{256, 256, 256}, []int{512, 512, 512}),
		MNIST:       true,
		Seeds:       seedsFor(s),
		MNISTSplit:  "train", RefSplit: "test",
		MNISTRows:  pick(s, 2000, 0, 0),
		MNISTNet:   pick(s, []int{64, 64}, []int{256, 256, 256}, []int{1024, 1024, 1024}),
		Fractions:  pick(s, []float64{0.95, 0.99}, []float64{0.95}, []float64{0.95, 0.99}), // quick: the one latent its findings use
		FitN:       pick(s, 2000, 20000, 50000),
		Steps:      pick(s, 200, 1200, 10000),
		MNISTSteps: pick(s, 50, 1000, 20000),
		Batch:      pick(s, 128, 256, 512),
		LR:         5e-3, Fourier: 8, Schedule: "cosine",
		Warmup: pick(s, 10, 100, 500),
		EMA:    pick(s, 0.99, 0.999, 0.9995),
		EvalN:  pick(s, 300, 1000, 2000),
		Images: 12, Solver: "rk4",
	}
}

// latentJob is one flow to train for one seed: its data in the flow's
// space, the held-out reference in data space with a second, independent
// reference sample for the floors, the MMD bandwidths fixed for that data
// set, and the PCA that decodes (nil: full space).
//
// Run is the job's result (what a sweep cell stores); the other fields are
// inputs that cells prepares again in every process.
type latentJob struct {
	Run    *latentRun `json:"run"`
	i      int
	data   *mat.Dense
	ref    *mat.Dense
	ref2   *mat.Dense
	scales []float64
	pca    *latent.PCA
	net    []int
	st     int
}

// latentRuns returns the jobs' measurements.
func latentRuns(js []*latentJob) []*latentRun {
	var runs []*latentRun
	for _, j := range js {
		runs = append(runs, j.Run)
	}
	return runs
}

// latentCells prepares the data: the embedded Gaussian in full and in its
// PCA latent, then MNIST in full and in PCA latents keeping each fraction;
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
	base := []*latentJob{
		{Run: &latentRun{Data: c.Embedded, Space: "full", D: src.Dim(), Explained: 1}, data: emb, net: c.EmbeddedNet, st: c.Steps},
		{Run: &latentRun{Data: c.Embedded, Space: "pca", D: embPCA.K, Explained: embPCA.Explained()}, data: embPCA.Encode(emb), pca: embPCA, net: c.EmbeddedNet, st: c.Steps},
	}
	for _, j := range base {
		j.ref, j.ref2, j.scales = embRef, embRef2, embScales
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
			jobs = append(jobs, &j)
		}
	}
	return jobs, nil
}

// latentMNISTJobs loads MNIST (training rows from the train split, the
// references from the test split), fits its PCA and returns the
// full-space job and one job per fraction of the variance kept.
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
	e.timed("mnist load and pca", t0)
	// Two disjoint reference samples of the test split.
	t := test.Data()
	perm := rng.Perm(t.R)
	ref, ref2 := mat.New(c.EvalN, t.C), mat.New(c.EvalN, t.C)
	for i := range c.EvalN {
		copy(ref.Row(i), t.Row(perm[i]))
		copy(ref2.Row(i), t.Row(perm[c.EvalN+i]))
	}
	scales := metrics.MedianScales(ref, ref)
	jobs := []*latentJob{{Run: &latentRun{Data: "mnist", Space: "full", D: x.C, Explained: 1}, data: x, net: c.MNISTNet, st: c.MNISTSteps}}
	for _, f := range c.Fractions {
		k := metrics.CountExplained(pca.Variances, f)
		p := pca.WithK(k)
		jobs = append(jobs, &latentJob{Run: &latentRun{Data: "mnist", Space: "pca", D: k, Explained: p.Explained()},
			data: p.Encode(x), pca: p, net: c.MNISTNet, st: c.MNISTSteps})
	}
	for _, j := range jobs {
		j.ref, j.ref2, j.scales = ref, ref2, scales
	}
	return jobs, nil
}

// latentMeasure trains one flow and measures both directions, each
// distance beside the same distance between two reference samples.
func latentMeasure(e *env, c latentConfig, j *latentJob) error {
	t0 := time.Now()
	r := j.Run
	gauss, err := dist.NewGaussian(r.D, 1, 0)
	if err != nil {
		return err
	}
	data := dist.NewDataset(r.Data, j.data)
	cfg := train.Config{Hidden: j.net, Act: "silu", Fourier: c.Fourier, Steps: j.st, Batch: c.Batch, LR: c.LR, Schedule: c.Schedule,
		Warmup: c.Warmup, EMA: emaFor(c.EMA, j.st), Seed: subSeed(e.seed, "latent", j.i, r.Seed)}
	res, err := train.Fit(e.ctx, gauss, data, cfg, train.Options{})
	if err != nil {
		return fmt.Errorf("%s %s-%d: %w", r.Data, r.Space, r.D, err)
	}
	r.FinalLoss, _ = res.FinalLoss(100)
	rr := newRNG(e.seed, "latent-eval", j.i, r.Seed)
	// Inverse: data (or codes) → noise; norms against Chi(d).
	rows := mat.New(c.EvalN, r.D)
	for k := range c.EvalN {
		copy(rows.Row(k), j.data.Row(rr.IntN(j.data.R)))
	}
	inv, err := flow(e.ctx, res.Net, rows, true)
	if err != nil {
		return err
	}
	r.Norms = norms(inv)
	r.MeanNorm, r.ChiMean = mean(r.Norms), chiMean(r.D, 1)
	r.KS = ksChi(r.Norms, r.D, 1)
	// Forward: noise → data (decoded), against held-out data.
	gen, err := flow(e.ctx, res.Net, draw(gauss, c.EvalN, rr), false)
	if err != nil {
		return err
	}
	if j.pca != nil {
		gen = j.pca.Decode(gen)
	}
	if r.ForwardW2, err = metrics.W2(e.ctx, gen, j.ref); err != nil {
		return err
	}
	if r.BaseW2, err = metrics.W2(e.ctx, j.ref2, j.ref); err != nil {
		return err
	}
	r.ForwardMMD, r.BaseMMD = metrics.MMD(gen, j.ref, j.scales), metrics.MMD(j.ref2, j.ref, j.scales)
	for k := range min(c.Images, gen.R) {
		if r.Seed == 1 {
			r.Images = append(r.Images, gen.Row(k))
		}
	}
	e.logf("%s %s d=%d seed %d: inverse KS Chi(%d) %.3f (mean norm %.2f vs %.2f), forward W2 %.3f (floor %.3f), MMD %.4f (floor %.4f) [%.1fs]",
		r.Data, r.Space, r.D, r.Seed, r.D, r.KS, r.MeanNorm, r.ChiMean, r.ForwardW2, r.BaseW2, r.ForwardMMD, r.BaseMMD, time.Since(t0).Seconds())
	return nil
}

// latentFigures draws the inverse norms and the generated digits.
func latentFigures(e *env, c latentConfig, js []*latentJob) ([]report.Figure, error) {
	var runs []*latentRun
	for _, r := range latentRuns(js) {
		if r.Seed == 1 {
			runs = append(runs, r)
		}
	}
	var mnistRef *mat.Dense
	for _, j := range js {
		if j.Run.Data == "mnist" {
			mnistRef = j.ref
			break
		}
	}
	var panels []plot.HistPanel
	for _, r := range runs {
		m, sd := chiMean(r.D, 1), chiSD(r.D, 1)
		xs := grid(max(m-6*sd, 0), m+6*sd, 200)
		panels = append(panels, plot.HistPanel{
			Title:  fmt.Sprintf("%s, %s d=%d", shortData(r.Data), r.Space, r.D),
			Values: r.Norms,
			Curves: []plot.Curve{chiCurve("Chi(d)", xs, r.D, 1, false)},
		})
	}
	if err := plot.HistGrid(e.figure("inverse_norms.png"), "‖f^-1(data)‖ against Chi(d), d the dimension the flow runs in", min(len(panels), 5), panels,
		plot.HistOptions{PanelRange: true, XLabel: "‖f^-1(x)‖", PanelW: 230, PanelH: 180, Legend: true}); err != nil {
		return nil, err
	}
	figs := []report.Figure{{File: "inverse_norms.png", Caption: "Seed 1: norms of the inverse flow's output (data → noise) with the Chi(d) density of the flow's Gaussian side. Every seed's numbers are in the table."}}
	if mnistRef == nil {
		return figs, nil
	}
	ip := []plot.ImagePanel{{Title: "MNIST data", Images: rowsOf(mnistRef, c.Images)}}
	for _, r := range runs {
		if r.Data == "mnist" {
			t := "full space (784)"
			if r.Space == "pca" {
				t = fmt.Sprintf("PCA %d (%.0f %% var.)", r.D, 100*r.Explained)
			}
			ip = append(ip, plot.ImagePanel{Title: t, Images: r.Images})
		}
	}
	if err := plot.ImageGrids(e.figure("mnist_samples.png"), "MNIST samples generated by each flow (decoded)", ip, 28, 6, 2); err != nil {
		return nil, err
	}
	return append(figs, report.Figure{File: "mnist_samples.png", Caption: "Real digits (test split) and samples (seed 1) of the forward flow (noise → data) in the full pixel space and in PCA latents, decoded."}), nil
}

func rowsOf(x *mat.Dense, n int) [][]float32 {
	var out [][]float32
	for i := range min(n, x.R) {
		out = append(out, x.Row(i))
	}
	return out
}

func shortData(s string) string {
	if len(s) > 8 && s[:8] == "embedded" {
		return "embedded"
	}
	return s
}

// latentCriteria are the latent experiment's rules.
func latentCriteria() map[string]criterion {
	return named("latent", map[string]criterion{
		"latent": {Metric: "KS(‖f⁻¹(x)‖, Chi(d)) / KS bound, embedded data, PCA latent", Cmp: "<", Lo: 2,
			Why: "the rank experiment's full-rank control: within twice the 95 % KS sampling bound"},
		"full": {Metric: "KS(‖f⁻¹(x)‖, Chi(d)) / KS bound, embedded data, full space", Cmp: ">", Lo: 2,
			Why: "the same threshold from the other side: the rank problem is there in the full space"},
		"gen": {Metric: "forward W2 / floor, embedded data, PCA latent", Cmp: "<", Lo: 1.5,
			Why: "the variance experiment's control: within 1.5× the W2 between two samples of the data"},
		"mnist-inv": {Metric: "KS(‖f⁻¹(x)‖, Chi(d)) / KS bound, MNIST, first PCA latent", Cmp: "<", Lo: 2,
			Why: "the rank experiment's full-rank control"},
		"mnist-mmd": {Metric: "MNIST forward MMD, first PCA latent / full space", Cmp: "<", Lo: 1,
			Why: "below 1 the latent flow's digits are nearer the test digits (same bandwidths for both)"},
	})
}

// latentFindings: the seed's claim and flowlab's tests of it; the table.
// embeddedRank is the rank of an embedded:… SPEC (0 when it does not parse
// as one, which latentSetup never writes).
func embeddedRank(spec string) int {
	if e, err := dist.Parse(spec); err == nil {
		if g, ok := e.(*dist.Embedded); ok {
			return g.Rank
		}
	}
	return 0
}

func latentFindings(c latentConfig, js []*latentJob) ([]report.Finding, []report.Table) {
	runs := latentRuns(js)
	cr := latentCriteria()
	bound := ksCrit(c.EvalN, 0.05)
	pick := func(data, space string, first bool, f func(r *latentRun) float64) []float64 {
		var v []float64
		d := -1
		for _, r := range runs {
			if r.Data == data && r.Space == space && (!first || d < 0 || r.D == d) {
				d = r.D
				v = append(v, f(r))
			}
		}
		return v
	}
	ks := func(r *latentRun) float64 { return r.KS / bound }
	emb := runs[0].Data
	tests := []test{
		{kind: seedClaim, claim: fmt.Sprintf("“By projecting the data into a lower dimension where all the variation is captured we avoid this issue”: on the rank-%d embedded Gaussian, the inverse flow in the PCA latent reaches Chi(d).", embeddedRank(c.Embedded)),
			crit: cr["latent"], values: pick(emb, "pca", true, ks)},
		{kind: hypothesis, claim: "Control: in the full space the embedded Gaussian's inverse flow does not reach Chi(d).",
			crit: cr["full"], values: pick(emb, "full", true, ks)},
		{kind: hypothesis, claim: "Generation from the embedded Gaussian's PCA latent flow is as close to the data as a second sample.",
			crit: cr["gen"], values: pick(emb, "pca", true, func(r *latentRun) float64 { return r.ForwardW2 / r.BaseW2 })},
	}
	full := pick("mnist", "full", true, func(r *latentRun) float64 { return r.ForwardMMD })
	if len(full) > 0 {
		lat := pick("mnist", "pca", true, func(r *latentRun) float64 { return r.ForwardMMD })
		// Seed i's latent flow against seed i's full-space flow: both lists
		// come from the same seeds in the same order; a missing run shortens
		// the pairing rather than indexing past it.
		ratio := make([]float64, min(len(lat), len(full)))
		for i := range ratio {
			ratio[i] = lat[i] / full[i]
		}
		tests = append(tests,
			test{kind: hypothesis, claim: "On MNIST, the inverse flow reaches Chi(d) in the PCA latent keeping 95 % of the variance.",
				crit: cr["mnist-inv"], values: pick("mnist", "pca", true, ks), note: fmt.Sprintf("Full space: %s.", tInterval(pick("mnist", "full", true, ks)))},
			test{kind: hypothesis, claim: "On MNIST, the latent flow generates digits nearer the held-out test digits than the full-space flow.",
				crit: cr["mnist-mmd"], values: ratio, note: fmt.Sprintf("MMD full space %s; latent %s; two test samples %s.", tInterval(full), tInterval(lat),
					tInterval(pick("mnist", "full", true, func(r *latentRun) float64 { return r.BaseMMD })))})
	}
	return findings(tests...), []report.Table{latentTable(runs)}
}

// latentTable lists every flow and seed.
func latentTable(runs []*latentRun) report.Table {
	t := report.Table{
		Caption: "Each flow runs between N(0, I_d) and the data (or its PCA codes). Inverse: data → noise, norms against Chi(d). Forward: noise → data, decoded, against held-out data (fresh draws of the embedded law; MNIST's test split), each distance beside the same distance between two held-out samples (the floor). W2 is exact; MMD uses RBF kernels at ¼…4× the median distance of the reference sample, fixed once per data set.",
		Columns: []string{"data", "space", "d", "seed", "explained var.", "final loss", "inverse mean norm", "Chi(d) mean", "inverse KS", "forward W2", "W2 floor", "forward MMD", "MMD floor"},
	}
	for _, r := range runs {
		t.Rows = append(t.Rows, []any{shortData(r.Data), r.Space, r.D, r.Seed, r.Explained, r.FinalLoss, r.MeanNorm, r.ChiMean, r.KS, r.ForwardW2, r.BaseW2, r.ForwardMMD, r.BaseMMD})
	}
	return t
}

// latentStats is the per-flow interval of each metric.
func latentStats(runs []*latentRun) []cellStat {
	return cellStats(runs, func(r *latentRun) string { return fmt.Sprintf("%s %s d=%d", shortData(r.Data), r.Space, r.D) },
		func(r *latentRun) []metric {
			return []metric{{"inverse_ks_chi_d", r.KS}, {"inverse_mean_norm", r.MeanNorm}, {"forward_w2", r.ForwardW2}, {"w2_floor", r.BaseW2},
				{"forward_mmd", r.ForwardMMD}, {"mmd_floor", r.BaseMMD}}
		})
}
