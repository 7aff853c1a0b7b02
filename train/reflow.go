package train

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/flowlab/flowlab/mat"
	"github.com/flowlab/flowlab/solve"
)

// Reflow makes reflow (rectified-flow "2-rectified") pairs, a
// coupling.Coupling: x1 is replaced by the end point of the ODE started at x0
// under Field (a trained run's drift), integrated forward from t = 0 to 1
// with Options (default RK4, 100 steps when Method is empty).
type Reflow struct {
	Field   solve.Field
	Options solve.Options
}

// Couple overwrites x1 with the flow of x0.
func (r *Reflow) Couple(ctx context.Context, _ *rand.Rand, x0, x1 *mat.Dense) error {
	if x0.R != x1.R || x0.C != x1.C {
		panic(fmt.Sprintf("train: Reflow: x0 %s and x1 %s differ in shape", x0.Shape(), x1.Shape()))
	}
	if r.Field == nil {
		return fmt.Errorf("train: reflow coupling needs a trained field")
	}
	opts := r.Options
	if opts.Method == "" {
		opts.Method, opts.Steps = solve.RK4, 100
	}
	opts.Backward = false
	copy(x1.Data, x0.Data)
	if _, err := solve.Integrate(ctx, r.Field, x1, opts); err != nil {
		return fmt.Errorf("train: reflow: %w", err)
	}
	return nil
}

// String returns "reflow".
func (r *Reflow) String() string { return "reflow" }
