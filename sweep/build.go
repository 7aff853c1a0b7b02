package sweep

import (
	"runtime/debug"
	"strings"
)

// Build names this flowlab build: the module version, else the VCS revision
// (with "+dirty" for a modified tree), else "devel".
func Build() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" && !strings.Contains(v, "+dirty") {
		return v
	}
	var rev string
	var dirty bool
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return "devel"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if dirty {
		rev += "+dirty"
	}
	return rev
}

// known reports whether a build name identifies code: a dirty tree or a
// build without VCS information could hold anything, so plans from or to
// them are not refused.
func known(build string) bool {
	return build != "" && build != "devel" && !strings.HasSuffix(build, "+dirty")
}
