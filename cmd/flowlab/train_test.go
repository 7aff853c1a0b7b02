package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/flowlab/flowlab/dist"
	"github.com/flowlab/flowlab/mat"
	"github.com/flowlab/flowlab/metrics"
	"github.com/flowlab/flowlab/train"
)

// runCLI runs the command line in-process and returns its exit status,
// stdout and stderr.
func runCLI(ctx context.Context, args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(ctx, args, &out, &errb)
	return code, out.String(), errb.String()
}

// lastLine returns the last line of s (progress lines come before an error).
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// readRun returns every file of a run folder.
func readRun(t *testing.T, dir string) map[string][]byte {
	t.Helper()
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

func sameRun(t *testing.T, got, want map[string][]byte) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("run folder holds %d files, the reference %d", len(got), len(want))
	}
	for name, b := range want {
		if !bytes.Equal(got[name], b) {
			t.Errorf("%s differs from the uninterrupted run's", name)
		}
	}
}

// The signal tests' run: small enough to take about a second in the child
// with its per-step sleep, checkpointing often.
var signalArgs = []string{"train", "--source", "gaussian:dim=2,var=0.5", "--target", "8gaussians",
	"--hidden", "32,32", "--steps", "400", "--batch", "64", "--lr", "3e-3", "--ema", "0.99", "--gamma", "0.2",
	"--checkpoint-every", "25", "--seed", "3"}

// TestTrainHelperProcess is not a test: it is the child process of the
// signal tests, running the CLI as main does (SIGINT cancels the context),
// with a sleep per training step so that signals land mid-run.
func TestTrainHelperProcess(t *testing.T) {
	if os.Getenv("FLOWLAB_TRAIN_HELPER") != "1" {
		t.Skip("child process of the signal tests")
	}
	args := os.Args
	for i, a := range args {
		if a == "--" {
			args = args[i+1:]
			break
		}
	}
	sleep, _ := time.ParseDuration(os.Getenv("FLOWLAB_STEP_SLEEP"))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	ctx = context.WithValue(ctx, stepHookKey{}, func(train.StepInfo) error {
		time.Sleep(sleep)
		return nil
	})
	code := run(ctx, args, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// child starts the CLI with args in a child process.
func child(t *testing.T, sleep time.Duration, args ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"-test.run=^TestTrainHelperProcess$", "--"}, args...)...)
	cmd.Env = append(os.Environ(), "FLOWLAB_TRAIN_HELPER=1", "FLOWLAB_STEP_SLEEP="+sleep.String())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, &stderr
}

// waitCheckpoint polls dir until it holds a checkpoint of at least step.
func waitCheckpoint(t *testing.T, dir string, step int, cmd *exec.Cmd) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := train.LoadCheckpoint(filepath.Join(dir, train.CheckpointFile)); err == nil && c.Step >= step {
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
	cmd.Process.Kill()
	t.Fatalf("no checkpoint of step ≥ %d within a minute", step)
}

// A run SIGKILLed at several random points and resumed each time ends with a
// folder byte-identical to an uninterrupted run's: weights, checkpoint,
// loss.csv, metrics.json.
func TestTrainSIGKILLResume(t *testing.T) {
	ref := filepath.Join(t.TempDir(), "ref")
	if code, _, errs := runCLI(context.Background(), append(signalArgs, "--out", ref)...); code != 0 {
		t.Fatalf("reference run: exit %d: %s", code, errs)
	}
	want := readRun(t, ref)

	dir := filepath.Join(t.TempDir(), "killed")
	rng := rand.New(rand.NewPCG(7, 7))
	args := append(signalArgs, "--out", dir)
	kills := 0
	for _, after := range []int{25, 150, 275} {
		cmd, _ := child(t, 2*time.Millisecond, args...)
		waitCheckpoint(t, dir, after, cmd)
		// A random moment after the checkpoint: mid-step, mid-write, ...
		time.Sleep(time.Duration(rng.IntN(20000)) * time.Microsecond)
		cmd.Process.Signal(syscall.SIGKILL)
		err := cmd.Wait()
		var ee *exec.ExitError
		if errors.As(err, &ee) && ee.Sys().(syscall.WaitStatus).Signaled() {
			kills++
		}
		c, err := train.LoadCheckpoint(filepath.Join(dir, train.CheckpointFile))
		if err != nil {
			t.Fatalf("after SIGKILL: %v", err)
		}
		t.Logf("killed after checkpoint %d (step ≥ %d)", c.Step, after)
		args = []string{"train", "--out", dir, "--resume"}
	}
	if kills == 0 {
		t.Fatal("no child was killed mid-run: the run finished too fast to test anything")
	}
	if code, _, errs := runCLI(context.Background(), args...); code != 0 {
		t.Fatalf("final resume: exit %d: %s", code, errs)
	}
	sameRun(t, readRun(t, dir), want)
}

