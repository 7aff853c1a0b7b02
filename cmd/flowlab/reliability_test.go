package main

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/flowlab/flowlab/dist"
	"github.com/flowlab/flowlab/experiment"
	"github.com/flowlab/flowlab/mat"
	"github.com/flowlab/flowlab/metrics"
	"github.com/flowlab/flowlab/train"
)

// The reliability tests of docs/RELIABILITY.md: bad command lines, resource
// bounds, disk faults and determinism, across every subcommand.

// oneErrorLine reports whether stderr is exactly one line "flowlab: ...\n"
// that contains want.
func oneErrorLine(stderr, want string) bool {
	return strings.HasPrefix(stderr, "flowlab: ") && strings.HasSuffix(stderr, "\n") &&
		strings.Count(stderr, "\n") == 1 && strings.Contains(stderr, want)
}

// finishedRun trains a tiny run into a fresh folder and returns it; extra
// flags are added to (or override) the defaults.
func finishedRun(t *testing.T, extra ...string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "done")
	args := append([]string{"train", "--source", "gaussian:dim=2", "--target", "moons",
		"--hidden", "8", "--steps", "5", "--batch", "8", "--out", dir}, extra...)
	if code, _, errs := runCLI(context.Background(), args...); code != 0 {
		t.Fatalf("setup run: exit %d: %s", code, errs)
	}
	return dir
}

