package experiment

import (
	"fmt"
	"math"
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
	MNISTSplit  string    `json:"mnist_split"`
	MNISTRows   int       `json:"mnist_rows"` // first rows used; 0: all
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
	BaseW2     float64 `json:"baseline_w2"` // two data samples: the sampling floor
	norms      []float64
	images     [][]float32
}

func latentSetup(s Scale) latentConfig {
	return latentConfig{
		Embedded:    pick(s, "embedded:dim=32,rank=16,var=0.5", "embedded:dim=128,rank=64,var=0.5", "embedded:dim=128,rank=64,var=0.5"),
		EmbeddedNet: pick(s, []int{64, 64, 64}, []int{256, 256, 256}, []int{512, 512, 512}),
		MNIST:       true,
		MNISTSplit:  pick(s, "test", "train", "train"),
		MNISTRows:   pick(s, 2000, 0, 0),
		MNISTNet:    pick(s, []int{64, 64}, []int{512, 512, 512}, []int{1024, 1024, 1024}),
		Fractions:   []float64{0.95, 0.99},
		FitN:        pick(s, 2000, 20000, 50000),
		Steps:       pick(s, 200, 1200, 10000),
		MNISTSteps:  pick(s, 50, 1500, 20000),
		Batch:       pick(s, 128, 256, 512),
		LR:          5e-3, Fourier: 8, Schedule: "cosine",
		Warmup: pick(s, 10, 100, 500),
		EMA:    pick(s, 0.99, 0.999, 0.9995),
		EvalN:  pick(s, 300, 1000, 2000),
		Images: 12, Solver: "rk4",
	}
}

// latentJob is one flow to train: its data in the flow's space, the
// held-out reference in data space, and the PCA that decodes (nil: full).
type latentJob struct {
	i    int
	run  *latentRun
	data *mat.Dense
	ref  *mat.Dense
	pca  *latent.PCA
	net  []int
	st   int
}

// latentRuns returns the jobs' measurements.
func latentRuns(js []*latentJob) []*latentRun {
	var runs []*latentRun
	for _, j := range js {
		runs = append(runs, j.run)
	}
	return runs
}

// latentCells prepares the data: the embedded Gaussian in full and in its
// PCA latent, then MNIST in full and in PCA latents keeping each fraction.
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
	embRef := draw(src, c.EvalN, rng)
	embRef2 := draw(src, c.EvalN, rng)
	base, err := metrics.W2(e.ctx, embRef2, embRef)
	if err != nil {
		return nil, err
	}
	jobs := []*latentJob{
		{run: &latentRun{Data: c.Embedded, Space: "full", D: src.Dim(), Explained: 1, BaseW2: base}, data: emb, ref: embRef, net: c.EmbeddedNet, st: c.Steps},
		{run: &latentRun{Data: c.Embedded, Space: "pca", D: embPCA.K, Explained: embPCA.Explained(), BaseW2: base}, data: embPCA.Encode(emb), ref: embRef, pca: embPCA, net: c.EmbeddedNet, st: c.Steps},
	}
	if c.MNIST {
		mj, err := latentMNISTJobs(e, c, rng)
		if err != nil {
			return nil, err
		}
		jobs = append(jobs, mj...)
	}
	for i, j := range jobs {
		j.i = i
	}
	return jobs, nil
}

// latentMNISTJobs loads MNIST, fits its PCA and returns the full-space job
// and one job per fraction of the variance kept.
func latentMNISTJobs(e *env, c latentConfig, rng *rand.Rand) ([]*latentJob, error) {
	t0 := time.Now()
	m, err := dist.LoadMNIST(dist.MNISTOptions{Dir: e.opts.MNISTDir, Split: c.MNISTSplit})
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
	ref := mat.New(c.EvalN, x.C)
	for i := range c.EvalN {
		copy(ref.Row(i), x.Row(rng.IntN(x.R)))
	}
	jobs := []*latentJob{{run: &latentRun{Data: "mnist", Space: "full", D: x.C, Explained: 1}, data: x, ref: ref, net: c.MNISTNet, st: c.MNISTSteps}}
	for _, f := range c.Fractions {
		k := metrics.CountExplained(pca.Variances, f)
		p := pca.WithK(k)
		jobs = append(jobs, &latentJob{run: &latentRun{Data: "mnist", Space: "pca", D: k, Explained: p.Explained()},
			data: p.Encode(x), ref: ref, pca: p, net: c.MNISTNet, st: c.MNISTSteps})
	}
	return jobs, nil
}