// SIGINT writes a checkpoint and exits with status 130 and one line on
// stderr; --resume then finishes the run bit-identically.
func TestTrainSIGINT(t *testing.T) {
	ref := filepath.Join(t.TempDir(), "ref")
	if code, _, errs := runCLI(context.Background(), append(signalArgs, "--out", ref)...); code != 0 {
		t.Fatalf("reference run: exit %d: %s", code, errs)
	}
	dir := filepath.Join(t.TempDir(), "int")
	cmd, stderr := child(t, 2*time.Millisecond, append(signalArgs, "--out", dir)...)
	waitCheckpoint(t, dir, 50, cmd)
	cmd.Process.Signal(os.Interrupt)
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 {
		t.Fatalf("SIGINT: %v, stderr %s", err, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
	last := lines[len(lines)-1]
	if !strings.Contains(last, "interrupted") || !strings.Contains(last, "--resume") {
		t.Fatalf("SIGINT message: %q", last)
	}
	c, err := train.LoadCheckpoint(filepath.Join(dir, train.CheckpointFile))
	if err != nil || c.Step < 50 || c.Step >= 400 {
		t.Fatalf("checkpoint after SIGINT: %v %v", c, err)
	}
	if _, err := os.Stat(filepath.Join(dir, train.ModelFile)); err == nil {
		t.Fatal("an interrupted run wrote a model")
	}
	t.Logf("interrupted at step %d", c.Step)
	if code, _, errs := runCLI(context.Background(), "train", "--out", dir, "--resume"); code != 0 {
		t.Fatalf("resume: exit %d: %s", code, errs)
	}
	sameRun(t, readRun(t, dir), readRun(t, ref))
}

// A NaN planted in the weights at step 37 stops the run: exit status 1, one
// line naming the step, and the checkpoint of step 25 left as it was.
func TestTrainNaN(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nan")
	var before []byte
	ckpt := filepath.Join(dir, train.CheckpointFile)
	ctx := context.WithValue(context.Background(), stepHookKey{}, func(s train.StepInfo) error {
		switch s.Step {
		case 26:
			before, _ = os.ReadFile(ckpt)
		case 37:
			s.Net.Params()[5] = float32(math.NaN())
		}
		return nil
	})
	code, _, errs := runCLI(ctx, append(signalArgs, "--out", dir)...)
	if code != 1 {
		t.Fatalf("NaN run: exit %d: %s", code, errs)
	}
	if last := lastLine(errs); !strings.HasPrefix(last, "flowlab: ") || !strings.Contains(last, "step 37") || !strings.Contains(last, "NaN") {
		t.Fatalf("stderr %q: want a last line naming step 37", errs)
	}
	after, err := os.ReadFile(ckpt)
	if err != nil || !bytes.Equal(before, after) || len(before) == 0 {
		t.Fatal("the last good checkpoint changed")
	}
	if c, err := train.LoadCheckpoint(ckpt); err != nil || c.Step != 25 {
		t.Fatalf("last good checkpoint: %v, %v", c, err)
	}
}

// Bad command lines: exit status 2 and one line on stderr.
func TestTrainSampleEvalBadUsage(t *testing.T) {
	tmp := t.TempDir()
	done := filepath.Join(tmp, "done")
	if code, _, errs := runCLI(context.Background(), "train", "--source", "gaussian:dim=2", "--target", "moons",
		"--hidden", "8", "--steps", "5", "--batch", "8", "--out", done); code != 0 {
		t.Fatalf("setup run: %d %s", code, errs)
	}
	unfinished := filepath.Join(tmp, "unfinished")
	os.MkdirAll(unfinished, 0o755)
	os.WriteFile(filepath.Join(unfinished, train.ConfigFile), train.Config{Source: "moons", Target: "moons", Steps: 3}.Defaults().MarshalIndent(), 0o644)
	foreign := filepath.Join(tmp, "foreign")
	os.MkdirAll(foreign, 0o755)
	os.WriteFile(filepath.Join(foreign, train.ConfigFile), []byte(`{"version": 99, "steps": 5}`), 0o644)
	base := []string{"train", "--source", "gaussian:dim=2", "--target", "moons", "--steps", "5"}
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"unknown flag", append(base, "--bogus"), "unknown flag"},
		{"bad spec", []string{"train", "--source", "nosuch", "--target", "moons"}, "source"},
		{"bad spec param", []string{"train", "--source", "gaussian:dim=-2", "--target", "moons"}, "source"},
		{"missing target", []string{"train", "--source", "moons"}, "--target"},
		{"negative steps", append(base, "--steps", "-5"), "--steps"},
		{"zero batch", append(base, "--batch", "0"), "--batch"},
		{"bad hidden", append(base, "--hidden", "64,x"), "--hidden"},
		{"unknown interp", append(base, "--interp", "cubic"), "interp"},
		{"unknown coupling", append(base, "--coupling", "magic"), "coupling"},
		{"one-sided with gamma", append(base, "--interp", "onesided", "--gamma", "0.5"), "gamma"},
		{"unknown drift", append(base, "--gamma", "1", "--drift", "half"), "--drift"},
		{"split drift without gamma", append(base, "--drift", "split"), "--drift"},
		{"dims differ", []string{"train", "--source", "gaussian:dim=3", "--target", "moons", "--out", filepath.Join(tmp, "d")}, "dimension 3, target 2"},
		{"run exists", append(base, "--out", done), "resume"},
		{"resume other config", []string{"train", "--out", done, "--resume", "--lr", "0.5"}, "lr"},
		{"resume foreign version", []string{"train", "--out", foreign, "--resume"}, "version 99"},
		{"sample foreign version", []string{"sample", "--run", foreign, "--out", filepath.Join(tmp, "x.npy")}, "version 99"},
		{"resume nothing", []string{"train", "--out", filepath.Join(tmp, "empty"), "--resume"}, "--resume"},
		{"sample no out", []string{"sample", "--run", done}, "--out"},
		{"sample no run", []string{"sample", "--run", filepath.Join(tmp, "none"), "--out", filepath.Join(tmp, "x.npy")}, "--run"},
		{"sample unfinished", []string{"sample", "--run", unfinished, "--out", filepath.Join(tmp, "x.npy")}, "not finished"},
		{"sample sde without eta", []string{"sample", "--run", done, "--sde", "--out", filepath.Join(tmp, "x.npy")}, "denoiser"},
		{"sample bad solver", []string{"sample", "--run", done, "--solver", "leapfrog", "--out", filepath.Join(tmp, "x.npy")}, "leapfrog"},
		{"sample bad direction", []string{"sample", "--run", done, "--direction", "up", "--out", filepath.Join(tmp, "x.npy")}, "--direction"},
		{"sample negative n", []string{"sample", "--run", done, "--n", "-1", "--out", filepath.Join(tmp, "x.npy")}, "--n"},
		{"sample from other dim", []string{"sample", "--run", done, "--from", "gaussian:dim=5", "--out", filepath.Join(tmp, "x.npy")}, "dimension 5"},
		{"eval n too large", []string{"eval", "--run", done, "--n", "20000"}, "cost matrix"},
		{"sample n too large", []string{"sample", "--run", done, "--n", "1000000000000", "--out", filepath.Join(tmp, "x.npy")}, "memory"},
		{"eval no run", []string{"eval", "--run", filepath.Join(tmp, "none")}, "--run"},
		{"eval n", []string{"eval", "--run", done, "--n", "1"}, "--n"},
	}
	for _, tc := range cases {
		code, _, errs := runCLI(context.Background(), tc.args...)
		if code != 2 {
			t.Errorf("%s: exit %d, want 2 (stderr %q)", tc.name, code, errs)
			continue
		}
		if strings.Count(strings.TrimSpace(errs), "\n") != 0 || !strings.Contains(errs, tc.want) {
			t.Errorf("%s: stderr %q: want one line mentioning %q", tc.name, errs, tc.want)
		}
	}
	if _, err := os.Stat(filepath.Join(tmp, "x.npy")); err == nil {
		t.Error("a failed sample wrote its output")
	}
}

