package train

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/flowlab/flowlab/internal/dirlock"
)

func runConfig() Config {
	c := smallConfig()
	c.Source, c.Target = "gaussian:dim=3,var=0.5", "gaussian:dim=3,var=2"
	c.Steps, c.CheckpointEvery = 50, 10
	c.EMA = 0.9
	return c
}

// runFiles returns the contents of every file in dir (names → bytes).
func runFiles(t *testing.T, dir string) map[string][]byte {
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string][]byte{}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		m[e.Name()] = b
	}
	return m
}

func TestRunFolder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	cfg := runConfig()
	res, err := Run(context.Background(), dir, cfg, RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	files := runFiles(t, dir)
	// The lock file stays: deleting it on unlock would let a process that
	// opened it just before lock a file no longer in the folder.
	for _, f := range []string{ConfigFile, ModelFile, CheckpointFile, LossFile, MetricsFile, dirlock.Name} {
		if _, ok := files[f]; !ok {
			t.Errorf("run folder lacks %s", f)
		}
	}
	if len(files) != 6 {
		t.Errorf("run folder holds %d files, want 6 (no η, no temporary files): %v", len(files), keys(files))
	}
	// loss.csv: a header and one row per step, matching the Result.
	rows, err := csv.NewReader(bytes.NewReader(files[LossFile])).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != cfg.Steps+1 || strings.Join(rows[0], ",") != "step,loss,lr" {
		t.Fatalf("loss.csv has %d rows, header %v", len(rows), rows[0])
	}
	for i, r := range rows[1:] {
		l, _ := strconv.ParseFloat(r[1], 64)
		if r[0] != strconv.Itoa(i+1) || l != res.Losses[i].Loss {
			t.Fatalf("loss.csv row %d = %v, want step %d loss %v", i+1, r, i+1, res.Losses[i].Loss)
		}
	}
	tr, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !sameBits(tr.Net.Params(), res.Net.Params()) || tr.Eta != nil {
		t.Fatal("Load did not return the trained (EMA) weights")
	}
	if tr.Metrics.Weights != "ema" || tr.Metrics.Steps != cfg.Steps || tr.Metrics.FinalWindow != cfg.Steps {
		t.Fatalf("metrics.json: %+v", tr.Metrics)
	}
	if want, _ := res.FinalLoss(100); tr.Metrics.FinalLoss != want {
		t.Fatalf("metrics final loss %v, want %v", tr.Metrics.FinalLoss, want)
	}
	// A second Run into the same folder without Resume is refused.
	if _, err := Run(context.Background(), dir, cfg, RunOptions{}); !errors.Is(err, ErrRunExists) {
		t.Fatalf("second Run: %v", err)
	}
}

func keys(m map[string][]byte) []string {
	var k []string
	for n := range m {
		k = append(k, n)
	}
	return k
}

// An interrupted run (context cancelled, as SIGINT does) checkpoints; resuming
// it ends with a folder byte-identical to an uninterrupted run's. With η.
func TestRunInterruptResume(t *testing.T) {
	cfg := runConfig()
	cfg.Gamma = "0.3"
	full := filepath.Join(t.TempDir(), "full")
	if _, err := Run(context.Background(), full, cfg, RunOptions{}); err != nil {
		t.Fatal(err)
	}
	want := runFiles(t, full)
	if _, ok := want[EtaFile]; !ok {
		t.Fatal("γ ≠ 0 run has no η model")
	}
	dir := filepath.Join(t.TempDir(), "cut")
	for _, stop := range []int{7, 23, 24} {
		ctx, cancel := context.WithCancel(context.Background())
		_, err := Run(ctx, dir, cfg, RunOptions{Resume: stop != 7, OnStep: func(s StepInfo) error {
			if s.Step == stop {
				cancel()
			}
			return nil
		}})
		cancel()
		if !errors.Is(err, ErrInterrupted) {
			t.Fatalf("interrupt at %d: %v", stop, err)
		}
		c, err := LoadCheckpoint(filepath.Join(dir, CheckpointFile))
		if err != nil || c.Step != stop {
			t.Fatalf("checkpoint after interrupt at %d: step %v, %v", stop, c, err)
		}
	}
	if _, err := Run(context.Background(), dir, cfg, RunOptions{Resume: true}); err != nil {
		t.Fatal(err)
	}
	got := runFiles(t, dir)
	if len(got) != len(want) {
		t.Fatalf("files %v, want %v", keys(got), keys(want))
	}
	for name, b := range want {
		if !bytes.Equal(got[name], b) {
			t.Errorf("%s differs from the uninterrupted run's", name)
		}
	}
	// Resuming a finished run changes nothing.
	if _, err := Run(context.Background(), dir, cfg, RunOptions{Resume: true}); err != nil {
		t.Fatal(err)
	}
	for name, b := range runFiles(t, dir) {
		if !bytes.Equal(want[name], b) {
			t.Errorf("resuming a finished run changed %s", name)
		}
	}
}