// latentMeasure trains one flow and measures both directions.
func latentMeasure(e *env, c latentConfig, j *latentJob) error {
	t0 := time.Now()
	r := j.run
	gauss, err := dist.NewGaussian(r.D, 1, 0)
	if err != nil {
		return err
	}
	data := dist.NewDataset(r.Data, j.data)
	cfg := train.Config{Hidden: j.net, Act: "silu", Fourier: c.Fourier, Steps: j.st, Batch: c.Batch, LR: c.LR, Schedule: c.Schedule,
		Warmup: c.Warmup, EMA: emaFor(c.EMA, j.st), Seed: subSeed(e.seed, "latent", j.i)}
	res, err := train.Fit(e.ctx, gauss, data, cfg, train.Options{})
	if err != nil {
		return fmt.Errorf("%s %s-%d: %w", r.Data, r.Space, r.D, err)
	}
	r.FinalLoss, _ = res.FinalLoss(100)
	rr := newRNG(e.seed, "latent-eval", j.i)
	// Inverse: data (or codes) → noise; norms against Chi(d).
	rows := mat.New(c.EvalN, r.D)
	for k := range c.EvalN {
		copy(rows.Row(k), j.data.Row(rr.IntN(j.data.R)))
	}
	inv, err := flow(e.ctx, res.Net, rows, true)
	if err != nil {
		return err
	}
	r.norms = norms(inv)
	r.MeanNorm, r.ChiMean = mean(r.norms), chiMean(r.D, 1)
	r.KS = ksChi(r.norms, r.D, 1)
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
	r.ForwardMMD = metrics.MMD(gen, j.ref, nil)
	for k := range min(c.Images, gen.R) {
		r.images = append(r.images, gen.Row(k))
	}
	e.logf("%s %s d=%d: inverse KS Chi(%d) %.3f (mean norm %.2f vs %.2f), forward W2 %.3f, MMD %.4f [%.1fs]",
		r.Data, r.Space, r.D, r.D, r.KS, r.MeanNorm, r.ChiMean, r.ForwardW2, r.ForwardMMD, time.Since(t0).Seconds())
	return nil
}

// latentFigures draws the inverse norms and the generated digits.
func latentFigures(e *env, c latentConfig, js []*latentJob) ([]report.Figure, error) {
	runs := latentRuns(js)
	var mnistRef *mat.Dense
	for _, j := range js {
		if j.run.Data == "mnist" {
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
			Values: r.norms,
			Curves: []plot.Curve{chiCurve("Chi(d)", xs, r.D, 1, false)},
		})
	}
	if err := plot.HistGrid(e.figure("inverse_norms.png"), "‖f^-1(data)‖ against Chi(d), d the dimension the flow runs in", min(len(panels), 5), panels,
		plot.HistOptions{PanelRange: true, XLabel: "‖f^-1(x)‖", PanelW: 230, PanelH: 180, Legend: true}); err != nil {
		return nil, err
	}
	figs := []report.Figure{{File: "inverse_norms.png", Caption: "Norms of the inverse flow's output (data → noise) with the Chi(d) density of the flow's Gaussian side."}}
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
			ip = append(ip, plot.ImagePanel{Title: t, Images: r.images})
		}
	}
	if err := plot.ImageGrids(e.figure("mnist_samples.png"), "MNIST samples generated by each flow (decoded)", ip, 28, 6, 2); err != nil {
		return nil, err
	}
	return append(figs, report.Figure{File: "mnist_samples.png", Caption: "Real digits and samples of the forward flow (noise → data) in the full pixel space and in PCA latents, decoded."}), nil
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