// The issue-3 must-show through the CLI: train N(0,½I_8) → N(0,I_8), then
// `flowlab sample` gives a covariance near I and `flowlab eval` reports the
// loss within 3 % of the floor and the field within relative L2 error 0.1 of
// v* (-short: 2000 steps, looser covariance bounds, no field-error bound).
//
// Covariance tolerance: with n = 20000 draws the standard error of a sample
// variance of 1 is √(2/n) = 0.010 and of a covariance 0 is 1/√n = 0.0071;
// the learned map adds a bias (measured: 0.039 and 0.016 at 3000 steps,
// 0.044 and 0.025 at 2000). Bounds: diagonal within 0.06, off-diagonal within
// 0.035 (5 standard errors); -short within 0.1 and 0.05.
func TestTrainSampleEvalGaussian(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "g8")
	steps, diagTol, offTol := "3000", 0.06, 0.035
	if testing.Short() {
		steps, diagTol, offTol = "2000", 0.1, 0.05
	}
	code, out, errs := runCLI(context.Background(), "train", "--source", "gaussian:dim=8,var=0.5", "--target", "gaussian:dim=8,var=1",
		"--hidden", "64,64,64", "--steps", steps, "--lr", "5e-3", "--schedule", "cosine", "--out", dir)
	if code != 0 {
		t.Fatalf("train: exit %d: %s", code, errs)
	}
	if !strings.Contains(out, "trained "+steps+" steps") || !strings.Contains(errs, "step "+steps+"/"+steps) {
		t.Errorf("train output %q, progress %q", out, errs)
	}
	npy := filepath.Join(t.TempDir(), "fwd.npy")
	if code, _, errs := runCLI(context.Background(), "sample", "--run", dir, "--n", "20000", "--out", npy); code != 0 {
		t.Fatalf("sample: exit %d: %s", code, errs)
	}
	x, err := dist.ReadNPYFile(npy)
	if err != nil {
		t.Fatal(err)
	}
	if x.R != 20000 || x.C != 8 {
		t.Fatalf("samples %s", x.Shape())
	}
	_, cov := metrics.Covariance(x)
	var maxDiag, maxOff float64
	for i := 0; i < 8; i++ {
		for j := 0; j < 8; j++ {
			if i == j {
				maxDiag = math.Max(maxDiag, math.Abs(cov.At(i, j)-1))
			} else {
				maxOff = math.Max(maxOff, math.Abs(cov.At(i, j)))
			}
		}
	}
	t.Logf("sample covariance: max |C_ii − 1| = %.4f, max |C_ij| = %.4f", maxDiag, maxOff)
	if maxDiag > diagTol || maxOff > offTol {
		t.Errorf("covariance of forward samples too far from I: %.4f (tol %.3f), %.4f (tol %.3f)", maxDiag, diagTol, maxOff, offTol)
	}

	code, out, errs = runCLI(context.Background(), "eval", "--run", dir, "--n", "500")
	if code != 0 {
		t.Fatalf("eval: exit %d: %s", code, errs)
	}
	var rep train.Evaluation
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("eval JSON: %v\n%s", err, out)
	}
	if rep.LossFloor == nil || rep.ExcessRel == nil || rep.FieldRelL2 == nil {
		t.Fatalf("eval of a Gaussian run lacks the floor: %s", out)
	}
	if want := math.Pi / 2 * math.Sqrt(0.5) * 8; math.Abs(*rep.LossFloor-want) > 1e-9 {
		t.Errorf("loss floor %v, want (π/2)√(ab)·k = %v", *rep.LossFloor, want)
	}
	t.Logf("eval: loss %.4f over %d draws, floor %.4f, excess %.2f %%, field relative L2 %.4f; forward W2 %.4f (baseline %.4f)",
		rep.EvalLoss, rep.LossN, *rep.LossFloor, 100**rep.ExcessRel, *rep.FieldRelL2, rep.Forward.W2, rep.BaselineForward.W2)
	// The loss over 50000 draws has standard error ≈ 0.02 (0.2 % of the floor).
	if *rep.ExcessRel > 0.03 {
		t.Errorf("eval loss %.2f %% above the floor, want < 3 %%", 100**rep.ExcessRel)
	}
	if !testing.Short() && *rep.FieldRelL2 >= 0.1 {
		t.Errorf("field relative L2 error %.4f, want < 0.1", *rep.FieldRelL2)
	}
	// A good flow's W2 to the target is at the level of two target samples'.
	if rep.Forward.W2 > 1.2*rep.BaselineForward.W2 || rep.Backward.W2 > 1.2*rep.BaselineBackward.W2 {
		t.Errorf("W2 forward %.4f (baseline %.4f), backward %.4f (baseline %.4f)",
			rep.Forward.W2, rep.BaselineForward.W2, rep.Backward.W2, rep.BaselineBackward.W2)
	}
}