// A NaN stops the run, names the step, and leaves the last good checkpoint
// (and loss.csv) exactly as they were; no model is written.
func TestRunNaNKeepsCheckpoint(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nan")
	cfg := runConfig()
	var before map[string][]byte
	_, err := Run(context.Background(), dir, cfg, RunOptions{OnStep: func(s StepInfo) error {
		switch s.Step {
		case 31:
			before = runFiles(t, dir)
		case 37:
			s.Net.Params()[0] = float32(math.Inf(-1))
		}
		return nil
	}})
	if !errors.Is(err, ErrNonFinite) || !strings.Contains(err.Error(), "step 37") {
		t.Fatalf("NaN run: %v", err)
	}
	after := runFiles(t, dir)
	if _, ok := after[ModelFile]; ok {
		t.Error("a model was written for a failed run")
	}
	for name, b := range before {
		if !bytes.Equal(after[name], b) {
			t.Errorf("%s changed after the last good checkpoint", name)
		}
	}
	c, err := LoadCheckpoint(filepath.Join(dir, CheckpointFile))
	if err != nil || c.Step != 30 {
		t.Fatalf("last good checkpoint: %v, %v", c, err)
	}
}

// Resuming under another configuration names what differs.
func TestRunResumeOtherConfig(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	cfg := runConfig()
	cfg.Steps = 10
	if _, err := Run(context.Background(), dir, cfg, RunOptions{}); err != nil {
		t.Fatal(err)
	}
	cfg.Batch = 64
	_, err := Run(context.Background(), dir, cfg, RunOptions{Resume: true})
	if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "batch 32 vs 64") {
		t.Fatalf("resume with another batch: %v", err)
	}
	_, err = Run(context.Background(), filepath.Join(t.TempDir(), "none"), cfg, RunOptions{Resume: true})
	if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "nothing to resume") {
		t.Fatalf("resume of an empty folder: %v", err)
	}
	// A corrupt checkpoint is refused, naming the file.
	os.WriteFile(filepath.Join(dir, CheckpointFile), []byte("FLOWLABCKPT\nxx"), 0o644)
	cfg.Batch = 32
	_, err = Run(context.Background(), dir, cfg, RunOptions{Resume: true})
	if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), CheckpointFile) {
		t.Fatalf("corrupt checkpoint: %v", err)
	}
}

