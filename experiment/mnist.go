package experiment

import (
	"fmt"
	"math"
	"time"

	"github.com/flowlab/flowlab/dist"
	"github.com/flowlab/flowlab/mat"
	"github.com/flowlab/flowlab/metrics"
	"github.com/flowlab/flowlab/plot"
	"github.com/flowlab/flowlab/report"
)

// mnistSpec: the seed's "228 independent dimensions of variation".
func mnistSpec() spec {
	p := plan[mnistConfig, *mnistResult]{
		setup: mnistSetup, cells: mnistCells,
		measure: mnistMeasure, figures: mnistFigures, findings: mnistFindings,
		cost: func(r *mnistResult) int { return r.cost },
		stats: func(c mnistConfig, xs []*mnistResult) []cellStat {
			return cellStats(xs, func(r *mnistResult) string {
				if r.Seed == 0 {
					return c.Split + " split"
				}
				return fmt.Sprintf("subsets of %d", c.SubsetN)
			}, func(r *mnistResult) []metric {
				return []metric{{"rank", float64(r.Rank)}, {"rank32", float64(r.Rank32)}, {"components_95", float64(r.Explained[0].Count)},
					{"components_99", float64(r.Explained[1].Count)}, {"lambda_228_lo", r.Lambda228[0]}, {"lambda_228_hi", r.Lambda228[1]}}
			})
		},
	}
	return spec{
		name:     "mnist",
		title:    "the rank of MNIST",
		question: "How many directions does MNIST's pixel distribution actually vary in, and does any standard rank rule give the seed's 228?",
		claim:    "“By computing the rank of the covariance of the MNIST train set we find that it has 228 independent dimensions of variation.”",
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
	RankRule   string    `json:"rank_rule"`
	Rank32Rule string    `json:"rank32_rule"`
	Subsets    int       `json:"subsets"`     // random subsets of the split, one per seed
	SubsetN    int       `json:"subset_rows"` // rows in each
}

// mnistResult is the spectrum of the whole split (Seed 0) or of a random
// subset of it (Seed ≥ 1), with the counts each rule gives.
type mnistResult struct {
	Seed        int        `json:"seed"`
	N           int        `json:"n"`
	D           int        `json:"d"`
	NonConstant int        `json:"nonconstant"`
	Rank        int        `json:"rank"`
	RankTol     float64    `json:"rank_tol"`
	Rank32      int        `json:"rank32"` // eigenvalues above λmax·D·eps_float32
	Rank32Tol   float64    `json:"rank32_tol"`
	Explained   []count    `json:"explained"`
	Lambda228   [2]float64 `json:"lambda_for_228"` // every cut λ in [lo, hi) counts exactly 228 eigenvalues above it (CountAbove is strict)
	Total       float64    `json:"total_variance"`
	Eigenvalues []float64  `json:"eigenvalues,omitempty"` // of the whole split only
	cost        int
}

type count struct {
	Cut   float64 `json:"cut"`
	Count int     `json:"count"`
}

func mnistSetup(s Scale) mnistConfig {
	return mnistConfig{
		// Smoke reads the 10000-image test split to stay within seconds.
		Split: pick(s, "test", "train", "train"), Range: "01",
		Fractions:  []float64{0.95, 0.99},
		RankRule:   "NumPy's default: eigenvalues of the float64 covariance above |λ|max·D·eps (eps = 2⁻⁵²)",
		Rank32Rule: "the same rule with float32's eps (2⁻²³): the tolerance NumPy applies to a float32 matrix",
		Subsets:    seedsFor(s), SubsetN: pick(s, 2000, 10000, 20000),
	}
}

// mnistCells: the whole split, then one random subset per seed.
func mnistCells(_ *env, c mnistConfig) ([]*mnistResult, error) {
	cells := []*mnistResult{{Seed: 0, cost: 2}}
	for s := 1; s <= c.Subsets; s++ {
		cells = append(cells, &mnistResult{Seed: s, cost: 1})
	}
	return cells, nil
}

// mnistMeasure loads the split and computes the covariance spectrum of it
// or of a random subset of its rows.
func mnistMeasure(e *env, c mnistConfig, r *mnistResult) error {
	t0 := time.Now()
	m, err := dist.LoadMNIST(dist.MNISTOptions{Dir: e.opts.MNISTDir, Split: c.Split, Range: c.Range})
	if err != nil {
		return err
	}
	x := m.Data()
	if r.Seed > 0 {
		perm := newRNG(e.seed, "mnist-subset", r.Seed).Perm(x.R)
		sub := mat.New(min(c.SubsetN, x.R), x.C)
		for i := range sub.R {
			copy(sub.Row(i), x.Row(perm[i]))
		}
		x = sub
	}
	sp, err := metrics.Spectrum(x, metrics.SpectrumOptions{Fractions: c.Fractions})
	if err != nil {
		return err
	}
	e.timed(fmt.Sprintf("spectrum %d", r.Seed), t0)
	*r = mnistResult{Seed: r.Seed, N: sp.N, D: sp.D, NonConstant: sp.NonConstant, Rank: sp.Rank, RankTol: sp.RankTol, Total: sp.Total}
	r.Rank32Tol = sp.Eigenvalues[0] * float64(sp.D) * 0x1p-23
	for _, l := range sp.Eigenvalues {
		if math.Abs(l) > r.Rank32Tol {
			r.Rank32++
		}
	}
	r.Lambda228 = cutFor(sp.Eigenvalues, seedMNISTRank)
	for _, x := range sp.Explained {
		r.Explained = append(r.Explained, count{x.Cut, x.Count})
	}
	if r.Seed == 0 {
		r.Eigenvalues = sp.Eigenvalues
	}
	e.logf("%d×%d (seed %d): %d non-constant pixels, rank %d (float32 rule %d), %d/%d components for 95/99 %%",
		r.N, r.D, r.Seed, r.NonConstant, r.Rank, r.Rank32, r.Explained[0].Count, r.Explained[1].Count)
	return nil
}

// cutFor returns [lo, hi): every threshold λ with lo ≤ λ < hi has exactly k
// of the descending eigenvalues strictly above it (metrics.CountAbove).
func cutFor(desc []float64, k int) [2]float64 { return [2]float64{desc[k], desc[k-1]} }

// mnistFigures draws the spectrum with the counts each rule gives.
func mnistFigures(e *env, c mnistConfig, xs []*mnistResult) ([]report.Figure, error) {
	r := xs[0]
	fig := plot.Spectrum{
		Title:  fmt.Sprintf("MNIST %s (%d images): eigenvalues of the pixel covariance", c.Split, r.N),
		Values: r.Eigenvalues,
		Cuts: []plot.Cut{
			{Index: r.Explained[0].Count, Label: fmt.Sprintf("95%% of variance: %d", r.Explained[0].Count)},
			{Index: seedMNISTRank, Label: fmt.Sprintf("the seed's %d: λ in [%.3g, %.3g), no standard rule", seedMNISTRank, r.Lambda228[0], r.Lambda228[1])},
			{Index: r.Explained[1].Count, Label: fmt.Sprintf("99%% of variance: %d", r.Explained[1].Count)},
			{Index: r.Rank32, Label: fmt.Sprintf("float32 rule: %d", r.Rank32)},
			{Index: r.Rank, Label: fmt.Sprintf("numerical rank %d (tol %.2g)", r.Rank, r.RankTol)},
			{Index: r.NonConstant, Label: fmt.Sprintf("non-constant pixels: %d", r.NonConstant)},
		},
	}
	if err := fig.Save(e.figure("spectrum.png"), 860, 520); err != nil {
		return nil, err
	}
	return []report.Figure{{File: "spectrum.png", Caption: "The covariance spectrum (log scale) with the count each rule gives; only eigenvalues > 0 can be drawn. The seed's 228 is marked where it falls: the cut it needs is no standard rule's."}}, nil
}

// mnistCriteria are the mnist experiment's rules.
func mnistCriteria() map[string]criterion {
	return named("mnist", map[string]criterion{
		"228": {Metric: "standard rules (float64 rank, float32 rank, 95 % and 99 % of variance, and the float64 rank of every subset) that give 228", Cmp: ">", Lo: 0.5, Every: true,
			Why: "the seed's number is confirmed if any standard rule reproduces it; a threshold chosen to give 228 is not a rule"},
		"subsets": {Metric: "float64 numerical rank of a random subset of the split", Cmp: ">", Lo: 2 * seedMNISTRank,
			Why: "twice the seed's number: a subset rank that far above 228 leaves no room for it being MNIST's rank"},
	})
}

// mnistFindings: the seed's 228 against each rule; the subsets; the table.
func mnistFindings(c mnistConfig, xs []*mnistResult) ([]report.Finding, []report.Table) {
	r := xs[0]
	cr := mnistCriteria()
	rules := []int{r.Rank, r.Rank32, r.Explained[0].Count, r.Explained[1].Count}
	var subs []float64
	for _, x := range xs[1:] {
		rules = append(rules, x.Rank)
		subs = append(subs, float64(x.Rank))
	}
	hits := 0
	for _, n := range rules {
		if n == seedMNISTRank {
			hits++
		}
	}
	fs := findings(
		test{kind: seedClaim, claim: fmt.Sprintf("MNIST's train set has %d independent dimensions of variation (the rank of its covariance).", seedMNISTRank),
			crit: cr["228"], values: []float64{float64(hits)},
			note: fmt.Sprintf("Float64 rank %d (tolerance %.3g), float32 rule %d (tolerance %.3g), %d components for 95 %% of the variance, %d for 99 %%; exactly %d eigenvalues lie above any λ in [%.4g, %.4g), a cut no rule gives.",
				r.Rank, r.RankTol, r.Rank32, r.Rank32Tol, r.Explained[0].Count, r.Explained[1].Count, seedMNISTRank, r.Lambda228[0], r.Lambda228[1])},
		test{kind: hypothesis, claim: fmt.Sprintf("Random subsets of %d images have a rank far above %d too.", c.SubsetN, seedMNISTRank),
			crit: cr["subsets"], values: subs},
	)
	return fs, []report.Table{mnistTable(c, xs)}
}

// mnistTable lists the counts, each with the rule that produced it.
func mnistTable(c mnistConfig, xs []*mnistResult) report.Table {
	r := xs[0]
	tab := report.Table{
		Caption: "Counts of the spectrum, each with the rule that produced it.",
		Columns: []string{"quantity", "value", "rule"},
		Rows: [][]any{
			{"images × pixels", fmt.Sprintf("%d × %d", r.N, r.D), c.Split + " split, pixels/255"},
			{"non-constant pixels", r.NonConstant, "columns taking more than one value"},
			{"numerical rank", r.Rank, fmt.Sprintf("|λ| > %.3g (%s)", r.RankTol, c.RankRule)},
			{"float32 rank", r.Rank32, fmt.Sprintf("|λ| > %.3g (%s)", r.Rank32Tol, c.Rank32Rule)},
		},
	}
	for _, x := range r.Explained {
		tab.Rows = append(tab.Rows, []any{fmt.Sprintf("components for %g %% of variance", 100*x.Cut), x.Count, "fewest leading eigenvalues"})
	}
	tab.Rows = append(tab.Rows, []any{fmt.Sprintf("cut giving %d", seedMNISTRank), fmt.Sprintf("λ in [%.4g, %.4g)", r.Lambda228[0], r.Lambda228[1]), "a threshold fitted to the answer, not a rule"})
	for _, x := range xs[1:] {
		tab.Rows = append(tab.Rows, []any{fmt.Sprintf("numerical rank, subset seed %d (%d images)", x.Seed, x.N), x.Rank, "NumPy's rule on the subset"})
	}
	tab.Rows = append(tab.Rows, []any{"total variance", r.Total, "trace of the covariance"})
	return tab
}