// copyRun copies a run folder's files into a new folder.
func copyRun(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), filepath.Base(src)+"-copy")
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, b := range readRun(t, src) {
		if err := os.WriteFile(filepath.Join(dst, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// TestBadCommandLines: every subcommand answers a wrong command line with
// exit status 2 and exactly one line on stderr that names the problem.
func TestBadCommandLines(t *testing.T) {
	tmp := t.TempDir()
	done := finishedRun(t)
	npy := func(name string) string { return filepath.Join(tmp, name+".npy") }

	// A run folder written by another format version.
	foreign := copyRun(t, done)
	os.WriteFile(filepath.Join(foreign, train.ConfigFile), []byte(`{"version": 99, "steps": 5}`), 0o644)
	// A run folder whose checkpoint is truncated (resume) and whose model
	// is not safetensors (sample, eval).
	corrupt := copyRun(t, done)
	ck, _ := os.ReadFile(filepath.Join(done, train.CheckpointFile))
	os.WriteFile(filepath.Join(corrupt, train.CheckpointFile), ck[:len(ck)/2], 0o644)
	os.WriteFile(filepath.Join(corrupt, train.ModelFile), []byte("not safetensors"), 0o644)
	// A run folder holding another run's checkpoint and model (a FiLM net
	// with other widths and Fourier features).
	other := finishedRun(t, "--arch", "film", "--hidden", "4,4", "--fourier", "2")
	mixed := copyRun(t, done)
	for _, f := range []string{train.CheckpointFile, train.ModelFile} {
		b, _ := os.ReadFile(filepath.Join(other, f))
		os.WriteFile(filepath.Join(mixed, f), b, 0o644)
	}
	// A data file with 3 columns, for a 2-dimensional run.
	wide := filepath.Join(tmp, "wide.csv")
	os.WriteFile(wide, []byte("1,2,3\n4,5,6\n"), 0o644)
	// A data file that is not a number table.
	garbage := filepath.Join(tmp, "garbage.npy")
	os.WriteFile(garbage, []byte("\x93NUMPY garbage"), 0o644)

	tr := func(extra ...string) []string {
		return append([]string{"train", "--source", "gaussian:dim=2", "--target", "moons", "--steps", "5", "--out", filepath.Join(tmp, "t")}, extra...)
	}
	cases := []struct {
		name string
		args []string
		want string
	}{
		// The root command.
		{"unknown subcommand", []string{"frobnicate"}, "unknown command"},
		{"unknown root flag", []string{"--bogus"}, "unknown flag"},
		// Unknown flags and arguments, every subcommand.
		{"train unknown flag", tr("--bogus"), "unknown flag"},
		{"train extra argument", tr("extra"), "extra"},
		{"train empty out", []string{"train", "--source", "moons", "--target", "moons", "--out", ""}, "--out"},
		{"sample unknown flag", []string{"sample", "--run", done, "--out", npy("s"), "--bogus"}, "unknown flag"},
		{"eval unknown flag", []string{"eval", "--run", done, "--bogus"}, "unknown flag"},
		{"spectrum unknown flag", []string{"spectrum", "--data", "line", "--bogus"}, "unknown flag"},
		{"spectrum extra argument", []string{"spectrum", "--data", "line", "extra"}, "extra"},
		{"bench unknown flag", []string{"bench", "--bogus"}, "unknown flag"},
		{"reproduce unknown flag", []string{"reproduce", "rank", "--bogus"}, "unknown flag"},
		{"reproduce two names", []string{"reproduce", "rank", "width"}, "accepts 1 arg"},
		{"reproduce unknown experiment", []string{"reproduce", "nosuch"}, "nosuch"},
		{"reproduce bad scale", []string{"reproduce", "rank", "--scale", "huge"}, "huge"},
		{"report unknown flag", []string{"report", "--bogus"}, "unknown flag"},
		{"report missing runs", []string{"report", "--runs", filepath.Join(tmp, "none")}, "none"},
		{"report empty out", []string{"report", "--runs", tmp, "--out", ""}, "--out"},
		// Flag values of the wrong type.
		{"train steps not a number", tr("--steps", "many"), "--steps"},
		{"train seed negative", tr("--seed", "-1"), "--seed"},
		{"sample n scientific", []string{"sample", "--run", done, "--n", "1e12", "--out", npy("s")}, "--n"},
		{"eval n not a number", []string{"eval", "--run", done, "--n", "x"}, "--n"},
		// Bad SPECs.
		{"train unknown source", []string{"train", "--source", "nosuch", "--target", "moons"}, "source"},
		{"train bad target param", []string{"train", "--source", "moons", "--target", "gaussian:dim=2,var=-1"}, "target"},
		{"train spec junk", []string{"train", "--source", "gaussian:dim=2,,", "--target", "moons"}, "source"},
		{"train missing data file", []string{"train", "--source", "gaussian:dim=2", "--target", "file:" + npy("missing")}, "missing"},
		{"train garbage data file", []string{"train", "--source", "gaussian:dim=2", "--target", "file:" + garbage}, "garbage"},
		{"sample bad from", []string{"sample", "--run", done, "--from", "gaussian:dim=", "--out", npy("s")}, "--from"},
		{"spectrum bad spec", []string{"spectrum", "--data", "gaussian:dim=0"}, "dim"},
		// Negative and zero sizes.
		{"train negative steps", tr("--steps", "-5"), "--steps"},
		{"train negative batch", tr("--batch", "-1"), "--batch"},
		{"train negative width", tr("--hidden", "64,-8"), "--hidden"},
		{"train zero width", tr("--hidden", "0"), "--hidden"},
		{"train negative fourier", tr("--fourier", "-1"), "fourier"},
		{"train negative checkpoint interval", tr("--checkpoint-every", "-1"), "--checkpoint-every"},
		{"train negative lr", tr("--lr", "-1"), "--lr"},
		{"train NaN lr", tr("--lr", "NaN"), "--lr"},
		{"train several problems", tr("--steps", "-1", "--batch", "0", "--lr", "-1"), "--steps"},
		{"sample negative n", []string{"sample", "--run", done, "--n", "-1", "--out", npy("s")}, "--n"},
		{"sample zero nfe", []string{"sample", "--run", done, "--nfe", "0", "--out", npy("s")}, "--nfe"},
		{"eval negative n", []string{"eval", "--run", done, "--n", "-3"}, "--n"},
		{"eval negative nfe", []string{"eval", "--run", done, "--nfe", "-1"}, "--nfe"},
		{"spectrum negative n", []string{"spectrum", "--data", "line", "--n", "-5"}, "--n"},
		{"bench negative samples", []string{"bench", "--samples", "-1"}, "--samples"},
		// Source and target of different dimensions.
		{"train dims differ", []string{"train", "--source", "gaussian:dim=3", "--target", "moons", "--out", filepath.Join(tmp, "d")}, "dimension 3, target 2"},
		{"train dims differ file", []string{"train", "--source", "gaussian:dim=2", "--target", "file:" + wide, "--out", filepath.Join(tmp, "d")}, "dimension"},
		{"sample from other dim", []string{"sample", "--run", done, "--from", "gaussian:dim=5", "--out", npy("s")}, "dimension 5"},
		{"sample from other dim file", []string{"sample", "--run", done, "--from", wide, "--out", npy("s")}, "dimension"},
		// A run folder of another configuration or format version.
		{"train over a finished run", []string{"train", "--source", "gaussian:dim=2", "--target", "moons", "--out", done}, "resume"},
		{"resume other config", []string{"train", "--out", done, "--resume", "--lr", "0.5"}, "lr"},
		{"resume other version", []string{"train", "--out", foreign, "--resume"}, "version 99"},
		{"resume corrupt checkpoint", []string{"train", "--out", corrupt, "--resume", "--steps", "5"}, train.CheckpointFile},
		{"sample other version", []string{"sample", "--run", foreign, "--out", npy("s")}, "version 99"},
		{"sample corrupt model", []string{"sample", "--run", corrupt, "--out", npy("s")}, "--run"},
		{"eval other version", []string{"eval", "--run", foreign}, "version 99"},
		{"eval corrupt model", []string{"eval", "--run", corrupt}, "--run"},
		{"resume another run's checkpoint", []string{"train", "--out", mixed, "--resume"}, "another configuration"},
		{"sample another run's model", []string{"sample", "--run", mixed, "--out", npy("s")}, "config.json describes"},
		{"eval another run's model", []string{"eval", "--run", mixed}, "config.json describes"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errs := runCLI(context.Background(), tc.args...)
			if code != 2 || !oneErrorLine(errs, tc.want) {
				t.Errorf("%q: exit %d, stderr %q; want exit 2 and one line mentioning %q", tc.args, code, errs, tc.want)
			}
		})
	}
	if _, err := os.Stat(npy("s")); err == nil {
		t.Error("a refused sample wrote its output")
	}
}

// TestRunExitStatus: a failed run is exit status 1 even when its message
// reads like one of cobra's usage errors ("invalid argument" is EINVAL's
// text), and a message of several lines is printed as one.
func TestRunExitStatus(t *testing.T) {
	for _, msg := range []string{"write x: invalid argument", "unknown command in a data file", "first\nsecond\n"} {
		ctx := context.WithValue(context.Background(), stepHookKey{}, func(s train.StepInfo) error {
			if s.Step == 3 {
				return errors.New(msg)
			}
			return nil
		})
		code, _, errs := runCLI(ctx, "train", "--source", "gaussian:dim=2", "--target", "moons", "--hidden", "8",
			"--steps", "5", "--batch", "8", "--out", filepath.Join(t.TempDir(), "r"))
		last := errs[strings.LastIndex(strings.TrimSuffix(errs, "\n"), "\n")+1:]
		if code != 1 || !strings.HasPrefix(last, "flowlab: ") || strings.Count(last, "\n") != 1 ||
			!strings.Contains(last, strings.TrimSpace(strings.ReplaceAll(msg, "\n", "; "))[:5]) {
			t.Errorf("step error %q: exit %d, stderr %q; want exit 1 and one last line", msg, code, errs)
		}
	}
}

// TestInterruptedExitStatus: a command whose context is cancelled (what
// SIGINT does in main) exits with status 130 and one line; train leaves a
// checkpoint to resume.
func TestInterruptedExitStatus(t *testing.T) {
	done := finishedRun(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	dir := filepath.Join(t.TempDir(), "r")
	for _, args := range [][]string{
		{"train", "--source", "gaussian:dim=2", "--target", "moons", "--hidden", "8", "--steps", "50", "--out", dir},
		{"sample", "--run", done, "--n", "100", "--out", filepath.Join(t.TempDir(), "x.npy")},
		{"eval", "--run", done, "--n", "100"},
		{"reproduce", "rank", "--scale", "smoke", "-q", "--out", t.TempDir()},
	} {
		code, _, errs := runCLI(ctx, args...)
		last := errs[strings.LastIndex(strings.TrimSuffix(errs, "\n"), "\n")+1:]
		if code != 130 || !oneErrorLine(last, "interrupted") {
			t.Errorf("%s with a cancelled context: exit %d, stderr %q; want 130 and a last line saying interrupted", args[0], code, errs)
		}
	}
	if _, err := train.LoadCheckpoint(filepath.Join(dir, train.CheckpointFile)); err != nil {
		t.Errorf("interrupted train left no checkpoint: %v", err)
	}
}

// TestMemBytes: the memory arithmetic saturates instead of wrapping (the
// wrap-around let eval --n 2³² and sample --n 2⁶² through).
func TestMemBytes(t *testing.T) {
	const max = math.MaxUint64
	for _, c := range []struct {
		got, want uint64
	}{
		{memBytes(), 1},
		{memBytes(3, 4, 5), 60},
		{memBytes(8, 1<<32, 1<<32), max},
		{memBytes(1<<32, 1<<32), max},
		{memBytes(1<<32, 1<<31), 1 << 63},
		{memBytes(0, max, max), 0},
		{sat(1, 2), 3},
		{sat(max, 1), max},
		{sat(1<<63, 1<<63), max},
	} {
		if c.got != c.want {
			t.Errorf("got %d, want %d", c.got, c.want)
		}
	}
}

// allocated returns the bytes allocated on the heap so far.
func allocated() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.TotalAlloc
}

// TestResourceBounds: requests that would need more memory than the machine
// has are refused up front with a message, having allocated next to
// nothing (less than 64 MiB), instead of by the out-of-memory killer.
func TestResourceBounds(t *testing.T) {
	const budget = 64 << 20
	avail := availableMemory()
	if avail == 0 {
		t.Skip("no MemAvailable in /proc/meminfo")
	}
	tmp := t.TempDir()
	done := finishedRun(t)

	// Exact W2 on 10⁶ points: a 7.3 TiB cost matrix.
	x, y := mat.New(1_000_000, 2), mat.New(1_000_000, 2)
	a0 := allocated()
	if _, err := metrics.W2(context.Background(), x, y); err == nil || !strings.Contains(err.Error(), "cost matrix") {
		t.Errorf("W2 of 10⁶ points: %v; want a cost-matrix refusal", err)
	}
	if d := allocated() - a0; d > budget {
		t.Errorf("W2 of 10⁶ points allocated %d MiB before refusing", d>>20)
	}

	// Data files larger than memory: sparse files of twice the available
	// memory (no disk blocks are written).
	size := int64(2 * avail)
	big := map[string]string{}
	for _, ext := range []string{"npy", "csv"} {
		p := filepath.Join(tmp, "big."+ext)
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
		if err := os.Truncate(p, size); err != nil {
			t.Skipf("sparse file: %v", err)
		}
		big[ext] = p
	}
	a0 = allocated()
	if _, err := dist.ReadNPYFile(big["npy"]); err == nil || !strings.Contains(err.Error(), "memory") || !strings.Contains(err.Error(), big["npy"]) {
		t.Errorf("ReadNPYFile of %d GiB: %v; want a memory refusal naming the file", size>>30, err)
	}
	if _, _, err := dist.ReadCSVFile(big["csv"]); err == nil || !strings.Contains(err.Error(), "memory") {
		t.Errorf("ReadCSVFile of %d GiB: %v; want a memory refusal", size>>30, err)
	}
	if d := allocated() - a0; d > budget {
		t.Errorf("reading %d GiB files allocated %d MiB before refusing", size>>30, d>>20)
	}

	for _, c := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"eval exact W2 on 10⁶ points", []string{"eval", "--run", done, "--n", "1000000"}, 2, "cost matrix"},
		{"eval n whose square overflows", []string{"eval", "--run", done, "--n", "4294967296"}, 2, "cost matrix"},
		{"sample 10¹² points", []string{"sample", "--run", done, "--n", "1000000000000", "--out", filepath.Join(tmp, "s.npy")}, 2, "memory"},
		{"sample n·dim overflows", []string{"sample", "--run", done, "--n", "4611686018427387904", "--out", filepath.Join(tmp, "s.npy")}, 2, "memory"},
		{"spectrum 10¹² draws", []string{"spectrum", "--data", "gaussian:dim=2", "--n", "1000000000000"}, 2, "memory"},
		{"spectrum huge dimension", []string{"spectrum", "--data", "gaussian:dim=100000000", "--n", "10"}, 2, "memory"},
		{"train batch 10¹²", []string{"train", "--source", "gaussian:dim=2", "--target", "moons", "--batch", "1000000000000", "--out", filepath.Join(tmp, "b")}, 2, "memory"},
		{"train ot batch 10⁶", []string{"train", "--source", "gaussian:dim=2", "--target", "moons", "--coupling", "ot", "--batch", "1000000", "--out", filepath.Join(tmp, "b")}, 2, "memory"},
		// Two 46000-wide layers: 2.1e9 weights (within nn's 2³¹ limit),
		// 34 GB with gradients and Adam's moments; run only where that is
		// more than the available memory.
		wideCase(avail, tmp),
		{"train target file larger than memory", []string{"train", "--source", "gaussian:dim=2", "--target", "file:" + big["npy"], "--out", filepath.Join(tmp, "b")}, 2, "memory"},
		{"sample from a file larger than memory", []string{"sample", "--run", done, "--from", big["csv"], "--out", filepath.Join(tmp, "s.npy")}, 2, "memory"},
		{"spectrum of a file larger than memory", []string{"spectrum", "--data", "file:" + big["npy"]}, 1, "memory"},
	} {
		if c.name == "" {
			continue
		}
		a0 := allocated()
		code, _, errs := runCLI(context.Background(), c.args...)
		if code != c.code || !oneErrorLine(errs, c.want) {
			t.Errorf("%s: exit %d, stderr %q; want exit %d and one line mentioning %q", c.name, code, errs, c.code, c.want)
		}
		if d := allocated() - a0; d > budget {
			t.Errorf("%s: allocated %d MiB before refusing", c.name, d>>20)
		}
	}
	for _, p := range []string{filepath.Join(tmp, "s.npy"), filepath.Join(tmp, "b", train.ModelFile)} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("a refused command wrote %s", p)
		}
	}
}