// Resuming after the data file of a file: SPEC has changed is refused,
// naming the field; with the file restored the run resumes and finishes.
// A SPEC that is not a file records no digest.
func TestRunResumeChangedData(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data.csv")
	write := func(first string) {
		var b strings.Builder
		b.WriteString(first + ",0.5,1\n")
		for i := 1; i < 64; i++ {
			fmt.Fprintf(&b, "%d,%g,%g\n", i%5, float64(i)/64, 1-float64(i)/32)
		}
		if err := os.WriteFile(data, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("0")
	cfg := runConfig()
	cfg.Target = "file:" + data
	dir := filepath.Join(t.TempDir(), "run")
	ctx, cancel := context.WithCancel(context.Background())
	_, err := Run(ctx, dir, cfg, RunOptions{OnStep: func(s StepInfo) error {
		if s.Step == 12 {
			cancel()
		}
		return nil
	}})
	cancel()
	if !errors.Is(err, ErrInterrupted) {
		t.Fatalf("interrupt: %v", err)
	}
	b, err := os.ReadFile(filepath.Join(dir, ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	saved, err := ParseConfig(b)
	if err != nil {
		t.Fatal(err)
	}
	if saved.SourceData != "" || !strings.HasPrefix(saved.TargetData, "sha256:") {
		t.Fatalf("recorded digests: source %q, target %q", saved.SourceData, saved.TargetData)
	}
	write("0.001") // one value changed
	_, err = Run(context.Background(), dir, cfg, RunOptions{Resume: true})
	if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "target data (file:"+data+") has changed") {
		t.Fatalf("resume on changed data: %v", err)
	}
	write("0")
	if _, err := Run(context.Background(), dir, cfg, RunOptions{Resume: true, OnStep: func(s StepInfo) error {
		if s.Step == 20 {
			return errStop
		}
		return nil
	}}); !errors.Is(err, errStop) {
		t.Fatalf("resume on the original data: %v", err)
	}
	// A config.json written before the digests existed (none recorded)
	// still resumes: the hash leaves them out, and there is nothing to
	// check the data against.
	old := saved
	old.TargetData = ""
	if err := os.WriteFile(filepath.Join(dir, ConfigFile), old.MarshalIndent(), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Run(context.Background(), dir, cfg, RunOptions{Resume: true}); err != nil {
		t.Fatalf("resume of a run recorded without digests: %v", err)
	}
}

var errStop = errors.New("stop")

func TestRunBadSpecs(t *testing.T) {
	cfg := runConfig()
	cfg.Target = "gaussian:dim=4"
	_, err := Run(context.Background(), t.TempDir(), cfg, RunOptions{})
	if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "dimension 3, target 4") {
		t.Fatalf("dims differ: %v", err)
	}
	cfg.Source = "nosuchdist"
	_, err = Run(context.Background(), t.TempDir(), cfg, RunOptions{})
	if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "source") {
		t.Fatalf("bad source: %v", err)
	}
}

// An output folder that cannot be written gives a clear error and leaves no
// temporary files.
func TestRunUnwritable(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root ignores directory permissions")
	}
	dir := filepath.Join(t.TempDir(), "ro")
	os.Mkdir(dir, 0o555)
	defer os.Chmod(dir, 0o755)
	_, err := Run(context.Background(), dir, runConfig(), RunOptions{})
	if err == nil || !strings.Contains(err.Error(), ConfigFile) {
		t.Fatalf("unwritable folder: %v", err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Fatalf("files left behind: %v", ents)
	}
}

// A folder that cannot be created, or that vanishes during the run, gives a
// clear error naming the file and the step, and leaves nothing behind.
func TestRunDiskFaults(t *testing.T) {
	base := t.TempDir()
	file := filepath.Join(base, "file")
	os.WriteFile(file, []byte("x"), 0o644)
	_, err := Run(context.Background(), filepath.Join(file, "run"), runConfig(), RunOptions{})
	if err == nil || !strings.Contains(err.Error(), "run folder") || !strings.Contains(err.Error(), "not a directory") {
		t.Fatalf("folder under a file: %v", err)
	}
	dir := filepath.Join(base, "vanish")
	_, err = Run(context.Background(), dir, runConfig(), RunOptions{OnStep: func(s StepInfo) error {
		if s.Step == 15 {
			os.RemoveAll(dir)
		}
		return nil
	}})
	if err == nil || !strings.Contains(err.Error(), "step 20: checkpoint") || !strings.Contains(err.Error(), LossFile) {
		t.Fatalf("vanished folder: %v", err)
	}
	if ents, _ := os.ReadDir(base); len(ents) != 1 {
		t.Fatalf("left behind: %v", ents)
	}
}

// TestRunRefusesLockedFolder: while another process holds a run folder's
// lock (here this one, through a second open file), Run and Run with Resume
// refuse with ErrRunLocked and change no file.
func TestRunRefusesLockedFolder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	cfg := runConfig()
	if _, err := Run(context.Background(), dir, cfg, RunOptions{}); err != nil {
		t.Fatal(err)
	}
	before := runFiles(t, dir)
	unlock, err := dirlock.Lock(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	for _, resume := range []bool{false, true} {
		t.Run(fmt.Sprintf("resume=%v", resume), func(t *testing.T) {
			_, err := Run(context.Background(), dir, cfg, RunOptions{Resume: resume})
			if !errors.Is(err, ErrRunLocked) || !errors.Is(err, dirlock.ErrLocked) {
				t.Fatalf("got %v, want ErrRunLocked wrapping dirlock.ErrLocked", err)
			}
			after := runFiles(t, dir)
			for name, b := range before {
				if name != dirlock.Name && !bytes.Equal(b, after[name]) {
					t.Errorf("%s changed", name)
				}
			}
		})
	}
}
