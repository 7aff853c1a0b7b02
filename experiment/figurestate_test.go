package experiment

import (
	"encoding/json"
	"testing"
)

// TestHideFigures: figure fields vanish from the JSON wherever they sit
// (pointer, slice, map of interfaces, nested struct) and come back intact.
func TestHideFigures(t *testing.T) {
	type inner struct {
		A   float64   `json:"a"`
		Fig []float64 `json:"fig,omitempty" figure:"true"`
	}
	type outer struct {
		Name  string    `json:"name"`
		In    *inner    `json:"in"`
		Fig   [2]*inner `json:"fig,omitzero" figure:"true"`
		Items []inner   `json:"items"`
	}
	mk := func() *outer {
		return &outer{Name: "x", In: &inner{A: 1, Fig: []float64{1, 2}}, Fig: [2]*inner{{A: 3}},
			Items: []inner{{A: 2, Fig: []float64{3}}}}
	}
	for _, tc := range []struct {
		name string
		v    any
		want string
	}{
		{"slice", []*outer{mk()}, `[{"name":"x","in":{"a":1},"items":[{"a":2}]}]`},
		{"map", map[string]any{"k": []*outer{mk()}}, `{"k":[{"name":"x","in":{"a":1},"items":[{"a":2}]}]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before, _ := json.Marshal(tc.v)
			restore := hideFigures(tc.v)
			hidden, _ := json.Marshal(tc.v)
			restore()
			after, _ := json.Marshal(tc.v)
			if string(hidden) != tc.want {
				t.Errorf("hidden: %s\nwant    %s", hidden, tc.want)
			}
			if string(after) != string(before) {
				t.Errorf("restored: %s\nwant      %s", after, before)
			}
		})
	}
}
