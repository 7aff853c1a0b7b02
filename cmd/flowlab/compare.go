package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/flowlab/flowlab/dist"
	"github.com/flowlab/flowlab/exact"
	"github.com/flowlab/flowlab/fdmnist"
	"github.com/flowlab/flowlab/mat"
	"github.com/flowlab/flowlab/metrics"
	"github.com/flowlab/flowlab/train"
)

// compareStream separates the compare command's random stream.
const compareStream = 0x636d70 // "cmp"

// idQueries is the most query points of an intrinsic-dimension estimate
// (each against the whole sample).
const idQueries = 5000

// specDim returns the dimension of a distribution SPEC without loading a
// data set (false for a file, whose size is checked when it is read, or a
// SPEC that does not parse, which StartPoints reports).
func specDim(spec string) (int, bool) {
	name, _, _ := strings.Cut(strings.TrimSpace(spec), ":")
	switch name {
	case "file":
		return 0, false
	case "mnist":
		return 28 * 28, true
	}
	s, err := dist.Parse(spec)
	if err != nil {
		return 0, false
	}
	return s.Dim(), true
}

// idQuerySet returns the query points of an intrinsic-dimension estimate:
// every row of m when it has at most idQueries, else idQueries rows drawn
// without replacement with seed (a file's first rows may all be one class).
func idQuerySet(m *mat.Dense, seed uint64) *mat.Dense {
	if m.R <= idQueries {
		return m
	}
	perm := rand.New(rand.NewPCG(seed, 0x1d)).Perm(m.R)[:idQueries]
	slices.Sort(perm)
	q := mat.New(idQueries, m.C)
	for i, r := range perm {
		copy(q.Row(i), m.Row(r))
	}
	return q
}

type compareFlags struct {
	x, y     string
	n        int
	chi      int
	chiScale float64
	seed     uint64
	proj     int
	fd       fdFlags
}

// compareSide describes one of the two samples.
type compareSide struct {
	From      string             `json:"from"`
	N         int                `json:"n"`
	Dim       int                `json:"dim"`
	Intrinsic *metrics.Intrinsic `json:"intrinsic"`
	// IntrinsicError says why there is no estimate (duplicate rows, too few
	// points): the other measures stand without it.
	IntrinsicError string `json:"intrinsic_error,omitempty"`
	KSChi          *ksChi `json:"ks_chi,omitempty"`
}

// ksChi is the Kolmogorov–Smirnov statistic of a sample's norms against
// S·Chi(K).
type ksChi struct {
	K        float64 `json:"k"`
	S        float64 `json:"s"`
	D        float64 `json:"d"`
	P        float64 `json:"p"`
	MeanNorm float64 `json:"mean_norm"`
	ChiMean  float64 `json:"chi_mean"`
}

// compareReport is the JSON compare prints.
type compareReport struct {
	X        compareSide `json:"x"`
	Y        compareSide `json:"y"`
	W2       *float64    `json:"w2"` // null when the sizes differ
	SlicedW2 float64     `json:"sliced_w2"`
	Proj     int         `json:"sliced_projections"`
	MMD      float64     `json:"mmd"`
	Energy   float64     `json:"energy"`
	Note     string      `json:"note,omitempty"`
	// FDMNIST scores --x against --y as the reference (--fd-mnist).
	FDMNIST *fdmnist.Score `json:"fd_mnist,omitempty"`
}

