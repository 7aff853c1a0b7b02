package experiment

// A sweep's estimate: each cell's work in multiply-adds, from its training
// settings (steps × batch × the network's multiply-adds per row, three
// times for the forward and backward passes, twice that with a denoiser
// net), its flows (points × RK4 evaluations × multiply-adds per row) and
// the work every process repeats while setting the experiment up (cells()),
// divided by the engine's measured rate. docs/PERFORMANCE.md ("Sweep cost")
// says how the rate was measured and how close the estimate comes.

// cellSeconds is the estimated CPU seconds of cell x of an experiment set
// up as setting, whose plan.cost is cost: the multiply-adds cellMACs
// estimates for the study's first six experiments, or cost (experiments
// written since sweeps set plan.cost in multiply-adds); 0 with neither.
func cellSeconds(setting, x any, cost int) float64 {
	m := cellMACs(setting, x)
	if m == 0 {
		m = float64(cost)
	}
	return m / macsPerCPUSecond
}

// macsPerCPUSecond is the engine's rate on the study's cells, in
// multiply-adds per CPU second (docs/PERFORMANCE.md, "Sweep cost").
const macsPerCPUSecond = 35e9

// cellMACs is the estimated multiply-adds of a cell, by the experiment's
// setting type, for the experiments whose plan.cost predates sweeps (a
// relative cost, or none); others give 0 and set plan.cost instead.
func cellMACs(setting, x any) float64 {
	switch c := setting.(type) {
	case varianceConfig:
		return pairMACs(c.toyConfig, x.(*pairResult))
	case rankConfig:
		r := x.(*rankRun)
		return gaussMACs(c.recipe(r.Recipe).Train, r.Gamma != "")
	case mnistConfig:
		r := x.(*mnistResult)
		if r.Seed == 0 {
			return spectrumMACs(60000, 784)
		}
		return spectrumMACs(c.SubsetN, 784)
	case stochasticConfig:
		return stochasticMACs(c, x.(*stochasticCell))
	}
	return 0
}

// netMACs is the multiply-adds per row of a velocity field: an MLP on
// [x, t, sin/cos features] (plus, for film, heads from a 64-wide time
// embedding to every hidden layer's scale and shift).
func netMACs(dim int, hidden []int, fourier int, arch string) float64 {
	in, sum, total := dim+1+2*fourier, 0, 0
	for _, h := range hidden {
		total += in * h
		in, sum = h, sum+h
	}
	total += in * dim
	if arch == "film" {
		total += 64 * 2 * (sum + dim)
	}
	return float64(total)
}

// trainMACs is training's multiply-adds: forward and backward (3×) over
// steps × batch rows, doubled with a denoiser net.
func trainMACs(steps, batch int, perRow float64, eta bool) float64 {
	m := 3 * float64(steps) * float64(batch) * perRow
	if eta {
		m *= 2
	}
	return m
}

// flowMACs is pushing n points through a field with RK4 at flowSteps.
func flowMACs(n int, perRow float64) float64 { return float64(n) * 4 * flowSteps * perRow }

func pairMACs(c toyConfig, p *pairResult) float64 {
	if p.Source == idealSource {
		return 0
	}
	per := netMACs(2, c.Hidden, 0, "mlp")
	steps := flowMACs(2*c.EvalN, per)
	if p.Gamma != "" {
		steps = 2 * float64(2*c.EvalN) * float64(c.SDESteps) * per
	}
	n := float64(c.EvalN)
	return trainMACs(c.Steps, c.Batch, per, p.Gamma != "") + steps + 4*n*n*n
}

func gaussMACs(c gaussConfig, eta bool) float64 {
	per := netMACs(c.D, c.Hidden, c.Fourier, c.Arch)
	return trainMACs(c.Steps, c.Batch, per, eta) + 2*flowMACs(c.FlowN, per)
}

// spectrumMACs is a covariance of n rows of d columns and its
// eigendecomposition.
func spectrumMACs(n, d int) float64 {
	return float64(n)*float64(d)*float64(d)/2 + 10*float64(d)*float64(d)*float64(d)
}

// stochasticMACs counts, beside the cell's own training, the ε selection
// that cells() trains in every process.
func stochasticMACs(c stochasticConfig, x *stochasticCell) float64 {
	if x.Pair != nil {
		return pairMACs(c.Toy, x.Pair)
	}
	m := gaussMACs(c.Gauss, x.Run.Gamma != "")
	if x.Run.Gamma != "" {
		// The ε sweep's SDEs: two evaluations a step (drift and η).
		m += float64(len(c.SweepEps)) * 2 * float64(c.Gauss.SDESteps) * float64(c.Gauss.FlowN) * netMACs(c.Gauss.D, c.Gauss.Hidden, c.Gauss.Fourier, c.Gauss.Arch)
	}
	return m
}