// latentFindings: the embedded Gaussian, then MNIST; and the table.
func latentFindings(_ latentConfig, js []*latentJob) ([]report.Finding, []report.Table) {
	runs := latentRuns(js)
	t := report.Table{
		Caption: "Each flow runs between N(0, I_d) and the data (or its PCA codes). Inverse: data → noise, norms against Chi(d). Forward: noise → data, decoded, against held-out data (W2 exact, MMD with RBF kernels at ¼…4× the median distance).",
		Columns: []string{"data", "space", "d", "explained var.", "final loss", "inverse mean norm", "Chi(d) mean", "inverse KS", "forward W2", "forward MMD"},
	}
	for _, r := range runs {
		t.Rows = append(t.Rows, []any{shortData(r.Data), r.Space, r.D, r.Explained, r.FinalLoss, r.MeanNorm, r.ChiMean, r.KS, r.ForwardW2, r.ForwardMMD})
	}
	fs := latentEmbeddedFindings(runs)
	fs = append(fs, latentMNISTFindings(runs)...)
	return fs, []report.Table{t}
}

// latentFind returns the runs on data in space.
func latentFind(runs []*latentRun, data, space string) []*latentRun {
	var out []*latentRun
	for _, r := range runs {
		if r.Data == data && r.Space == space {
			out = append(out, r)
		}
	}
	return out
}

// latentEmbeddedFindings judges the embedded Gaussian's flows.
func latentEmbeddedFindings(runs []*latentRun) []report.Finding {
	ef, el := latentFind(runs, runs[0].Data, "full")[0], latentFind(runs, runs[0].Data, "pca")[0]
	return []report.Finding{
		{
			Claim: fmt.Sprintf("On the rank-%d embedded Gaussian, the inverse flow reaches Chi(d) in the PCA latent (d = %d) but not in the full space (d = %d).", el.D, el.D, ef.D),
			Measured: fmt.Sprintf("KS of ‖f⁻¹(x)‖ against Chi(d): full %.3f (mean %.2f vs %.2f), latent %.3f (mean %.2f vs %.2f).",
				ef.KS, ef.MeanNorm, ef.ChiMean, el.KS, el.MeanNorm, el.ChiMean),
			Criterion: "latent KS < ⅓ of the full space's",
			Verdict:   verdict(el.KS < ef.KS/3, el.KS < ef.KS),
		},
		{
			Claim: "Generation (noise → data) from the latent flow is at least as good as from the full-space flow.",
			Measured: fmt.Sprintf("forward W2 full %.3f, latent %.3f (sampling floor %.3f); MMD full %.4f, latent %.4f.",
				ef.ForwardW2, el.ForwardW2, ef.BaseW2, ef.ForwardMMD, el.ForwardMMD),
			Criterion: "latent forward W2 ≤ 1.05 × the full space's",
			Verdict:   verdict(el.ForwardW2 <= 1.05*ef.ForwardW2, false),
		}}
}

// latentMNISTFindings judges MNIST's flows (none when MNIST was not run).
func latentMNISTFindings(runs []*latentRun) []report.Finding {
	mf := latentFind(runs, "mnist", "full")
	ml := latentFind(runs, "mnist", "pca")
	if len(mf) == 0 || len(ml) == 0 {
		return nil
	}
	worstKS, bestMMD := 0.0, math.Inf(1)
	desc := ""
	for _, r := range ml {
		worstKS = max(worstKS, r.KS)
		bestMMD = min(bestMMD, r.ForwardMMD)
		desc += fmt.Sprintf("; PCA %d: KS %.3f, MMD %.4f", r.D, r.KS, r.ForwardMMD)
	}
	return []report.Finding{
		{
			Claim:     "On MNIST, the inverse flow reaches Chi(d) in a PCA latent keeping 95 % or 99 % of the variance, but not in the 784-pixel space.",
			Measured:  fmt.Sprintf("full space: KS %.3f against Chi(784), MMD %.4f%s.", mf[0].KS, mf[0].ForwardMMD, desc),
			Criterion: "every latent's KS < ⅓ of the full space's",
			Verdict:   verdict(worstKS < mf[0].KS/3, worstKS < mf[0].KS),
		},
		{
			Claim:     "On MNIST, latent flows generate digits at least as close to the data as the full-space flow (by MMD in pixel space).",
			Measured:  fmt.Sprintf("MMD full %.4f, best latent %.4f.", mf[0].ForwardMMD, bestMMD),
			Criterion: "best latent MMD ≤ the full space's",
			Verdict:   verdict(bestMMD <= mf[0].ForwardMMD, false),
		}}
}
