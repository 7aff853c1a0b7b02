// Command film-ratio measures what time conditioning costs a training step:
// the FiLM / MLP ratio of training step times at equal widths, for flowlab
// (`flowlab bench --arch mlp|film`) and, as the outside reference, for the
// same two designs in PyTorch (torch_fm.py's step: loss, backward, Adam;
// the FiLM module is the one nn's torch test loads flowlab's weights into:
// a time MLP on sinusoidal features and a Linear head per layer). Both run
// on one thread, alternately, several rounds; it prints per case the median
// and the range of the ratios over the rounds (each ratio from one round, so
// machine drift between rounds does not enter it), and the speed of
// flowlab's FiLM step over PyTorch's. The cases' shapes and the time
// embedding's width are the ones flowlab bench prints.
//
// It installs nothing; without python3-torch it measures flowlab alone.
//
//	go build -o /tmp/flowlab ./cmd/flowlab
//	go run ./scripts/film-ratio -flowlab /tmp/flowlab -rounds 5
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
)

// torchStep times torch_fm.py's training step of case (dim, width, depth,
// batch) with an MLP on [x, t] or a FiLM net of time-embedding width E.
const torchStep = `
import json, math, sys, time
import torch
torch.set_num_threads(1)
dim, width, depth, batch, E, steps = map(int, sys.argv[1:7])
class FiLM(torch.nn.Module):
    def __init__(self):
        super().__init__()
        w, hs = dim + 1, [width] * depth
        self.lin = torch.nn.ModuleList()
        for h in hs + [dim]:
            self.lin.append(torch.nn.Linear(w, h))
            w = h
        self.time_embed = torch.nn.Sequential(torch.nn.Linear(16, E), torch.nn.SiLU(), torch.nn.Linear(E, E), torch.nn.SiLU())
        self.film = torch.nn.ModuleList([torch.nn.Linear(E, 2 * h) for h in hs] + [torch.nn.Linear(E, dim)])
        self.om = 10.0 ** (torch.arange(8, dtype=torch.float32) / 7)
    def forward(self, inp, t):
        e = self.time_embed(torch.cat([torch.sin(self.om * t), torch.cos(self.om * t)], 1))
        h = inp
        for i in range(depth):
            s, c = self.film[i](e).chunk(2, dim=1)
            h = torch.nn.functional.silu(self.lin[i](h) * (1 + s) + c)
        return self.lin[depth](h) * (1 + self.film[depth](e))
def mlp():
    layers, d = [], dim + 1
    for _ in range(depth):
        layers += [torch.nn.Linear(d, width), torch.nn.SiLU()]
        d = width
    layers.append(torch.nn.Linear(d, dim))
    return torch.nn.Sequential(*layers)
torch.manual_seed(0)
net = FiLM() if E > 0 else mlp()
call = (lambda inp, t: net(inp, t)) if E > 0 else (lambda inp, t: net(inp))
opt = torch.optim.Adam(net.parameters(), lr=1e-3)
def step():
    x0, x1 = torch.randn(batch, dim) * math.sqrt(0.5), torch.randn(batch, dim)
    t = torch.rand(batch, 1)
    xt = (1 - t) * x0 + t * x1
    loss = ((call(torch.cat([xt, t], 1), t) - (x1 - x0)) ** 2).mean()
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
for _ in range(20):
    step()
t0 = time.perf_counter()
for _ in range(steps):
    step()
print(json.dumps({"train_steps_per_s": steps / (time.perf_counter() - t0)}))
`

// benchCase is one of flowlab bench's cases (torch_fm.py's) and the steps
// each run times; its shape comes from flowlab bench's output.
type benchCase struct {
	name  string
	steps int
}

var cases = []benchCase{{"tiny", 2000}, {"toy2d", 300}, {"toy2d-4k", 40}, {"gauss128", 60}, {"mnist", 20}}

// benchOut is what a run prints: its speed, and (flowlab bench) the
// case's shape and the film net's time-embedding width, arch "film-E".
type benchOut struct {
	TrainStepsPS             float64 `json:"train_steps_per_s"`
	Dim, Width, Depth, Batch int
	Arch                     string
}

