package buildinfo

import (
	"fmt"
	"testing"
)

func TestIdentifies(t *testing.T) {
	for _, tc := range []struct {
		v    string
		want bool
	}{
		{"", false},
		{"dev", false},
		{"dev-0123456789ab", true},
		{"dev-0123456789ab-dirty", false},
		{"1.2.0", true},
		{"1.2.1-0.20261204-abcdef+dirty", false},
	} {
		t.Run(tc.v, func(t *testing.T) {
			if got := Identifies(tc.v); got != tc.want {
				t.Errorf("Identifies(%q) = %v, want %v", tc.v, got, tc.want)
			}
		})
	}
}

// A test binary carries no VCS stamp: Version says so.
func TestVersionOfTestBinary(t *testing.T) {
	if v := Version(); v != "dev" {
		t.Errorf("Version() = %q", v)
	}
}

func ExampleIdentifies() {
	fmt.Println(Identifies("dev-0123456789ab"), Identifies("dev-0123456789ab-dirty"), Identifies("dev"))
	// Output: true false false
}

func TestRevision(t *testing.T) {
	for _, tc := range []struct{ v, want string }{
		{"dev-0123456789ab", "0123456789ab"},
		{"dev-0123456789ab-dirty", "dev-0123456789ab-dirty"},
		{"0.0.0-20261204152242-a03e3ef37570", "a03e3ef37570"},
		{"1.2.0", "1.2.0"},
		{"dev", "dev"},
	} {
		t.Run(tc.v, func(t *testing.T) {
			if got := Revision(tc.v); got != tc.want {
				t.Errorf("Revision(%q) = %q, want %q", tc.v, got, tc.want)
			}
		})
	}
}
