package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// cli runs the command line in-process with a background context.
func cli(args ...string) (code int, stdout, stderr string) {
	return runCLI(context.Background(), args...)
}

func TestReproduceUsage(t *testing.T) {
	for _, args := range [][]string{
		{"reproduce"},
		{"reproduce", "nope"},
		{"reproduce", "width", "--scale", "huge"},
		{"reproduce", "width", "--seed", "x"},
		{"report", "--runs", filepath.Join(t.TempDir(), "missing")},
		{"report", "extra"},
	} {
		code, _, stderr := cli(args...)
		if code != 2 {
			t.Errorf("%v: exit %d, want 2 (bad usage); stderr %q", args, code, stderr)
		}
		if strings.Count(strings.TrimSpace(stderr), "\n") != 0 || !strings.HasPrefix(stderr, "flowlab: ") {
			t.Errorf("%v: want one line on stderr, got %q", args, stderr)
		}
	}
}

// reproduce writes the run folder; report renders it into a page that
// embeds its figures.
func TestReproduceAndReport(t *testing.T) {
	out := t.TempDir()
	code, stdout, stderr := cli("reproduce", "rank", "--scale", "smoke", "--out", out, "--seed", "3", "-q")
	if code != 0 {
		t.Fatalf("reproduce: exit %d: %s", code, stderr)
	}
	if stderr != "" {
		t.Errorf("-q still wrote progress: %q", stderr)
	}
	if !strings.Contains(stdout, filepath.Join(out, "rank")) {
		t.Errorf("stdout %q does not name the run folder", stdout)
	}
	for _, f := range []string{"config.json", "metrics.json", "times.json", "figures/norms.png"} {
		if _, err := os.Stat(filepath.Join(out, "rank", f)); err != nil {
			t.Error(err)
		}
	}
	page := filepath.Join(out, "r.html")
	if code, _, stderr := cli("report", "--runs", out, "--out", page); code != 0 {
		t.Fatalf("report: exit %d: %s", code, stderr)
	}
	b, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `id="rank"`) || !strings.Contains(string(b), "data:image/png;base64,") {
		t.Error("report lacks the rank section or its embedded figure")
	}
	// An empty runs folder is a failed run (exit 1), not bad usage.
	if code, _, _ := cli("report", "--runs", t.TempDir(), "--out", page); code != 1 {
		t.Errorf("report of an empty folder: exit %d, want 1", code)
	}
}

// reproduce all at smoke scale: the six run folders and runs/report.html.
func TestReproduceAllSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("runs all six experiments (about a minute on two cores)")
	}
	out := t.TempDir()
	code, _, stderr := cli("reproduce", "all", "--scale", "smoke", "--out", out, "-q")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, n := range []string{"width", "variance", "rank", "mnist", "stochastic", "latent"} {
		if _, err := os.Stat(filepath.Join(out, n, "metrics.json")); err != nil {
			t.Error(err)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "report.html")); err != nil {
		t.Error(err)
	}
}