func main() {
	flowlab := flag.String("flowlab", "flowlab", "path to the flowlab binary")
	python := flag.String("python", "/usr/bin/python3", "python with torch (skipped when it cannot import torch)")
	only := flag.String("cases", "", "comma-separated cases (default all: "+names()+")")
	rounds := flag.Int("rounds", 5, "alternating rounds per case")
	flag.Parse()
	torch := exec.Command(*python, "-c", "import torch").Run() == nil
	if !torch {
		fmt.Fprintln(os.Stderr, "film-ratio: no python3 with torch; measuring flowlab alone")
	}
	fmt.Printf("%-9s %5s %3s  %-20s %-20s %-20s\n", "case", "width", "E", "flowlab film/mlp", "pytorch film/mlp", "film: flowlab/pytorch speed")
	for _, c := range cases {
		if *only != "" && !slices.Contains(strings.Split(*only, ","), c.name) {
			continue
		}
		var fl, pt, vs []float64
		var shape benchOut
		e := 0
		for r := 0; r < *rounds; r++ {
			m, f := flowlabRun(*flowlab, c, "mlp"), flowlabRun(*flowlab, c, "film")
			shape = m
			if _, err := fmt.Sscanf(f.Arch, "film-%d", &e); err != nil {
				fatal("flowlab bench --arch film printed arch %q: %v", f.Arch, err)
			}
			fl = append(fl, m.TrainStepsPS/f.TrainStepsPS)
			if torch {
				tm, tf := torchRate(*python, c, shape, 0), torchRate(*python, c, shape, e)
				pt = append(pt, tm/tf)
				vs = append(vs, f.TrainStepsPS/tf)
			}
		}
		fmt.Printf("%-9s %5d %3d  %-20s %-20s %-20s\n", c.name, shape.Width, e, summary(fl), summary(pt), summary(vs))
	}
}

func names() string {
	var s []string
	for _, c := range cases {
		s = append(s, c.name)
	}
	return strings.Join(s, ",")
}

// summary formats the median and range of ratios (the median of an even
// count is its upper middle value).
func summary(v []float64) string {
	if len(v) == 0 {
		return "-"
	}
	s := slices.Sorted(slices.Values(v))
	return fmt.Sprintf("%.2f [%.2f, %.2f]", s[len(s)/2], s[0], s[len(s)-1])
}

// flowlabRun runs flowlab bench on one thread and returns what it printed.
func flowlabRun(bin string, c benchCase, arch string) benchOut {
	cmd := exec.Command(bin, "bench", "--case", c.name, "--arch", arch, "--steps", fmt.Sprint(c.steps), "--samples", "1000", "--json")
	cmd.Env = append(os.Environ(), "GOMAXPROCS=1")
	return run(cmd)
}

// torchRate returns PyTorch's training steps per second on one thread at
// the case's shape (an MLP when e is 0, else FiLM with time-embedding
// width e).
func torchRate(python string, c benchCase, sh benchOut, e int) float64 {
	cmd := exec.Command(python, "-c", torchStep, fmt.Sprint(sh.Dim), fmt.Sprint(sh.Width), fmt.Sprint(sh.Depth), fmt.Sprint(sh.Batch), fmt.Sprint(e), fmt.Sprint(c.steps))
	cmd.Env = append(os.Environ(), "OPENBLAS_CORETYPE=SkylakeX", "OPENBLAS_NUM_THREADS=1", "OMP_NUM_THREADS=1")
	return run(cmd).TrainStepsPS
}

// run runs cmd and returns its last JSON line.
func run(cmd *exec.Cmd) benchOut {
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		fatal("%s: %v\n%s", cmd.Args[0], err, errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var r benchOut
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &r); err != nil || r.TrainStepsPS <= 0 {
		fatal("%s: no train_steps_per_s in %q (%v)", cmd.Args[0], out.String(), err)
	}
	return r
}

func fatal(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "film-ratio: "+format+"\n", a...)
	os.Exit(1)
}
