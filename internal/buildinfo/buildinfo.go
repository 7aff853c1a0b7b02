// Package buildinfo names the flowlab build that is running, for benchmark
// records and sweep plans.
package buildinfo

import (
	"regexp"
	"runtime/debug"
	"strings"
)

// VCS returns the VCS revision a build records ("" when none) and whether
// its tree had uncommitted changes.
func VCS(bi *debug.BuildInfo) (rev string, dirty bool) {
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	return rev, dirty
}

// Version names the build: the module version without its "v", else
// "dev-" and the first 12 hex digits of the VCS revision, with "-dirty" for
// a modified tree, else "dev" (a build without VCS information, such as a
// test binary).
func Version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "dev"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return strings.TrimPrefix(v, "v")
	}
	rev, dirty := VCS(bi)
	if rev == "" {
		return "dev"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if dirty {
		rev += "-dirty"
	}
	return "dev-" + rev
}

// Identifies reports whether a version names one state of the code: a
// release or a clean revision. A modified tree or a build without VCS
// information could hold anything.
func Identifies(v string) bool {
	return v != "" && v != "dev" && !strings.HasSuffix(v, "-dirty") && !strings.Contains(v, "+dirty")
}

// Revision returns the commit that a Version names: the 12 hex digits of
// "dev-HASH" or of a module pseudo-version ("0.0.0-DATE-HASH"); any other
// version (a dirty tree's included) is returned as it is.
func Revision(v string) string {
	if m := hashTail.FindStringSubmatch(v); m != nil {
		return m[1]
	}
	return v
}

var hashTail = regexp.MustCompile(`[-.]([0-9a-f]{12})$`)
