package report

import (
	"os"
	"path/filepath"
	"runtime/debug"
	"testing"
	"time"
)

// buildOf prefers the VCS revision (cut to 12 digits, marked dirty), then
// the revision set at link time, then the module version, and says so when
// it has none.
func TestBuildOf(t *testing.T) {
	rev := []debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789abcdef0123"}}
	cases := []struct {
		name   string
		bi     debug.BuildInfo
		linked string
		want   string
	}{
		{"revision", debug.BuildInfo{GoVersion: "go1.26", Settings: rev}, "linked", "0123456789ab, go1.26"},
		{"dirty", debug.BuildInfo{GoVersion: "go1.26", Settings: append(rev, debug.BuildSetting{Key: "vcs.modified", Value: "true"})}, "", "0123456789ab+dirty, go1.26"},
		{"linked", debug.BuildInfo{GoVersion: "go1.26", Main: debug.Module{Version: "v1.2.3"}}, "abc1234-dirty", "abc1234-dirty, go1.26"},
		{"version", debug.BuildInfo{GoVersion: "go1.26", Main: debug.Module{Version: "v1.2.3"}}, "", "v1.2.3, go1.26"},
		{"devel", debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "", "unknown revision"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := buildOf(&c.bi, c.linked); got != c.want {
				t.Errorf("buildOf = %q, want %q", got, c.want)
			}
		})
	}
}

// LoadResults dates the results by the newest metrics.json and names the
// build that gathered them.
func TestLoadResultsDate(t *testing.T) {
	runs := t.TempDir()
	stamps := map[string]time.Time{
		"a": time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC),
		"b": time.Date(2026, 3, 2, 17, 5, 0, 0, time.UTC),
	}
	for name, at := range stamps {
		dir := filepath.Join(runs, name)
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, "metrics.json")
		if err := os.WriteFile(path, []byte(`{"scale":"smoke","seed":1,"findings":[],"stats":[]}`), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(path, at, at); err != nil {
			t.Fatal(err)
		}
	}
	r, err := LoadResults(runs, []string{"a", "b"})
	if err != nil {
		t.Fatal(err)
	}
	if r.Date != "2026-03-02 17:05 UTC" {
		t.Errorf("Date = %q, want the newer metrics.json's 2026-03-02 17:05 UTC", r.Date)
	}
	if r.Build == "" {
		t.Error("Build is empty")
	}
}

// times adds each experiment's date only when the dates span more than the
// experiments' summed times, so that a results file assembled from several
// runs says so.
func TestTimesDates(t *testing.T) {
	cases := []struct {
		name  string
		dates [2]string
		want  string
	}{
		{"one run", [2]string{"2026-03-01 09:30 UTC", "2026-03-01 09:40 UTC"}, "a 300 s, b 300 s"},
		{"two runs", [2]string{"2026-03-01 09:30 UTC", "2026-03-01 11:30 UTC"}, "a 300 s (written 2026-03-01 09:30 UTC), b 300 s (written 2026-03-01 11:30 UTC)"},
		{"one undated", [2]string{"unrecorded", "2026-03-01 11:30 UTC"}, "a 300 s (written unrecorded), b 300 s (written 2026-03-01 11:30 UTC)"},
		{"both undated", [2]string{"unrecorded", "unrecorded"}, "a 300 s, b 300 s"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := Results{Experiments: []ExperimentResults{{Name: "a", Seconds: 300, Date: c.dates[0]}, {Name: "b", Seconds: 300, Date: c.dates[1]}}}
			if got := r.times(); got != c.want {
				t.Errorf("times() = %q, want %q", got, c.want)
			}
		})
	}
}
