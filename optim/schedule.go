package optim

import (
	"fmt"
	"math"
)

// Schedule maps a step number (0 for the first step) to a learning-rate
// multiplier; the rate used at step s is base·Schedule(s).
type Schedule func(step int) float64

// Constant is the schedule that always returns 1.
func Constant() Schedule { return func(int) float64 { return 1 } }

// Cosine decays the multiplier from 1 at step 0 to minFrac at step total
// (and stays there), as torch's CosineAnnealingLR with
// eta_min = minFrac·base and T_max = total:
// minFrac + (1−minFrac)·(1 + cos(π·s/total))/2.
// It panics if total < 1 (a programmer error; validate user input first).
func Cosine(total int, minFrac float64) Schedule {
	if total < 1 {
		panic(fmt.Sprintf("optim: Cosine total %d < 1", total))
	}
	return func(s int) float64 {
		s = min(max(s, 0), total)
		return minFrac + (1-minFrac)*(1+math.Cos(math.Pi*float64(s)/float64(total)))/2
	}
}

// WarmupCosine rises linearly over the first warmup steps, as
// (s+1)/warmup for s < warmup (so the first step is not wasted at rate 0),
// then follows a cosine from 1 at step warmup to minFrac at step total.
// It panics if warmup < 0 or total ≤ warmup.
func WarmupCosine(warmup, total int, minFrac float64) Schedule {
	if warmup < 0 || total <= warmup {
		panic(fmt.Sprintf("optim: WarmupCosine warmup %d, total %d", warmup, total))
	}
	cos := Cosine(total-warmup, minFrac)
	return func(s int) float64 {
		if s < warmup {
			return float64(s+1) / float64(warmup)
		}
		return cos(s - warmup)
	}
}

// ClipGlobalNorm scales grads in place so that their Euclidean norm is at
// most maxNorm, as torch.nn.utils.clip_grad_norm_ does (factor
// maxNorm/(norm + 1e-6) when that is below 1), and returns the norm before
// clipping, computed in float64. A non-finite norm is returned with grads
// left as they are, for the caller's NaN guard.
func ClipGlobalNorm(grads []float32, maxNorm float64) float64 {
	var s float64
	for _, g := range grads {
		s += float64(g) * float64(g)
	}
	norm := math.Sqrt(s)
	if math.IsNaN(norm) || math.IsInf(norm, 0) {
		return norm
	}
	if c := maxNorm / (norm + 1e-6); c < 1 {
		f := float32(c)
		for i := range grads {
			grads[i] *= f
		}
	}
	return norm
}

// EMA keeps an exponential moving average of parameters:
// Shadow ← Decay·Shadow + (1 − Decay)·params after each Update.
type EMA struct {
	Decay  float32
	Shadow []float32
}

// NewEMA returns an EMA with the given decay, starting from a copy of params.
func NewEMA(params []float32, decay float32) *EMA {
	return &EMA{Decay: decay, Shadow: append([]float32(nil), params...)}
}

// Update folds params into the average.
func (e *EMA) Update(params []float32) {
	if len(params) != len(e.Shadow) {
		panic(fmt.Sprintf("optim: EMA lengths params %d shadow %d", len(params), len(e.Shadow)))
	}
	d, c := e.Decay, 1-e.Decay
	for i, p := range params {
		e.Shadow[i] = d*e.Shadow[i] + c*p
	}
}