// Sampling a file: every row is carried, in order; backward(forward(x)) = x
// within the ODE's error.
func TestSampleFromFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "r")
	if code, _, errs := runCLI(context.Background(), "train", "--source", "gaussian:dim=3", "--target", "gaussian:dim=3,var=2",
		"--hidden", "16", "--steps", "50", "--out", dir); code != 0 {
		t.Fatalf("train: %s", errs)
	}
	tmp := t.TempDir()
	in, fwd, back := filepath.Join(tmp, "in.npy"), filepath.Join(tmp, "fwd.npy"), filepath.Join(tmp, "back.npy")
	x := mat.New(37, 3)
	g, _ := dist.NewGaussian(3, 1, 0)
	g.Sample(rand.New(rand.NewPCG(1, 2)), x)
	if err := dist.WriteNPYFile(in, x); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := runCLI(context.Background(), "sample", "--run", dir, "--from", in, "--out", fwd); code != 0 {
		t.Fatal(errs)
	}
	if code, _, errs := runCLI(context.Background(), "sample", "--run", dir, "--from", fwd, "--direction", "backward", "--nfe", "400", "--out", back); code != 0 {
		t.Fatal(errs)
	}
	a, _ := dist.ReadNPYFile(in)
	b, _ := dist.ReadNPYFile(back)
	if a.R != 37 || b.R != 37 {
		t.Fatalf("rows %d, %d", a.R, b.R)
	}
	var worst float64
	for i, v := range a.Data {
		worst = math.Max(worst, math.Abs(float64(v-b.Data[i])))
	}
	// RK4 with 100 steps each way on a smooth 16-unit net: truncation
	// error far below float32 resolution of values of order 1; 1e-4 allows
	// for float32 rounding over 200 steps.
	if worst > 1e-4 {
		t.Fatalf("backward(forward(x)) differs from x by %g", worst)
	}
}