// wideCase is the case of a network too wide for memory, or an empty case
// (skipped) on a machine with more than 34 GB available.
func wideCase(avail uint64, tmp string) (c struct {
	name string
	args []string
	code int
	want string
}) {
	const h = 46000
	if 16*h*h <= avail { // a margin of 2 over the refusal threshold, avail/2
		return c
	}
	c.name, c.code, c.want = "train hidden too wide", 2, "memory"
	c.args = []string{"train", "--source", "gaussian:dim=2", "--target", "moons", "--hidden", strconv.Itoa(h) + "," + strconv.Itoa(h), "--out", filepath.Join(tmp, "b")}
	return c
}

// leftovers returns every file or folder under root other than keep.
func leftovers(t *testing.T, root string, keep ...string) []string {
	t.Helper()
	var found []string
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == root {
			return nil
		}
		for _, k := range keep {
			if p == k {
				return nil
			}
		}
		found = append(found, p)
		return nil
	})
	return found
}

// TestDiskFaults: an output path under a regular file (ENOTDIR; the tests
// run as root, so permissions would not stop a write) or a folder that is
// removed or replaced while the command runs gives exit status 1 and one
// clear line, and leaves no partial or temporary file behind.
func TestDiskFaults(t *testing.T) {
	done := finishedRun(t)
	base := []string{"train", "--source", "gaussian:dim=2", "--target", "moons", "--hidden", "8", "--steps", "60", "--batch", "8", "--checkpoint-every", "25"}

	// check runs args with ctx and checks the exit status, the one line
	// naming want, and that root holds nothing but keep.
	check := func(name string, ctx context.Context, args []string, want, root string, keep ...string) {
		t.Helper()
		code, _, errs := runCLI(ctx, args...)
		last := errs[strings.LastIndex(strings.TrimSuffix(errs, "\n"), "\n")+1:]
		if code != 1 || !oneErrorLine(last, want) {
			t.Errorf("%s: exit %d, stderr %q; want exit 1 and a last line mentioning %q", name, code, errs, want)
		}
		if left := leftovers(t, root, keep...); len(left) > 0 {
			t.Errorf("%s: left %q", name, left)
		}
	}
	// blocker returns a folder holding one regular file, and the file.
	blocker := func() (string, string) {
		root := t.TempDir()
		f := filepath.Join(root, "file")
		if err := os.WriteFile(f, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		return root, f
	}
	bg := context.Background()

	root, f := blocker()
	check("train --out under a file", bg, append(base, "--out", filepath.Join(f, "run")), "not a directory", root, f)

	// The run folder vanishes at step 30, between the checkpoints of steps
	// 25 and 50; or is replaced by a regular file.
	for _, replace := range []bool{false, true} {
		root := t.TempDir()
		dir := filepath.Join(root, "run")
		ctx := context.WithValue(bg, stepHookKey{}, func(s train.StepInfo) error {
			if s.Step == 30 {
				if err := os.RemoveAll(dir); err != nil {
					return err
				}
				if replace {
					return os.WriteFile(dir, []byte("x"), 0o644)
				}
			}
			return nil
		})
		if replace {
			check("train folder replaced by a file", ctx, append(base, "--out", dir), "not a directory", root, dir)
		} else {
			check("train folder removed", ctx, append(base, "--out", dir), "no such file", root)
		}
	}

	root, f = blocker()
	check("sample --out under a file", bg, []string{"sample", "--run", done, "--n", "10", "--out", filepath.Join(f, "x.npy")}, "not a directory", root, f)
	root = t.TempDir()
	gone := filepath.Join(root, "gone")
	check("sample --out in a removed folder", bg, []string{"sample", "--run", done, "--n", "10", "--out", filepath.Join(gone, "x.npy")}, "no such file", root)

	root, f = blocker()
	check("spectrum --out under a file", bg, []string{"spectrum", "--data", "line", "--n", "100", "--out", filepath.Join(f, "s.png")}, "not a directory", root, f)
	root = t.TempDir()
	check("spectrum --out in a removed folder", bg, []string{"spectrum", "--data", "line", "--n", "100", "--out", filepath.Join(root, "gone", "s.png")}, "no such file", root)

	root, f = blocker()
	check("reproduce --out under a file", bg, []string{"reproduce", "rank", "--scale", "smoke", "-q", "--out", filepath.Join(f, "runs")}, "not a directory", root, f)
	runs := t.TempDir()
	if code, _, errs := runCLI(bg, "reproduce", "rank", "--scale", "smoke", "-q", "--out", runs); code != 0 {
		t.Fatalf("reproduce: exit %d: %s", code, errs)
	}
	root, f = blocker()
	check("report --out under a file", bg, []string{"report", "--runs", runs, "--out", filepath.Join(f, "r.html")}, "not a directory", root, f)
	root = t.TempDir()
	check("report --out in a removed folder", bg, []string{"report", "--runs", runs, "--out", filepath.Join(root, "gone", "r.html")}, "no such file", root)
}

// vanishingWriter removes dir on its first write: the progress line an
// experiment prints when it starts.
type vanishingWriter struct {
	dir  string
	done bool
	buf  bytes.Buffer
}

func (w *vanishingWriter) Write(p []byte) (int, error) {
	if !w.done {
		w.done = true
		os.RemoveAll(w.dir)
	}
	return w.buf.Write(p)
}

// TestReproduceFolderVanishes: reproduce's output folder removed as the
// experiment starts: exit status 1, the error as the last line, nothing left.
func TestReproduceFolderVanishes(t *testing.T) {
	root := t.TempDir()
	out := filepath.Join(root, "runs")
	w := &vanishingWriter{dir: out}
	var stdout bytes.Buffer
	code := run(context.Background(), []string{"reproduce", "rank", "--scale", "smoke", "--out", out}, &stdout, w)
	errs := w.buf.String()
	last := errs[strings.LastIndex(strings.TrimSuffix(errs, "\n"), "\n")+1:]
	if code != 1 || !oneErrorLine(last, "no such file") {
		t.Errorf("exit %d, stderr %q; want exit 1 and a last line naming the missing folder", code, errs)
	}
	if left := leftovers(t, root); len(left) > 0 {
		t.Errorf("left %q", left)
	}
}

// TestReproduceDeterministic: each experiment at smoke scale, run twice with
// the same seed, under GOMAXPROCS=1 and then 2, writes byte-identical
// metrics.json; and (rank) another seed gives another metrics.json. -short:
// the two cheapest experiments (rank, variance).
func TestReproduceDeterministic(t *testing.T) {
	names := experiment.Names()
	if testing.Short() {
		names = []string{"rank", "variance"}
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			var got [2][]byte
			for i, procs := range []int{1, 2} {
				out := t.TempDir()
				prev := runtime.GOMAXPROCS(procs)
				code, _, errs := runCLI(context.Background(), "reproduce", name, "--scale", "smoke", "--seed", "11", "-q", "--out", out)
				runtime.GOMAXPROCS(prev)
				if code != 0 {
					t.Fatalf("GOMAXPROCS=%d: exit %d: %s", procs, code, errs)
				}
				b, err := os.ReadFile(filepath.Join(out, name, "metrics.json"))
				if err != nil {
					t.Fatal(err)
				}
				got[i] = b
			}
			if !bytes.Equal(got[0], got[1]) {
				t.Errorf("metrics.json differs between GOMAXPROCS=1 and 2 with the same seed (%d and %d bytes)", len(got[0]), len(got[1]))
			}
			if name != "rank" {
				return
			}
			// The comparison means something only if the seed matters.
			out := t.TempDir()
			if code, _, errs := runCLI(context.Background(), "reproduce", name, "--scale", "smoke", "--seed", "12", "-q", "--out", out); code != 0 {
				t.Fatalf("seed 12: exit %d: %s", code, errs)
			}
			if b, err := os.ReadFile(filepath.Join(out, name, "metrics.json")); err != nil || bytes.Equal(b, got[0]) {
				t.Errorf("metrics.json of seeds 11 and 12 are the same (%v)", err)
			}
		})
	}
}

