package metrics

import (
	"math"
	"testing"

	"github.com/flowlab/flowlab/mat"
)

// TestColVars checks per-column variances against closed forms: 1..4 has
// variance 5/3, a constant column 0, and 10⁴ + {0, 1, 2, 3} the variance of
// 0..3 (5/3) — the two-pass sum does not cancel; float64 rounding only
// (1e-12 relative). Fewer than two rows panic.
func TestColVars(t *testing.T) {
	x := mat.NewFrom(4, 3, []float32{
		1, 7, 10000,
		2, 7, 10001,
		3, 7, 10002,
		4, 7, 10003,
	})
	got := ColVars(x)
	for j, want := range []float64{5.0 / 3, 0, 5.0 / 3} {
		if !(math.Abs(got[j]-want) <= 1e-12*want) {
			t.Errorf("column %d: variance %v, want %v", j, got[j], want)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("one row: no panic")
		}
	}()
	ColVars(mat.New(1, 3))
}
