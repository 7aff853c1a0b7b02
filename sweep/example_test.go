package sweep_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/flowlab/flowlab/sweep"
)

// square is a Runner whose cells write the square of their config.
type square struct{}

func (square) RunCell(_ context.Context, c sweep.Cell, dir string, _ []sweep.Input) error {
	var x int
	json.Unmarshal(c.Config, &x)
	return os.WriteFile(filepath.Join(dir, "y"), fmt.Appendf(nil, "%d", x*x), 0o644)
}

func (square) Collect(_ context.Context, p *sweep.Plan, cellDir func(sweep.Cell) string, _ string) error {
	for _, c := range p.Cells {
		b, _ := os.ReadFile(filepath.Join(cellDir(c), "y"))
		fmt.Printf("%s: %s\n", c.ID, b)
	}
	return nil
}

func Example() {
	dir, _ := os.MkdirTemp("", "sweep")
	defer os.RemoveAll(dir)
	plan := &sweep.Plan{Experiments: []string{"square"}, Scale: "smoke", Seeds: 1}
	for x := 1; x <= 3; x++ {
		plan.Cells = append(plan.Cells, sweep.Cell{ID: fmt.Sprintf("square/x%d", x), Experiment: "square", Config: json.RawMessage(fmt.Sprint(x))})
	}
	if err := sweep.Write(dir, plan); err != nil {
		fmt.Println(err)
		return
	}
	p, _ := sweep.Read(dir)
	// An array task would run one index; Local runs them all.
	if err := sweep.Local(context.Background(), dir, p, square{}, 2, nil); err != nil {
		fmt.Println(err)
	}
	sweep.Collect(context.Background(), dir, p, square{}, "")
	// Output:
	// square/x1: 1
	// square/x2: 4
	// square/x3: 9
}
