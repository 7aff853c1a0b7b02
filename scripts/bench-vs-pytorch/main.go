// Command bench-vs-pytorch runs flowlab's benchmark and the PyTorch reference
// (../shared/bench/torch_fm.py) alternately, several times, and prints the
// median ratios flowlab ÷ PyTorch per case: training steps/s and sampling
// field evaluations/s, plus peak resident memory of each process.
//
// It installs nothing. It needs python3 with torch (Debian: apt-get install
// python3-torch) and runs PyTorch as docs/PERFORMANCE.md says it runs best here:
// OPENBLAS_CORETYPE=SkylakeX OPENBLAS_NUM_THREADS=1, two threads.
//
//	go build -o /tmp/flowlab ./cmd/flowlab
//	go run ./scripts/bench-vs-pytorch -flowlab /tmp/flowlab -repeats 3
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"
)

type result struct {
	Impl         string  `json:"impl"`
	Case         string  `json:"case"`
	TrainStepsPS float64 `json:"train_steps_per_s"`
	TrainGFLOPS  float64 `json:"train_gflops"`
	ODEEvalsPS   float64 `json:"ode_evals_per_s"`
	maxRSSKiB    int64
}

func main() {
	flowlab := flag.String("flowlab", "flowlab", "path to the flowlab binary")
	python := flag.String("python", "/usr/bin/python3", "python with torch")
	script := flag.String("torch", "../shared/bench/torch_fm.py", "path to torch_fm.py")
	cases := flag.String("cases", "tiny,toy2d,toy2d-4k,gauss128,mnist", "comma-separated cases")
	repeats := flag.Int("repeats", 3, "alternating repeats per case")
	steps := flag.Int("steps", 300, "timed training steps per run")
	flag.Parse()

	if _, err := os.Stat(*script); err != nil {
		fatal("PyTorch reference not found: %v (pass -torch PATH)", err)
	}
	if err := exec.Command(*python, "-c", "import torch").Run(); err != nil {
		fatal("%s cannot import torch (Debian: apt-get install python3-torch); nothing installed", *python)
	}

	type pair struct{ fl, pt []result }
	all := map[string]*pair{}
	names := strings.Split(*cases, ",")
	for r := 0; r < *repeats; r++ {
		for _, c := range names {
			p := all[c]
			if p == nil {
				p = &pair{}
				all[c] = p
			}
			// Alternate which side goes first so that drift in machine load
			// does not favour one side.
			sides := []string{"flowlab", "pytorch"}
			if r%2 == 1 {
				sides[0], sides[1] = sides[1], sides[0]
			}
			for _, s := range sides {
				var res result
				var err error
				if s == "flowlab" {
					res, err = runJSON(exec.Command(*flowlab, "bench", "--case", c, "--json", "--steps", fmt.Sprint(*steps)))
					p.fl = append(p.fl, res)
				} else {
					cmd := exec.Command(*python, *script, "--case", c, "--steps", fmt.Sprint(*steps), "--threads", "2")
					cmd.Env = append(os.Environ(), "OPENBLAS_CORETYPE=SkylakeX", "OPENBLAS_NUM_THREADS=1")
					res, err = runJSON(cmd)
					p.pt = append(p.pt, res)
				}
				if err != nil {
					fatal("%s %s: %v", s, c, err)
				}
				fmt.Fprintf(os.Stderr, "repeat %d %-8s %-8s train %8.1f steps/s  ode %8.1f evals/s  rss %d MiB\n",
					r+1, c, s, res.TrainStepsPS, res.ODEEvalsPS, res.maxRSSKiB/1024)
			}
		}
	}

	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "case\tflowlab steps/s\tpytorch steps/s\ttrain ratio\tflowlab evals/s\tpytorch evals/s\tsampling ratio\tflowlab MiB\tpytorch MiB\t\n")
	for _, c := range names {
		p := all[c]
		ft := median(p.fl, func(r result) float64 { return r.TrainStepsPS })
		pt := median(p.pt, func(r result) float64 { return r.TrainStepsPS })
		fo := median(p.fl, func(r result) float64 { return r.ODEEvalsPS })
		po := median(p.pt, func(r result) float64 { return r.ODEEvalsPS })
		fm := median(p.fl, func(r result) float64 { return float64(r.maxRSSKiB) / 1024 })
		pm := median(p.pt, func(r result) float64 { return float64(r.maxRSSKiB) / 1024 })
		fmt.Fprintf(tw, "%s\t%.1f\t%.1f\t%.2f×\t%.1f\t%.1f\t%.2f×\t%.0f\t%.0f\t\n", c, ft, pt, ft/pt, fo, po, fo/po, fm, pm)
	}
	tw.Flush()
	fmt.Printf("medians over %d alternating repeats of %d timed steps each\n", *repeats, *steps)
}

// runJSON runs cmd, parses the first JSON line of its output and records the
// process's peak resident set size.
func runJSON(cmd *exec.Cmd) (result, error) {
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return result{}, fmt.Errorf("%w: %s", err, strings.TrimSpace(errb.String()))
	}
	var r result
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "{") {
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				return r, fmt.Errorf("parse %q: %w", line, err)
			}
			break
		}
	}
	if r.Case == "" {
		return r, fmt.Errorf("no JSON result in output %q", out.String())
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.maxRSSKiB = ru.Maxrss // KiB on Linux
	}
	return r, nil
}

func median(rs []result, f func(result) float64) float64 {
	v := make([]float64, len(rs))
	for i, r := range rs {
		v[i] = f(r)
	}
	slices.Sort(v)
	if len(v) == 0 {
		return 0
	}
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

func fatal(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench-vs-pytorch: "+format+"\n", args...)
	os.Exit(1)
}
