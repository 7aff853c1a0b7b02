package experiment

import (
	"fmt"
	"time"

	"github.com/flowlab/flowlab/dist"
	"github.com/flowlab/flowlab/metrics"
	"github.com/flowlab/flowlab/plot"
	"github.com/flowlab/flowlab/report"
)

// mnistSpec: the seed's "228 independent dimensions of variation".
func mnistSpec() spec {
	p := plan[mnistConfig, *mnistResult]{
		setup: mnistSetup, cells: func(*env, mnistConfig) ([]*mnistResult, error) { return []*mnistResult{{}}, nil },
		measure: mnistMeasure, figures: mnistFigures, findings: mnistFindings,
		results: func(_ mnistConfig, xs []*mnistResult) any { return xs[0] },
	}
	return spec{
		name:     "mnist",
		title:    "the rank of MNIST",
		question: "How many directions does MNIST's pixel distribution actually vary in, and where does the seed's 228 come from?",
		claim:    "The seed reports MNIST as having rank 228, and uses it to argue that image data is low-rank.",
		run:      p.run,
	}
}

// seedMNISTRank is the number the seed reports as MNIST's rank.
const seedMNISTRank = 228

// mnistConfig is the mnist experiment's setting.
type mnistConfig struct {
	Split      string    `json:"split"`
	Range      string    `json:"range"`
	Fractions  []float64 `json:"fractions"`
	Thresholds []float64 `json:"thresholds"`
	RankRule   string    `json:"rank_rule"`
}

// mnistResult is the spectrum and its counts.
type mnistResult struct {
	N           int       `json:"n"`
	D           int       `json:"d"`
	NonConstant int       `json:"nonconstant"`
	Rank        int       `json:"rank"`
	RankTol     float64   `json:"rank_tol"`
	RankRule    string    `json:"rank_rule"`
	Explained   []count   `json:"explained"`
	Above       []count   `json:"above"`
	Total       float64   `json:"total_variance"`
	Eigenvalues []float64 `json:"eigenvalues"`
}

type count struct {
	Cut   float64 `json:"cut"`
	Count int     `json:"count"`
}

func mnistSetup(s Scale) mnistConfig {
	return mnistConfig{
		// Smoke reads the 10000-image test split to stay within seconds.
		Split: pick(s, "test", "train", "train"), Range: "01",
		Fractions: []float64{0.95, 0.99}, Thresholds: []float64{0.012},
		RankRule: "NumPy's default: eigenvalues of the float64 covariance above |λ|max·D·eps (eps = 2⁻⁵²)",
	}
}

// mnistMeasure loads the split and computes its covariance spectrum.
func mnistMeasure(e *env, c mnistConfig, r *mnistResult) error {
	t0 := time.Now()
	m, err := dist.LoadMNIST(dist.MNISTOptions{Dir: e.opts.MNISTDir, Split: c.Split, Range: c.Range})
	if err != nil {
		return err
	}
	e.timed("load", t0)
	t0 = time.Now()
	sp, err := metrics.Spectrum(m.Data(), metrics.SpectrumOptions{Fractions: c.Fractions, Thresholds: c.Thresholds})
	if err != nil {
		return err
	}
	e.timed("spectrum", t0)
	*r = mnistResult{N: sp.N, D: sp.D, NonConstant: sp.NonConstant, Rank: sp.Rank, RankTol: sp.RankTol, RankRule: sp.RankRule,
		Total: sp.Total, Eigenvalues: sp.Eigenvalues}
	for _, x := range sp.Explained {
		r.Explained = append(r.Explained, count{x.Cut, x.Count})
	}
	for _, x := range sp.Above {
		r.Above = append(r.Above, count{x.Cut, x.Count})
	}
	e.logf("%d×%d: %d non-constant pixels, rank %d, %d/%d components for 95/99 %%, %d eigenvalues > %g",
		r.N, r.D, r.NonConstant, r.Rank, r.Explained[0].Count, r.Explained[1].Count, r.Above[0].Count, r.Above[0].Cut)
	return nil
}

