package diagnose

import (
	"math"
	"slices"
)

// Quantiles summarises a quantity over the points: its mean, extremes and
// quantiles (linear interpolation between order statistics, NumPy's
// default).
type Quantiles struct {
	Mean   float64 `json:"mean"`
	Min    float64 `json:"min"`
	Q05    float64 `json:"q05"`
	Q25    float64 `json:"q25"`
	Median float64 `json:"median"`
	Q75    float64 `json:"q75"`
	Q95    float64 `json:"q95"`
	Max    float64 `json:"max"`
}

// quantilesOf summarises v (not modified). NaN values make every field NaN.
func quantilesOf(v []float64) Quantiles {
	if len(v) == 0 {
		nan := math.NaN()
		return Quantiles{nan, nan, nan, nan, nan, nan, nan, nan}
	}
	s := slices.Clone(v)
	slices.Sort(s)
	var sum float64
	for _, x := range s {
		sum += x
	}
	q := func(p float64) float64 {
		h := p * float64(len(s)-1)
		i := int(math.Floor(h))
		if i >= len(s)-1 {
			return s[len(s)-1]
		}
		return s[i] + (h-float64(i))*(s[i+1]-s[i])
	}
	return Quantiles{Mean: sum / float64(len(s)), Min: s[0], Q05: q(0.05), Q25: q(0.25),
		Median: q(0.5), Q75: q(0.75), Q95: q(0.95), Max: s[len(s)-1]}
}

// columnQuantiles summarises each column of the n×k row-major values.
func columnQuantiles(vals []float64, n, k int) []Quantiles {
	out := make([]Quantiles, k)
	col := make([]float64, n)
	for j := range out {
		for i := range col {
			col[i] = vals[i*k+j]
		}
		out[j] = quantilesOf(col)
	}
	return out
}