func newCompareCmd() *cobra.Command {
	f := &compareFlags{}
	cmd := &cobra.Command{
		Use:   "compare --x SPEC|FILE --y SPEC|FILE [flags]",
		Short: "distances between two samples and the intrinsic dimension of each, as JSON",
		Long: `Compare two samples, each n draws from a SPEC or the rows of an .npy/.csv file
(the first --n when --n is given): exact W2 (equal sizes only), sliced W2, MMD
(multi-scale RBF at median bandwidths) and energy distance between them; the
intrinsic dimension of each (TwoNN and Levina–Bickel for k = 3, 5, 10, 20 and
averaged over 10..20, each with a bootstrap spread; up to 5000 query points
against the whole sample); and, with --chi [K], the KS statistic of each
sample's norms against --chi-scale·Chi(K) (K defaults to the dimension).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return f.runCmd(cmd) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.x, "x", "", "first sample: SPEC or FILE.npy/FILE.csv")
	fl.StringVar(&f.y, "y", "", "second sample: SPEC or FILE.npy/FILE.csv")
	fl.IntVar(&f.n, "n", 1000, "draws from a SPEC (and the most rows taken from a file when given)")
	fl.IntVar(&f.chi, "chi", 0, "KS of the norms against Chi(K); --chi alone: K = the dimension")
	fl.Lookup("chi").NoOptDefVal = "-1"
	fl.Float64Var(&f.chiScale, "chi-scale", 1, "scale s of the Chi law (norms of N(0, s²I))")
	fl.IntVar(&f.proj, "projections", 64, "directions of the sliced W2")
	fl.Uint64Var(&f.seed, "seed", 1, "random seed")
	f.fd.add(fl)
	fl.StringVar(&f.fd.pixels, "fd-pixels", "01", "--fd-mnist: pixel range of the samples, 01 ([0, 1]) or pm1 ([−1, 1])")
	return cmd
}

func (f *compareFlags) runCmd(cmd *cobra.Command) error {
	if f.x == "" || f.y == "" {
		return usagef("compare needs --x and --y (each a SPEC or FILE)")
	}
	if f.n < 3 {
		return usagef("--n %d: want at least 3 points", f.n)
	}
	if f.chi < -1 || f.chi == 0 && cmd.Flags().Changed("chi") {
		return usagef("--chi %d: want a positive number of degrees of freedom (or --chi alone for the dimension)", f.chi)
	}
	if !(f.chiScale > 0) {
		return usagef("--chi-scale %v: want a positive scale", f.chiScale)
	}
	if f.proj < 1 {
		return usagef("--projections %d: want at least 1", f.proj)
	}
	// Two samples of --n points; the dimension of a SPEC is known before
	// drawing (a file's size is checked when it is read).
	for _, from := range []string{f.x, f.y} {
		if d, ok := specDim(from); ok {
			if err := checkMemory(fmt.Sprintf("--n %d: two samples of dimension %d", f.n, d),
				memBytes(2, uint64(f.n), uint64(d), 4)); err != nil {
				return err
			}
		}
	}
	rng := rand.New(rand.NewPCG(f.seed, compareStream))
	nSet := cmd.Flags().Changed("n")
	x, err := train.StartPoints(f.x, f.n, !nSet, rng)
	if err != nil {
		return usagef("--x %s: %v", f.x, err)
	}
	y, err := train.StartPoints(f.y, f.n, !nSet, rng)
	if err != nil {
		return usagef("--y %s: %v", f.y, err)
	}
	if x.C != y.C {
		return usagef("--x has %d columns and --y %d: samples to compare must have the same width", x.C, y.C)
	}
	for _, s := range []struct {
		flag string
		m    *mat.Dense
	}{{"--x", x}, {"--y", y}} {
		if s.m.R < 3 {
			return usagef("%s: %d rows, want at least 3", s.flag, s.m.R)
		}
	}
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	rep, err := f.compare(ctx, x, y, rng)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("%w: %v", errInterrupted, err)
		}
		return err
	}
	if f.fd.on {
		if f.fd.pixels != "01" && f.fd.pixels != "pm1" {
			return usagef("--fd-pixels %q: want 01 or pm1", f.fd.pixels)
		}
		pm1 := f.fd.pixels == "pm1"
		if rep.FDMNIST, err = f.fd.score(cmd, toUnit(x, pm1), toUnit(y, pm1)); err != nil {
			return err
		}
	}
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	fmt.Fprintln(cmd.OutOrStdout(), string(b))
	return nil
}

func (f *compareFlags) compare(ctx context.Context, x, y *mat.Dense, rng *rand.Rand) (*compareReport, error) {
	rep := &compareReport{Proj: f.proj}
	if x.R == y.R {
		if need := memBytes(8, uint64(x.R), uint64(x.R)); need > metrics.MaxAssignmentBytes {
			rep.Note = fmt.Sprintf("no exact W2: %d points need a %d MiB cost matrix (limit %d MiB)", x.R, need>>20, metrics.MaxAssignmentBytes>>20)
		} else {
			w, err := metrics.W2(ctx, x, y)
			if err != nil {
				return nil, err
			}
			rep.W2 = &w
		}
	} else {
		rep.Note = fmt.Sprintf("no exact W2: the samples have %d and %d points", x.R, y.R)
	}
	rep.SlicedW2 = metrics.SlicedW2(x, y, f.proj, rng)
	rep.MMD = metrics.MMD(x, y, nil)
	rep.Energy = metrics.EnergyDistance(x, y)
	var err error
	if rep.X, err = f.side(ctx, f.x, x); err != nil {
		return nil, err
	}
	if rep.Y, err = f.side(ctx, f.y, y); err != nil {
		return nil, err
	}
	return rep, nil
}

func (f *compareFlags) side(ctx context.Context, from string, m *mat.Dense) (compareSide, error) {
	s := compareSide{From: from, N: m.R, Dim: m.C}
	o := metrics.IntrinsicOptions{Seed: f.seed}
	if m.R <= 20 {
		o.Ks, o.K1, o.K2 = []int{2}, 2, 2
	}
	var err error
	if s.Intrinsic, err = metrics.IntrinsicDim(ctx, idQuerySet(m, f.seed), m, o); err != nil {
		if ctx.Err() != nil {
			return s, err
		}
		s.Intrinsic, s.IntrinsicError = nil, err.Error()
	}
	if f.chi != 0 {
		k := float64(f.chi)
		if f.chi < 0 {
			k = float64(m.C)
		}
		law := exact.Chi{K: k, S: f.chiScale}
		d, p, err := metrics.KS(metrics.Norms(m), law.Cdf)
		if err != nil {
			return s, err
		}
		s.KSChi = &ksChi{K: k, S: f.chiScale, D: d, P: p, MeanNorm: metrics.NormStatsOf(m).Mean, ChiMean: law.Mean()}
	}
	return s, nil
}
