package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/flowlab/flowlab/dist"
	"github.com/flowlab/flowlab/mat"
	"github.com/flowlab/flowlab/metrics"
	"github.com/flowlab/flowlab/plot"
	"github.com/spf13/cobra"
)

// spectrumReport is what `flowlab spectrum --json` prints.
type spectrumReport struct {
	Data            string `json:"data"`
	Sampled         bool   `json:"sampled"`          // true: n draws from a sampler; false: the whole finite data set
	Seed            uint64 `json:"seed,omitempty"`   // the seed of the draws when sampled
	Covariance      string `json:"covariance"`       // how the covariance was computed
	NonConstantRule string `json:"nonconstant_rule"` // what "nonconstant" counts
	*metrics.SpectrumResult
	Figure string `json:"figure,omitempty"`
}

// spectrumFlags are the flags of flowlab spectrum.
type spectrumFlags struct {
	data, out, mnistDir, fracs, above string
	asJSON                            bool
	n                                 int
	seed                              uint64
	tol                               float64
}

func newSpectrumCmd() *cobra.Command {
	var fl spectrumFlags
	cmd := &cobra.Command{
		Use:   "spectrum --data SPEC [--json] [--out fig.png]",
		Short: "covariance spectrum, numerical rank and explained-variance counts of a data set",
		Long: `spectrum computes the float64 covariance (n − 1) of a data set and its eigenvalues, and
reports the number of non-constant features, the numerical rank (default tolerance NumPy's
matrix_rank rule |λ|max·D·eps on the D×D covariance), the number of components for each fraction
of explained variance, and the number of eigenvalues above each threshold — each count with the
cut that produced it. A finite data set (mnist, file:) is used whole; any other SPEC is sampled
--n times with --seed.

` + dist.Specs(),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return fl.runCmd(cmd) },
	}
	f := cmd.Flags()
	f.StringVar(&fl.data, "data", "", "distribution SPEC (see below)")
	f.BoolVar(&fl.asJSON, "json", false, "print JSON (every eigenvalue included) instead of text")
	f.StringVar(&fl.out, "out", "", "write a PNG figure of the spectrum (log scale, cut-offs marked)")
	f.IntVar(&fl.n, "n", 10000, "draws from a sampler that is not a finite data set")
	f.Uint64Var(&fl.seed, "seed", 1, "seed of those draws")
	f.StringVar(&fl.fracs, "var", "0.95,0.99", "fractions of explained variance to count components for (comma-separated)")
	f.StringVar(&fl.above, "above", "0.012", "eigenvalue thresholds to count eigenvalues above (comma-separated)")
	f.Float64Var(&fl.tol, "tol", 0, "numerical-rank tolerance on the eigenvalues (0: NumPy's |λ|max·D·eps)")
	f.StringVar(&fl.mnistDir, "mnist-dir", "", "folder with the MNIST IDX files (else $FLOWLAB_MNIST_DIR, else the GoMNIST module)")
	return cmd
}

func (fl *spectrumFlags) runCmd(cmd *cobra.Command) error {
	if fl.data == "" {
		return usagef("spectrum: --data SPEC is required")
	}
	fr, err := parseFloats("--var", fl.fracs, 0, 1)
	if err != nil {
		return err
	}
	th, err := parseFloats("--above", fl.above, 0, -1)
	if err != nil {
		return err
	}
	if !(fl.tol >= 0) || math.IsInf(fl.tol, 0) {
		return usagef("spectrum: --tol %v must be a finite number >= 0 (0: NumPy's default)", fl.tol)
	}
	rep := spectrumReport{
		Data:            fl.data,
		Covariance:      "float64, mean-centred in two passes, divided by n − 1 (numpy.cov)",
		NonConstantRule: "columns taking more than one value",
	}
	x, err := fl.load(&rep)
	if err != nil {
		return err
	}
	res, err := metrics.Spectrum(x, metrics.SpectrumOptions{RankTol: fl.tol, Fractions: fr, Thresholds: th})
	if err != nil {
		return err
	}
	rep.SpectrumResult = res
	if fl.out != "" {
		if err := spectrumFigure(fl.out, fl.data, res); err != nil {
			return err
		}
		rep.Figure = fl.out
	}
	w := cmd.OutOrStdout()
	if fl.asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	return printSpectrum(w, &rep)
}

