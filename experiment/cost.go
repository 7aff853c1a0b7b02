package experiment

// cellSeconds is the estimated CPU seconds of a cell whose cost (plan.cost)
// is units multiply-adds.
func cellSeconds(units int) float64 { return float64(units) / macsPerCPUSecond }

// macsPerCPUSecond is the engine's measured training rate in multiply-adds
// per CPU second; docs/PERFORMANCE.md ("Sweep cost") says how it was
// measured.
const macsPerCPUSecond = 20e9