// `flowlab sample --sde` on a stochastic-interpolant run lands on the right
// law: N(0,½I_2) → N(0,I_2) with γ = ½sin²(πt), sampled forward with
// Euler–Maruyama and backward with stochastic Heun. With n = 20000 the
// standard error of a sample variance v is v·√(2/n) = 1 % of v, of a
// covariance 0 is v/√n = 0.007 for v = 1; the learned drift and denoiser
// add a bias (measured with n = 40000 and three seeds: variances up to 4 %
// high, forward covariance 0.011–0.021). Bounds: variances within 10 % of
// the target's, covariance within 0.05 (the bias plus 4 standard errors).
func TestSampleSDEGaussian(t *testing.T) {
	if testing.Short() {
		t.Skip("long: trains a drift and a denoiser")
	}
	dir := filepath.Join(t.TempDir(), "sde")
	code, _, errs := runCLI(context.Background(), "train", "--source", "gaussian:dim=2,var=0.5", "--target", "gaussian:dim=2,var=1",
		"--hidden", "64,64", "--steps", "3000", "--lr", "5e-3", "--schedule", "cosine", "--gamma", "sinesquared:a=0.5", "--out", dir)
	if code != 0 {
		t.Fatalf("train: %s", errs)
	}
	for _, c := range []struct {
		direction, solver string
		want              float64
	}{{"forward", "euler", 1}, {"backward", "heun", 0.5}} {
		npy := filepath.Join(t.TempDir(), "x.npy")
		code, _, errs := runCLI(context.Background(), "sample", "--run", dir, "--sde", "--eps", "1", "--solver", c.solver,
			"--direction", c.direction, "--n", "20000", "--nfe", "200", "--out", npy)
		if code != 0 {
			t.Fatalf("sample: %s", errs)
		}
		x, err := dist.ReadNPYFile(npy)
		if err != nil {
			t.Fatal(err)
		}
		_, cov := metrics.Covariance(x)
		t.Logf("%s SDE (%s): variances %.4f %.4f, covariance %.4f; want %v", c.direction, c.solver, cov.At(0, 0), cov.At(1, 1), cov.At(0, 1), c.want)
		for i := 0; i < 2; i++ {
			if !(math.Abs(cov.At(i, i)/c.want-1) <= 0.1) {
				t.Errorf("%s: variance %d is %.4f, want %v within 10 %%", c.direction, i, cov.At(i, i), c.want)
			}
		}
		if !(math.Abs(cov.At(0, 1)) <= 0.05) {
			t.Errorf("%s: covariance %.4f, want 0 within 0.05", c.direction, cov.At(0, 1))
		}
	}
}

