package main

import (
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/flowlab/flowlab/experiment"
)

// FuzzParseFloats: the spectrum --var/--above list parser never panics; it
// refuses with a usage error naming the flag, or returns values within the
// bounds that print back to a list it reads the same way.
func FuzzParseFloats(f *testing.F) {
	for _, s := range []string{"0.95,0.99", "0.012", "", " ", "1", "1.5", "0", "-0", "NaN", "Inf", "1e-400", "0x1p-3", ",", "0.5,,0.7", "1_0"} {
		f.Add(s, true)
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, s string, fraction bool) {
		lo, hi := 0.0, -1.0 // --above: > 0
		if fraction {
			hi = 1 // --var: in (0, 1]
		}
		v, err := parseFloats("--x", s, lo, hi)
		if err != nil {
			var ue usageError
			if !errors.As(err, &ue) || !strings.Contains(err.Error(), "--x") {
				t.Fatalf("%q: error %v is not a usage error naming the flag", s, err)
			}
			return
		}
		parts := make([]string, len(v))
		for i, x := range v {
			if !(x > lo) || math.IsNaN(x) || (hi > lo && x > hi) {
				t.Fatalf("%q: accepted %v outside the bounds", s, x)
			}
			parts[i] = strconv.FormatFloat(x, 'g', -1, 64)
		}
		w, err := parseFloats("--x", strings.Join(parts, ","), lo, hi)
		if err != nil || !slices.Equal(v, w) {
			t.Fatalf("%q → %v → %v, %v", s, v, w, err)
		}
	})
}

// FuzzParseScale: the --scale parser accepts exactly the three scale names
// and names what it refuses.
func FuzzParseScale(f *testing.F) {
	for _, s := range []string{"smoke", "quick", "paper", "", "Smoke", "smoke ", "huge"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sc, err := experiment.ParseScale(s)
		known := s == "smoke" || s == "quick" || s == "paper"
		if known != (err == nil) {
			t.Fatalf("%q: %v, %v", s, sc, err)
		}
		if err != nil && !errors.Is(err, experiment.ErrUnknownScale) {
			t.Fatalf("%q: error %v does not wrap ErrUnknownScale", s, err)
		}
		if err == nil && string(sc) != s {
			t.Fatalf("%q parsed as %q", s, sc)
		}
	})
}