// mnistFigures draws the spectrum with the counts each cut gives.
func mnistFigures(e *env, c mnistConfig, xs []*mnistResult) ([]report.Figure, error) {
	r := xs[0]
	fig := plot.Spectrum{
		Title:  fmt.Sprintf("MNIST %s (%d images): eigenvalues of the pixel covariance", c.Split, r.N),
		Values: r.Eigenvalues,
		Cuts: []plot.Cut{
			{Index: r.Explained[0].Count, Label: fmt.Sprintf("95%% of variance: %d", r.Explained[0].Count)},
			{Index: r.Above[0].Count, Label: fmt.Sprintf("λ > %g: %d (the seed's \"rank\")", r.Above[0].Cut, r.Above[0].Count)},
			{Index: r.Explained[1].Count, Label: fmt.Sprintf("99%% of variance: %d", r.Explained[1].Count)},
			{Index: r.Rank, Label: fmt.Sprintf("numerical rank %d (tol %.2g)", r.Rank, r.RankTol)},
			{Index: r.NonConstant, Label: fmt.Sprintf("non-constant pixels: %d", r.NonConstant)},
		},
		Levels: []plot.Level{{Value: r.Above[0].Cut, Label: fmt.Sprintf("λ = %g", r.Above[0].Cut)}},
	}
	if err := fig.Save(e.figure("spectrum.png"), 860, 520); err != nil {
		return nil, err
	}
	return []report.Figure{{File: "spectrum.png", Caption: "The covariance spectrum (log scale) with the counts that different cuts give; only eigenvalues > 0 can be drawn."}}, nil
}

// mnistFindings: the rank against 228; then the table of counts.
func mnistFindings(c mnistConfig, xs []*mnistResult) ([]report.Finding, []report.Table) {
	r := xs[0]
	above := r.Above[0].Count
	fs := []report.Finding{
		{
			Claim: fmt.Sprintf("MNIST has rank %d.", seedMNISTRank),
			Measured: fmt.Sprintf("numerical rank %d (tolerance %.3g, %s) of %d non-constant pixels; %d components hold 95 %% of the variance, %d hold 99 %%.",
				r.Rank, r.RankTol, "NumPy's rule", r.NonConstant, r.Explained[0].Count, r.Explained[1].Count),
			Criterion: fmt.Sprintf("the numerical rank equals %d", seedMNISTRank),
			Verdict:   verdict(r.Rank == seedMNISTRank, false),
		},
		{
			Claim:     fmt.Sprintf("The seed's %d is a threshold count: the number of eigenvalues above %g.", seedMNISTRank, r.Above[0].Cut),
			Measured:  fmt.Sprintf("%d eigenvalues exceed %g.", above, r.Above[0].Cut),
			Criterion: fmt.Sprintf("the count above %g equals %d (on the train split)", r.Above[0].Cut, seedMNISTRank),
			Verdict:   verdict(above == seedMNISTRank && c.Split == "train", false),
		},
	}
	tab := report.Table{
		Caption: "Counts of the spectrum, each with the cut that produced it.",
		Columns: []string{"quantity", "value", "cut"},
		Rows: [][]any{
			{"images × pixels", fmt.Sprintf("%d × %d", r.N, r.D), c.Split + " split, pixels/255"},
			{"non-constant pixels", r.NonConstant, "columns taking more than one value"},
			{"numerical rank", r.Rank, fmt.Sprintf("|λ| > %.3g (%s)", r.RankTol, r.RankRule)},
		},
	}
	for _, x := range r.Explained {
		tab.Rows = append(tab.Rows, []any{fmt.Sprintf("components for %g %% of variance", 100*x.Cut), x.Count, "fewest leading eigenvalues"})
	}
	for _, x := range r.Above {
		tab.Rows = append(tab.Rows, []any{fmt.Sprintf("eigenvalues above %g", x.Cut), x.Count, "a threshold, not a rank"})
	}
	tab.Rows = append(tab.Rows, []any{"total variance", r.Total, "trace of the covariance"})
	return fs, []report.Table{tab}
}