// FuzzParseInts: the --hidden parser never panics, and what it accepts
// prints back to a list it reads the same way.
func FuzzParseInts(f *testing.F) {
	for _, s := range []string{"256,256,256", "64", " 8 , 16", "", ",", "1,,2", "x", "-3", "99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := parseInts("hidden", s)
		if err != nil {
			if !strings.Contains(err.Error(), "--hidden") {
				t.Fatalf("error %q does not name the flag", err)
			}
			return
		}
		parts := make([]string, len(v))
		for i, x := range v {
			parts[i] = strconv.Itoa(x)
		}
		w, err := parseInts("hidden", strings.Join(parts, ","))
		if err != nil || !slices.Equal(v, w) {
			t.Fatalf("%q → %v → %v, %v", s, v, w, err)
		}
	})
}

// The flag defaults that `flowlab train --help` documents reach config.json:
// a film net with a learned embedding of width nn.DefaultTimeEmbed(hidden)
// (8 for hidden 8, 32 for 512, 64 for 2048), a cosine schedule, EMA 0.999
// and 500 warm-up steps, cut to a tenth of a shorter run; --arch mlp drops
// the embedding, and an explicit --warmup or --time-embed is kept as given.
func TestTrainDefaults(t *testing.T) {
	for _, tc := range []struct {
		name  string
		args  []string
		check func(c train.Config) bool
	}{
		{"defaults", nil, func(c train.Config) bool {
			return c.Arch == "film" && c.TimeEmbed == 8 && c.Schedule == "cosine" && c.EMA == 0.999 && c.Warmup == 3 && c.Steps == 30
		}},
		{"embedding by width", []string{"--hidden", "512,600"}, func(c train.Config) bool { return c.TimeEmbed == 32 }},
		{"embedding at most 64", []string{"--hidden", "2048"}, func(c train.Config) bool { return c.TimeEmbed == 64 }},
		{"embedding given", []string{"--time-embed", "5"}, func(c train.Config) bool { return c.TimeEmbed == 5 }},
		{"mlp", []string{"--arch", "mlp"}, func(c train.Config) bool { return c.Arch == "mlp" && c.TimeEmbed == 0 }},
		{"legacy film", []string{"--time-embed", "0"}, func(c train.Config) bool { return c.Arch == "film" && c.TimeEmbed == 0 }},
		{"warmup given", []string{"--warmup", "7"}, func(c train.Config) bool { return c.Warmup == 7 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "r")
			args := append([]string{"train", "--source", "gaussian:dim=2", "--target", "gaussian:dim=2", "--hidden", "8", "--steps", "30", "--out", dir}, tc.args...)
			if code, _, errs := runCLI(context.Background(), args...); code != 0 {
				t.Fatalf("train: %s", errs)
			}
			data, err := os.ReadFile(filepath.Join(dir, train.ConfigFile))
			if err != nil {
				t.Fatal(err)
			}
			c, err := train.ParseConfig(data)
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(c) {
				t.Errorf("config.json: %+v", c)
			}
		})
	}
}