// load returns the data: a finite data set whole, any other SPEC sampled
// --n times with --seed (recorded in rep).
func (fl *spectrumFlags) load(rep *spectrumReport) (*mat.Dense, error) {
	s, err := dist.ParseWith(fl.data, dist.Options{MNISTDir: fl.mnistDir})
	if err != nil {
		if errors.Is(err, dist.ErrSpec) {
			return nil, usageError{err}
		}
		return nil, err
	}
	if f, ok := s.(dist.Finite); ok {
		return f.Data(), nil
	}
	if fl.n < 2 {
		return nil, usagef("spectrum: --n %d must be >= 2", fl.n)
	}
	// The draws (float32) and the covariance (float64).
	d := uint64(s.Dim())
	if err := checkMemory(fmt.Sprintf("spectrum: --n %d draws of dimension %d", fl.n, d),
		sat(memBytes(4, uint64(fl.n), d), memBytes(8, d, d))); err != nil {
		return nil, err
	}
	x := mat.New(fl.n, s.Dim())
	s.Sample(rand.New(rand.NewPCG(fl.seed, 0)), x)
	rep.Sampled, rep.Seed = true, fl.seed
	return x, nil
}

// parseFloats reads a comma-separated list; each value must be > lo and, if
// hi > lo, <= hi.
func parseFloats(flag, s string, lo, hi float64) ([]float64, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []float64
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil || !(v > lo) || (hi > lo && v > hi) {
			if hi > lo {
				return nil, usagef("spectrum: %s value %q is not a number in (%g, %g]", flag, f, lo, hi)
			}
			return nil, usagef("spectrum: %s value %q is not a number > %g", flag, f, lo)
		}
		out = append(out, v)
	}
	return out, nil
}

func printSpectrum(w io.Writer, r *spectrumReport) error {
	var b strings.Builder
	src := "the whole data set"
	if r.Sampled {
		src = fmt.Sprintf("%d draws, seed %d", r.N, r.Seed)
	}
	line := func(label, format string, args ...any) {
		fmt.Fprintf(&b, "%-26s %s\n", label+":", fmt.Sprintf(format, args...))
	}
	line("data", "%s (%d×%d, %s)", r.Data, r.N, r.D, src)
	line("covariance", "%s", r.Covariance)
	line("non-constant features", "%d of %d (%s)", r.NonConstant, r.D, r.NonConstantRule)
	line("numerical rank", "%d  (eigenvalues with |λ| > %.4g; %s)", r.Rank, r.RankTol, r.RankRule)
	for _, c := range r.Explained {
		line(fmt.Sprintf("components for %g%% var", 100*c.Cut), "%d  (fewest leading eigenvalues summing to ≥ %g of the total %.6g)", c.Count, c.Cut, r.Total)
	}
	for _, c := range r.Above {
		line(fmt.Sprintf("eigenvalues > %g", c.Cut), "%d  (a threshold cut, not a rank)", c.Count)
	}
	if len(r.Eigenvalues) > 0 {
		line("largest eigenvalue", "%.6g; smallest: %.6g", r.Eigenvalues[0], r.Eigenvalues[len(r.Eigenvalues)-1])
	}
	if r.Figure != "" {
		line("figure", "%s", r.Figure)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// spectrumFigure draws the eigenvalues on a log scale with the rank, the
// explained-variance counts and the thresholds marked.
func spectrumFigure(path, data string, r *metrics.SpectrumResult) error {
	// Eigenvalues far below the rank tolerance are rounding noise; they
	// would stretch the log axis over twenty decades, so they are cut.
	floor := r.RankTol * 1e-4
	vals := make([]float64, 0, len(r.Eigenvalues))
	for _, v := range r.Eigenvalues {
		if v < floor {
			break
		}
		vals = append(vals, v)
	}
	title := "covariance spectrum of " + data
	if len(vals) < len(r.Eigenvalues) {
		title += fmt.Sprintf(" (%d eigenvalues below %.2g not shown)", len(r.Eigenvalues)-len(vals), floor)
	}
	s := plot.Spectrum{Title: title, Values: vals}
	s.Cuts = append(s.Cuts, plot.Cut{Index: r.Rank, Label: fmt.Sprintf("rank %d (|λ| > %.3g)", r.Rank, r.RankTol)})
	for _, c := range r.Explained {
		s.Cuts = append(s.Cuts, plot.Cut{Index: c.Count, Label: fmt.Sprintf("%d components: %g%% of variance", c.Count, 100*c.Cut)})
	}
	for _, c := range r.Above {
		s.Levels = append(s.Levels, plot.Level{Value: c.Cut, Label: fmt.Sprintf("λ = %g: %d above", c.Cut, c.Count)})
	}
	s.Levels = append(s.Levels, plot.Level{Value: r.RankTol, Label: fmt.Sprintf("rank tolerance %.3g", r.RankTol)})
	return s.Save(path, 1000, 650)
}
