package experiment

import (
	"slices"
	"testing"
)

// The paper scale is the seed's grid (issue 17): k = 256 with the rows
// w = 254…258 and the control 2k, the seed's 10/100/1000 epochs as
// snapshots of one 10 000-step run, three seeds of every cell; the
// learning rate that drifts runs at w = k only.
func TestWidthPaperGrid(t *testing.T) {
	c := widthSetup(Paper)
	cells, err := widthCells(nil, c)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Ks, []int{256}) || !slices.Equal(c.Steps, []int{100, 1000, 10000}) || c.Seeds < 3 {
		t.Fatalf("k %v, steps %v, %d seeds", c.Ks, c.Steps, c.Seeds)
	}
	widths := map[string][]int{}
	for _, x := range cells {
		if x.Trained != 10000 {
			t.Errorf("%s w=%d: %d steps, want one run of 10000", x.Net.name(), x.W, x.Trained)
		}
		widths[x.Net.name()] = append(widths[x.Net.name()], x.W)
	}
	all := []int{254, 255, 256, 257, 258, 512}
	for _, n := range c.Nets {
		got := slices.Compact(widths[n.name()])
		want := all
		if n.Only != "" {
			want = []int{widthOf(n.Only, 256)}
		}
		if !slices.Equal(got, want) || len(widths[n.name()]) != len(want)*c.Seeds {
			t.Errorf("%s: widths %v, want %v, %d seeds each", n.name(), widths[n.name()], want, c.Seeds)
		}
	}
}