// TestTrainInf: an Inf planted in the weights (TestTrainNaN plants a NaN)
// stops the run at that step: exit status 1, one last line naming the step,
// the last good checkpoint (step 25) intact and no model written.
func TestTrainInf(t *testing.T) {
	for _, v := range []float32{float32(math.Inf(1)), float32(math.Inf(-1))} {
		dir := filepath.Join(t.TempDir(), "inf")
		ckpt := filepath.Join(dir, train.CheckpointFile)
		var before []byte
		ctx := context.WithValue(context.Background(), stepHookKey{}, func(s train.StepInfo) error {
			switch s.Step {
			case 26:
				before, _ = os.ReadFile(ckpt)
			case 37:
				s.Net.Params()[5] = v
			}
			return nil
		})
		code, _, errs := runCLI(ctx, append(signalArgs, "--out", dir)...)
		last := errs[strings.LastIndex(strings.TrimSuffix(errs, "\n"), "\n")+1:]
		if code != 1 || !oneErrorLine(last, "step 37") {
			t.Errorf("weight %v at step 37: exit %d, stderr %q; want 1 and a last line naming step 37", v, code, errs)
		}
		after, err := os.ReadFile(ckpt)
		if err != nil || len(before) == 0 || !bytes.Equal(before, after) {
			t.Errorf("weight %v: the last good checkpoint changed", v)
		}
		if _, err := os.Stat(filepath.Join(dir, train.ModelFile)); err == nil {
			t.Errorf("weight %v: a failed run wrote a model", v)
		}
		t.Logf("%v: %s", v, strings.TrimSpace(last))
	}
}

// TestKernelEnvWarning: a FLOWLAB_KERNEL value that is not a kernel is not
// ignored silently: one warning line, then the command runs as usual.
func TestKernelEnvWarning(t *testing.T) {
	t.Setenv("FLOWLAB_KERNEL", "bogus")
	cmd, stderr := child(t, 0, "spectrum", "--data", "line", "--n", "10")
	if err := cmd.Wait(); err != nil {
		t.Fatalf("spectrum with FLOWLAB_KERNEL=bogus: %v: %s", err, stderr)
	}
	if !oneErrorLine(stderr.String(), `warning: FLOWLAB_KERNEL: unknown kernel "bogus"`) {
		t.Errorf("stderr %q: want one warning line naming the bad value", stderr)
	}
}
