package report

import (
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/flowlab/flowlab/internal/buildinfo"
)

// dateLayout is how results and the report print when runs were written.
const dateLayout = "2006-01-02 15:04 UTC"

// revision is the build's revision when the binary carries no VCS
// information (-buildvcs=false, or a tree the go command cannot read): set
// at link time, go build -ldflags "-X
// github.com/flowlab/flowlab/report.revision=$(git describe --always --dirty)".
// It is never written at run time.
var revision string

// Build describes the flowlab build of the running binary: the VCS
// revision (12 hex digits, "+dirty" when the tree had uncommitted changes)
// or else the module version, and the Go version. Binaries built without
// VCS information (go run, go test) give "unknown revision".
func Build() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		bi = &debug.BuildInfo{}
	}
	return buildOf(bi, revision)
}

// buildOf formats a build's information (see Build); linked is the
// revision set at link time, used when bi has no VCS revision.
func buildOf(bi *debug.BuildInfo, linked string) string {
	rev, dirty := buildinfo.VCS(bi)
	switch {
	case rev != "":
		rev = rev[:min(12, len(rev))]
		if dirty {
			rev += "+dirty"
		}
	case linked != "":
		rev = linked
	case bi.Main.Version != "" && bi.Main.Version != "(devel)":
		rev = bi.Main.Version
	default:
		rev = "unknown revision"
	}
	if bi.GoVersion == "" {
		return rev
	}
	return strings.Join([]string{rev, bi.GoVersion}, ", ")
}

// writtenAt returns when path was last written, in UTC (zero time when it
// cannot be read).
func writtenAt(path string) time.Time {
	st, err := os.Stat(path)
	if err != nil {
		return time.Time{}
	}
	return st.ModTime().UTC()
}
